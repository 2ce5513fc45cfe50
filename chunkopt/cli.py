"""The `chunkopt` command: parse, call the library, print. Messages go to stderr, data to stdout.

Exit codes: 0 success, 1 failure during the run, 2 usage error (bad flag, file or value).
"""

from __future__ import annotations

import functools
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

import chunkopt
import strategies
from strategies.base import ParameterError

stderr = Console(stderr=True, highlight=False)

EXAMPLES = {
    "sweep": "chunkopt sweep corpora/docs --queries corpora/queries.jsonl --out tuned.json --report report.html",
    "chunk": "chunkopt chunk docs/ --config tuned.json --manifest state.json > operations.jsonl",
    "index": "chunkopt index docs/ --config tuned.json --into chroma:vectors",
    "strategies": "chunkopt strategies",
    "import-chroma": "chunkopt import-chroma ../shared/benchmarks/chroma data/chroma",
    "queries": "chunkopt queries docs/ --n 60 --seed 1 > queries.jsonl",
}


def _user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's input errors into one line on stderr and exit code 2, no traceback."""
    from chunkopt.chroma import ChromaFormatError
    from chunkopt.config import ConfigError
    from chunkopt.corpus import CorpusError
    from chunkopt.index import StoreError
    from chunkopt.manifest import ManifestError
    from chunkopt.queries import QueryFileError

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ParameterError, CorpusError, QueryFileError, ConfigError, ChromaFormatError, ManifestError,
                StoreError) as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(2)

    return wrapper


def _csv(kind: type) -> Callable[[click.Context, click.Parameter, str | None], list[Any]]:
    """A click callback reading a comma-separated list of numbers (or percentages for overlap)."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> list[Any]:
        if not value:
            return []
        items = []
        for item in value.split(","):
            item = item.strip()
            try:
                items.append(item if item.endswith("%") and param.name == "overlap" else kind(item))
            except ValueError:
                raise click.BadParameter(f"expected comma-separated integers like 256,512, got {value!r}") from None
        return items

    return parse


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(chunkopt.__version__, prog_name="chunkopt")
def main() -> None:
    """Measure how to chunk documents for retrieval, instead of guessing.

    \b
    Example:
      chunkopt sweep corpora/docs --queries corpora/queries.jsonl --out tuned.json
    """
    warnings.showwarning = _show_warning


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """The library's warnings (a file read as cp1252, a budget smaller than the chunks) as one line, no source."""
    click.echo(f"Warning: {message}", err=True)


@main.command(epilog=f"Example: {EXAMPLES['sweep']}")
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option("--queries", "queries_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Query set (JSON Lines). Default: DOCS/queries.jsonl, else queries generated from the documents.")
@click.option("--grid", "grid_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Grid file (JSON or TOML), a list of {strategy: ..., param: [values]} objects.")
@click.option("--strategy", "strategy_names", multiple=True, help="Strategy to try (repeatable). Default: all registered.")
@click.option("--chunk-size", callback=_csv(int), help="Sizes in tokens, e.g. 256,512 (max_tokens for semantic).")
@click.option("--overlap", callback=_csv(int), help="Overlaps in tokens or percent of the size, e.g. 0,64 or 0,15%.")
@click.option("--retriever", default="tfidf", show_default=True, help="tfidf, bm25, lsa or neural.")
@click.option("--top-k", type=click.IntRange(min=1), help="Score the top K chunks per query.")
@click.option("--token-budget", type=click.IntRange(min=1),
              help="Score chunks in rank order while they fit in this many tokens (default 1024 unless --top-k).")
@click.option("--objective", default="iou", show_default=True, help="Metric to maximise: iou, recall, precision, mrr, ...")
@click.option("--max-query-ms", type=click.FloatRange(min=0), help="Constraint: p95 query latency, milliseconds.")
@click.option("--max-chunks", type=click.IntRange(min=1), help="Constraint: chunks in the index.")
@click.option("--min-recall", type=click.FloatRange(0, 1), help="Constraint: mean recall.")
@click.option("--max-context-tokens", type=click.FloatRange(min=1), help="Constraint: mean tokens returned per query.")
@click.option("--encoding", default="cl100k_base", show_default=True, help="tiktoken encoding that counts tokens.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the tuned configuration (JSON).")
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path), help="Write every configuration's metrics (.jsonl or .csv).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write a self-contained HTML report.")
@click.option("--jobs", type=int, default=1, show_default=True, help="Configurations evaluated in parallel (-1: all cores).")
@click.option("--checkpoint-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".chunkopt"),
              show_default=True, help="Where finished configurations are journaled, so a rerun resumes.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for generated queries.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Rows in the terminal table.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and the winner.")
@click.option("--verbose", "-v", is_flag=True, help="Print each configuration as it finishes.")
@_user_errors
def sweep(docs: Path, queries_path: Path | None, grid_path: Path | None, strategy_names: tuple[str, ...],
          chunk_size: list[int], overlap: list[Any], retriever: str, top_k: int | None, token_budget: int | None,
          objective: str, max_query_ms: float | None, max_chunks: int | None, min_recall: float | None,
          max_context_tokens: float | None, encoding: str, out: Path | None, results: Path | None,
          report: Path | None, jobs: int, checkpoint_dir: Path, seed: int, top: int, quiet: bool, verbose: bool) -> None:
    """Try chunking configurations on DOCS and pick the best for your queries."""
    from chunkopt.config import save_config, tuned_config
    from chunkopt.corpus import load_corpus
    from chunkopt.grid import grid_from_flags, load_grid
    from chunkopt.report import results_table, write_html, write_results
    from chunkopt.selection import Constraints
    from chunkopt.sweep import Sweep

    if top_k is not None and token_budget is not None:
        raise click.UsageError("give --top-k or --token-budget, not both")
    if grid_path and (strategy_names or chunk_size or overlap):
        raise click.UsageError("give --grid or --strategy/--chunk-size/--overlap, not both")
    if queries_path is None and docs.is_dir() and (docs / "queries.jsonl").is_file():
        queries_path = docs / "queries.jsonl"
    corpus = load_corpus(docs, exclude=(queries_path,) if queries_path else ())
    queries = _load_or_generate_queries(queries_path, corpus, seed, quiet)
    if not quiet:
        stderr.print(corpus.summary())
    grid = load_grid(grid_path) if grid_path else grid_from_flags(list(strategy_names), chunk_size, overlap)
    constraints = Constraints(max_query_ms=max_query_ms, max_chunks=max_chunks, min_recall=min_recall,
                              max_context_tokens=max_context_tokens)
    search = Sweep(grid, retriever=retriever, top_k=top_k, token_budget=token_budget, objective=objective,
                   constraints=constraints, encoding=encoding, n_jobs=jobs, checkpoint_dir=checkpoint_dir)
    started = time.perf_counter()
    try:
        _fit_with_progress(search, corpus, queries, quiet, verbose)
    except KeyboardInterrupt:
        journal = search.checkpoint_path(corpus, queries)
        stderr.print(f"\nInterrupted. Finished configurations are saved in {journal}; "
                     "rerun the same command to resume where it stopped.")
        sys.exit(130)
    elapsed = time.perf_counter() - started
    if not quiet:
        resumed = f" ({search.resumed_} resumed from {search.checkpoint_})" if search.resumed_ else ""
        stderr.print(f"{len(search.results_)} configurations scored on {len(queries)} queries in {elapsed:.1f} s{resumed}")
        stdout = Console()
        if not stdout.is_terminal:  # piped or captured: don't squeeze the table into 80 columns
            stdout = Console(width=140)
        stdout.print(results_table(search.results_, objective, top=top))
    verdict = search.explain()
    click.echo(verdict, err=True)
    if results:
        write_results(search.results_, results)
    if report:
        write_html(search.results_, objective, f"chunkopt sweep of {docs}", verdict, report)
    if search.best_config_ is None:
        sys.exit(1)
    if out:
        save_config(tuned_config(search, corpus, queries), out)
    written = [str(p) for p in (out, results, report) if p]
    if written and not quiet:
        stderr.print("wrote " + ", ".join(written))


def _load_or_generate_queries(queries_path: Path | None, corpus: Any, seed: int, quiet: bool) -> list[Any]:
    from chunkopt.queries import load_queries
    from chunkopt.querygen import generate_queries

    if queries_path is not None:
        return load_queries(queries_path, corpus)
    queries = generate_queries(corpus, seed=seed)
    if not quiet:
        stderr.print(f"No query set given: generated {len(queries)} queries from the documents (seed {seed}). "
                     "Real queries with reference spans give a better answer: see --queries.")
    return queries


def _fit_with_progress(search: Any, corpus: Any, queries: Any, quiet: bool, verbose: bool) -> None:
    if quiet:
        search.fit(corpus, queries)
        return
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=not verbose) as progress:
        task = progress.add_task("configurations", total=len(search.configurations))

        def advance(row: dict, done: int, total: int) -> None:
            progress.update(task, completed=done)
            if verbose:
                progress.console.print(f"{row['label']}: {search.objective}={row[search.objective]:.4f} "
                                       f"recall={row['recall']:.3f} chunks={row['n_chunks']}")

        search.fit(corpus, queries, progress=advance)


@main.command(epilog=f"Example: {EXAMPLES['chunk']}")
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tuned configuration written by `chunkopt sweep --out`.")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Incremental run: print upsert/delete operations for what changed since the run that wrote "
                   "this manifest (all upserts if it does not exist yet), then replace it.")
@_user_errors
def chunk(docs: Path, config_path: Path, manifest_path: Path | None) -> None:
    """Chunk DOCS with a tuned configuration; one JSON object per chunk on stdout."""
    from chunkopt.config import load_config
    from chunkopt.corpus import load_corpus
    from chunkopt.sections import chunk_document

    chunker = load_config(config_path)
    corpus = load_corpus(docs)
    if manifest_path is not None:
        _chunk_incrementally(corpus, chunker, manifest_path)
        return
    for document in corpus:
        for piece in chunk_document(chunker, document):
            click.echo(json.dumps(piece.to_dict(), ensure_ascii=False))


def _chunk_incrementally(corpus: Any, chunker: Any, manifest_path: Path) -> None:
    from chunkopt.manifest import prepare_manifest, read_manifest, update

    previous = read_manifest(manifest_path)
    plan = update(corpus, chunker, previous)
    if plan.rebuild:
        click.echo(f"{manifest_path} is from another configuration ({previous.config}, now {plan.manifest.config}): "
                   "full rebuild, every old id deleted", err=True)
    prepared = prepare_manifest(plan.manifest, manifest_path)  # fails before any output if it cannot be written
    try:
        for op in plan.operations():
            click.echo(json.dumps(op, ensure_ascii=False))
    except BaseException:
        prepared.discard()
        raise
    prepared.commit()
    click.echo(plan.summary(), err=True)


@main.command(name="index", epilog=f"Example: {EXAMPLES['index']}")
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tuned configuration written by `chunkopt sweep --out`.")
@click.option("--into", "into", required=True, help="Where to write: chroma:PATH (an embedded Chroma database folder).")
@click.option("--collection", default="chunkopt", show_default=True, help="Collection name in the database.")
@click.option("--embedder", help="sentence-transformers model (local path or cached name). Default: the tuned "
                                 "configuration's dense model, else the packaged all-MiniLM-L6-v2.")
@click.option("--dry-run", is_flag=True, help="Print what would be added, kept and deleted; write nothing.")
@_user_errors
def index_command(docs: Path, config_path: Path, into: str, collection: str, embedder: str | None, dry_run: bool) -> None:
    """Chunk DOCS with a tuned configuration and upsert the chunks into a vector database, incrementally."""
    from chunkopt.config import load_config, read_config
    from chunkopt.corpus import load_corpus
    from chunkopt.index import build_index, embedder_name, sentence_embedder

    kind, _, place = into.partition(":")
    if kind != "chroma" or not place:
        raise click.BadParameter(f"expected chroma:PATH, got {into!r}", param_hint="--into")
    chunker, model = load_config(config_path), embedder_name(read_config(config_path), embedder)
    try:
        from chunkopt.integrations.chroma_store import ChromaStore
    except ImportError:
        raise click.UsageError("--into chroma: needs chromadb: pip install 'chunkopt[chroma]'") from None
    store = ChromaStore(place, collection, embedder=model)
    corpus = load_corpus(docs)
    embed = None if dry_run else sentence_embedder(model)
    report = build_index(corpus, chunker, store, embed, dry_run=dry_run)
    if dry_run:
        for line in report.lines():
            click.echo(line)
    if report.plan.rebuild:
        click.echo(f"{store.describe()} was built with another configuration: full rebuild, every old id deleted", err=True)
    click.echo(report.summary(), err=True)


@main.command(name="strategies", epilog=f"Example: {EXAMPLES['strategies']}")
def list_strategies() -> None:
    """List the registered strategies and their parameters."""
    for name in strategies.available():
        cls = strategies.strategy_class(name)
        click.echo(f"{name}: {cls.description or (cls.__doc__ or '').strip().splitlines()[0]}")
        for p in cls.schema:
            unit = f" {p.unit}" if p.unit else ""
            click.echo(f"  {p.name} (default {p.default!r}{unit}; {p.describe_valid()}): {p.help}")


@main.command(name="import-chroma", epilog=f"Example: {EXAMPLES['import-chroma']}")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@_user_errors
def import_chroma_command(src: Path, dest: Path) -> None:
    """Convert Chroma's chunking-evaluation data in SRC to DEST/corpus/ and DEST/queries.jsonl."""
    from chunkopt.chroma import import_chroma

    counts = import_chroma(src, dest)
    click.echo(
        f"imported {counts['documents']} documents, {counts['questions']} questions, "
        f"{counts['references']} references into {dest}",
        err=True,
    )


@main.command(name="queries", epilog=f"Example: {EXAMPLES['queries']}")
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option("--n", "count", type=click.IntRange(min=1), default=50, show_default=True, help="Number of queries.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: the same seed gives the same queries.")
@_user_errors
def generate_queries_command(docs: Path, count: int, seed: int) -> None:
    """Generate a query set for DOCS offline (no LLM); JSON Lines on stdout."""
    from chunkopt.corpus import load_corpus
    from chunkopt.querygen import generate_queries
    from chunkopt.queries import query_to_dict

    for query in generate_queries(load_corpus(docs), n=count, seed=seed):
        click.echo(json.dumps(query_to_dict(query), ensure_ascii=False))
