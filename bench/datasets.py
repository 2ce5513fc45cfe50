"""The evaluation data sets the benchmarks report on, loaded in memory from ../shared/benchmarks.

- `bundled`: our own corpora/ and its query set.
- `chroma`: Chroma's chunking benchmark (LLM-written questions), via chunkopt.chroma.
- `squad-dev`: three SQuAD v2.0 development articles (crowd-written questions), read by
  chunkopt.squad as `chunkopt import-squad` converts them: one document per article, each
  answerable question a query whose reference is its first answer.

Nothing is copied into the repository.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from chunkopt.chroma import import_chroma
from chunkopt.corpus import Corpus, load_corpus
from chunkopt.queries import Query, load_queries
from chunkopt.squad import read_squad

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
        return read_squad(SHARED / "squad-dev" / "squad-v2.0-3articles.json")
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(NAMES)}")
