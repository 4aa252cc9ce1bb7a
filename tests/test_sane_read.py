"""Pages read in large blocks (sane_read.py) are the pages python-sane reads, through the real
SANE `test` and `pnm` backends; pages it does not read still come through python-sane."""

from __future__ import annotations

import ctypes
from types import SimpleNamespace

import pytest
import sane
from PIL import Image

from edge.drivers.scanner import buffers, sane_read
from edge.drivers.scanner.base import Acquisition
from edge.drivers.scanner.sane import SaneScanner
from edge.drivers.scanner.settings import SaneSettings
from edge.errors import ScannerError

from .conftest import sane_failing
from .pages import text_page

TEST_DEFAULTS = {"hand-scanner": False, "three-pass": False, "ppl-loss": 0,
                 "read-return-value": "Default", "read-delay": False}


def pages(device: str, mode: str, dpi: int, options: dict, *, fast: bool = True,
          source: str = "adf") -> tuple[list[tuple[str, tuple[int, int], bytes]], int]:
    """Every page of one batch as (mode, size, pixels); and how many were read here."""
    scanner = SaneScanner(SaneSettings(name="adf", device=device, source=source, mode=mode,
                                       dpi=dpi, page_width_mm=60, page_height_mm=40))
    read_here = 0
    real_read = sane_read.read

    def counted(*args):
        nonlocal read_here
        read_here += 1
        return real_read(*args)

    out = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sane_read, "read", counted)
        if not fast:
            mp.setattr(sane_read, "handle", lambda dev: None)
        with buffers.shared().scanning(), scanner:
            scanner.open(Acquisition(source=source, mode=mode, dpi=dpi, options=options))
            try:
                for image in scanner.pages():
                    out.append((image.mode, image.size, image.tobytes()))
                    buffers.shared().give_back(image)
            finally:  # the test backend keeps its options for the next open, in other tests too
                for name in options.keys() & TEST_DEFAULTS.keys():
                    scanner._set(name, TEST_DEFAULTS[name])
    return out, read_here


@pytest.mark.parametrize(("mode", "dpi", "options"), [
    ("color", 200, {"test-picture": "Color pattern"}),
    ("color", 150, {"test-picture": "Grid"}),
    ("gray", 300, {"test-picture": "Color pattern"}),
])
def test_pages_read_in_blocks_are_the_pages_python_sane_reads(mode, dpi, options):
    ours, read_here = pages("test:0", mode, dpi, options)
    theirs, _ = pages("test:0", mode, dpi, options, fast=False)
    assert len(ours) == 10 and read_here == 10
    assert [(m, s) for m, s, _ in ours] == [(m, s) for m, s, _ in theirs]
    assert ours == theirs


def test_a_page_with_padded_lines_keeps_its_pixels_where_python_sane_garbles_them():
    # ppl-loss: bytes_per_line counts 3 pixels a line that are not part of the image
    padded, read_here = pages("test:0", "color", 100, {"test-picture": "Grid", "ppl-loss": 3})
    plain, _ = pages("test:0", "color", 100, {"test-picture": "Grid"})
    assert read_here == 10
    (mode, (w, h), data), (_, (pw, ph), pdata) = padded[0], plain[0]
    assert (w, h) == (pw - 3, ph)
    cropped = Image.frombytes(mode, (pw, ph), pdata).crop((0, 0, w, h))
    assert data == cropped.tobytes()
    garbled, _ = pages("test:0", "color", 100, {"test-picture": "Grid", "ppl-loss": 3},
                       fast=False)
    assert garbled[0][1] != (w, h)  # python-sane reads lines of the pixels' width: misaligned


def test_lineart_still_comes_through_python_sane():
    ours, read_here = pages("test:0", "lineart", 100, {"test-picture": "Grid"})
    theirs, _ = pages("test:0", "lineart", 100, {"test-picture": "Grid"}, fast=False)
    assert read_here == 0 and len(ours) == 10 and ours == theirs
    assert set(ours[0][2]) == {0, 255}  # 1 bit a pixel, spread to bytes by python-sane


def test_a_colour_scan_after_a_lineart_one_is_8_bit_again():
    pages("test:0", "lineart", 100, {"test-picture": "Grid"})  # the backend keeps its depth, 1
    colour, read_here = pages("test:0", "color", 100, {"test-picture": "Color pattern"})
    assert read_here == 10 and colour[0][0] == "RGB"
    assert len(set(colour[0][2])) > 2  # not 1 bit a sample spread to 0 and 255


@pytest.mark.parametrize(("params", "n"), [
    (("color", 1, (4, 5), 8, 12), 3),
    (("gray", 1, (4, 5), 8, 4), 1),
    (("color", 1, (4, 5), 8, 16), 3),  # padded lines: read here, with their stride
    (("red", 0, (4, 5), 8, 4), 0),  # three-pass colour: python-sane puts the frames together
    (("gray", 1, (4, 5), 1, 1), 0),  # lineart: python-sane spreads the bits to bytes
    (("color", 1, (4, 5), 16, 24), 0),
    (("color", 1, (0, 5), 8, 0), 0),  # no pixels: nothing to read lines of
    (("color", 1, (4, 5), 8, 8), 0),  # shorter lines than pixels: not a page to trust
])
def test_which_pages_are_read_here(params, n):
    assert sane_read.samples(params) == n


@pytest.mark.parametrize("mode", ["color", "gray"])
def test_a_pnm_file_comes_back_pixel_for_pixel(tmp_path, mode):
    src = text_page(12)[0].resize((413, 290))  # an odd width: no line is a multiple of 4 bytes
    src = src.convert("RGB" if mode == "color" else "L")
    path = tmp_path / ("page.ppm" if mode == "color" else "page.pgm")
    src.save(path)
    (got, read_here) = pages("pnm:0", mode, 100, {"filename": str(path)}, source="flatbed")
    assert read_here == 1 and got == [(src.mode, src.size, src.tobytes())]


def test_an_unknown_layout_leaves_reading_to_python_sane():
    assert sane_read.handle(SimpleNamespace(dev=object())) is None
    assert sane_read.handle(SimpleNamespace(dev=bytearray(64))) is None


def test_a_read_error_is_reported_as_python_sane_reports_it(monkeypatch):
    real_read, reads = sane_read.read, []
    monkeypatch.setattr(sane_read, "read", lambda *a: reads.append(1) or real_read(*a))
    with pytest.raises(ScannerError) as e:
        pages("test:0", "color", 50, sane_failing("SANE_STATUS_JAMMED"))
    assert e.value.status == "JAMMED" and reads


def test_one_buffer_is_read_into_page_after_page_and_nothing_points_into_it_after():
    scanner = SaneScanner(SaneSettings(name="adf", device="test:0", dpi=100,
                                       page_width_mm=60, page_height_mm=40))
    pool, real_read, blocks = buffers.PageBuffers(3), sane_read.read, []

    def read(h, params, before_end, buffer):
        blocks.append(buffer)
        return real_read(h, params, before_end, buffer)

    with pytest.MonkeyPatch.context() as mp, pool.scanning(), scanner:
        mp.setattr(sane_read, "read", read)
        mp.setattr(buffers, "shared", lambda: pool)
        scanner.open(Acquisition(source="adf", mode="color", dpi=100))
        for image in scanner.pages():
            blocks[-1].append(0)  # BufferError if anything still pointed into it
            blocks[-1].pop()
            pool.give_back(image)
        assert pool.kept_blocks == 1
    assert len(blocks) == 10 and all(b is blocks[0] for b in blocks)


class FakeLib:
    """libsane's sane_read() over `data`, at most `chunk` bytes a call, recording each call."""

    def __init__(self, data: bytes, chunk: int, status_at_end: int = sane_read.STATUS_EOF):
        self.data, self.chunk, self.status_at_end = data, chunk, status_at_end
        self.sent = 0
        self.calls: list[tuple[int, int, bool]] = []  # (asked, left to send, waited already)
        self.waited = 0

    def sane_read(self, h, into, ask, nref):
        self.calls.append((ask, len(self.data) - self.sent, self.waited > 0))
        if self.sent == len(self.data):
            return self.status_at_end
        k = min(ask, self.chunk, len(self.data) - self.sent)
        ctypes.memmove(into, self.data[self.sent:self.sent + k], k)
        self.sent += k
        nref._obj.value = k
        return sane_read.STATUS_GOOD

    def sane_strstatus(self, status):
        return b"Document feeder jammed" if status == 6 else b"?"

    def before_end(self):
        self.waited += 1


def read_fake(monkeypatch, params, data, chunk, buffer=None, **kw):
    lib = FakeLib(data, chunk, **kw)
    monkeypatch.setattr(sane_read, "_libsane", lambda: lib)
    buffer = bytearray(sane_read.page_bytes(params)) if buffer is None else buffer
    out, size = sane_read.read(1, params, lib.before_end, buffer)
    return lib, bytes(out[:size])


LINE = 12  # 4 RGB pixels


@pytest.mark.parametrize("chunk", [1, 7, LINE, 40, 1000])
def test_the_last_line_is_asked_for_only_after_the_wait_made_once(monkeypatch, chunk):
    data = bytes(range(5 * LINE))
    lib, got = read_fake(monkeypatch, ("color", 1, (4, 5), 8, LINE), data, chunk)
    assert got == data and lib.waited == 1
    for asked, left, waited in lib.calls:
        assert waited or asked <= left - LINE  # never the last line's bytes before the wait
    assert any(waited and left == LINE for _, left, waited in lib.calls)  # waited, one line left


def test_a_page_of_unknown_length_grows_its_buffer_and_drops_a_partial_line(monkeypatch):
    data = bytes(range(5 * LINE + 5))  # five lines and part of a sixth
    lib, got = read_fake(monkeypatch, ("color", 1, (4, -1), 8, LINE), data, 7,
                         buffer=bytearray(LINE))
    assert got == data[:5 * LINE] and lib.waited == 0  # no length: no line known to be last


def test_a_page_longer_than_announced_is_read_whole(monkeypatch):
    data = bytes(range(5 * LINE))
    lib, got = read_fake(monkeypatch, ("color", 1, (4, 3), 8, LINE), data, 40)
    assert got == data and lib.waited == 1


def test_an_error_status_is_raised_as_python_sane_raises_it(monkeypatch):
    with pytest.raises(sane._sane.error, match="Document feeder jammed"):
        read_fake(monkeypatch, ("color", 1, (4, 5), 8, LINE), bytes(2 * LINE), 40,
                  status_at_end=6)


def test_room_made_before_a_read_is_bounded():
    longest = ("color", 1, (7000, 10**6), 8, 21000)  # a backend announcing 5 m of paper
    room = sane_read.page_bytes(longest)
    assert room <= sane_read.FIRST_BYTES and room % 21000 == 0
    assert sane_read.page_bytes(("color", 1, (4, 5), 8, LINE)) == 6 * LINE
