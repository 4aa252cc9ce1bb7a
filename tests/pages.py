"""Generated scans of the papers a kit sees, with known answers, for the page-processing tests.

Text comes from a commune plan (Vietnamese, with tone marks) rendered with DejaVu; pages get
scanner-like noise, skew, bleed-through, yellowed paper, seals, signatures, photos and forms.
"""

from __future__ import annotations

import math
import random
import textwrap
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

DPI = 200
A4 = (round(210 / 25.4 * DPI), round(297 / 25.4 * DPI))
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
PAPER = (246, 246, 242)
TEXT = (Path(__file__).resolve().parent.parent / "edge/data/sim_text.txt").read_text("utf-8")


@cache
def font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, px)


def text_lines(n: int, start: int = 0) -> list[str]:
    lines = []
    for para in TEXT.splitlines()[start:]:
        lines += textwrap.wrap(para, 62)
    return lines[:n]


def text_page(lines: int = 40, paper: tuple[int, int, int] = PAPER, start: int = 0,
              size_px: int = 30) -> tuple[Image.Image, list[str]]:
    im = Image.new("RGB", A4, paper)
    d = ImageDraw.Draw(im)
    body = text_lines(lines, start)
    for i, line in enumerate(body):
        d.text((170, 200 + i * int(size_px * 1.6)), line, fill=(25, 25, 25), font=font(size_px))
    return im, body


def noise(im: Image.Image, sigma: float = 5.0, seed: int = 1) -> Image.Image:
    a = np.asarray(im).astype(np.int16)
    rng = np.random.default_rng(seed)
    a = a + rng.normal(0, sigma, a.shape).astype(np.int16)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def skew(im: Image.Image, degrees: float) -> Image.Image:
    return im.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=PAPER)


def seal(im: Image.Image, at: tuple[int, int], r: int = 140) -> Image.Image:
    d = ImageDraw.Draw(im)
    x, y = at
    red = (205, 35, 45)
    d.ellipse((x - r, y - r, x + r, y + r), outline=red, width=9)
    d.ellipse((x - r + 25, y - r + 25, x + r - 25, y + r - 25), outline=red, width=4)
    d.text((x - 90, y - 20), "UBND XÃ", fill=red, font=font(40))
    return im


def signature(im: Image.Image, at: tuple[int, int]) -> Image.Image:
    d = ImageDraw.Draw(im)
    x0, y0 = at
    pts = [(x0 + t * 3, y0 + 40 * math.sin(t / 9) + 15 * math.sin(t / 2.5)) for t in range(120)]
    d.line(pts, fill=(30, 50, 170), width=5)
    return im


def bleed_through(front: Image.Image) -> Image.Image:
    """The back of a sheet: the front's text, mirrored and faint."""
    g = front.convert("L").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    faint = g.point(lambda v: 246 - (246 - v) * 0.12 if v < 246 else 246)
    return noise(Image.merge("RGB", (faint, faint, faint)).filter(ImageFilter.BLUR), 3, 7)


def photo(size: tuple[int, int], gray: bool = False, seed: int = 3) -> Image.Image:
    rng = random.Random(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    r = 128 + 90 * np.sin(x / 37 + rng.random()) * np.cos(y / 53)
    g = 128 + 80 * np.cos(x / 61) * np.sin(y / 29 + rng.random())
    b = 128 + 70 * np.sin((x + y) / 45)
    a = np.clip(np.dstack([r, g, b]), 0, 255).astype(np.uint8)
    im = Image.fromarray(a).filter(ImageFilter.GaussianBlur(3))
    return im.convert("L").convert("RGB") if gray else im


def id_card() -> Image.Image:
    im = Image.new("RGB", A4, PAPER)
    card = Image.new("RGB", (680, 430), (215, 230, 240))
    d = ImageDraw.Draw(card)
    d.rectangle((0, 0, 680, 70), fill=(180, 30, 40))
    d.text((20, 15), "CĂN CƯỚC CÔNG DÂN", fill="white", font=font(36))
    card.paste(photo((180, 240), seed=5), (30, 110))
    for i, t in enumerate(["Họ và tên: NGUYỄN THỊ PHƯỢNG", "Ngày sinh: 12/03/1958",
                           "Quê quán: xã Phượng Dực"]):
        d.text((240, 120 + i * 60), t, fill=(20, 20, 20), font=font(26))
    im.paste(card, (200, 300))
    return noise(im)


def table_form() -> Image.Image:
    im = Image.new("RGB", A4, PAPER)
    d = ImageDraw.Draw(im)
    d.text((170, 150), "TỜ KHAI ĐĂNG KÝ KHAI SINH", fill=(20, 20, 20), font=font(40))
    for row in range(12):
        y = 300 + row * 110
        if row % 3 == 0:
            d.rectangle((170, y, 1480, y + 110), fill=(200, 200, 200))
        for x in (170, 700, 1480):
            d.line((x, y, x, y + 110), fill=(30, 30, 30), width=3)
        d.line((170, y, 1480, y), fill=(30, 30, 30), width=3)
        d.text((190, y + 35), f"Mục {row + 1}: thông tin người yêu cầu", fill=(20, 20, 20),
               font=font(28))
    return noise(im)


def one_line(text: str, at: tuple[int, int]) -> Image.Image:
    im = Image.new("RGB", A4, PAPER)
    ImageDraw.Draw(im).text(at, text, fill=(30, 30, 30), font=font(30))
    return noise(im)


def truth(name: str) -> str:
    """The text printed on a text page of `sample_set()`, for character error rates."""
    start = {"text": 0, "text-skewed-4": 0, "yellowed-text": 5}[name]
    return "\n".join(text_page(start=start)[1])


TEXT_PAGES = ("text", "text-skewed-4", "yellowed-text")


@cache
def sample_set() -> dict[str, tuple[Image.Image, str]]:
    """name -> (page, expected verdict: blank | bilevel | gray | color | mixed)."""
    front, _ = text_page()
    yellow, _ = text_page(paper=(238, 226, 180), start=5)
    pages = {
        "text": (noise(front), "bilevel"),
        "text-skewed-4": (noise(skew(front, 4.0)), "bilevel"),
        "yellowed-text": (noise(yellow), "bilevel"),
        "red-seal": (noise(seal(text_page(start=10)[0], (1250, 1900))), "mixed"),
        "blue-signature": (noise(signature(text_page(start=15)[0], (1100, 2050))), "mixed"),
        "id-card": (id_card(), "color"),
        "colour-photo": (noise(_on_page(photo((1200, 900)))), "color"),
        "grey-photo": (noise(_on_page(photo((1200, 900), gray=True))), "gray"),
        "table-form": (table_form(), "gray"),
        "blank-back": (noise(Image.new("RGB", A4, PAPER), 4, 11), "blank"),
        "bleed-through-back": (bleed_through(front), "blank"),
        "page-number-only": (one_line("- 2 -", (800, 2200)), "bilevel"),
        "short-note": (one_line("Bản sao y bản chính", (300, 400)), "bilevel"),
    }
    return pages


def _on_page(picture: Image.Image) -> Image.Image:
    im = Image.new("RGB", A4, PAPER)
    im.paste(picture, (220, 400))
    return im
