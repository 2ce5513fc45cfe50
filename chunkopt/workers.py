"""Worker processes end with the sweep that started them, even when it is killed with `kill -9`.

joblib's loky workers outlive a parent that dies without cleaning up, and keep computing (and
holding memory) for configurations nobody will read. Each task sent to a worker carries the
parent's process id; the worker starts a watchdog thread once, which exits the worker as soon
as its parent is gone (it is then re-parented, so `os.getppid()` changes).
"""

from __future__ import annotations

import os
import threading

WATCH_SECONDS = 0.5  # how often a worker checks that its parent is still there

_watching = False
_never = threading.Event()  # never set: waiting on it is the watchdog's pause between checks


def watch_parent(parent_pid: int) -> None:
    """In a worker whose parent is `parent_pid`, exit the process when that parent dies.

    Does nothing in the parent itself or where the worker is not its direct child (a Dask
    worker started by a nanny), so it is safe to call in every task.
    """
    global _watching
    if _watching or os.getpid() == parent_pid or os.getppid() != parent_pid:
        return
    _watching = True

    def watch() -> None:
        while not _never.wait(WATCH_SECONDS):
            if os.getppid() != parent_pid:
                os._exit(1)  # no cleanup to do: the results were for the dead parent

    threading.Thread(target=watch, name="chunkopt-watch-parent", daemon=True).start()

