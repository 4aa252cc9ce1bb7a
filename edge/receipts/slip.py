"""What a rendered slip is: the pieces the printer receives, and the picture people see.

In raster mode a slip is one image, and the preview is exactly that image. With `qr = "native"`
the printer draws the QR codes itself (`GS ( k`), and in code-page mode it draws the text with
its own font: the preview then shows the same layout drawn here, close to but not exactly what
the printer makes (`exact` is False).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from edge.receipts.template import Align, Size


@dataclass(frozen=True)
class Raster:
    """A 1-bit image as wide as the paper (black = 0), printed with `GS v 0`."""

    image: Image.Image


@dataclass(frozen=True)
class NativeQr:
    """A QR code the printer draws itself, centred, `module` dots per module."""

    data: str
    module: int


@dataclass(frozen=True)
class TextLine:
    """One line printed with the printer's own font (code-page mode), already wrapped."""

    text: str
    bold: bool = False
    size: Size = "normal"
    align: Align = "left"
    label: int = 0  # characters at the start printed in bold (the block's label)


Piece = Raster | NativeQr | TextLine


@dataclass(frozen=True)
class Slip:
    template: str
    ticket: str  # for logs and the queue (never the citizen's name)
    pieces: tuple[Piece, ...]
    preview: Image.Image  # 1-bit, paper width
    exact: bool  # the preview is exactly the raster the printer receives

    def save_preview(self, path: str | Path) -> None:
        self.preview.save(path, format="PNG", dpi=(203, 203))
