"""Reading a scanner apart from processing its pages, so the scanner never waits.

The thread that reads a scanner hands each page on at once to a pool of threads shared by every
scanner of the process, one per core (the heavy parts, Pillow and numpy, run without the
interpreter lock), and is held up only while `bound` pages of its scanner are in flight (read,
not yet written): memory stays flat with batch length and with two scanners at once. Pages come
back in the order they were read; the caller writes each durably before it counts as kept, so a
power cut loses at most the pages in flight, and recovery is unchanged.

Threads, not processes: handing a 300 dpi colour page (35 MB of pixels) to another process costs
at least one copy of it, 25-60 ms of CPU on a development machine, a third of the work it moves.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TypeVar

from PIL import Image

M_ARENA_MAX = -8  # glibc mallopt()
M_MMAP_THRESHOLD = -3
M_TRIM_THRESHOLD = -1
ARENAS = 1
MMAP_THRESHOLD = 4 * 2**20
TRIM_THRESHOLD = 16 * 2**20
PAGE_MEMORY = 128 * 2**20  # pixels a scanner may have in flight: 3 A4 pages at 300 dpi colour
SLOT_POLL_SECONDS = 0.1
T = TypeVar("T")
_END = object()


def cores() -> int:
    """The cores this process may run on (taskset and cgroups included)."""
    return len(os.sched_getaffinity(0))


@functools.cache
def shared_slots() -> threading.Semaphore:
    """Pages in flight in the whole process, whatever the number of scanners: one per core and
    one being read. Two scanners then hold no more pages than one that keeps every core busy,
    and the memory of the service stays within that of one."""
    return threading.Semaphore(cores() + 1)


@functools.cache
def shared_pool() -> Executor:
    """The page threads of this process, one per core, made on first use."""
    return_big_buffers()
    return ThreadPoolExecutor(cores(), thread_name_prefix="page")


def return_big_buffers() -> None:
    """Have the page threads allocate from ARENAS glibc heaps instead of one heap per thread,
    and every buffer of MMAP_THRESHOLD or more mapped apart and given back when freed.

    Each thread's own heap keeps the 10-35 MB page buffers it freed for itself; and glibc
    raises its mapping threshold as big buffers are freed (up to 32 MB), after which page
    buffers come from the heap and leave it in pieces: the peak memory of two scanners was
    265-295 MB instead of 213 MB, and crept up with the number of threads.

    Below that, the heap keeps up to TRIM_THRESHOLD free at its top instead of giving back
    all but 128 KB (glibc's default once the mapping threshold is set): each page's analysis
    copies, masks and JPEG (0.5-4 MB each) are then made in memory used before rather than
    faulted in afresh from the kernel, 4 ms of CPU less a 200 dpi page on a development
    machine, for at most TRIM_THRESHOLD more memory.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its own defaults
        libc = ctypes.CDLL(None)
        libc.mallopt(M_ARENA_MAX, ARENAS)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def default_bound(width_mm: float, height_mm: float, dpi: int, mode: str) -> int:
    """Pages in flight per scanner: every core busy and one being read, more while they fit
    in PAGE_MEMORY (Pillow keeps a colour pixel in 4 bytes), never fewer than 2."""
    pixels = (width_mm / 25.4 * dpi) * (height_mm / 25.4 * dpi)
    page = pixels * (4 if mode == "color" else 1)
    n = cores()
    return max(2, min(n + 1, int(PAGE_MEMORY // page)))


def done(fn: Callable[..., T], *args: object) -> Future[T]:
    """Run `fn` here and now, as a finished future (the serial path: no read-ahead)."""
    f: Future[T] = Future()
    try:
        f.set_result(fn(*args))
    except Exception as e:
        f.set_exception(e)
    return f


class ReadAhead:
    """Reads `pages` in its own thread; `work(n, image)` starts the processing of the n-th page
    (1-based) and returns its future. Iterate to get the results in reading order.

    `waited` is the time the reading thread spent not reading because of processing: waiting
    for a free slot, and handing the page on (all of the processing, on the serial path).
    """

    def __init__(self, pages: Iterator[Image.Image],
                 work: Callable[[int, Image.Image], Future[T]], bound: int, name: str,
                 shared: threading.Semaphore | None = None) -> None:
        self._pages = pages
        self._work = work
        self._slots = threading.Semaphore(bound)
        self._shared = shared or shared_slots()
        self._held = 0  # shared slots this reader holds (pages read and not yet handed out)
        self._lock = threading.Lock()
        self._out: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.halt = threading.Event()  # set: ask the scanner for no more pages
        self.waited = 0.0
        self.read = 0
        self._thread = threading.Thread(target=self._read, name=f"read-{name}", daemon=True)

    def __enter__(self) -> ReadAhead:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[T]:
        while (item := self._out.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Future)
            yield item.result()
            self._release()

    def _read(self) -> None:
        try:
            while self._slot():
                image = next(self._pages, None)
                if image is None:
                    break
                image.load()  # decoded now: a driver may close its file for the next page
                self.read += 1
                start = time.monotonic()
                self._out.put(self._work(self.read, image))
                del image
                self.waited += time.monotonic() - start
        except BaseException as e:  # a scanner status, handed to the writer in its place
            self._out.put(e)
        finally:
            self._out.put(_END)

    def _slot(self) -> bool:
        """Wait for room for one more page, in this scanner's bound and in the process's;
        False once halted."""
        start = time.monotonic()
        for slots in (self._slots, self._shared):
            while not slots.acquire(timeout=SLOT_POLL_SECONDS):
                if self.halt.is_set():
                    if slots is self._shared:
                        self._slots.release()
                    return False
        with self._lock:
            self._held += 1
        self.waited += time.monotonic() - start
        return not self.halt.is_set()

    def _release(self) -> None:
        with self._lock:
            self._held -= 1
        self._shared.release()
        self._slots.release()

    def close(self) -> None:
        """Stop reading, wait for the reading thread; pages still in flight are dropped (and
        their room in the process's bound given back)."""
        self.halt.set()
        self._thread.join()
        while True:
            try:
                item = self._out.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Future):
                item.cancel()
        while self._held > 0:
            self._release()
