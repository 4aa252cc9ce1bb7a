"""Deskew: straighten pages fed at an angle (up to ±10°), before anything else looks at them.

The angle is the one that makes the horizontal projection of the ink sharpest (text lines and
form rules line up); a page is rotated only when that angle is clearly better than none, so a
straight page is never resampled.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from edge.pipeline.steps import ScannedPage, hist_level, paper_level

MAX_ANGLE = 10.0
MIN_ANGLE = 0.3  # below this a rotation would only blur the page
MIN_GAIN = 1.1  # the best angle must sharpen the profile by 10 % over 0°
MIN_INK = 200  # pixels at analysis resolution; fewer than this and there is nothing to align
MAX_POINTS = 8_000


def detect(gray: np.ndarray, paper: float | None = None) -> tuple[float, float]:
    """(angle in degrees, counter-clockwise positive, gain over 0°) for a grey page array whose
    `paper_level` is `paper` (counted when not given)."""
    ink = gray < (paper_level(gray) if paper is None else paper) * 0.6
    # a dark page: every k-th column is plenty, and k times less to index (rows all stay, the
    # profile is taken along them)
    k = max(1, np.count_nonzero(ink) // (4 * MAX_POINTS))
    columns = ink[:, ::k]
    found = np.flatnonzero(columns)  # np.nonzero's points in its order, 5x faster on a page
    if found.size < MIN_INK:
        return 0.0, 1.0
    if found.size > MAX_POINTS:  # an even sample keeps the cost flat on dark pages
        found = found[np.linspace(0, found.size - 1, MAX_POINTS).astype(np.int64)]
    ys, xs = np.divmod(found, columns.shape[1])
    ys, xs = ys.astype(np.float64), (xs * k).astype(np.float64)

    def score(deg: float) -> float:
        a = np.deg2rad(deg)
        proj = ys * np.cos(a) + xs * np.sin(a)
        hist = np.bincount((proj - proj.min()).astype(np.int64))
        return float(np.dot(hist, hist))

    best = 0.0
    for span, step in ((MAX_ANGLE, 1.0), (0.6, 0.2), (0.15, 0.05)):  # coarse to fine
        best = float(max(np.arange(best - span, best + span + step / 2, step), key=score))
    return best, score(best) / max(score(0.0), 1.0)


def run(page: ScannedPage) -> None:
    angle, gain = detect(page.small(), hist_level(page.histogram()))
    page.notes["skew_gain"] = round(gain, 3)
    if abs(angle) < MIN_ANGLE or gain < MIN_GAIN:
        return
    fill = (255,) * len(page.image.getbands())
    page.replace_image(page.image.rotate(-angle, resample=Image.Resampling.BILINEAR,
                                         expand=False, fillcolor=fill if len(fill) > 1 else 255))
    page.angle = round(angle, 2)
