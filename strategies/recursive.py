"""The `recursive` strategy: split at the strongest separator present, merge pieces up to `chunk_size` tokens.

The default hierarchy, strongest first: markdown headings (the cut falls before the heading
line), blank lines, line breaks, sentence ends (". ", "! ", "? ", 。！？), clause punctuation
("; ", ", ", ": ", ，；：、), whitespace, and last the `fixed` strategy's token windows. A text
is cut at the strongest separator it contains; adjacent pieces are merged greedily while the
merged text fits `chunk_size` tokens; a piece too big on its own is split again with the next
separators and yields chunks of its own. Chunks do not start or end with whitespace (the
whitespace at a cut belongs to no chunk; the one exception is a token window whose trimmed text
would count more tokens than the budget), so whitespace-only text gives no chunks.

Two rules keep markdown readable: a chunk does not end with a heading while text follows it
(the heading goes with the text under it), and a fenced code block (``` or ~~~) is never cut
unless it alone exceeds the budget, in which case it is split like any other text (from the
strongest separator it contains, so a `# comment` line in it counts as a heading).

Offsets are carried through every split (each piece is a character range of the source, never
searched for), and every chunk's token count is the exact count of its own text, from the
document's single cached encoding (`strategies.fixed.TextTokens`), so the budget is a hard bound.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Any

import numpy as np

from strategies.base import Param, ParameterError, Span, Strategy, check_overlap
from strategies.fixed import TextTokens, check_encoding, text_tokens, token_windows
from strategies.tokens import DEFAULT_ENCODING

# Each level is a regex whose match (or its last matched group) is the gap between two pieces:
# whitespace, or empty where the cut falls right after punctuation that needs no space (CJK).
# A gap never holds anything but whitespace, so cutting there never drops text.
DEFAULT_LEVELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("headings", re.compile(r"\n(?=[ \t]{0,3}#{1,6}(?:[ \t]|\r?$))", re.MULTILINE)),
    ("blank lines", re.compile(r"\n(?:[^\S\n]*\n)+")),
    ("line breaks", re.compile(r"\n")),  # a "\r" before it is trimmed away as whitespace
    # (Each pattern starts with a character class, which Python's re scans for quickly.)
    ("sentence ends", re.compile(r"[.!?。！？](?:(?<=[.!?])[\"'”’)\]]?(\s+)|(?<=[。！？])(\s*))")),
    ("clause punctuation", re.compile(r"[;,:；，：、](?:(?<=[;,:])(\s+)|(?<=[；，：、])(\s*))")),
    ("whitespace", re.compile(r"\s+")),
)
_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
_FENCE_LINE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})(.*)$", re.MULTILINE)
# An estimate from the whole-text encoding is off by a few tokens at most at a slice's two
# ragged ends; inside this margin of the budget the exact count decides.
_MARGIN = 8
# Merging tries one more piece only while the estimate is this close to the budget (a nicety:
# the exact counts decide what fits either way).
_STRETCH = 2


def separator_level(separator: str) -> re.Pattern[str]:
    """A level that cuts at a literal separator, keeping its punctuation with the text it belongs to.

    The cut falls where the separator turns from whitespace to text or from text to whitespace:
    `". "` keeps the full stop with its sentence, `"\\n#"` keeps the `#` with the heading below,
    and a separator of whitespace only (`"\\n\\n"`) disappears into the gap.
    """
    core = separator.strip()
    if not core:
        return re.compile(f"({re.escape(separator)})")
    lead = separator[: len(separator) - len(separator.lstrip())]
    if lead:
        return re.compile(f"({re.escape(lead)})(?={re.escape(separator[len(lead):])})")
    trail = separator[len(separator.rstrip()) :]
    return re.compile(f"{re.escape(separator.rstrip())}({re.escape(trail)})")


def fenced_blocks(text: str) -> list[tuple[int, int]]:
    """Character ranges of closed fenced code blocks, from the opening fence to the end of the closing one."""
    if "```" not in text and "~~~" not in text:
        return []
    blocks, opening = [], None
    for m in _FENCE_LINE.finditer(text):
        fence, rest = m.group(1), m.group(2)
        if opening is None:
            if not (fence[0] == "`" and "`" in rest):  # a backtick fence's info string has no backticks
                opening = (m.start(), fence)
        elif fence[0] == opening[1][0] and len(fence) >= len(opening[1]) and not rest.strip():
            blocks.append((opening[0], m.end()))
            opening = None
    return blocks


class RecursiveChunker(Strategy):
    """Pieces split at the strongest separator present and merged greedily up to `chunk_size` tokens."""

    name = "recursive"
    description = "pieces cut at headings, paragraphs, lines, sentences, clauses or words, merged up to chunk_size tokens"
    schema = (
        Param("chunk_size", int, 512, "most tokens in a chunk", minimum=1, unit="tokens"),
        Param(
            "overlap",
            int,
            0,
            "the next chunk starts with whole trailing pieces of the previous one totalling at most this many tokens",
            minimum=0,
            unit="tokens",
            bound="less than chunk_size",
        ),
        Param("encoding", str, DEFAULT_ENCODING, "tiktoken encoding that counts tokens"),
        Param(
            "separators",
            tuple,
            None,
            "literal separators, strongest first (unset: headings, blank lines, line breaks, sentence ends, "
            "clause punctuation, whitespace); token windows come last either way",
            nullable=True,
        ),
    )

    def check(self, params: dict[str, Any]) -> None:
        check_overlap(self, params)
        check_encoding(self, params["encoding"])
        separators = params["separators"]
        if separators is None:
            self._levels = tuple(pattern for _, pattern in DEFAULT_LEVELS)
        else:
            if "" in separators:  # langchain's "split into characters": here token windows, always last
                raise ParameterError(
                    f'{self.name}: separators must not contain "" (an empty separator cuts nothing; '
                    "token windows already come last, after every separator), got " + repr(list(separators))
                )
            self._levels = tuple(separator_level(s) for s in separators)

    def split(self, text: str) -> list[Span]:
        if not text or text.isspace():
            return []
        return [Span(*piece) for piece in _Splitter(self, text).run()]


class _Splitter:
    """One `split` call: the text, its encoding, its fenced blocks, and the recursion over levels."""

    def __init__(self, chunker: RecursiveChunker, text: str) -> None:
        self.text = text
        self.tokens: TextTokens = text_tokens(text, chunker.encoding)
        self.budget = chunker.chunk_size
        self.overlap = chunker.overlap
        self.levels = chunker._levels
        self.fences = fenced_blocks(text)
        self.fence_starts = [fs for fs, _ in self.fences]

    def run(self) -> list[tuple[int, int, int]]:
        start, end = self.trim(0, len(self.text))
        return self.pack(start, end, 0, protect=True)

    def trim(self, start: int, end: int) -> tuple[int, int]:
        text = self.text
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end

    def fits(self, start: int, end: int) -> int:
        """The exact token count of text[start:end] if it is within budget, else -1."""
        if self.tokens.estimate(start, end) > self.budget + _MARGIN:
            return -1
        n = self.tokens.count(start, end)
        return n if n <= self.budget else -1

    def pack(self, start: int, end: int, level: int, protect: bool) -> list[tuple[int, int, int]]:
        """text[start:end] as one chunk if it fits, else split from `level` on."""
        n = self.fits(start, end)
        return [(start, end, n)] if n >= 0 else self.split(start, end, level, protect)

    def split(self, start: int, end: int, level: int, protect: bool) -> list[tuple[int, int, int]]:
        """Chunks of text[start:end] (trimmed, over budget), cutting at `levels[level]` or weaker."""
        for lv in range(level, len(self.levels)):
            pieces = self.pieces(start, end, self.levels[lv], protect)
            if len(pieces) > 1:
                return self.merge(pieces, lv + 1, protect)
        if protect and any(fs < end and fe > start for fs, fe in self.fences):
            return self.split(start, end, 0, protect=False)  # a code block that alone exceeds the budget
        # (Sorted: a window kept untrimmed, when trimming would cost tokens, can start before the previous.)
        return sorted(self.trimmed(w) for w in token_windows(self.tokens, self.budget, self.overlap, start, end))

    def trimmed(self, window: Span) -> tuple[int, int, int]:
        """A token window without the whitespace at its ends (kept if trimming would cost tokens over budget)."""
        start, end = self.trim(window.start, window.end)
        if (start, end) != (window.start, window.end):
            n = self.tokens.count(start, end)
            if n <= self.budget:
                return start, end, n
        return window.start, window.end, window.n_tokens

    def pieces(self, start: int, end: int, level: re.Pattern[str], protect: bool) -> list[tuple[int, int]]:
        """text[start:end] cut at every gap the level finds (outside code blocks), trimmed, none empty."""
        text, out, pos = self.text, [], start
        fenced = protect and bool(self.fences)
        for m in level.finditer(text, start, end):
            g0, g1 = m.span(m.lastindex or 0)
            if fenced and self.in_fence(g0, g1):
                continue
            if g0 > pos:  # (trim inlined: this loop runs once per piece of every level)
                s, e = pos, g0
                while s < e and text[s].isspace():
                    s += 1
                while e > s and text[e - 1].isspace():
                    e -= 1
                if e > s:
                    out.append((s, e))
            pos = max(pos, g1)
        s, e = self.trim(pos, end)
        if e > s:
            out.append((s, e))
        return out

    def heading_tail(self, starts: list[int], ends: list[int], i: int, j: int) -> int:
        """The first of pieces i..j that hold the markdown heading lines ending that run (j + 1 if none)."""
        text, h = self.text, j + 1
        reach = max(0, starts[i] - 4)  # a heading line starts in the run (after at most 3 spaces of indent)
        while h > i:
            newline = text.rfind("\n", reach, ends[h - 1])
            if newline < 0 and reach > 0:
                break
            line = newline + 1
            indent = line
            while indent < line + 3 and text[indent] in " \t":
                indent += 1
            if not _HEADING.match(text, indent, ends[h - 1]) or (self.fences and self.in_fence(line, line + 1)):
                break
            k = bisect_left(starts, line, i, h)  # the first piece on the heading's line
            if k > i and ends[k - 1] > line:
                break
            h = k
        return h

    def in_fence(self, start: int, end: int) -> bool:
        """Whether cutting out text[start:end] would cut into a fenced code block."""
        k = bisect_left(self.fence_starts, end) - 1  # the last block starting before `end`
        return k >= 0 and start < self.fences[k][1]

    def merge(self, pieces: list[tuple[int, int]], level: int, protect: bool) -> list[tuple[int, int, int]]:
        """Greedy merge of adjacent pieces up to the budget; a piece over it is split at `level`.

        A chunk does not end with a heading while text follows: the heading starts the next
        chunk instead, or, when it and the next piece do not fit together, both are split
        together at the next level so the heading stays with the first words under it.
        """
        budget, overlap = self.budget, self.overlap
        bounds = self.tokens.bounds
        starts = [p[0] for p in pieces]
        ends = [p[1] for p in pieces]
        # Whole-text token index at each piece's start and end: estimates of any run's count.
        first = bounds.searchsorted(np.array(starts)).tolist()
        last = bounds.searchsorted(np.array(ends)).tolist()
        out: list[tuple[int, int, int]] = []
        n = len(pieces)
        i = 0
        fresh = 0  # pieces before `fresh` are in earlier chunks; each chunk must hold a new one
        while i < n:
            if i == fresh and last[i] - first[i] > budget + _MARGIN:
                out.extend(self.split(starts[i], ends[i], level, protect))
                i = fresh = i + 1
                continue
            j, tokens = self.greedy(starts, ends, first, last, i)
            if tokens > budget or j < fresh:
                if i < fresh:  # the overlap left no room for new text: repeat less of it
                    i += 1
                    continue
                out.extend(self.split(starts[i], ends[i], level, protect))
                i = fresh = i + 1
                continue
            h = self.heading_tail(starts, ends, i, j) if j + 1 < n else j + 1
            if h <= j:
                if h > i:  # the text before the headings is a chunk; the headings start the next
                    if h > fresh:
                        out.extend(self.pack(starts[i], ends[h - 1], level, protect))
                    i = fresh = h
                elif i < fresh:
                    i = fresh
                else:  # headings alone: they and the next piece do not fit together
                    out.extend(self.pack(starts[i], ends[j + 1], level, protect))
                    i = fresh = j + 2
                continue
            out.append((starts[i], ends[j], tokens))
            fresh = j + 1
            i = self.overlap_start(starts, ends, first, last, i, j) if overlap else j + 1
        return out

    def greedy(self, starts: list[int], ends: list[int], first: list[int], last: list[int], i: int) -> tuple[int, int]:
        """The longest run of pieces i..j that fits, by exact count, and its count (over budget if none does)."""
        budget, count, n = self.budget, self.tokens.count, len(starts)
        j = max(i, bisect_right(last, first[i] + budget, i, n) - 1)  # as far as the estimates allow
        tokens = count(starts[i], ends[j])
        while tokens > budget and j > i:
            j -= 1
            tokens = count(starts[i], ends[j])
        while tokens <= budget and j + 1 < n and last[j + 1] - first[i] <= budget + _STRETCH:
            more = count(starts[i], ends[j + 1])
            if more > budget:
                break
            j, tokens = j + 1, more
        return j, tokens

    def overlap_start(
        self, starts: list[int], ends: list[int], first: list[int], last: list[int], i: int, j: int
    ) -> int:
        """The first of the trailing pieces of chunk i..j that together hold at most `overlap` tokens."""
        overlap, count = self.overlap, self.tokens.count
        k = max(i + 1, bisect_left(first, last[j] - overlap, i + 1, j + 1))
        while k <= j and count(starts[k], ends[j]) > overlap:
            k += 1
        while k - 1 > i and last[j] - first[k - 1] <= overlap + _STRETCH and count(starts[k - 1], ends[j]) <= overlap:
            k -= 1
        return k
