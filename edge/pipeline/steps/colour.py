"""Colour classification: colour, grey or bilevel, so each page gets the right encoding.

Red seals and blue-ink signatures prove a paper is authentic: a page is colour as soon as a few
square millimetres of saturated colour survive white balancing against the paper (yellowed paper
is not colour) and a 3x3 majority test (colour fringes along black text are not either). A text
page whose colour is only a seal or a signature is "mixed": black-and-white text plus a colour
patch where the colour is. Grey is for flat mid-tones (shaded form cells, photos in grey);
anything else is plain text: bilevel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from edge.pipeline.steps import PAPER_PERCENTILE, ScannedPage, hist_level, hist_percentile

CHROMA = 60  # after white balance, 0..255
SATURATION = 0.35
COLOUR_MIN_FRACTION = 0.0002  # of the page: ~1.2 cm² on A4
SHADE_RANGE = (60, 215)
FLAT_DEVIATION = 8  # of 255 (paper white)
SHADE_MIN_FRACTION = 0.02
MIXED_MAX_FRACTION = 0.02  # above this (photos, ID cards) the whole page is colour
PATCH_MARGIN_MM = 4.0
STROKE_MAX_FILL = 0.2  # denser colour is an area (or a dense seal: kept whole, the safe side)


LEVELS = np.arange(256)


def balanced(rgb: Image.Image, hist: Sequence[int] | None = None) -> Image.Image:
    """White balance against the paper (each channel's 90th percentile becomes 255); `hist` is
    `rgb`'s histogram when it is known."""
    hist = hist or rgb.histogram()
    whites = [max(hist_percentile(hist[c * 256:(c + 1) * 256], PAPER_PERCENTILE), 1.0)
              for c in range(3)]
    lut = np.concatenate([np.minimum(255, (LEVELS * 255.0 / white).astype(np.int64))
                          for white in whites])
    return rgb.point(lut.tolist())


def chroma_mask(wb: Image.Image, chroma: int = CHROMA, saturation: float = 0.0) -> np.ndarray:
    """Pixels of a white-balanced RGB image whose chroma (brightest minus darkest channel) is
    above `chroma` and above `saturation` times the brightest channel.

    Both bars are one: the spread must be above the larger, a table of the brightest channel
    (the float32 product of before, floored: the spread is a whole number); what is left of
    the spread less that bar, clipped at 0 by Pillow, is the mask. No numpy pass but the last.
    """
    r, g, b = wb.split()
    high = ImageChops.lighter(ImageChops.lighter(r, g), b)
    spread = ImageChops.subtract(high, ImageChops.darker(ImageChops.darker(r, g), b))
    bar = np.maximum(chroma, np.floor(saturation * LEVELS.astype(np.float32))).astype(np.int64)
    return np.asarray(ImageChops.subtract(spread, high.point(bar.tolist()))) > 0


def colour_mask(rgb: Image.Image, hist: Sequence[int]) -> np.ndarray:
    hits = chroma_mask(balanced(rgb, hist), CHROMA, SATURATION)
    return majority3(hits) if hits.any() else hits


def majority3(mask: np.ndarray) -> np.ndarray:
    """Pixels with at least 5 of their 3x3 neighbourhood set (a median filter on a mask)."""
    p = np.pad(mask, 1).view(np.uint8)
    rows = p[:, :-2] + p[:, 1:-1] + p[:, 2:]  # separable: 4 additions, not 8, the same counts
    return rows[:-2] + rows[1:-1] + rows[2:] >= 5


def shade_fraction(gray: np.ndarray, hist: Sequence[int]) -> float:
    """Share of the page in flat mid-tones (not the anti-aliased edges of text), for a grey page
    array and its histogram."""
    paper = max(hist_level(hist), 1.0)
    low, high = SHADE_RANGE[0] * paper / 255.0, SHADE_RANGE[1] * paper / 255.0
    # the levels strictly between low and high, counted from the histogram: no pass over the
    # page for most pages (text)
    share = np.asarray(hist)[math.floor(low) + 1:math.ceil(high)].sum() / gray.size
    if share < SHADE_MIN_FRACTION:
        return share  # not enough mid-tones to be grey, flat or not
    # shading covers centimetres: every other pixel is plenty, and a quarter of the work;
    # flat is a small mean deviation from the 3x3 mean, relative to the paper
    half = np.ascontiguousarray(gray[::2, ::2])
    g = Image.fromarray(half)
    dev = ImageChops.difference(g, g.filter(ImageFilter.BoxBlur(1))).filter(ImageFilter.BoxBlur(1))
    flat = np.asarray(dev) < FLAT_DEVIATION * paper / 255.0
    return share_set((half > low) & (half < high) & flat)


def share_set(mask: np.ndarray) -> float:
    """`float(mask.mean())` of a boolean mask (the same number: a whole count over the size)
    by counting, 10x faster than mean's conversion of every pixel to a float."""
    return np.count_nonzero(mask) / mask.size


def _strokes(mask: np.ndarray) -> bool:
    """Whether the colour is pen or stamp strokes (thin, sparse in their bounding box) rather
    than areas (photos, printed cards), which must keep their whole colour context."""
    ys, xs = np.nonzero(mask)
    area = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
    return ys.size / area < STROKE_MAX_FILL


def _box(mask: np.ndarray, page: ScannedPage) -> tuple[int, int, int, int]:
    """The colour's bounding box in full-size pixels, with a margin, clipped to the page."""
    ys, xs = np.nonzero(mask)
    scale = page.dpi / page.analysis_dpi
    pad = PATCH_MARGIN_MM / 25.4 * page.dpi
    w, h = page.image.size
    return (max(0, int(xs.min() * scale - pad)), max(0, int(ys.min() * scale - pad)),
            min(w, int((xs.max() + 1) * scale + pad)), min(h, int((ys.max() + 1) * scale + pad)))


def run(page: ScannedPage) -> None:
    if page.image.mode == "1":
        page.kind = "bilevel"
        return
    if page.image.mode == "RGB":
        mask = colour_mask(page.small_image("RGB"), page.histogram("RGB"))
        fraction = share_set(mask)
        page.notes["colour_fraction"] = round(fraction, 5)
        if fraction >= COLOUR_MIN_FRACTION:
            page.kind = "color"
            if fraction < MIXED_MAX_FRACTION and _strokes(mask) and \
                    shade_fraction(page.small(), page.histogram()) < SHADE_MIN_FRACTION:
                page.kind = "mixed"
                page.colour_box = _box(mask, page)
            return
    shade = shade_fraction(page.small(), page.histogram())
    page.notes["shade_fraction"] = round(shade, 4)
    page.kind = "gray" if shade >= SHADE_MIN_FRACTION else "bilevel"


