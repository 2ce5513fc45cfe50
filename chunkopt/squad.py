"""Importer for SQuAD-format question sets (SQuAD v1.1 / v2.0 JSON): crowd-written questions with answer spans.

SQuAD gives `data[].title`, `data[].paragraphs[].context` and, per paragraph, `qas[]` with
`question`, `id`, `is_impossible` (v2.0) and `answers[]` (`text`, `answer_start`, a character
offset into the paragraph's context). `import_squad` turns it into a folder chunkopt reads like
any user's: one document per article, `DEST/corpus/<title>.txt`, its paragraphs in order joined
by a blank line ("\\n\\n"), and `DEST/queries.jsonl` with one query per answerable question
(`squad-<id>`), whose reference is its first answer's span shifted by the paragraph's offset in
the document, and whose group is its paragraph (`<title>.txt#<paragraph number>`): crowd workers
wrote about five questions per paragraph, which are easy or hard together, so the sweep's
intervals and tests resample a paragraph's questions as one. Unanswerable questions (v2.0's
`is_impossible`, or no answer) are skipped: there is nothing to retrieve. Every reference is
checked to slice to its answer text before anything is written.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from chunkopt.corpus import Corpus, Document
from chunkopt.queries import Query, Reference, save_queries

PARAGRAPH_SEPARATOR = "\n\n"
_UNSAFE = re.compile(r"[^\w().,+-]+")  # characters kept in a file name made from a title


class SquadFormatError(ValueError):
    """The file is not in SQuAD's format: the message names the file and the article or question."""


def read_squad(path: str | os.PathLike[str]) -> tuple[Corpus, list[Query]]:
    """The articles of a SQuAD JSON file as a Corpus (ids `<title>.txt`) and its answerable questions."""
    path = Path(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as err:
        raise SquadFormatError(f"cannot read SQuAD file {str(path)!r}: {err.strerror}") from None
    except json.JSONDecodeError as exc:
        raise SquadFormatError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list) or not articles:
        raise SquadFormatError(f"{path}: expected SQuAD's layout, an object with a non-empty 'data' list of articles")
    documents, queries, seen = [], [], set()
    for number, article in enumerate(articles, start=1):
        where = f"{path}, article {number}"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise SquadFormatError(f"{where}: expected an object with 'title' and a 'paragraphs' list")
        doc_id = _file_name(str(article.get("title") or f"article-{number}"), seen)
        text, article_queries = _article(article["paragraphs"], doc_id, where)
        documents.append(Document(doc_id, text))
        queries += article_queries
    if not queries:
        raise SquadFormatError(f"{path}: no answerable question (every one is is_impossible or has no answer)")
    return Corpus(documents), queries


def import_squad(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> dict[str, int]:
    """Convert the SQuAD file `src` into `dest/corpus/<title>.txt` and `dest/queries.jsonl`.

    Returns the counts written: {"documents": ..., "questions": ..., "paragraphs": ..., "skipped": ...}
    (paragraphs: those with an answerable question, the groups; skipped: unanswerable questions).
    Nothing is written unless every answer checks out, and nothing already in `dest` is overwritten.
    """
    corpus, queries = read_squad(src)
    dest = Path(dest)
    targets = [dest / "corpus" / doc.id for doc in corpus] + [dest / "queries.jsonl"]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise SquadFormatError(f"{existing[0]} already exists; import into an empty folder")
    (dest / "corpus").mkdir(parents=True, exist_ok=True)
    for doc in corpus:
        _write_atomically(dest / "corpus" / doc.id, doc.text)
    tmp = dest / ".queries.jsonl.tmp"
    save_queries(queries, tmp)
    os.replace(tmp, dest / "queries.jsonl")
    total = _count_questions(src)
    return {"documents": len(corpus), "questions": len(queries), "paragraphs": len({q.group for q in queries}),
            "skipped": total - len(queries)}


def _article(paragraphs: list[Any], doc_id: str, where: str) -> tuple[str, list[Query]]:
    parts, queries, offset = [], [], 0
    for p_number, paragraph in enumerate(paragraphs, start=1):
        p_where = f"{where}, paragraph {p_number}"
        context = paragraph.get("context") if isinstance(paragraph, dict) else None
        if not isinstance(context, str):
            raise SquadFormatError(f"{p_where}: expected an object with a 'context' string")
        for q_number, qa in enumerate(paragraph.get("qas") or [], start=1):
            query = _question(qa, context, offset, doc_id, f"{doc_id}#{p_number}", f"{p_where}, question {q_number}")
            if query is not None:
                queries.append(query)
        parts.append(context)
        offset += len(context) + len(PARAGRAPH_SEPARATOR)
    return PARAGRAPH_SEPARATOR.join(parts), queries


def _question(qa: Any, context: str, offset: int, doc_id: str, group: str, where: str) -> Query | None:
    if not isinstance(qa, dict) or not isinstance(qa.get("question"), str):
        raise SquadFormatError(f"{where}: expected an object with 'question', 'id' and 'answers'")
    answers = qa.get("answers") or []
    if qa.get("is_impossible") or not answers:
        return None
    answer = answers[0]
    try:
        start, text = int(answer["answer_start"]), str(answer["text"])
    except (KeyError, TypeError, ValueError):
        raise SquadFormatError(f"{where}: the first answer needs 'text' and an integer 'answer_start'") from None
    if not text or context[start : start + len(text)] != text:
        raise SquadFormatError(f"{where}: answer {text[:40]!r} is not at character {start} of its paragraph")
    if not qa["question"].strip():
        raise SquadFormatError(f"{where}: the question is empty")
    reference = Reference(doc_id, offset + start, offset + start + len(text))
    return Query(f"squad-{qa.get('id', where)}", qa["question"].strip(), (reference,), group)


def _file_name(title: str, seen: set[str]) -> str:
    stem = _UNSAFE.sub("_", title).strip("._") or "article"
    name, n = f"{stem}.txt", 2
    while name in seen:
        name, n = f"{stem}-{n}.txt", n + 1
    seen.add(name)
    return name


def _count_questions(path: str | os.PathLike[str]) -> int:
    data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    return sum(len(p.get("qas") or []) for a in data["data"] for p in a["paragraphs"])


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
