"""Drawing cover sheets: one A4 page per document, as a PDF the printer takes.

Each sheet carries its QR code (module 1.6 mm, big enough to survive a photocopy and a 100 dpi
analysis copy) and the same in large Vietnamese text, so staff sorting a stack read what the
scanner reads. The page is drawn with Pillow and DejaVu (the receipts' Vietnamese-capable font)
as a 1-bit image and wrapped in a PDF by img2pdf at its true size.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import img2pdf
from PIL import Image, ImageDraw

from edge.pipeline.cover import MODULE_MM, CoverMark
from edge.receipts import layout, qr
from edge.receipts.raster import Fonts, Style, metrics

DPI = 200
A4_MM = (210, 297)
MARGIN_MM = 18
NOTE = "Tờ phân cách – không đưa vào hồ sơ"
HOW = "Đặt tờ này ngay trước giấy tờ ghi trên đây khi quét. Có thể dùng lại."
TITLE = Style(96, True)
BIG = Style(64, True)
BODY = Style(40)
SMALL = Style(30)


def px(mm: float) -> int:
    return round(mm * DPI / 25.4)


def pdf(marks: Sequence[CoverMark]) -> bytes:
    """The sheets of `marks`, one page each, as one PDF."""
    pages = []
    for mark in marks:
        buf = io.BytesIO()
        image(mark).save(buf, "PNG", dpi=(DPI, DPI))
        pages.append(buf.getvalue())
    out = img2pdf.convert(pages, layout_fun=img2pdf.get_fixed_dpi_layout_fun((DPI, DPI)))
    assert out is not None
    return out


def image(mark: CoverMark) -> Image.Image:
    """One sheet as a 1-bit A4 image at DPI."""
    width, height = px(A4_MM[0]), px(A4_MM[1])
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    fonts = Fonts()
    y = px(MARGIN_MM)
    y = _text(draw, fonts, NOTE.upper(), SMALL, y, width)
    draw.line((px(MARGIN_MM), y, width - px(MARGIN_MM), y), fill=0, width=4)
    y += px(8)
    if mark.index:
        y = _text(draw, fonts, f"Tài liệu {mark.index}/{mark.count}", BIG, y, width)
    y = _text(draw, fonts, mark.doc, TITLE, y, width)
    y = _text(draw, fonts, f"Hồ sơ {mark.ref}" if mark.ref else "Dùng cho mọi hồ sơ", BODY, y,
              width)
    code = _code(mark.payload())
    top = max(y + px(8), (height - code.height) // 2)
    page.paste(code, ((width - code.width) // 2, top))
    y = top + code.height + px(6)
    y = _text(draw, fonts, NOTE, BIG, y, width)
    _text(draw, fonts, HOW, SMALL, y, width)
    return page.point(lambda v: 255 if v >= 128 else 0, mode="1")


def _code(payload: str) -> Image.Image:
    module = px(MODULE_MM)
    return qr.image(payload, module).convert("L")


def _text(draw: ImageDraw.ImageDraw, fonts: Fonts, text: str, style: Style, y: int,
          width: int) -> int:
    """Centred, wrapped lines of `text` from `y`; the y below them."""
    usable = width - 2 * px(MARGIN_MM)
    above, below = metrics(fonts.font(style))
    for line in layout.wrap(layout.words(text, style), usable, fonts.measure):
        words = " ".join(w.text for w in line)
        x = (width - fonts.measure(words, style)) / 2
        draw.text((x, y + above), words, font=fonts.font(style), fill=0, anchor="ls")
        y += above + below + px(2)
    return y + px(4)
