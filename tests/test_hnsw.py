"""`index="hnsw"`: dense retrievers search a real HNSW graph (faiss), and the evaluation says what it lost against exact search."""

import zlib

import numpy as np
import pytest

from chunkopt.corpus import Corpus, Document
from chunkopt.evaluation import evaluate
from chunkopt.queries import Query, Reference
from chunkopt.retrievers import get_retriever
from chunkopt.retrievers import dense
from chunkopt.retrievers.dense import DenseRetriever
from strategies import get as get_strategy
from strategies.base import ParameterError

pytest.importorskip("faiss")

DIMENSIONS = 32


class RandomRetriever(DenseRetriever):
    """Each text a random unit vector seeded by its bytes: no model, and neighbours an HNSW graph can miss."""

    name = "random-vectors"

    def model_identity(self):
        return f"random:{DIMENSIONS}"

    def _encode(self, texts):
        return np.stack([np.random.default_rng(zlib.crc32(t.encode())).standard_normal(DIMENSIONS) for t in texts])


@pytest.fixture(autouse=True)
def _no_memory(monkeypatch):
    monkeypatch.setattr(dense, "_memory", {})


TEXTS = [f"chunk number {i}" for i in range(2000)]
QUERIES = [f"question {i}" for i in range(200)]


def test_exact_is_the_default_and_hnsw_parameters_default_to_chromas():
    params = RandomRetriever().params
    assert params["index"] == "exact"
    assert (params["hnsw_m"], params["hnsw_ef_construction"], params["hnsw_ef_search"]) == (16, 100, 100)


def test_a_generous_graph_finds_what_exact_search_finds():
    hnsw = RandomRetriever(index="hnsw", cache=False).fit(TEXTS[:300])
    exact = RandomRetriever(cache=False).fit(TEXTS[:300])
    assert hnsw.approximate and not exact.approximate
    np.testing.assert_array_equal(hnsw.search(QUERIES, 5)[0], exact.search(QUERIES, 5)[0])


def test_a_sparse_graph_misses_neighbours_and_exact_true_does_not():
    hnsw = RandomRetriever(index="hnsw", hnsw_m=2, hnsw_ef_construction=2, hnsw_ef_search=1, cache=False).fit(TEXTS)
    truth = RandomRetriever(cache=False).fit(TEXTS).search(QUERIES, 10)[0]
    found = hnsw.search(QUERIES, 10)[0]
    assert found.shape == truth.shape
    assert (found != truth).any()
    np.testing.assert_array_equal(hnsw.search(QUERIES, 10, exact=True)[0], truth)


def test_the_graph_is_rebuilt_identically_so_results_repeat():
    settings = dict(index="hnsw", hnsw_m=4, hnsw_ef_construction=8, hnsw_ef_search=4, cache=False)
    first = RandomRetriever(**settings).fit(TEXTS).search(QUERIES, 10)[0]
    second = RandomRetriever(**settings).fit(TEXTS).search(QUERIES, 10)[0]
    np.testing.assert_array_equal(first, second)


def test_the_index_size_counts_the_graph_links_too():
    hnsw = RandomRetriever(index="hnsw", cache=False).fit(TEXTS)
    assert hnsw.index_bytes > hnsw.vectors.nbytes


def test_evaluation_records_the_recall_an_approximate_index_lost():
    documents = [Document(f"d{i}", " ".join(f"w{i}x{j}" for j in range(40))) for i in range(300)]
    corpus = Corpus(documents)
    queries = [Query(f"q{i}", f"w{i}x3 w{i}x7", [Reference(f"d{i}", 0, 20)]) for i in range(0, 300, 3)]
    chunker = get_strategy("fixed", chunk_size=8, overlap=0)
    sparse = RandomRetriever(index="hnsw", hnsw_m=2, hnsw_ef_construction=2, hnsw_ef_search=1, cache=False)
    summary = evaluate(corpus, queries, chunker, retriever=sparse, top_k=5).summary
    exact = evaluate(corpus, queries, chunker, retriever=RandomRetriever(cache=False), top_k=5).summary
    assert summary["recall_exact"] == pytest.approx(exact["recall"])
    assert summary["recall_lost"] == pytest.approx(exact["recall"] - summary["recall"])
    assert 0 <= summary["neighbours_found"] < 1
    assert "recall_lost" not in exact


def test_hybrid_refuses_an_approximate_dense_index():
    with pytest.raises(ParameterError, match="index must be 'exact', not 'hnsw'"):
        get_retriever("hybrid", dense="endpoint", dense_params={"base_url": "http://127.0.0.1:9/v1", "model": "m",
                                                               "index": "hnsw"})


def test_without_faiss_hnsw_says_which_extra_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(ParameterError, match=r"index='hnsw' needs faiss: install the extra .*chunkopt\[hnsw\]"):
        RandomRetriever(index="hnsw", cache=False).fit(TEXTS[:10])
