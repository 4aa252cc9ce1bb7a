"""Run one job through scan -> spool -> assemble -> outbox, persisting every step.

Each page is encoded and written durably to the spool as soon as the scanner delivers it, so a
jam, an unplugged cable or a power cut loses at most the sheet in the feeder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pikepdf

from edge import config
from edge.drivers.scanner import ScanSettings, make, scan_error
from edge.errors import ConfigError, EdgeError, ScannerError, StorageError
from edge.pipeline import naming
from edge.pipeline.assemble import DocumentInfo, assemble
from edge.pipeline.encode import content_digest, encode_page, page_image_digests
from edge.pipeline.job import Job, State
from edge.pipeline.queue import Page, Queue
from edge.pipeline.storage import (
    DIR_MODE,
    Storage,
    fsync_dir,
    sha256_file,
    sidecar_path,
    sidecar_text,
    storage_error,
)

log = logging.getLogger(__name__)

BUSY_RETRIES = 3
BUSY_WAIT_SECONDS = 2.0
PAUSE_STATUSES = {"JAMMED", "COVER_OPEN"}


class Worker:
    """Does the work of the jobs of one scanner; one worker per scanner per process."""

    def __init__(self, cfg: config.Config, storage: Storage, queue: Queue,
                 scanner_cfg: config.Scanner, *, stop: threading.Event | None = None,
                 on_change: Callable[[Job], None] | None = None) -> None:
        self.cfg = cfg
        self.storage = storage
        self.queue = queue
        self.scanner_cfg = scanner_cfg
        self.stop = stop or threading.Event()
        self.on_change = on_change or (lambda job: None)

    def run(self, job: Job) -> Job:
        """Scan (if queued) and assemble (if scanning finished); return the settled job."""
        if job.state == State.QUEUED:
            job = self._scan(job)
        if job.state == State.ASSEMBLING:
            job = self._assemble(job)
        return job

    def _move(self, job: Job, state: State, error: EdgeError | None = None) -> Job:
        job = self.queue.transition(job.id, state, error.message if error else "",
                                    error.vi if error else "")
        log.info("job %d %s -> %s%s", job.id, job.ticket, state,
                 f": {error.message}" if error else "")
        self.on_change(job)
        return job

    def _scan(self, job: Job) -> Job:
        job = self._move(job, State.SCANNING)
        try:
            settings = ScanSettings.resolve(self.scanner_cfg, job.preset)
            self.storage.check_free()
            for attempt in range(1, BUSY_RETRIES + 1):
                try:
                    self._feed(job, settings)
                    break
                except ScannerError as e:
                    if e.status != "DEVICE_BUSY" or attempt == BUSY_RETRIES:
                        raise
                    log.warning("scanner %s busy, retry %d of %d", self.scanner_cfg.name,
                                attempt, BUSY_RETRIES - 1)
                    if self.stop.wait(BUSY_WAIT_SECONDS * attempt):
                        raise
        except ConfigError as e:
            return self._move(job, State.FAILED, e)
        except StorageError as e:
            return self._move(job, State.PAUSED, e)
        except ScannerError as e:
            return self._interrupted(job, e)
        return self._move(job, State.ASSEMBLING)

    def _feed(self, job: Job, settings: ScanSettings) -> None:
        """Spool every page the scanner delivers, each durably before asking for the next."""
        kept = len(self.queue.pages(job.id))
        with make(self.scanner_cfg) as scanner:
            scanner.open(settings)
            scanner.resume(kept)
            for image in scanner.pages():
                kept += 1
                self._spool(job, kept, encode_page(image, settings))
                self.on_change(self.queue.get(job.id))
                if self.stop.is_set():
                    raise scan_error("CANCELLED", scanner.name, "the service is stopping")

    def _interrupted(self, job: Job, e: ScannerError) -> Job:
        kept = len(self.queue.pages(job.id))
        if kept == 0 and e.status not in PAUSE_STATUSES:
            return self._move(job, State.FAILED, e)
        note = f"; {kept} page(s) kept, resume to continue or finish as is"
        vi = f" Đã giữ {kept} trang; bấm Tiếp tục để quét tiếp hoặc Hoàn tất."
        return self._move(job, State.PAUSED, EdgeError(e.message + note, vi=e.vi + vi))

    def _spool(self, job: Job, idx: int, data: bytes) -> None:
        path = self.storage.job_spool(job.id) / f"p{idx:04d}.pdf"
        self.storage.write_atomic(path, data)
        self.queue.add_page(job.id, page_record(self.storage, path, idx, data))

    def _assemble(self, job: Job) -> Job:
        pages = self.queue.pages(job.id)
        if not pages:
            return self._move(job, State.FAILED, EdgeError("no pages were scanned",
                                                             vi="Không có trang nào được quét"))
        try:
            self.storage.check_free()
            return self._publish(job, pages)
        except StorageError as e:
            return self._move(job, State.PAUSED, e)
        except (OSError, pikepdf.PdfError) as e:  # qpdf reports a failed write as PdfError
            return self._move(job, State.PAUSED, self.storage.explain(e))

    def _publish(self, job: Job, pages: list[Page]) -> Job:
        created = dt.datetime.fromtimestamp(job.created).astimezone()
        info = DocumentInfo(title=job.doc, identifier=job.ref, ticket=job.ticket,
                            pages=len(pages), created=created,
                            content_sha256=content_digest([p.image_sha256 for p in pages]))
        with self.storage.temp_file(".pdf") as (f, tmp):
            f.close()
            assemble([self.storage.root / p.file for p in pages], tmp, info)
            sha, size = sha256_file(tmp), tmp.stat().st_size
            target = self._link_unique(job, created.date(), tmp)
            tmp.unlink()
        self.storage.write_atomic(sidecar_path(target), sidecar_text(target, sha))
        job = self.queue.publish(job.id, target, sha, size)
        log.info("job %d %s ready: %d pages, %d bytes", job.id, job.ticket, job.pages, size)
        self.on_change(job)
        return job

    def _link_unique(self, job: Job, day: dt.date, src: Path) -> Path:
        name = naming.render(
            self.cfg.storage.name_template, ref=job.ref, doc=naming.slug(job.doc),
            seq=self.queue.doc_seq(job.ref, job.id), ticket=job.ticket, kit=self.cfg.kit.id,
            day=day)
        return link_unique(self.storage, self.queue, job.id, src,
                           self.storage.outbox / day.isoformat() / name)


def link_unique(storage: Storage, queue: Queue, job_id: int, src: Path, wanted: Path) -> Path:
    """Hard-link `src` under the first free name like `wanted` (`a.pdf`, `a-2.pdf`...).

    The name is recorded as the job's pending PDF before it is created, so recovery after a
    power cut knows whose file it is. An existing file is never replaced.
    """
    wanted.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    n = 1
    while True:
        target = wanted.with_name(naming.with_suffix(wanted.name, n))
        n += 1
        if target.exists() or sidecar_path(target).exists():
            continue
        queue.set_pending_pdf(job_id, target)
        try:
            os.link(src, target)
        except FileExistsError:
            continue
        except OSError as e:
            raise storage_error(e, target) from None
        fsync_dir(target.parent)
        return target


def page_record(storage: Storage, path: Path, idx: int, data: bytes) -> Page:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        (image_sha,) = page_image_digests(pdf)
    return Page(idx=idx, file=str(path.relative_to(storage.root)),
                sha256=hashlib.sha256(data).hexdigest(), image_sha256=image_sha, bytes=len(data))
