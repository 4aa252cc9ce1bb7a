"""Scan jobs as the web UI acts on them, mirroring `edge scan|resume|finish|restore|rename|
uploaded`: the web process only changes the queue; the running `edge run` service does the work.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from edge import config, power
from edge.errors import EdgeError, JobError
from edge.pipeline import naming, outbox
from edge.pipeline.job import Job, State
from edge.pipeline.queue import Queue
from edge.pipeline.settings import ScanSettings
from edge.pipeline.storage import Storage
from edge.web.errors import bad

MAX_DOC_LEN = 120
MAX_FIELD = 200
JOB_REF = re.compile(r"[0-9]{1,9}")
TICKET = re.compile(r"[A-Z0-9]{2,8}-[0-9]{6}-[0-9]{3,4}")


def is_ticket(ref: str) -> bool:
    return bool(TICKET.fullmatch(ref))


def field(data: dict[str, Any], key: str, required: bool = False,
          limit: int = MAX_FIELD) -> str:
    """A string field of a JSON body or form, checked for type and length."""
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise bad(f"{key}: expected a string", f"Trường {key} không hợp lệ")
    value = value.strip()
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") from a JSON escape
            raise bad(f"{key}: not valid text", f"Trường {key} có ký tự không hợp lệ") from None
    if len(value) > limit:
        raise bad(f"{key}: at most {limit} characters", f"Trường {key} quá dài (tối đa {limit} "
                  "ký tự)", 413 if len(value) > 10 * limit else 400)
    if required and not value:
        raise bad(f"{key} is required", f"Hãy nhập {key}")
    return value


def job_id(ref: str) -> int:
    if not JOB_REF.fullmatch(ref):
        raise bad(f"{ref[:40]!r} is not a job number", "Số hồ sơ quét không hợp lệ", 404)
    return int(ref)


def create(cfg: config.Config, storage: Storage, queue: Queue, data: dict[str, Any]) -> Job:
    """A new queued job, with the same checks as `edge scan`."""
    scanner_name = field(data, "scanner", required=True, limit=32)
    preset = field(data, "preset", limit=64)
    try:
        scanner = cfg.scanner_named(scanner_name)
        preset_doc = ScanSettings.resolve(scanner, preset).doc
    except EdgeError as e:
        raise bad(e.message, e.vi) from None
    if scanner.imports:
        raise bad(f"{scanner.name!r} is the import entry (hot folder, `edge import`), not a "
                  "scanner to start: choose a scanner", "Đây không phải máy quét. Hãy chọn máy "
                  "quét.")
    doc = field(data, "doc", limit=MAX_DOC_LEN) or preset_doc
    if not doc:
        raise bad("doc is required: the document type", "Hãy chọn hoặc nhập loại giấy tờ")
    dossier_raw = field(data, "dossier", limit=64)
    dossier = naming.check_dossier(dossier_raw) if dossier_raw else None
    power.check_accepting(cfg, storage)
    return queue.create(kit=cfg.kit.id, doc=doc, scanner=scanner.name, preset=preset,
                        dossier=dossier)


def resume(cfg: config.Config, storage: Storage, queue: Queue, jid: int) -> Job:
    _paused(queue, jid)
    power.check_accepting(cfg, storage)
    return queue.transition(jid, State.QUEUED, "resumed from the web UI")


def finish(queue: Queue, jid: int) -> Job:
    _paused(queue, jid)
    return queue.transition(jid, State.ASSEMBLING, "finished from the web UI")


def _paused(queue: Queue, jid: int) -> None:
    job = queue.get(jid)
    if job.state != State.PAUSED:
        raise bad(f"job {jid} is {job.state}, not paused",
                  "Hồ sơ quét này không ở trạng thái tạm dừng", 409)


def restore(queue: Queue, jid: int, pages: Any) -> Job:
    if not isinstance(pages, list) or not pages or not all(
            isinstance(p, int) and not isinstance(p, bool) for p in pages) or len(pages) > 1000:
        raise bad("pages: expected a list of page numbers", "Danh sách trang không hợp lệ")
    job = queue.get(jid)
    blank = {p.idx for p in queue.pages(jid) if p.blank}
    if not set(pages) <= blank:
        raise bad(f"page(s) {sorted(set(pages) - blank)} are not set aside as blank",
                  "Trang này không nằm trong các trang trắng đã bỏ ra", 409)
    if job.state not in (State.PAUSED, State.READY):
        raise bad(f"job {jid} is {job.state}; restore pages once it is paused or ready",
                  "Chỉ khôi phục trang khi hồ sơ đã tạm dừng hoặc đã xong", 409)
    queue.set_blank(jid, pages, False, f"page(s) {pages} restored from the web UI")
    if job.state == State.READY:
        return queue.transition(jid, State.ASSEMBLING, "re-assembling with restored pages")
    return queue.get(jid)


def rename(cfg: config.Config, storage: Storage, queue: Queue, jid: int, dossier: str) -> Job:
    names = outbox.Naming(cfg.storage.name_template, cfg.kit.id)
    return outbox.rename(storage, queue, names, queue.get(jid), dossier)


def uploaded(queue: Queue, jid: int) -> Job:
    job = queue.get(jid)
    if job.state != State.READY:
        raise bad(f"job {jid} is {job.state}; only a ready job can be marked uploaded",
                  "Chỉ đánh dấu đã nộp khi tệp PDF đã sẵn sàng", 409)
    return queue.mark_uploaded(jid)


def file_path(storage: Storage, queue: Queue, jid: int, part: int) -> Path:
    """A job's finished file by part number; never a path from the client."""
    job = queue.get(jid)
    if job.purged or not 1 <= part <= len(job.files):
        raise JobError(f"no job {jid} file {part}", vi="Không có tệp này")
    path = Path(job.files[part - 1].path).resolve()
    if not path.is_relative_to(storage.outbox.resolve()) or not path.is_file():
        raise JobError(f"no job {jid} file {part}", vi="Không tìm thấy tệp PDF")
    return path


def detail(queue: Queue, job: Job) -> dict[str, object]:
    """A job with its pages and file names, as the API and the live page show it."""
    files = [{**f.summary(), "name": Path(f.path).name, "part": i, "path": None}
             for i, f in enumerate(job.files, 1)]
    return {**job.summary(), "pdf": Path(job.pdf).name if job.pdf else None, "files": files,
            "page_list": [{"idx": p.idx, "blank": p.blank, "bytes": p.bytes, "kind": p.kind}
                          for p in queue.pages(job.id)]}


def dossiers(queue: Queue) -> list[dict[str, object]]:
    """Jobs grouped by dossier code (or ticket), in scanning order."""
    groups: dict[str, list[dict[str, object]]] = {}
    for job in queue.jobs():
        if job.state == State.FAILED and not job.pages:
            continue
        groups.setdefault(job.ref, []).append(job.summary())
    return [{"ref": ref, "jobs": jobs} for ref, jobs in groups.items()]
