"""How much wider are a sweep's intervals when questions that go together are resampled together
than when each query counts as independent?

Two kinds of group: a generated set's questions about one sentence (cloze v3's `group`), and a
SQuAD set's crowd-written questions about one paragraph (`chunkopt import-squad`'s `group`). For
each data set, the queries (by default 1,200 cloze queries, seed 0; `--real` for the data set's
own questions, where they have groups) and the same queries with their groups removed are swept
alike (`Sweep(retriever="bm25", token_budget=1024)`, the default grid); printed side by side: the
median width of the configurations' 95% intervals, how many tie with the top scorer, and the gain
over the default baseline with its interval and p-value.

    .venv/bin/python bench/grouped_intervals.py --datasets bundled squad-dev chroma
    .venv/bin/python bench/grouped_intervals.py --datasets squad-dev --real
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from chunkopt.queries import GeneratedQueries, query_groups
from chunkopt.querygen import generate_queries
from chunkopt.sweep import Sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_generation import dataset_path, load_dataset  # noqa: E402  (bench/query_generation.py)


def summary(sweep: Sweep) -> dict:
    decision = sweep.decision_
    widths = [high - low for low, high in decision.intervals]
    return {"width": float(np.median(widths)), "tied": len(decision.tied), "gain": decision.gain, "groups": decision.groups}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["bundled", "squad-dev", "chroma"])
    parser.add_argument("--n", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--real", action="store_true", help="the data set's own questions instead of generated ones")
    args = parser.parse_args()
    for name in args.datasets:
        if not dataset_path(name).exists():
            print(f"{name}: {dataset_path(name)} not found, skipped", file=sys.stderr)
            continue
        corpus, real = load_dataset(name)
        if args.real:
            if query_groups(real) is None:
                print(f"{name}: its own questions have no groups, skipped", file=sys.stderr)
                continue
            grouped, independent = real, [replace(q, group=None) for q in real]
        else:
            grouped = generate_queries(corpus, n=args.n, seed=args.seed)
            independent = GeneratedQueries([replace(q, group=None) for q in grouped], grouped.generator_info)
        g, i = (summary(Sweep(retriever="bm25", token_budget=1024).fit(corpus, qs)) for qs in (grouped, independent))
        print(f"{name}{' (its own questions)' if args.real else ''}: {len(grouped)} queries in "
              f"{g['groups'] or len(grouped)} groups; median interval width {g['width']:.4f} grouped, "
              f"{i['width']:.4f} independent (ratio {g['width'] / i['width']:.2f}); tied with the top {g['tied']} and "
              f"{i['tied']}; gain over the baseline {g['gain']['gain']:+.3f}, CI {g['gain']['ci_low']:+.3f} to "
              f"{g['gain']['ci_high']:+.3f} (p = {g['gain']['p']:.2g}) grouped, {i['gain']['ci_low']:+.3f} to "
              f"{i['gain']['ci_high']:+.3f} (p = {i['gain']['p']:.2g}) independent", flush=True)


if __name__ == "__main__":
    main()
