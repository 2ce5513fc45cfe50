"""Importer for Chroma's general chunking evaluation ("Evaluating Chunking Strategies for Retrieval").

The benchmark is `questions_df.csv` (question, references, corpus_id) plus `corpora/<corpus_id>.md`;
each reference is `{"content", "start_index", "end_index"}` with indices as strings or integers,
offsets into the corpus file read as a Python str. `import_chroma` turns it into a folder chunkopt
reads like any user's: `DEST/corpus/<corpus_id>.md` (copied byte for byte, so the offsets hold)
and `DEST/queries.jsonl`, and checks that every reference slices to its content.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

from chunkopt.queries import Query, Reference, save_queries

QUESTIONS_FILE = "questions_df.csv"
CORPORA_DIR = "corpora"


class ChromaFormatError(ValueError):
    """The source folder is not in Chroma's format: the message names the file and row."""


def import_chroma(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> dict[str, int]:
    """Convert Chroma's benchmark at `src` into `dest/corpus/*.md` and `dest/queries.jsonl`.

    Returns the counts written: {"documents": ..., "questions": ..., "references": ...}.
    Nothing is written unless every reference checks out.
    """
    src, dest = Path(src), Path(dest)
    questions_path = src / QUESTIONS_FILE
    corpora_dir = src / CORPORA_DIR
    if not questions_path.is_file() or not corpora_dir.is_dir():
        raise ChromaFormatError(
            f"{str(src)!r} is not a Chroma benchmark folder: it needs {QUESTIONS_FILE} and {CORPORA_DIR}/<corpus_id>.md"
        )
    corpora = {p.stem: p for p in sorted(corpora_dir.glob("*.md"))}
    # Decoded as load_corpus will read the copy, so the check below is the one that matters.
    texts = {name: path.read_bytes().decode("utf-8") for name, path in corpora.items()}
    bad = [name for name, text in texts.items() if text.startswith("\ufeff") or "\r" in text]
    if bad:
        # Chroma's offsets count a BOM and read CRLF as one character; ours do neither.
        raise ChromaFormatError(f"{corpora[bad[0]]}: a BOM or carriage returns would shift every offset; not supported")
    queries = _read_questions(questions_path, texts)

    (dest / "corpus").mkdir(parents=True, exist_ok=True)
    for name, path in corpora.items():
        shutil.copyfile(path, dest / "corpus" / f"{name}.md")
    save_queries(queries, dest / "queries.jsonl")
    return {
        "documents": len(corpora),
        "questions": len(queries),
        "references": sum(len(q.references) for q in queries),
    }


def _read_questions(path: Path, texts: dict[str, str]) -> list[Query]:
    queries = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"question", "references", "corpus_id"} - set(reader.fieldnames or ())
        if missing:
            raise ChromaFormatError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for number, row in enumerate(reader, start=1):
            where = f"{path}, question {number} (line {reader.line_num})"
            corpus_id = row["corpus_id"]
            if corpus_id not in texts:
                raise ChromaFormatError(f"{where}: corpus_id {corpus_id!r} has no file {CORPORA_DIR}/{corpus_id}.md")
            if not row["question"].strip():
                raise ChromaFormatError(f"{where}: the question is empty")
            refs = _references(row["references"], where)
            doc_id = f"{corpus_id}.md"
            references = tuple(
                _reference(ref, doc_id, texts[corpus_id], f"{where}, reference {i + 1}") for i, ref in enumerate(refs)
            )
            queries.append(Query(f"chroma-{number:04d}", row["question"], references))
    return queries


def _references(cell: str, where: str) -> list[dict]:
    try:
        refs = json.loads(cell)
    except json.JSONDecodeError as exc:
        raise ChromaFormatError(f"{where}: references is not valid JSON ({exc.msg})") from None
    if not isinstance(refs, list) or not refs or not all(isinstance(r, dict) for r in refs):
        raise ChromaFormatError(f"{where}: references must be a non-empty JSON list of objects")
    return refs


def _reference(ref: dict, doc_id: str, text: str, where: str) -> Reference:
    try:
        start, end = int(ref["start_index"]), int(ref["end_index"])
    except (KeyError, TypeError, ValueError):
        raise ChromaFormatError(
            f"{where}: start_index and end_index must be integers (or integer strings), got "
            f"{ref.get('start_index')!r} and {ref.get('end_index')!r}"
        ) from None
    if not 0 <= start < end <= len(text):
        raise ChromaFormatError(f"{where}: range {start}:{end} is outside {doc_id} ({len(text)} characters)")
    if text[start:end] != ref.get("content"):
        raise ChromaFormatError(f"{where}: {doc_id}[{start}:{end}] does not equal the reference's content")
    return Reference(doc_id, start, end)
