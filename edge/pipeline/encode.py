"""Encode one scanned page as it arrives into a one-page PDF, the unit the spool keeps on disk.

Colour and grey pages become JPEG at the preset quality, lineart becomes CCITT G4; img2pdf embeds
them without re-encoding at the physical size given by the scan dpi (never its 96 dpi default).
"""

from __future__ import annotations

import hashlib
import io

import img2pdf
import pikepdf
from PIL import Image

from edge.drivers.scanner.base import ScanSettings
from edge.pipeline.queue import Page


def encode_page(image: Image.Image, settings: ScanSettings) -> bytes:
    """A one-page PDF holding `image` at `settings.dpi`."""
    buf = io.BytesIO()
    dpi = (settings.dpi, settings.dpi)
    if settings.mode == "lineart" or image.mode == "1":
        bw = image if image.mode == "1" else image.convert("L").convert("1", dither=Image.NONE)
        bw.save(buf, "TIFF", compression="group4", dpi=dpi)
    else:
        rgb_or_l = image if image.mode in ("RGB", "L") else image.convert("RGB")
        rgb_or_l.save(buf, "JPEG", quality=settings.jpeg_quality, dpi=dpi)
    return img2pdf.convert(buf.getvalue(), layout_fun=img2pdf.get_fixed_dpi_layout_fun(dpi))


def page_image_digests(pdf: pikepdf.Pdf) -> list[str]:
    """SHA-256 of each page's image data as stored (raw, still compressed), in page order."""
    digests = []
    for page in pdf.pages:
        h = hashlib.sha256()
        resources = page.obj.get("/Resources", {})
        xobjects = resources.get("/XObject", {})
        for name in sorted(xobjects.keys()):
            h.update(xobjects[name].read_raw_bytes())
        digests.append(h.hexdigest())
    return digests


def page_record(idx: int, file: str, data: bytes) -> Page:
    """The queue's record of a spooled page: file checksum and image digest."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        (image_sha,) = page_image_digests(pdf)
    return Page(idx=idx, file=file, sha256=hashlib.sha256(data).hexdigest(),
                image_sha256=image_sha, bytes=len(data))


def content_digest(page_digests: list[str]) -> str:
    """The digest of a document's images, stored in its metadata; survives file renames."""
    return hashlib.sha256("".join(page_digests).encode()).hexdigest()
