"""Waiting for a SANE backend's reader thread before anything may cancel it.

Backends built on sanei_thread (the `test` backend, avision, pixma and others) read the device
in a thread they start in sane_start(), and stop it with pthread_cancel() in *asynchronous*
mode: at the end of every page, and on sane_cancel(). A reader cancelled while it is inside
malloc() or free(), which it is as it frees its buffers and exits, keeps glibc's heap lock and
never finishes exiting; sane_read() or sane_cancel() then waits for it for ever, and with it
every thread that allocates memory: the whole service freezes. With the `test` backend that
happened within 100 pages in 2 runs out of 3 (repro: one heap, two threads allocating).

So the driver notes the threads sane_start() made and waits, before the read that may end the
page, until they are gone: the test backend ends the page (and cancels its reader) in the very
sane_read() that returns the last bytes, so the wait is made when one line is left, which the
reader has already put in its pipe (a line is smaller than a pipe). After an error, before
sane_cancel(), it waits until they are gone or parked in an interruptible system call other
than a lock wait (a write to a full pipe, a sleep, a USB transfer), where a cancel is harmless.
Each wait is bounded: a thread that does neither is cancelled as before, after SETTLE_SECONDS;
a backend whose reader outlives its pages is not waited for again.
"""

from __future__ import annotations

import contextlib
import os
import platform
import struct
import time
from collections.abc import Iterator

SETTLE_SECONDS = 2.0
POLL_SECONDS = 0.002
TASKS = "/proc/self/task"


def futex_call(machine: str = platform.machine(), pointer_bytes: int = struct.calcsize("P"),
               ) -> int | None:
    """The number of futex(2), the system call a thread waiting for a lock sleeps in, as
    /proc/<tid>/syscall shows it for this process: by the process's own ABI, not the kernel's
    (Raspberry Pi OS's 32-bit userland runs on a 64-bit kernel, whose machine is aarch64)."""
    if pointer_bytes == 4:  # 32-bit ARM (EABI) and i386 alike
        return 240 if machine in ("aarch64", "armv8l", "armv7l", "armv6l", "x86_64",
                                  "i686") else None
    return {"x86_64": 202, "aarch64": 98}.get(machine)


FUTEX = futex_call()


def tids() -> frozenset[int]:
    """The threads of this process now."""
    try:
        return frozenset(int(t) for t in os.listdir(TASKS))
    except OSError:  # no /proc: nothing can be waited for
        return frozenset()


def gone(tid: int) -> bool:
    """Whether thread `tid` has exited."""
    return not os.path.exists(f"{TASKS}/{tid}")


def parked(tid: int, futex: int | None = FUTEX) -> bool:
    """Whether thread `tid` is gone, or asleep (S) in a system call that is not a lock wait."""
    try:
        with open(f"{TASKS}/{tid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        with open(f"{TASKS}/{tid}/syscall", "rb") as f:
            call = f.read().split(maxsplit=1)[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True  # exited (a zombie thread has no syscall to show)
    except OSError:
        return False
    return state == b"S" and call.isdigit() and futex is not None and int(call) != futex


class BackendThreads:
    """The threads a backend started for the current page of one device."""

    def __init__(self) -> None:
        self.threads: frozenset[int] = frozenset()
        self.outlive_pages = False  # its reader did not end with a page: not waited for

    @contextlib.contextmanager
    def starting(self) -> Iterator[None]:
        """Around sane_start(): the threads that appear are the backend's."""
        before = tids()
        try:
            yield
        finally:
            self.threads = tids() - before

    def settle(self, timeout: float = SETTLE_SECONDS, *, ended: bool = False) -> bool:
        """Wait until each of the backend's threads is gone (`ended`) or parked; False if one
        was not within `timeout` (it is then cancelled anyway, as every frontend does)."""
        deadline = time.monotonic() + timeout
        safe = gone if ended else parked
        waiting = set(self.threads)
        while waiting := {t for t in waiting if not safe(t)}:
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_SECONDS)
        self.threads = frozenset()
        return True

    def before_page_end(self) -> None:
        """Before the read that may end the page: wait until the reader has exited."""
        if not self.outlive_pages:
            self.outlive_pages = not self.settle(ended=True)

    def before_last_line(self, line: int, lines: int) -> None:
        """python-sane's progress callback (after each line): with one line left, wait until
        the reader has exited, before the read that may end the page is made."""
        if line == lines - 1:
            self.before_page_end()
