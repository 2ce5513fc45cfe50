"""One configuration → one Result: chunk the corpus, index the chunks, run the queries, score the spans.

    result = evaluate(corpus, queries, strategies.get("fixed", chunk_size=256), "bm25", token_budget=1000)
    result.summary["iou"], result.summary["query_ms_p95"]

The budget is either `top_k` chunks per query or a `token_budget`: chunks are taken in rank
order while the next one still fits, and taking stops at the first that does not (a budget is a
hard context limit, so it is never exceeded; if even the best chunk is larger than the budget
the query gets nothing). Under a token budget a 1,000-token chunk and four 250-token chunks cost
the same context, so chunk sizes compete fairly; under `top_k` larger chunks simply see more.

One retrieval also gives the *budget curve*: each query is searched once, with enough candidates
for the largest budget, and scored again at every budget of `budgets` (default 256 to 4,096
tokens; with `top_k` K, every k from 1 to K), since the context for a smaller budget is a prefix
of the context for a larger one. The summary holds them as flat keys, `recall@512`, `mrr@512`,
`tokens_per_query@512` (top-k: `recall@k3`), so a team sees what a bigger context buys.

Metrics are those of `chunkopt.metrics`, per query, then averaged; `<metric>_std` is the
population standard deviation over queries (as in Chroma's report). Costs are measured: seconds
to chunk every document and to build the index, single-query search latency (p50 and p95 over
up to LATENCY_SAMPLES queries, each searched alone after the batch), chunks, index bytes and the
mean number of tokens (the chunks' own `n_tokens`) returned per query. With an approximate index
(a dense retriever's `index="hnsw"`) the queries are also searched exactly, and the summary says
what the index lost: `recall_exact`, `recall_lost` and `neighbours_found`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from chunkopt import metrics
from chunkopt.corpus import Corpus
from chunkopt.queries import Query
from chunkopt.retrievers import Retriever, fresh_retriever
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
DEFAULT_BUDGETS = (256, 512, 1024, 2048, 4096)  # tokens: the points of the budget curve
# What the curve holds at each budget: the character metrics that depend on the context, and the
# context actually paid. The *_tokens metrics, which cost a tokenization of each hit, and
# precision_omega, which depends on the chunking alone, are measured at the selection budget only.
CURVE_METRICS = ("recall", "precision", "iou", "hit_rate", "mrr", "tokens_per_query")


@dataclass(frozen=True)
class Result:
    """What one configuration scored and cost.

    `config`: strategy, params, retriever, retriever_params, top_k, token_budget.
    `summary`: the mean of every metric in METRICS, `<metric>_std`, every cost in COSTS, and
    the budget curve (`<metric>@<budget>`, see `curve_key`).
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

    def budget_curve(self) -> list[dict[str, Any]]:
        """The budget curve, one dict per budget: see `budget_curve`."""
        return budget_curve(self.summary)


def curve_key(metric: str, point: int, top_k: bool = False) -> str:
    """The summary key of `metric` at one budget: `recall@512` (tokens) or `recall@k5` (top-k)."""
    return f"{metric}@k{point}" if top_k else f"{metric}@{point}"


_CURVE_KEY = re.compile(r"^(?P<metric>\w+)@(?P<k>k?)(?P<point>\d+)$")


def budget_curve(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The budget curve held in a summary or results row, smallest budget first.

    Each point is `{"token_budget": 512, "recall": ..., "tokens_per_query": ..., ...}`, or
    `{"top_k": 5, ...}` for a top-k sweep: rows a DataFrame or a plot takes as they are.
    """
    points: dict[tuple[str, int], dict[str, Any]] = {}
    for key, value in row.items():
        match = _CURVE_KEY.match(key)
        if match:
            unit = "top_k" if match["k"] else "token_budget"
            point = int(match["point"])
            points.setdefault((unit, point), {unit: point})[match["metric"]] = value
    return [points[p] for p in sorted(points)]


def evaluate(
    corpus: Corpus,
    queries: Sequence[Query],
    chunker: Strategy,
    retriever: str | Retriever = "tfidf",
    *,
    top_k: int | None = None,
    token_budget: int | None = None,
    budgets: Sequence[int] | None = None,
) -> Result:
    """Score one chunking configuration with one retriever (a name such as "bm25 k1=1.2", or a Retriever to copy).

    The metrics are measured at `top_k` or `token_budget`; the budget curve at `budgets` too
    (tokens; not with `top_k`, whose curve is every k from 1 to top_k).
    """
    top_k, token_budget = check_budget(top_k, token_budget)
    points = curve_points(top_k, token_budget, budgets)
    queries = list(queries)
    _check_queries(queries, corpus)
    retriever = fresh_retriever(retriever)

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
    n_tokens = np.array([c.n_tokens for c in chunks], dtype=np.int64)
    k = _candidates_needed(n_tokens, top_k, max(points))
    indices, _ = retriever.search(texts, k)
    latencies = _latencies_ms(retriever, texts, k)
    exact = retriever.search(texts, k, exact=True)[0] if retriever.approximate else None

    encoding = chunker.params.get("encoding") or DEFAULT_ENCODING
    boundaries = _Boundaries(encoding, corpus)
    chunk_index = _ChunkIndex(doc_ids, chunks)
    ranges = [(doc_ids[i], c.start, c.end) for i, c in enumerate(chunks)]
    selected = top_k if top_k is not None else token_budget
    rows = []
    curve: dict[int, list[dict[str, Any]]] = {p: [] for p in points}
    for query, ranked in zip(queries, indices):
        references = [(r.doc, r.start, r.end) for r in query.references]
        omega = metrics.precision_omega(chunk_index.overlapping(references), references)
        scored: dict[int, dict[str, Any]] = {}  # by number of chunks taken: budgets often take the same
        for point, count in zip(points, _taken_counts(ranked, n_tokens, top_k is not None, points)):
            if count not in scored:
                scored[count] = _score(ranked[:count], ranges, n_tokens, references)
            curve[point].append(scored[count])
        row = curve[selected][-1]
        tokens = metrics.token_scores(row["chunks"], references, boundaries)  # type: ignore[arg-type]
        rows.append({
            "query_id": query.id, **row, "precision_omega": omega,
            "recall_tokens": tokens.recall, "precision_tokens": tokens.precision, "iou_tokens": tokens.iou,
        })

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
        **retriever.fit_summary(),  # e.g. chunks_embedded / chunks_cached for the dense retrievers
    )
    if exact is not None:
        summary.update(_approximation_loss(queries, indices, exact, ranges, n_tokens, top_k, selected, summary["recall"]))
    for point, scored_rows in curve.items():
        for name in CURVE_METRICS:
            column = "n_tokens" if name == "tokens_per_query" else name
            summary[curve_key(name, point, top_k is not None)] = float(np.mean([r[column] for r in scored_rows]))
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


def _latencies_ms(retriever: Retriever, texts: list[str], k: int) -> np.ndarray:
    picks = np.unique(np.linspace(0, len(texts) - 1, min(len(texts), LATENCY_SAMPLES)).round().astype(int))
    times = []
    for i in picks:
        started = time.perf_counter()
        retriever.search([texts[i]], k)
        times.append((time.perf_counter() - started) * 1000)
    return np.array(times)


def curve_points(top_k: int | None, token_budget: int | None, budgets: Sequence[int] | None) -> list[int]:
    """The budgets a result is scored at, smallest first; the selection budget is always one."""
    if top_k is not None:
        if budgets is not None:
            raise ParameterError(
                "budgets are token budgets; with top_k the curve is every k from 1 to top_k, so give one or the other"
            )
        return list(range(1, top_k + 1))
    if budgets is None:
        budgets = DEFAULT_BUDGETS
    budgets = list(budgets)
    for b in budgets:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
            raise ParameterError(f"budgets must be positive integer numbers of tokens, got {b!r}")
    return sorted({int(b) for b in budgets} | {token_budget})


def _approximation_loss(queries: list[Query], approximate: np.ndarray, exact: np.ndarray, ranges: list[metrics.Range],
                        n_tokens: np.ndarray, top_k: int | None, selected: int, recall: float) -> dict[str, float]:
    """What an approximate index cost: `recall_exact` (the recall exact search would give at the selected
    budget), `recall_lost` (that minus the recall measured) and `neighbours_found` (the share of the
    exact top candidates the index returned, the nearest-neighbour literature's recall@k)."""
    recalls = []
    for query, ranked in zip(queries, exact):
        references = [(r.doc, r.start, r.end) for r in query.references]
        count = _taken_counts(ranked, n_tokens, top_k is not None, [selected])[0]
        recalls.append(_score(ranked[:count], ranges, n_tokens, references)["recall"])
    found = [len(set(a) & set(e)) / max(1, len(e)) for a, e in zip(approximate.tolist(), exact.tolist())]
    recall_exact = float(np.mean(recalls))
    return {"recall_exact": recall_exact, "recall_lost": recall_exact - recall, "neighbours_found": float(np.mean(found))}


def _candidates_needed(n_tokens: np.ndarray, top_k: int | None, largest: int) -> int:
    """How many ranked chunks the largest budget can take: no more than the smallest chunks that fit."""
    if top_k is not None:
        return top_k
    fitting = int(np.searchsorted(np.cumsum(np.sort(n_tokens)), largest, side="right"))
    return max(1, min(len(n_tokens), fitting + 1))


def _taken_counts(ranked: np.ndarray, n_tokens: np.ndarray, top_k: bool, points: list[int]) -> list[int]:
    """How many of the ranked chunks each budget returns: the first k, or those in rank order while
    the token budget holds (taking stops at the first chunk that does not fit)."""
    if top_k:
        return [min(p, len(ranked)) for p in points]
    used = np.cumsum(n_tokens[ranked])
    return [int(np.searchsorted(used, p, side="right")) for p in points]


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


def _score(taken: np.ndarray, ranges: list[metrics.Range], n_tokens: np.ndarray, references: list[metrics.Range]) -> dict[str, Any]:
    """The character metrics of one query's returned chunks (`taken`, in rank order)."""
    returned = [ranges[i] for i in taken]
    chars = metrics.span_scores(returned, references)
    return {
        "chunks": returned,
        "n_tokens": int(n_tokens[taken].sum()),
        "recall": chars.recall,
        "precision": chars.precision,
        "iou": chars.iou,
        "hit_rate": metrics.hit_rate(returned, references),
        "mrr": metrics.mrr(returned, references),
    }
