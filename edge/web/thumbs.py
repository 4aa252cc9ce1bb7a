"""Small page thumbnails for the scan page, cut from the spooled one-page PDFs and cached.

The page image is read straight from the PDF with pikepdf (no renderer needed on the Pi) and
shrunk once; the PNG is kept under <storage.root>/web-cache/ (0600) and served from there.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pikepdf
from PIL import Image

from edge.errors import NotFound
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage

WIDTH = 160


def thumbnail(storage: Storage, queue: Queue, jid: int, idx: int) -> Path:
    page = next((p for p in queue.pages(jid) if p.idx == idx), None)
    if page is None:
        raise NotFound(f"no job {jid} page {idx}", vi="Không có trang này")
    cache = storage.root / "web-cache" / f"{jid:06d}" / f"{idx:04d}-{page.sha256[:12]}.png"
    if cache.exists():
        return cache
    src = (storage.root / page.file).resolve()
    if not src.is_relative_to(storage.root.resolve()) or not src.is_file():
        raise NotFound(f"no job {jid} page {idx}", vi="Không tìm thấy trang này")
    cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = render(src)
    tmp = cache.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(cache)
    return cache


def render(pdf: Path) -> bytes:
    with pikepdf.open(pdf) as doc:
        images = list(doc.pages[0].images.values())
        img = pikepdf.PdfImage(images[0]).as_pil_image() if images else Image.new("L", (1, 1))
    img.thumbnail((WIDTH, WIDTH * 2))
    out = io.BytesIO()
    img.convert("L" if img.mode in ("1", "L") else "RGB").save(out, "PNG", optimize=True)
    return out.getvalue()


def prune(storage: Storage, queue: Queue) -> int:
    """Drop cached thumbnails of jobs that are purged or gone (they show citizens' papers)."""
    cache = storage.root / "web-cache"
    if not cache.is_dir():
        return 0
    keep = {f"{j.id:06d}" for j in queue.jobs() if not j.purged}
    gone = [d for d in cache.iterdir() if d.is_dir() and d.name not in keep]
    for d in gone:
        shutil.rmtree(d, ignore_errors=True)
    return len(gone)
