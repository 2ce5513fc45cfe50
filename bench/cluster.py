"""Wall time of the default sweep: serial, two loky processes (--jobs 2), and a two-worker Dask cluster.

The cluster is a real `distributed.LocalCluster` (two worker processes, one thread each) on this
machine, reached through `chunkopt.integrations.dask.on_dask`, which scatters the corpus and the
queries once. Each run is a fresh process; the sweep's time runs from `fit` to the ranked results
(reading the data and starting the cluster are reported apart). Each run also prints a digest of
its results without the timing columns, so the table can say whether all three agree.

    python bench/cluster.py                 # chroma and squad-dev, if ../shared/benchmarks is there
    python bench/cluster.py --repeats 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets  # noqa: E402  (bench/datasets.py)

ROOT = Path(__file__).resolve().parents[1]
MODES = ("serial", "loky-2", "dask-2")
TIMINGS = {"chunk_seconds", "index_seconds", "query_ms_p50", "query_ms_p95"}


def child(name: str, mode: str) -> None:
    from chunkopt.sweep import Sweep

    corpus, queries = datasets.load(name)
    cluster_seconds = 0.0
    if mode == "dask-2":
        import distributed

        from chunkopt.integrations.dask import on_dask

        started = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = distributed.Client(cluster)
        cluster_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with on_dask(client, corpus, queries):
            sweep = Sweep(None, n_jobs=-1).fit(corpus, queries)
        seconds = time.perf_counter() - started
        client.close()
        cluster.close()
    else:
        started = time.perf_counter()
        sweep = Sweep(None, n_jobs=2 if mode == "loky-2" else 1).fit(corpus, queries)
        seconds = time.perf_counter() - started
    rows = sorted(({k: v for k, v in r.items() if k not in TIMINGS} for r in sweep.results_), key=lambda r: r["label"])
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()[:12]
    print(json.dumps({"seconds": seconds, "cluster_seconds": cluster_seconds, "digest": digest,
                      "configurations": len(rows)}))


def run(name: str, mode: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", name, mode], check=True, capture_output=True,
                         text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=["chroma", "squad-dev"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"Default grid, default retriever and budget; seconds are medians of {args.repeats} runs, each a fresh process.")
    print("| data set | configurations | serial s | --jobs 2 s | Dask, 2 workers s (cluster start s) | same results |")
    print("|---|---:|---:|---:|---:|---|")
    for name in args.datasets:
        if name != "bundled" and not datasets.SHARED.exists():
            print(f"| {name} | skipped: {datasets.SHARED} not found | | | | |")
            continue
        runs = {mode: [run(name, mode) for _ in range(args.repeats)] for mode in MODES}
        median = {mode: statistics.median(r["seconds"] for r in runs[mode]) for mode in MODES}
        start = statistics.median(r["cluster_seconds"] for r in runs["dask-2"])
        digests = {r["digest"] for mode in MODES for r in runs[mode]}
        same = "yes" if len(digests) == 1 else f"no ({len(digests)} digests)"
        print(f"| {name} | {runs['serial'][0]['configurations']} | {median['serial']:.1f} | {median['loky-2']:.1f} "
              f"| {median['dask-2']:.1f} ({start:.1f}) | {same} |", flush=True)


if __name__ == "__main__":
    main()
