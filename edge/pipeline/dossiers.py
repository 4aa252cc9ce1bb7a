"""Dossiers: one citizen's papers, the jobs sharing a ticket, as staff find and hand them over.

A dossier is found by its ticket or by its national code; it is listed, renamed with its code
(every file at once), marked uploaded and exported as one ZIP here, for the CLI and the web UI
alike. Like `actions`, this module raises typed errors and knows no output format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import stat
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from edge import config
from edge.errors import JobError, NotFound, StateConflict, StorageError
from edge.pipeline import naming, outbox
from edge.pipeline.job import Job, PdfFile, State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage, sidecar_text

ACTIVE = {State.QUEUED, State.SCANNING, State.ASSEMBLING}
MAX_LISTED = 200
CHUNK = 1 << 20


@dataclass(frozen=True)
class Dossier:
    """The jobs of one ticket, in seq order (never empty)."""

    ticket: str
    jobs: tuple[Job, ...]

    @property
    def code(self) -> str | None:
        return next((j.dossier for j in self.jobs if j.dossier), None)

    @property
    def ref(self) -> str:
        return self.code or self.ticket

    @property
    def uploaded(self) -> bool:
        """Every document uploaded (those that failed, with no file, do not count)."""
        states = {j.state for j in self.jobs} - {State.FAILED}
        return states == {State.UPLOADED}

    @property
    def state(self) -> str:
        """scanning, paused, ready, uploaded or failed: the first that applies."""
        states = {j.state for j in self.jobs}
        if states & ACTIVE:
            return "scanning"
        for s in (State.PAUSED, State.READY, State.UPLOADED):
            if s in states:
                return str(s)
        return str(State.FAILED)

    @property
    def todo(self) -> list[str]:
        """What staff still have to do, in this order: decide_paused, wait_scanning,
        give_code, upload."""
        states = {j.state for j in self.jobs}
        out = []
        if State.PAUSED in states:
            out.append("decide_paused")
        if states & ACTIVE:
            out.append("wait_scanning")
        if not self.code and not self.uploaded and states != {State.FAILED}:
            out.append("give_code")
        if State.READY in states:
            out.append("upload")
        return out

    def summary(self, document: Callable[[Job], dict[str, object]] = Job.summary
                ) -> dict[str, object]:
        """The DOSSIER of the CLI's --json and the web API; `document` gives each job's JSON."""
        return {"ticket": self.ticket, "code": self.code, "ref": self.ref,
                "created": min(j.created for j in self.jobs),
                "updated": max(j.updated for j in self.jobs), "state": self.state,
                "documents": [document(j) for j in self.jobs],
                "pages": sum(j.pages for j in self.jobs), "uploaded": self.uploaded,
                "todo": self.todo}


def find(queue: Queue, ref: str) -> Dossier:
    """The dossier of a ticket or of a dossier code."""
    ref = ref.strip()
    try:
        code = naming.check_dossier(ref)
    except JobError:
        return Dossier(ref, tuple(queue.dossier(ref)))
    ticket = queue.ticket_of(code)
    if ticket is None:
        raise NotFound(f"no dossier has the code {code}",
                       vi=f"Không có hồ sơ nào mang mã {code}")
    return Dossier(ticket, tuple(queue.dossier(ticket)))


def listing(queue: Queue, *, text: str = "", pending: bool = False, today: bool = False,
            now: float | None = None) -> list[Dossier]:
    """Dossiers newest first (at most MAX_LISTED): `text` in the ticket or code (any case),
    `pending` not all uploaded, `today` begun today. Those where nothing was ever scanned (every
    job failed without a page) are left out."""
    midnight = dt.datetime.combine(dt.date.fromtimestamp(now or time.time()), dt.time())
    grouped: dict[str, list[Job]] = {}
    for job in queue.jobs():
        grouped.setdefault(job.ticket, []).append(job)
    out = []
    for ticket in queue.tickets(midnight.timestamp() if today else None):
        d = Dossier(ticket, tuple(sorted(grouped[ticket], key=lambda j: (j.seq, j.id))))
        if text.lower() not in f"{d.ticket}\n{d.code or ''}".lower():
            continue
        if (pending and d.uploaded) or all(j.state == State.FAILED and not j.pages
                                          for j in d.jobs):
            continue
        out.append(d)
    return out[:MAX_LISTED]


def rename(cfg: config.Config, storage: Storage, queue: Queue, ref: str, code: str) -> Dossier:
    """Give the whole dossier its national code: every job carries it, every file is renamed.
    A code that belongs to another dossier is refused."""
    code = naming.check_dossier(code)
    dossier = find(queue, ref)
    owner = queue.ticket_of(code)
    if owner not in (None, dossier.ticket):
        raise StateConflict(f"the code {code} already belongs to dossier {owner}; check the code "
                            f"(`edge dossier show {owner}`)",
                            vi=f"Mã {code} đã thuộc hồ sơ {owner}. Hãy kiểm tra lại mã.")
    names = outbox.Naming(cfg.storage.name_template, cfg.kit.id)
    return Dossier(dossier.ticket, tuple(outbox.rename(storage, queue, names, dossier.ticket,
                                                       code)))


def uploaded(queue: Queue, ref: str) -> Dossier:
    """Mark every ready document uploaded, all at once; refused while one is not finished."""
    dossier = find(queue, ref)
    unfinished = [j for j in dossier.jobs if j.state in ACTIVE | {State.PAUSED}]
    if unfinished:
        which = ", ".join(f"document {j.seq} (job {j.id}, {j.state})" for j in unfinished)
        raise StateConflict(
            f"dossier {dossier.ref}: {which} not finished; finish or wait for it first",
            vi="Hồ sơ còn giấy tờ chưa quét xong: "
               + ", ".join(f"giấy tờ {j.seq} ({j.doc})" for j in unfinished))
    ready = [j.id for j in dossier.jobs if j.state == State.READY]
    if not ready and not dossier.uploaded:
        raise StateConflict(f"dossier {dossier.ref} has no finished file to mark uploaded",
                            vi="Hồ sơ này không có tệp nào để đánh dấu đã nộp")
    queue.mark_uploaded(*ready)
    return find(queue, dossier.ticket)


@dataclass
class Export:
    """A dossier's finished files, opened and checked, ready to be written as one ZIP."""

    name: str
    manifest: dict[str, object]
    files: list[tuple[str, PdfFile, BinaryIO]] = field(default_factory=list)
    stack: ExitStack = field(default_factory=ExitStack)

    def chunks(self) -> Iterator[bytes]:
        """The ZIP's bytes (stored, not compressed: PDFs are), the files closed at the end."""
        pipe = _Pipe()
        try:
            with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as z:
                z.writestr(_info("manifest.json"),
                           json.dumps(self.manifest, ensure_ascii=False, indent=1) + "\n")
                for name, f, src in self.files:
                    with z.open(_info(name), "w") as dst:
                        while block := src.read(CHUNK):
                            dst.write(block)
                            yield pipe.take()
                    z.writestr(_info(name + ".sha256"), sidecar_text(Path(name), f.sha256))
                    yield pipe.take()
            yield pipe.take()
        finally:
            self.close()

    def write(self, out: BinaryIO) -> None:
        for chunk in self.chunks():
            out.write(chunk)

    def close(self) -> None:
        self.stack.close()


def export(storage: Storage, queue: Queue, ref: str) -> Export:
    """Open every finished file of a dossier from the outbox and check it against its recorded
    SHA-256 before anything is written; a missing or changed file is refused."""
    dossier = find(queue, ref)
    exp = Export(f"{dossier.ref}.zip", {})
    try:
        names: set[str] = set()
        for job in dossier.jobs:
            for f in job.files:
                name = Path(f.path).name
                if name in names:  # the same name in two day folders
                    name = f"{Path(f.path).parent.name}/{name}"
                names.add(name)
                exp.files.append((name, f, _checked(storage, exp.stack, job, f)))
        if not exp.files:
            raise StateConflict(f"dossier {dossier.ref} has no finished file yet",
                                vi="Hồ sơ này chưa có tệp nào đã quét xong")
        exp.manifest = _manifest(dossier, {id(f): n for n, f, _ in exp.files})
    except BaseException:
        exp.close()
        raise
    return exp


def _checked(storage: Storage, stack: ExitStack, job: Job, f: PdfFile) -> BinaryIO:
    """The outbox file of a record, open, its content checked; never a path from outside."""
    path = Path(f.path)
    problem = f"job {job.id}: {path.name} is missing or not a plain file in the outbox"
    try:
        if not path.resolve().is_relative_to(storage.outbox.resolve()):
            raise OSError(problem)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        raise _damaged(problem) from None
    src = stack.enter_context(os.fdopen(fd, "rb"))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise _damaged(problem)
    digest = hashlib.sha256()
    while block := src.read(CHUNK):
        digest.update(block)
    if digest.hexdigest() != f.sha256:
        raise _damaged(f"job {job.id}: {path.name} has changed since it was made (SHA-256 does "
                       "not match the record)")
    src.seek(0)
    return src


def _damaged(problem: str) -> StorageError:
    return StorageError(f"{problem}; nothing exported, run `edge verify`",
                        vi="Một tệp của hồ sơ bị thiếu hoặc đã bị thay đổi; chưa xuất được. "
                           "Hãy báo kỹ thuật viên.",
                        hint="`edge verify` lists every missing or changed file")


def _manifest(dossier: Dossier, names: dict[int, str]) -> dict[str, object]:
    return {"ticket": dossier.ticket, "code": dossier.code, "exported": _iso(time.time()),
            "documents": [{
                "seq": j.seq, "doc": j.doc, "job_id": j.id, "state": str(j.state),
                "pages": j.pages, "created": _iso(j.created), "updated": _iso(j.updated),
                "uploaded": _iso(j.uploaded) if j.uploaded else None,
                "files": [{"name": names[id(f)], "sha256": f.sha256, "bytes": f.bytes}
                          for f in j.files]} for j in dossier.jobs]}


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, time.localtime()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


class _Pipe(io.RawIOBase):
    """A write-only, unseekable file the ZIP is written into and its bytes taken from."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.buffer += b
        return len(b)

    def take(self) -> bytes:
        out = bytes(self.buffer)
        self.buffer.clear()
        return out
