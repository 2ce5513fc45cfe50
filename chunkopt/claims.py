"""Claims on configurations, so two sweeps sharing a checkpoint folder do each configuration once.

A sweep claims a configuration before evaluating it by locking a file named after it
(`sweep-<context>.locks/<sha of the configuration>.lock`, beside the journal) with `flock`. A
second sweep that finds a configuration claimed leaves it for later; when it has done the rest it
waits for the claim, then reads the row the first sweep journaled (or, if that sweep died without
finishing it, evaluates it itself). The operating system releases a lock when its process ends,
however it ends (`kill -9` included), so a stale lock cannot block anyone: the lock files stay
on disk, but only a living process holds them. Where `fcntl` is missing (Windows) nothing is
claimed and sweeps sharing a folder may both do a configuration, as before.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class Claims:
    """The configurations this process holds for the journal `journal` (None: no journal, no claims)."""

    def __init__(self, journal: Path | None) -> None:
        self.folder = journal.with_suffix(".locks") if journal is not None and fcntl is not None else None
        self.held: dict[str, int] = {}  # configuration key -> file descriptor of its locked file
        self.deferred: list[str] = []  # keys claimed by another process when we came to them

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".lock")

    def claim(self, key: str, wait: bool = False) -> bool:
        """Lock `key` for this process; False if another process holds it (only when not waiting)."""
        if self.folder is None or key in self.held:
            return True
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path(key), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a person looking
        self.held[key] = fd
        return True

    def release(self, key: str) -> None:
        """Give up the claim on `key` (after its row is in the journal)."""
        fd = self.held.pop(key, None)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def release_all(self) -> None:
        for key in list(self.held):
            self.release(key)

    def holder(self, key: str) -> str:
        """The process id written in `key`'s lock file, or "?"."""
        try:
            return self._path(key).read_text().strip() or "?"
        except OSError:
            return "?"

    def wait_for(self, key: str) -> None:
        """Block until the process that claimed `key` releases it (finished, failed or died), then hold it."""
        warnings.warn(
            f"another sweep (process {self.holder(key)}) is evaluating a configuration this sweep needs, "
            "in the same checkpoint folder; waiting for it to finish",
            stacklevel=3,
        )
        self.claim(key, wait=True)
