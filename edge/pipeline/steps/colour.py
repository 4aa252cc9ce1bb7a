"""Colour classification: colour, grey or bilevel, so each page gets the right encoding.

Red seals and blue-ink signatures prove a paper is authentic: a page is colour as soon as a few
square millimetres of saturated colour survive white balancing against the paper (yellowed paper
is not colour) and a median filter (colour fringes along black text are not either). Grey is for
flat mid-tones (shaded form cells, photos in grey); anything else is plain text: bilevel.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from edge.pipeline.steps import ScannedPage, analysis_copy

CHROMA = 60  # after white balance, 0..255
SATURATION = 0.35
COLOUR_MIN_FRACTION = 0.0002  # of the page: ~1.2 cm² on A4
SHADE_RANGE = (60, 215)
FLAT_STD = 12.0
SHADE_MIN_FRACTION = 0.02


def white_point(rgb: np.ndarray) -> np.ndarray:
    """The paper's colour, per channel (a high percentile, so text and photos do not count)."""
    return np.maximum(np.percentile(rgb.reshape(-1, rgb.shape[-1]), 90, axis=0), 1.0)


def colour_fraction(rgb: np.ndarray) -> float:
    balanced = np.clip(rgb.astype(np.float32) * (255.0 / white_point(rgb)), 0, 255)
    high, low = balanced.max(axis=2), balanced.min(axis=2)
    chroma = Image.fromarray((high - low).astype(np.uint8)).filter(ImageFilter.MedianFilter(3))
    chroma_a = np.asarray(chroma, dtype=np.float32)
    saturated = (chroma_a > CHROMA) & (chroma_a > SATURATION * np.maximum(high, 1.0))
    return float(saturated.mean())


def box_mean(a: np.ndarray, r: int) -> np.ndarray:
    k = 2 * r + 1
    padded = np.pad(a, r, mode="edge")
    s = np.zeros((padded.shape[0] + 1, padded.shape[1] + 1))
    s[1:, 1:] = padded.cumsum(0).cumsum(1)
    return (s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]) / (k * k)


def shade_fraction(gray: np.ndarray) -> float:
    """Share of the page in flat mid-tones (not the anti-aliased edges of text)."""
    g = gray.astype(np.float64) * (255.0 / max(float(np.percentile(gray, 90)), 1.0))
    std = np.sqrt(np.maximum(box_mean(g * g, 2) - box_mean(g, 2) ** 2, 0))
    shade = (g > SHADE_RANGE[0]) & (g < SHADE_RANGE[1]) & (std < FLAT_STD)
    return float(shade.mean())


def run(page: ScannedPage) -> None:
    if page.image.mode == "1":
        page.kind = "bilevel"
        return
    if page.image.mode == "RGB":
        fraction = colour_fraction(analysis_copy(page.image, page.dpi, "RGB"))
        page.notes["colour_fraction"] = round(fraction, 5)
        if fraction >= COLOUR_MIN_FRACTION:
            page.kind = "color"
            return
    shade = shade_fraction(analysis_copy(page.image, page.dpi))
    page.notes["shade_fraction"] = round(shade, 4)
    page.kind = "gray" if shade >= SHADE_MIN_FRACTION else "bilevel"
