"""Lexical retrievers that need no download: `tfidf`, `bm25` and `lsa`.

`tfidf` is cosine over sublinear TF-IDF, `bm25` Okapi BM25 as a sparse matrix, `lsa` TF-IDF
reduced by truncated SVD (dense), cosine. The sparse ones keep an inverted index (terms x texts),
so a block of queries is scored with one sparse product.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from chunkopt.retrievers.base import Retriever, normalise
from strategies.base import Param, ParameterError


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
        self.vectors = normalise(self.svd.fit_transform(tfidf))

    def _score(self, queries: list[str]) -> np.ndarray:
        return normalise(self.svd.transform(self.vectorizer.transform(queries))) @ self.vectors.T

    @property
    def index_bytes(self) -> int:
        self._require_fitted()
        return int(self.vectors.nbytes)
