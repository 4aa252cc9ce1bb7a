"""The actions staff take on jobs, written once for every front end (`edge scan|resume|...` and
the web UI): each checks the job's state, the power and the input, changes the queue and returns
the job, or raises a typed error (`NotFound`, `StateConflict`, `PowerError`, `JobError` for bad
input) carrying the English and Vietnamese text. No output format and no exit or HTTP codes here:
the CLI maps the errors to exit codes, the web to status codes.

`via` names the front end in the job's history ("web UI", "command line").
"""

from __future__ import annotations

from edge import config, power
from edge.errors import JobError, StateConflict
from edge.field import visits
from edge.pipeline import dossiers, naming
from edge.pipeline.job import Job, State
from edge.pipeline.queue import Queue
from edge.pipeline.settings import ScanSettings
from edge.pipeline.storage import Storage

MAX_DOC_LEN = 120
Ref = int | str  # a job number or its ticket


def job_fields(scanner: config.Scanner, preset: str, doc: str,
               dossier: str | None) -> tuple[str, str | None]:
    """The document type (the preset's when none is given) and normalised dossier code of a new
    job on `scanner`; an unknown preset, a missing document type or a bad code is refused."""
    preset_doc = ScanSettings.resolve(scanner, preset).doc
    doc = (doc or preset_doc).strip()
    if not doc or len(doc) > MAX_DOC_LEN:
        raise JobError(f"--doc is required: the document type, 1-{MAX_DOC_LEN} characters "
                       '(e.g. "Giấy khai sinh")', vi="Hãy chọn hoặc nhập loại giấy tờ")
    return doc, naming.check_dossier(dossier) if dossier else None


class ScannerTaken(StateConflict):
    """A new scan refused so that two citizens' papers never mix: the scanner still holds a job
    that is queued or scanning (`conflict` "busy"), or paused ("paused")."""

    def __init__(self, conflict: str, job: Job) -> None:
        self.conflict, self.job = conflict, job
        if conflict == "busy":
            super().__init__(
                f"scanner {job.scanner!r} is busy with job {job.id} ({job.ticket}, {job.state}); "
                "wait until it is done (`edge jobs`): a second scan is not queued behind it",
                vi=f"Máy quét đang quét hồ sơ {job.ticket}. Hãy chờ quét xong.")
        else:
            super().__init__(
                f"scanner {job.scanner!r} has job {job.id} ({job.ticket}, {job.doc}) paused with "
                f"{job.pages} page(s): continue it with `edge resume {job.id}`, make its PDF of "
                f"those pages with `edge finish {job.id}`, or leave it paused and start a new "
                "document anyway with --set-aside",
                vi=f"Máy quét còn hồ sơ {job.ticket} đang tạm dừng ({job.pages} trang). Hãy "
                   "tiếp tục, hoàn tất hoặc để riêng hồ sơ đó trước khi quét giấy tờ mới.")


def create(cfg: config.Config, storage: Storage, queue: Queue, *, scanner: str, preset: str,
           doc: str, dossier: str | None, ticket: str | None = None,
           aside: bool = False) -> Job:
    """A new queued scan job, the next document of dossier `ticket` (or of the dossier with the
    code `dossier`) or the first of a new one. Refused while the UPS battery is nearly empty,
    while the scanner has a job queued or scanning, or a paused one (unless `aside`: staff chose
    to leave it paused), and for a dossier that is all uploaded."""
    device = cfg.scanner_named(scanner)
    if device.imports:
        raise JobError(f"{device.name!r} is the import entry (hot folder, `edge import`), not a "
                       "scanner to start: choose a scanner",
                       vi="Đây không phải máy quét. Hãy chọn máy quét.")
    doc, code = job_fields(device, preset, doc, dossier)
    power.check_accepting(cfg, storage)

    def check(q: Queue) -> None:
        _check_free(q, device.name, aside)
        joined = ticket or (q.ticket_of(code) if code else None)
        if joined and dossiers.Dossier(joined, tuple(q.dossier(joined))).uploaded:
            raise StateConflict(f"dossier {joined} is uploaded already; scan into a new dossier",
                                vi="Hồ sơ này đã nộp xong; hãy quét vào một hồ sơ mới")

    job = queue.create(kit=cfg.kit.id, doc=doc, scanner=device.name, preset=preset,
                       dossier=code, ticket=ticket, check=check)
    visits.attach_job(cfg.storage.root, job.id)
    return job


def _check_free(queue: Queue, scanner: str, aside: bool) -> None:
    held = queue.unfinished(scanner)
    busy = [j for j in held if j.state != State.PAUSED]
    if busy:
        raise ScannerTaken("busy", busy[0])
    if held and not aside:
        raise ScannerTaken("paused", held[0])


def resume(cfg: config.Config, storage: Storage, queue: Queue, ref: Ref, via: str) -> Job:
    """Put a paused job back in the queue to scan on (the feeder was refilled, the jam cleared)."""
    job = _paused(queue, ref)
    power.check_accepting(cfg, storage)
    return queue.transition(job.id, State.QUEUED, f"resumed from the {via}")


def finish(queue: Queue, ref: Ref, via: str) -> Job:
    """Make the PDF of a paused job from the pages it has."""
    job = _paused(queue, ref)
    return queue.transition(job.id, State.ASSEMBLING, f"finished from the {via}")


def _paused(queue: Queue, ref: Ref) -> Job:
    job = queue.get(ref)
    if job.state != State.PAUSED:
        raise StateConflict(f"job {job.id} is {job.state}, not paused",
                            vi="Hồ sơ quét này không ở trạng thái tạm dừng")
    return job


def restore(queue: Queue, ref: Ref, pages: list[int], via: str) -> Job:
    """Put pages taken for blank back; a ready job is assembled again, a paused one stays."""
    job = queue.get(ref)
    blank = {p.idx for p in queue.pages(job.id) if p.blank}
    if not set(pages) <= blank:
        raise StateConflict(f"job {job.id}: page(s) {sorted(set(pages) - blank)} are not set "
                            f"aside as blank (blank pages: {sorted(blank) or 'none'})",
                            vi="Trang này không nằm trong các trang trắng đã bỏ ra")
    if job.state not in (State.PAUSED, State.READY):
        raise StateConflict(f"job {job.id} is {job.state}; restore pages once it is paused or "
                            "ready", vi="Chỉ khôi phục trang khi hồ sơ đã tạm dừng hoặc đã xong")
    queue.set_blank(job.id, pages, False, f"page(s) {pages} restored from the {via}")
    if job.state == State.READY:
        return queue.transition(job.id, State.ASSEMBLING, "re-assembling with restored pages")
    return queue.get(job.id)


def rename(cfg: config.Config, storage: Storage, queue: Queue, ref: Ref, dossier: str) -> Job:
    """Give a job's whole dossier its national dossier code (see `dossiers.rename`)."""
    job = queue.get(ref)
    dossiers.rename(cfg, storage, queue, job.ticket, dossier)
    return queue.get(job.id)


def uploaded(queue: Queue, ref: Ref) -> Job:
    """Mark a ready job as uploaded to the portal (its files go after the retention period)."""
    job = queue.get(ref)
    if job.state != State.READY:
        raise StateConflict(f"job {job.id} is {job.state}; only a ready job can be marked "
                            "uploaded", vi="Chỉ đánh dấu đã nộp khi tệp PDF đã sẵn sàng")
    queue.mark_uploaded(job.id)
    return queue.get(job.id)
