"""Page images filled again from one scanned page to the next, instead of made anew for each.

A colour page read from SANE becomes a Pillow image of its size: 10 MB at 200 dpi, 35 MB for an
A4 page at 300 dpi. Memory that big is mapped afresh from the kernel for each new image and given
back as soon as it is freed (edge/pipeline/feed.py keeps it so, or the service's peak memory
would creep up with batch length), and the kernel then supplies it one 4 KB page at a time, each
zeroed and counted: 2,400 page faults for a 200 dpi page, about 3 ms of CPU on a development
machine, nearly as much as its whole colour analysis.

So the images of the pages in flight are kept, each lent to one page at a time: `image()` fills a
free one of the right size (or makes one), `give_back()` frees it once its page is processed.
There are never more than `limit` of them, the pages a process holds in flight at once
(feed.shared_slots), so memory is what those pages held anyway; and they are dropped
KEEP_SECONDS after the last scan (`scanning()`), so an idle service holds none, while staff
scanning one short dossier after another keep them. The same goes for the buffers a page is
read into from SANE before it is copied into its image (`block()`, sane_read.py): each lent to
a scanner for one page, given back as soon as its page is in its image (so one a scanner
reading at once, at most `limit` kept, the oldest put out first).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator

from PIL import Image

KEEP_SECONDS = 60.0


@functools.cache
def shared() -> PageBuffers:
    """The page images of this process: one per page it may hold in flight, as
    feed.shared_slots counts them (a page per core and one being read)."""
    return PageBuffers(len(os.sched_getaffinity(0)) + 1)


class PageBuffers:
    """The process's reusable page images, at most `limit` of them."""

    def __init__(self, limit: int, keep_seconds: float = KEEP_SECONDS) -> None:
        self.limit = limit
        self.keep_seconds = keep_seconds
        self._lock = threading.Lock()
        self._free: list[Image.Image] = []
        self._lent: dict[int, Image.Image] = {}  # by id(): kept alive, so ids stay unique
        self._blocks: list[bytearray] = []  # free buffers a page is read into (sane_read.py)
        self._scans = 0
        self._idle: threading.Timer | None = None
        self.reused = 0  # images filled again rather than made (tests, benchmarks)

    def image(self, mode: str, size: tuple[int, int], data: bytes | bytearray | memoryview,
              stride: int = 0) -> Image.Image:
        """`Image.frombytes(mode, size, data)`, with lines `stride` bytes apart (0: no padding),
        into a free kept image when one fits."""
        image = self._take(mode, size)
        image.frombytes(data, "raw", mode, stride)
        return image

    def _take(self, mode: str, size: tuple[int, int]) -> Image.Image:
        with self._lock:
            if not self._scans:  # read outside a scan (`scanning()`): nothing would give it back
                return Image.new(mode, size, None)
            for i, image in enumerate(self._free):
                if image.mode == mode and image.size == size:
                    del self._free[i]
                    self.reused += 1
                    return self._lend(image)
            if self._free and len(self._free) + len(self._lent) >= self.limit:
                self._free.pop(0)  # of another size: the oldest makes room
            image = Image.new(mode, size, None)  # not painted black first: all of it is read into
            if len(self._free) + len(self._lent) < self.limit:
                return self._lend(image)
            return image  # more pages in flight than expected: an image of its own, not kept

    def block(self, size: int) -> bytearray:
        """A buffer of at least `size` bytes to read a page into before it is copied into its
        image: the smallest free kept one that is large enough, else a new one."""
        with self._lock:
            fits = [i for i, block in enumerate(self._blocks) if len(block) >= size]
            if fits:
                return self._blocks.pop(min(fits, key=lambda i: len(self._blocks[i])))
        return bytearray(size)

    def give_back_block(self, block: bytearray) -> None:
        """The page read into `block` is in its image: the next may be read into it."""
        with self._lock:
            if self._scans:
                self._blocks.insert(0, block)  # the next read takes it first: its memory is warm
                del self._blocks[self.limit:]  # the oldest (of another size, likely) make room

    def _lend(self, image: Image.Image) -> Image.Image:
        self._lent[id(image)] = image
        return image

    def lends(self, image: Image.Image) -> bool:
        """Whether `image` is one of the kept images, lent to its page."""
        with self._lock:
            return self._lent.get(id(image)) is image

    def give_back(self, image: Image.Image) -> None:
        """The page of `image` is processed: it may be filled again."""
        with self._lock:
            if self._lent.pop(id(image), None) is image and self._scans:
                self._free.append(image)

    @contextlib.contextmanager
    def scanning(self) -> Iterator[None]:
        """Around a scan, its pages' processing included: KEEP_SECONDS after the last one
        ends, the kept images go."""
        with self._lock:
            self._scans += 1
            if self._idle:
                self._idle.cancel()
        try:
            yield
        finally:
            with self._lock:
                self._scans -= 1
                if not self._scans:
                    # a page still lent was dropped, its scan stopped: its holder frees it
                    self._lent.clear()
                    self._idle = threading.Timer(self.keep_seconds, self._drop_if_idle)
                    self._idle.name, self._idle.daemon = "idle-page-images", True
                    self._idle.start()

    def _drop_if_idle(self) -> None:
        with self._lock:
            if not self._scans:
                self._free.clear()
                self._blocks.clear()

    @property
    def kept(self) -> int:
        with self._lock:
            return len(self._free) + len(self._lent)

    @property
    def kept_blocks(self) -> int:
        with self._lock:
            return len(self._blocks)
