"""Query sets: queries with the reference spans that answer them.

The file format is JSON Lines, one query a line (blank lines allowed):

    {"id": "q1", "query": "How are late fees capped?", "references": [{"doc": "a.md", "start": 10, "end": 120}]}

`doc` is a document id (the path relative to the corpus folder). A reference gives either
`start`/`end` (character offsets into the document's text, end exclusive) or `text`, which is
located in the document: exactly first, then ignoring differences in whitespace, and mapped
back to the document's own offsets. A `text` found more than once is an error (give offsets
instead), because silently picking one could score the wrong passage. A missing `id` becomes
"line-N". Every problem is a QueryFileError naming the file and line.

An optional `"group"` (a string or an integer) marks queries that are not independent of each
other: several questions asked of one passage, or a generator's questions about one sentence. The
sweep's intervals and tests resample a group as one unit (`chunkopt.statistics`); a query without
a group is a group of its own.

A generated set (`chunkopt queries`, `save_queries` of a GeneratedQueries) also gives each line
`"generator": {"name": "cloze", "version": 3, "seed": 0, ...}`. A file whose every line names the
same generator loads back as a GeneratedQueries, so a sweep on it knows its queries were generated
(and says so, and chooses as it does for generated queries); once a line lacks it or names
another, the set counts as the team's own.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chunkopt.corpus import Corpus, read_text_file
from chunkopt.outputs import atomic_open


@dataclass(frozen=True)
class Reference:
    """A character range [start, end) of one document that answers (part of) a query."""

    doc: str
    start: int
    end: int


@dataclass(frozen=True)
class Query:
    id: str
    query: str
    references: tuple[Reference, ...]
    group: str | None = None  # queries sharing a group are resampled together; None: independent


def query_groups(queries: list[Query]) -> list[str] | None:
    """Each query's group for `chunkopt.statistics` (a query without one is its own), or None when
    no query has a group."""
    if all(q.group is None for q in queries):
        return None
    return [f"group:{q.group}" if q.group is not None else f"query:{q.id}" for q in queries]


class GeneratedQueries(list):
    """A list of Query that also says what generated it: `generator_info`, a JSON-ready dict.

    `generator_info` holds at least "name", "version" and "seed" (and "n", the number asked
    for), so a tuned configuration can record which generator, at which version, made its queries.
    """

    def __init__(self, queries: list[Query], generator_info: dict[str, Any]) -> None:
        super().__init__(queries)
        self.generator_info = dict(generator_info)


class QueryFileError(ValueError):
    """A query file cannot be read: the message names the file, the line and what is wrong."""


def load_queries(path: str | os.PathLike[str], corpus: Corpus) -> list[Query]:
    """Read a JSON Lines query file, checking every reference against `corpus`."""
    path = Path(path)
    if not path.is_file():
        raise QueryFileError(f"query file {str(path)!r} does not exist")
    queries: list[Query] = []
    generators: list[Any] = []
    first_line: dict[str, int] = {}
    with io.StringIO(read_text_file(path, "query file", QueryFileError), newline="") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {line_no}"
            query, generator = _parse_line(line, where, line_no, corpus)
            if query.id in first_line:
                raise QueryFileError(f"{where}: duplicate id {query.id!r} (first used on line {first_line[query.id]})")
            first_line[query.id] = line_no
            queries.append(query)
            generators.append(generator)
    if not queries:
        raise QueryFileError(f"{path}: no queries (expected one JSON object a line)")
    if generators[0] is not None and all(g == generators[0] for g in generators):
        return GeneratedQueries(queries, generators[0])
    named = sum(g is not None for g in generators)
    if named:
        which = (f"its {named} queries name different generators" if named == len(queries)
                 else f"{named} of its {len(queries)} queries name a generator, the others none")
        warnings.warn(f"{path}: {which}, so the set counts as your own queries", stacklevel=2)
    return queries


def save_queries(queries: list[Query], path: str | os.PathLike[str]) -> None:
    """Write queries as JSON Lines with start/end offsets, UTF-8, one query a line (and, for a
    generated set, its generator on every line)."""
    with atomic_open(path, newline="\n") as f:
        for line in query_lines(queries):
            f.write(line + "\n")


def query_lines(queries: list[Query]) -> list[str]:
    """The JSON Lines of a query set, as `save_queries` writes them."""
    generator = getattr(queries, "generator_info", None)
    extra = {"generator": generator} if generator is not None else {}
    return [json.dumps({**query_to_dict(query), **extra}, ensure_ascii=False) for query in queries]


def query_to_dict(query: Query) -> dict[str, Any]:
    """The JSON form of one query, as written by save_queries."""
    record = {
        "id": query.id,
        "query": query.query,
        "references": [{"doc": r.doc, "start": r.start, "end": r.end} for r in query.references],
    }
    if query.group is not None:
        record["group"] = query.group
    return record


def queries_hash(queries: list[Query]) -> str:
    """SHA-256 (hex) of the queries in a canonical JSON form: what a tuned config records."""
    records = [query_to_dict(q) for q in queries]
    canonical = json.dumps(records, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ---- parsing one line ---------------------------------------------------------------------


def _parse_line(line: str, where: str, line_no: int, corpus: Corpus) -> tuple[Query, dict[str, Any] | None]:
    """The query of one line, and the generator it names (None for a line without one)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QueryFileError(f"{where}: not valid JSON ({json_problem(exc)})") from None
    if not isinstance(obj, dict):
        raise QueryFileError(f"{where}: expected a JSON object with id, query and references, got {type(obj).__name__}")
    qid = obj.get("id", f"line-{line_no}")
    if isinstance(qid, bool) or not isinstance(qid, (str, int)) or str(qid).strip() == "":
        raise QueryFileError(f"{where}: id must be a non-empty string or an integer, got {qid!r}")
    text = obj.get("query")
    if not isinstance(text, str) or not text.strip():
        raise QueryFileError(f"{where}: query must be a non-empty string, got {text!r}")
    refs = obj.get("references")
    if not isinstance(refs, list) or not refs:
        raise QueryFileError(
            f"{where}: references must be a non-empty list of {{doc, start, end}} or {{doc, text}}, got {refs!r}"
        )
    references = tuple(_parse_reference(ref, f"{where}, reference {i + 1}", corpus) for i, ref in enumerate(refs))
    generator = obj.get("generator")
    if generator is not None and not _is_generator(generator):
        raise QueryFileError(f"{where}: generator must be an object with a string name, an integer version and an "
                             f"integer or null seed (as `chunkopt queries` writes it), got {generator!r}; "
                             "remove it if a person wrote this query")
    group = obj.get("group")
    if group is not None and (isinstance(group, bool) or not isinstance(group, (str, int)) or str(group).strip() == ""):
        raise QueryFileError(f"{where}: group must be a non-empty string or an integer naming the queries that go "
                             f"together (e.g. asked of one passage), got {group!r}; leave it out for an independent query")
    return Query(str(qid), text, references, None if group is None else str(group)), generator


def _is_generator(value: Any) -> bool:
    """Whether `value` is a generator record as the tuned configuration's schema wants it."""
    def integer(x: Any) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    return (isinstance(value, dict) and isinstance(value.get("name"), str) and integer(value.get("version"))
            and "seed" in value and (value["seed"] is None or integer(value["seed"])))


def json_problem(exc: json.JSONDecodeError) -> str:
    """"Expecting value at column 7": json's message ends in "at" for some problems, so add it once."""
    return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"


def _parse_reference(ref: Any, where: str, corpus: Corpus) -> Reference:
    if not isinstance(ref, dict):
        raise QueryFileError(f"{where}: expected an object {{doc, start, end}} or {{doc, text}}, got {ref!r}")
    doc_id = ref.get("doc")
    if not isinstance(doc_id, str) or not doc_id:
        raise QueryFileError(
            f"{where}: doc must be a document id (a path relative to the corpus folder), got {doc_id!r}"
        )
    if doc_id not in corpus.by_id:
        raise QueryFileError(f"{where}: document {doc_id!r} is not in the corpus; {_available(doc_id, corpus)}")
    doc_text = corpus.by_id[doc_id].text
    has_offsets = "start" in ref or "end" in ref
    if "text" in ref and not has_offsets:
        return _locate(ref["text"], doc_id, doc_text, where)
    for key in ("start", "end"):
        value = ref.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise QueryFileError(f"{where}: {key} must be an integer character offset, got {value!r}")
    start, end = ref["start"], ref["end"]
    if not 0 <= start < end <= len(doc_text):
        raise QueryFileError(
            f"{where}: start={start}, end={end} is not a range inside {doc_id!r}; "
            f"need 0 <= start < end <= {len(doc_text)} (the document's length in characters)"
        )
    if "text" in ref and doc_text[start:end] != ref["text"]:
        actual = _preview(doc_text[start:end])
        raise QueryFileError(f"{where}: text does not equal {doc_id!r}[{start}:{end}] = {actual}")
    return Reference(doc_id, start, end)


def _locate(text: Any, doc_id: str, doc_text: str, where: str) -> Reference:
    """The reference whose characters are `text`: an exact match, else one ignoring whitespace."""
    if not isinstance(text, str) or not text.strip():
        raise QueryFileError(f"{where}: text must be a non-empty string, got {text!r}")
    starts = _exact_matches(text, doc_text)
    length = len(text)
    if not starts:
        pattern = r"\s+".join(re.escape(word) for word in text.split())
        matches = [(m.start(), m.end()) for m in re.finditer(pattern, doc_text)]
        starts = [s for s, _ in matches]
        if not matches:
            raise QueryFileError(
                f"{where}: text {_preview(text)} is not in {doc_id!r}, neither exactly nor ignoring whitespace"
            )
        length = matches[0][1] - matches[0][0]
    if len(starts) > 1:
        shown = ", ".join(str(s) for s in starts[:5])
        raise QueryFileError(
            f"{where}: text {_preview(text)} occurs {len(starts)} times in {doc_id!r} (at characters {shown}"
            f"{', ...' if len(starts) > 5 else ''}); give start and end to say which"
        )
    return Reference(doc_id, starts[0], starts[0] + length)


def _exact_matches(text: str, doc_text: str) -> list[int]:
    starts = []
    i = doc_text.find(text)
    while i != -1:
        starts.append(i)
        i = doc_text.find(text, i + 1)
    return starts


def _available(doc_id: str, corpus: Corpus) -> str:
    ids = [d.id for d in corpus.documents]
    close = difflib.get_close_matches(doc_id, ids, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    shown = ", ".join(repr(i) for i in ids[:5])
    more = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
    return f"{hint}available ids: {shown}{more}"


def _preview(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
