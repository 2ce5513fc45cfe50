"""What every retriever shares: parameters, fit, and exact blocked top-k search.

A retriever is fitted on chunk texts and scores queries against every chunk. Search is exact:
the scores of a block of queries against all chunks are one matrix product, and ties are broken
by chunk position, so results are reproducible. Queries are scored a block at a time and only
each block's top k are kept, so memory is the index plus one block (about SEARCH_BLOCK_BYTES),
never a full queries x chunks matrix.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from strategies.base import Param, ParameterError

# Memory one block of query scores may take during search, in bytes. A score row costs about
# SCORE_ROW_BYTES bytes per indexed text: the product (float32), its float64 copy, and the
# negated copy and partition top_k makes.
SEARCH_BLOCK_BYTES = 128 * 1024 * 1024
SCORE_ROW_BYTES = 32


class Retriever:
    """Base class: declare `name` and `schema`, implement `_fit(texts)`, `_score(queries)`, `index_bytes`."""

    name: ClassVar[str]
    schema: ClassVar[tuple[Param, ...]] = ()
    description: ClassVar[str] = ""

    @property
    def approximate(self) -> bool:
        """Whether `search` may miss true neighbours (an approximate index); then `search(..., exact=True)` does not."""
        return False

    def __init__(self, **params: Any) -> None:
        known = {p.name: p for p in self.schema}
        unknown = sorted(set(params) - set(known))
        if unknown:
            valid = ", ".join(known) or "none"
            raise ParameterError(f"{self.name}: unknown parameter {unknown[0]!r}; valid parameters are {valid}")
        self._params = {p.name: p.validate(params.get(p.name, p.default), self.name) for p in self.schema}
        self.check(self._params)
        self.n_texts = 0

    def check(self, params: dict[str, Any]) -> None:
        """Checks a single Param cannot express (e.g. a strict lower bound)."""

    @property
    def params(self) -> dict[str, Any]:
        """The validated parameters, JSON-ready."""
        return dict(self._params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._params.items())})"

    def fit(self, texts: Sequence[str]) -> Retriever:
        """Index `texts` (the chunk texts); returns self."""
        texts = list(texts)
        if not texts:
            raise ValueError(f"{self.name}: fit() needs at least one text to index, got none")
        try:
            self._fit(texts)
        except ValueError as exc:
            if "empty vocabulary" not in str(exc):
                raise
            raise ValueError(f"{self.name}: the {len(texts)} texts contain no words to index") from None
        self.n_texts = len(texts)
        return self

    def score(self, queries: Sequence[str]) -> np.ndarray:
        """Similarity of every query to every indexed text: shape (n_queries, n_texts)."""
        self._require_fitted()
        queries = list(queries)
        if not queries:
            return np.zeros((0, self.n_texts))
        return np.asarray(self._score(queries), dtype=np.float64)

    def search(
        self, queries: Sequence[str], k: int, *, block_size: int | None = None, exact: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the k best texts per query, best first: arrays (n_queries, min(k, n_texts)).

        Equal scores are ordered by text index, lowest first. Queries are scored `block_size` at
        a time (default: as many as fit in SEARCH_BLOCK_BYTES), keeping only each block's top k,
        so the result is the same as scoring all at once while peak memory stays bounded. This
        search is always exact; `exact` matters to retrievers with an approximate index.
        """
        check_search(k, block_size)
        self._require_fitted()
        queries = list(queries)
        rows = block_size or self.block_size()
        if len(queries) <= rows:
            return top_k(self.score(queries), int(k))
        blocks = [top_k(self.score(queries[i : i + rows]), int(k)) for i in range(0, len(queries), rows)]
        return np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])

    def block_size(self) -> int:
        """Queries scored at once by `search`: as many rows as fit in SEARCH_BLOCK_BYTES (at least 1)."""
        self._require_fitted()
        return max(1, SEARCH_BLOCK_BYTES // (SCORE_ROW_BYTES * self.n_texts))

    @property
    def index_bytes(self) -> int:
        """Size of the fitted index in bytes (the vectors searched, not the vocabulary or model)."""
        raise NotImplementedError

    def fit_summary(self) -> dict[str, float]:
        """Figures about the last fit worth a line in the results (e.g. chunks embedded vs cached); none by default."""
        return {}

    def _require_fitted(self) -> None:
        if not self.n_texts:
            raise RuntimeError(f"{self.name}: call fit(texts) before searching")

    def _fit(self, texts: list[str]) -> None:
        raise NotImplementedError

    def _score(self, queries: list[str]) -> np.ndarray:
        raise NotImplementedError


def check_search(k: object, block_size: object = None) -> None:
    """Refuse a k or block_size that is not a positive integer, naming it."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k must be a positive integer number of chunks, got {k!r}")
    if block_size is not None and (isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1):
        raise ParameterError(f"block_size must be a positive integer number of queries, got {block_size!r}")


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices of each row's k highest scores, best first; ties by lower index.

    A partial sort finds each row's k-th best score; only the entries at least that good (ties
    included, in index order) are then sorted, stably, so the result is what a full stable sort
    gives at a fraction of its cost when k is much smaller than the number of columns.
    """
    n = scores.shape[1]
    k = min(k, n)
    negated = -scores
    if k == 0 or 4 * k >= n:
        order = np.argsort(negated, axis=1, kind="stable")[:, :k]
    else:
        kth = np.partition(negated, k - 1, axis=1)[:, k - 1]
        order = np.empty((len(scores), k), dtype=np.intp)
        for row, (values, limit) in enumerate(zip(negated, kth)):
            candidates = np.flatnonzero(values <= limit)  # in index order
            order[row] = candidates[np.argsort(values[candidates], kind="stable")[:k]]
    return order, np.take_along_axis(scores, order, axis=1)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero), as float32, so a dot product is a cosine."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)
