"""The neural retriever's precisions: bf16 (PyTorch, bfloat16 products) and int8 (ONNX Runtime), the fast
paths "auto" chooses between, and fp32 (PyTorch), the reference; and the word-piece keys that let chunks
the model reads alike share one embedding."""

import json

import numpy as np
import pytest

from chunkopt.retrievers import get_retriever
from chunkopt.retrievers.dense import clear_embedding_cache
from strategies.base import ParameterError

pytest.importorskip("sentence_transformers")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

TEXTS = [
    "Late fees are capped at five percent of the monthly payment.",
    "Photosynthesis turns sunlight, water and carbon dioxide into sugar.",
    "The central bank raised interest rates to slow inflation.",
    "Volcanoes erupt when magma rises through the crust.",
    "A sourdough starter needs flour, water and a warm kitchen.",
]
LONG = " ".join(f"The committee reviewed item {i} of the budget and approved it without changes." for i in range(80))


@pytest.fixture(autouse=True)
def _fresh_memory():
    clear_embedding_cache()
    yield
    clear_embedding_cache()


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_bf16_where_the_cpu_multiplies_bfloat16_and_int8_elsewhere(native, monkeypatch):
    from chunkopt.retrievers import bf16_encoder

    monkeypatch.setattr(bf16_encoder, "native_bf16", lambda: native)
    retriever = get_retriever("neural", cache=False)
    assert retriever.params["precision"] == ("bf16" if native else "int8")  # resolved: the tuned JSON names it


@pytest.mark.parametrize("precision, least_cosine", [("bf16", 0.9995), ("int8", 0.97)])
def test_the_fast_paths_vectors_point_where_the_fp32_ones_do(precision, least_cosine):
    fast = get_retriever("neural", precision=precision, cache=False)
    reference = get_retriever("neural", precision="fp32", cache=False)
    cosines = (fast.embed(TEXTS + [LONG]) * reference.embed(TEXTS + [LONG])).sum(axis=1)
    assert cosines.min() > least_cosine, cosines


def test_an_int8_vector_does_not_depend_on_the_texts_encoded_with_it():
    # Dynamic quantisation scales by the largest activation of a run: each text is run alone.
    together = get_retriever("neural", precision="int8", cache=False).embed([TEXTS[0], LONG])
    clear_embedding_cache()
    alone = get_retriever("neural", precision="int8", cache=False).embed([TEXTS[0]])
    np.testing.assert_array_equal(together[0], alone[0])


def test_every_precision_ranks_the_same_text_first():
    queries = ["how are late payment fees limited", "how do plants make food from sunlight", "magma in volcanoes"]
    for precision in ("bf16", "int8", "fp32"):
        retriever = get_retriever("neural", precision=precision).fit(TEXTS)
        indices, _ = retriever.search(queries, k=1)
        assert indices[:, 0].tolist() == [0, 1, 3], precision


def test_the_precisions_never_share_cached_vectors():
    retrievers = [get_retriever("neural", precision=p, cache=False) for p in ("bf16", "int8", "fp32")]
    assert len({r.model_identity() for r in retrievers}) == 3
    for retriever in retrievers:
        retriever.fit(TEXTS)
        assert retriever.fit_summary()["chunks_embedded"] == len(TEXTS)


def test_an_unknown_precision_is_refused_with_the_valid_ones():
    with pytest.raises(ParameterError, match="precision.*'auto', 'bf16', 'int8', 'fp32'"):
        get_retriever("neural", precision="fp16")


@pytest.mark.parametrize("precision", ["bf16", "int8", "fp32"])
def test_chunks_the_model_reads_alike_are_embedded_once_and_count_as_cached(precision):
    # Both are cut at the model's 256 word pieces, and their first 256 are the same.
    retriever = get_retriever("neural", precision=precision, cache=False)
    longer = LONG + " An appendix followed, with tables."
    retriever.fit([LONG, longer, TEXTS[0]])
    assert retriever.fit_summary()["chunks_embedded"] == 2
    assert retriever.fit_summary()["chunks_cached"] == 1
    np.testing.assert_array_equal(retriever.vectors[0], retriever.vectors[1])


def test_texts_that_differ_within_what_the_model_reads_are_embedded_apart():
    retriever = get_retriever("neural", cache=False)
    retriever.fit([TEXTS[0], TEXTS[0] + " Except on Sundays."])
    assert retriever.fit_summary()["chunks_embedded"] == 2


def test_the_quantised_model_is_exported_once_then_loaded_from_the_cache(tmp_path, monkeypatch):
    from chunkopt.retrievers import onnx_encoder
    from chunkopt.retrievers.neural import fingerprint, model_folder

    monkeypatch.setenv("CHUNKOPT_CACHE_DIR", str(tmp_path))
    folder = model_folder(None)
    exports = []
    real_export = onnx_encoder._export
    monkeypatch.setattr(onnx_encoder, "_export", lambda *a: (exports.append(a), real_export(*a)))
    first = onnx_encoder.quantised_model(folder, fingerprint(folder))
    second = onnx_encoder.quantised_model(folder, fingerprint(folder))
    assert first == second and first.is_file() and len(exports) == 1
    assert first.parent.parent == tmp_path / "onnx"
    assert sorted(p.name for p in first.parent.iterdir()) == ["model.int8.onnx", "source.json"]
    assert not [p for p in (tmp_path / "onnx").iterdir() if p.name.startswith(".exporting-")]


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_a_model_the_fast_paths_cannot_run_is_refused_naming_fp32_and_auto_runs_it_at_fp32(tmp_path, precision):
    from chunkopt.retrievers.neural import model_folder

    shipped = model_folder(None)
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
    ]))
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "sentence_bert_config.json"):
        (tmp_path / name).write_bytes((shipped / name).read_bytes())
    with pytest.raises(ParameterError, match=rf"precision='{precision}'.*Transformer, Pooling, Dense: use precision='fp32'"):
        get_retriever("neural", model=str(tmp_path), precision=precision, cache=False).fit(TEXTS)
    assert get_retriever("neural", model=str(tmp_path), cache=False).params["precision"] == "fp32"


def test_a_cache_folder_that_cannot_be_written_exports_for_this_process_and_says_so(tmp_path, monkeypatch):
    import strategies.embedders
    from chunkopt.retrievers import cache, onnx_encoder
    from chunkopt.retrievers.neural import fingerprint, model_folder

    folder = model_folder(None)  # extracted before the cache folder turns unusable
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setattr(strategies.embedders, "cache_dir", lambda: tmp_path / "a-file" / "cache")
    monkeypatch.setattr(cache, "_warned", set())
    with pytest.warns(RuntimeWarning, match=r"cannot keep the int8 model in .*a-file.*: exporting it for this process only"):
        model = onnx_encoder.quantised_model(folder, fingerprint(folder))
    assert model.is_file()
