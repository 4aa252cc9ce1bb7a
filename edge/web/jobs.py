"""Scan jobs as the web UI reads and shows them: request fields, job references, files and
views. The actions themselves are `edge.pipeline.actions`, shared with the CLI: the web process
only changes the queue; the running `edge run` service does the work.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from edge import config
from edge.errors import NotFound
from edge.pipeline import actions, split
from edge.pipeline.job import Job
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.web.errors import bad
from edge.web.i18n import FIELD_WORDS

MAX_FIELD = 200
JOB_REF = re.compile(r"[0-9]{1,9}")
TICKET = re.compile(r"[A-Z0-9]{2,8}-[0-9]{6}-[0-9]{3,4}")


def is_ticket(ref: str) -> bool:
    return bool(TICKET.fullmatch(ref))


def field(data: dict[str, Any], key: str, required: bool = False,
          limit: int = MAX_FIELD) -> str:
    """A string field of a JSON body or form, checked for type and length."""
    name = FIELD_WORDS.get(key, ("", ""))[0] or "này"
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise bad(f"{key}: expected a string", f"Trường {name} không hợp lệ")
    value = value.strip()
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") from a JSON escape
            raise bad(f"{key}: not valid text", f"Trường {name} có ký tự không hợp lệ") from None
    if len(value) > limit:
        raise bad(f"{key}: at most {limit} characters", f"Trường {name} quá dài (tối đa {limit} "
                  "ký tự)", 413 if len(value) > 10 * limit else 400)
    if required and not value:
        raise bad(f"{key} is required", f"Hãy nhập {name}")
    return value


def job_id(ref: str) -> int:
    if not JOB_REF.fullmatch(ref):
        raise bad(f"{ref[:40]!r} is not a job number", "Số hồ sơ quét không hợp lệ", 404)
    return int(ref)


def create(cfg: config.Config, storage: Storage, queue: Queue, data: dict[str, Any]) -> Job:
    """A new queued job from a JSON body or form (see `actions.create`): `ticket` adds it to
    that dossier, `"paused": "aside"` starts it though the scanner has a paused job."""
    paused = field(data, "paused", limit=16)
    if paused not in ("", "aside"):
        raise bad('paused: expected "aside" (leave the paused job and start a new one)',
                  "Lựa chọn cho hồ sơ đang tạm dừng không hợp lệ")
    ticket = field(data, "ticket", limit=32) or None
    if ticket is not None and not is_ticket(ticket):
        raise bad(f"ticket: {ticket!r} is not a ticket number", "Số phiếu không hợp lệ", 404)
    return actions.create(cfg, storage, queue, scanner=field(data, "scanner", True, limit=32),
                          preset=field(data, "preset", limit=64),
                          doc=field(data, "doc", limit=actions.MAX_DOC_LEN),
                          dossier=field(data, "dossier", limit=64) or None, ticket=ticket,
                          aside=paused == "aside")


def pages(data: dict[str, Any]) -> list[int]:
    """The page numbers of a restore request."""
    value = data.get("pages")
    if not isinstance(value, list) or not value or not all(
            isinstance(p, int) and not isinstance(p, bool) for p in value) or len(value) > 1000:
        raise bad("pages: expected a list of page numbers", "Danh sách trang không hợp lệ")
    return value


def file_path(storage: Storage, queue: Queue, jid: int, part: int) -> Path:
    """A job's finished file by part number; never a path from the client."""
    job = queue.get(jid)
    if job.purged or not 1 <= part <= len(job.files):
        raise NotFound(f"no job {jid} file {part}", vi="Không có tệp này")
    path = Path(job.files[part - 1].path).resolve()
    if not path.is_relative_to(storage.outbox.resolve()) or not path.is_file():
        raise NotFound(f"no job {jid} file {part}", vi="Không tìm thấy tệp PDF")
    return path


def detail(queue: Queue, job: Job) -> dict[str, object]:
    """A job with its pages and file names, as the API and the live page show it."""
    pages = queue.pages(job.id)
    files = [{**f.summary(), "name": Path(f.path).name, "part": i, "path": None}
             for i, f in enumerate(job.files, 1)]
    return {**job.summary(), "pdf": Path(job.pdf).name if job.pdf else None, "files": files,
            "page_list": [{"idx": p.idx, "blank": p.blank, "bytes": p.bytes, "kind": p.kind,
                           "cover": bool(p.cover)} for p in pages],
            "stack": split.live(pages, job.doc) if any(p.cover for p in pages) else []}
