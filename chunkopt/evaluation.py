"""One configuration → one Result: chunk the corpus, index the chunks, run the queries, score the spans.

    result = evaluate(corpus, queries, strategies.get("fixed", chunk_size=256), "bm25", token_budget=1000)
    result.summary["iou"], result.summary["query_ms_p95"]

The budget is either `top_k` chunks per query or a `token_budget`: chunks are taken in rank
order while the next one still fits, and taking stops at the first that does not (a budget is a
hard context limit, so it is never exceeded; if even the best chunk is larger than the budget
the query gets nothing). Under a token budget a 1,000-token chunk and four 250-token chunks cost
the same context, so chunk sizes compete fairly; under `top_k` larger chunks simply see more.

Metrics are those of `chunkopt.metrics`, per query, then averaged; `<metric>_std` is the
population standard deviation over queries (as in Chroma's report). Costs are measured: seconds
to chunk every document and to build the index, single-query search latency (p50 and p95 over
up to LATENCY_SAMPLES queries, each searched alone after the batch), chunks, index bytes and the
mean number of tokens (the chunks' own `n_tokens`) returned per query.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from chunkopt import metrics
from chunkopt.corpus import Corpus
from chunkopt.queries import Query
from chunkopt.retrieval import Retriever, get_retriever
from chunkopt.sections import chunk_document, indexed_text
from strategies.base import Chunk, ParameterError, Strategy
from strategies.tokens import DEFAULT_ENCODING, get_tokenizer

METRICS = metrics.METRICS
COSTS = metrics.COSTS
# With neither top_k nor token_budget (here and in the sweep): as large as the largest default chunk
# size, so every configuration of the default grid can return at least one chunk, and sizes compete
# for the same context.
DEFAULT_TOKEN_BUDGET = 1024
LATENCY_SAMPLES = 100  # queries timed one by one for the latency percentiles


@dataclass(frozen=True)
class Result:
    """What one configuration scored and cost.

    `config`: strategy, params, retriever, retriever_params, top_k, token_budget.
    `summary`: the mean of every metric in METRICS, `<metric>_std`, and every cost in COSTS.
    `per_query`: one row per query: query_id, chunks (returned, as (doc_id, start, end) in rank
    order), n_tokens (returned) and every metric.
    """

    config: dict[str, Any]
    summary: dict[str, float]
    per_query: list[dict[str, Any]]

    def to_row(self) -> dict[str, Any]:
        """One flat row for a results table: the configuration, then every summary value."""
        return {**self.config, **self.summary}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "config": self.config,
            "summary": self.summary,
            "per_query": [{**row, "chunks": [list(c) for c in row["chunks"]]} for row in self.per_query],
        }


def evaluate(
    corpus: Corpus,
    queries: Sequence[Query],
    chunker: Strategy,
    retriever: str | Retriever = "tfidf",
    *,
    top_k: int | None = None,
    token_budget: int | None = None,
) -> Result:
    """Score one chunking configuration with one retriever (a name, or a Retriever to copy)."""
    top_k, token_budget = check_budget(top_k, token_budget)
    queries = list(queries)
    _check_queries(queries, corpus)
    retriever = _fresh_retriever(retriever)

    started = time.perf_counter()
    chunks: list[Chunk] = []
    doc_ids: list[str] = []  # the document of each chunk, from the corpus, whatever the chunker sets
    for doc in corpus:
        for chunk in chunk_document(chunker, doc):  # with section metadata and, if context_header, per-section budgets
            chunks.append(chunk)
            doc_ids.append(doc.id)
    chunk_seconds = time.perf_counter() - started
    if not chunks:
        raise ValueError(f"{chunker.name} produced no chunks from the {len(corpus)} documents of the corpus")

    started = time.perf_counter()
    retriever.fit([indexed_text(c) for c in chunks])  # chunk.text, or with its heading path when context_header
    index_seconds = time.perf_counter() - started

    texts = [q.query for q in queries]
    if top_k is not None:
        k = top_k
    else:  # taking stops at the first chunk that does not fit, so no more than this many are looked at
        k = min(len(chunks), token_budget // max(1, min(c.n_tokens for c in chunks)) + 1)
    indices, _ = retriever.search(texts, k)
    latencies = _latencies_ms(retriever, texts, k)

    encoding = chunker.params.get("encoding") or DEFAULT_ENCODING
    boundaries = _Boundaries(encoding, corpus)
    chunk_index = _ChunkIndex(doc_ids, chunks)
    rows = []
    for query, ranked in zip(queries, indices):
        taken = _take(ranked, chunks, top_k, token_budget)
        returned = [(doc_ids[i], chunks[i].start, chunks[i].end) for i in taken]
        n_tokens = sum(chunks[i].n_tokens for i in taken)
        rows.append(_score(query, returned, n_tokens, chunk_index, boundaries))

    summary: dict[str, float] = {}
    for name in METRICS:
        values = np.array([row[name] for row in rows])
        summary[name] = float(values.mean())
        summary[f"{name}_std"] = float(values.std())
    summary.update(
        chunk_seconds=chunk_seconds,
        index_seconds=index_seconds,
        query_ms_p50=float(np.percentile(latencies, 50)),
        query_ms_p95=float(np.percentile(latencies, 95)),
        n_chunks=len(chunks),
        index_bytes=retriever.index_bytes,
        tokens_per_query=float(np.mean([row["n_tokens"] for row in rows])),
    )
    config = {
        "strategy": chunker.name,
        "params": chunker.params,
        "retriever": retriever.name,
        "retriever_params": retriever.params,
        "top_k": top_k,
        "token_budget": token_budget,
    }
    return Result(config=config, summary=summary, per_query=rows)


def check_budget(top_k: int | None, token_budget: int | None) -> tuple[int | None, int | None]:
    """(top_k, None) or (None, token_budget), validated; the default token budget when neither is given."""
    if top_k is not None and token_budget is not None:
        raise ParameterError(
            f"give top_k or token_budget, not both (got top_k={top_k!r}, token_budget={token_budget!r})"
        )
    if top_k is None:
        token_budget = DEFAULT_TOKEN_BUDGET if token_budget is None else token_budget
        if isinstance(token_budget, bool) or not isinstance(token_budget, int) or token_budget < 1:
            raise ParameterError(f"token_budget must be a positive integer number of tokens, got {token_budget!r}")
        return None, token_budget
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ParameterError(f"top_k must be a positive integer number of chunks, got {top_k!r}")
    return top_k, None


def _check_queries(queries: list[Query], corpus: Corpus) -> None:
    if not queries:
        raise ValueError("no queries to evaluate")
    for q in queries:
        if not q.query.strip():
            raise ValueError(f"query {q.id!r} has an empty query text")
        if not q.references:
            raise ValueError(f"query {q.id!r} has no references")
        for ref in q.references:
            doc = corpus.by_id.get(ref.doc)
            if doc is None:
                raise ValueError(
                    f"query {q.id!r}: reference to document {ref.doc!r}, which is not in the corpus "
                    f"({len(corpus)} documents)"
                )
            if not 0 <= ref.start < ref.end <= len(doc.text):
                raise ValueError(
                    f"query {q.id!r}: reference [{ref.start}, {ref.end}) must satisfy 0 <= start < end <= "
                    f"{len(doc.text)} (the length of {ref.doc!r} in characters)"
                )


def _fresh_retriever(retriever: str | Retriever) -> Retriever:
    """A new, unfitted retriever, so the caller's object is never refitted behind their back."""
    if isinstance(retriever, str):
        return get_retriever(retriever)
    if isinstance(retriever, Retriever):
        return type(retriever)(**retriever.params)
    raise ParameterError(f"retriever must be a retriever name or a Retriever, got {retriever!r}")


def _latencies_ms(retriever: Retriever, texts: list[str], k: int) -> np.ndarray:
    picks = np.unique(np.linspace(0, len(texts) - 1, min(len(texts), LATENCY_SAMPLES)).round().astype(int))
    times = []
    for i in picks:
        started = time.perf_counter()
        retriever.search([texts[i]], k)
        times.append((time.perf_counter() - started) * 1000)
    return np.array(times)


def _take(ranked: np.ndarray, chunks: list[Chunk], top_k: int | None, token_budget: int | None) -> list[int]:
    """The returned chunks: the first top_k, or those in rank order while the token budget holds."""
    if top_k is not None:
        return [int(i) for i in ranked[:top_k]]
    taken, used = [], 0
    for i in ranked:
        used += chunks[i].n_tokens
        if used > token_budget:
            break
        taken.append(int(i))
    return taken


class _ChunkIndex:
    """Chunk ranges by document, to find the chunks overlapping a reference (for precision_omega)."""

    def __init__(self, doc_ids: list[str], chunks: list[Chunk]) -> None:
        by_doc: dict[str, list[tuple[int, int]]] = {}
        for doc_id, chunk in zip(doc_ids, chunks):
            by_doc.setdefault(doc_id, []).append((chunk.start, chunk.end))
        self.ranges = {doc: np.array(r, dtype=np.int64).reshape(-1, 2) for doc, r in by_doc.items()}

    def overlapping(self, references: list[metrics.Range]) -> list[metrics.Range]:
        found: set[metrics.Range] = set()
        for doc, start, end in references:
            r = self.ranges.get(doc)
            if r is not None:
                hit = r[(r[:, 0] < end) & (r[:, 1] > start)]
                found.update((doc, int(s), int(e)) for s, e in hit)
        return sorted(found)


@lru_cache(maxsize=65536)
def _token_boundaries(encoding: str, text: str) -> np.ndarray:
    """Character offset of every token start, then len(text): one tokenization per document and encoding."""
    tokenizer = get_tokenizer(encoding)
    return tokenizer.char_boundaries(text, tokenizer.encode(text))


class _Boundaries:
    """Token boundaries by document id, computed on first use (documents never hit need none)."""

    def __init__(self, encoding: str, corpus: Corpus) -> None:
        self.encoding, self.corpus = encoding, corpus

    def __getitem__(self, doc_id: str) -> np.ndarray:
        return _token_boundaries(self.encoding, self.corpus.by_id[doc_id].text)


def _score(
    query: Query, returned: list[metrics.Range], n_tokens: int, chunk_index: _ChunkIndex, boundaries: _Boundaries
) -> dict[str, Any]:
    references = [(r.doc, r.start, r.end) for r in query.references]
    chars = metrics.span_scores(returned, references)
    tokens = metrics.token_scores(returned, references, boundaries)  # type: ignore[arg-type]
    return {
        "query_id": query.id,
        "chunks": returned,
        "n_tokens": n_tokens,
        "recall": chars.recall,
        "precision": chars.precision,
        "iou": chars.iou,
        "precision_omega": metrics.precision_omega(chunk_index.overlapping(references), references),
        "hit_rate": metrics.hit_rate(returned, references),
        "mrr": metrics.mrr(returned, references),
        "recall_tokens": tokens.recall,
        "precision_tokens": tokens.precision,
        "iou_tokens": tokens.iou,
    }
