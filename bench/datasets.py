"""The evaluation data sets the benchmarks report on, loaded in memory from ../shared/benchmarks.

- `bundled`: our own corpora/ and its query set.
- `chroma`: Chroma's chunking benchmark (LLM-written questions), via chunkopt.chroma.
- `squad-dev`: three SQuAD v2.0 development articles (crowd-written questions): one document per
  article, its paragraphs joined by a blank line under a title heading, each answerable question
  a query whose reference is its first answer, shifted by the paragraph's offset.

Nothing is copied into the repository.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from chunkopt.chroma import import_chroma
from chunkopt.corpus import Corpus, Document, load_corpus
from chunkopt.queries import Query, Reference, load_queries

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks"
NAMES = ("bundled", "chroma", "squad-dev")


def load(name: str) -> tuple[Corpus, list[Query]]:
    """(corpus, queries) of one data set by name."""
    if name == "bundled":
        corpus = load_corpus(ROOT / "corpora" / "docs")
        return corpus, load_queries(ROOT / "corpora" / "queries.jsonl", corpus)
    if name == "chroma":
        with tempfile.TemporaryDirectory() as tmp:
            import_chroma(SHARED / "chroma", tmp)
            corpus = load_corpus(Path(tmp) / "corpus")
            return corpus, load_queries(Path(tmp) / "queries.jsonl", corpus)
    if name == "squad-dev":
        return squad(SHARED / "squad-dev" / "squad-v2.0-3articles.json")
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(NAMES)}")


def squad(path: Path) -> tuple[Corpus, list[Query]]:
    """A SQuAD-format file as a corpus (one document per article) and its answerable questions."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    documents, queries = [], []
    for article in data:
        doc_id = f"{article['title']}.md"
        parts = [f"# {article['title'].replace('_', ' ')}"]
        offset = len(parts[0]) + 2  # where the next paragraph starts in the joined text
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                if qa.get("is_impossible") or not qa["answers"]:
                    continue
                answer = qa["answers"][0]
                start = offset + answer["answer_start"]
                if context[answer["answer_start"]:][: len(answer["text"])] != answer["text"]:
                    raise ValueError(f"{path}: answer of {qa['id']} is not at its answer_start")
                queries.append(Query(qa["id"], qa["question"], (Reference(doc_id, start, start + len(answer["text"])),)))
            parts.append(context)
            offset += len(context) + 2
        documents.append(Document(doc_id, "\n\n".join(parts)))
    return Corpus(documents), queries
