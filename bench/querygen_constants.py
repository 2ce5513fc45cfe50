"""Choose the cloze generator's mix of questions and their constants on one data set, check on the other.

Each kind of question is generated alone (chunkopt.querygen.cloze's REFERENCE_MIX = {kind: 1}), in
variants of its constants: the answer kind (a fact question citing the answer phrase) at
DROP_PROBABILITY 0.55 and 0.75, the passage kind (an excerpt question citing 2-3 sentences) with 0
and 2 CONTEXT_WORDS. Every pure set (seeds 0 and 1, as many queries as real questions) is scored
query by query over the default grid's 32 configurations at bm25 and tfidf, top-5 and 1,024 tokens.
A mix is then assembled without generating it: a set of the same size whose kinds are drawn in the
mix (multinomially), each query taken from its kind's pure set, DRAWS times per seed and setting, so
every share of answer questions (0, 0.1, ..., 1) and every pair of variants is compared with the
sampling noise a real mixed set has. A mix's score on a data set is its mean tau by recall minus 10 x
its mean regret (recall lost by its pick), over the four settings, two seeds and the draws; "met" is
the share of those runs meeting both targets (tau >= 0.6, regret <= 0.02). The best on each data
set is reported on the other.

    .venv/bin/python bench/querygen_constants.py           # about 5 minutes on the shared 2-core machine
    .venv/bin/python bench/querygen_constants.py --datasets bundled squad-dev --n 1200   # the sweep's count
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_generation import load_dataset  # noqa: E402
from scipy.stats import kendalltau  # noqa: E402

from chunkopt.evaluation import evaluate
from chunkopt.grid import DEFAULT_GRID, expand
from chunkopt.querygen import cloze, generate_queries

# (kind, the constant varied, its value): the answer kind's drop, the passage kind's context words.
VARIANTS = {
    "answer, drop 0.55": ("answer", "DROP_PROBABILITY", 0.55),
    "answer, drop 0.75": ("answer", "DROP_PROBABILITY", 0.75),
    "passage, 0 context words": ("passage", "CONTEXT_WORDS", 0),
    "passage, 2 context words": ("passage", "CONTEXT_WORDS", 2),
}
SETTINGS = [("bm25", {"top_k": 5}), ("bm25", {"token_budget": 1024}), ("tfidf", {"top_k": 5}),
            ("tfidf", {"token_budget": 1024})]
SHARES = [i / 10 for i in range(11)]  # the chance of an answer question; the rest are passage questions
DRAWS = 10  # mixed sets assembled per seed and setting


def recall_by_query(corpus, sets, configurations, retriever, budget) -> dict[str, np.ndarray]:
    """{set name: recall array (configurations x queries)}: one evaluation per configuration for all sets."""
    everything = [q for qs in sets.values() for q in qs]
    rows = [{r["query_id"]: r["recall"] for r in evaluate(corpus, everything, c.build(), retriever, **budget).per_query}
            for c in configurations]
    return {name: np.array([[row[q.id] for q in qs] for row in rows]) for name, qs in sets.items()}


def pure_sets(corpus, n: int, seeds: list[int]) -> dict[str, list]:
    """{"variant/seed": queries}: each variant's kind alone, its constant set, the others as shipped."""
    sets = {}
    for name, (kind, constant, value) in VARIANTS.items():
        saved = cloze.REFERENCE_MIX, getattr(cloze, constant)
        cloze.REFERENCE_MIX = {kind: 1.0}
        setattr(cloze, constant, {**saved[1], kind: value})
        try:
            for seed in seeds:
                queries = generate_queries(corpus, n=n, seed=seed, method="cloze")
                sets[f"{name}/{seed}"] = [q.__class__(f"{name}{seed}-{q.id}", q.query, q.references) for q in queries]
        finally:
            cloze.REFERENCE_MIX = saved[0]
            setattr(cloze, constant, saved[1])
    return sets


def run(dataset: str, seeds: list[int], n: int | None = None) -> dict[tuple[str, str, float], dict[str, float]]:
    """{(answer variant, passage variant, answer share): mean tau by recall and its 5th percentile, mean regret
    and its 95th percentile, the share of runs meeting both targets, and the score}.

    `n`: queries in each pure set and each assembled mix (default: as many as the real questions)."""
    corpus, real = load_dataset(dataset)
    sets = {"real": real, **pure_sets(corpus, n or len(real), seeds)}
    configurations = expand(DEFAULT_GRID)
    scored = []
    for retriever, budget in SETTINGS:
        scored.append(recall_by_query(corpus, sets, configurations, retriever, budget))
        print(f"  {dataset}: {retriever} {budget} done", file=sys.stderr)
    answers = [v for v in VARIANTS if VARIANTS[v][0] == "answer"]
    passages = [v for v in VARIANTS if VARIANTS[v][0] == "passage"]
    summary = {}
    for a, p, share in itertools.product(answers, passages, SHARES):
        rng = np.random.default_rng(0)
        taus, regrets = [], []
        for s in scored:
            truth, n = s["real"].mean(axis=1), s[f"{a}/{seeds[0]}"].shape[1]
            for seed in seeds:
                for _ in range(DRAWS):
                    n_answer = rng.binomial(n, share)
                    pick_a = rng.choice(n, n_answer, replace=False)
                    pick_p = rng.choice(n, n - n_answer, replace=False)
                    generated = np.hstack([s[f"{a}/{seed}"][:, pick_a], s[f"{p}/{seed}"][:, pick_p]]).mean(axis=1)
                    taus.append(float(kendalltau(generated, truth).statistic))
                    regrets.append(float(truth.max() - truth[int(np.argmax(generated))]))
        summary[a, p, share] = {"tau_recall": float(np.mean(taus)), "min_tau_recall": float(np.percentile(taus, 5)),
                                "regret": float(np.mean(regrets)), "max_regret": float(np.percentile(regrets, 95)),
                                "met": float(np.mean([t >= 0.6 and g <= 0.02 for t, g in zip(taus, regrets)])),
                                "score": float(np.mean(taus) - 10 * np.mean(regrets))}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs=2, default=["squad-dev", "chroma"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--n", type=int, default=None,
                        help="queries per generated set (default: as many as the data set's real questions)")
    args = parser.parse_args()
    a_name, b_name = args.datasets
    a, b = run(a_name, args.seeds, args.n), run(b_name, args.seeds, args.n)
    best_a = max(a, key=lambda k: a[k]["score"])
    best_b = max(b, key=lambda k: b[k]["score"])
    shipped = ("answer, drop 0.75", "passage, 2 context words")
    print(f"\nchosen on {a_name}: {best_a}; chosen on {b_name}: {best_b}\n")
    print(f"| answer kind | passage kind | answer share | {a_name} tau recall (5th pct) | {a_name} regret (95th pct) "
          f"| {a_name} met | {b_name} tau recall (5th pct) | {b_name} regret (95th pct) | {b_name} met |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for key in a:
        marks = [f"chosen on {d}" for d, best in ((a_name, best_a), (b_name, best_b)) if best == key]
        if not marks and key[:2] != shipped:
            continue  # the other variant pairs: only their best share on each data set is printed
        label = f"{key[2]:.1f}" + (f" (**{', '.join(marks)}**)" if marks else "")
        x, y = a[key], b[key]
        print(f"| {key[0]} | {key[1]} | {label} | {x['tau_recall']:.2f} ({x['min_tau_recall']:.2f}) | {x['regret']:.3f} "
              f"({x['max_regret']:.3f}) | {x['met']:.2f} | {y['tau_recall']:.2f} ({y['min_tau_recall']:.2f}) | "
              f"{y['regret']:.3f} ({y['max_regret']:.3f}) | {y['met']:.2f} |")
    for name, table in ((a_name, a), (b_name, b)):
        for pair in itertools.product(*(sorted({k[i] for k in table}) for i in (0, 1))):
            best = max((k for k in table if k[:2] == pair), key=lambda k: table[k]["score"])
            print(f"best share for {pair[0]} + {pair[1]} on {name}: {best[2]:.1f} (tau {table[best]['tau_recall']:.2f}, "
                  f"regret {table[best]['regret']:.3f}, met {table[best]['met']:.2f})")


if __name__ == "__main__":
    main()
