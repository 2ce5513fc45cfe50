"""Span metrics: how much of the answering text the returned chunks hold, and how much else they hold.

Pure functions over ranges. A range is `(doc_id, start, end)`: characters `[start, end)` of one
document (or, for the `*_tokens` metrics, token positions `[start, end)`, see `token_ranges`).
Ranges in different documents never intersect.

`recall`, `precision`, `iou` and `precision_omega` follow Chroma's report "Evaluating Chunking
Strategies for Retrieval" (Smith and Troynikov, 2024; `base_evaluation.py` of
brandonstarxel/chunking_evaluation), so our numbers and theirs are comparable. For one query with
returned chunks C (in rank order) and references R, where U(X) is the union of ranges X:

    covered   = |U(R) ∩ U(C)|                       reference characters returned (each once)
    recall    = covered / |U(R)|
    precision = covered / sum(|c| for c in C)       summed, not unioned: overlapping chunks pay twice
    iou       = covered / (sum(|c| for c in C) + |U(R) \\ U(C)|)

Every returned chunk counts in the denominators, including chunks of other documents and chunks
that touch no reference. With nothing returned precision is 0 (Chroma divides by zero there).
`precision_omega` is the IoU obtained when exactly the chunks S that overlap a reference are
returned; as in Chroma's code its chunk term is the *union* of those chunks:
|U(R) ∩ U(S)| / |U(R) ∪ U(S)|. It depends on the chunking only (not on the retriever), so it
says how well a chunking can isolate the answers at all.

The `*_tokens` metrics are the same formulas counted in tokens of the source document instead
of characters: each range becomes the span of document tokens sharing at least one character
with it (`token_span`), so a token cut by a chunk or reference boundary counts on both sides.

Worked example: reference [10, 20), chunks [0, 15) and [15, 30) of the same document. covered =
5 + 5 = 10, recall = 10/10 = 1, precision = 10/(15 + 15) = 1/3, iou = 10/(30 + 0) = 1/3.

Two deliberate differences from Chroma's code, neither of which changes a score on Chroma's own
question set:
- References of one query that overlap each other are merged first, so shared text counts once
  and fully covered references give recall 1 (Chroma sums reference lengths, so its recall stays
  below 1 there). No Chroma question has overlapping references.
- A chunk overlaps a reference only when they share at least one character. Chroma's test also
  counts a chunk that merely touches a reference (chunk [0, 10), reference [10, 20)), which adds
  it to the precision_omega denominator; the two agree unless a chunk boundary falls exactly on
  a reference boundary.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

Range = tuple[str, int, int]  # (document id, start, end): positions [start, end) of that document

METRICS = (
    "recall",
    "precision",
    "iou",
    "precision_omega",
    "hit_rate",
    "mrr",
    "recall_tokens",
    "precision_tokens",
    "iou_tokens",
)
# The costs `chunkopt.evaluation` measures beside them, by the same names in Python, JSON and CLI output.
COSTS = (
    "chunk_seconds",
    "index_seconds",
    "query_ms_p50",
    "query_ms_p95",
    "n_chunks",
    "index_bytes",
    "tokens_per_query",
)


@dataclass(frozen=True)
class SpanScores:
    """Recall, precision and IoU of one query's returned ranges against its references."""

    recall: float
    precision: float
    iou: float


def _check(ranges: Iterable[Range], what: str) -> None:
    for doc, start, end in ranges:
        if not 0 <= start <= end:
            raise ValueError(f"{what} range ({doc!r}, {start}, {end}) must satisfy 0 <= start <= end")


def _by_doc(ranges: Iterable[Range]) -> dict[str, list[tuple[int, int]]]:
    grouped: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for doc, start, end in ranges:
        grouped[doc].append((start, end))
    return grouped


def _merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of intervals as sorted, disjoint, non-empty intervals."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _length(merged: Sequence[tuple[int, int]]) -> int:
    return sum(end - start for start, end in merged)


def _intersection_length(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> int:
    """|a ∩ b| for two merged (sorted, disjoint) interval lists."""
    total, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            total += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def _merged_references(references: Sequence[Range]) -> dict[str, list[tuple[int, int]]]:
    _check(references, "reference")
    merged = {doc: _merge(refs) for doc, refs in _by_doc(references).items()}
    if not any(merged.values()):
        raise ValueError("references must cover at least one character (or token); got none")
    return merged


def span_scores(retrieved: Sequence[Range], references: Sequence[Range]) -> SpanScores:
    """Recall, precision and IoU of one query, as Chroma computes them (see the module docstring)."""
    _check(retrieved, "retrieved")
    refs_by_doc = _merged_references(references)
    reference_total = sum(_length(refs) for refs in refs_by_doc.values())
    retrieved_total = sum(end - start for _, start, end in retrieved)
    chunks_by_doc = _by_doc(retrieved)
    covered = sum(_intersection_length(refs, _merge(chunks_by_doc.get(doc, ()))) for doc, refs in refs_by_doc.items())
    return SpanScores(
        recall=covered / reference_total,
        precision=covered / retrieved_total if retrieved_total else 0.0,
        iou=covered / (retrieved_total + reference_total - covered),
    )


def recall(retrieved: Sequence[Range], references: Sequence[Range]) -> float:
    """Share of the reference characters that the returned chunks contain."""
    return span_scores(retrieved, references).recall


def precision(retrieved: Sequence[Range], references: Sequence[Range]) -> float:
    """Share of the returned characters (summed over chunks) that are reference text."""
    return span_scores(retrieved, references).precision


def iou(retrieved: Sequence[Range], references: Sequence[Range]) -> float:
    """Reference text returned over (returned text + reference text missed): Chroma's IoU."""
    return span_scores(retrieved, references).iou


def overlaps(a: Range, b: Range) -> bool:
    """True when two ranges are in the same document and share at least one position."""
    return a[0] == b[0] and max(a[1], b[1]) < min(a[2], b[2])


def precision_omega(chunks: Sequence[Range], references: Sequence[Range]) -> float:
    """The IoU of the best possible retrieval for this chunking: exactly the chunks overlapping a reference.

    `chunks` is every chunk of the chunking (chunks that overlap no reference are ignored, so a
    pre-filtered list gives the same value). Depends on the chunking only, not on the retriever.
    """
    _check(chunks, "chunk")
    refs_by_doc = _merged_references(references)
    selected = [c for c in chunks if any(overlaps(c, (c[0], s, e)) for s, e in refs_by_doc.get(c[0], ()))]
    chunks_by_doc = _by_doc(selected)
    covered = union = 0
    for doc, refs in refs_by_doc.items():
        merged_chunks = _merge(chunks_by_doc.get(doc, ()))
        covered += _intersection_length(refs, merged_chunks)
        union += _length(_merge(refs + merged_chunks))
    return covered / union


def first_hit_rank(retrieved: Sequence[Range], references: Sequence[Range]) -> int | None:
    """1-based rank of the first returned chunk that overlaps a reference, or None."""
    for rank, chunk in enumerate(retrieved, start=1):
        if any(overlaps(chunk, ref) for ref in references):
            return rank
    return None


def hit_rate(retrieved: Sequence[Range], references: Sequence[Range]) -> float:
    """1.0 when at least one returned chunk shares a character with a reference, else 0.0."""
    return 0.0 if first_hit_rank(retrieved, references) is None else 1.0


def mrr(retrieved: Sequence[Range], references: Sequence[Range]) -> float:
    """Reciprocal rank of the first returned chunk that overlaps a reference (0.0 if none does)."""
    rank = first_hit_rank(retrieved, references)
    return 0.0 if rank is None else 1.0 / rank


def token_span(boundaries: np.ndarray | Sequence[int], start: int, end: int) -> tuple[int, int]:
    """Token positions [lo, hi) of the tokens that share at least one character with [start, end).

    `boundaries` are the character offsets where each token of the document starts, followed
    by the document length (`Tokenizer.char_boundaries`). A token cut by a range boundary counts
    as covered by both sides, so a non-empty range always covers at least one token.
    """
    b = np.asarray(boundaries)
    lo = int(np.searchsorted(b[1:], start, side="right"))  # first token ending after `start`
    if start >= end:
        return lo, lo
    hi = int(np.searchsorted(b[:-1], end, side="left"))  # tokens starting before `end`
    return lo, hi


def token_ranges(ranges: Iterable[Range], boundaries: Mapping[str, np.ndarray | Sequence[int]]) -> list[Range]:
    """Character ranges mapped to token-position ranges of their documents (see `token_span`).

    The `*_tokens` metrics are `span_scores` on these ranges: the same formulas, counting tokens
    of the source document instead of characters.
    """
    return [(doc, *token_span(boundaries[doc], start, end)) for doc, start, end in ranges]


def token_scores(
    retrieved: Sequence[Range], references: Sequence[Range], boundaries: Mapping[str, np.ndarray | Sequence[int]]
) -> SpanScores:
    """Recall, precision and IoU counted in tokens of the source documents."""
    return span_scores(token_ranges(retrieved, boundaries), token_ranges(references, boundaries))
