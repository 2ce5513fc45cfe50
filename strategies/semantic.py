"""The `semantic` strategy: a new chunk where the topic changes, never above `max_tokens`.

Sentences (strategies.sentences) are embedded (strategies.embedders). At each gap between two
sentences, the mean embedding of the `window` sentences before it is compared with that of the
`window` sentences after it; the gap's distance is 1 - cosine similarity. Among the gaps with
`window` sentences on both sides, those whose distance stands out, by the `breakpoint` rule and
its `amount`, become chunk boundaries:

- percentile: distance above its `amount`-th percentile (default 95);
- stddev: distance above mean + `amount` standard deviations (default 1.25);
- interquartile: distance above mean + `amount` interquartile ranges (default 1.0);
- gradient: rise of the distance from the previous gap above that rise's `amount`-th percentile
  (default 95), which finds sharp changes even where all distances are high.

Then the sizes: a group of sentences over `max_tokens` is split at its largest distance
(full-window gaps first; nearest its middle among equals) until every piece fits, a single
sentence over `max_tokens` is cut by the `fixed` strategy, and pieces under `min_tokens` merge
into the more similar neighbour when the merged text still fits `max_tokens`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse

from strategies.base import Param, ParameterError, Span, Strategy
from strategies.embedders import EMBEDDERS, Embeddings, get_embedder
from strategies.sentence import SENTENCE_PARAMS, check_sentence_params
from strategies.sentences import Sentences, sentence_array, sentences_of
from strategies.sentences import clear_caches as clear_sentence_caches

# Window distances crowd below their ceiling of 1 (TF-IDF windows rarely share many words), so
# langchain's stddev 3 and interquartile 1.5 leave no boundary at all on English prose; these
# defaults mark a few percent of the gaps, like the percentile default.
DEFAULT_AMOUNT = {"percentile": 95.0, "stddev": 1.25, "interquartile": 1.0, "gradient": 95.0}
BREAKPOINTS = tuple(DEFAULT_AMOUNT)
_TIE = 1e-9  # distances are rounded to 1e-6, so equal distances compare equal


class SemanticChunker(Strategy):
    """Chunks that end where adjacent windows of sentences stop being similar."""

    name = "semantic"
    size_param = "max_tokens"
    description = "sentences grouped by embedding similarity, boundaries where it drops; hard max_tokens"
    schema = (
        Param("max_tokens", int, 512, "most tokens in a chunk (a hard limit)", minimum=1, unit="tokens"),
        Param(
            "min_tokens",
            int,
            0,
            "smaller chunks merge into the more similar neighbour if that fits",
            minimum=0,
            unit="tokens",
        ),
        Param("window", int, 3, "sentences each side of a gap compared", minimum=1, unit="sentences"),
        Param("breakpoint", str, "percentile", "rule that picks the gaps where similarity drops", choices=BREAKPOINTS),
        Param(
            "amount",
            float,
            None,
            "the rule's threshold; unset: percentile 95, stddev 1.25, interquartile 1.0, gradient 95",
            minimum=0,
            nullable=True,
        ),
        Param("embedder", str, "tfidf", "how sentences are embedded", choices=EMBEDDERS),
        Param(
            "model",
            str,
            None,
            "neural embedder only: a sentence-transformers model directory or cached name "
            "(unset: the shipped all-MiniLM-L6-v2)",
            nullable=True,
        ),
        *SENTENCE_PARAMS,
    )

    def check(self, params: dict[str, Any]) -> None:
        if params["min_tokens"] > params["max_tokens"]:
            raise ParameterError(
                f"semantic: min_tokens must be at most max_tokens ({params['max_tokens']}), got {params['min_tokens']}"
            )
        amount = params["amount"]
        if params["breakpoint"] in ("percentile", "gradient") and amount is not None and amount > 100:
            raise ParameterError(
                "semantic: amount must be a percentile from 0 to 100 with "
                f"breakpoint={params['breakpoint']!r}, got {amount!r}"
            )
        check_sentence_params(self, params)
        if params["embedder"] == "neural":
            try:  # load the model now (once per process), so errors come before any text is chunked
                get_embedder("neural", params["model"])
            except ParameterError as err:
                raise ParameterError(f"{self.name}: {err}") from None

    def split(self, text: str) -> list[Span]:
        sentences = sentences_of(text, self.language, self.spacy_model, self.encoding)
        if not len(sentences):
            return []
        model = self.model if self.embedder == "neural" else None
        distances = gap_distances(text, self.language, self.spacy_model, self.embedder, model, self.window)
        # Only gaps with a full window on both sides can be boundaries: near the document's ends the
        # windows are shorter, their distances run higher, and they would pass for topic changes.
        full = slice(self.window - 1, max(0, len(distances) - self.window + 1))
        boundaries = np.zeros(len(distances), dtype=bool)
        boundaries[full] = breakpoints(distances[full], self.breakpoint, self.amount)
        # Splits for max_tokens prefer full-window gaps too: edge distances rank below them, in order.
        ranking = distances - 2.0
        ranking[full] = distances[full]
        assembly = _Assembly(sentences, distances, ranking, self.max_tokens, self.encoding)
        return assembly.spans(boundaries, self.min_tokens)


@lru_cache(maxsize=1024)
def gap_distances(
    text: str, language: str, spacy_model: str | None, embedder: str, model: str | None, window: int
) -> np.ndarray:
    """1 - cosine similarity across each of the n - 1 gaps between sentences (cached per document)."""
    spans = sentence_array(text, language, spacy_model)
    if len(spans) < 2:
        return np.zeros(0)
    embeddings = get_embedder(embedder, model).embed([text[a:b] for a, b in spans])
    distances = np.round(np.clip(1.0 - window_similarities(embeddings, window), 0.0, 2.0), 6)
    distances.flags.writeable = False
    return distances


def clear_caches() -> None:
    """Forget cached sentences, counts and distances (models stay loaded), e.g. to time a cold run."""
    gap_distances.cache_clear()
    clear_sentence_caches()


def window_similarities(embeddings: Embeddings, window: int) -> np.ndarray:
    """Cosine similarity, at each gap g, of the summed rows g-window+1..g and g+1..g+window.

    Windows are clipped at the document's ends. The sums come from two sparse band matrices,
    which works the same for sparse (TF-IDF) and dense rows. A window with no content
    (all-zero rows) has similarity 0 to anything.
    """
    n = embeddings.shape[0]
    gaps = np.arange(n - 1)
    left, right = [], []
    for k in range(min(window, n)):
        left.append(np.stack([gaps[gaps - k >= 0], gaps[gaps - k >= 0] - k]))
        right.append(np.stack([gaps[gaps + 1 + k < n], gaps[gaps + 1 + k < n] + 1 + k]))
    sums = []
    for pairs in (np.concatenate(left, axis=1), np.concatenate(right, axis=1)):
        band = sparse.csr_matrix((np.ones(pairs.shape[1], dtype=np.float32), (pairs[0], pairs[1])), shape=(n - 1, n))
        sums.append(band @ embeddings)
    a, b = sums
    if sparse.issparse(a):
        dots = np.asarray(a.multiply(b).sum(axis=1)).ravel()
        norms = np.sqrt(np.asarray(a.multiply(a).sum(axis=1)).ravel() * np.asarray(b.multiply(b).sum(axis=1)).ravel())
    else:
        a, b = np.asarray(a), np.asarray(b)
        dots = np.einsum("ij,ij->i", a, b)
        norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.divide(dots, norms, out=np.zeros(n - 1), where=norms > 0)


def breakpoints(distances: np.ndarray, method: str, amount: float | None = None) -> np.ndarray:
    """Which gaps are chunk boundaries (a boolean per gap), by `method` with threshold `amount`."""
    if amount is None:
        amount = DEFAULT_AMOUNT[method]
    if len(distances) == 0:
        return np.zeros(0, dtype=bool)
    if method == "percentile":
        return distances > np.percentile(distances, amount)
    if method == "stddev":
        return distances > distances.mean() + amount * distances.std()
    if method == "interquartile":
        q1, q3 = np.percentile(distances, [25, 75])
        return distances > distances.mean() + amount * (q3 - q1)
    if method == "gradient":
        rise = np.round(np.diff(distances, prepend=distances[0]), 6)
        return rise > np.percentile(rise, amount)
    raise ParameterError(f"breakpoint must be one of {', '.join(repr(b) for b in BREAKPOINTS)}, got {method!r}")


class _Assembly:
    """Groups of sentences turned into spans within max_tokens; one per split() call."""

    def __init__(
        self, sentences: Sentences, distances: np.ndarray, ranking: np.ndarray, max_tokens: int, encoding: str
    ) -> None:
        self.sentences, self.distances, self.ranking = sentences, distances, ranking
        self.max_tokens, self.encoding = max_tokens, encoding
        self.token_starts = np.asarray(sentences.token_starts)
        self.token_ends = np.asarray(sentences.token_ends)

    def spans(self, boundaries: np.ndarray, min_tokens: int) -> list[Span]:
        n = len(self.sentences)
        cut = boundaries.copy()
        # A sentence that looks over max_tokens on its own stands alone (_fit finds any other).
        oversized = np.flatnonzero(self.token_ends - self.token_starts > self.max_tokens)
        cut[oversized[oversized < n - 1]] = True
        cut[oversized[oversized > 0] - 1] = True
        edges = [0, *(np.flatnonzero(cut) + 1).tolist(), n]
        pieces: list[tuple[int, int, int]] = []  # (first sentence, end sentence, n_tokens)
        for first, end in zip(edges[:-1], edges[1:]):
            pieces.extend(self._fit(first, end))
        if min_tokens:
            pieces = self._merge_small(pieces, min_tokens)
        out: list[Span] = []
        for first, end, n_tokens in pieces:
            if n_tokens > self.max_tokens:  # a single sentence, too long on its own
                out.extend(self.sentences.cut(first, self.max_tokens, self.encoding))
            else:
                out.append(self.sentences.span(first, end, n_tokens))
        return out

    def _fit(self, first: int, end: int) -> list[tuple[int, int, int]]:
        """Split sentences first..end-1 at their largest distances until every piece fits max_tokens.

        Among equal distances the gap nearest the middle (in tokens) wins, so text whose
        similarity never drops is halved rather than shaved one sentence at a time. A single
        sentence is kept with its count even when over max_tokens (it is cut later).
        """
        sentences, limit = self.sentences, self.max_tokens
        fitted: list[tuple[int, int, int]] = []
        todo = [(first, end)]
        while todo:
            first, end = todo.pop()
            if end - first == 1 or sentences.estimate(first, end) <= limit:
                n_tokens = sentences.count(first, end)
                if n_tokens <= limit or end - first == 1:
                    fitted.append((first, end, n_tokens))
                    continue
            gaps = self.ranking[first : end - 1]
            candidates = np.flatnonzero(gaps >= gaps.max() - _TIE) + first
            middle = (self.token_starts[first] + self.token_ends[end - 1]) / 2
            gap = int(candidates[np.argmin(np.abs(self.token_ends[candidates] - middle))])
            todo += [(gap + 1, end), (first, gap + 1)]  # the left piece is handled first
        return fitted

    def _merge_small(self, pieces: list[tuple[int, int, int]], min_tokens: int) -> list[tuple[int, int, int]]:
        """Merge each piece under min_tokens into its more similar neighbour, when the result fits."""
        sentences, limit = self.sentences, self.max_tokens
        pieces = list(pieces)
        k = 0
        while k < len(pieces):
            first, end, n_tokens = pieces[k]
            if n_tokens >= min_tokens or n_tokens > limit:
                k += 1
                continue
            neighbours = []
            if k > 0 and pieces[k - 1][2] <= limit:
                neighbours.append((self.distances[first - 1], k - 1))
            if k + 1 < len(pieces) and pieces[k + 1][2] <= limit:
                neighbours.append((self.distances[end - 1], k + 1))
            for _, other in sorted(neighbours):
                a, b = min(k, other), max(k, other)
                if sentences.estimate(pieces[a][0], pieces[b][1]) > limit:
                    continue
                merged = sentences.count(pieces[a][0], pieces[b][1])
                if merged <= limit:
                    pieces[a : b + 1] = [(pieces[a][0], pieces[b][1], merged)]
                    k = a
                    break
            else:
                k += 1
        return pieces
