"""Each page-processing step's decision on generated pages with known answers."""

import io
import subprocess

import numpy as np
import pikepdf
import pytest
from PIL import Image

from edge.pipeline.encode import encode_page
from edge.pipeline.steps import ScannedPage, StepSettings, blank, colour, deskew
from edge.pipeline.steps.chain import run

from .pages import DPI, sample_set, text_page

NAMES = sorted(sample_set())


@pytest.mark.parametrize("name", NAMES)
def test_verdicts(name):
    image, expected = sample_set()[name]
    page = run(ScannedPage(image, DPI), StepSettings())
    verdict = "blank" if page.blank else page.kind
    assert verdict == expected, page.notes


@pytest.mark.parametrize("angle", [-9.0, -2.5, 1.2, 6.0])
def test_deskew_straightens(angle):
    image, _ = sample_set()["text"]
    page = ScannedPage(image.rotate(angle, resample=Image.Resampling.BICUBIC,
                                    fillcolor=(246, 246, 242)), DPI)
    deskew.run(page)
    assert abs(page.angle - angle) < 0.2
    residual, _ = deskew.detect(__import__("numpy").asarray(page.image.convert("L")
                                                            .reduce(2)))
    assert abs(residual) < 0.3


@pytest.mark.parametrize("name", ["text", "table-form", "id-card", "colour-photo", "red-seal",
                                  "page-number-only"])
def test_straight_pages_are_never_rotated(name):
    image, _ = sample_set()[name]
    page = ScannedPage(image, DPI)
    deskew.run(page)
    assert page.angle == 0.0 and page.image is image


def test_seal_is_found_on_a_page_that_is_99_percent_text():
    image, _ = sample_set()["red-seal"]
    page = ScannedPage(image, DPI)
    colour.run(page)
    assert page.kind == "mixed"  # text in black and white, the seal in colour
    assert page.notes["colour_fraction"] < 0.01  # the seal is a tiny part of the page
    x0, y0, x1, y1 = page.colour_box
    assert x0 < 1250 - 140 and x1 > 1250 + 140 and y0 < 1900 - 140 and y1 > 1900 + 140


def test_gray_scan_is_never_colour():
    image, _ = sample_set()["red-seal"]
    page = ScannedPage(image.convert("L"), DPI)
    colour.run(page)
    assert page.kind == "bilevel"


def test_blank_step_alone():
    page = ScannedPage(sample_set()["bleed-through-back"][0], DPI)
    blank.run(page)
    assert page.blank
    page = ScannedPage(sample_set()["page-number-only"][0], DPI)
    blank.run(page)
    assert not page.blank and page.notes["inked_cells"] >= blank.MIN_CELLS


def test_steps_can_be_turned_off():
    image, _ = sample_set()["blank-back"]
    page = run(ScannedPage(image, DPI), StepSettings(deskew=False, blank=False, classify=False))
    assert not page.blank and page.kind is None


def rendered(pdf_bytes, tmp_path):
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf_bytes)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    return np.asarray(Image.open(tmp_path / "page.png").convert("RGB")).astype(int)


def red(a):
    return (a[..., 0] - np.maximum(a[..., 1], a[..., 2])) > 80


@pytest.mark.parametrize("name", ["red-seal", "blue-signature"])
def test_mixed_page_keeps_colour_and_text_when_rendered(name, tmp_path):
    image, _ = sample_set()[name]
    page = run(ScannedPage(image, DPI), StepSettings())
    data = encode_page(page, 75)
    assert len(data) < 120 * 1024  # a JPEG of the whole page is ~400 KB
    out, src = rendered(data, tmp_path), np.asarray(image).astype(int)
    assert out.shape == src.shape  # physical size from the dpi
    dark = src.max(axis=2) < 80
    assert (out[dark].max(axis=1) < 100).mean() > 0.95  # the text is still there, black
    if name == "red-seal":
        assert red(out).sum() > 0.9 * red(src).sum()
    else:
        blue = lambda a: (a[..., 2] - np.maximum(a[..., 0], a[..., 1])) > 60  # noqa: E731
        assert blue(out).sum() > 0.9 * blue(src).sum()


def test_size_budget_steps_quality_then_dpi_never_below_200():
    photo, _ = sample_set()["colour-photo"]
    big = photo.resize((photo.width * 3 // 2, photo.height * 3 // 2))  # as scanned at 300 dpi
    page = ScannedPage(big, 300, kind="color")
    unbounded = len(encode_page(ScannedPage(big, 300, kind="color"), 90))
    data = encode_page(page, 90, max_bytes=unbounded // 3)
    assert len(data) <= unbounded // 3
    assert page.notes["quality"] < 90 and page.dpi >= 200
    with pikepdf.open(io.BytesIO(data)) as pdf:  # the paper keeps its size whatever the dpi
        assert abs(float(pdf.pages[0].mediabox[2]) - big.width / 300 * 72) < 1
    tiny = ScannedPage(photo, 200, kind="color")
    encode_page(tiny, 75, max_bytes=1000)  # impossible: kept at 200 dpi, and said so
    assert tiny.dpi == 200 and tiny.notes["over_budget"] > 1000


def test_a_page_resampled_for_its_budget_is_cleaned_by_its_own_levels():
    text, _ = text_page()
    page = ScannedPage(text.resize((text.width * 3 // 2, text.height * 3 // 2)), 300,
                       kind="color")
    encode_page(page, 75, max_bytes=1000)  # over at every quality: resampled to 200 dpi
    assert page.dpi == 200
    fresh = ScannedPage(page.image, 200)
    assert page.histogram("RGB") == fresh.histogram("RGB")  # not the 300 dpi page's


@pytest.mark.parametrize("saturation", [colour.SATURATION, 0.0])
def test_chroma_mask_is_both_bars_for_every_pixel(saturation):
    """chroma_mask folds its chroma and saturation bars into one Pillow table: for every
    brightest channel, spread and channel order its verdict is the plain formula's."""
    high, low = (a.ravel() for a in np.meshgrid(np.arange(256), np.arange(256), indexing="ij"))
    high, low = high[low <= high], low[low <= high]
    mid = (high + low) // 2
    for order in ((high, low, mid), (mid, high, low), (low, mid, high)):
        rgb = np.stack(order, axis=1).astype(np.uint8).reshape(1, -1, 3)
        got = colour.chroma_mask(Image.fromarray(rgb), colour.CHROMA, saturation)[0]
        spread = high - low
        want = spread > colour.CHROMA
        if saturation:
            want &= spread > saturation * high.astype(np.float32)
        assert (got == want).all()


def numpy_inked_cells(gray: np.ndarray, dpi: float) -> int:
    """blank.inked_cells as numpy says it: the reference for Pillow's."""
    h, w = gray.shape
    my, mx = int(h * blank.MARGIN), int(w * blank.MARGIN)
    core = gray[my:h - my, mx:w - mx]
    ink = core < np.percentile(core, 90, method="inverted_cdf") * (1 - blank.INK_CONTRAST)
    cell = max(2, round(blank.CELL_MM / 25.4 * dpi))
    ch, cw = ink.shape[0] // cell, ink.shape[1] // cell
    counts = ink[:ch * cell, :cw * cell].reshape(ch, cell, cw, cell).sum(axis=(1, 3))
    return int((counts >= blank.CELL_MIN_INK).sum())


@pytest.mark.parametrize("name", NAMES)
def test_inked_cells_counts_as_numpy_does(name):
    page = ScannedPage(sample_set()[name][0], DPI)
    got = blank.inked_cells(page.small_image(), DPI / 2, page.histogram())
    assert got == numpy_inked_cells(page.small(), DPI / 2)


@pytest.mark.parametrize("dpi", [25, 50, 100])
def test_inked_cells_counts_specks_and_cells_as_numpy_does(dpi):
    rng = np.random.default_rng(dpi)
    gray = np.where(rng.random((300, 420)) < 0.02, 40, 235).astype(np.uint8)  # specks
    gray[100:160, 50:300] = np.where(rng.random((60, 250)) < 0.3, 20, 235)  # text-like
    image = Image.fromarray(gray)
    assert blank.inked_cells(image, dpi, image.histogram()) == numpy_inked_cells(gray, dpi)


@pytest.mark.parametrize("share", [0.0, 0.0002, 0.3, 1.0])
def test_share_set_is_the_masks_mean(share):
    """The colour and shade fractions are counted instead of averaged: the same numbers."""
    mask = np.random.default_rng(7).random((787, 557)) < share
    for m in (mask, mask[::2, ::2], mask[:1, :3]):
        assert colour.share_set(m) == float(m.mean())
