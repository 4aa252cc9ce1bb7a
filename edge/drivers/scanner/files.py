"""Files as a scanner: imports (a citizen's phone photo, an MFP scan-to-folder PDF) take the same
steps, names and checksums as scans.

`edge import` copies the files into the job's spool (`inputs/`) before queueing it, so an import
survives a power cut like a scan does; this driver then feeds their pages in order. PDF pages are
rendered by poppler at the preset's dpi; images are fitted to their paper size: their own dpi
when they carry a plausible one (a scanner's), else A4 (a photo of a paper).

Whatever is imported was put on the kit by people or other machines: it is hostile. `check`
reads it only through a descriptor opened without following links or blocking on a FIFO, tells a
file that ends early (perhaps still being written) from one that is refused for good, and keeps
every decode within a memory budget judged from the declared size, before anything is decoded.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pikepdf
from PIL import Image

from edge.drivers.scanner.base import Acquisition, Scanner, scan_error
from edge.drivers.scanner.settings import FilesSettings
from edge.errors import JobError

A4_INCHES = (8.27, 11.69)
A3_INCHES = (11.69, 16.54)
MIN_DPI = 100  # an image claiming less is a photo or a screenshot: fit it to A4 instead
MAX_DECLARED_PIXELS = round(A3_INCHES[0] * 600) * round(A3_INCHES[1] * 600)  # 69.6 Mpx
DECODE_BUDGET = 120 * 2**20  # bytes one decoded image may take: A4 at 600 dpi in colour
MAX_FILE_BYTES = 200 * 2**20
MAX_PAGES = 500  # more is not one paper document; split it
MIN_SIDE_PX = 32
MAX_ASPECT = 8.0  # a page is at most 8 times longer than wide
FORMATS = ("JPEG", "PNG", "TIFF")
ORIENTATION = 0x0112  # EXIF: how a phone held the camera
TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
         4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
         6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
         8: Image.Transpose.ROTATE_90}
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"

# Pillow's own warning (at 89 Mpx) is replaced by `budget`, which refuses earlier
warnings.simplefilter("ignore", Image.DecompressionBombWarning)


class Refused(JobError):
    """A file an import does not take, through the file's own fault."""


class Incomplete(Refused):
    """A file that ends early: it may still be being written."""


def _refused(en: str, vi: str) -> Refused:
    return Refused(en, vi=vi)


def _unreadable() -> Refused:
    return _refused("not a readable image or PDF (JPEG, PNG, TIFF or PDF)",
                    "Tệp không phải ảnh hoặc PDF đọc được (JPEG, PNG, TIFF hoặc PDF)")


def _incomplete(what: str) -> Incomplete:
    return Incomplete(f"the {what} ends early: still being written, or cut off",
                      vi="Tệp bị thiếu phần cuối: đang được ghi dở hoặc bị cắt")


@contextlib.contextmanager
def open_regular(path: Path) -> Iterator[BinaryIO]:
    """`path` opened for reading if it is a regular file: never through a link, never
    blocking on a FIFO or a device; the caller reads the descriptor, not the path again."""
    if not stat.S_ISREG(os.lstat(path).st_mode):
        raise _not_regular(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == 40:  # ELOOP: swapped for a link since the lstat
            raise _not_regular(path) from None
        if isinstance(e, PermissionError):
            raise _refused("cannot be read (permission denied)",
                           "Không có quyền đọc tệp") from None
        raise
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _not_regular(path)
        yield f


def _not_regular(path: Path) -> Refused:
    if path.is_symlink():
        return _refused("is a link, not a file: links are never followed",
                        "Là liên kết (symlink), không phải tệp: không được nhập")
    return _refused("not a regular file (a folder, FIFO or device)",
                    "Không phải tệp thông thường")


def check(path: Path, dpi: int) -> int:
    """The number of pages in an importable file; `Refused` (or `Incomplete`) saying why not."""
    with open_regular(path) as f:
        return check_file(f, dpi)


def check_file(f: BinaryIO, dpi: int) -> int:
    """`check` on an open file: the number of pages when rendered at `dpi`."""
    size = os.fstat(f.fileno()).st_size
    if size == 0:
        raise Incomplete("the file is empty (0 bytes): still being written?",
                         vi="Tệp rỗng (0 byte)")
    if size > MAX_FILE_BYTES:
        raise _refused(f"larger than {MAX_FILE_BYTES // 2**20} MB",
                       f"Tệp lớn hơn {MAX_FILE_BYTES // 2**20} MB")
    f.seek(0)
    head = f.read(5)
    f.seek(0)
    try:
        if head == b"%PDF-":
            return _check_pdf(f, size, dpi)
        return _check_image(f, size, dpi)
    except Refused:
        raise
    except Image.DecompressionBombError:  # over twice Pillow's own limit: size not known
        raise _too_many_pixels(0, 0) from None
    except Exception:  # Pillow, pikepdf and zlib raise many kinds on a bad file
        raise _unreadable() from None


def _check_pdf(f: BinaryIO, size: int, dpi: int) -> int:
    f.seek(max(0, size - 1024))
    if b"%%EOF" not in f.read():
        raise _incomplete("PDF")
    f.seek(0)
    try:
        pdf = pikepdf.open(f, attempt_recovery=False)
    except pikepdf.PasswordError:
        raise _refused("the PDF is protected by a password: save it without one, then import "
                       "it again", "Tệp PDF có mật khẩu: hãy lưu lại không có mật khẩu rồi nhập "
                       "lại") from None
    with pdf:
        n = len(pdf.pages)
        _check_count(n)
        for i, page in enumerate(pdf.pages, 1):
            box = [float(v) for v in page.mediabox]
            pdf_page_pixels(i, abs(box[2] - box[0]), abs(box[3] - box[1]), dpi)
        return n


def pdf_page_pixels(n: int, w_pt: float, h_pt: float, dpi: int) -> tuple[int, int]:
    """The size page `n` renders to at `dpi`; `Refused` if that is over the memory budget."""
    w, h = round(w_pt / 72 * dpi), round(h_pt / 72 * dpi)
    if w * h * 4 > DECODE_BUDGET:
        mm = f"{w_pt / 72 * 25.4:.0f} x {h_pt / 72 * 25.4:.0f} mm"
        raise _refused(f"page {n} is {mm}: too large to render at {dpi} dpi (at most A4 at "
                       "600 dpi or A3 at 400 dpi)",
                       f"Trang {n} khổ {mm}, quá lớn (tối đa A3)")
    _check_shape(w, h)
    return w, h


def _check_count(n: int) -> None:
    if n == 0:
        raise _refused("has no pages", "Tệp không có trang nào")
    if n > MAX_PAGES:
        raise _refused(f"more than {MAX_PAGES} pages: split it into documents",
                       f"Nhiều hơn {MAX_PAGES} trang: hãy tách thành nhiều tệp")


def _too_many_pixels(w: int, h: int) -> Refused:
    return _refused(f"{w} x {h} pixels is more than A3 at 600 dpi: scan at 300 dpi or less",
                    "Ảnh quá lớn (hơn khổ A3 ở 600 dpi): hãy quét ở 300 dpi hoặc thấp hơn")


def _check_shape(w: int, h: int) -> None:
    if min(w, h) < MIN_SIDE_PX or max(w, h) > MAX_ASPECT * min(w, h):
        raise _refused(f"{w} x {h} pixels is too small or too narrow to be a page",
                       f"Ảnh {w} x {h} điểm quá nhỏ hoặc quá hẹp, không phải một trang giấy")


def _check_image(f: BinaryIO, size: int, dpi: int) -> int:
    _check_tiff_chain(f, size)
    f.seek(0)
    with Image.open(f, formats=FORMATS) as im:
        _check_complete(im, f, size)
        n = 0
        while True:
            try:
                im.seek(n)
            except EOFError:
                break
            n += 1
            _check_count(n)
            budget(im, dpi)
            _check_tiff_frame(im, size)
        return n


def budget(im: Image.Image, dpi: int) -> None:
    """Shrink the decode of `im` (JPEG draft) to its page size at `dpi`; `Refused` if it would
    still take more than the budget. Decides from the declared size: nothing is decoded."""
    w, h = im.size
    if w * h > MAX_DECLARED_PIXELS:
        raise _too_many_pixels(w, h)
    _check_shape(w, h)
    if im.format == "JPEG":
        im.draft("L" if im.mode == "L" else "RGB", fitted_size(im, dpi))
    if im.width * im.height * (1 if im.mode in ("1", "L", "P") else 4) > DECODE_BUDGET:
        raise _too_many_pixels(w, h)


def _check_complete(im: Image.Image, f: BinaryIO, size: int) -> None:
    if im.format == "PNG":
        f.seek(size - len(PNG_END))
        if f.read() != PNG_END:
            raise _incomplete("PNG")
    elif im.format == "JPEG":  # the end marker after the scan data (0xFF is escaped in it)
        f.seek(im.tile[0][2])
        tail = b""
        while chunk := f.read(1 << 20):
            if b"\xff\xd9" in tail[-1:] + chunk:
                return
            tail = chunk
        raise _incomplete("JPEG")


def _check_tiff_chain(f: BinaryIO, size: int) -> None:
    """Every IFD (page directory) of a TIFF lies within the file, before Pillow reads any."""
    head = f.read(8)
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(head[:4])
    if order is None or len(head) < 8:
        return
    offset = int.from_bytes(head[4:], "little" if order == "<" else "big")
    for _ in range(MAX_PAGES + 1):
        if offset == 0:
            return
        f.seek(offset)
        count = f.read(2)
        if offset + 2 > size or len(count) < 2:
            raise _incomplete("TIFF")
        n = int.from_bytes(count, "little" if order == "<" else "big")
        f.seek(offset + 2 + 12 * n)
        nxt = f.read(4)
        if len(nxt) < 4:
            raise _incomplete("TIFF")
        offset = int.from_bytes(nxt, "little" if order == "<" else "big")
    _check_count(MAX_PAGES + 1)  # refuses: a longer chain (or a loop) is no document


def _check_tiff_frame(im: Image.Image, size: int) -> None:
    if im.format != "TIFF":
        return
    tags = im.tag_v2  # type: ignore[attr-defined]
    offsets = tags.get(273) or tags.get(324) or ()
    counts = tags.get(279) or tags.get(325) or ()
    if not offsets or len(offsets) != len(counts):
        raise _unreadable()
    if max(o + c for o, c in zip(offsets, counts, strict=True)) > size:
        raise _incomplete("TIFF")


def fitted_size(image: Image.Image, dpi: int) -> tuple[int, int]:
    """The pixel size `image` gets at `dpi`: from its own dpi, else fitted to A4."""
    own = image.info.get("dpi", (0, 0))[0]
    if own and own >= MIN_DPI:
        scale = dpi / float(own)
    else:
        short, long_ = sorted(image.size)
        scale = min(A4_INCHES[0] * dpi / short, A4_INCHES[1] * dpi / long_)
    return max(1, round(image.width * scale)), max(1, round(image.height * scale))


def fit(image: Image.Image, dpi: int) -> Image.Image:
    """Resample an imported image so that `dpi` gives its paper's physical size, upright.

    The big decode is shrunk first and turned last, so every copy made is page-sized."""
    turn = TURNS.get(image.getexif().get(ORIENTATION, 1))
    size = fitted_size(image, dpi)
    factor = min(image.width // size[0], image.height // size[1])
    if factor >= 2:
        image = image.reduce(factor)
    mode = "L" if image.mode in ("1", "L", "LA", "I;16") else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image if turn is None else image.transpose(turn)


class FileSource(Scanner):
    """Feeds the pages of the files in a job's `inputs/` folder, in name order, one at a time."""

    def __init__(self, cfg: FilesSettings) -> None:
        super().__init__(cfg)
        self.settings: Acquisition | None = None
        self.skip = 0

    def present(self) -> bool:
        return True

    def open(self, settings: Acquisition) -> None:
        if self.job_dir is None:
            raise scan_error("ERROR", self.name, "no job folder to import from")
        self.settings = settings

    def resume(self, already: int) -> None:
        self.skip = already

    def pages(self) -> Iterator[Image.Image]:
        assert self.settings is not None and self.job_dir is not None
        n = 0
        for path in sorted((self.job_dir / "inputs").iterdir()):
            try:
                for page in self._pages_of(path, n):
                    n += 1
                    if n > self.skip:
                        yield page
            except Refused as e:  # the job fails (or pauses with its pages), never retried
                raise scan_error("ERROR", self.name, f"{path.name}: {e.message}") from None
        if n == 0:
            raise scan_error("NO_DOCS", self.name, "nothing to import")

    def _pages_of(self, path: Path, before: int) -> Iterator[Image.Image]:
        assert self.settings is not None
        dpi = self.settings.dpi
        with open_regular(path) as f:
            count = check_file(f, dpi)
            f.seek(0)
            if f.read(5) == b"%PDF-":
                yield from self._pdf_pages(path, count, before, dpi)
                return
            f.seek(0)
            try:
                with Image.open(f, formats=FORMATS) as im:
                    for frame in range(count):
                        im.seek(frame)
                        if before + frame < self.skip:
                            yield im  # skipped by the caller: not decoded
                            continue
                        budget(im, dpi)
                        yield fit(im, dpi)
            except (OSError, ValueError, SyntaxError) as e:
                raise _unreadable() from e

    def _pdf_pages(self, path: Path, count: int, before: int,
                   dpi: int) -> Iterator[Image.Image]:
        for i in range(1, count + 1):
            if before + i <= self.skip:
                yield Image.new("L", (1, 1))
                continue
            r = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(i), "-l", str(i),
                                "-png", str(path)], capture_output=True)
            if r.returncode != 0:
                raise _unreadable()
            page = Image.open(io.BytesIO(r.stdout))
            yield page if page.mode == "RGB" else page.convert("RGB")

    def close(self) -> None:
        self.settings = None
