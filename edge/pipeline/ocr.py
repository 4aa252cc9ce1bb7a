"""The deferred OCR step: a Vietnamese text layer added to finished PDFs when the kit is idle.

OCR (tesseract, `vie`) takes seconds a page on a Raspberry Pi, so it never delays a scan: the
daemon runs it on ready documents only when no job has been active for a while (and, once the
UPS driver reports it, only on mains power). Each page gets tesseract's invisible text laid over
it; the file is then replaced atomically and its checksum, sidecar and record updated together.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pikepdf

from edge import config
from edge.pipeline.job import State
from edge.pipeline.lock import outbox_lock
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage, fsync_dir, sha256_file

log = logging.getLogger(__name__)

RENDER_DPI = 200
# SCHED_IDLE: rendering and tesseract get a core only when nothing else wants it, so a scan
# started while a document is being read keeps every core (tesseract spreads over them all)
IDLE = ["chrt", "--idle", "0"]


class Cancelled(Exception):
    """The service is stopping: the document is left as it was, to be done later."""


def text_layer(pdf: Path, out: Path, lang: str, stop: threading.Event) -> None:
    """Write to `out` a copy of `pdf` with a searchable, invisible text layer on every page."""
    with tempfile.TemporaryDirectory(prefix="edge-ocr-") as tmp, pikepdf.open(pdf) as doc:
        layers = []
        try:
            for i, page in enumerate(doc.pages, 1):
                if stop.is_set():
                    raise Cancelled
                png, text = Path(tmp) / f"p{i}", Path(tmp) / f"t{i}"
                subprocess.run([*IDLE, "pdftoppm", "-r", str(RENDER_DPI), "-f", str(i), "-l",
                                str(i), "-png", "-singlefile", str(pdf), str(png)], check=True,
                               capture_output=True)
                subprocess.run([*IDLE, "tesseract", f"{png}.png", str(text), "-l", lang,
                                "--dpi", str(RENDER_DPI), "-c", "textonly_pdf=1", "pdf"],
                               check=True, capture_output=True)
                layers.append(pikepdf.open(f"{text}.pdf"))
                page.add_overlay(layers[-1].pages[0])
            doc.save(out)
        finally:
            for layer in layers:
                layer.close()
    fd = os.open(out, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_once(cfg: config.Config, storage: Storage, queue: Queue, stop: threading.Event) -> bool:
    """OCR the oldest ready file that has no text yet; False when there is nothing to do."""
    todo = queue.ocr_next()
    if todo is None:
        return False
    job, part = todo
    pdf = Path(job.files[part - 1].path)
    with storage.temp_file(".pdf") as (f, tmp):
        f.close()
        try:
            text_layer(pdf, tmp, cfg.ocr.language, stop)
        except Cancelled:
            return False
        except (subprocess.CalledProcessError, OSError, pikepdf.PdfError) as e:
            log.error("job %d: OCR failed, the document stays without text: %s", job.id, e)
            queue.set_ocr(job.id, part, done=-1)
            return True
        replace(storage, queue, job.id, part, pdf, tmp)
    log.info("job %d %s: text layer added", job.id, job.ticket)
    return True


def replace(storage: Storage, queue: Queue, job_id: int, part: int, pdf: Path,
            new: Path) -> None:
    """Swap in the OCR'd file with its new checksum; recovery finishes a swap cut short."""
    sha = sha256_file(new)
    with outbox_lock(storage.locks):
        job = queue.get(job_id)
        if job.state != State.READY or [f.path for f in job.files][part - 1:part] != [str(pdf)]:
            return  # renamed, re-assembled or uploaded meanwhile
        queue.set_ocr(job_id, part, done=0, pending_sha=sha)
        os.replace(new, pdf)
        fsync_dir(pdf.parent)
        finish(storage, queue, job_id, part, pdf, sha)


def finish(storage: Storage, queue: Queue, job_id: int, part: int, pdf: Path, sha: str) -> None:
    storage.write_sidecar(pdf, sha)
    queue.finish_ocr(job_id, part, sha, pdf.stat().st_size)


def recover(storage: Storage, queue: Queue) -> None:
    """Complete a swap whose new file is in place, or forget one that never happened."""
    for job_id, part, pending in queue.ocr_pending():
        pdf = Path(queue.get(job_id).files[part - 1].path)
        if pdf.exists() and sha256_file(pdf) == pending:
            finish(storage, queue, job_id, part, pdf, pending)
        else:
            queue.set_ocr(job_id, part, done=0)


def idle_for(queue: Queue) -> float:
    """Seconds since staff last started a job (one in progress counts as now)."""
    jobs = queue.jobs()
    if any(j.state in (State.QUEUED, State.SCANNING, State.ASSEMBLING) for j in jobs):
        return 0.0
    return time.time() - max((j.created for j in jobs), default=0.0)


def available(language: str) -> bool:
    """Whether tesseract and poppler are installed with the language's data."""
    try:
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True,
                             check=True).stdout
        subprocess.run(["pdftoppm", "-v"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return language in out.split()


