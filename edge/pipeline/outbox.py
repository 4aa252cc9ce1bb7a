"""What happens to finished PDFs: publishing, renaming, verifying, purging, recovering.

Every change of an outbox name happens under the outbox lock and records its intent in the queue
(`pending_pdf`) before touching a file, so `recover()` can finish or undo it after a power cut.
Files are only ever hard-linked into place: an existing name is never replaced.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pikepdf

from edge.errors import EdgeError, JobError
from edge.pipeline import naming, ocr
from edge.pipeline.encode import content_digest, page_image_digests, page_record
from edge.pipeline.job import HAS_PDF, Job, PdfFile, State
from edge.pipeline.lock import outbox_lock
from edge.pipeline.queue import Queue
from edge.pipeline.storage import (
    Storage,
    fsync_dir,
    sha256_file,
    sidecar_path,
    sidecar_text,
    storage_error,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Naming:
    template: str
    kit: str

    def path(self, storage: Storage, job: Job) -> Path:
        """Where a job's PDF belongs now: its day folder and its name for the current ref."""
        day = dt.datetime.fromtimestamp(job.created).date()
        name = naming.render(self.template, ref=job.ref, seq=job.seq,
                             doc=naming.slug(job.doc), ticket=job.ticket, kit=self.kit, day=day)
        return storage.outbox / day.isoformat() / name


def publish(storage: Storage, queue: Queue, names: Naming, job_id: int,
            files: list[tuple[Path, str]], message: str = "", vi: str = "") -> Job:
    """Link finished, fsynced PDFs (path, SHA-256: one, or the parts of a split document) into
    the outbox with their sidecars; the job becomes ready."""
    with outbox_lock(storage.locks):
        job = queue.get(job_id)  # the dossier code may have arrived while assembling
        for old in job.files:  # re-assembled (a page restored): old files give way to new ones
            _remove(Path(old.path))
        targets = link_unique(storage, queue, job.id, [tmp for tmp, _ in files],
                              names.path(storage, job))
        linked = [(target, sha) for target, (_, sha) in zip(targets, files, strict=True)]
        try:
            for target, sha256 in linked:
                storage.write_sidecar(target, sha256)
            return queue.publish(job.id, linked, message, vi)
        except (EdgeError, OSError):
            _drop(storage, queue, job.id, queue.pending_pdf(job.id) or targets[0])
            raise


def rename(storage: Storage, queue: Queue, names: Naming, ticket: str, code: str) -> list[Job]:
    """Give every job of a dossier the dossier code `code` (checked) and move their finished
    files to names made with it, sidecars along.

    One transaction records the code on every job and the name each job's files move to; the
    files move after it. `recover()` finishes the moves a crash or power cut leaves undone.
    A job without a file yet takes the code when it is published.
    """
    code = naming.check_dossier(code)
    with outbox_lock(storage.locks):
        jobs = queue.dossier(ticket)
        if all(j.state == State.FAILED or j.purged for j in jobs):
            raise JobError(f"dossier {ticket} has no file to rename: its documents failed or "
                           "were purged", vi="Hồ sơ này không còn tệp để đổi tên")
        moving = [j for j in jobs if j.state in HAS_PDF and j.files]
        for job in moving:
            for f in job.files:
                if not Path(f.path).is_file():
                    raise JobError(f"job {job.id}: {f.path} is missing; run `edge verify`",
                                   vi="Không tìm thấy tệp PDF của hồ sơ này; hãy báo kỹ thuật "
                                      "viên")
        plan = _plan_names(storage, names, moving, code)
        queue.set_dossier(ticket, code, plan)
        for job in moving:
            if job.id in plan:
                new = part_paths(plan[job.id], len(job.files))
                for f, path in zip(job.files, new, strict=True):
                    _link(Path(f.path), path)
                fsync_dir(plan[job.id].parent)
                _finish_rename(storage, queue, queue.get(job.id), new)
        log.info("dossier %s given its dossier code (%d file(s) moved)", ticket, len(plan))
        return queue.dossier(ticket)


def _plan_names(storage: Storage, names: Naming, jobs: list[Job], code: str) -> dict[int, Path]:
    """The free name each job's files move to (the first part's), those already named so left
    out; never a name that exists or that another job of the plan takes."""
    plan: dict[int, Path] = {}
    taken: set[Path] = set()
    for job in jobs:
        wanted = names.path(storage, replace(job, dossier=code))
        if [Path(f.path) for f in job.files] == part_paths(wanted, len(job.files)):
            continue
        storage.make_dirs(wanted.parent)
        plan[job.id] = free_name(wanted, len(job.files), taken)
        taken.update(part_paths(plan[job.id], len(job.files)))
    return plan


def _link(old: Path, new: Path) -> None:
    try:
        os.link(old, new)
    except OSError as e:
        raise storage_error(e, new) from None


def _finish_rename(storage: Storage, queue: Queue, job: Job, new: list[Path]) -> Job:
    for f, path in zip(job.files, new, strict=True):
        storage.write_sidecar(path, f.sha256)
    for f, path in zip(job.files, new, strict=True):
        if Path(f.path) != path:
            _remove(Path(f.path))
    job = queue.finish_rename(job.id, new)
    log.info("job %d %s renamed to its dossier code", job.id, job.ticket)
    return job


def _remove(pdf: Path) -> None:
    """Remove a PDF and its sidecar durably (the sidecar first: never a checksum of nothing)."""
    sidecar_path(pdf).unlink(missing_ok=True)
    pdf.unlink(missing_ok=True)
    if pdf.parent.exists():
        fsync_dir(pdf.parent)


remove = _remove  # public: a document undone by staff (edge/pipeline/regroup.py) leaves


def part_paths(base: Path, parts: int) -> list[Path]:
    return [base.with_name(naming.part_name(base.name, i, parts)) for i in range(1, parts + 1)]


def free_name(wanted: Path, parts: int, taken: set[Path]) -> Path:
    """The first name like `wanted` (`a.pdf`, `a-2.pdf`...) whose files (`parts` of them:
    `a_part1.pdf`...) and sidecars do not exist and are not in `taken`."""
    for n in itertools.count(1):
        base = wanted.with_name(naming.with_suffix(wanted.name, n))
        if not any(t in taken or t.exists() or sidecar_path(t).exists()
                   for t in part_paths(base, parts)):
            return base
    raise AssertionError("unreachable")


def link_unique(storage: Storage, queue: Queue, job_id: int, srcs: list[Path],
                wanted: Path) -> list[Path]:
    """Hard-link `srcs` (a document's files) under the first free name like `wanted`
    (`a.pdf`, `a-2.pdf`...; split: `a_part1.pdf`, `a_part2.pdf`...).

    The name is recorded as the job's pending PDF before any file is created, so recovery after
    a power cut knows whose files they may be. An existing file is never replaced.
    """
    storage.make_dirs(wanted.parent)
    taken: set[Path] = set()
    while True:
        base = free_name(wanted, len(srcs), taken)
        targets = part_paths(base, len(srcs))
        queue.set_pending_pdf(job_id, base)
        linked: list[Path] = []
        try:
            for src, target in zip(srcs, targets, strict=True):
                os.link(src, target)
                linked.append(target)
        except OSError as e:
            for target in linked:
                target.unlink()
            if isinstance(e, FileExistsError):
                taken.update(targets)
                continue
            raise storage_error(e, targets[len(linked)]) from None
        fsync_dir(base.parent)
        return targets


@dataclass(frozen=True)
class Problem:
    path: str
    what: str


def verify(storage: Storage, queue: Queue) -> list[Problem]:
    """Re-hash every outbox file against its job record, its sidecar and its own metadata."""
    problems: list[Problem] = []
    known: set[Path] = set()
    for job in queue.jobs(HAS_PDF):
        for f in job.files:
            pdf = Path(f.path)
            known |= {pdf, sidecar_path(pdf)}
            problems += _verify_one(job, f)
    for path in sorted(storage.outbox.rglob("*")):
        if path.is_file() and path not in known:
            problems.append(Problem(str(path), "not recorded in any job"))
    return problems


def _verify_one(job: Job, f: PdfFile) -> list[Problem]:
    pdf = Path(f.path)
    if not pdf.exists():
        return [Problem(str(pdf), f"missing (job {job.id} {job.ticket})")]
    out = []
    actual = sha256_file(pdf)
    if actual != f.sha256:
        out.append(Problem(str(pdf), f"SHA-256 {actual} does not match the record {f.sha256}"))
    side = sidecar_path(pdf)
    if not side.exists():
        out.append(Problem(str(side), "checksum file missing"))
    elif side.read_bytes() != sidecar_text(pdf, f.sha256):
        out.append(Problem(str(side), "checksum file does not match the record"))
    if actual != f.sha256:
        try:
            with pikepdf.open(pdf) as doc:
                stored = str(doc.docinfo.get("/EdgeContentSHA256", ""))
                if content_digest(page_image_digests(doc)) != stored:
                    out.append(Problem(str(pdf), "page images differ from those scanned"))
        except pikepdf.PdfError as e:
            out.append(Problem(str(pdf), f"not a readable PDF: {e}"))
    return out


def purge(storage: Storage, queue: Queue, retention_days: int, now: float | None = None,
          delivered: Callable[[Job], float | None] | None = None) -> int:
    """Delete uploaded jobs' files after the retention period (never before, never others).
    With `delivered` (when a ready job was delivered to every required target, or None), ready
    jobs delivered that long ago go too, even if nobody marked them uploaded."""
    limit = (now or time.time()) - retention_days * 86400
    purged = 0
    for job in queue.jobs({State.UPLOADED} | ({State.READY} if delivered else set())):
        since = job.uploaded if job.state == State.UPLOADED or delivered is None else delivered(job)
        if job.purged or not since or since > limit:
            continue
        for f in job.files:
            _remove(Path(f.path))
        shutil.rmtree(storage.job_spool(job.id), ignore_errors=True)
        queue.mark_purged(job.id)
        purged += 1
        log.info("job %d purged after the retention period", job.id)
    return purged


def recover(storage: Storage, queue: Queue) -> list[Job]:
    """Bring the queue back to a consistent state after a crash or power cut.

    Call only while holding the worker lock (no job is being worked on).
    """
    touched = []
    with outbox_lock(storage.locks):
        storage.clear_tmp()
        ocr.recover(storage, queue)
        for job in queue.jobs({State.SCANNING, State.ASSEMBLING, State.READY, State.UPLOADED}):
            try:
                touched += _recover_one(storage, queue, job)
            except EdgeError as e:
                log.error("job %d could not be recovered: %s", job.id, e)
    return touched


def _recover_one(storage: Storage, queue: Queue, job: Job) -> list[Job]:
    if job.state == State.SCANNING:
        return [_recover_scanning(storage, queue, job)]
    pending = queue.pending_pdf(job.id)
    if pending is None:
        return []
    if job.state == State.ASSEMBLING:  # linked but never recorded: assemble again
        _drop(storage, queue, job.id, pending)
        return [job]
    new = part_paths(pending, len(job.files))
    todo = []  # (old, new) still to link
    for f, path in zip(job.files, new, strict=True):
        old = Path(f.path)
        if path.exists() and (not old.exists() or os.path.samefile(path, old)):
            continue
        if not old.exists() or path.exists():
            log.warning("job %d: rename to %s cannot be completed; left as it was", job.id,
                        pending.name)
            queue.set_pending_pdf(job.id, None)
            return [job]
        todo.append((old, path))
    for old, path in todo:
        os.link(old, path)
    fsync_dir(pending.parent)
    return [_finish_rename(storage, queue, job, new)]


def _recover_scanning(storage: Storage, queue: Queue, job: Job) -> Job:
    """Adopt pages written just before the cut, then pause: the feeder state is unknown."""
    spool = storage.job_spool(job.id)
    idx = len(queue.pages(job.id)) + 1
    while (path := spool / f"p{idx:04d}.pdf").exists():
        queue.add_page(job.id, page_record(idx, storage.rel(path), path.read_bytes()))
        # adopted pages skip blank detection: better an extra page than a lost one
        idx += 1
    kept = idx - 1
    log.warning("job %d was interrupted while scanning; %d page(s) kept", job.id, kept)
    return queue.transition(
        job.id, State.PAUSED,
        f"scanning was interrupted (power cut or restart); {kept} page(s) kept, "
        "check the feeder, then resume or finish",
        f"Quét bị gián đoạn (mất điện hoặc khởi động lại). Đã giữ {kept} trang; kiểm tra khay "
        "giấy rồi bấm Tiếp tục hoặc Hoàn tất.")


def _drop(storage: Storage, queue: Queue, job_id: int, pending: Path) -> None:
    """Remove the PDF(s) linked for a job that never became ready, those that are its own."""
    job = queue.get(job_id)
    parts = [pending, *itertools.takewhile(Path.exists, (
        pending.with_name(naming.part_name(pending.name, i, 2)) for i in itertools.count(1)))]
    for path in parts:
        if path.exists() and _ticket_of(path) == job.ticket:
            _remove(path)
    queue.set_pending_pdf(job_id, None)


def _ticket_of(pdf: Path) -> str:
    try:
        with pikepdf.open(pdf) as doc:
            return str(doc.docinfo.get("/EdgeTicket", ""))
    except pikepdf.PdfError:
        return ""
