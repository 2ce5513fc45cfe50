"""What the CLI commands share besides click itself: flag parsing, consoles, interrupts, skipped files.

Kept apart from cli.py so each command's body stays a short list of steps.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

import click
from rich.console import Console

REPORT_SUFFIXES = (".html", ".htm")


def console(stderr: bool = False, width: int | None = None) -> Console:
    """A rich console that prints user text as is: no markup (a path like 'ck[/red]' stays text), no
    highlighting, and no hard wrapping (a log file gets whole lines, not lines cut at 80 columns)."""
    return Console(stderr=stderr, highlight=False, markup=False, soft_wrap=True, width=width)


def comma_list(ctx: click.Context, param: click.Parameter, value: Iterable[str] | None) -> list[str]:
    """A repeatable flag that also takes comma lists: `--strategy fixed,recursive --strategy sentence`."""
    items = []
    for given in value or ():
        parts = [p.strip() for p in given.split(",")]
        if not all(parts):
            raise click.BadParameter(f"expected names separated by commas like fixed,recursive, got {given!r}")
        items.extend(parts)
    return items


def jobs(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """--jobs: a positive number of processes, or -1 for all cores (checked before any work)."""
    if value == 0 or value < -1:
        raise click.BadParameter(f"must be a positive number of processes or -1 for all cores, got {value}")
    return value


def check_report_suffix(report: Path | None) -> None:
    """--report writes HTML, so a name that promises another format is refused rather than mislabelled."""
    if report is not None and report.suffix.lower() not in REPORT_SUFFIXES:
        raise click.BadParameter(
            f"the report is HTML: give a name ending in .html or .htm, got {str(report)!r}", param_hint="'--report'"
        )


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """'1 configuration', '2 configurations'; `nouns` for irregular plurals ('query', 'queries')."""
    return f"{n} {noun}" if n == 1 else f"{n} {nouns or noun + 's'}"


def pick_encoding(flag: str | None, from_grid: set[str]) -> str:
    """The tokenizer for the sweep: --encoding if given, else the default; a grid's own encoding is kept.

    A grid file that names encodings and a different --encoding are a conflict, refused rather
    than one silently replacing the other.
    """
    from strategies.tokens import DEFAULT_ENCODING

    if flag is not None and from_grid and from_grid != {flag}:
        raise click.UsageError(
            f"--encoding {flag} conflicts with the grid's encoding ({', '.join(sorted(from_grid))}): give one of them"
        )
    return flag or DEFAULT_ENCODING


def report_corpus(corpus: Any, quiet: bool, verbose: bool) -> None:
    """What was read and skipped, on stderr: the summary line, and with -v one line per skipped file."""
    if quiet:
        return
    click.echo(corpus.summary(), err=True)
    if verbose:
        for name, reason in corpus.skipped:
            click.echo(f"skipped {name}: {reason}", err=True)


def interrupt_exits_130(command: Callable[..., Any]) -> Callable[..., Any]:
    """Ctrl-C anywhere in a command (reading documents, generating queries) exits 130 with one line.

    click would print "Aborted!" and exit 1; 130 is what shells use for SIGINT. The sweep's own
    handler, which names the journal to resume from, runs first while configurations are scored.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            if click.get_current_context().info_name == "sweep":  # its outputs are written as a set, or not at all
                message = ("Interrupted; no output was written. Rerun the same command to start again "
                           "(configurations already scored are resumed from the checkpoint).")
            else:
                message = "Interrupted; what was printed so far is incomplete."
            click.echo(f"\n{message}", err=True)
            sys.exit(130)

    return wrapper
