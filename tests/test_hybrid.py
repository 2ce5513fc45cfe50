"""The hybrid retriever fuses BM25 and a dense retriever (here `endpoint` on a local server) by reciprocal rank."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chunkopt.retrievers import dense, get_retriever
from chunkopt.retrievers.hybrid import ranks
from embedding_server import MODEL, EmbeddingServer
from strategies.base import ParameterError

# BM25 ranks "apple cherry": text 2 (cherry is rare: high idf), text 0, text 1.
# Cosine of hashed word counts ranks it: text 0 (3 apples of 4 words), text 2, text 1.
TEXTS = ["apple apple apple pie", "banana bread with apple", "cherry banana smoothie"]
QUERY = ["apple cherry"]


@pytest.fixture(scope="module")
def server():
    with EmbeddingServer() as running:
        yield running


@pytest.fixture
def hybrid(server, monkeypatch):
    monkeypatch.setattr(dense, "_memory", {})

    def build(**params):
        dense_params = {"base_url": server.base_url, "model": MODEL, "cache": False}
        return get_retriever("hybrid", dense="endpoint", dense_params=dense_params, **params).fit(TEXTS)

    return build


def test_the_two_parts_disagree_on_the_example(hybrid):
    retriever = hybrid()
    assert ranks(retriever.sparse.score(QUERY)).tolist() == [[2, 3, 1]]
    assert ranks(retriever.dense.score(QUERY)).tolist() == [[1, 3, 2]]


def test_fused_scores_are_weighted_reciprocal_ranks_by_hand(hybrid):
    # rrf_k 1, weights 2 (BM25) and 1 (dense):
    # text 0: 2/(1+2) + 1/(1+1) = 7/6; text 1: 2/(1+3) + 1/(1+3) = 3/4; text 2: 2/(1+1) + 1/(1+2) = 4/3
    retriever = hybrid(rrf_k=1, sparse_weight=2, dense_weight=1)
    np.testing.assert_allclose(retriever.score(QUERY), [[7 / 6, 3 / 4, 4 / 3]])
    assert retriever.search(QUERY, k=3)[0].tolist() == [[2, 0, 1]]


def test_weighting_the_dense_part_more_follows_its_order(hybrid):
    # text 0: 1/3 + 2/2 = 4/3 beats text 2: 1/2 + 2/3 = 7/6
    assert hybrid(rrf_k=1, sparse_weight=1, dense_weight=2).search(QUERY, k=3)[0].tolist() == [[0, 2, 1]]


def test_a_zero_weight_leaves_the_other_retrievers_order(hybrid):
    assert hybrid(dense_weight=0).search(QUERY, k=3)[0].tolist() == [[2, 0, 1]]
    assert hybrid(sparse_weight=0).search(QUERY, k=3)[0].tolist() == [[0, 2, 1]]


def test_parameters_record_the_dense_part_as_resolved(hybrid, server):
    params = hybrid().params
    assert params["dense"] == "endpoint" and params["rrf_k"] == 60.0
    assert params["dense_params"]["base_url"] == server.base_url and params["dense_params"]["model"] == MODEL
    copy = get_retriever("hybrid", **params)  # what evaluate does to fit a fresh copy
    assert copy.params == params


def test_index_bytes_add_both_parts(hybrid):
    retriever = hybrid()
    assert retriever.index_bytes == retriever.sparse.index_bytes + len(TEXTS) * 32 * 4


def test_both_weights_zero_is_a_parameter_error():
    with pytest.raises(ParameterError, match="hybrid: sparse_weight and dense_weight cannot both be 0"):
        get_retriever("hybrid", sparse_weight=0, dense_weight=0)


def test_hybrid_cannot_fuse_itself():
    with pytest.raises(ParameterError, match="hybrid: dense must be a dense retriever such as neural or endpoint, got 'hybrid'"):
        get_retriever("hybrid", dense="hybrid")


def test_an_unknown_dense_retriever_is_named():
    with pytest.raises(ParameterError, match="unknown retriever 'colbert'"):
        get_retriever("hybrid", dense="colbert")


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 8)), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0])))
def test_ranks_agree_with_a_stable_sort(scores):
    result = ranks(scores)
    for row, values in zip(result, scores):
        order = sorted(range(len(values)), key=lambda i: (-values[i], i))
        assert [order.index(i) + 1 for i in range(len(values))] == row.tolist()
