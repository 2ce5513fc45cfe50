"""The `neural` retriever: sentence-transformers embeddings, cosine (optional extra `chunkopt[neural]`).

`model` is a local path or the name of a model in the Hugging Face cache (None: the
all-MiniLM-L6-v2 shipped as a package); nothing is downloaded. Cached embeddings are keyed by
the model's name plus a fingerprint of every file in its folder (weights, configuration,
tokenizer), so a retrained model at the same path never reuses the old vectors, and by the
precision it ran at.

`precision` says how the model is run. "fp32" is the plain sentence-transformers (PyTorch) path,
the reference. "bf16" runs it in PyTorch with bfloat16 matrix products (`bf16_encoder`): nearly
exact, and fast where the CPU multiplies bfloat16 in hardware. "int8" runs it through ONNX Runtime
with int8 weights (`onnx_encoder`): fast on any CPU, approximate. "auto" (the default) is bf16 on a
CPU with bfloat16 instructions and int8 elsewhere, fp32 for a model the fast paths cannot run
(not Transformer, Pooling [, Normalize]); it is resolved when the retriever is built, so
`params` (and the tuned JSON) name the precision that ran. Measured in bench/README.md, "Dense
sweeps".

The model reads only the first `max_seq_length` word pieces of a text, so embeddings are keyed by
those word pieces, not by the whole text: chunks that begin alike and are both cut at the limit
(a 512- and a 1,024-token chunk from the same start) are embedded once.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from chunkopt.retrievers.base import normalise
from chunkopt.retrievers.dense import DenseRetriever, dense_params
from chunkopt.retrievers.transformer import model_encodings, model_inputs, model_layout
from strategies.base import Param, ParameterError

FINGERPRINT_BLOCK = 1 << 20  # bytes read at a time while hashing model files


def model_folder(model: str | None) -> Path:
    """The folder a sentence-transformers model is loaded from: the shipped copy, a local path, or its Hugging Face snapshot."""
    from strategies.embedders import SHIPPED_MODEL_NAMES, shipped_model_path

    if model is None or model in SHIPPED_MODEL_NAMES:
        return shipped_model_path()
    if Path(model).expanduser().is_dir():
        return Path(model).expanduser().resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception:
        raise ParameterError(
            f"neural: model {model!r} is neither a local folder nor a model in the Hugging Face cache "
            "(nothing is downloaded); leave model unset for the shipped all-MiniLM-L6-v2"
        ) from None


@lru_cache(maxsize=8)
def fingerprint(folder: Path) -> str:
    """BLAKE2b (16 bytes, hex) over the relative path, size and content of every file under `folder`."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + str(path.stat().st_size).encode() + b"\0")
        with open(path, "rb") as handle:
            while block := handle.read(FINGERPRINT_BLOCK):
                digest.update(block)
    return digest.hexdigest()


class NeuralRetriever(DenseRetriever):
    """Cosine similarity of sentence-transformers embeddings; the queries and shared chunks of a sweep are embedded once."""

    name = "neural"
    description = "sentence-transformers embeddings (optional extra), cosine"
    schema = dense_params(
        Param("model", str, None, "local path or name of a sentence-transformers model", nullable=True),
        Param("precision", str, "auto", "bf16: PyTorch, bfloat16 products, fast on CPUs with bf16; int8: ONNX Runtime, "
              "fast anywhere, approximate; fp32: PyTorch, the reference; auto: bf16 where native, else int8",
              choices=("auto", "bf16", "int8", "fp32")),
        # 32: for bf16 on 2 cores a little faster than 64 (measured 7.1-8.1 s against 8.5-8.7 s for
        # 600 chunks), whose attention matrices no longer fit the cache; int8 runs texts one by one.
        Param("batch_size", int, 32, "texts encoded per batch (bf16, fp32; int8 runs one at a time)", minimum=1),
    )

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        if self._params["precision"] == "auto":
            self._params["precision"] = auto_precision(self._params["model"])

    def model_identity(self) -> str:
        model = self._params["model"]
        identity = f"sentence-transformers:{model or 'all-MiniLM-L6-v2'}:{fingerprint(model_folder(model))}"
        if self._params["precision"] == "fp32":
            return identity
        if self._params["precision"] == "bf16":
            import torch

            return f"{identity}:torch-bf16:{torch.__version__}"
        from chunkopt.retrievers.onnx_encoder import quantised_key

        return f"{identity}:onnx-int8:{quantised_key(fingerprint(model_folder(model)))}"

    def model_keys(self, texts: list[str]) -> list[str]:
        """A digest of the word-piece ids the model reads of each text (truncated at max_seq_length);
        the texts themselves for a model that does not start with a transformer."""
        folder = model_folder(self._params["model"])
        if model_layout(folder).modules[0] != "Transformer":
            return texts
        encodings = model_encodings(folder, texts)
        pieces = [np.asarray(encoding.ids, dtype=np.int32) for encoding in encodings]
        # Kept for this embedding pass, so that the texts are tokenized once: the fast paths feed
        # these ids to the model (`_encode`), and `_fit` counts the texts cut at max_seq_length.
        self._pieces = dict(zip(texts, pieces))
        self._cut = sum(bool(encoding.overflowing) for encoding in encodings)
        return [hashlib.blake2b(ids.tobytes(), digest_size=16).hexdigest() for ids in pieces]

    def _embed(self, texts: list[str]) -> np.ndarray:
        try:
            return super()._embed(texts)
        finally:
            self._pieces = {}

    def _fit(self, texts: list[str]) -> None:
        self._cut = None
        super()._fit(texts)
        self._truncation = truncation(model_folder(self._params["model"]), len(texts), self._cut)

    def fit_summary(self) -> dict[str, float]:
        """The cache counts, and how many indexed texts the model reads only the beginning of."""
        return {**super().fit_summary(), **getattr(self, "_truncation", {})}

    def _encode(self, texts: list[str]) -> np.ndarray:
        precision, folder = self._params["precision"], model_folder(self._params["model"])
        if precision == "fp32":
            from strategies.embedders import load_sentence_transformer  # says how to install the extra if missing

            model = load_sentence_transformer(self._params["model"])
            return model.encode(texts, batch_size=self._params["batch_size"], normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
        held = getattr(self, "_pieces", {})  # the word pieces model_keys read, during _embed
        inputs = [held[t] for t in texts] if all(t in held for t in texts) else model_inputs(folder, texts)
        if precision == "bf16":
            from chunkopt.retrievers.bf16_encoder import bf16_encoder

            return normalise(bf16_encoder(folder).encode(inputs, self._params["batch_size"]))
        from chunkopt.retrievers.onnx_encoder import onnx_encoder

        return normalise(onnx_encoder(folder, fingerprint(folder)).encode(inputs))


def auto_precision(model: str | None) -> str:
    """What precision="auto" runs: bf16 where the CPU has bfloat16 instructions, else int8; fp32 for a
    model the fast paths cannot run, and where their packages (torch; onnxruntime for int8) are absent."""
    from importlib.util import find_spec

    from chunkopt.retrievers.bf16_encoder import native_bf16

    try:
        simple = model_layout(model_folder(model)).pooling is not None
    except (ParameterError, OSError):
        return "fp32"  # no model, or none readable: fp32's loader says what to install or fix
    if not simple:
        return "fp32"
    if native_bf16():
        return "bf16"
    return "int8" if find_spec("onnxruntime") and find_spec("onnx") else "fp32"


def truncation(folder: Path, n_texts: int, n_cut: int | None) -> dict[str, float]:
    """`max_seq_length` (word pieces the model reads) and `truncated_share` (the share of `n_texts`
    longer than that: `n_cut`, as `model_keys` counted them with the model's own tokenizer).

    A sentence-transformers model embeds only the first `max_seq_length` word pieces of a text
    (256 for all-MiniLM-L6-v2, about 200 words): a 1,024-token chunk is indexed by its beginning.
    That is what the team's own index does too, so it is measured, not hidden. Empty when nothing
    was counted (the model does not start with a transformer) or the folder has no
    sentence_bert_config.json to say the limit.
    """
    layout = model_layout(folder)
    configured = any((f / "sentence_bert_config.json").is_file() for f in (layout.transformer, folder))
    if n_cut is None or not configured:
        return {}
    return {"max_seq_length": layout.max_seq_length, "truncated_share": n_cut / max(1, n_texts)}
