"""Choose the cloze generator's constants on one data set and check them on the other.

Each variant sets chunkopt.querygen.cloze's REFERENCE_MIX, DROP_PROBABILITY, CONTEXT_PROBABILITY
and WINDOW_WORDS (those not given keep the module's values at the time); all variants are
scored in one pass per configuration (bench/query_generation.py's functions: default grid, bm25
and tfidf, top-5 and 1,024 tokens). A variant's score on a data set is its mean tau by recall over
the four settings minus 10 x its mean regret (recall lost by its pick); the best on the choosing
set is then reported on the other set beside the other variants, both ways.

    .venv/bin/python bench/querygen_constants.py           # round 1, about 6 minutes on one core
    .venv/bin/python bench/querygen_constants.py --mixes balanced passage-heavy answer+passage --drops 0.4 0.55 0.7
    .venv/bin/python bench/querygen_constants.py --mixes balanced --drops 0.55 --contexts 0.2 0.5 0.8 --windows 6 10 16
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_generation import METRICS, agreement, load_dataset, score_sets  # noqa: E402

from chunkopt.grid import DEFAULT_GRID, expand
from chunkopt.querygen import cloze, generate_queries

MIXES = {
    "answer-heavy": {"answer": 0.7, "sentence": 0.2, "passage": 0.1},
    "balanced": {"answer": 0.5, "sentence": 0.3, "passage": 0.2},
    "sentence-heavy": {"answer": 0.2, "sentence": 0.5, "passage": 0.3},
    "passage-heavy": {"answer": 0.1, "sentence": 0.4, "passage": 0.5},
    "answer+passage": {"answer": 0.4, "sentence": 0.2, "passage": 0.4},
}
SETTINGS = [("bm25", {"top_k": 5}), ("bm25", {"token_budget": 1024}), ("tfidf", {"top_k": 5}),
            ("tfidf", {"token_budget": 1024})]


def run(dataset: str, seed: int, mixes: list[str], drops: list[float], contexts: list[float],
        windows: list[int]) -> dict[str, dict[str, float]]:
    """{variant: {"tau_recall", "regret", "score", ...}} averaged over the four settings."""
    corpus, real = load_dataset(dataset)
    sets = {"real": real}
    for mix_name, drop, context, window in itertools.product(mixes, drops, contexts, windows):
        cloze.REFERENCE_MIX, cloze.DROP_PROBABILITY = MIXES[mix_name], drop
        cloze.CONTEXT_PROBABILITY, cloze.WINDOW_WORDS = context, window
        name = f"{mix_name}, drop {drop}"
        name += f", context {context}" if len(contexts) > 1 else ""
        name += f", window {window}" if len(windows) > 1 else ""
        queries = generate_queries(corpus, n=len(real), seed=seed, method="cloze")
        sets[name] = [q.__class__(f"{name}-{q.id}", q.query, q.references) for q in queries]
    configurations = expand(DEFAULT_GRID)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in sets if name != "real"}
    for retriever, budget in SETTINGS:
        scores = score_sets(corpus, sets, configurations, retriever, budget)
        for name in results:
            results[name].append(agreement(scores[name], scores["real"]))
        print(f"  {dataset}: {retriever} {budget} done", file=sys.stderr)
    summary = {}
    for name, rows in results.items():
        mean = {k: float(np.mean([r[k] for r in rows])) for k in [f"tau_{m}" for m in METRICS] + ["regret"]}
        mean["min_tau_recall"] = min(r["tau_recall"] for r in rows)
        mean["max_regret"] = max(r["regret"] for r in rows)
        mean["score"] = mean["tau_recall"] - 10 * mean["regret"]
        summary[name] = mean
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs=2, default=["squad-dev", "chroma"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mixes", nargs="+", default=list(MIXES)[:4], choices=list(MIXES))
    parser.add_argument("--drops", nargs="+", type=float, default=[0.15, 0.4])
    parser.add_argument("--contexts", nargs="+", type=float, default=[cloze.CONTEXT_PROBABILITY])
    parser.add_argument("--windows", nargs="+", type=int, default=[cloze.WINDOW_WORDS])
    args = parser.parse_args()
    a_name, b_name = args.datasets
    axes = (args.mixes, args.drops, args.contexts, args.windows)
    a, b = run(a_name, args.seed, *axes), run(b_name, args.seed, *axes)
    best_a = max(a, key=lambda name: a[name]["score"])
    best_b = max(b, key=lambda name: b[name]["score"])
    print(f"\nchosen on {a_name}: {best_a}; chosen on {b_name}: {best_b}\n")
    print(f"| variant | {a_name} tau recall (min) | {a_name} regret (max) | {b_name} tau recall (min) | {b_name} regret (max) |")
    print("|---|---:|---:|---:|---:|")
    for name in a:
        marks = [f"chosen on {d}" for d, best in ((a_name, best_a), (b_name, best_b)) if best == name]
        label = name + (f" (**{', '.join(marks)}**)" if marks else "")
        print(f"| {label} | {a[name]['tau_recall']:.2f} ({a[name]['min_tau_recall']:.2f}) | {a[name]['regret']:.3f} "
              f"({a[name]['max_regret']:.3f}) | {b[name]['tau_recall']:.2f} ({b[name]['min_tau_recall']:.2f}) | "
              f"{b[name]['regret']:.3f} ({b[name]['max_regret']:.3f}) |")


if __name__ == "__main__":
    main()
