"""What a sweep costs: a 48-configuration sweep against one configuration, and the default sweep.

Each measurement runs in a fresh Python process (so no cache carries over between them) and is
repeated; the table shows medians. Work shared between configurations (tokenising documents,
sentence splitting, sentence embeddings) is paid once by the sweep and once by a single run, so
the ratio shows how much sharing saves compared with 48 separate runs.

    python bench/sweep_cost.py              # bundled corpus, and the Chroma corpora if ../shared is there
    python bench/sweep_cost.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMA = ROOT.parent / "shared" / "benchmarks" / "chroma"
SIZES_48 = [128, 192, 256, 384, 512, 1024]
GRID_48 = [
    {"strategy": "fixed", "chunk_size": SIZES_48, "overlap": [0, "15%"]},
    {"strategy": "recursive", "chunk_size": SIZES_48, "overlap": [0, "15%"]},
    {"strategy": "sentence", "chunk_size": SIZES_48, "overlap": [0, 1]},
    {"strategy": "semantic", "max_tokens": SIZES_48, "breakpoint": ["percentile", "interquartile"]},
]
SINGLES = [
    {"strategy": "fixed", "chunk_size": 512},
    {"strategy": "recursive", "chunk_size": 512},
    {"strategy": "sentence", "chunk_size": 512},
    {"strategy": "semantic", "max_tokens": 512},
]


def child(docs: str, queries: str, grid_json: str) -> None:
    """Run one sweep in this (fresh) process and print its wall time, from reading the corpus on."""
    from chunkopt.corpus import load_corpus
    from chunkopt.queries import load_queries
    from chunkopt.sweep import Sweep
    # Imports stay out of the timing: the retrievers' modules (scikit-learn) load on first use.
    from chunkopt.retrievers import sparse  # noqa: F401

    started = time.perf_counter()
    corpus = load_corpus(docs)
    grid = json.loads(grid_json) if grid_json != "default" else None
    sweep = Sweep(grid).fit(corpus, load_queries(queries, corpus))
    print(json.dumps({"seconds": time.perf_counter() - started, "configurations": len(sweep.results_)}))


def run(docs: Path, queries: Path, grid: object, repeats: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(docs), str(queries), json.dumps(grid) if grid else "default"],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        times.append(result["seconds"])
        n = result["configurations"]
    return statistics.median(times), n


def measure(docs: Path, queries: Path, repeats: int) -> dict[str, float]:
    """Median seconds of each single configuration, the 48-configuration sweep and the default sweep."""
    figures = {}
    for single in SINGLES:
        figures[single["strategy"]], _ = run(docs, queries, [single], repeats)
    figures["sweep48"], figures["n48"] = run(docs, queries, GRID_48, repeats)
    figures["default"], figures["n_default"] = run(docs, queries, None, repeats)
    return figures


def table(rows: dict[str, dict[str, float]], repeats: int) -> str:
    names = [s["strategy"] for s in SINGLES]
    lines = [
        f"Seconds are medians of {repeats} runs, each in a fresh process, from reading the corpus to the ranked "
        "results (imports excluded). Single configurations are each strategy at 512 tokens.",
        "",
        "| corpus | " + " | ".join(f"single {n}" for n in names)
        + " | 48-config sweep | ÷ mean single | ÷ slowest single | ÷ 48 separate runs | default sweep (32) |",
        "|---|" + "---:|" * (len(names) + 5),
    ]
    for corpus, f in rows.items():
        singles = [f[n] for n in names]
        mean = statistics.mean(singles)
        lines.append(
            f"| {corpus} | " + " | ".join(f"{v:.2f} s" for v in singles)
            + f" | {f['sweep48']:.2f} s | {f['sweep48'] / mean:.1f}x | {f['sweep48'] / max(singles):.1f}x"
            f" | {f['sweep48'] / (f['n48'] * mean):.2f}x | {f['default']:.2f} s |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = {"bundled corpora/ (90 KB, 90 queries)": measure(ROOT / "corpora" / "docs", ROOT / "corpora" / "queries.jsonl", args.repeats)}
    if CHROMA.is_dir():
        from chunkopt.chroma import import_chroma

        with tempfile.TemporaryDirectory() as tmp:
            import_chroma(CHROMA, tmp)
            rows["Chroma corpora (1.45 MB, 472 queries)"] = measure(Path(tmp) / "corpus", Path(tmp) / "queries.jsonl", args.repeats)
    else:
        print(f"(skipped the Chroma corpora: {CHROMA} not found)")
    print(table(rows, args.repeats))


if __name__ == "__main__":
    main()
