"""Section metadata: the heading path above each chunk (Markdown, reStructuredText, HTML) and its pages (PDF).

`outline(text, fmt)` lists a document's headings as (offset, level, title), read from the text:
Markdown ATX (`## Title`) and setext (a line underlined with === or ---) headings outside fenced
code blocks; reStructuredText titles (a line underlined, and optionally overlined, with one
repeated punctuation character, levels in order of first appearance of each style, as docutils
does). HTML headings are known from the markup (h1-h6) and located in the extracted text in order,
each as a whole line at or after the previous one (see `html_outline`). `with_sections(chunks,
document)` adds `metadata["headings"]` (the titles of the open sections at the chunk's start,
outermost first) and, for PDF, `metadata["page"]` ([first, last], from 1).
"""

from __future__ import annotations

import dataclasses
import re
from bisect import bisect_right
from types import MappingProxyType
from typing import Any, Sequence

from strategies import ids
from strategies.base import Chunk, ParameterError, Span, Strategy
from strategies.recursive import fenced_blocks
from strategies.tokens import DEFAULT_ENCODING, get_tokenizer

Heading = tuple[int, int, str]  # (character offset of the heading line, level from 1, title)

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_SETEXT = re.compile(r"^(?P<title> {0,3}\S[^\n]*)\n {0,3}(?P<rule>=+|-+)[ \t]*$", re.MULTILINE)
_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1{2,}")  # reStructuredText: one punctuation character, 3+ times


def outline(text: str, fmt: str | None) -> tuple[Heading, ...]:
    """The headings of a text in a format that has them ("markdown", "rst"); () for others."""
    if fmt == "markdown":
        return markdown_outline(text)
    if fmt == "rst":
        return rst_outline(text)
    return ()


def markdown_outline(text: str) -> tuple[Heading, ...]:
    """ATX and setext headings outside fenced code blocks."""
    fences = fenced_blocks(text)

    def in_fence(offset: int) -> bool:
        return any(a <= offset < b for a, b in fences)

    found = [(m.start(), len(m.group(1)), (m.group(2) or "").strip()) for m in _ATX.finditer(text) if not in_fence(m.start())]
    for m in _SETEXT.finditer(text):
        title = m.group("title").strip()
        line_start = m.start()
        # Only a one-line paragraph is taken as a setext title (the line above is blank), and not a list item,
        # quote, table row or ATX heading: that keeps "---" under a list from reading as a heading.
        previous_blank = line_start == 0 or not text[text.rfind("\n", 0, line_start - 1) + 1 : line_start - 1].strip()
        if in_fence(line_start) or title.startswith(("#", "-", "*", "+", ">", "|")) or not previous_blank:
            continue
        found.append((line_start, 1 if m.group("rule")[0] == "=" else 2, title))
    return tuple(sorted(h for h in found if h[2]))


def rst_outline(text: str) -> tuple[Heading, ...]:
    """Section titles: a text line with an underline at least as long (an overline, when there is one, matches it)."""
    styles: list[tuple[str, bool]] = []
    found = []
    lines = text.split("\n")
    offsets = [0]
    for line in lines[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    i = 0
    while i < len(lines) - 1:
        over = _adornment(lines[i])
        if over and i + 2 < len(lines) and _adornment(lines[i + 2]) == over and lines[i + 1].strip() \
                and len(lines[i + 2].rstrip()) >= len(lines[i + 1].rstrip()):
            style, start, title, i_next = (over, True), offsets[i], lines[i + 1].strip(), i + 3
        else:
            under = _adornment(lines[i + 1])
            title = lines[i].strip()
            if not (under and title and not _adornment(lines[i]) and len(lines[i + 1].rstrip()) >= len(lines[i].rstrip())
                    and (i == 0 or not lines[i - 1].strip())):
                i += 1
                continue
            style, start, i_next = (under, False), offsets[i], i + 2
        if style not in styles:
            styles.append(style)
        found.append((start, styles.index(style) + 1, title))
        i = i_next
    return tuple(found)


def _adornment(line: str) -> str | None:
    """The character of an RST adornment line ("=====" -> "="), or None."""
    m = _ADORNMENT.fullmatch(line.rstrip())
    return m.group(1) if m else None


def html_outline(text: str, headings: Sequence[tuple[int, str]]) -> tuple[Heading, ...]:
    """Place (level, title) headings from the markup in the extracted `text`: each at the first line after the
    previous one that reads exactly its title. A heading not found (its text was dropped or merged) is skipped."""
    found, cursor = [], 0
    for level, title in headings:
        if not title:
            continue
        m = re.compile(r"^[ \t]*" + re.escape(title) + r"[ \t]*$", re.MULTILINE).search(text, cursor)
        if m:
            found.append((m.start(), level, title))
            cursor = m.end()
    return tuple(found)


def html_headings(markup: str) -> list[tuple[int, str]]:
    """(level, title) of the visible h1-h6 elements of an HTML page, in document order, whitespace collapsed."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(["script", "style", "template", "head"]):
        tag.decompose()
    return [(int(h.name[1]), " ".join(h.get_text().split())) for h in soup.find_all(re.compile(r"^h[1-6]$"))
            if not h.find_parent(attrs={"hidden": True}) and not h.has_attr("hidden")]


def heading_path(headings: Sequence[Heading], offset: int) -> list[str]:
    """Titles of the sections open at `offset`, outermost first."""
    stack: list[tuple[int, str]] = []
    for start, level, title in headings:
        if start > offset:
            break
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
    return [title for _, title in stack]


def with_sections(chunks: Sequence[Chunk], document: Any) -> list[Chunk]:
    """The chunks with `headings` (where the document has an outline) and `page` (PDF) in their metadata."""
    headings = document.metadata.get("outline", ())
    page_starts = document.metadata.get("page_starts")
    if not headings and not page_starts:
        return list(chunks)
    out = []
    for chunk in chunks:
        extra: dict[str, Any] = {}
        if headings:
            extra["headings"] = heading_path(headings, chunk.start)
        if page_starts:
            last = max(chunk.start, chunk.end - 1)
            extra["page"] = [bisect_right(page_starts, chunk.start), bisect_right(page_starts, last)]
        out.append(dataclasses.replace(chunk, metadata=MappingProxyType({**chunk.metadata, **extra})))
    return out


def chunk_document(chunker: Strategy, document: Any) -> list[Chunk]:
    """One document's chunks with their section metadata: what `chunkopt chunk`, `chunkopt index` and the sweep use.

    With the strategy's `context_header` on and a document that has headings, each section (from
    one heading to the next) is chunked on its own with the budget less the tokens of its header
    ("Title > Section > Subsection" and a blank line), so header and chunk together fit the budget;
    chunks then never cross a heading. The header goes to `metadata["context"]` and into
    `indexed_text(chunk)`, never into `chunk.text`. A wrapped foreign splitter's budget is its own,
    so there the header is added without re-cutting.
    """
    headings = document.metadata.get("outline", ())
    if not (chunker._params.get("context_header") and headings):  # noqa: SLF001 (the full, validated params)
        return with_sections(chunker.chunk(document.text, doc_id=document.id), document)
    if not getattr(chunker, "enforces_budget", True):
        chunks = chunker.chunk(document.text, doc_id=document.id)
    else:
        chunks = _chunk_sections(chunker, document, headings)
    out = []
    for chunk in with_sections(chunks, document):
        header = " > ".join(chunk.metadata.get("headings", ()))
        out.append(dataclasses.replace(chunk, metadata=MappingProxyType({**chunk.metadata, "context": header}))
                   if header else chunk)
    return out


def indexed_text(chunk: Chunk) -> str:
    """The text a retriever indexes for a chunk: its context header (context_header on), a blank line, its text."""
    context = chunk.metadata.get("context")
    return f"{context}\n\n{chunk.text}" if context else chunk.text


def _chunk_sections(chunker: Strategy, document: Any, headings: Sequence[Heading]) -> list[Chunk]:
    """Each section chunked with the budget left after its header; offsets, ids and positions as for the whole text."""
    text, params = document.text, dict(chunker._params)  # noqa: SLF001
    tokenizer = get_tokenizer(params.get("encoding") or DEFAULT_ENCODING)
    starts = sorted({0, *(start for start, _, _ in headings)})
    spans: list[Span] = []
    by_budget: dict[int, Strategy] = {}
    for a, b in zip(starts, [*starts[1:], len(text)]):
        header = " > ".join(heading_path(headings, a))
        cost = tokenizer.count(header + "\n\n") if header else 0
        budget = chunker.budget - cost
        if budget < 1:
            raise ParameterError(
                f"{chunker.name}: the heading path {header!r} of {document.id!r} is {cost} tokens, which leaves no room "
                f"in the {chunker.budget}-token {chunker.size_param}; raise it or turn context_header off")
        if budget not in by_budget:
            by_budget[budget] = _with_budget(chunker, params, budget)
        spans += [Span(c.start + a, c.end + a, c.n_tokens) for c in by_budget[budget].chunk(text[a:b])]
    texts = [text[s.start:s.end] for s in spans]
    config, digest = chunker.fingerprint, ids.doc_hash(text)
    return [Chunk(piece, s.start, s.end, s.n_tokens, index=i, doc_id=document.id, id=chunk_id, doc_hash=digest, config=config)
            for i, (s, piece, chunk_id) in enumerate(zip(spans, texts, ids.chunk_ids(document.id, config, texts)))]


def _with_budget(chunker: Strategy, params: dict[str, Any], budget: int) -> Strategy:
    """The same strategy with a smaller size; token-counted options that must stay below the size are capped."""
    changed = {**params, chunker.size_param: budget, "context_header": False}
    for p in type(chunker).schema:
        if p.unit == "tokens" and p.name != chunker.size_param and isinstance(changed.get(p.name), int):
            changed[p.name] = min(changed[p.name], budget - 1 if p.name == "overlap" else budget)
    return type(chunker)(**changed)
