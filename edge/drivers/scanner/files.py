"""Files as a scanner: imports (a citizen's phone photo, an MFP scan-to-folder PDF) take the same
steps, names and checksums as scans.

`edge import` copies the files into the job's spool (`inputs/`) before queueing it, so an import
survives a power cut like a scan does; this driver then feeds their pages in order. PDF pages are
rendered by poppler at the preset's dpi; images are fitted to their paper size: their own dpi
when they carry a plausible one (a scanner's), else A4 (a photo of a paper).
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pikepdf
from PIL import Image, ImageOps, UnidentifiedImageError

from edge import config
from edge.drivers.scanner.base import Scanner, ScanSettings, scan_error
from edge.errors import JobError

A4_INCHES = (8.27, 11.69)
MIN_DPI = 100  # an image claiming less is a photo or a screenshot: fit it to A4 instead


def is_pdf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"%PDF-"


def check(path: Path) -> int:
    """The number of pages in an importable file; JobError saying why it is refused."""
    try:
        if is_pdf(path):
            with pikepdf.open(path) as pdf:
                return len(pdf.pages)
        with Image.open(path) as im:
            im.verify()
            return getattr(im, "n_frames", 1)
    except (OSError, UnidentifiedImageError, pikepdf.PdfError, SyntaxError) as e:
        raise JobError(f"{path.name}: not a readable image or PDF ({e})",
                       vi=f"Tệp {path.name} không phải ảnh hoặc PDF đọc được") from None


def fit(image: Image.Image, dpi: int) -> Image.Image:
    """Resample an imported image so that `dpi` gives its paper's physical size."""
    image = ImageOps.exif_transpose(image) or image
    own = image.info.get("dpi", (0, 0))[0]
    if own and own >= MIN_DPI:
        scale = dpi / float(own)
    else:
        short, long_ = sorted(image.size)
        scale = min(A4_INCHES[0] * dpi / short, A4_INCHES[1] * dpi / long_)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.convert("L" if image.mode in ("1", "L", "LA", "I;16") else "RGB")
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


class FileSource(Scanner):
    """Feeds the pages of the files in a job's `inputs/` folder, in name order."""

    def __init__(self, cfg: config.Scanner) -> None:
        super().__init__(cfg)
        self.settings: ScanSettings | None = None
        self.skip = 0

    def present(self) -> bool:
        return True

    def open(self, settings: ScanSettings) -> None:
        if self.job_dir is None:
            raise scan_error("ERROR", self.name, "no job folder to import from")
        self.settings = settings

    def resume(self, already: int) -> None:
        self.skip = already

    def pages(self) -> Iterator[Image.Image]:
        assert self.settings is not None and self.job_dir is not None
        n = 0
        for path in sorted((self.job_dir / "inputs").iterdir()):
            for page in self._pages_of(path):
                n += 1
                if n > self.skip:
                    yield page
        if n == 0:
            raise scan_error("NO_DOCS", self.name, "nothing to import")

    def _pages_of(self, path: Path) -> Iterator[Image.Image]:
        assert self.settings is not None
        dpi = self.settings.dpi
        if is_pdf(path):
            for i in range(1, check(path) + 1):
                png = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(i), "-l", str(i),
                                      "-png", str(path)], capture_output=True, check=True).stdout
                yield Image.open(io.BytesIO(png)).convert("RGB")
            return
        with Image.open(path) as im:
            for frame in range(getattr(im, "n_frames", 1)):
                im.seek(frame)
                yield fit(im, dpi)

    def close(self) -> None:
        self.settings = None
