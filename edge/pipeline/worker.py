"""Run one job through scan -> spool -> assemble -> outbox, persisting every step.

The scanner is read in its own thread while earlier pages are processed on every core; each page
is written durably to the spool, in the order it was read, as soon as it is encoded, so a jam,
an unplugged cable or a power cut loses at most the few pages in flight (never one reported kept).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path

import pikepdf
from PIL import Image

from edge import config
from edge.drivers.scanner import buffers
from edge.drivers.scanner.base import make, scan_error
from edge.drivers.scanner.settings import ScannerSettings
from edge.errors import ConfigError, DeviceAbsent, EdgeError, JobError, ScannerError, StorageError
from edge.pipeline import dossiers, feed, outbox, split
from edge.pipeline.assemble import DocumentInfo, assemble, plan_parts
from edge.pipeline.encode import content_digest
from edge.pipeline.job import Job, State
from edge.pipeline.lock import scan_start
from edge.pipeline.pagework import Processed, process
from edge.pipeline.queue import Page, Queue
from edge.pipeline.settings import ScanSettings
from edge.pipeline.storage import Storage, sha256_file

log = logging.getLogger(__name__)

BUSY_RETRIES = 3
BUSY_WAIT_SECONDS = 2.0
PAUSE_STATUSES = {"JAMMED", "COVER_OPEN", "POWER_LOW"}
UNPLUG_STATUSES = {"IO_ERROR", "ABSENT", "ERROR"}


class Worker:
    """Does the work of the jobs of one scanner; one worker per scanner per process."""

    def __init__(self, cfg: config.Config, storage: Storage, queue: Queue,
                 scanner_cfg: ScannerSettings, *, stop: threading.Event | None = None,
                 hold: threading.Event | None = None,
                 on_change: Callable[[Job], None] | None = None,
                 pool: Executor | None = None) -> None:
        self.cfg = cfg
        self.storage = storage
        self.queue = queue
        self.scanner_cfg = scanner_cfg
        self.stop = stop or threading.Event()
        self.hold = hold or threading.Event()  # set: pause after the current page (power)
        self.on_change = on_change or (lambda job: None)
        self.names = outbox.Naming(cfg.storage.name_template, cfg.kit.id)
        self.pool = pool or feed.shared_pool()  # page threads, shared by every scanner
        self.waited = (0.0, 0)  # last scan: (seconds the scanner waited on processing, pages)

    def run(self, job: Job) -> Job:
        """Scan (if queued) and assemble (if scanning finished); return the settled job."""
        if job.state == State.QUEUED:
            job = self._scan(job)
        if job.state == State.ASSEMBLING:
            placed = self._split(job)
            job = self._assemble(self.queue.get(job.id), placed.pop(job.id, None))
            for other, target in placed.items():  # the documents after its cover sheets
                self._assemble(self.queue.get(other), target)
        return job

    def _settings(self, job: Job) -> ScanSettings:
        """The job's preset as configured now (the defaults if it was removed since)."""
        try:
            return ScanSettings.resolve(self.scanner_cfg, job.preset)
        except ConfigError:
            return ScanSettings.resolve(self.scanner_cfg, "")

    def _move(self, job: Job, state: State, error: EdgeError | None = None) -> Job:
        job = self.queue.transition(job.id, state, error.message if error else "",
                                    error.vi if error else "")
        log.info("job %d %s -> %s%s", job.id, job.ticket, state,
                 f": {error.message}" if error else "",
                 extra={"event": "job.state", "job": job.id, "ticket": job.ticket,
                        "state": str(state)})
        self.on_change(job)
        return job

    def _scan(self, job: Job) -> Job:
        with scan_start(self.storage.locks, self.stop) as free:
            if not free:  # an update stops the service: the job waits for the new release
                return job
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
        except StorageError as e:
            return self._move(job, State.PAUSED, e)
        except (ConfigError, ScannerError) as e:
            return self._interrupted(job, self._unplugged(e))
        return self._move(job, State.ASSEMBLING)

    def _feed(self, job: Job, settings: ScanSettings) -> None:
        """Spool every page the scanner delivers, in order, each durably; the scanner is read
        in its own thread and pages are processed meanwhile (edge/pipeline/feed.py)."""
        kept = self.queue.stack_end(job.id)  # pages split off it are scanned too
        bound = self.scanner_cfg.pages_in_flight or feed.default_bound(
            self.scanner_cfg.page_width_mm, self.scanner_cfg.page_height_mm, settings.dpi,
            settings.mode)
        spool = self.storage.job_spool(job.id)

        images = buffers.shared()

        def processed(box: list[Image.Image], idx: int, file: str) -> Processed:
            # nothing here holds the pixels while process() frees what it can of them; a page
            # image kept for reuse (alive in `images` anyway) is given back after, to be refilled
            reused = box[0] if images.lends(box[0]) else None
            try:
                return process(box.pop(), settings, idx, file)
            finally:
                if reused is not None:
                    images.give_back(reused)

        def work(n: int, image: Image.Image) -> Future[Processed]:
            file = self.storage.rel(spool / f"p{kept + n:04d}.pdf")
            box = [image]
            del image
            if bound == 1:  # parallelism off: processed in the reading thread, as it comes
                return feed.done(processed, box, kept + n, file)
            return self.pool.submit(processed, box, kept + n, file)

        with images.scanning(), make(self.scanner_cfg) as scanner:
            scanner.job_dir = spool
            scanner.open(settings.acquisition)
            scanner.resume(kept)
            with feed.ReadAhead(scanner.pages(), work, bound, scanner.name) as pages:
                for page in pages:
                    self._spool(job, page, settings)
                    self.on_change(self.queue.get(job.id))
                    if self.stop.is_set() or self.hold.is_set():
                        pages.halt.set()  # the pages already read are still kept
                self.waited = (pages.waited, pages.read)
            log.info("job %d: %d page(s) read, the scanner waited %.1f s on page processing",
                     job.id, pages.read, pages.waited,
                     extra={"event": "scan.waited", "job": job.id, "pages": pages.read,
                            "seconds": round(pages.waited, 2)})
            if self.stop.is_set():
                raise scan_error("CANCELLED", scanner.name, "the service is stopping")
            if self.hold.is_set():
                raise scan_error("POWER_LOW", scanner.name)

    def _unplugged(self, e: ConfigError | ScannerError) -> ConfigError | ScannerError:
        """A vague I/O failure of a scanner that is not on the USB bus is an unplugged one."""
        if not (isinstance(e, ScannerError) and e.status in UNPLUG_STATUSES
                and self.scanner_cfg.watched_usb_id):
            return e
        from edge.drivers.usb import PyusbDevice
        from edge.drivers.usb_settings import PyusbSettings

        usb = PyusbDevice(PyusbSettings(name=self.scanner_cfg.name,
                                        id=self.scanner_cfg.watched_usb_id))
        try:
            usb.poll()
        except DeviceAbsent:
            return scan_error("UNPLUGGED", self.scanner_cfg.name, e.message)
        except EdgeError:  # USB unreadable: keep what the scanner said
            pass
        return e

    def _interrupted(self, job: Job, e: ConfigError | ScannerError) -> Job:
        """Pause a job that has pages (or can expect them), fail one that has nothing."""
        kept = len(self.queue.pages(job.id))
        if kept == 0 and getattr(e, "status", "") not in PAUSE_STATUSES:
            return self._move(job, State.FAILED, e)
        note = f"; {kept} page(s) kept, resume to continue or finish as is"
        vi = f" Đã giữ {kept} trang; bấm Tiếp tục để quét tiếp hoặc Hoàn tất."
        if getattr(e, "status", "") == "POWER_LOW":  # the power policy resumes it
            note = f"; {kept} page(s) kept, scanning resumes when mains power is back"
            vi = f" Đã giữ {kept} trang."
        return self._move(job, State.PAUSED, EdgeError(e.message + note, vi=e.vi + vi))

    def _spool(self, job: Job, page: Processed, settings: ScanSettings) -> None:
        idx = page.record.idx
        if "over_budget" in page.notes:
            log.warning("job %d page %d: %d KB, over the %d KB budget even at %d dpi", job.id,
                        idx, len(page.data) // 1024, settings.max_page_bytes // 1024, page.dpi)
        self.storage.write_atomic(self.storage.root / page.record.file, page.data)
        self.queue.add_page(job.id, page.record)
        if page.record.blank:
            log.info("job %d page %d looks blank: left out of the PDF, kept in the job",
                     job.id, idx, extra={"event": "page.blank", "job": job.id, "page": idx})

    def _split(self, job: Job) -> dict[int, split.Target]:
        """Split the job at its cover sheets (edge/pipeline/split.py): where the job and the new
        jobs went, by id. Only the pages not split yet (a resumed job's new ones): staff may
        have regrouped the others since (edge/pipeline/regroup.py)."""
        done = self.queue.split_to(job.id)
        pages = [p for p in self.queue.pages(job.id) if p.idx > done]
        found = split.plan(pages, self._settings(job).source == "adf-duplex")
        tail = self.queue.holder(job.id, done) if done else job
        if tail.state not in (State.READY, State.PAUSED, State.ASSEMBLING):
            tail = job  # the stack's last document is uploaded: the new pages stay here
        rest: list[int] = []
        if done and pages:
            rest, found = split.continued(found, pages)
        if found is None:
            return {}
        home, *placed = split.targets([found.ref, *(ref for _, _, ref in found.later)],
                                      tail.ticket, self._dossier_of)
        later = [(doc, idxs, to) for (doc, idxs, _), to in zip(found.later, placed, strict=True)]
        made = self.queue.split(job.id, found.doc, later, found.backs, None if done else home,
                                (tail.id, rest))
        if made:
            log.info("job %d split at cover sheets into %d documents", job.id, len(made) + 1,
                     extra={"event": "job.split", "job": job.id, "documents": len(made) + 1})
            self.on_change(self.queue.get(job.id))
        out = dict(zip([job.id, *made], [home, *placed], strict=True))
        if rest and tail.id != job.id:
            out[tail.id] = split.Target(tail.ticket)
        return out

    def _dossier_of(self, ref: str) -> str:
        """The ticket of the dossier a cover sheet names, or JobError saying why the pages
        cannot go there (the phrase ends a sentence of split.targets)."""
        try:
            found = dossiers.find(self.queue, ref)
        except EdgeError:
            raise JobError("this kit does not have", vi="máy này không có hồ sơ đó") from None
        if found.uploaded:
            raise JobError("is already uploaded", vi="hồ sơ đó đã nộp xong")
        return found.ticket

    def _assemble(self, job: Job, target: split.Target | None = None) -> Job:
        pages = self.queue.pages(job.id)
        if not pages:
            return self._move(job, State.FAILED, EdgeError("no pages were scanned",
                                                             vi="Không có trang nào được quét"))
        if all(p.blank for p in pages):  # a faint document, not duplex backs: keep it whole
            faint = [p.idx for p in pages if not p.cover] or [p.idx for p in pages]
            self.queue.set_blank(job.id, faint, False, "every page looked blank; all kept")
            pages = self.queue.pages(job.id)
        pages = [p for p in pages if not p.blank]
        try:
            self.storage.check_free()
            return self._publish(job, pages, target)
        except StorageError as e:
            return self._move(job, State.PAUSED, e)
        except (OSError, pikepdf.PdfError) as e:  # qpdf reports a failed write as PdfError
            return self._move(job, State.PAUSED, self.storage.explain(e))

    def _publish(self, job: Job, pages: list[Page], target: split.Target | None = None) -> Job:
        settings = self._settings(job)
        created = dt.datetime.fromtimestamp(job.created).astimezone()
        parts = plan_parts([p.bytes for p in pages], settings.max_file_bytes)
        with contextlib.ExitStack() as stack:
            files = []
            for n, indices in enumerate(parts, 1):
                part = [pages[i] for i in indices]
                f, tmp = stack.enter_context(self.storage.temp_file(".pdf"))
                f.close()
                stack.callback(tmp.unlink, missing_ok=True)
                assemble([self.storage.root / p.file for p in part], tmp, DocumentInfo(
                    title=job.doc, identifier=job.ref, ticket=job.ticket, pages=len(part),
                    created=created, pdfa=settings.pdfa, part=(n, len(parts)),
                    content_sha256=content_digest([p.image_sha256 for p in part])))
                files.append((tmp, sha256_file(tmp)))
            notes = [_split_note(files, settings.max_file_bytes)]
            if target and target.why:  # its cover named a dossier it could not go to
                notes.insert(0, (target.why, target.vi))
            en, vi = (" ".join(n for n in texts if n) for texts in zip(*notes, strict=True))
            job = outbox.publish(self.storage, self.queue, self.names, job.id, files, en, vi)
        log.info("job %d %s ready: %d pages, %d bytes in %d file(s)", job.id, job.ticket,
                 job.pages, job.bytes, len(job.files),
                 extra={"event": "job.ready", "job": job.id, "ticket": job.ticket,
                        "pages": job.pages, "bytes": job.bytes, "files": len(job.files)})
        self.on_change(job)
        return job


def _split_note(files: list[tuple[Path, str]], budget: int) -> tuple[str, str]:
    """What staff are told when a document had to be split to fit the per-file budget."""
    n = len(files)
    if n == 1:
        return "", ""
    mb = sum(path.stat().st_size for path, _ in files) / 2**20
    limit = budget // 2**20
    return (f"{mb:.1f} MB is over the {limit} MB per-file budget: split into {n} files "
            f"(_part1 to _part{n}); upload all of them",
            f"Hồ sơ nặng {mb:.1f} MB, vượt giới hạn {limit} MB mỗi tệp nên đã được chia thành "
            f"{n} tệp (_part1 đến _part{n}). Hãy tải lên đủ cả {n} tệp.")
