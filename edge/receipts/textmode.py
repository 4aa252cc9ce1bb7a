"""Code-page mode: the printer prints the text with its own font; QR codes stay images.

For Epson TM-T20-class printers that carry a Vietnamese code page, text is faster to send than
a raster. The printer's font A is 12 x 24 dots, so a line holds 48 characters on 80 mm paper and
32 on 58 mm (half as many in double size, used for `size = "large"`). Lines are wrapped here, by
columns, so the break points are ours and codes are never cut; a code too long for a large line
is printed at normal size. The preview draws the same lines, one character per 12-dot cell, with
DejaVu Sans Condensed: the layout is exact, the glyphs are the printer's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw

from edge.receipts import layout, raster
from edge.receipts.raster import FONT_DIR, Fonts, Row
from edge.receipts.slip import Piece, TextLine
from edge.receipts.template import Block, Rule, TemplateError, Text

CELL = (12, 24)  # font A, dots
LINE = 30  # dots per printed line (the default 1/6" line spacing at 180 dpi, about)
PREVIEW = FONT_DIR / "DejaVuSansCondensed.ttf"  # narrow, with Vietnamese marks kept above
PREVIEW_BOLD = FONT_DIR / "DejaVuSansCondensed-Bold.ttf"
PREVIEW_PX = 20


def columns(width: int, size: str = "normal") -> int:
    return width // CELL[0] // (2 if size == "large" else 1)


def _measure(text: str, scale: int) -> float:
    return float(len(text) * scale)


def lines(block: Text, width: int) -> list[TextLine]:
    """The block wrapped into printer lines (a large line with a long code falls back)."""
    size = "large" if block.size in ("large", "huge") else "normal"
    scale = 2 if size == "large" else 1
    items = layout.words(block.label, scale) + layout.words(block.text, scale)
    out = []
    for i, line in enumerate(layout.wrap(items, columns(width), _measure)):
        text = " ".join(w.text for w in line)
        line_size = size
        if len(text) * scale > columns(width):
            if len(text) > columns(width):
                raise TemplateError(f"{text!r} is too wide for {raster.paper_mm(width)} mm "
                                    "paper", vi=f"{text!r} quá dài, không in vừa khổ giấy.")
            line_size = "normal"
        label = min(len(block.label), len(text)) if i == 0 and block.label else 0
        out.append(TextLine(text, block.bold, line_size, block.align, label))
    return out


def text_rows(block: Text, width: int) -> list[Row]:
    return [text_row(line, width) for line in lines(block, width)]


def text_row(line: TextLine, width: int) -> Row:
    scale = 2 if line.size == "large" else 1
    cell = CELL[0] * scale
    used = len(line.text) * cell
    x0 = round((width - used) * {"left": 0, "center": 0.5, "right": 1}[line.align])

    def draw(d: ImageDraw.ImageDraw, canvas: Image.Image, top: int) -> None:
        for i, char in enumerate(line.text):
            bold = line.bold or i < line.label
            font = raster.font_file(PREVIEW_BOLD if bold else PREVIEW, PREVIEW_PX * scale)
            d.text((x0 + i * cell + cell / 2, top + CELL[1] * scale), char, font=font, fill=0,
                   anchor="ms")

    return Row(LINE * scale, draw, text=line)


def rule_row(width: int) -> Row:
    return text_row(TextLine("-" * columns(width)), width)


def rows_for(blocks: Sequence[Block], width: int, fonts: Fonts, native_qr: bool) -> list[Row]:
    rows: list[Row] = []
    for block in blocks:
        if isinstance(block, Rule):
            rows.append(rule_row(width))
        else:
            rows += raster.rows_for([block], fonts, width, native_qr,
                                    text=lambda b: text_rows(b, width))
    return rows


def render(blocks: Sequence[Block], width: int, fonts: Fonts,
           native_qr: bool = False) -> tuple[list[Piece], Image.Image]:
    rows = rows_for(blocks, width, fonts, native_qr)
    return raster.pieces(rows, width), raster.paint(rows, width)
