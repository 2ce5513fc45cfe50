"""Retrievers rank the relevant text first, score as their formulas say, and break ties by position."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chunkopt.retrievers import available_retrievers, get_retriever, top_k
from chunkopt.retrievers.dense import EmbeddingCache
from strategies.base import ParameterError

TEXTS = [
    "The stock market fell sharply as investors sold bank shares and bond yields rose.",
    "Photosynthesis lets green plants turn sunlight, water and carbon dioxide into sugar.",
    "The football team won the championship final after a penalty shootout.",
    "Volcanoes erupt when magma rises through cracks in the earth's crust.",
    "A recipe for bread: flour, water, yeast and salt, kneaded and baked.",
]


def test_available_retrievers_are_the_built_ins():
    assert available_retrievers() == ["bm25", "endpoint", "hybrid", "lsa", "neural", "tfidf"]


@pytest.mark.parametrize("name", ["tfidf", "bm25", "lsa"])
def test_obviously_relevant_text_ranks_first(name):
    retriever = get_retriever(name).fit(TEXTS)
    indices, scores = retriever.search(["how do plants use sunlight and carbon dioxide", "magma and volcanoes"], k=3)
    assert indices.shape == scores.shape == (2, 3)
    assert indices[:, 0].tolist() == [1, 3]
    assert np.all(np.diff(scores, axis=1) <= 0)  # best first


def test_bm25_scores_match_the_okapi_formula_by_hand():
    # N = 3; lengths 2, 3, 1 terms, avgdl = 2; k1 = 1.5, b = 0.75
    # "cat" is in 2 texts: idf = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln(1.6)
    # text 0: tf 1, dl 2: 1 * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 2/2)) = 2.5 / 2.5 = 1
    # text 1: tf 2, dl 3: 2 * 2.5 / (2 + 1.5 * (0.25 + 0.75 * 3/2)) = 5 / 4.0625
    # "dog" is in 1 text: idf = ln(1 + 2.5 / 1.5) = ln(8/3); text 1: 1 * 2.5 / (1 + 2.0625)
    retriever = get_retriever("bm25").fit(["cat sat", "cat cat dog", "bird"])
    scores = retriever.score(["cat", "cat dog"])
    cat, dog = math.log(1.6), math.log(8 / 3)
    assert scores[0] == pytest.approx([cat * 1, cat * 5 / 4.0625, 0], rel=1e-6)
    assert scores[1] == pytest.approx([cat * 1, cat * 5 / 4.0625 + dog * 2.5 / 3.0625, 0], rel=1e-6)


def test_bm25_with_b_zero_ignores_text_length():
    # b = 0: both texts have tf 1 for "cat", so equal scores whatever their lengths
    scores = get_retriever("bm25", b=0.0).fit(["cat", "cat and a very long tail of other words"]).score(["cat"])
    assert scores[0, 0] == pytest.approx(scores[0, 1])


def test_tfidf_scores_are_cosine_similarities():
    scores = get_retriever("tfidf").fit(["red apple", "red apple", "blue sky"]).score(["red apple"])
    assert scores[0] == pytest.approx([1.0, 1.0, 0.0], abs=1e-6)


def test_equal_scores_rank_by_position():
    retriever = get_retriever("tfidf").fit(["alpha", "beta", "alpha", "gamma"])
    indices, _ = retriever.search(["alpha", "nothing matches this"], k=4)
    assert indices.tolist() == [[0, 2, 1, 3], [0, 1, 2, 3]]


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 60)), elements=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0])),
    st.integers(1, 70),
)
def test_top_k_is_what_a_full_stable_sort_gives(scores, k):
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    indices, values = top_k(scores, k)
    assert indices.tolist() == expected.tolist()
    assert values.tolist() == np.take_along_axis(scores, expected, axis=1).tolist()


def test_top_k_breaks_ties_by_lower_index():
    indices, scores = top_k(np.array([[0.5, 0.9, 0.5, 0.9, 0.1]]), 3)
    assert indices.tolist() == [[1, 3, 0]]
    assert scores.tolist() == [[0.9, 0.9, 0.5]]


def test_k_larger_than_the_index_returns_every_text():
    indices, _ = get_retriever("bm25").fit(["one text", "another text"]).search(["text"], k=10)
    assert indices.shape == (1, 2)


def test_index_bytes_of_a_sparse_index_count_data_indices_and_indptr():
    # "cat sat" and "dog", stored term by term (an inverted index): 3 non-zeros as float32
    # (12 bytes) and int32 text indices (12), plus 3 terms + 1 int32 row pointers (16)
    assert get_retriever("bm25").fit(["cat sat", "dog"]).index_bytes == 40
    assert get_retriever("tfidf").fit(["cat sat", "dog"]).index_bytes == 40


def test_index_bytes_of_lsa_is_the_dense_chunk_vectors():
    # 5 texts, min(256, 5 - 1, n_terms - 1) = 4 components, float32
    assert get_retriever("lsa").fit(TEXTS).index_bytes == 5 * 4 * 4


def test_unknown_retriever_lists_the_valid_names():
    with pytest.raises(ParameterError, match="unknown retriever 'elastic'; available retrievers: bm25, endpoint, hybrid, lsa, neural, tfidf"):
        get_retriever("elastic")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"k1": 0}, r"bm25: k1 must be a number > 0, got 0"),
        ({"k1": -1.0}, r"bm25: k1 must be a number >= 0, got -1.0"),
        ({"b": 1.5}, r"bm25: b must be a number from 0 to 1, got 1.5"),
        ({"k": 3}, r"bm25: unknown parameter 'k'; valid parameters are k1, b"),
    ],
)
def test_bad_bm25_parameters_are_named(params, message):
    with pytest.raises(ParameterError, match=message):
        get_retriever("bm25", **params)


def test_lsa_needs_a_positive_number_of_components():
    with pytest.raises(ParameterError, match=r"lsa: n_components must be an integer >= 1, got 0"):
        get_retriever("lsa", n_components=0)


def test_search_before_fit_is_an_error():
    with pytest.raises(RuntimeError, match=r"tfidf: call fit\(texts\) before searching"):
        get_retriever("tfidf").search(["query"], k=1)


def test_k_must_be_positive():
    with pytest.raises(ParameterError, match=r"k must be a positive integer number of chunks, got 0"):
        get_retriever("tfidf").fit(["text"]).search(["text"], k=0)


def test_fit_needs_words():
    with pytest.raises(ValueError, match=r"bm25: the 2 texts contain no words to index"):
        get_retriever("bm25").fit(["...", "!"])


def test_embedding_cache_encodes_each_distinct_text_once():
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts])

    cache = EmbeddingCache(encode)
    first = cache(["a", "bb", "a"])
    second = cache(["bb", "ccc"])
    assert calls == [["a", "bb"], ["ccc"]]
    assert first.tolist() == [[1, 1], [2, 1], [1, 1]]
    assert second.tolist() == [[2, 1], [3, 1]]


def test_neural_retriever_ranks_relevant_text_first():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("strategies.embedders")
    retriever = get_retriever("neural").fit(TEXTS)
    indices, _ = retriever.search(["how do plants make food from light", "a game of soccer"], k=2)
    assert indices[:, 0].tolist() == [1, 2]
    assert retriever.index_bytes == len(TEXTS) * 384 * 4  # all-MiniLM-L6-v2: 384 float32 dimensions


def test_neural_retriever_says_how_many_texts_the_model_reads_only_the_start_of():
    pytest.importorskip("sentence_transformers")
    long = "The index keeps every chunk of the handbook. " * 40  # about 360 word pieces
    retriever = get_retriever("neural").fit([long, "A short chunk.", "Another short one.", long + "Twice."])
    summary = retriever.fit_summary()
    assert summary["max_seq_length"] == 256  # all-MiniLM-L6-v2 reads 256 word pieces
    assert summary["truncated_share"] == 0.5


def test_neural_rerun_takes_every_chunk_from_the_disk_cache(tmp_path, monkeypatch):
    pytest.importorskip("sentence_transformers")
    from chunkopt.retrievers import cache, dense

    monkeypatch.setattr(cache, "cache_folder", lambda: tmp_path)
    monkeypatch.setattr(dense, "_stores", {})
    monkeypatch.setattr(dense, "_memory", {})
    first = get_retriever("neural").fit(TEXTS)
    monkeypatch.setattr(dense, "_memory", {})  # as a new process would start
    second = get_retriever("neural").fit(TEXTS)
    whole = {"max_seq_length": 256, "truncated_share": 0.0}  # short texts: the model reads all of each
    assert first.fit_summary() == {"chunks_embedded": 5, "chunks_cached": 0, **whole}
    assert second.fit_summary() == {"chunks_embedded": 0, "chunks_cached": 5, **whole}
    np.testing.assert_array_equal(first.vectors, second.vectors)


def test_hybrid_with_the_packaged_model_ranks_relevant_text_first():
    pytest.importorskip("sentence_transformers")
    retriever = get_retriever("hybrid").fit(TEXTS)  # dense: neural, the packaged all-MiniLM-L6-v2
    indices, _ = retriever.search(["how do plants make food from sunlight", "magma in volcanoes"], k=2)
    assert indices[:, 0].tolist() == [1, 3]
    assert retriever.params["dense_params"]["model"] is None


def test_neural_model_that_is_not_installed_is_a_parameter_error_naming_it():
    with pytest.raises(ParameterError, match=r"neural: model 'no-such-org/no-such-model' is neither a local folder nor"):
        get_retriever("neural", model="no-such-org/no-such-model").fit(TEXTS)


def test_neural_model_folder_that_is_not_a_sentence_transformers_model_is_a_parameter_error(tmp_path):
    pytest.importorskip("sentence_transformers")
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ParameterError, match=r"could not be loaded as a sentence-transformers model"):
        get_retriever("neural", model=str(tmp_path)).fit(TEXTS)


WORDS = ["alpha", "beta", "gamma", "delta", "fee", "late", "cap", "bank", "sun", "magma"]
_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["tfidf", "bm25"]),
    st.lists(_text, min_size=1, max_size=12),
    st.lists(_text, min_size=1, max_size=9),
    st.integers(1, 14),
    st.integers(1, 4),
)
def test_sparse_search_in_blocks_returns_exactly_what_one_full_score_matrix_gives(name, texts, queries, k, block_size):
    retriever = get_retriever(name).fit(texts)
    expected = top_k(retriever.score(queries), k)
    indices, scores = retriever.search(queries, k, block_size=block_size)
    assert indices.tolist() == expected[0].tolist()
    assert scores.tolist() == expected[1].tolist()


@settings(max_examples=30, deadline=None)
@given(st.lists(_text, min_size=1, max_size=12), st.lists(_text, min_size=1, max_size=9), st.integers(1, 4))
def test_dense_search_in_blocks_gives_the_full_matrix_scores_up_to_rounding(texts, queries, block_size):
    # A dense product of another shape may round differently in the last bits (BLAS), so only
    # the scores are compared, to float32 precision; sparse products are exact (above).
    retriever = get_retriever("lsa").fit(["alpha beta", "gamma delta", *texts])  # LSA needs two texts and terms
    expected = top_k(retriever.score(queries), 5)[1]
    _, scores = retriever.search(queries, 5, block_size=block_size)
    np.testing.assert_allclose(scores, expected, atol=1e-6)


def test_block_size_fits_the_search_memory_budget():
    from chunkopt.retrievers import base as retrieval

    retriever = get_retriever("bm25").fit(["cat sat"] * 1000)
    assert retriever.block_size() == retrieval.SEARCH_BLOCK_BYTES // (retrieval.SCORE_ROW_BYTES * 1000)


def test_block_size_is_at_least_one_query():
    from chunkopt.retrievers import base as retrieval

    retriever = get_retriever("bm25").fit(["cat sat", "dog"])
    retrieval_budget, retrieval.SEARCH_BLOCK_BYTES = retrieval.SEARCH_BLOCK_BYTES, 1
    try:
        assert retriever.block_size() == 1
        assert retriever.search(["cat", "dog", "sat"], k=1)[0].tolist() == [[0], [1], [0]]
    finally:
        retrieval.SEARCH_BLOCK_BYTES = retrieval_budget


def test_block_size_must_be_a_positive_integer():
    with pytest.raises(ParameterError, match="block_size must be a positive integer number of queries, got 0"):
        get_retriever("tfidf").fit(["text"]).search(["text"], k=1, block_size=0)
