"""Id stability: the share of chunk ids an edit of one paragraph in the middle of a document leaves intact.

For each document, the paragraph (a block between blank lines) that holds the document's middle
character gets one sentence appended. Every strategy chunks the document before and after the
edit; a chunk id is kept when the edited document has a chunk with the same id. "kept" is the
share of all old ids kept; "outside" the share of old chunks that do not touch the edited
paragraph whose id was kept (where a perfect scheme keeps 100%); "before"/"after" split that by
side of the edit. Shares are pooled over the documents (sum of kept / sum of chunks), in %.

    .venv/bin/python bench/id_stability.py                      the bundled corpus (corpora/docs)
    .venv/bin/python bench/id_stability.py ../shared/benchmarks/chroma/corpora
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import strategies
from chunkopt.corpus import load_corpus

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = (
    ("fixed", {"chunk_size": 256, "overlap": 0}),
    ("fixed", {"chunk_size": 256, "overlap": 38}),
    ("recursive", {"chunk_size": 256, "overlap": 0}),
    ("sentence", {"chunk_size": 256, "overlap": 0}),
    ("semantic", {"max_tokens": 256}),
)
ADDED = " This sentence was added by an edit."
_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")


def edit_middle_paragraph(text: str) -> tuple[str, int, int]:
    """The text with a sentence appended to the paragraph that holds its middle, and that paragraph's range."""
    middle = len(text) // 2
    cuts = [0, *(x for m in _BLANK_LINES.finditer(text) for x in (m.start(), m.end())), len(text)]
    paragraphs = [(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if b > a]
    start, end = min(paragraphs, key=lambda p: 0 if p[0] <= middle < p[1] else min(abs(p[0] - middle), abs(p[1] - middle)))
    return text[:end] + ADDED + text[end:], start, end


def measure(corpus, strategy: str, params: dict) -> dict[str, float]:
    chunker = strategies.get(strategy, **params)
    totals = dict.fromkeys(("chunks", "kept", "outside", "outside_kept", "before", "before_kept", "after", "after_kept"), 0)
    for document in corpus:
        edited, start, end = edit_middle_paragraph(document.text)
        old = chunker.chunk(document.text, doc_id=document.id)
        new_ids = {c.id for c in chunker.chunk(edited, doc_id=document.id)}
        for c in old:
            kept = c.id in new_ids
            totals["chunks"] += 1
            totals["kept"] += kept
            side = "before" if c.end <= start else "after" if c.start >= end else None
            if side:
                totals["outside"] += 1
                totals["outside_kept"] += kept
                totals[side] += 1
                totals[side + "_kept"] += kept
    return totals


def share(kept: int, total: int) -> str:
    return f"{100 * kept / total:.1f}" if total else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", nargs="?", default=str(ROOT / "corpora" / "docs"))
    args = parser.parse_args()
    corpus = load_corpus(args.docs, exclude=(Path(args.docs) / "queries.jsonl",))
    print(f"{len(corpus)} documents from {args.docs}; Python {sys.version.split()[0]}")
    print("| strategy | params | chunks | kept % | outside the edit % | before % | after % |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for strategy, params in CONFIGS:
        t = measure(corpus, strategy, params)
        shown = " ".join(f"{k}={v}" for k, v in params.items())
        print(f"| {strategy} | {shown} | {t['chunks']} | {share(t['kept'], t['chunks'])} | "
              f"{share(t['outside_kept'], t['outside'])} | {share(t['before_kept'], t['before'])} | "
              f"{share(t['after_kept'], t['after'])} |")


if __name__ == "__main__":
    main()
