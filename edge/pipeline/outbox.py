"""What happens to finished PDFs: renaming to the dossier code, verifying, purging, recovering.

Every operation here is safe to interrupt by a power cut: the intent is recorded in the queue
first, and `recover()` at start finishes or undoes whatever was half done.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from edge.errors import JobError
from edge.pipeline import naming
from edge.pipeline.encode import content_digest, page_image_digests
from edge.pipeline.job import HAS_PDF, Job, State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import (
    Storage,
    fsync_dir,
    sha256_file,
    sidecar_path,
    sidecar_text,
)
from edge.pipeline.worker import link_unique, page_record

log = logging.getLogger(__name__)


def rename(storage: Storage, queue: Queue, template: str, kit: str, job: Job,
           dossier: str) -> Job:
    """Give a job its national dossier code; a finished PDF moves with its checksum."""
    code = naming.check_dossier(dossier)
    if job.state not in HAS_PDF:
        if job.state == State.FAILED:
            raise JobError(f"job {job.id} failed; there is nothing to rename",
                           vi="Hồ sơ quét này bị lỗi, không có tệp để đổi tên")
        queue.set_dossier(job.id, code)
        return queue.get(job.id)
    old = Path(str(job.pdf))
    queue.set_dossier(job.id, code)
    job = queue.get(job.id)
    name = naming.render(template, ref=code, seq=queue.doc_seq(code, job.id),
                         doc=naming.slug(job.doc), ticket=job.ticket, kit=kit,
                         day=dt.datetime.fromtimestamp(job.created).date())
    new = link_unique(storage, queue, job.id, old, old.with_name(name))
    return _finish_rename(storage, queue, job, old, new)


def _finish_rename(storage: Storage, queue: Queue, job: Job, old: Path, new: Path) -> Job:
    storage.write_atomic(sidecar_path(new), sidecar_text(new, str(job.sha256)))
    job = queue.finish_rename(job.id, new)
    if old != new:
        sidecar_path(old).unlink(missing_ok=True)
        old.unlink(missing_ok=True)
        fsync_dir(old.parent)
    log.info("job %d %s renamed to its dossier code", job.id, job.ticket)
    return job


@dataclass(frozen=True)
class Problem:
    path: str
    what: str


def verify(storage: Storage, queue: Queue) -> list[Problem]:
    """Re-hash every outbox file against its job record, its sidecar and its own metadata."""
    problems: list[Problem] = []
    known: set[Path] = set()
    for job in queue.jobs(HAS_PDF):
        if not job.pdf:
            continue
        pdf = Path(job.pdf)
        known |= {pdf, sidecar_path(pdf)}
        problems += _verify_one(job, pdf)
    for path in sorted(storage.outbox.rglob("*")):
        if path.is_file() and path not in known:
            problems.append(Problem(str(path), "not recorded in any job"))
    return problems


def _verify_one(job: Job, pdf: Path) -> list[Problem]:
    if not pdf.exists():
        return [Problem(str(pdf), f"missing (job {job.id} {job.ticket})")]
    out = []
    actual = sha256_file(pdf)
    if actual != job.sha256:
        out.append(Problem(str(pdf), f"SHA-256 {actual} does not match the record {job.sha256}"))
    side = sidecar_path(pdf)
    if not side.exists():
        out.append(Problem(str(side), "checksum file missing"))
    elif side.read_bytes() != sidecar_text(pdf, str(job.sha256)):
        out.append(Problem(str(side), "checksum file does not match the record"))
    if actual != job.sha256:
        try:
            with pikepdf.open(pdf) as doc:
                stored = str(doc.docinfo.get("/EdgeContentSHA256", ""))
                if content_digest(page_image_digests(doc)) != stored:
                    out.append(Problem(str(pdf), "page images differ from those scanned"))
        except pikepdf.PdfError as e:
            out.append(Problem(str(pdf), f"not a readable PDF: {e}"))
    return out


def purge(storage: Storage, queue: Queue, retention_days: int, now: float | None = None) -> int:
    """Delete uploaded jobs' files after the retention period (never before, never others)."""
    limit = (now or time.time()) - retention_days * 86400
    purged = 0
    for job in queue.jobs({State.UPLOADED}):
        if job.purged or not job.uploaded or job.uploaded > limit:
            continue
        if job.pdf:
            pdf = Path(job.pdf)
            sidecar_path(pdf).unlink(missing_ok=True)
            pdf.unlink(missing_ok=True)
        shutil.rmtree(storage.job_spool(job.id), ignore_errors=True)
        queue.mark_purged(job.id)
        purged += 1
        log.info("job %d purged after the retention period", job.id)
    return purged


def recover(storage: Storage, queue: Queue) -> list[Job]:
    """Bring the queue back to a consistent state after a crash or power cut."""
    storage.clear_tmp()
    touched = []
    for job in queue.jobs({State.SCANNING, State.ASSEMBLING, State.READY, State.UPLOADED}):
        pending = queue.pending_pdf(job.id)
        if job.state == State.SCANNING:
            touched.append(_recover_scanning(storage, queue, job))
        elif pending is not None and job.state == State.ASSEMBLING:
            _drop_unrecorded(queue, job, pending)
            touched.append(job)
        elif pending is not None and job.pdf:
            old = Path(job.pdf)
            new = pending if pending.exists() else link_unique(storage, queue, job.id, old, pending)
            touched.append(_finish_rename(storage, queue, job, old, new))
    return touched


def _recover_scanning(storage: Storage, queue: Queue, job: Job) -> Job:
    """Adopt pages written just before the cut, then pause: the feeder state is unknown."""
    spool = storage.job_spool(job.id)
    idx = len(queue.pages(job.id)) + 1
    while (path := spool / f"p{idx:04d}.pdf").exists():
        queue.add_page(job.id, page_record(storage, path, idx, path.read_bytes()))
        idx += 1
    kept = idx - 1
    log.warning("job %d was interrupted while scanning; %d page(s) kept", job.id, kept)
    return queue.transition(
        job.id, State.PAUSED,
        f"scanning was interrupted (power cut or restart); {kept} page(s) kept, "
        "check the feeder, then resume or finish",
        f"Quét bị gián đoạn (mất điện hoặc khởi động lại). Đã giữ {kept} trang; kiểm tra khay "
        "giấy rồi bấm Tiếp tục hoặc Hoàn tất.")


def _drop_unrecorded(queue: Queue, job: Job, pending: Path) -> None:
    """A PDF linked into the outbox whose job never became ready: remove it, reassemble."""
    pending.unlink(missing_ok=True)
    sidecar_path(pending).unlink(missing_ok=True)
    if pending.parent.exists():
        fsync_dir(pending.parent)
    queue.set_pending_pdf(job.id, None)
