"""Do generated queries rank chunkings the way real questions do?

Imports Chroma's benchmark into a temporary folder, generates as many queries as Chroma has
(472) with `chunkopt.querygen`, then scores every configuration (strategy x chunk size) under
both query sets and compares the two rankings with Kendall's tau, by IoU and by recall, for each
retriever and budget (top-k chunks, and a token budget). Also reports tau among the strategies
of one size (the harder question), the mean absolute difference of the scores themselves, and
two yardsticks: a strawman whose queries are the text of their first reference (verbatim), and
two random halves of Chroma's own questions compared with each other (sampling noise).

    .venv/bin/python bench/query_generation.py                     # defaults: seed 0, tfidf and bm25
    .venv/bin/python bench/query_generation.py --seeds 0 1 2 --token-budget 0
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

import strategies
from chunkopt.chroma import import_chroma
from chunkopt.corpus import load_corpus
from chunkopt.evaluation import evaluate
from chunkopt.querygen import generate_queries
from chunkopt.queries import load_queries

DEFAULT_SRC = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "chroma"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="Chroma benchmark folder")
    parser.add_argument("--strategies", nargs="+", default=["fixed", "recursive", "sentence", "semantic"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[128, 256, 512], help="chunk sizes in tokens")
    parser.add_argument("--retrievers", nargs="+", default=["tfidf", "bm25"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="generator seeds")
    parser.add_argument("--n", type=int, default=None, help="queries to generate (default: as many as Chroma's)")
    parser.add_argument("--top-k", type=int, default=5, help="chunks returned per query (0: skip)")
    parser.add_argument("--token-budget", type=int, default=1000, help="tokens returned per query (0: skip)")
    args = parser.parse_args()
    budgets = [b for b in ({"top_k": args.top_k}, {"token_budget": args.token_budget}) if next(iter(b.values()))]

    with tempfile.TemporaryDirectory() as tmp:
        import_chroma(args.src, tmp)
        corpus = load_corpus(Path(tmp) / "corpus")
        chroma = load_queries(Path(tmp) / "queries.jsonl", corpus)
    n = args.n or len(chroma)
    generated = {f"gen{seed}": _renamed(generate_queries(corpus, n=n, seed=seed), f"s{seed}") for seed in args.seeds}
    first = generated[f"gen{args.seeds[0]}"]
    # The strawman the generator must beat: each query is its own first span's text.
    verbatim = [replace(q, id=f"v-{q.id}", query=_text(corpus, q.references[0])) for q in first]
    shuffled = random.Random(0).sample(chroma, len(chroma))
    halves = {"chromaA": shuffled[::2], "chromaB": shuffled[1::2]}  # how far Chroma agrees with itself
    sets = {"chroma": chroma} | generated | {"verbatim": verbatim} | halves
    everything = [q for name, qs in sets.items() if name not in halves for q in qs]
    print(f"{corpus.summary()}; {len(chroma)} Chroma queries; {n} generated per seed {args.seeds}")

    available = [s for s in args.strategies if _importable(s)]
    configs = [(s, size) for s in available for size in args.sizes]
    missing = [s for s in args.strategies if s not in available]
    if missing:
        print(f"strategies not available (skipped): {', '.join(missing)}", file=sys.stderr)

    summary = []
    for retriever in args.retrievers:
        for budget in budgets:
            summary += _compare(corpus, everything, sets, configs, retriever, budget, list(generated))
    _summary(summary, list(generated), len(configs))


def _compare(corpus, everything, sets, configs, retriever, budget, generated) -> list[dict]:
    """Score every configuration under every query set; print the table and taus; return the taus."""
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in sets}
    started = time.perf_counter()
    for name, size in configs:
        chunker = strategies.get(name, **{strategies.strategy_class(name).size_param: size})
        # One evaluation for all query sets: chunk and index once, then split the rows.
        result = evaluate(corpus, everything, chunker, retriever, **budget)
        rows = {row["query_id"]: row for row in result.per_query}
        for set_name, queries in sets.items():
            means = {m: float(np.mean([rows[q.id][m] for q in queries])) for m in ("recall", "iou")}
            scores[set_name].append(means)
    (key, value), = budget.items()
    print(f"\n### {retriever}, {key}={value} ({time.perf_counter() - started:.0f} s)\n")
    _table(configs, {name: scores[name] for name in ("chroma", generated[0], "verbatim")})
    print()
    setting = f"{retriever}, " + (f"top-{value}" if key == "top_k" else f"{value:,} tokens")
    rows = []
    for name in [*generated, "verbatim"]:
        rows += _taus(configs, scores["chroma"], scores[name], f"{name} vs chroma", setting, name)
    half = len(sets["chromaA"])
    label = f"chroma half A vs half B ({half} questions each)"
    return rows + _taus(configs, scores["chromaA"], scores["chromaB"], label, setting, "halves")


def _importable(name: str) -> bool:
    try:
        strategies.strategy_class(name)
    except (ImportError, ValueError):
        return False
    return True


def _renamed(queries, prefix):
    return [replace(q, id=f"{prefix}-{q.id}") for q in queries]


def _text(corpus, ref) -> str:
    return corpus[ref.doc].text[ref.start : ref.end]


def _table(configs, scores) -> None:
    names = list(scores)
    header = "| strategy | size | " + " | ".join(f"{n} recall | {n} IoU" for n in names) + " |"
    print(header)
    print("|" + "---|" * (2 + 2 * len(names)))
    for i, (strategy, size) in enumerate(configs):
        cells = " | ".join(f"{scores[n][i]['recall']:.3f} | {scores[n][i]['iou']:.4f}" for n in names)
        print(f"| {strategy} | {size} | {cells} |")


def _taus(configs, a_scores, b_scores, label, setting, name) -> list[dict]:
    """Kendall tau between two rankings of the configurations, overall and among strategies of one size."""
    sizes = sorted({size for _, size in configs})
    parts, rows = [], []
    for metric in ("iou", "recall"):
        a = [s[metric] for s in a_scores]
        b = [s[metric] for s in b_scores]
        within = []
        for size in sizes:
            same = [i for i, c in enumerate(configs) if c[1] == size]
            within.append(kendalltau([a[i] for i in same], [b[i] for i in same]).statistic)
        tau, gap = kendalltau(a, b).statistic, float(np.mean(np.abs(np.subtract(a, b))))
        parts.append(f"{metric}: tau {tau:.3f}, within a size {np.nanmean(within):.3f}, |diff| {gap:.3f}")
        rows.append({"setting": setting, "metric": metric, "name": name, "tau": tau, "gap": gap})
    print(f"- {label}: " + "; ".join(parts))
    return rows


def _summary(rows, generated, n_configs) -> None:
    """One markdown table: tau by setting and metric for each query set, and the score gap of recall."""
    print(f"\n### Summary: Kendall tau with Chroma's ranking of {n_configs} configurations\n")
    print("| setting | metric | generated (" + ", ".join(generated) + ") | verbatim | Chroma half vs half |")
    print("|---|---|---|---:|---:|")
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    for setting in settings:
        for metric in ("iou", "recall"):
            get = {r["name"]: r for r in rows if r["setting"] == setting and r["metric"] == metric}
            gen = ", ".join(f"{get[g]['tau']:.2f}" for g in generated)
            print(f"| {setting} | {metric} | {gen} | {get['verbatim']['tau']:.2f} | {get['halves']['tau']:.2f} |")
    recall = [r for r in rows if r["metric"] == "recall"]
    gen_gap = [r["gap"] for r in recall if r["name"] in generated]
    verbatim_gap = [r["gap"] for r in recall if r["name"] == "verbatim"]
    print(
        f"\nMean |recall - Chroma's recall| over configurations: generated {min(gen_gap):.3f}-{max(gen_gap):.3f}, "
        f"verbatim {min(verbatim_gap):.3f}-{max(verbatim_gap):.3f}"
    )


if __name__ == "__main__":
    main()
