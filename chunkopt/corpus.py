"""Reading a folder of documents into a Corpus of Documents with stable ids.

`load_corpus(path)` reads a folder recursively (or one file). A Document's text is exactly
what chunkers cut and what query offsets refer to: for plain text formats it is the file
decoded as is (CRLF kept, a UTF-8 BOM dropped); for HTML it is the visible text extracted
with BeautifulSoup; for PDF the pages' text joined by blank lines. Whatever is not read is
listed in `Corpus.skipped` with the reason, and `Corpus.summary()` says it in one line.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

from chunkopt.sections import html_headings, html_outline, outline


@dataclass(frozen=True)
class Document:
    """One source document. `id` is its path relative to the corpus folder, in POSIX form."""

    id: str
    text: str
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class Corpus:
    """Documents in a stable order (sorted by id), addressable by id."""

    def __init__(self, documents: list[Document], skipped: list[tuple[str, str]] | None = None) -> None:
        self.documents = sorted(documents, key=lambda d: d.id)
        self.by_id = {d.id: d for d in self.documents}
        if len(self.by_id) != len(self.documents):
            raise ValueError("two documents share an id")
        self.skipped = list(skipped or [])  # (relative path, reason) for files not read
        self._fingerprint: dict[str, str] | None = None

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    def __getitem__(self, doc_id: str) -> Document:
        return self.by_id[doc_id]

    def fingerprint(self) -> dict[str, str]:
        """SHA-256 of each document's text, by id: what a tuned config records to detect drift.

        Computed once per corpus (documents are immutable): a sweep needs it for its journal, its
        resume message and the tuned config, and hashing 100 MB three times is wasted seconds.
        """
        if self._fingerprint is None:
            self._fingerprint = {d.id: hashlib.sha256(d.text.encode("utf-8")).hexdigest() for d in self.documents}
        return dict(self._fingerprint)

    def summary(self) -> str:
        """One line: "read 14 documents (84.2 KB); skipped 3: 2 unsupported (.png, .jsonl), 1 binary"."""
        size = sum(len(d.text.encode("utf-8")) for d in self.documents)
        noun = "document" if len(self.documents) == 1 else "documents"
        line = f"read {len(self.documents)} {noun} ({_human_size(size)})"
        return line + ("; " + describe_skipped(self.skipped) if self.skipped else "")


class CorpusError(ValueError):
    """The corpus path is missing, or holds no document chunkopt can read."""


# Extension -> format name recorded in Document.metadata["format"].
FORMATS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "rst",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
READABLE = ".txt, .md, .markdown, .rst, .html, .htm, and .pdf (with the chunkopt[pdf] extra)"
BINARY_SNIFF_BYTES = 8192


def load_corpus(path: str | os.PathLike[str], *, exclude: tuple[str | os.PathLike[str], ...] = ()) -> Corpus:
    """Read a folder recursively (or a single file) into a Corpus.

    Hidden names, binary and unsupported files, and symlinks that leave the folder or loop
    are skipped and listed in `Corpus.skipped`. `exclude` names files to leave out (the query
    file, when it sits inside the folder). Raises CorpusError when nothing readable is found.
    """
    root = Path(path)
    if not root.exists():
        raise CorpusError(f"corpus path {str(path)!r} does not exist")
    excluded = {Path(p).resolve() for p in exclude}
    if root.is_file():
        files, skipped = [(root.name, root)], []
    else:
        files, skipped = _walk(root)
    documents = []
    pdf_problems: dict[str, list[str]] = {}
    for rel, file in files:
        if file.resolve() in excluded:
            skipped.append((rel, "query file"))
            continue
        doc, reason = _read(rel, file, pdf_problems)
        if doc is None:
            skipped.append((rel, reason))
        else:
            documents.append(doc)
    _warn_pdf_problems(pdf_problems)
    skipped.sort()
    if not documents:
        detail = f" ({describe_skipped(skipped)})" if skipped else " (it is empty)"
        raise CorpusError(f"no readable document in {str(path)!r}{detail}; chunkopt reads {READABLE}")
    return Corpus(documents, skipped)


FEW_SKIPPED = 3  # up to this many skipped files are named in the summary, not only counted


def describe_skipped(skipped: list[tuple[str, str]]) -> str:
    """"skipped 5: 3 unsupported (.jsonl, .png), 2 binary": counts by reason, extensions for unsupported.

    With FEW_SKIPPED files or fewer, each is named instead: "skipped 2: 1 binary (blob.txt), 1 empty (e.md)".
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for name, reason in skipped:
        groups.setdefault(reason.split(" (")[0], []).append((name, reason))
    prefix = "unsupported ("
    parts = []
    for reason, members in sorted(groups.items(), key=lambda group: -len(group[1])):  # stable: ties keep order
        if len(skipped) <= FEW_SKIPPED:
            detail = f" ({', '.join(name for name, _ in members)})"
        elif reason == "unsupported":
            detail = f" ({', '.join(sorted({r[len(prefix) : -1] for _, r in members if r.startswith(prefix)}))})"
        else:
            detail = ""
        parts.append(f"{len(members)} {reason}{detail}")
    return f"skipped {len(skipped)}: " + ", ".join(parts)


def _human_size(n_bytes: int) -> str:
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    if n_bytes < 1024 * 1024:
        return f"{n_bytes / 1024:.1f} KB"
    return f"{n_bytes / (1024 * 1024):.1f} MB"


# ---- walking the folder -------------------------------------------------------------------


def _walk(root: Path) -> tuple[list[tuple[str, Path]], list[tuple[str, str]]]:
    """Files to read as (relative POSIX path, path), and what was skipped, in a stable order.

    Real folders are walked first; symlinks are resolved afterwards, so that a link to a
    folder or file already read is reported as a duplicate instead of shadowing the original,
    a link that leaves the folder is refused, and a link to an ancestor cannot loop.
    """
    real_root = root.resolve()
    seen_dirs = {real_root}
    seen_files: dict[Path, str] = {}
    files: list[tuple[str, Path]] = []
    skipped: list[tuple[str, str]] = []
    links: list[tuple[str, Path]] = []

    def walk_dir(directory: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            skipped.append((prefix.rstrip("/") or ".", f"unreadable ({type(exc).__name__}: {exc.strerror})"))
            return
        for entry in entries:
            rel = prefix + entry.name
            if entry.name.startswith("."):
                skipped.append((rel, "hidden"))
            elif entry.is_symlink():
                links.append((rel, Path(entry.path)))
            elif entry.is_dir():
                seen_dirs.add(Path(entry.path).resolve())
                walk_dir(Path(entry.path), rel + "/")
            elif entry.is_file():
                files.append((rel, Path(entry.path)))
                seen_files[Path(entry.path).resolve()] = rel
            else:
                skipped.append((rel, "not a regular file"))

    walk_dir(root, "")
    while links:  # following a link may find more links
        rel, link = links.pop(0)
        target = _resolve(link)
        if target is None:
            skipped.append((rel, "symlink loop"))
        elif not target.exists():
            skipped.append((rel, "broken symlink"))
        elif not target.is_relative_to(real_root):
            skipped.append((rel, "symlink out of the folder"))
        elif target.is_dir() and link.parent.resolve().is_relative_to(target):
            skipped.append((rel, "symlink loop"))
        elif target in seen_dirs:
            skipped.append((rel, "duplicate (symlink to a folder already read)"))
        elif target in seen_files:
            skipped.append((rel, f"duplicate (symlink to {seen_files[target]})"))
        elif target.is_dir():
            seen_dirs.add(target)
            walk_dir(link, rel + "/")
        else:
            files.append((rel, link))
            seen_files[target] = rel
    files.sort()
    return files, skipped


def _resolve(link: Path) -> Path | None:
    """Where a symlink leads, or None when links lead to each other in a loop (never ending)."""
    try:
        return link.resolve()
    except RuntimeError:  # Python < 3.13: "Symlink loop from ..."
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise


# ---- reading one file ---------------------------------------------------------------------


def _read(rel: str, file: Path, pdf_problems: dict[str, list[str]]) -> tuple[Document | None, str]:
    """The Document read from `file`, or None and the reason it was skipped; pypdf's complaints go to `pdf_problems`."""
    suffix = file.suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        return None, f"unsupported ({suffix or 'no extension'})"
    headings: tuple = ()
    page_starts: list[int] | None = None
    try:
        if fmt == "pdf":
            text, page_starts, problems = _read_pdf(file)
            encoding = None
            if problems:
                pdf_problems[rel] = problems
        else:
            raw = file.read_bytes()
            decoded = _decode(raw, rel)
            if decoded is None:
                return None, _binary_reason(raw)
            text, encoding = decoded
            if fmt == "html":
                markup, text = text, html_to_text(text)
                headings = html_outline(text, html_headings(markup))
            else:
                headings = outline(text, fmt)
    except _PdfUnavailable:
        return None, "install chunkopt[pdf]"
    except Exception as exc:  # a damaged PDF, a permission error: skip the file, say why
        return None, f"unreadable ({type(exc).__name__}: {exc})"
    if not text.strip():
        return None, "empty"
    metadata: dict[str, Any] = {"path": str(file.absolute()), "format": fmt}
    if encoding:
        metadata["encoding"] = encoding
    if headings:
        metadata["outline"] = headings  # (offset, level, title) of each heading: chunkopt.sections
    if page_starts:
        metadata["page_starts"] = page_starts  # offset where each page's text starts
    return Document(rel, text, MappingProxyType(metadata)), ""


def read_text_file(path: Path, what: str, error: type[Exception]) -> str:
    """The text of a query, grid or config file, decoded by the rules documents follow.

    UTF-8 (a BOM dropped) and BOM-marked UTF-16 silently, anything else as cp1252 with a warning;
    a file that is not text (NUL bytes) raises `error` naming the file and the encoding expected.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise error(f"cannot read {what} {path}: {err.strerror}") from None
    decoded = _decode(raw, str(path))
    if decoded is None:
        reason = _binary_reason(raw)
        found = "binary (it holds NUL bytes)" if reason == "binary" else reason
        raise error(f"{what} {path} is {found}; chunkopt reads UTF-8 text (or UTF-16 with a byte-order mark)")
    return decoded[0]


def _decode(raw: bytes, rel: str) -> tuple[str, str] | None:
    """Text and encoding name of a file's bytes, or None when it looks binary.

    Line endings are left as they are, so offsets match the file. UTF-8 (a BOM dropped) and
    BOM-marked UTF-16 are read silently; anything else falls back to cp1252, then latin-1,
    with a warning, since the characters may then be wrong.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if b"\x00" in raw[:BINARY_SNIFF_BYTES]:
        return None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        warnings.warn(f"{rel} is not valid UTF-8; read it as {encoding}", stacklevel=4)
        return text, encoding
    raise AssertionError("latin-1 decodes any bytes")


UTF16_WITHOUT_BOM = "not UTF-8 text, possibly UTF-16 without a byte-order mark"


def _binary_reason(raw: bytes) -> str:
    """Why a file with NUL bytes is skipped: UTF-16 text without a BOM puts them at every other byte."""
    sample = raw[: min(len(raw), BINARY_SNIFF_BYTES) // 2 * 2]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)  # NULs at even and at odd positions
    pairs = len(sample) // 2
    if pairs < 8 or max(even, odd) < 0.3 * pairs or min(even, odd) > 0.02 * pairs:
        return "binary"
    try:  # ASCII-range text in UTF-16 has its NUL high bytes all on one side
        text = sample.decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return "binary"
    printable = sum(c.isprintable() or c.isspace() for c in text)
    return UTF16_WITHOUT_BOM if printable >= 0.95 * len(text) else "binary"


class _PdfUnavailable(Exception):
    pass


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _read_pdf(file: Path) -> tuple[str, list[int], list[str]]:
    """The pages' text joined by blank lines, the offset where each page starts, and what pypdf
    complained about while reading them.

    pypdf logs a line per problem (a missing fontTools, a damaged cross-reference table), a
    kilobyte each and dozens per file; they are collected here and summarised once per corpus.
    """
    try:
        from pypdf import PdfReader
    except ImportError as exc:
        raise _PdfUnavailable from exc
    logger, handler = logging.getLogger("pypdf"), _Collect()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reader = PdfReader(file)
            pages = [(page.extract_text() or "").strip() for page in reader.pages]
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
    starts, offset = [], 0
    for text in pages:
        starts.append(offset)
        offset += len(text) + 2
    return "\n\n".join(pages), starts, handler.messages + [str(w.message) for w in caught]


def _warn_pdf_problems(problems: dict[str, list[str]]) -> None:
    """One warning for everything pypdf said: how many messages, from which files, and the first."""
    if not problems:
        return
    count = sum(map(len, problems.values()))
    names = sorted(problems)
    shown = ", ".join(names[:FEW_SKIPPED]) + (f" and {len(names) - FEW_SKIPPED} more" if len(names) > FEW_SKIPPED else "")
    first = " ".join(next(m for m in problems.values() if m)[0].split())
    warnings.warn(
        f"pypdf reported {count} problem(s) reading {shown}; the text may be incomplete. First: {first[:160]}",
        stacklevel=3,
    )


# ---- HTML to text -------------------------------------------------------------------------

_DROP = ("script", "style", "noscript", "template", "head", "title", "svg", "iframe", "object", "canvas", "meta")
_PARAGRAPH = frozenset("p h1 h2 h3 h4 h5 h6 pre blockquote table ul ol dl figure hr address fieldset form".split())
_LINE = frozenset(
    "div li tr dt dd section article header footer nav aside main figcaption caption details summary br".split()
)
_SPACE = re.compile(r"\s+")


def html_to_text(markup: str) -> str:
    """The visible text of an HTML page, with blocks on their own lines and paragraphs separated by a blank line.

    The title is kept as the first paragraph; scripts, styles, the rest of the head, comments
    and elements marked `hidden` are dropped. Whitespace is collapsed except inside <pre>.
    """
    soup = BeautifulSoup(markup, "html.parser")
    title = soup.find("title")
    title_text = _SPACE.sub(" ", title.get_text()).strip() if title is not None else ""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(attrs={"hidden": True}):
        tag.decompose()
    out = _TextWriter()
    if title_text:
        out.text(title_text)
        out.newlines(2)
    stack: list[tuple[Any, bool]] = [(soup, False)]  # (node, leaving); iterative, so deep pages cannot overflow
    pre_depth = 0
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, Tag):
            breaks = 2 if node.name in _PARAGRAPH else 1 if node.name in _LINE else 0
            if leaving:
                pre_depth -= node.name == "pre"
                out.newlines(breaks)
                continue
            out.newlines(breaks)
            if node.name in ("td", "th"):
                out.text(" ")
            pre_depth += node.name == "pre"
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(
            node, (Comment, Declaration, Doctype, ProcessingInstruction)
        ):
            out.text(str(node), keep_whitespace=pre_depth > 0)
    return out.result()


class _TextWriter:
    """Accumulates text, turning requested line breaks into at most two newlines between blocks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending = 0  # newlines owed before the next text
        self.at_line_start = True

    def newlines(self, n: int) -> None:
        self.pending = max(self.pending, n)

    def text(self, s: str, keep_whitespace: bool = False) -> None:
        if not keep_whitespace:
            s = _SPACE.sub(" ", s)
            if self.at_line_start or self.pending:
                s = s.lstrip()
        if not s:
            return
        if self.pending and self.parts:
            if self.parts[-1].endswith(" "):
                self.parts[-1] = self.parts[-1].rstrip(" ")
            self.parts.append("\n" * self.pending)
        elif not keep_whitespace and self.parts and self.parts[-1].endswith(" ") and s.startswith(" "):
            s = s[1:]
        self.pending = 0
        self.parts.append(s)
        self.at_line_start = s.endswith("\n")

    def result(self) -> str:
        text = "".join(self.parts)
        text = re.sub(r"[ \t]+\n", "\n", text)
        return text.strip()
