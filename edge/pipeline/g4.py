"""CCITT G4 encoding of text pages, through libtiff called with ctypes.

Pillow holds the interpreter lock while libtiff encodes a page for it (30-45 ms for a 300 dpi
A4 text page), so the text pages of two scanners, or two pages of one, took turns instead of
using every core. ctypes releases the lock for the length of each foreign call, so here the
encoding runs beside the other page threads. The TIFF written is the one Pillow writes (same
tags, one strip, the same G4 data), which img2pdf then embeds without transcoding.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

import numpy as np
from PIL import Image

from edge.errors import EdgeError

TIFFTAG_IMAGEWIDTH = 256
TIFFTAG_IMAGELENGTH = 257
TIFFTAG_BITSPERSAMPLE = 258
TIFFTAG_COMPRESSION = 259
TIFFTAG_PHOTOMETRIC = 262
TIFFTAG_ROWSPERSTRIP = 278
TIFFTAG_XRESOLUTION = 282
TIFFTAG_YRESOLUTION = 283
TIFFTAG_PLANARCONFIG = 284
TIFFTAG_RESOLUTIONUNIT = 296
COMPRESSION_CCITTFAX4 = 4
PHOTOMETRIC_MINISBLACK = 1  # as Pillow saves a mode "1" image: a set bit is white
PLANARCONFIG_CONTIG = 1
RESUNIT_INCH = 2


@functools.cache
def _libtiff() -> ctypes.CDLL:
    name = ctypes.util.find_library("tiff")
    if name is None:
        raise EdgeError("libtiff is not installed: run scripts/setup.sh (Debian package libtiff6)",
                        vi="Thiếu thư viện libtiff: hãy chạy lại scripts/setup.sh")
    lib = ctypes.CDLL(name)
    lib.TIFFOpen.restype = ctypes.c_void_p
    lib.TIFFOpen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.TIFFSetField.restype = ctypes.c_int
    lib.TIFFWriteEncodedStrip.restype = ctypes.c_ssize_t
    lib.TIFFWriteEncodedStrip.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p,
                                          ctypes.c_ssize_t]
    lib.TIFFClose.argtypes = [ctypes.c_void_p]
    lib.TIFFSetErrorHandler.argtypes = [ctypes.c_void_p]
    lib.TIFFSetWarningHandler.argtypes = [ctypes.c_void_p]
    lib.TIFFSetWarningHandler(None)  # libtiff's default prints to stderr
    return lib


def g4_tiff(bw: Image.Image | np.ndarray, dpi: int) -> bytes:
    """A bilevel page, a mode "1" image or a boolean array (True: white), as a one-strip CCITT
    G4 TIFF at `dpi`, as Pillow writes the image."""
    white = bw if isinstance(bw, np.ndarray) else _white(bw)
    lib = _libtiff()
    height, width = white.shape
    data = np.packbits(white, axis=1).tobytes()
    fd = os.memfd_create("g4", os.MFD_CLOEXEC)
    try:
        tif = lib.TIFFOpen(f"/proc/self/fd/{fd}".encode(), b"w")
        if not tif:
            raise EdgeError("libtiff could not open an in-memory file to encode a page",
                            vi="Không mã hoá được trang quét")
        try:
            _tags(lib, tif, width, height, dpi)
            written = lib.TIFFWriteEncodedStrip(tif, 0, data, len(data))
        finally:
            lib.TIFFClose(tif)
        if written < 0:
            raise EdgeError("libtiff could not encode a page as CCITT G4",
                            vi="Không mã hoá được trang quét")
        return _read_all(fd)
    finally:
        os.close(fd)


def packed(bw: Image.Image) -> bytes:
    """The rows of a mode "1" image as libtiff takes them (8 pixels a byte, set = white), as
    `bw.tobytes()` gives them but packed by numpy, 5x faster and mostly without the lock."""
    return np.packbits(_white(bw), axis=1).tobytes()


def _white(bw: Image.Image) -> np.ndarray:
    assert bw.mode == "1", bw.mode
    return np.frombuffer(bw.tobytes("raw", "L"), np.uint8).reshape(bw.height, bw.width) > 127


def _tags(lib: ctypes.CDLL, tif: int, width: int, height: int, dpi: int) -> None:
    u32, u16, f64 = ctypes.c_uint32, ctypes.c_uint16, ctypes.c_double
    for tag, value in ((TIFFTAG_IMAGEWIDTH, u32(width)), (TIFFTAG_IMAGELENGTH, u32(height)),
                       (TIFFTAG_BITSPERSAMPLE, u16(1)),
                       (TIFFTAG_COMPRESSION, u16(COMPRESSION_CCITTFAX4)),
                       (TIFFTAG_PHOTOMETRIC, u16(PHOTOMETRIC_MINISBLACK)),
                       (TIFFTAG_ROWSPERSTRIP, u32(height)),
                       (TIFFTAG_XRESOLUTION, f64(dpi)), (TIFFTAG_YRESOLUTION, f64(dpi)),
                       (TIFFTAG_PLANARCONFIG, u16(PLANARCONFIG_CONTIG)),
                       (TIFFTAG_RESOLUTIONUNIT, u16(RESUNIT_INCH))):
        if lib.TIFFSetField(ctypes.c_void_p(tif), ctypes.c_uint32(tag), value) != 1:
            raise EdgeError(f"libtiff refused TIFF tag {tag}", vi="Không mã hoá được trang quét")


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0)
