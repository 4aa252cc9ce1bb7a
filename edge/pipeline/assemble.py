"""Join spooled one-page PDFs into the document staff upload, with its metadata.

qpdf (through pikepdf.Job) copies the pages' streams from the spool files at write time and keeps
only a bounded number of them open, so memory stays flat however long the batch is.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import ImageCms

from edge import __version__

XMP_PAGED_TEXT = "http://ns.adobe.com/xap/1.0/t/pg/"
# what a file adds to its pages' spooled bytes, generously: XMP, output intent, page tree
FILE_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class DocumentInfo:
    title: str
    identifier: str
    ticket: str
    pages: int
    content_sha256: str
    created: dt.datetime
    pdfa: bool = True
    part: tuple[int, int] = (1, 1)  # (this file, of how many) when a document is split


def plan_parts(page_bytes: list[int], budget: int) -> list[list[int]]:
    """Group pages (indices, in order) into files of at most `budget` bytes each.

    Each page's spooled one-page PDF is bigger than what it adds to a merged file, so the sum is
    a safe bound. A page bigger than the budget by itself gets a file of its own.
    """
    parts: list[list[int]] = [[]]
    size = FILE_OVERHEAD
    for i, n in enumerate(page_bytes):
        if parts[-1] and size + n > budget:
            parts.append([])
            size = FILE_OVERHEAD
        parts[-1].append(i)
        size += n
    return parts


def assemble(pages: list[Path], out: Path, info: DocumentInfo) -> None:
    """Write the PDF of `pages` to `out` (a temp file) and fsync it."""
    meta = out.with_name(out.name + ".meta")
    try:
        with pikepdf.new() as pdf:
            _describe(pdf, info)
            pdf.save(meta)
        pikepdf.Job(["qpdf", "--min-version=1.7", str(meta), "--pages", *map(str, pages), "--",
                     str(out)]).run()
    finally:
        meta.unlink(missing_ok=True)
    fd = os.open(out, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _describe(pdf: pikepdf.Pdf, info: DocumentInfo) -> None:
    pdf.docinfo["/EdgeTicket"] = info.ticket
    pdf.docinfo["/EdgeContentSHA256"] = info.content_sha256
    part, parts = info.part
    description = info.identifier
    if parts > 1:
        pdf.docinfo["/EdgePart"] = f"{part}/{parts}"
        description += f", part {part} of {parts}"
    if info.pdfa:
        _srgb_output_intent(pdf)
    # the XMP packet is the reference; pikepdf mirrors title, subject, dates and tools into
    # the document information dictionary, as PDF/A requires them to agree
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        if info.pdfa:
            xmp["pdfaid:part"] = "2"
            xmp["pdfaid:conformance"] = "B"
        xmp["dc:title"] = info.title
        xmp["dc:description"] = description
        xmp["dc:identifier"] = info.identifier
        xmp["xmp:CreateDate"] = info.created.isoformat(timespec="seconds")
        xmp["xmp:CreatorTool"] = f"edge {__version__}"
        xmp["pdf:Producer"] = f"edge {__version__} (qpdf {pikepdf.__libqpdf_version__})"
        xmp[f"{{{XMP_PAGED_TEXT}}}NPages"] = str(info.pages)


@functools.cache
def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _srgb_output_intent(pdf: pikepdf.Pdf) -> None:
    """The sRGB output intent PDF/A needs for DeviceRGB and DeviceGray images."""
    icc = pikepdf.Stream(pdf, _srgb_icc())
    icc["/N"] = 3
    pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent,
        S=pikepdf.Name.GTS_PDFA1,
        OutputConditionIdentifier="sRGB IEC61966-2.1",
        Info="sRGB IEC61966-2.1",
        DestOutputProfile=icc,
    )])
