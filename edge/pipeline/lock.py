"""The worker lock: only the process holding it scans, assembles and recovers jobs.

`edge run` holds it for its lifetime; a CLI command takes it only when no daemon runs, and
otherwise leaves its job in the queue for the daemon, so both share one queue safely.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def worker_lock(locks: Path, *, wait: bool) -> Iterator[bool]:
    """Yield True while holding the lock; False at once if another process has it (wait=False)."""
    fd = os.open(locks / "worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield True
    finally:
        os.close(fd)


def holder(locks: Path) -> str:
    """The pid written by the current or last holder, for log messages."""
    try:
        return (locks / "worker.lock").read_text().strip() or "?"
    except OSError:
        return "?"
