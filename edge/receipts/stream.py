"""The ESC/POS byte stream of a slip, built with python-escpos's `Dummy` printer.

The stream is made once, before any printer is touched, so the same bytes can be spooled,
retried, written to a file or compared in tests. Images go out as `GS v 0` bands of at most
`BAND` rows (cheap printers have small input buffers), native QR codes as `GS ( k`, code-page
text as `ESC t` / `ESC E` / `GS !` / `ESC a` and the encoded line. The slip ends with a feed
past the cutter and a cut where the profile has one.
"""

from __future__ import annotations

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image

from edge import config
from edge.receipts.codepage import Encoder
from edge.receipts.slip import NativeQr, Raster, Slip, TextLine

BAND = 256  # raster rows per GS v 0 command
INIT = b"\x1b@"
ALIGN = {"left": b"\x1ba\x00", "center": b"\x1ba\x01", "right": b"\x1ba\x02"}
BOLD = {False: b"\x1bE\x00", True: b"\x1bE\x01"}
SIZE = {"small": b"\x1d!\x00", "normal": b"\x1d!\x00", "large": b"\x1d!\x11"}


def dummy(printer: config.ReceiptPrinter) -> Dummy:
    """A recording printer with the profile's paper width set to ours (python-escpos checks
    images against it, and prints a warning on stdout when a profile does not know it)."""
    p = Dummy(profile=printer.profile)
    data = p.profile.profile_data
    dots = {58: 384, 80: 576}[printer.paper_mm]
    p.profile.profile_data = {**data, "media": {**data.get("media", {}), "width": {
        "mm": printer.paper_mm, "pixels": dots}}}  # this instance only
    p._raw(INIT)
    return p


def encode(slip: Slip, printer: config.ReceiptPrinter) -> bytes:
    """Every byte the printer receives for this slip."""
    p = dummy(printer)
    encoder = (Encoder.for_profile(printer.profile)
               if any(isinstance(x, TextLine) for x in slip.pieces) else None)
    page: int | None = None
    for piece in slip.pieces:
        if isinstance(piece, Raster):
            image(p, piece.image)
        elif isinstance(piece, NativeQr):
            p._raw(ALIGN["center"])
            p.qr(piece.data, ec=QR_ECLEVEL_M, size=piece.module, native=True)
            p._raw(ALIGN["left"])
        elif isinstance(piece, TextLine):
            assert encoder is not None
            data, page = text_line(encoder, piece, page)
            p._raw(data)
    p.cut()
    return bytes(p.output)


def image(p: Dummy, img: Image.Image) -> None:
    p.image(img, impl="bitImageRaster", fragment_height=BAND)


def text_line(encoder: Encoder, line: TextLine, page: int | None) -> tuple[bytes, int | None]:
    """One line in the printer's font; returns the code page left selected."""
    out = ALIGN[line.align] + SIZE[line.size]
    head, tail = line.text[: line.label], line.text[line.label:]
    if head and not line.bold:
        data, page = encoder.encode(head, page)
        out += BOLD[True] + data
    data, page = encoder.encode(tail if head and not line.bold else line.text, page)
    out += BOLD[line.bold] + data + BOLD[False] + SIZE["normal"] + ALIGN["left"] + b"\n"
    return out, page

