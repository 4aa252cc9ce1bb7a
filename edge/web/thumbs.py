"""Page pictures for the staff pages, cut from the spooled one-page PDFs and cached: small
thumbnails for the lists, and a large view for the page viewer (phones cannot show a PDF inline).

The page image is read straight from the PDF with pikepdf (no renderer needed on the Pi) and
shrunk once; the picture is kept under <storage.root>/web-cache/ (0600) and served from there.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image

from edge.errors import NotFound
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage


@dataclass(frozen=True)
class Size:
    """A picture size: the box the page is shrunk into, and the format it is saved in."""

    name: str
    width: int
    height: int
    photo: bool  # JPEG for grey and colour pages; bilevel pages stay PNG (sharper, smaller)


THUMB = Size("thumb", 160, 320, False)
VIEW = Size("view", 1400, 2000, True)


def thumbnail(storage: Storage, queue: Queue, jid: int, idx: int) -> Path:
    return picture(storage, queue, jid, idx, THUMB)


def picture(storage: Storage, queue: Queue, jid: int, idx: int, size: Size) -> Path:
    """The cached picture of page `idx` of job `jid` at `size`, made on first use."""
    page = next((p for p in queue.pages(jid) if p.idx == idx), None)
    if page is None:
        raise NotFound(f"no job {jid} page {idx}", vi="Không có trang này")
    cache = storage.root / "web-cache" / f"{jid:06d}"
    stem = f"{idx:04d}-{page.sha256[:12]}"
    for ext in ("png", "jpg"):
        if (hit := cache / f"{stem}.{size.name}.{ext}").exists():
            return hit
    src = (storage.root / page.file).resolve()
    if not src.is_relative_to(storage.root.resolve()) or not src.is_file():
        raise NotFound(f"no job {jid} page {idx}", vi="Không tìm thấy trang này")
    data, ext = render(src, size)
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    out = cache / f"{stem}.{size.name}.{ext}"
    tmp = out.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(out)
    return out


def mimetype(path: Path) -> str:
    return "image/jpeg" if path.suffix == ".jpg" else "image/png"


def render(pdf: Path, size: Size = THUMB) -> tuple[bytes, str]:
    """The page's image shrunk into `size`: (bytes, "png" or "jpg")."""
    with pikepdf.open(pdf) as doc:
        images = list(doc.pages[0].get_images().values())
        img = pikepdf.PdfImage(images[0]).as_pil_image() if images else Image.new("L", (1, 1))
    img.thumbnail((size.width, size.height))
    out = io.BytesIO()
    if size.photo and img.mode not in ("1", "P"):
        img.convert("L" if img.mode == "L" else "RGB").save(out, "JPEG", quality=85)
        return out.getvalue(), "jpg"
    img.convert("L" if img.mode in ("1", "L") else "RGB").save(out, "PNG", optimize=True)
    return out.getvalue(), "png"


def prune(storage: Storage, queue: Queue) -> int:
    """Drop cached pictures of jobs that are purged or gone (they show citizens' papers)."""
    cache = storage.root / "web-cache"
    if not cache.is_dir():
        return 0
    keep = {f"{j.id:06d}" for j in queue.jobs() if not j.purged}
    gone = [d for d in cache.iterdir() if d.is_dir() and d.name not in keep]
    for d in gone:
        shutil.rmtree(d, ignore_errors=True)
    return len(gone)
