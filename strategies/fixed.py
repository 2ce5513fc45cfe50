"""The `fixed` strategy: windows of `chunk_size` tokens, neighbours sharing `overlap` tokens.

The text is encoded once (and the encoding cached, so a sweep that chunks the same document
with several configurations encodes it once). Windows are cut at token boundaries mapped to
character offsets; a boundary inside a multi-byte character moves back to the character's
start, so a chunk never holds half a character (no U+FFFD, ever).

A window's text does not always re-encode to the window's tokens: tiktoken pre-splits text
with a regex, and a slice that starts or ends inside a pre-token can encode differently.
`TextTokens.count` gets the exact count of any slice cheaply, and a window that comes out
over `chunk_size` is shrunk, so `n_tokens == tokenizer.count(chunk.text) <= chunk_size`.
"""

from __future__ import annotations

from array import array
from functools import lru_cache
from typing import Any

import numpy as np

from strategies.base import BudgetTooSmall, Param, ParameterError, Span, Strategy, check_overlap
from strategies.tokens import DEFAULT_ENCODING, get_tokenizer

# Slices at most this long (characters) are simply encoded; longer ones use the clean-boundary shortcut.
_SHORT = 48
# How far (characters) to look for a clean boundary near a slice edge before encoding the whole slice.
_REACH = 256
# Encodings whose pre-tokenizer never joins a non-space character to the space after it (their
# regexes were read for this); for any other, every count encodes the slice itself.
_SPACE_SPLIT_ENCODINGS = frozenset(
    {"cl100k_base", "o200k_base", "o200k_harmony", "p50k_base", "p50k_edit", "r50k_base", "gpt2"}
)


class TextTokens:
    """One encoding of a whole text, answering exact token counts of any slice of it.

    A *clean* boundary is a position `c` where `text[c] == " "` follows a non-whitespace
    character. tiktoken's pre-tokenizer never joins a non-whitespace character to a space
    after it (no pattern of cl100k_base, o200k_base or the GPT-2 family does), so a pre-token
    ends at `c` and a new one starts there, whatever follows. Cutting a slice at clean
    boundaries therefore changes nothing between them: a slice's count is its ragged head and
    tail up to the nearest clean boundaries (encoded, a word or so each) plus the whole-text
    tokens between those boundaries. Heads and tails are remembered per position, so counting
    many slices that share edges (as merging does) encodes each edge once.
    """

    def __init__(self, text: str, encoding: str) -> None:
        tokenizer = get_tokenizer(encoding)
        ids = _encode_to_array(tokenizer.encoding, text)
        byte_offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(np.take(_token_lengths(encoding), ids), out=byte_offsets[1:])
        self.text = text
        self.encode = tokenizer.encoding.encode_ordinary
        self.n_tokens = len(ids)
        # Character offset of every token boundary (n_tokens + 1 values, nondecreasing).
        self.bounds: np.ndarray = char_offsets(text, byte_offsets)
        self.exact_edges = encoding in _SPACE_SPLIT_ENCODINGS
        self._heads: dict[int, tuple[int, int, int]] = {}
        self._tails: dict[int, tuple[int, int, int]] = {}

    def estimate(self, start: int, end: int) -> int:
        """Whole-text tokens between two character offsets: the count of the slice, give or take its edges."""
        return int(self.bounds.searchsorted(end) - self.bounds.searchsorted(start))

    def is_clean(self, position: int) -> bool:
        """Whether slices may start or end at `position` without changing how the text around it encodes."""
        text = self.text
        if position <= 0 or position >= len(text):
            return True
        return text[position] == " " and not text[position - 1].isspace()

    def _head(self, start: int) -> tuple[int, int, int]:
        """(first clean boundary at or after `start`, its token index, tokens of the text before it); -1 if none near."""
        head = self._heads.get(start)
        if head is None:
            text = self.text
            if self.is_clean(start):
                head = (start, int(self.bounds.searchsorted(start)), 0)
            else:
                c = text.find(" ", start + 1, start + _REACH)
                while c >= 0 and text[c - 1].isspace():
                    c = text.find(" ", c + 1, start + _REACH)
                head = (c, int(self.bounds.searchsorted(c)), len(self.encode(text[start:c]))) if c > 0 else (-1, 0, 0)
            self._heads[start] = head
        return head

    def _tail(self, end: int) -> tuple[int, int, int]:
        """(last clean boundary at or before `end`, its token index, tokens of the text after it); -1 if none near."""
        tail = self._tails.get(end)
        if tail is None:
            text = self.text
            if self.is_clean(end):
                tail = (end, int(self.bounds.searchsorted(end)), 0)
            else:
                lo = max(1, end - _REACH)
                c = text.rfind(" ", lo, end)
                while c >= 0 and text[c - 1].isspace():
                    c = text.rfind(" ", lo, c)
                tail = (c, int(self.bounds.searchsorted(c)), len(self.encode(text[c:end]))) if c > 0 else (-1, 0, 0)
            self._tails[end] = tail
        return tail

    def count(self, start: int, end: int) -> int:
        """Exact number of tokens in `text[start:end]` (what `tokenizer.count` would say)."""
        if end - start <= _SHORT or not self.exact_edges:
            return len(self.encode(self.text[start:end])) if end > start else 0
        head, first, head_tokens = self._head(start)
        tail, last, tail_tokens = self._tail(end)
        if head < 0 or tail < head:  # no clean boundary inside: encode the slice
            return len(self.encode(self.text[start:end]))
        return head_tokens + (last - first) + tail_tokens

    def window_count(self, at: Any, a: int, b: int, start: int, end: int) -> int:
        """Exact count of text[start:end], `start` in token `a`, `end` at boundary `b` (or a range's end).

        The arithmetic of `count`, specialised for token windows: the token indices of the clean
        boundaries come from walking the window's own boundaries (`at`), and nothing is kept.
        """
        text, encode = self.text, self.encode
        if not self.exact_edges or end - start <= _SHORT:
            return len(encode(text[start:end]))
        if start == 0 or (text[start] == " " and not text[start - 1].isspace() and at[a] == start):
            head, k1, n = start, a, 0
        else:
            head = text.find(" ", start + 1, min(end, start + _REACH))
            while head > 0 and text[head - 1].isspace():
                head = text.find(" ", head + 1, min(end, start + _REACH))
            if head < 0:
                return len(encode(text[start:end]))
            k1 = a
            while at[k1] < head:
                k1 += 1
            n = len(encode(text[start:head]))
        if end == len(text) or (text[end] == " " and not text[end - 1].isspace() and at[b] == end):
            return n + (b - k1)
        tail = text.rfind(" ", max(head, end - _REACH), end)
        while tail > head and text[tail - 1].isspace():
            tail = text.rfind(" ", max(head, end - _REACH), tail)
        if tail < head:
            return len(encode(text[start:end]))
        k2 = min(b, len(at) - 1)
        while at[k2] > tail:
            k2 -= 1
        return n + (k2 - k1) + len(encode(text[tail:end]))


def char_offsets(text: str, byte_offsets: np.ndarray) -> np.ndarray:
    """Character offsets of sorted UTF-8 byte offsets into `text`; one inside a character maps to its start."""
    if text.isascii():
        return byte_offsets
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    continuation = np.flatnonzero((raw & 0xC0) == 0x80)
    # The character holding byte b is b minus the continuation bytes up to and including b;
    # counted by where each continuation byte falls among the offsets (few of them, in most text).
    where = np.searchsorted(byte_offsets, continuation)
    return byte_offsets - np.cumsum(np.bincount(where, minlength=len(byte_offsets)))


def _encode_to_array(encoding: Any, text: str) -> np.ndarray:
    """`encode_ordinary(text)` as a numpy array, without building a Python list when tiktoken can."""
    if hasattr(encoding, "encode_to_numpy"):  # tiktoken >= 0.7; with no special tokens allowed it is encode_ordinary
        return encoding.encode_to_numpy(text, allowed_special=set(), disallowed_special=())
    return np.frombuffer(array("I", encoding.encode_ordinary(text)), dtype=np.uint32)


@lru_cache(maxsize=None)
def _token_lengths(encoding: str) -> np.ndarray:
    return get_tokenizer(encoding).token_bytes.astype(np.int32)


@lru_cache(maxsize=32)
def text_tokens(text: str, encoding: str) -> TextTokens:
    """The (cached) encoding of a whole text; sweeps chunk the same document many times."""
    return TextTokens(text, encoding)


def token_windows(
    tokens: TextTokens, chunk_size: int, overlap: int = 0, start: int = 0, end: int | None = None
) -> list[Span]:
    """Windows of at most `chunk_size` tokens over `tokens.text[start:end]`, `overlap` tokens shared.

    Each window starts `chunk_size - overlap` whole-text tokens after the previous one; a window
    whose text counts more than `chunk_size` tokens on its own is shortened a token at a time.
    Whitespace-only windows are left out (they hold nothing to retrieve).
    """
    text, bounds = tokens.text, tokens.bounds
    at = memoryview(bounds)  # plain ints, fast to index one at a time
    end = len(text) if end is None else end
    last = int(bounds.searchsorted(end))  # first boundary at or after `end`
    a = _token_at(bounds, start)
    s = start
    out: list[Span] = []
    while s < end:
        b = a + chunk_size
        if b >= last:
            b, e = last, end
        else:
            e = at[b]
        n = tokens.window_count(at, a, b, s, e)
        while n > chunk_size or e <= s:
            b -= 1
            e = at[b] if b > a else s
            if e <= s:
                e = s + 1  # no whole token fits: one character
                n = tokens.window_count(at, a, b, s, e)
                if n > chunk_size:
                    raise BudgetTooSmall(n, text[s], s)
                b = a = max(a, _token_at(bounds, e))
                break
            n = tokens.window_count(at, a, b, s, e)
        if not text[s:e].isspace():
            out.append(Span(s, e, n))
        if e >= end:
            break
        # The next window starts `overlap` tokens before this one's end, and always after its start.
        nxt = max(b - overlap, a + 1)
        while nxt < b and at[nxt] <= s:
            nxt += 1
        if nxt < b and at[nxt] < e:
            a, s = nxt, at[nxt]
        else:
            a, s = b, e
    return out


def _token_at(bounds: np.ndarray, position: int) -> int:
    """Index of the token holding the first byte of the character at `position`."""
    i = int(bounds.searchsorted(position))
    return i if i < len(bounds) and bounds[i] == position else i - 1


class FixedChunker(Strategy):
    """Windows of `chunk_size` tokens of one encoding of the text; `overlap` tokens shared."""

    name = "fixed"
    description = "windows of chunk_size tokens, overlap tokens shared between neighbours"
    schema = (
        Param("chunk_size", int, 512, "tokens per chunk (most; a window is shortened if its text re-encodes longer)",
              minimum=1, unit="tokens"),
        Param("overlap", int, 0, "tokens shared by neighbouring chunks", minimum=0, unit="tokens",
              bound="less than chunk_size"),
        Param("encoding", str, DEFAULT_ENCODING, "tiktoken encoding that counts tokens"),
    )

    def check(self, params: dict[str, Any]) -> None:
        check_overlap(self, params)
        check_encoding(self, params["encoding"])

    def split(self, text: str) -> list[Span]:
        if not text:
            return []
        return token_windows(text_tokens(text, self.encoding), self.chunk_size, self.overlap)


def check_encoding(strategy: Strategy, encoding: str) -> None:
    """Load the encoding at construction, so a bad name fails before any text is chunked."""
    try:
        get_tokenizer(encoding)
    except ParameterError as err:
        raise ParameterError(f"{strategy.name}: {err}") from None
