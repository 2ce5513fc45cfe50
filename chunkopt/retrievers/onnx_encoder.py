"""A sentence-transformers model run by ONNX Runtime with int8 weights: the `neural` retriever's fast path.

Why: on a CPU, embedding is nearly all of a dense sweep's time (27.7 minutes for the default grid
on Chroma's corpora with PyTorch, 1,638 s of it embedding). The same model exported to ONNX, its
weights quantised to int8 (dynamic quantisation, per channel; see SCHEME), runs about 2-3x faster
than PyTorch on the 2-core machine of bench/README.md, and ranks the configurations like the
float32 model (measured there, "Dense sweeps").

Nothing is downloaded. On first use the model's transformer, with its pooling, is exported from the
local weights with `torch.onnx` and quantised with `onnxruntime.quantization`; the file is kept
under chunkopt's cache folder (`onnx/<fingerprint>/`, fingerprint of the model's files and of the
exporter's versions), written to a temporary name and renamed, so concurrent sweeps never load a
half-written file. Later runs load it directly, without torch.

Only models built as Transformer -> Pooling (mean or CLS) [-> Normalize], as sentence-transformers
models usually are, can be exported; any other gets a clear error naming `precision="fp32"`.
`model_inputs` (what the model reads of a text) serves both precisions: any model whose first
module is a transformer.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from strategies.base import ParameterError

QUANTISED_FILE = "model.int8.onnx"
EXPORT_OPSET = 17
# Every matrix product's weights int8, one scale per output channel; activations quantised on the
# fly. Keeping the feed-forward down-projections float32 was measured too (bench/README.md, "Dense
# sweeps"): half the vector error, but the sweep 16% slower, recall barely closer (largest difference
# 0.015 against 0.017) and the recommendation changed, so it is not done.
SCHEME = "int8 per channel"
FAST_INSTALL_HINT = "install the extra with `pip install 'chunkopt[neural]'` (it brings onnx and onnxruntime)"


@dataclass(frozen=True)
class ModelLayout:
    """What a sentence-transformers folder holds that the encoder needs: where the transformer is, how it pools."""

    transformer: Path  # the folder of the Hugging Face transformer (weights, config, tokenizer)
    pooling: str | None  # "mean" or "cls"; None where the modules are not Transformer, Pooling [, Normalize]
    modules: tuple[str, ...]  # the module kinds, for the error message
    max_seq_length: int
    lower_case: bool

    def check_exportable(self) -> None:
        """Refuse, naming precision='fp32', a model the int8 path cannot reproduce."""
        if self.pooling is None:
            raise ParameterError(
                "neural: precision='int8' runs models made of Transformer, Pooling (mean or CLS) and Normalize; "
                f"{self.transformer.name or 'this model'} has {', '.join(self.modules)}: use precision='fp32' (PyTorch) for it"
            )


@lru_cache(maxsize=8)
def model_layout(folder: Path) -> ModelLayout:
    """Read modules.json and the pooling and sentence-BERT configurations of a model folder."""
    if not (folder / "modules.json").is_file() and (folder / "config.json").is_file():
        # A plain Hugging Face transformer: sentence-transformers loads it with mean pooling.
        return ModelLayout(folder, "mean", ("Transformer", "Pooling"), 512, False)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = tuple(m["type"].rsplit(".", 1)[-1] for m in modules)
        transformer = folder / modules[0].get("path", "")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise ParameterError(
            f"neural: model {str(folder)!r} could not be loaded as a sentence-transformers model (it has no readable "
            "modules.json, nor the config.json of a Hugging Face transformer); give a local model directory, or "
            "leave model unset for the shipped all-MiniLM-L6-v2"
        ) from None
    pooling = None
    if kinds[:2] == ("Transformer", "Pooling") and all(k == "Normalize" for k in kinds[2:]):
        config = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        modes = [k.removeprefix("pooling_mode_").removesuffix("_tokens").removesuffix("_token")
                 for k, on in config.items() if k.startswith("pooling_mode_") and on]
        pooling = modes[0] if modes in (["mean"], ["cls"]) else None
        if pooling is None:
            kinds = (*kinds[:1], f"Pooling by {'+'.join(modes) or 'nothing'}", *kinds[2:])
    bert_config = {}
    for candidate in (transformer / "sentence_bert_config.json", folder / "sentence_bert_config.json"):
        if candidate.is_file():
            bert_config = json.loads(candidate.read_text(encoding="utf-8"))
            break
    limit = int(bert_config.get("max_seq_length") or 512)
    return ModelLayout(transformer, pooling, kinds, limit, bool(bert_config.get("do_lower_case", False)))


@lru_cache(maxsize=4)
def tokenizer(folder: Path):  # -> tokenizers.Tokenizer
    """The model's fast tokenizer, truncating to max_seq_length as sentence-transformers does, never padding.

    Read from its tokenizer.json where there is one (quick: no transformers import), else
    converted by transformers from whatever tokenizer files the model has.
    """
    layout = model_layout(folder)
    if (layout.transformer / "tokenizer.json").is_file():
        from tokenizers import Tokenizer

        backend = Tokenizer.from_file(str(layout.transformer / "tokenizer.json"))
    else:
        from transformers import AutoTokenizer

        backend = AutoTokenizer.from_pretrained(str(layout.transformer), local_files_only=True).backend_tokenizer
        backend = type(backend).from_str(backend.to_str())  # a copy: the settings below stay ours
    backend.no_padding()
    backend.enable_truncation(layout.max_seq_length)
    return backend


def model_encodings(folder: Path, texts: list[str]) -> list:  # -> list[tokenizers.Encoding]
    """What the model reads of each text: word pieces with special tokens, cut at max_seq_length
    (an encoding's `overflowing` is non-empty where the text was longer)."""
    layout = model_layout(folder)
    if layout.lower_case:
        texts = [t.lower() for t in texts]
    return tokenizer(folder).encode_batch(texts)


def model_inputs(folder: Path, texts: list[str]) -> list[list[int]]:
    """The word-piece ids the model reads for each text: special tokens added, cut at max_seq_length."""
    return [encoding.ids for encoding in model_encodings(folder, texts)]


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
    layout.check_exportable()
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
    import inspect

    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        raise ParameterError(f"neural: exporting the model to ONNX needs torch and transformers: {FAST_INSTALL_HINT}") from None

    from transformers.utils import logging as transformers_logging

    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of a sweep's output
    try:
        transformer = AutoModel.from_pretrained(str(layout.transformer), local_files_only=True).eval()
    finally:
        if bars:
            transformers_logging.enable_progress_bar()
    uses_types = "token_type_ids" in inspect.signature(transformer.forward).parameters

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids=None):  # type: ignore[no-untyped-def]
            extra = {"token_type_ids": token_type_ids} if uses_types else {}
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            if layout.pooling == "cls":
                return hidden[:, 0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if uses_types else [])
    example = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "length"} for name in names} | {"embedding": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Pooled().eval(), tuple(example for _ in names), str(path), input_names=names,
                          output_names=["embedding"], dynamic_axes=axes, opset_version=EXPORT_OPSET, dynamo=False)


class OnnxEncoder:
    """Embeds word-piece ids with the int8 ONNX model: batches of similar length, so little padding is computed."""

    def __init__(self, model_file: Path) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise ParameterError(f"neural: precision='int8' needs onnxruntime: {FAST_INSTALL_HINT}") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # no warnings about the quantised graph on stderr
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def encode(self, inputs: list[list[int]], batch_size: int) -> np.ndarray:
        """One float32 row per id list (not normalised), in order."""
        order = np.argsort([len(ids) for ids in inputs], kind="stable")
        rows: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            width = max(len(inputs[i]) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(batch):
                ids[row, : len(inputs[i])] = inputs[i]
                mask[row, : len(inputs[i])] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out = self.session.run(None, {name: feed[name] for name in self.input_names})[0]
            if rows is None:
                rows = np.empty((len(inputs), out.shape[1]), dtype=np.float32)
            rows[batch] = out
        return rows if rows is not None else np.zeros((0, 1), dtype=np.float32)


@lru_cache(maxsize=4)
def onnx_encoder(folder: Path, model_fingerprint: str) -> OnnxEncoder:
    """The encoder of a model folder, loaded once per process."""
    return OnnxEncoder(quantised_model(folder, model_fingerprint))
