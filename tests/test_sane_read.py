"""Pages read in large blocks (sane_read.py) are the pages python-sane reads, through the real
SANE `test` and `pnm` backends; pages it does not read still come through python-sane."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
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
    ("color", 100, {"hand-scanner": True}),  # its page length is not known beforehand
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


def test_three_pass_colour_still_comes_through_python_sane():
    # a frame a colour: python-sane puts them together (which pixels the test backend sends
    # then differs from run to run, through python-sane alone too: compared by size)
    ours, read_here = pages("test:0", "color", 100, {"three-pass": True})
    theirs, _ = pages("test:0", "color", 100, {"three-pass": True}, fast=False)
    assert read_here == 0 and len(ours) == 10
    assert [(m, s) for m, s, _ in ours] == [(m, s) for m, s, _ in theirs]
    assert ours[0][0] == "RGB"


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


def test_a_read_error_is_reported_as_python_sane_reports_it():
    with pytest.raises(ScannerError) as e:
        pages("test:0", "color", 50, sane_failing("SANE_STATUS_JAMMED"))
    assert e.value.status == "JAMMED"


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
            blocks[-1].extend(b"")  # BufferError if anything still pointed into it
            pool.give_back(image)
        assert pool.kept_blocks == 1
    assert len(blocks) == 10 and all(b is blocks[0] for b in blocks)
