"""The persistent embedding cache: vectors on disk by model identity and exact text, shared by every sweep.

One SQLite file (`embeddings.sqlite3` in chunkopt's cache folder, see `cache_folder`) holds, per
entry, the model identity (name or path plus a fingerprint of its files), the SHA-256 of the
text's UTF-8 bytes, the float32 vector and a digest over all three. A lookup whose digest does
not match (a torn or altered entry) is a miss and is written again, so a corrupted entry never
yields a wrong vector; a file that is not a database at all is removed and rebuilt.

The file is bounded: when the pages in use exceed `max_bytes`, the least recently used entries
(by the time they were last read or written) are deleted. Two processes may read and write at
once: SQLite's write-ahead log serialises the writers, each waits up to BUSY_SECONDS. Opening
waits too, by trying again: while a new file is switched to the log, SQLite answers "database is
locked" at once, without waiting, to whichever process would otherwise deadlock.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from strategies.base import ParameterError

FILE_NAME = "embeddings.sqlite3"
DEFAULT_MAX_BYTES = 2 * 1024**3  # 2 GiB: about 1.3 million 384-dimension vectors
MAX_BYTES_VARIABLE = "CHUNKOPT_CACHE_MAX_BYTES"
BUSY_SECONDS = 60.0
RETRY_SECONDS = 0.05  # pause between tries to open a file another process is setting up
EVICT_FRACTION = 0.1  # entries deleted per eviction round, as a share of those held (at least one)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    key BLOB NOT NULL,
    vector BLOB NOT NULL,
    digest BLOB NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (model, key)
);
CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used);
"""


class CacheUnavailable(Exception):
    """The cache file cannot be opened, read or written (the caller embeds without it)."""


def cache_folder() -> Path:
    """$CHUNKOPT_CACHE_DIR if set, else $XDG_CACHE_HOME/chunkopt, else ~/.cache/chunkopt (where models are extracted too)."""
    from strategies.embedders import cache_dir

    return cache_dir()


def max_bytes_from_environment() -> int:
    """The size limit in bytes: $CHUNKOPT_CACHE_MAX_BYTES if set (a positive integer), else DEFAULT_MAX_BYTES."""
    value = os.environ.get(MAX_BYTES_VARIABLE)
    if not value:
        return DEFAULT_MAX_BYTES
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ParameterError(f"{MAX_BYTES_VARIABLE} must be a positive integer number of bytes, got {value!r}")
    return limit


def text_key(text: str) -> bytes:
    """The key of a text: SHA-256 of its UTF-8 bytes (lone surrogates kept as they are)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _digest(model: str, key: bytes, vector: bytes) -> bytes:
    return hashlib.blake2b(model.encode() + b"\0" + key + vector, digest_size=16).digest()


def _locked(exc: sqlite3.DatabaseError) -> bool:
    """SQLITE_BUSY ("database is locked") or SQLITE_LOCKED ("database table is locked"), told by the
    message: the error code (`sqlite_errorcode`) came with Python 3.11, and 3.10 is supported."""
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


class EmbeddingStore:
    """Vectors by (model identity, text) in one SQLite file under `folder`, at most about `max_bytes` big."""

    def __init__(self, folder: str | Path | None = None, max_bytes: int | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_folder()
        self.path = self.folder / FILE_NAME
        self.max_bytes = max_bytes_from_environment() if max_bytes is None else max_bytes
        if self.max_bytes < 1:
            raise ParameterError(f"max_bytes must be a positive integer number of bytes, got {self.max_bytes!r}")
        self.rebuilt = False  # True when a corrupted file was removed and started afresh
        self._db: sqlite3.Connection | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._db = self._connect()
        except sqlite3.OperationalError as exc:  # locked, read-only, cannot open: not a reason to delete anything
            raise CacheUnavailable(f"{self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            self._rebuild(exc)
        except OSError as exc:
            raise CacheUnavailable(f"{self.folder}: {exc.strerror or exc}") from None

    def _connect(self) -> sqlite3.Connection:
        """Open the file in write-ahead-log mode with its table, trying again for up to BUSY_SECONDS while it is locked."""
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            db = sqlite3.connect(self.path, timeout=max(0.0, deadline - time.monotonic()), isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")  # each later read or write waits in full
                return db
            except sqlite3.DatabaseError as exc:
                db.close()
                if not _locked(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(RETRY_SECONDS)

    def _rebuild(self, cause: Exception) -> None:
        """The file is not a readable database: remove it (and its log) and start an empty one."""
        if self._db is not None:
            self._db.close()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.remove(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise CacheUnavailable(f"{self.path}: {exc.strerror or exc}") from None
        warnings.warn(f"embedding cache {self.path} was corrupted ({cause}): removed, starting an empty one",
                      RuntimeWarning, stacklevel=3)
        self.rebuilt = True
        try:
            self._db = self._connect()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise CacheUnavailable(f"{self.path}: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def get(self, model: str, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """The cached vectors of `texts` for `model`, by position in `texts`; entries that fail their digest are left out."""
        keys = [text_key(t) for t in texts]
        wanted: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            wanted.setdefault(key, []).append(i)
        found: dict[int, np.ndarray] = {}
        hits: list[bytes] = []
        distinct = list(wanted)
        try:
            for start in range(0, len(distinct), 500):  # SQLite's limit on bound parameters
                batch = distinct[start : start + 500]
                rows = self._db.execute(
                    f"SELECT key, vector, digest FROM vectors WHERE model = ? AND key IN ({','.join('?' * len(batch))})",
                    [model, *batch],
                ).fetchall()
                for key, vector, digest in rows:
                    if len(vector) % 4 or not vector or _digest(model, key, vector) != digest:
                        continue  # corrupted: a miss, written again by put()
                    row = np.frombuffer(vector, dtype="<f4").astype(np.float32)
                    hits.append(key)
                    for i in wanted[key]:
                        found[i] = row
            if hits:
                now = time.time_ns()
                self._db.executemany("UPDATE vectors SET used = ? WHERE model = ? AND key = ?",
                                     [(now, model, key) for key in hits])
        except sqlite3.OperationalError as exc:
            raise CacheUnavailable(f"{self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # damaged pages found while reading: start afresh, all misses
            self._rebuild(exc)
            return {}
        return found

    def put(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store one vector per text for `model`, then evict the least recently used entries beyond max_bytes."""
        now = time.time_ns()
        rows = []
        for text, vector in zip(texts, np.asarray(vectors, dtype="<f4")):
            key, blob = text_key(text), vector.tobytes()
            rows.append((model, key, blob, _digest(model, key, blob), now))
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)", rows)
                self._evict()
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise CacheUnavailable(f"{self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # damaged pages: start afresh (these vectors are simply not kept)
            self._rebuild(exc)

    def _used_bytes(self) -> int:
        page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        pages = self._db.execute("PRAGMA page_count").fetchone()[0] - self._db.execute("PRAGMA freelist_count").fetchone()[0]
        return int(pages * page_size)

    def _evict(self) -> None:
        """Delete the least recently used entries until the pages in use fit max_bytes (inside put's transaction)."""
        while self._used_bytes() > self.max_bytes:
            held = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            if not held:
                return
            self._db.execute(
                "DELETE FROM vectors WHERE rowid IN (SELECT rowid FROM vectors ORDER BY used, rowid LIMIT ?)",
                (max(1, int(held * EVICT_FRACTION)),),
            )

    def info(self) -> dict[str, object]:
        """Path, limit, entries, bytes in use and the entries per model: what `chunkopt cache info` prints."""
        try:
            models = dict(self._db.execute("SELECT model, COUNT(*) FROM vectors GROUP BY model ORDER BY model").fetchall())
            return {"path": str(self.path), "max_bytes": self.max_bytes, "entries": sum(models.values()),
                    "bytes": self._used_bytes(), "models": models}
        except sqlite3.DatabaseError as exc:
            raise CacheUnavailable(f"{self.path}: {exc}") from None

    def clear(self) -> int:
        """Delete every entry and give the space back; returns how many entries there were."""
        try:
            count = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            self._db.execute("DELETE FROM vectors")
            self._db.execute("VACUUM")
            return int(count)
        except sqlite3.DatabaseError as exc:
            raise CacheUnavailable(f"{self.path}: {exc}") from None


_warned: set[str] = set()


def warn_once(message: str) -> None:
    """Warn about the cache once per process and message (a sweep asks thousands of times)."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)
