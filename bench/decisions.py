"""What the sweep recommends, old objective against new, on every data set we have.

For each data set (bundled corpora/, Chroma's benchmark, squad-dev) and retriever (bm25, tfidf),
one default-grid sweep at a 1,024-token budget with `fixed chunk_size=512 overlap=64` as the
baseline, then from the same rows:
- the configuration the old default (IoU, highest score wins) would pick, and its recall;
- the new recommendation (recall, the cheapest configuration tied with the top scorer), its
  recall with the 95% interval, the top scorer, the size of the tied set, and the gain over the
  baseline with its paired interval;
- the budget curve (recall and tokens actually returned at each budget) of each strategy's best.

    .venv/bin/python bench/decisions.py                        # every data set, bm25 and tfidf
    .venv/bin/python bench/decisions.py --datasets chroma --retrievers bm25
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets  # noqa: E402  (bench/datasets.py)

from chunkopt.grid import default_grid  # noqa: E402
from chunkopt.selection import Constraints, rank  # noqa: E402
from chunkopt.statistics import paired_gain  # noqa: E402
from chunkopt.sweep import Sweep  # noqa: E402

BASELINE = "fixed chunk_size=512 overlap=64"
# What a LangChain user runs by default (sizes in characters), scored in the same sweep for scale.
LANGCHAIN = {"strategy": "langchain:RecursiveCharacterTextSplitter", "chunk_size": 1000, "chunk_overlap": 200}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(datasets.NAMES), choices=datasets.NAMES)
    parser.add_argument("--retrievers", nargs="+", default=["bm25", "tfidf"])
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")

    choices, curves = [], []
    for name in args.datasets:
        corpus, queries = datasets.load(name)
        for retriever in args.retrievers:
            started = time.perf_counter()
            grid = default_grid() + ([LANGCHAIN] if _has_langchain() else [])
            sweep = Sweep(grid, retriever=retriever, baseline=BASELINE).fit(corpus, queries)
            seconds = time.perf_counter() - started
            choices.append(_choice_row(name, len(queries), retriever, sweep, seconds))
            curves.extend(_curve_rows(name, retriever, sweep))

    print("\n| data (queries) | retriever | old default (IoU) picks | its recall | new recommendation | recall (95% CI) "
          "| top scorer (recall) | tied | gain over fixed 512/64 (95% CI, p) | LangChain 1000/200 chars: recall, gain "
          "| sweep s |")
    print("|---|---|---|---:|---|---|---|---:|---|---|---:|")
    for row in choices:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print("\n| data | retriever | best of strategy | " + " | ".join(f"recall@{b} (tokens)" for b in (256, 512, 1024, 2048, 4096)) + " |")
    print("|---|---|---|" + "---:|" * 5)
    for row in curves:
        print("| " + " | ".join(str(c) for c in row) + " |")


def _choice_row(name: str, n_queries: int, retriever: str, sweep: Sweep, seconds: float) -> list[str]:
    rows = sweep.results_
    by_iou = rows[rank(rows, "iou", Constraints())[0]]
    best, top = sweep.best_row_, sweep.top_row_
    gain = sweep.decision_.gain
    return [
        f"{name} ({n_queries})", retriever,
        by_iou["label"], f"{by_iou['recall']:.3f}",
        best["label"], f"{best['recall']:.3f} ({best['ci_low']:.3f}-{best['ci_high']:.3f})",
        f"{top['label']} ({top['recall']:.3f})", str(len(sweep.tied_)),
        _points(gain), _langchain(sweep), f"{seconds:.0f}",
    ]


def _points(gain: dict) -> str:
    return f"{gain['gain'] * 100:+.1f} ({gain['ci_low'] * 100:+.1f} to {gain['ci_high'] * 100:+.1f}, p {gain['p']:.2g})"


def _langchain(sweep: Sweep) -> str:
    """The LangChain default's recall, and the recommendation's paired gain over it."""
    rows = [r for r in sweep.results_ if r["strategy"] == LANGCHAIN["strategy"]]
    if not rows:
        return "(langchain-text-splitters not installed)"
    scores = sweep.per_query_
    gain = paired_gain(scores[sweep.best_row_["label"]]["recall"], scores[rows[0]["label"]]["recall"])
    return f"{rows[0]['recall']:.3f}, {_points(gain)}"


def _has_langchain() -> bool:
    try:
        import langchain_text_splitters  # noqa: F401
    except ImportError:
        return False
    return True


def _curve_rows(name: str, retriever: str, sweep: Sweep) -> list[list[str]]:
    best_of: dict[str, dict] = {}
    for row in sweep.results_:  # ranked by recall at the selection budget
        best_of.setdefault(row["strategy"], row)
    out = []
    for strategy, row in sorted(best_of.items()):
        points = [f"{p['recall']:.3f} ({p['tokens_per_query']:.0f})" for p in sweep.budget_curve(row["label"])]
        out.append([name, retriever, row["label"], *points])
    return out


if __name__ == "__main__":
    main()
