"""A sentence-transformers model run by ONNX Runtime with int8 weights: the `neural` retriever's
fast path on CPUs without bfloat16 arithmetic (see `bf16_encoder` for those with it).

Why: on a CPU, embedding is nearly all of a dense sweep's time (27.7 minutes for the default grid
on Chroma's corpora with PyTorch, 1,638 s of it embedding). The same model exported to ONNX, its
weights quantised to int8 (dynamic quantisation, per channel; see SCHEME), runs about 2-3x faster
than PyTorch on the 2-core machine of bench/README.md. It is approximate: vectors at mean cosine
0.993 to float32's, and the default grid's recall within 0.01 of float32's for 29 of 32
configurations there ("Dense sweeps"), which is why a CPU with bfloat16 runs `bf16_encoder` instead.

Nothing is downloaded. On first use the model's transformer, with its pooling
(`transformer.pooled_transformer`), is exported from the local weights with `torch.onnx` and
quantised with `onnxruntime.quantization`; the file is kept under chunkopt's cache folder
(`onnx/<fingerprint>/`, fingerprint of the model's files and of the exporter's versions), written
to a temporary name and renamed, so concurrent sweeps never load a half-written file. Later runs
load it directly, without torch.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import shutil
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from chunkopt.retrievers.transformer import ModelLayout, model_layout, pooled_transformer
from strategies.base import ParameterError

QUANTISED_FILE = "model.int8.onnx"
EXPORT_OPSET = 17
# Every matrix product's weights int8, one scale per output channel; activations quantised on the
# fly. Keeping the feed-forward down-projections float32 was measured too (bench/README.md, "Dense
# sweeps"): half the vector error, but the sweep 16% slower, recall barely closer (largest difference
# 0.015 against 0.017) and the recommendation changed, so it is not done.
SCHEME = "int8 per channel, one text per run"
FAST_INSTALL_HINT = "install the extra with `pip install 'chunkopt[neural]'` (it brings onnx and onnxruntime)"


@lru_cache(maxsize=1)
def _exporter_versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        import onnxruntime

        onnx_version = version("onnx")
    except (ImportError, PackageNotFoundError):
        raise ParameterError(f"neural: precision='int8' needs onnx and onnxruntime: {FAST_INSTALL_HINT}") from None
    return f"onnxruntime {onnxruntime.__version__}, onnx {onnx_version}, opset {EXPORT_OPSET}, {SCHEME}"


def quantised_key(model_fingerprint: str) -> str:
    """Names the int8 file of a model: its fingerprint, the exporter's versions and the scheme.

    It is part of the retriever's model identity too, so vectors cached from another export are never reused.
    """
    return hashlib.blake2b(f"{model_fingerprint}\0{_exporter_versions()}".encode(), digest_size=12).hexdigest()


def quantised_model(folder: Path, model_fingerprint: str) -> Path:
    """The int8 ONNX file of the model in `folder`, exported and quantised on first use, then cached."""
    from strategies.embedders import cache_dir

    versions = _exporter_versions()
    target = cache_dir() / "onnx" / quantised_key(model_fingerprint)
    if (target / QUANTISED_FILE).is_file():
        return target / QUANTISED_FILE
    layout = model_layout(folder)
    layout.check_simple("int8")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".exporting-", dir=target.parent))
    except OSError as exc:  # a read-only cache folder: export for this process only
        from chunkopt.retrievers.cache import warn_once

        warn_once(f"cannot keep the int8 model in {target.parent} ({exc.strerror or exc}): "
                  "exporting it for this process only")
        target = Path(tempfile.mkdtemp(prefix="chunkopt-onnx-"))
        atexit.register(shutil.rmtree, target, True)
        _export_quantised(layout, target, folder, model_fingerprint, versions)
        return target / QUANTISED_FILE
    try:
        _export_quantised(layout, staging, folder, model_fingerprint, versions)
        try:
            staging.rename(target)
        except OSError:  # another process finished first: use its file
            if not (target / QUANTISED_FILE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / QUANTISED_FILE


def _export_quantised(layout: ModelLayout, out: Path, source: Path, model_fingerprint: str, versions: str) -> None:
    """Write model.int8.onnx, and source.json saying what it was made from, into the folder `out`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    _export(layout, out / "model.onnx")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser's advice on pre-processing goes to the root logger
    try:
        quantize_dynamic(out / "model.onnx", out / QUANTISED_FILE, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)
    (out / "model.onnx").unlink()
    (out / "source.json").write_text(json.dumps({"model": str(source), "fingerprint": model_fingerprint,
                                                 "versions": versions}), encoding="utf-8")


def _export(layout: ModelLayout, path: Path) -> None:
    """Export transformer + pooling to ONNX (dynamic batch and length), from the local weights only."""
    import torch

    module, names = pooled_transformer(layout, FAST_INSTALL_HINT)
    example = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "length"} for name in names} | {"embedding": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, tuple(example for _ in names), str(path), input_names=names,
                          output_names=["embedding"], dynamic_axes=axes, opset_version=EXPORT_OPSET, dynamo=False)


class OnnxEncoder:
    """Embeds word-piece ids with the int8 ONNX model, one text per run (see `encode`)."""

    def __init__(self, model_file: Path) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise ParameterError(f"neural: precision='int8' needs onnxruntime: {FAST_INSTALL_HINT}") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # no warnings about the quantised graph on stderr
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, inputs: list[list[int]]) -> np.ndarray:
        """One float32 row per id list (not normalised), in order.

        Each text is run alone. Dynamic quantisation scales a matrix product's activations by
        their largest value, over the whole batch: in a batch, a text's vector depended on its
        neighbours and on their padding (up to 0.03 in one coordinate, measured on Chroma's
        chunks), so a cached vector would differ from a fresh one. Alone, it is a function of the
        text, and measured both closer to float32 (least cosine 0.987 against 0.974 for batches of
        64) and no slower (9.7 s against 11.3 s for 600 chunks).
        """
        rows = np.empty((len(inputs), self.dimension), dtype=np.float32)
        for row, ids in enumerate(inputs):
            feed = {"input_ids": np.asarray([ids], dtype=np.int64)}
            feed["attention_mask"] = np.ones_like(feed["input_ids"])
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
            rows[row] = self.session.run(None, {name: feed[name] for name in self.input_names})[0][0]
        return rows


@lru_cache(maxsize=4)
def onnx_encoder(folder: Path, model_fingerprint: str) -> OnnxEncoder:
    """The encoder of a model folder, loaded once per process."""
    return OnnxEncoder(quantised_model(folder, model_fingerprint))
