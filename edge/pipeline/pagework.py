"""The work done on one scanned page, from the driver's image to the bytes the spool keeps.

One pure function, so the serial path (in the reading thread) and the parallel one (a pool of
threads) give byte-identical pages for the same input and settings. It returns no image: a page
that is done holds only its encoded bytes, and its pixels are freed as soon as it is encoded.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from edge.pipeline import cover
from edge.pipeline.encode import encode_page, page_record
from edge.pipeline.queue import Page
from edge.pipeline.settings import ScanSettings
from edge.pipeline.steps import ScannedPage, chain


@dataclass(frozen=True)
class Processed:
    """A page ready to be written: its one-page PDF, the queue's record of it, what was seen."""

    data: bytes
    record: Page
    notes: dict[str, float]
    dpi: int


def process(image: Image.Image, settings: ScanSettings, idx: int, file: str) -> Processed:
    """Steps, encoding and checksums of page `idx`, to be spooled as `file`."""
    page = chain.run(ScannedPage(image, settings.dpi), settings.steps)
    del image
    mark = cover.detect_page(page)  # a cover sheet: set aside like a blank page, restorable
    page.blank = page.blank or mark is not None
    if settings.mode == "lineart":
        page.kind = "bilevel"
    data = encode_page(page, settings.jpeg_quality, settings.max_page_bytes)
    record = page_record(idx, file, data, blank=page.blank, kind=str(page.kind),
                         cover=mark.payload() if mark else "", image_sha=page.image_sha256)
    return Processed(data, record, dict(page.notes), page.dpi)
