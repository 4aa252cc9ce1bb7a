"""Generated scans of a stack with the kit's cover sheets, for the cover tests and the bench.

Covers come from the kit's own renderer (edge/covers/sheet.py), are rasterised back by poppler
as a scanner would see the printed sheet (200 or 300 dpi; colour, grey or lineart), then skewed,
or photocopied (blurred, lighter, noisy, speckled). Document pages come from tests/pages.py; one
carries a foreign QR code (a citizen's document: a CCCD's payload), big enough to be decoded.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import qrcode
from PIL import Image, ImageFilter

from edge.covers import sheet
from edge.pipeline.cover import CoverMark

from .pages import PAPER, noise, sample_set, text_page

FOREIGN = ("001099012345|123456789|Nguyen Van A|01011990|Nam|Thon 1, xa Phu Lac|01012021")


@functools.cache
def rasterised(mark: CoverMark, dpi: int, mode: str) -> Image.Image:
    """The printed sheet of `mark` scanned at `dpi` in `mode` (color, gray, lineart)."""
    flag = {"color": [], "gray": ["-gray"], "lineart": ["-mono"]}[mode]
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "c.pdf"
        pdf.write_bytes(sheet.pdf([mark]))
        subprocess.run(["pdftoppm", "-r", str(dpi), *flag, "-png", "-singlefile", str(pdf),
                        str(Path(tmp) / "c")], check=True)
        with Image.open(Path(tmp) / "c.png") as im:
            return im.convert("RGB" if mode == "color" else "L")


def skewed(im: Image.Image, degrees: float) -> Image.Image:
    fill = PAPER if im.mode == "RGB" else 246
    out = im.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=fill)
    return out


def lineart(im: Image.Image) -> Image.Image:
    """What a lineart scan gives: 1-bit, read back as grey (the files scanner's way)."""
    return im.convert("L").point(lambda v: 255 if v > 140 else 0).convert("1").convert("L")


def photocopied(im: Image.Image, seed: int = 7) -> Image.Image:
    """A copy of a copy: softer, lighter black, grey paper, toner specks."""
    gray = im.convert("L").filter(ImageFilter.GaussianBlur(1.2))
    a = np.asarray(gray).astype(np.float32) * 0.55 + 95  # black becomes ~95, paper ~235
    rng = np.random.default_rng(seed)
    a += rng.normal(0, 12, a.shape)
    specks = rng.random(a.shape) < 0.002
    a[specks] = 40
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def with_foreign_qr(size_mm: float = 45, dpi: int = 200) -> Image.Image:
    """A text page carrying a citizen document's QR (not the kit's)."""
    page, _ = text_page(lines=25)
    code = qrcode.make(FOREIGN, border=2).get_image().convert("RGB")
    side = round(size_mm / 25.4 * dpi)
    page.paste(code.resize((side, side), Image.Resampling.NEAREST), (1100, 1700))
    return noise(page)


@dataclass(frozen=True)
class Sheet:
    """One page of the generated stack and what it is."""

    image: Image.Image
    dpi: int
    cover: CoverMark | None = None
    label: str = ""


DOSSIER = "PL01-261203-001"
MARKS = (CoverMark("Tờ khai đăng ký khai sinh", DOSSIER, 1, 4),
         CoverMark("Giấy chứng sinh", DOSSIER, 2, 4),
         CoverMark("CCCD của cha/mẹ", DOSSIER, 3, 4),
         CoverMark("Giấy chứng nhận kết hôn"))  # a reusable sheet: no dossier, no place


def covers() -> list[Sheet]:
    """Every cover variant the tests demand, each once."""
    m = MARKS
    return [
        Sheet(rasterised(m[0], 200, "color"), 200, m[0], "200 dpi colour"),
        Sheet(skewed(rasterised(m[1], 300, "gray"), 7), 300, m[1], "300 dpi grey, +7°"),
        Sheet(lineart(skewed(rasterised(m[2], 200, "gray"), -7)), 200, m[2],
              "200 dpi lineart, -7°"),
        Sheet(photocopied(skewed(rasterised(m[3], 200, "gray"), 3)), 200, m[3],
              "photocopy, 200 dpi"),
        Sheet(rasterised(m[0], 300, "color").rotate(180), 300, m[0], "300 dpi colour, upside down"),
        Sheet(lineart(rasterised(m[1], 300, "gray")), 300, m[1], "300 dpi lineart"),
    ]


def documents() -> list[Sheet]:
    """Pages that are not covers: the page-quality set and a page with a foreign QR."""
    out = [Sheet(im, 200, None, name) for name, (im, _) in sample_set().items()]
    return [*out, Sheet(with_foreign_qr(), 200, None, "foreign QR")]
