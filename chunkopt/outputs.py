"""Writing output files safely: atomically, never over an input, checked before any work.

Every file chunkopt writes goes to a temporary file in the same folder, then `os.replace` puts it
in place in one step, so a crash, a full disk or Ctrl-C never leaves a half-written file, and a
reader sees the old file or the new one, never a mixture.

    write_atomic("out/tuned.json", text)
    with atomic_open("out/results.csv", newline="") as f: ...
    with staged({"tuned.json": ..., "report.html": ...}) as temporary: ...   # all or none

`check_outputs` refuses, before a sweep starts, an output that would overwrite an input or
another output, or that cannot be written at all (a read-only folder, /proc, a folder name).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Mapping, TextIO

from chunkopt.corpus import FORMATS
from strategies.base import ParameterError


class OutputError(ParameterError):
    """An output path is unusable: it is an input, repeats another output, or cannot be written."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # what open(path, "w") would give a new file


def _temporary(path: Path) -> Path:
    """A new, empty temporary file beside `path`, keeping its suffix (writers choose a format by it)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    return Path(name)


def _commit(temporary: Path, path: Path) -> None:
    """Give the finished temporary file the mode a new file would have (or the old file's), and rename it."""
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = _MODE
    os.chmod(temporary, mode)
    os.replace(temporary, path)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], newline: str | None = None) -> Iterator[TextIO]:
    """A UTF-8 text file to write that appears at `path` only when the block ends without an error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path)
    try:
        with open(temporary, "w", encoding="utf-8", newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        _commit(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically: the old file stays until the new one is complete."""
    with atomic_open(path, newline="") as f:
        f.write(text)


@contextlib.contextmanager
def staged(paths: list[Path]) -> Iterator[dict[Path, Path]]:
    """Write several outputs as a set: the block writes to the temporary paths given, then all are renamed.

    If the block fails, none of the outputs is touched (the temporary files are removed), so a
    set of outputs that belong together (tuned config, results, report) is never left mismatched.
    """
    temporaries: dict[Path, Path] = {}
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporaries[path] = _temporary(path)
        yield dict(temporaries)
        for path, temporary in temporaries.items():
            _commit(temporary, path)
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except (OSError, RuntimeError):
        return False


def check_outputs(outputs: Mapping[str, Path | None], inputs: Mapping[str, Path | None]) -> None:
    """Refuse (OutputError) outputs that are inputs, repeat each other, or cannot be written.

    `outputs` and `inputs` map a flag or argument name (e.g. "--out", "DOCS") to its path; None
    entries are ignored. An input folder protects every file already in it.
    """
    given = {flag: Path(p) for flag, p in outputs.items() if p is not None}
    for flag, path in given.items():
        for source, input_path in inputs.items():
            if input_path is None:
                continue
            input_path = Path(input_path)
            inside = input_path.is_dir() and _inside(path, input_path)
            if _same(path, input_path) or (inside and path.exists()):
                raise OutputError(
                    f"{flag} {path} would overwrite the input {source} {input_path}; write the output elsewhere"
                )
            if inside and path.suffix.lower() in FORMATS:
                raise OutputError(
                    f"{flag} {path} is inside the input {source} {input_path}, so the next run would read it as a "
                    "document; write the output elsewhere"
                )
    flags = list(given)
    for i, flag in enumerate(flags):
        for other in flags[i + 1 :]:
            if _same(given[flag], given[other]):
                raise OutputError(f"{flag} and {other} are the same file ({given[flag]}); give each its own path")
    for flag, path in given.items():
        check_writable_file(path, flag)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def _nearest_existing(folder: Path) -> Path:
    folder = folder.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in `folder` (the only sure test: permissions, read-only mounts, /proc)."""
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise OutputError(f"{what}: {existing} is a file, not a folder")
    try:
        fd, name = tempfile.mkstemp(dir=existing, prefix=".chunkopt-probe-")
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise OutputError(f"{what}: cannot write in {existing} ({exc.strerror or exc})") from None


def check_writable_file(path: Path, flag: str) -> None:
    """Raise OutputError unless a file can be written at `path` (its folder may not exist yet)."""
    if path.is_dir():
        raise OutputError(f"{flag} {path} is a folder; give a file name")
    _probe(path.parent, f"{flag} {path}")


def check_writable_folder(folder: Path, flag: str) -> None:
    """Raise OutputError unless files can be created in `folder` (created later if missing)."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{flag} {folder} is a file, not a folder")
    _probe(folder, f"{flag} {folder}")
