"""Approximate search as vector databases run it: an HNSW graph over the embeddings (extra `chunkopt[hnsw]`).

Why: a sweep's exact search finds every chunk's true rank, but the team's index searches a
Hierarchical Navigable Small World graph and misses some neighbours, more of them as the number of
chunks grows, so small chunks lose more than large ones. A dense retriever with `index="hnsw"`
searches a real HNSW index (faiss's IndexHNSWFlat, inner product on unit vectors, i.e. cosine),
and the evaluation measures what it lost against exact search.

The defaults are Chroma's (M 16, ef_construction 100, ef_search 100); pgvector's are M 16,
ef_construction 64, ef_search 40: give those to measure a pgvector index.
"""

from __future__ import annotations

import numpy as np

from strategies.base import Param, ParameterError

HNSW_INSTALL_HINT = "install the extra with `pip install 'chunkopt[hnsw]'` (it brings faiss-cpu)"

INDEX_PARAMS = (
    Param("index", str, "exact", "exact: every chunk scored; hnsw: an HNSW graph, as vector databases search",
          choices=("exact", "hnsw")),
    Param("hnsw_m", int, 16, "HNSW links per node (M)", minimum=2),
    Param("hnsw_ef_construction", int, 100, "HNSW candidates kept while building (ef_construction)", minimum=1),
    Param("hnsw_ef_search", int, 100, "HNSW candidates kept while searching (ef_search; at least k is used)",
          minimum=1),
)


class HnswIndex:
    """An HNSW graph over unit-length float32 rows; `search` returns the best k by inner product, best first."""

    def __init__(self, vectors: np.ndarray, m: int, ef_construction: int, ef_search: int) -> None:
        try:
            import faiss
        except ImportError:
            raise ParameterError(f"index='hnsw' needs faiss: {HNSW_INSTALL_HINT}") from None
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = ef_construction
        self.index.hnsw.efSearch = ef_search
        self.index.add(vectors)
        self.n = len(vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices, scores), each (n_queries, min(k, n)): what the graph finds, which may miss true neighbours."""
        k = min(k, self.n)
        scores, indices = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return indices.astype(np.intp), scores.astype(np.float64)

    @property
    def nbytes(self) -> int:
        """The vectors plus the graph's links, as the index would be stored."""
        import faiss

        return int(faiss.serialize_index(self.index).nbytes)
