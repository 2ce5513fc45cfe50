"""Memory and time of a sweep as the corpus grows: synthetic corpora of 10 to 100 MB, many queries.

The corpora are generated here, from our own bundled sample (corpora/docs): its sentences are
recombined, and a share of their words replaced by random made-up words, so the vocabulary keeps
growing with the corpus as real text does. Each query is a few words of one generated sentence,
with that sentence as its reference span. Nothing external is copied.

Each measurement runs in a fresh process, one configuration set at a time and one process only
(the machine is shared); peak memory is the process's maximum resident set size (getrusage), and
wall time runs from reading the corpus to the ranked results.

    python bench/scale.py --mb 10 30 60 100 --queries 4000 --grid '[{"strategy": "recursive", "chunk_size": 128}]'
    python bench/scale.py --mb 100 --queries 10000 --grid default          # the full default grid
    python bench/scale.py --mb 100 --files 3000 --read-only       # time to read (and hash) the folder
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from chunkopt.grid import DEFAULT_GRID  # noqa: E402
SAMPLE = ROOT / "corpora" / "docs"
# One configuration per strategy and size of the default grid (its overlap variants cost the same).
DEFAULT_SUBSET = [
    {"strategy": "fixed", "chunk_size": [128, 1024], "overlap": [0]},
    {"strategy": "recursive", "chunk_size": [128, 1024], "overlap": [0]},
    {"strategy": "sentence", "chunk_size": [128, 1024], "overlap": [0]},
    {"strategy": "semantic", "max_tokens": [128, 1024], "breakpoint": ["percentile"]},
]


def sample_sentences() -> list[str]:
    """Sentences of the bundled sample corpus (split on end punctuation and blank lines)."""
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(SAMPLE.rglob("*")) if p.is_file())
    pieces = re.split(r"(?<=[.!?])\s+|\n\s*\n", text)
    return [" ".join(p.split()) for p in pieces if len(p.split()) >= 4]


def made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))


def generate(folder: Path, mb: float, n_files: int, n_queries: int, seed: int = 0) -> None:
    """Write `n_files` documents totalling about `mb` megabytes to folder/docs, and queries.jsonl."""
    rng = random.Random(seed)
    sentences = sample_sentences()
    vocabulary = [made_up_word(rng) for _ in range(200_000)]
    docs = folder / "docs"
    docs.mkdir(parents=True)
    per_file = int(mb * 1_000_000 / n_files)
    mean_length = sum(map(len, sentences)) / len(sentences) + 1.2
    rate = min(1.0, 2 * n_queries / (mb * 1_000_000 / mean_length))  # spans spread over the whole corpus
    spans: list[tuple[str, int, int, str]] = []  # (doc id, start, end, sentence)
    for i in range(n_files):
        doc_id = f"part{i // 100:03d}/doc{i:05d}.txt"
        parts, size = [], 0  # size: characters written so far, so offsets are exact
        while size < per_file:
            words = rng.choice(sentences).split()
            # Replace about a third of the words; Zipf-like: low indices of the vocabulary are common.
            words = [vocabulary[int(rng.paretovariate(1.1)) % len(vocabulary)] if rng.random() < 0.33 else w
                     for w in words]
            sentence = " ".join(words)
            if rng.random() < rate:
                spans.append((doc_id, size, size + len(sentence), sentence))
            separator = "\n\n" if rng.random() < 0.2 else " "
            parts += [sentence, separator]
            size += len(sentence) + len(separator)
        (docs / doc_id).parent.mkdir(exist_ok=True)
        (docs / doc_id).write_text("".join(parts), encoding="utf-8")
    rng.shuffle(spans)
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as f:
        for n, (doc_id, start, end, sentence) in enumerate(spans[:n_queries]):
            words = sentence.split()
            picked = rng.sample(words, min(len(words), rng.randint(4, 8)))
            f.write(json.dumps({"id": f"q{n}", "query": " ".join(picked),
                                "references": [{"doc": doc_id, "start": start, "end": end}]}) + "\n")


def child(folder: str, grid_json: str, retriever: str, mode: str) -> None:
    """One measurement in this fresh process: JSON with seconds, peak RSS and per-configuration times."""
    from chunkopt.retrievers import base as retrieval
    from chunkopt.corpus import load_corpus
    from chunkopt.queries import load_queries
    from chunkopt.sweep import Sweep

    started = time.perf_counter()
    corpus = load_corpus(Path(folder) / "docs")
    corpus.fingerprint()
    read_seconds = time.perf_counter() - started
    if mode == "unblocked":  # every query in one block: the full queries x chunks matrix, as before blocking
        retrieval.SEARCH_BLOCK_BYTES = 2**62
    figures: dict = {"read_seconds": read_seconds, "documents": len(corpus)}
    if mode != "read-only":
        queries = load_queries(Path(folder) / "queries.jsonl", corpus)
        per_config = []
        last = time.perf_counter()

        def progress(row: dict, done: int, total: int) -> None:
            nonlocal last
            now = time.perf_counter()
            per_config.append({"label": row["label"], "seconds": round(now - last, 1), "n_chunks": row["n_chunks"]})
            print(f"  {done}/{total} {row['label']}: {now - last:.0f} s, {row['n_chunks']:,} chunks", file=sys.stderr,
                  flush=True)
            last = now

        grid = json.loads(grid_json)
        Sweep(grid, retriever=retriever).fit(corpus, queries, progress=progress)
        figures.update(queries=len(queries), per_config=per_config)
    figures["seconds"] = time.perf_counter() - started
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, nargs="+", default=[10, 30, 60, 100])
    parser.add_argument("--files", type=int, default=None, help="files per corpus (default: 30 per MB)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--retriever", default="bm25")
    parser.add_argument("--grid", default='[{"strategy": "recursive", "chunk_size": 128}]',
                        help="a JSON grid; default (the sweep's default grid, 32 configurations); or default-subset "
                             "(one configuration per strategy, sizes 128 and 1024)")
    parser.add_argument("--read-only", action="store_true", help="only time reading and hashing the folder")
    parser.add_argument("--unblocked", action="store_true",
                        help="score all queries in one block (the full matrix, as before blocking), to compare")
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder instead of a temporary one")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    grid = {"default-subset": DEFAULT_SUBSET, "default": DEFAULT_GRID}.get(args.grid) or json.loads(args.grid)
    print(f"retriever {args.retriever}, {args.queries} queries, grid {json.dumps(grid)}"
          + (", all queries in one block (unblocked)" if args.unblocked else ""))
    print("| corpus | files | queries | read s | total s | peak MB | per configuration (s, chunks) |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for mb in args.mb:
        n_files = args.files or int(30 * mb)
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.keep / f"{mb:g}mb-{n_files}f-{args.queries}q" if args.keep else Path(tmp) / "corpus"
            if not (folder / "queries.jsonl").exists():
                generate(folder, mb, n_files, args.queries)
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(folder), json.dumps(grid), args.retriever,
                 "read-only" if args.read_only else "unblocked" if args.unblocked else "blocked"],
                check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT,  # stderr: progress, as it happens
            ).stdout
            f = json.loads(out.strip().splitlines()[-1])
            configs = "; ".join(f"{c['label']} {c['seconds']:g} s, {c['n_chunks']:,}" for c in f.get("per_config", []))
            print(f"| {mb:g} MB | {n_files:,} | {f.get('queries', '-')} | {f['read_seconds']:.1f} | {f['seconds']:.0f} "
                  f"| {f['peak_mb']:,.0f} | {configs or '-'} |", flush=True)


if __name__ == "__main__":
    main()
