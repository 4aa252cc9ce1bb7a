"""Inter-process locks (flock) that let the daemon and CLI commands share one storage area.

The worker lock: only the process holding it scans, assembles and recovers jobs. `edge run`
holds it for its lifetime; a CLI command takes it only when no daemon runs, and otherwise leaves
its job in the queue for the daemon. The outbox lock serialises every change of outbox names
(publish, rename, recovery), which a CLI `edge rename` may make while the daemon works.
The delivery-pass and scan-start locks let `edge update` stop the service between two
transfers and never in the middle of a scan.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

POLL_SECONDS = 0.1


def worker_lock(locks: Path, *, wait: float = 0.0) -> contextlib.AbstractContextManager[bool]:
    """Yield True while holding the lock, False if another process kept it for `wait` seconds."""
    return file_lock(locks / "worker.lock", wait=wait)


def outbox_lock(locks: Path) -> contextlib.AbstractContextManager[bool]:
    """Held while files are linked into, renamed in or recovered from the outbox."""
    return file_lock(locks / "outbox.lock", wait=None)


def delivery_pass(locks: Path, *, wait: float | None) -> contextlib.AbstractContextManager[bool]:
    """Held by the service through each delivery pass, and by `edge update` from the moment no
    transfer runs until the service is stopped, so an update never cuts a delivery short."""
    return file_lock(locks / "delivery-pass.lock", wait=wait)


def scan_starts(locks: Path, *, wait: float | None) -> contextlib.AbstractContextManager[bool]:
    """The lock a job's move to scanning takes (`scan_start`), and `edge update` holds."""
    return file_lock(locks / "scan-start.lock", wait=wait)


@contextlib.contextmanager
def scan_start(locks: Path, stop: threading.Event) -> Iterator[bool]:
    """Held by a worker while it moves a job to scanning, and by `edge update` from its last
    look for running scans until the service is stopped: a scan then either runs before that
    look (and the update waits for it) or waits in the queue for the new release. False if
    `stop` was set while an update held it."""
    while not stop.is_set():
        with scan_starts(locks, wait=POLL_SECONDS) as held:
            if held:
                yield True
                return
    yield False


@contextlib.contextmanager
def file_lock(path: Path, *, wait: float | None) -> Iterator[bool]:
    """flock `path`; wait=None blocks, otherwise give up after `wait` seconds."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _acquire(fd, wait):
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield True
    finally:
        os.close(fd)


def _acquire(fd: int, wait: float | None) -> bool:
    if wait is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)


def holder(locks: Path) -> str:
    """The pid written by the current or last holder of the worker lock, for log messages."""
    try:
        return (locks / "worker.lock").read_text().strip() or "?"
    except OSError:
        return "?"
