"""A sentence-transformers model as the fast paths run it, outside sentence-transformers.

The `neural` retriever's bf16 and int8 paths (`bf16_encoder`, `onnx_encoder`) read the model's
folder themselves: its layout (`model_layout`: where the transformer is, how it pools, how many
word pieces it reads), its tokenizer, and what it reads of each text (`model_inputs`, also the key
embeddings are cached under). They run its transformer with its pooling as one torch module
(`pooled_transformer`): bf16 directly, fed batches of texts of similar length (`length_batches`)
so that little padding is computed; int8 as the ONNX file exported from that module.

Only models built as Transformer -> Pooling (mean or CLS) [-> Normalize], as sentence-transformers
models usually are, run this way; `ModelLayout.check_simple` refuses any other with a message
naming `precision="fp32"`. `model_inputs` serves every precision: any model whose first module is
a transformer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

from strategies.base import ParameterError


@dataclass(frozen=True)
class ModelLayout:
    """What a sentence-transformers folder holds that the encoder needs: where the transformer is, how it pools."""

    transformer: Path  # the folder of the Hugging Face transformer (weights, config, tokenizer)
    pooling: str | None  # "mean" or "cls"; None where the modules are not Transformer, Pooling [, Normalize]
    modules: tuple[str, ...]  # the module kinds, for the error message
    max_seq_length: int
    lower_case: bool

    def check_simple(self, precision: str) -> None:
        """Refuse, naming precision='fp32', a model the fast paths (bf16, int8) cannot reproduce."""
        if self.pooling is None:
            raise ParameterError(
                f"neural: precision={precision!r} runs models made of Transformer, Pooling (mean or CLS) and Normalize; "
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


def length_batches(inputs: list[list[int]], batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(positions, ids, attention mask) of batches of `batch_size` id lists, shortest first, padded with 0
    to the longest of each batch: sorted by length, a batch computes little padding."""
    order = np.argsort([len(ids) for ids in inputs], kind="stable")
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        ids = np.zeros((len(batch), max(len(inputs[i]) for i in batch)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, i in enumerate(batch):
            ids[row, : len(inputs[i])] = inputs[i]
            mask[row, : len(inputs[i])] = 1
        yield batch, ids, mask


def pooled_transformer(layout: ModelLayout, install_hint: str):  # -> tuple[torch.nn.Module, list[str]]
    """The model's transformer with its pooling, as one torch module from the local weights, and the
    names of the inputs it takes (input_ids, attention_mask [, token_type_ids]); it returns one
    embedding per text, not normalised."""
    import inspect

    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        raise ParameterError(f"neural: precision other than fp32 needs torch and transformers: {install_hint}") from None
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
            # Pooled in float32 even where the matrix products ran in bfloat16 (bf16_encoder).
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state.float()
            if layout.pooling == "cls":
                return hidden[:, 0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    return Pooled().eval(), ["input_ids", "attention_mask"] + (["token_type_ids"] if uses_types else [])
