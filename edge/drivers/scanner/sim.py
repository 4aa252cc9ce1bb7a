"""A simulated document scanner, so the service runs end to end on a laptop with no hardware.

It renders A4 pages of Vietnamese administrative text (from a commune plan) at the configured dpi,
with a red seal on the last sheet, one side every `page_delay` seconds; in duplex the backs are
blank (`blank_backs`); `jam_after` makes the feeder jam once per job, as a real ADF does.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from functools import cache
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge.drivers.scanner.base import Acquisition, Scanner, scan_error
from edge.drivers.scanner.settings import SimScannerSettings

FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
              "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf")


@cache
def _text() -> list[str]:
    return resources.files("edge").joinpath("data/sim_text.txt").read_text("utf-8").splitlines()


@cache
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, px)
        except OSError:
            continue
    return ImageFont.load_default(px)


def render_page(n: int, dpi: int, width_mm: float, height_mm: float, *, seal: bool) -> Image.Image:
    """Page `n` of a simulated batch as an RGB image at `dpi`."""
    w, h = round(width_mm / 25.4 * dpi), round(height_mm / 25.4 * dpi)
    page = Image.new("RGB", (w, h), (250, 250, 246))
    draw = ImageDraw.Draw(page)
    font = _font(max(8, dpi // 8))
    margin, line_h = dpi, int(dpi / 8 * 1.5)
    y = margin
    lines = _text()
    draw.text((margin, y), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", fill="black", font=font)
    y += 2 * line_h
    for i in range(len(lines)):
        para = lines[(n + i) % len(lines)]
        for line in textwrap.wrap(para, width=70):
            if y > h - margin - 2 * line_h:
                break
            draw.text((margin, y), line, fill=(20, 20, 20), font=font)
            y += line_h
    draw.text((w // 2, h - margin), f"- {n} -", fill="black", font=font)
    if seal:
        r = dpi * 3 // 4
        cx, cy = w - margin - r, h - margin - 3 * r
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(200, 20, 30), width=dpi // 25)
        draw.text((cx - r // 2, cy - line_h // 2), "UBND XÃ", fill=(200, 20, 30), font=font)
    return page


def render_blank(n: int, dpi: int, width_mm: float, height_mm: float) -> Image.Image:
    """The empty back of sheet side `n`: paper with a little scanner noise, the same each time
    (a batch scanned twice gives the same pages)."""
    w, h = round(width_mm / 25.4 * dpi), round(height_mm / 25.4 * dpi)
    paper = np.random.default_rng(n).normal(246, 4, (h, w)).clip(0, 255).astype(np.uint8)
    noise = Image.fromarray(paper)
    return Image.merge("RGB", (noise, noise, noise))


class SimScanner(Scanner):
    """Feeds `sim.sheets` rendered sheets per job; always present."""

    def __init__(self, cfg: SimScannerSettings) -> None:
        super().__init__(cfg)
        self.settings: Acquisition | None = None
        self.fed = 0
        self.jammed = False

    def present(self) -> bool:
        return True

    def open(self, settings: Acquisition) -> None:
        self.settings = settings

    def resume(self, already: int) -> None:
        """Continue a paused job: the sheets before `already` have been fed."""
        self.fed = already
        self.jammed = already >= self.cfg.sim.jam_after > 0

    def pages(self) -> Iterator[Image.Image]:
        s = self.settings
        assert s is not None, "open() first"
        sim = self.cfg.sim
        sides = {"flatbed": 1, "adf": sim.sheets, "adf-duplex": 2 * sim.sheets}[s.source]
        if self.fed >= sides:
            raise scan_error("NO_DOCS", self.name)
        while self.fed < sides:
            if sim.jam_after and self.fed == sim.jam_after and not self.jammed:
                self.jammed = True
                raise scan_error("JAMMED", self.name)
            time.sleep(sim.page_delay)
            self.fed += 1
            if s.source == "adf-duplex" and self.fed % 2 == 0 and sim.blank_backs:
                page = render_blank(self.fed, s.dpi, self.cfg.page_width_mm,
                                    self.cfg.page_height_mm)
            else:
                page = render_page(self.fed, s.dpi, self.cfg.page_width_mm, self.cfg.page_height_mm,
                                   seal=self.fed >= sides - 1)
            if s.mode != "color":
                page = page.convert("L")
            if s.mode == "lineart":
                page = page.point(lambda v: 255 if v > 160 else 0)
            box = [page]
            del page  # held here, a page would stay in memory until the next one is read
            yield box.pop()

    def close(self) -> None:
        self.settings = None
