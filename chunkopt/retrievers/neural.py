"""The `neural` retriever: sentence-transformers embeddings, cosine (optional extra `chunkopt[neural]`).

`model` is a local path or the name of a model in the Hugging Face cache (None: the
all-MiniLM-L6-v2 shipped as a package); nothing is downloaded. Cached embeddings are keyed by
the model's name plus a fingerprint of every file in its folder (weights, configuration,
tokenizer), so a retrained model at the same path never reuses the old vectors, and by the
precision it ran at.

`precision="int8"` (the default) runs the model through ONNX Runtime with int8 weights
(`onnx_encoder`), about 3x faster on a CPU and measured to rank chunkings like the float32 model;
`precision="fp32"` is the plain sentence-transformers (PyTorch) path, the reference.

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
        Param("precision", str, "int8", "int8: ONNX Runtime with int8 weights, fast; fp32: PyTorch, the reference",
              choices=("int8", "fp32")),
        Param("batch_size", int, 64, "texts encoded per batch", minimum=1),
    )

    def model_identity(self) -> str:
        model = self._params["model"]
        identity = f"sentence-transformers:{model or 'all-MiniLM-L6-v2'}:{fingerprint(model_folder(model))}"
        if self._params["precision"] == "fp32":
            return identity
        from chunkopt.retrievers.onnx_encoder import quantised_key

        return f"{identity}:onnx-int8:{quantised_key(fingerprint(model_folder(model)))}"

    def model_keys(self, texts: list[str]) -> list[str]:
        """A digest of the word-piece ids the model reads of each text (truncated at max_seq_length);
        the texts themselves for a model that does not start with a transformer."""
        from chunkopt.retrievers.onnx_encoder import model_inputs, model_layout

        folder = model_folder(self._params["model"])
        if model_layout(folder).modules[0] != "Transformer":
            return texts
        return [hashlib.blake2b(np.asarray(ids, dtype=np.int32).tobytes(), digest_size=16).hexdigest()
                for ids in model_inputs(folder, texts)]

    def _fit(self, texts: list[str]) -> None:
        super()._fit(texts)
        self._truncation = truncation(model_folder(self._params["model"]), texts)

    def fit_summary(self) -> dict[str, float]:
        """The cache counts, and how many indexed texts the model reads only the beginning of."""
        return {**super().fit_summary(), **getattr(self, "_truncation", {})}

    def _encode(self, texts: list[str]) -> np.ndarray:
        folder = model_folder(self._params["model"])
        if self._params["precision"] == "int8":
            from chunkopt.retrievers.onnx_encoder import model_inputs, onnx_encoder

            encoder = onnx_encoder(folder, fingerprint(folder))
            return normalise(encoder.encode(model_inputs(folder, texts), self._params["batch_size"]))
        from strategies.embedders import load_sentence_transformer  # says how to install the extra if missing

        model = load_sentence_transformer(self._params["model"])
        return model.encode(texts, batch_size=self._params["batch_size"], normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)


def truncation(folder: Path, texts: list[str]) -> dict[str, float]:
    """`max_seq_length` (word pieces the model reads) and `truncated_share` (texts longer than that).

    A sentence-transformers model embeds only the first `max_seq_length` word pieces of a text
    (256 for all-MiniLM-L6-v2, about 200 words): a 1,024-token chunk is indexed by its beginning.
    That is what the team's own index does too, so it is measured, not hidden. Counted with the
    model's own tokenizer, as `model_keys` reads texts, without loading the model; empty when the
    folder has no sentence_bert_config.json (or does not start with a transformer).
    """
    from chunkopt.retrievers.onnx_encoder import model_encodings, model_layout

    layout = model_layout(folder)
    configured = any((f / "sentence_bert_config.json").is_file() for f in (layout.transformer, folder))
    if layout.modules[0] != "Transformer" or not configured:
        return {}
    encodings = model_encodings(folder, texts)
    truncated = sum(bool(encoding.overflowing) for encoding in encodings)
    return {"max_seq_length": layout.max_seq_length, "truncated_share": truncated / max(1, len(encodings))}
