"""Colour classification: colour, grey or bilevel, so each page gets the right encoding.

Red seals and blue-ink signatures prove a paper is authentic: a page is colour as soon as a few
square millimetres of saturated colour survive white balancing against the paper (yellowed paper
is not colour) and a 3x3 majority test (colour fringes along black text are not either). A text
page whose colour is only a seal or a signature is "mixed": black-and-white text plus a colour
patch where the colour is. Grey is for flat mid-tones (shaded form cells, photos in grey);
anything else is plain text: bilevel.
"""

from __future__ import annotations

import numpy as np

from edge.pipeline.steps import ScannedPage, paper_level

CHROMA = 60  # after white balance, 0..255
SATURATION = 0.35
COLOUR_MIN_FRACTION = 0.0002  # of the page: ~1.2 cm² on A4
SHADE_RANGE = (60, 215)
FLAT_STD = 12.0
SHADE_MIN_FRACTION = 0.02
MIXED_MAX_FRACTION = 0.02  # above this (photos, ID cards) the whole page is colour
PATCH_MARGIN_MM = 4.0
STROKE_MAX_FILL = 0.2  # denser colour is an area (or a dense seal: kept whole, the safe side)


def balanced(rgb: np.ndarray) -> np.ndarray:
    """White balance against the paper (each channel's 90th percentile becomes 255)."""
    lut = np.empty((3, 256), np.uint8)
    for c in range(3):
        white = max(paper_level(rgb[..., c]), 1.0)
        lut[c] = np.clip(np.arange(256) * (255.0 / white), 0, 255).astype(np.uint8)
    return np.stack([lut[c][rgb[..., c]] for c in range(3)], axis=-1)


def chroma_of(wb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(chroma, brightest channel) of a white-balanced RGB array."""
    r, g, b = wb[..., 0], wb[..., 1], wb[..., 2]
    high = np.maximum(np.maximum(r, g), b)
    return high - np.minimum(np.minimum(r, g), b), high


def colour_mask(rgb: np.ndarray) -> np.ndarray:
    chroma, high = chroma_of(balanced(rgb))
    hits = (chroma > CHROMA) & (chroma.astype(np.float32) > SATURATION * high)
    return majority3(hits) if hits.any() else hits


def colour_fraction(rgb: np.ndarray) -> float:
    return float(colour_mask(rgb).mean())


def majority3(mask: np.ndarray) -> np.ndarray:
    """Pixels with at least 5 of their 3x3 neighbourhood set (a median filter on a mask)."""
    p = np.pad(mask, 1).astype(np.uint8)
    h, w = mask.shape
    count = sum(p[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3))
    return count >= 5


def box_mean(a: np.ndarray, r: int) -> np.ndarray:
    k = 2 * r + 1
    padded = np.pad(a, r, mode="edge")
    s = np.zeros((padded.shape[0] + 1, padded.shape[1] + 1))  # float64: sums of squares
    s[1:, 1:] = padded.cumsum(0).cumsum(1)
    return (s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]) / (k * k)


def shade_fraction(gray: np.ndarray) -> float:
    """Share of the page in flat mid-tones (not the anti-aliased edges of text)."""
    paper = max(paper_level(gray), 1.0)
    low, high = SHADE_RANGE[0] * paper / 255.0, SHADE_RANGE[1] * paper / 255.0
    candidates = (gray > low) & (gray < high)
    if candidates.mean() < SHADE_MIN_FRACTION:
        return float(candidates.mean())  # not enough mid-tones to be grey, flat or not
    # shading covers centimetres: every other pixel is plenty, and a quarter of the work
    g = gray[::2, ::2].astype(np.float32) * (255.0 / paper)
    std = np.sqrt(np.maximum(box_mean(g * g, 1) - box_mean(g, 1) ** 2, 0))
    return float((candidates[::2, ::2] & (std < FLAT_STD)).mean())


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
        mask = colour_mask(page.small("RGB"))
        fraction = float(mask.mean())
        page.notes["colour_fraction"] = round(fraction, 5)
        if fraction >= COLOUR_MIN_FRACTION:
            page.kind = "color"
            if fraction < MIXED_MAX_FRACTION and _strokes(mask) and \
                    shade_fraction(page.small()) < SHADE_MIN_FRACTION:
                page.kind = "mixed"
                page.colour_box = _box(mask, page)
            return
    shade = shade_fraction(page.small())
    page.notes["shade_fraction"] = round(shade, 4)
    page.kind = "gray" if shade >= SHADE_MIN_FRACTION else "bilevel"


