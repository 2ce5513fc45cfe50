"""A dense sweep on a CPU: how long the default grid takes with the `neural` retriever, and whether the fast path ranks like the reference.

Two measurements, each sweep in a fresh process with its own empty cache folder (cold: the
model is extracted, the int8 file exported and quantised where int8 runs, every chunk embedded)
unless warm:

1. `sweep`: the default grid (32 configurations plus the fixed-512 baseline) at a 1,024-token
   budget on a data set of bench/datasets.py, once per retriever spec (default: `neural`, which
   runs at bf16 on a CPU with bfloat16 instructions and at int8 elsewhere, then `neural
   precision=int8`, then `neural precision=fp32`, the PyTorch reference), each fast one again
   with its cache warm. Printed: wall seconds, seconds in the encoder, word pieces embedded (and
   per encoder second), chunks embedded and cached; then, against the first fp32 run, Kendall
   tau of the configurations by recall, the largest difference in recall, both recommendations.
2. `hnsw`: exact against HNSW search (Chroma's defaults, M 16, ef_construction 100, ef_search
   100, and a weaker ef_search 10) at three chunk sizes, warm cache: recall, what HNSW lost,
   the share of exact neighbours it found, single-query latency.

    python bench/dense_sweep.py sweep --dataset chroma          # about 40 minutes: fp32 is the slow one
    python bench/dense_sweep.py sweep --dataset chroma --specs neural   # the default alone
    python bench/dense_sweep.py hnsw --dataset chroma
    python bench/dense_sweep.py compare runs.json               # re-print the comparison of saved runs

Runs are appended to --runs (default bench/.dense_runs.json, not committed) so a long reference
run is not repeated to print a comparison again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def child_sweep(dataset: str, spec: str) -> None:
    """In this fresh process: the default sweep with `spec`; prints one JSON line."""
    import datasets

    from chunkopt.retrievers.neural import NeuralRetriever
    from chunkopt.sweep import Sweep

    # Word pieces and seconds spent in the encoder, whatever the precision: the pieces are those
    # the retriever read of each text to key its cache (truncated at the model's limit).
    encoder = {"pieces": 0, "seconds": 0.0}
    encode = NeuralRetriever._encode

    def counted(self, texts):  # type: ignore[no-untyped-def]
        encoder["pieces"] += sum(len(self._pieces[t]) for t in texts)
        begun = time.perf_counter()
        try:
            return encode(self, texts)
        finally:
            encoder["seconds"] += time.perf_counter() - begun

    NeuralRetriever._encode = counted
    started = time.perf_counter()
    corpus, queries = datasets.load(dataset)
    sweep = Sweep(retriever=spec, token_budget=1024).fit(corpus, queries)
    seconds = time.perf_counter() - started
    rows = {r["label"]: {"recall": r["recall"], "chunks_embedded": r.get("chunks_embedded", 0),
                         "chunks_cached": r.get("chunks_cached", 0)} for r in sweep.results_}
    print(json.dumps({"dataset": dataset, "spec": spec, "precision": sweep.retriever_params.get("precision"),
                      "seconds": seconds, "pieces": encoder["pieces"], "encode_seconds": encoder["seconds"], "rows": rows,
                      "recommended": sweep.best_config_ and sweep.best_row_["label"],
                      "top_scorer": sweep.top_row_["label"]}))


def child_hnsw(dataset: str) -> None:
    import datasets

    from chunkopt.evaluation import evaluate
    from chunkopt.retrievers import parse_retriever
    from strategies import get

    corpus, queries = datasets.load(dataset)
    lines = []
    for size in (128, 256, 512):
        chunker = get("fixed", chunk_size=size, overlap=0)
        for spec in ("neural", "neural index=hnsw", "neural index=hnsw hnsw_ef_search=10"):
            s = evaluate(corpus, queries, chunker, retriever=parse_retriever(spec), token_budget=1024).summary
            lines.append({"size": size, "spec": spec, "n_chunks": s["n_chunks"], "recall": s["recall"],
                          "recall_lost": s.get("recall_lost"), "neighbours_found": s.get("neighbours_found"),
                          "ms_p50": s["query_ms_p50"], "ms_p95": s["query_ms_p95"], "index_bytes": s["index_bytes"],
                          "index_seconds": s["index_seconds"]})
    print(json.dumps(lines))


def run_child(args: list[str], cache: str) -> dict | list:
    env = {**os.environ, "CHUNKOPT_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, __file__, *args], check=True, stdout=subprocess.PIPE, text=True, env=env,
                         cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare(runs: list[dict]) -> None:
    from scipy.stats import kendalltau

    print("| dataset | retriever (precision run) | cache | wall s | encoder s | word pieces embedded | per second "
          "| chunks embedded | chunks cached | recommended | top scorer |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    for r in runs:
        embedded = sum(v["chunks_embedded"] for v in r["rows"].values())
        cached = sum(v["chunks_cached"] for v in r["rows"].values())
        pieces, encoding = r.get("pieces"), r.get("encode_seconds")  # absent from runs saved before they were counted
        rate = f"{pieces / encoding:,.0f}" if pieces and encoding else ""
        print(f"| {r['dataset']} | {r['spec']} ({r.get('precision', '')}) | {r.get('cache', 'cold')} | {r['seconds']:.0f} "
              f"| {'' if encoding is None else f'{encoding:.0f}'} | {'' if pieces is None else f'{pieces:,}'} | {rate} "
              f"| {embedded:,} | {cached:,} | {r['recommended']} | {r['top_scorer']} |")
    for dataset in sorted({r["dataset"] for r in runs}):
        reference = next((r for r in runs if r["dataset"] == dataset and "fp32" in r["spec"]), None)
        if reference is None:
            continue
        for r in runs:
            if r["dataset"] != dataset or r is reference:
                continue
            labels = sorted(reference["rows"])
            ours = [r["rows"][label]["recall"] for label in labels]
            theirs = [reference["rows"][label]["recall"] for label in labels]
            tau = kendalltau(ours, theirs).statistic
            gaps = [abs(a - b) for a, b in zip(ours, theirs)]
            print(f"{dataset}, {r['spec']} ({r.get('cache', 'cold')}) against {reference['spec']}: Kendall tau by recall "
                  f"{tau:.3f} over {len(labels)} configurations, largest recall difference {max(gaps):.4f} "
                  f"({sum(g <= 0.01 for g in gaps)} of {len(gaps)} within 0.01), "
                  f"recommendation {'the same' if r['recommended'] == reference['recommended'] else 'DIFFERENT'} "
                  f"({r['recommended']} / {reference['recommended']}), speed-up {reference['seconds'] / r['seconds']:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("sweep", "hnsw", "compare", "child-sweep", "child-hnsw"))
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", default="chroma")
    parser.add_argument("--specs", nargs="+", default=["neural", "neural precision=int8", "neural precision=fp32"])
    parser.add_argument("--runs", type=Path, default=ROOT / "bench" / ".dense_runs.json")
    args = parser.parse_args()
    if args.what == "child-sweep":
        child_sweep(*args.rest)
        return
    if args.what == "child-hnsw":
        child_hnsw(*args.rest)
        return
    if args.what == "compare":
        compare(json.loads(Path(args.rest[0] if args.rest else args.runs).read_text()))
        return
    if args.what == "hnsw":
        with tempfile.TemporaryDirectory() as cache:
            run = run_child(["child-sweep", args.dataset, "neural"], cache)  # fills the cache: search is what is timed
            print(f"(the {run['precision']} sweep that filled the cache: {run['seconds']:.0f} s cold, "
                  f"recommended {run['recommended']})")
            runs = json.loads(args.runs.read_text()) if args.runs.exists() else []
            args.runs.write_text(json.dumps(runs + [{**run, "cache": "cold"}], indent=1))
            lines = run_child(["child-hnsw", args.dataset], cache)
        print("| chunk size | chunks | search | recall@1024 | recall lost to HNSW (points) | exact neighbours found "
              "| ms p50 | ms p95 | index MB | index s |")
        print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for x in lines:
            search = "exact" if "hnsw" not in x["spec"] else x["spec"].removeprefix("neural index=")
            lost = "" if x["recall_lost"] is None else f"{x['recall_lost'] * 100:.2f}"
            found = "" if x["neighbours_found"] is None else f"{x['neighbours_found']:.1%}"
            print(f"| {x['size']} | {x['n_chunks']:,} | {search} | {x['recall']:.3f} | {lost} | {found} "
                  f"| {x['ms_p50']:.2f} | {x['ms_p95']:.2f} | {x['index_bytes'] / 1e6:.1f} | {x['index_seconds']:.1f} |")
        return
    runs = json.loads(args.runs.read_text()) if args.runs.exists() else []
    for spec in args.specs:
        with tempfile.TemporaryDirectory() as cache:
            run = run_child(["child-sweep", args.dataset, spec], cache)
            runs.append({**run, "cache": "cold"})
            print(f"{spec}: {run['seconds']:.0f} s cold", flush=True)
            if "fp32" not in spec:
                warm = run_child(["child-sweep", args.dataset, spec], cache)
                runs.append({**warm, "cache": "warm"})
                print(f"{spec}: {warm['seconds']:.0f} s warm", flush=True)
        args.runs.write_text(json.dumps(runs, indent=1))
    compare(runs)


if __name__ == "__main__":
    main()
