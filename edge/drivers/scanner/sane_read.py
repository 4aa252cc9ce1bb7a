"""Reading a page from libsane in large blocks, into memory kept from page to page.

python-sane's `snap` asks sane_read() for one line at a time (4.7 KB of a 200 dpi colour page),
takes the interpreter lock back and calls Python after each line, and copies the page twice into
fresh memory (a malloc'ed buffer, then a bytearray). In the service, where page threads hold the
lock most of the time, reading a 200 dpi colour page that way cost about 14 ms of CPU, as much as
encoding it. sane_read() takes any length (scanimage asks for 32 KB), so for the pages the kit
scans, one frame of 8-bit grey or RGB, the driver calls it on python-sane's own handle, READ_BYTES
at a time and without the lock, into a buffer kept for the next page (buffers.py). Other frames
(1-bit lineart, 16 bits, three-pass colour) still go through `snap`, which converts them.

The handle is the one field python-sane's device object has after its object header (`_sane.c`:
`typedef struct { PyObject_HEAD SANE_Handle h; } SaneDevObject;`, python-sane pinned in
pyproject.toml). `handle()` checks the object's size says so, and gives None, so that python-sane
reads as before, if a version ever differs.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

import sane

READ_BYTES = 256 * 1024  # asking more gains nothing: the test backend's pipe holds 64 KB
FIRST_BYTES = 64 * 1024 * 1024  # room made before a read (A3 colour at 300 dpi: 52 MB); a
# backend that announces the longest paper it takes (length detection) gets more as it sends it
STATUS_GOOD, STATUS_EOF = 0, 5  # SANE_Status


@functools.cache
def _libsane() -> ctypes.CDLL:
    """libsane, as python-sane's module has it loaded: symbols are looked up through that
    module, so they are those of the very library that opened the handle."""
    lib = ctypes.CDLL(sane._sane.__file__)
    lib.sane_read.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                              ctypes.POINTER(ctypes.c_int)]
    lib.sane_read.restype = ctypes.c_int
    lib.sane_strstatus.argtypes = [ctypes.c_int]
    lib.sane_strstatus.restype = ctypes.c_char_p
    return lib


def handle(dev: sane.SaneDev) -> int | None:
    """The SANE_Handle of python-sane's open device `dev`; None if its object is not laid out
    as this module knows, or libsane cannot be reached through python-sane's module."""
    obj = dev.dev
    if type(obj).__basicsize__ != object.__basicsize__ + ctypes.sizeof(ctypes.c_void_p):
        return None
    try:
        _libsane()
    except (OSError, AttributeError):
        return None
    return ctypes.c_void_p.from_address(id(obj) + object.__basicsize__).value


def samples(params: tuple) -> int:
    """Samples a pixel of a page with these parameters (python-sane's get_parameters()), if it
    is read here: 1 (grey) or 3 (RGB); else 0 (python-sane reads it)."""
    fmt, last_frame, (width, _), depth, line_bytes = params
    n = {"gray": 1, "color": 3}.get(fmt, 0)
    return n if last_frame and depth == 8 and width > 0 and line_bytes >= width * n else 0


def page_bytes(params: tuple) -> int:
    """The room to read a page with these parameters into: the lines it is announced to have
    and one more, so that the read which finds its end has room to ask for something; at most
    FIRST_BYTES."""
    lines, line_bytes = params[2][1], params[4]
    return min(line_bytes * (max(lines, 0) + 1), max(FIRST_BYTES // line_bytes, 1) * line_bytes)


def read(h: int, params: tuple, before_end: Callable[[], None],
         buffer: bytearray) -> tuple[bytearray, int]:
    """The page sane_start() began on handle `h`, a page with `params`, read into `buffer`:
    the buffer that holds it (longer if the page did not fit) and its length in whole lines.
    `before_end` is called once, when one line is left, before the read that may end the page:
    the backend may cancel its reader thread in that read (backend_threads.py); until then no
    read asks for that line. A page of unknown length (a hand scanner's) is read without that
    wait, as python-sane reads it."""
    lines, line_bytes = params[2][1], params[4]
    total = line_bytes * lines if lines > 0 else 0
    lib, got, n = _libsane(), 0, ctypes.c_int()
    ending = not total
    while True:
        if got == len(buffer):  # as much again; nothing points into it here
            buffer.extend(bytes(max(len(buffer), line_bytes)))
        if not ending and total - got <= line_bytes:
            before_end()
            ending = True
        ask = min(READ_BYTES, len(buffer) - got)
        if not ending:
            ask = min(ask, total - got - line_bytes)
        into = (ctypes.c_char * ask).from_buffer(buffer, got)
        status = lib.sane_read(h, into, ask, ctypes.byref(n))
        del into  # nothing may point into the buffer once it is given back, or to grow it
        if status == STATUS_EOF:
            return buffer, got - got % line_bytes  # a partial last line is dropped
        if status != STATUS_GOOD:
            raise sane._sane.error(lib.sane_strstatus(status).decode())
        got += n.value
