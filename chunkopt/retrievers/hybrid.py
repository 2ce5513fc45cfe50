"""The `hybrid` retriever: BM25 and a dense retriever fused by reciprocal rank fusion (RRF).

Many production indexes run a keyword and a vector search side by side and merge the two lists.
RRF merges by rank, not by score, so the two scales never need calibrating: a chunk at rank r_s
in BM25's list and r_d in the dense list scores

    sparse_weight / (rrf_k + r_s) + dense_weight / (rrf_k + r_d)        (ranks from 1)

over every indexed chunk (ties within one list ranked by chunk position, as in search).
rrf_k = 60 is the constant of Cormack, Clarke and Büttcher (2009), also Elasticsearch's and
OpenSearch's default. The dense part is any registered retriever (`neural`, `endpoint`, a
plugin), configured by `dense_params`; BM25 keeps its own `k1` and `b`.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from chunkopt.retrievers.base import Retriever
from strategies.base import Param, ParameterError


def ranks(scores: np.ndarray) -> np.ndarray:
    """Rank of every column in its row, 1 for the best score; equal scores ranked by column, lowest first."""
    order = np.argsort(-scores, axis=1, kind="stable")
    result = np.empty_like(order)
    np.put_along_axis(result, order, np.arange(1, scores.shape[1] + 1), axis=1)
    return result


class HybridRetriever(Retriever):
    """BM25 and a dense retriever, each ranking every chunk, fused by weighted reciprocal rank."""

    name = "hybrid"
    description = ("BM25 and a dense retriever fused by reciprocal rank fusion; "
                   "dense_params (a mapping, Python only) configures the dense retriever")
    schema = (
        Param("dense", str, "neural", "the dense retriever fused with BM25 (any registered retriever but hybrid)"),
        Param("rrf_k", float, 60.0, "fusion constant: a larger one flattens the difference between ranks", minimum=0.0),
        Param("sparse_weight", float, 1.0, "weight of BM25's ranks", minimum=0.0),
        Param("dense_weight", float, 1.0, "weight of the dense retriever's ranks", minimum=0.0),
        Param("k1", float, 1.5, "BM25's term-frequency saturation", minimum=0.0),
        Param("b", float, 0.75, "BM25's length normalisation", 0.0, 1.0),
    )

    def __init__(self, dense_params: Mapping[str, Any] | None = None, **params: Any) -> None:
        """`dense_params`: the dense retriever's own parameters, e.g. {"model": "/models/bge"} (a dict)."""
        super().__init__(**params)
        from chunkopt.retrievers import get_retriever

        if dense_params is not None and not isinstance(dense_params, Mapping):
            raise ParameterError(f"hybrid: dense_params must be a mapping of the dense retriever's parameters, "
                                 f"got {dense_params!r}")
        if self._params["dense"] == self.name:
            raise ParameterError("hybrid: dense must be a dense retriever such as neural or endpoint, got 'hybrid'")
        self.sparse = get_retriever("bm25", k1=self._params["k1"], b=self._params["b"])
        self.dense = get_retriever(self._params["dense"], **dict(dense_params or {}))
        if self.dense.approximate:
            raise ParameterError("hybrid: fusion ranks every chunk, so the dense retriever's index must be 'exact', "
                                 "not 'hnsw'")
        self._params["dense_params"] = self.dense.params  # JSON-ready, as resolved (never an API key)

    def check(self, params: dict[str, Any]) -> None:
        if params["sparse_weight"] == 0 and params["dense_weight"] == 0:
            raise ParameterError("hybrid: sparse_weight and dense_weight cannot both be 0")
        if params["k1"] <= 0:
            raise ParameterError(f"hybrid: k1 must be a number > 0, got {params['k1']!r}")

    def _fit(self, texts: list[str]) -> None:
        self.sparse.fit(texts)
        self.dense.fit(texts)

    def _score(self, queries: list[str]) -> np.ndarray:
        k = self._params["rrf_k"]
        fused = self._params["sparse_weight"] / (k + ranks(self.sparse.score(queries)))
        return fused + self._params["dense_weight"] / (k + ranks(self.dense.score(queries)))

    def fit_summary(self) -> dict[str, float]:
        return self.dense.fit_summary()

    @property
    def index_bytes(self) -> int:
        self._require_fitted()
        return self.sparse.index_bytes + self.dense.index_bytes
