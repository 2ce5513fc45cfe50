"""Dense retrievers: texts embedded by a model, cosine similarity, embeddings cached twice.

A subclass says who the model is (`model_identity`, which keys the cache), how to embed a
batch (`_encode`) and, where the model reads less than the whole text, what it reads
(`model_keys`: two chunks that are the same to the model are embedded once). Embeddings are
looked up first in this process's memory (a sweep embeds the queries and many shared chunks
once), then in the persistent `EmbeddingStore` on disk (a rerun, a resumed sweep or another sweep
on the same corpus), and only the rest are encoded. When the cache folder cannot be written the
retriever embeds without it and warns once.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from chunkopt.retrievers.base import Retriever, check_search, normalise
from chunkopt.retrievers.cache import CacheUnavailable, EmbeddingStore, warn_once
from chunkopt.retrievers.hnsw import INDEX_PARAMS, HnswIndex
from strategies.base import Param

MEMORY_TEXTS = 200_000  # texts kept in memory per model; about 300 MB of 384-dimension vectors


class EmbeddingCache:
    """Embeddings by text for one model in this process, so texts repeated across a sweep are embedded once.

    `encode` maps a list of distinct texts to one row each (given here, or with each call). When
    more than `max_texts` are held, it starts afresh.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray] | None = None, max_texts: int = MEMORY_TEXTS) -> None:
        self.encode = encode
        self.max_texts = max_texts
        self.vectors: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray] | None = None) -> np.ndarray:
        """The rows of `texts`, encoding those not held with `encode` (default: the one given at creation)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            if len(self.vectors) + len(missing) > self.max_texts:
                self.vectors.clear()
            encoder = encode or self.encode
            if encoder is None:
                raise TypeError("EmbeddingCache: give an encode function, at creation or with the call")
            rows = encoder(missing)
            self.vectors.update(zip(missing, np.asarray(rows, dtype=np.float32)))
        return np.stack([self.vectors[t] for t in texts])


_memory: dict[str, EmbeddingCache] = {}
_stores: dict[str, EmbeddingStore | None] = {}


def clear_embedding_cache() -> None:
    """Forget every embedding held in this process's memory (the disk cache stays; see `chunkopt cache clear`)."""
    _memory.clear()


def _store() -> EmbeddingStore | None:
    """The persistent cache of this process (None, after one warning, where it cannot be used)."""
    from chunkopt.retrievers.cache import cache_folder

    folder = str(cache_folder())
    if folder not in _stores:
        try:
            _stores[folder] = EmbeddingStore(folder)
        except CacheUnavailable as exc:
            warn_once(f"embedding cache unavailable ({exc}): embedding without it")
            _stores[folder] = None
    return _stores[folder]


def _disable_store(store: EmbeddingStore, exc: CacheUnavailable) -> None:
    """A cache that failed mid-sweep (folder made read-only, disk full) is dropped for the rest of the process."""
    warn_once(f"embedding cache unavailable ({exc}): embedding without it")
    _stores[str(store.folder)] = None


class DenseRetriever(Retriever):
    """Base of the embedding retrievers: implement `model_identity()` and `_encode(texts)`.

    `cache` turns the disk cache off; `index="hnsw"` searches an HNSW graph (`chunkopt.retrievers.hnsw`)
    instead of scoring every chunk, as a vector database would.
    """

    schema: tuple[Param, ...] = (
        Param("cache", bool, True, "keep embeddings in the persistent cache on disk (chunkopt cache info)"),
        *INDEX_PARAMS,
    )

    def model_identity(self) -> str:
        """Names the model and its exact weights, so two models never share cached vectors."""
        raise NotImplementedError

    def _encode(self, texts: list[str]) -> np.ndarray:
        """One embedding row per text (distinct texts, none cached)."""
        raise NotImplementedError

    def model_keys(self, texts: list[str]) -> list[str]:
        """What the model reads of each text, as the key its embedding is cached under: the text itself.

        A model that reads only the first words of a long text overrides this, so that two texts
        it cannot tell apart (chunks that start alike and are cut at the same word) share one key,
        one embedding, and count as a cache hit.
        """
        return texts

    def _encode_through_store(self, keys: list[str], texts: list[str]) -> np.ndarray:
        identity = self.model_identity()
        store = _store() if self._params["cache"] else None
        found: dict[int, np.ndarray] = {}
        if store is not None:
            try:
                found = store.get(identity, keys)
            except CacheUnavailable as exc:
                _disable_store(store, exc)
                store = None
        todo = [i for i in range(len(keys)) if i not in found]
        self._counts["cached"] += len(found)
        self._counts["embedded"] += len(todo)
        if todo:
            fresh = np.asarray(self._encode([texts[i] for i in todo]), dtype=np.float32)
            if store is not None:
                try:
                    store.put(identity, [keys[i] for i in todo], fresh)
                except CacheUnavailable as exc:
                    _disable_store(store, exc)
            found.update(zip(todo, fresh))
        return np.stack([found[i] for i in range(len(keys))])

    def _embed(self, texts: list[str]) -> np.ndarray:
        keys = self.model_keys(texts)
        text_of = dict(zip(keys, texts))  # one text per key: the model reads them all alike
        memory = _memory.setdefault(self.model_identity(), EmbeddingCache())
        self._counts = {"embedded": 0, "cached": 0}
        # With this retriever's settings (cache on or off) and counts.
        vectors = memory(keys, lambda missing: self._encode_through_store(missing, [text_of[k] for k in missing]))
        held = len(texts) - self._counts["embedded"] - self._counts["cached"]
        self._counts["cached"] += held  # answered from memory: repeated texts, and texts the model reads alike
        return vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of `texts` (float32 rows), through the in-memory and on-disk caches:
        what the index builder stores, so vectors measured in a sweep are not computed again."""
        return normalise(self._embed(list(texts))).astype(np.float32)

    @property
    def approximate(self) -> bool:
        return self._params["index"] == "hnsw"

    def _fit(self, texts: list[str]) -> None:
        self.vectors = normalise(self._embed(texts))
        self._fit_counts = dict(self._counts)
        self._graph = None
        if self.approximate:
            self._graph = HnswIndex(self.vectors, self._params["hnsw_m"], self._params["hnsw_ef_construction"],
                                    self._params["hnsw_ef_search"])

    def search(
        self, queries: Sequence[str], k: int, *, block_size: int | None = None, exact: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """As `Retriever.search`; with `index="hnsw"` the graph's answer unless `exact`."""
        if not self.approximate or exact:
            return super().search(queries, k, block_size=block_size)
        check_search(k, block_size)
        self._require_fitted()
        queries = list(queries)
        if not queries:
            return np.zeros((0, min(int(k), self.n_texts)), dtype=np.intp), np.zeros((0, min(int(k), self.n_texts)))
        return self._graph.search(normalise(self._embed(queries)), int(k))

    def fit_summary(self) -> dict[str, float]:
        """How many of the texts indexed by the last fit were embedded, and how many came from a cache."""
        counts = getattr(self, "_fit_counts", {"embedded": 0, "cached": 0})
        return {"chunks_embedded": counts["embedded"], "chunks_cached": counts["cached"]}

    def _score(self, queries: list[str]) -> np.ndarray:
        return normalise(self._embed(queries)) @ self.vectors.T

    @property
    def index_bytes(self) -> int:
        self._require_fitted()
        return self._graph.nbytes if self._graph is not None else int(self.vectors.nbytes)


def dense_params(*params: Param) -> tuple[Param, ...]:
    """A subclass's schema: its own parameters, then DenseRetriever's (`cache`, `index` and the HNSW settings)."""
    return (*params, *DenseRetriever.schema)


