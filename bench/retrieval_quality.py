"""Retrieval quality on Chroma's public benchmark (5 corpora, 472 questions).

Recall, precision and IoU (Chroma's definitions, in %) for the fixed, recursive, sentence and
semantic strategies at 200 and 400 tokens (overlap 0 where the strategy has a token overlap),
with the tfidf and bm25 retrievers, at top-5 and at a 1,000-token budget. The benchmark goes
through the same path as a user's folder: import_chroma, load_corpus, load_queries, evaluate.

    .venv/bin/python bench/retrieval_quality.py                  print the section
    .venv/bin/python bench/retrieval_quality.py --update-readme  also write it into bench/README.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import strategies
from chunkopt.chroma import import_chroma
from chunkopt.corpus import load_corpus
from chunkopt.evaluation import evaluate
from chunkopt.queries import load_queries

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = ROOT.parent / "shared" / "benchmarks" / "chroma"
HEADING = "## Retrieval quality on the Chroma corpora"
STRATEGIES = ("fixed", "recursive", "sentence", "semantic")
SIZES = (200, 400)
RETRIEVERS = ("tfidf", "bm25")
BUDGETS = ({"top_k": 5}, {"token_budget": 1000})


def chunker_for(name: str, size: int) -> strategies.Strategy:
    cls = strategies.strategy_class(name)
    params = {cls.size_param: size}
    overlap = next((p for p in cls.schema if p.name == "overlap"), None)
    if overlap is not None and overlap.unit == "tokens":
        params["overlap"] = 0
    return cls(**params)


def run(src: Path, names: list[str], sizes: list[int], retrievers: list[str]) -> tuple[list[dict], list[str]]:
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        import_chroma(src, tmp)
        corpus = load_corpus(Path(tmp) / "corpus")
        queries = load_queries(Path(tmp) / "queries.jsonl", corpus)
    for name in names:
        for size in sizes:
            try:
                chunker = chunker_for(name, size)
            except (ImportError, ValueError) as exc:  # a strategy not written yet, or missing its extra
                notes.append(f"{name} {size}: skipped ({type(exc).__name__}: {exc})")
                break
            for retriever in retrievers:
                row = {"strategy": name, "size": size, "params": chunker.params, "retriever": retriever}
                for budget in BUDGETS:
                    started = time.perf_counter()
                    result = evaluate(corpus, queries, chunker, retriever, **budget)
                    key = "top5" if "top_k" in budget else "budget"
                    row[key] = result.summary
                    print(f"{name} {size} {retriever} {budget}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
                rows.append(row)
    return rows, notes


def pct(value: float) -> str:
    return f"{100 * value:.1f}"


def section(rows: list[dict], notes: list[str], command: str) -> str:
    lines = [
        HEADING,
        "",
        "Chroma's general evaluation (5 corpora, 472 questions, `../shared/benchmarks/chroma`), imported with",
        "`import_chroma` and scored by `chunkopt.evaluate`. Recall, precision and IoU are Chroma's character-range",
        "definitions, in % (mean over questions); Ω is precision_omega, which depends only on the chunking.",
        "Sizes are tokens (cl100k_base); overlap 0 for fixed and recursive, default parameters otherwise. Top-5",
        "returns 5 chunks whatever their size; a 1,000-token budget returns as many chunks as fit, so 200-token",
        "chunks get about five slots and 400-token chunks about two.",
        "",
        f"Command: `{command}`",
        "",
        "| strategy | size | retriever | Ω | recall@5 | precision@5 | IoU@5 | tokens@5 "
        "| recall@1k | precision@1k | IoU@1k | tokens@1k |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        t, b = row["top5"], row["budget"]
        lines.append(
            f"| {row['strategy']} | {row['size']} | {row['retriever']} | {pct(t['precision_omega'])} "
            f"| {pct(t['recall'])} | {pct(t['precision'])} | {pct(t['iou'])} | {t['tokens_per_query']:.0f} "
            f"| {pct(b['recall'])} | {pct(b['precision'])} | {pct(b['iou'])} | {b['tokens_per_query']:.0f} |"
        )
    lines += [f"- {note}" for note in notes]
    lines += [
        "",
        "Comparing with Chroma's report: precision_omega (Ω) depends only on the chunking, so fixed 200/0 can be",
        "checked against the report's TokenTextSplitter 200/0 row directly; recall, precision and IoU depend on",
        "the retriever (the report used OpenAI embeddings, these are lexical), so only their order of magnitude",
        "is comparable. The report's figures are not reproduced here because the stored copy of the report",
        "available while writing this did not include its table.",
    ]
    return "\n".join(lines) + "\n"


def update_readme(text: str) -> None:
    """Replace this script's section of bench/README.md (up to the next `## `), leaving the rest alone."""
    path = ROOT / "bench" / "README.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = current.find(HEADING + "\n")
    if start < 0:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(HEADING))
        updated = current[:start] + text + ("" if end < 0 else current[end:])
    path.write_text(updated, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="Chroma benchmark folder")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--retrievers", nargs="+", default=list(RETRIEVERS))
    parser.add_argument("--update-readme", action="store_true", help="write the section into bench/README.md")
    args = parser.parse_args()
    if not args.src.is_dir():
        sys.exit(f"Chroma benchmark folder {str(args.src)!r} not found (pass --src)")
    rows, notes = run(args.src, args.strategies, args.sizes, args.retrievers)
    text = section(rows, notes, ".venv/bin/python bench/retrieval_quality.py")
    print(text)
    if args.update_readme:
        update_readme(text)


if __name__ == "__main__":
    main()
