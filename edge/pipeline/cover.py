"""Cover sheets: the kit's own separator pages, recognised by the QR code they carry.

A cover says "the pages after me, up to the next cover, are one document of this type". Its QR
payload is `DVC1|<dossier ref>|<index>|<count>|<document type, percent-encoded UTF-8>`: a prefix
and a version no citizen's document carries (a CCCD or a land certificate has a QR of its own,
which must never split a batch), ASCII only so every decoder reads it the same way. An empty ref
and index make a reusable sheet ("same dossier, next document"). No kit id: a ticket already
names its kit, a dossier code is national, and a reusable sheet serves any kit; a shorter payload
means bigger modules, read more surely from a photocopy.

Detection is cheap where it matters, on the pages that are not covers: the page's 100 dpi
analysis copy (already made for blank detection) is averaged down to about 1 mm per pixel, where
only a solid dark square as big as a finder pattern's centre (5 mm) stays black. Text, stamps and
a citizen document's small QR do not; only then is the QR decoder run, on that region.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

import numpy as np
import zxingcpp
from PIL import Image

from edge.pipeline.steps import ScannedPage, paper_level

PREFIX = "DVC1"
MODULE_MM = 1.6  # printed module size: finder centre 3 x 1.6 = 4.8 mm of solid black
COARSE_MM = 1.0  # pixel size of the prefilter copy
CORE_PX = 3  # a finder centre covers at least 3 x 3 coarse pixels, however it falls
DARK = 0.45  # a coarse pixel is dark below this share of the paper's brightness
MARGIN_MM = 40.0  # decoded around the dark cores: the code reaches this far from a finder centre
MAX_CORES = 400  # more solid dark pixels than this: a photo or a dark page, decoded whole


@dataclass(frozen=True)
class CoverMark:
    """What a cover sheet says: the document type, and (unless reusable) its dossier and place."""

    doc: str
    ref: str = ""
    index: int = 0  # 1-based place of the document in the dossier's list, 0: not numbered
    count: int = 0

    def payload(self) -> str:
        n = (str(self.index), str(self.count)) if self.index else ("", "")
        return "|".join((PREFIX, self.ref, *n, quote(self.doc, safe="")))

    @classmethod
    def parse(cls, text: str) -> CoverMark | None:
        """The mark in a QR's text, or None when it is not a kit cover."""
        fields = text.split("|")
        if len(fields) != 5 or fields[0] != PREFIX:
            return None
        _, ref, index, count, doc = fields
        try:
            doc = unquote(doc, errors="strict").strip()
            i, n = (int(index), int(count)) if index else (0, 0)
        except (UnicodeDecodeError, ValueError):
            return None
        if not doc or i < 0 or n < i:
            return None
        return cls(doc=doc, ref=ref, index=i, count=n)


def detect_page(page: ScannedPage) -> CoverMark | None:
    """The cover mark on a processed page, if it is a cover sheet."""
    return detect(page.small(), page.analysis_dpi)


def detect(gray: np.ndarray, dpi: float) -> CoverMark | None:
    """The cover mark in a greyscale page image of `dpi`, if any."""
    box = likely_region(gray, dpi)
    if box is None:
        return None
    top, bottom, left, right = box
    for code in zxingcpp.read_barcodes(np.ascontiguousarray(gray[top:bottom, left:right]),
                                       formats=zxingcpp.BarcodeFormat.QRCode,
                                       try_rotate=False, try_downscale=False):
        mark = CoverMark.parse(code.text)
        if mark:
            return mark
    return None


def likely_region(gray: np.ndarray, dpi: float) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of `gray` where a cover's finder patterns may be, or None."""
    factor = max(1, round(dpi * COARSE_MM / 25.4))
    h, w = gray.shape[0] // factor, gray.shape[1] // factor
    if h < CORE_PX or w < CORE_PX:
        return None
    coarse = np.asarray(Image.fromarray(np.ascontiguousarray(gray)).reduce(factor))[:h, :w]
    dark = coarse < paper_level(coarse) * (1 - DARK)
    core = dark[:-2, :-2] & dark[1:-1, :-2] & dark[2:, :-2]
    core = core & dark[:-2, 1:-1] & dark[:-2, 2:] & dark[1:-1, 1:-1]
    core = core & dark[2:, 2:] & dark[1:-1, 2:] & dark[2:, 1:-1]
    ys, xs = np.nonzero(core)
    if len(ys) == 0:
        return None
    if len(ys) > MAX_CORES:
        return 0, gray.shape[0], 0, gray.shape[1]
    pad = round(MARGIN_MM / COARSE_MM)
    top, bottom = max(0, ys.min() - pad), min(h, ys.max() + pad + CORE_PX)
    left, right = max(0, xs.min() - pad), min(w, xs.max() + pad + CORE_PX)
    return top * factor, bottom * factor, left * factor, right * factor
