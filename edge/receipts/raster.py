"""Drawing a slip with Pillow and a Vietnamese-capable TrueType font, as the printer will print it.

This is the reliable path for Vietnamese: no code page is involved, so any ESC/POS printer that
prints images prints every tone mark right. Text is drawn antialiased, then thresholded to the
1-bit raster the printer receives, so the preview and the paper are the same dots. Lines are
tall enough for stacked marks (Ặ, Ễ) and dots below (ỵ), which DejaVu's own metrics cut short.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from edge.errors import ConfigError
from edge.receipts import layout, qr
from edge.receipts.slip import NativeQr, Piece, Raster, TextLine
from edge.receipts.template import Block, Feed, QrRow, Rule, TemplateError, Text

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
# pixels (dots at 203 dpi: 3 mm for normal; huge: a queue number, 15 mm)
SIZES = {"small": 20, "normal": 24, "large": 34, "huge": 120}
MIN_SIZE = 14  # a code that does not fit is printed smaller, down to this
MARGIN = 8  # dots left and right
LINE_GAP = 4
FEED = 24  # dots per `feed` line
RULE = (10, 2, 10)  # space above, thickness, space below
QR_GAP = 24  # dots between two codes of a row
QR_PAD = 8  # dots above and below a row of codes
SIDE_BY_SIDE_MODULE = 4  # smaller modules blur on thermal paper: then one code under the other
TALL = "ỖẶẼỸÁ"  # the highest marks in Vietnamese
DEEP = "ỵgjpqỹ"  # the lowest

Font = ImageFont.FreeTypeFont


@dataclass(frozen=True)
class Style:
    size: int
    bold: bool = False


@dataclass(frozen=True)
class Fonts:
    """The regular and bold faces at every size used (the same face when no bold is known)."""

    regular: Path = REGULAR
    bold: Path = BOLD

    @classmethod
    def configured(cls, font: Path | None) -> Fonts:
        if font is None:
            return cls()
        bold = font.with_name(f"{font.stem}-Bold{font.suffix}")
        return cls(font, bold if bold.exists() else font)

    def font(self, style: Style) -> Font:
        return font_file(self.bold if style.bold else self.regular, style.size)

    def measure(self, text: str, style: Style) -> float:
        return float(self.font(style).getlength(text))


@functools.lru_cache(maxsize=64)
def font_file(path: Path, size: int) -> Font:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        raise ConfigError(f"receipt font {path} cannot be read",
                          hint="apt-get install fonts-dejavu-core, or set font = "
                               "\"/path/to/a/Vietnamese/font.ttf\" in [[receipt_printer]]"
                          ) from None


@functools.lru_cache(maxsize=64)
def metrics(font: Font) -> tuple[int, int]:
    """(above, below) the baseline, in dots, enough for every Vietnamese letter."""
    ascent, descent = font.getmetrics()
    _, top, _, _ = font.getbbox(TALL, anchor="ls")
    _, _, _, bottom = font.getbbox(DEEP, anchor="ls")
    return max(ascent, -top), max(descent, bottom)


# ------------------------------------------------------------------ rows


Draw = Callable[[ImageDraw.ImageDraw, Image.Image, int], None]


@dataclass(frozen=True)
class Row:
    """A horizontal band of the slip: its height and how to draw it at a given top."""

    height: int
    draw: Draw | None = None
    native: NativeQr | None = None  # drawn by the printer (the preview draws it here too)
    text: TextLine | None = None  # printed with the printer's font (code-page mode)


def text_rows(block: Text, fonts: Fonts, width: int) -> list[Row]:
    size = SIZES[block.size]
    items = (layout.words(block.label, Style(size, True))
             + layout.words(block.text, Style(size, block.bold)))
    return [line_row(fit(line, fonts, width), fonts, width, block.align)
            for line in layout.wrap(items, width - 2 * MARGIN, fonts.measure)]


def fit(line: list[layout.Word[Style]], fonts: Fonts, width: int) -> list[layout.Word[Style]]:
    """The line, smaller if it is a code wider than the paper; refused if even that fails."""
    while layout.line_width(line, fonts.measure) > width - 2 * MARGIN:
        if min(w.style.size for w in line) <= MIN_SIZE:
            text = " ".join(w.text for w in line)
            raise TemplateError(f"{text!r} is too wide for {paper_mm(width)} mm paper",
                                vi=f"{text!r} quá dài, không in vừa khổ giấy.")
        line = [layout.Word(w.text, Style(w.style.size - 1, w.style.bold)) for w in line]
    return line


def paper_mm(width: int) -> int:
    return 58 if width <= 384 else 80


def line_row(line: Sequence[layout.Word[Style]], fonts: Fonts, width: int, align: str) -> Row:
    above = max(metrics(fonts.font(w.style))[0] for w in line)
    below = max(metrics(fonts.font(w.style))[1] for w in line)
    used = layout.line_width(line, fonts.measure)
    x0 = MARGIN + round((width - 2 * MARGIN - used) * {"left": 0, "center": 0.5,
                                                         "right": 1}[align])

    def draw(d: ImageDraw.ImageDraw, canvas: Image.Image, top: int) -> None:
        x = float(x0)
        for run, style in runs(line):
            d.text((x, top + above), run, font=fonts.font(style), fill=0, anchor="ls")
            x += fonts.measure(run + " ", style)

    return Row(above + below + LINE_GAP, draw)


def runs(line: Sequence[layout.Word[Style]]) -> list[tuple[str, Style]]:
    """Consecutive words in the same style, joined: drawn (and kerned) as one string."""
    out: list[tuple[str, Style]] = []
    for w in line:
        if out and out[-1][1] == w.style:
            out[-1] = (f"{out[-1][0]} {w.text}", w.style)
        else:
            out.append((w.text, w.style))
    return out


def rule_row(width: int) -> Row:
    above, thick, below = RULE

    def draw(d: ImageDraw.ImageDraw, canvas: Image.Image, top: int) -> None:
        d.rectangle((MARGIN, top + above, width - MARGIN - 1, top + above + thick - 1), fill=0)

    return Row(above + thick + below, draw)


def image_row(img: Image.Image, x: int) -> Row:
    def draw(d: ImageDraw.ImageDraw, canvas: Image.Image, top: int) -> None:
        canvas.paste(img.convert("L"), (x, top))

    return Row(img.height, draw)


def qr_rows(block: QrRow, fonts: Fonts, width: int, native: bool) -> list[Row]:
    """Codes side by side when they still get `SIDE_BY_SIDE_MODULE`-dot modules (80 mm), else
    one under the other; captions below. The printer draws a native code alone, centred."""
    avail = width - 2 * MARGIN
    n = len(block.codes)
    sizes = [len(qr.matrix(c.data)) for c in block.codes]
    cell = (avail - QR_GAP * (n - 1)) // n
    module = min(qr.module_size(s, cell) for s in sizes)
    if not native and n > 1 and module >= SIDE_BY_SIDE_MODULE:
        return [Row(QR_PAD), image_row(qr_cell_row(block, module, fonts, cell), MARGIN)]
    rows: list[Row] = [Row(QR_PAD)]
    for code, size in zip(block.codes, sizes, strict=True):
        module = qr.module_size(size, avail)
        if native:
            rows.append(Row((size + 2 * qr.QUIET) * module, native=NativeQr(code.data, module)))
        else:
            img = qr.image(code.data, module)
            rows.append(image_row(img, MARGIN + (avail - img.width) // 2))
        if code.caption:
            rows += text_rows(Text(code.caption, size="small", align="center"), fonts, width)
    return [*rows, Row(QR_PAD)]


def qr_cell_row(block: QrRow, module: int, fonts: Fonts, cell: int) -> Image.Image:
    """One image holding the codes side by side, each caption wrapped under its code, the
    captions starting on one line."""
    style = Style(SIZES["small"])
    font = fonts.font(style)
    above, below = metrics(font)
    images = [qr.image(c.data, module) for c in block.codes]
    captions = [[" ".join(w.text for w in line)
                 for line in layout.wrap(layout.words(c.caption, style), cell, fonts.measure)]
                for c in block.codes]
    line_h = above + below + LINE_GAP
    top = max(img.height for img in images)
    out = Image.new("L", (len(images) * cell + QR_GAP * (len(images) - 1),
                          top + max(len(c) for c in captions) * line_h + QR_PAD), 255)
    d = ImageDraw.Draw(out)
    for i, (img, lines) in enumerate(zip(images, captions, strict=True)):
        x = i * (cell + QR_GAP)
        out.paste(img.convert("L"), (x + (cell - img.width) // 2, (top - img.height) // 2))
        for j, text in enumerate(lines):
            d.text((x + cell / 2, top + j * line_h + above), text, font=font, fill=0,
                   anchor="ms")
    return out


def rows_for(blocks: Sequence[Block], fonts: Fonts, width: int, native_qr: bool,
             text: Callable[[Text], list[Row]] | None = None) -> list[Row]:
    """Every block as rows; `text` lets the code-page mode draw text its own way."""
    rows: list[Row] = []
    for block in blocks:
        if isinstance(block, Text):
            rows += text(block) if text else text_rows(block, fonts, width)
        elif isinstance(block, Rule):
            rows.append(rule_row(width))
        elif isinstance(block, Feed):
            rows.append(Row(FEED * block.lines))
        elif isinstance(block, QrRow):
            rows += qr_rows(block, fonts, width, native_qr)
    return rows


# ------------------------------------------------------------------ the whole slip


def paint(rows: Sequence[Row], width: int) -> Image.Image:
    """Rows drawn one under the other, thresholded to 1 bit (native QR codes drawn too)."""
    canvas = Image.new("L", (width, max(1, sum(r.height for r in rows))), 255)
    d = ImageDraw.Draw(canvas)
    top = 0
    for row in rows:
        if row.draw is not None:
            row.draw(d, canvas, top)
        elif row.native is not None:
            img = qr.image(row.native.data, row.native.module)
            canvas.paste(img.convert("L"), ((width - img.width) // 2, top))
        top += row.height
    return canvas.convert("1", dither=Image.Dither.NONE)


def pieces(rows: Sequence[Row], width: int) -> list[Piece]:
    """What the printer receives: images of the plain rows, with the rows it draws itself
    (native QR codes, code-page text lines) between them."""
    out: list[Piece] = []
    band: list[Row] = []
    for row in [*rows, None]:
        own = None if row is None else (row.text or row.native)
        if row is not None and own is None:
            band.append(row)
            continue
        if band:
            out.append(Raster(paint(band, width)))
            band = []
        if own is not None:
            out.append(own)
    return out


def render(blocks: Sequence[Block], width: int, fonts: Fonts,
           native_qr: bool = False) -> tuple[list[Piece], Image.Image]:
    """(pieces for the printer, preview): one raster that is the preview itself, unless the
    printer draws QR codes natively."""
    rows = rows_for(blocks, fonts, width, native_qr)
    preview = paint(rows, width)
    if not native_qr:
        return [Raster(preview)], preview
    return pieces(rows, width), preview
