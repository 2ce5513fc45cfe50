"""A sentence-transformers model run by PyTorch with bfloat16 matrix products: the `neural`
retriever's fast path on CPUs that multiply bfloat16 natively.

Why: bfloat16 keeps float32's range and rounds each product's inputs to 8 significant bits, with
float32 sums, so it is nearly exact where int8's activation scales are not, and on a CPU with
bfloat16 instructions (x86 AVX512-BF16 or AMX: Intel Xeon Cooper Lake, Sapphire Rapids and
later; AMD Zen 4 and later) it is at least as fast as int8. Measured on 600 of Chroma's chunks, 2
threads, the AMD EPYC of bench/README.md: float32 24.7 s, int8 ONNX 9.7 s, this 9.7 s in batches
of 64 and 7.1-8.1 s in batches of 32; its vectors lie at mean cosine 0.99998 to float32's (int8:
0.994), and the default grid's recall within 0.0064 of float32's ("Dense sweeps"). Without those
instructions oneDNN emulates bfloat16, slower than float32 (27.1 s against 24.6 s on the same
chip told to use AVX512 without BF16), so `precision="auto"` chooses int8 there (`native_bf16`).

Texts go in as the word-piece ids `transformer.model_inputs` gives, in batches of similar length;
the model is loaded once per process from the local weights, nothing downloaded.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from chunkopt.retrievers.transformer import length_batches, model_layout, pooled_transformer

INSTALL_HINT = "install the extra with `pip install 'chunkopt[neural]'`"
# The CPU features through which PyTorch (oneDNN) multiplies bfloat16 in hardware.
BF16_CHECKS = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware, as PyTorch reports it (False without torch)."""
    try:
        import torch
    except ImportError:
        return False
    return any(getattr(torch.cpu, check, lambda: False)() for check in BF16_CHECKS)


class Bf16Encoder:
    """Embeds word-piece ids with the model's transformer and pooling, matrix products in bfloat16."""

    def __init__(self, folder: Path) -> None:
        layout = model_layout(folder)
        layout.check_simple("bf16")
        self.module, self.input_names = pooled_transformer(layout, INSTALL_HINT)

    def encode(self, inputs: list[list[int]], batch_size: int) -> np.ndarray:
        """One float32 row per id list (not normalised), in order."""
        import torch

        rows: np.ndarray | None = None
        # Autocast: the matrix products in bfloat16, the rest (layer norms, softmax sums) in float32.
        # Converting the weights themselves to bfloat16 was measured as fast, its vectors further
        # from float32's (mean cosine 0.99995 against 0.99998).
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            for positions, ids, mask in length_batches(inputs, batch_size):
                ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
                feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
                out = self.module(**{name: feed[name] for name in self.input_names}).float().numpy()
                if rows is None:
                    rows = np.empty((len(inputs), out.shape[1]), dtype=np.float32)
                rows[positions] = out
        return rows if rows is not None else np.zeros((0, 1), dtype=np.float32)


@lru_cache(maxsize=4)
def bf16_encoder(folder: Path) -> Bf16Encoder:
    """The encoder of a model folder, loaded once per process."""
    return Bf16Encoder(folder)
