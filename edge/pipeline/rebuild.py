"""`edge queue rebuild`: a new queue after the old one was lost or damaged, without losing a
document or issuing a ticket number twice.

The damaged database (queue.db, -wal, -shm) and the spool are moved, never deleted, to
`damaged/<time>/` under the storage root. The new queue's ticket counters start after every
ticket found on the kit: outbox file names, the ticket inside each PDF (a file named by its
dossier code), receipt slips, and whatever the old `tickets` table still tells. Each finished
document in the outbox becomes a ready job again; pages of unfinished jobs cannot (their job
records are gone), and the report says where they are.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from edge.errors import EdgeError, JobError, StorageError
from edge.pipeline import naming
from edge.pipeline.lock import holder, worker_lock
from edge.pipeline.queue import DB_FILES, Queue
from edge.pipeline.storage import Storage, fsync_dir, sha256_file, sidecar_path

ADOPTED = ("re-adopted from the outbox when the queue was rebuilt; if it was already uploaded, "
           "mark it again")
ADOPTED_VI = "Đã khôi phục từ thư mục hồ sơ sau khi dựng lại hàng đợi"


@dataclass
class Report:
    aside: Path
    adopted: int = 0
    spooled_jobs: int = 0
    last: dict[dt.date, int] = field(default_factory=dict)
    not_recovered: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Found:
    """One outbox PDF made by this kit: its ticket, part and what the job said."""

    path: Path
    ticket: str
    part: int
    doc: str
    ref: str
    created: float


def rebuild(storage: Storage, kit: str, *, force: bool = False) -> Report:
    """Move the old queue aside, make a new one, seed its tickets, re-adopt the outbox."""
    with worker_lock(storage.locks) as held:
        if not held:
            raise StorageError(
                f"another edge process (pid {holder(storage.locks)}) is using the queue",
                vi="Dịch vụ đang chạy; hãy dừng dịch vụ trước",
                hint="stop it first: systemctl stop edge")
        if not force and _sound(storage.db):
            raise JobError(f"queue database {storage.db} opens and reads fine: nothing to "
                           "rebuild", hint="use --force to rebuild it all the same")
        report = Report(_move_aside(storage))
        report.spooled_jobs = sum(1 for _ in (report.aside / "spool").glob("*"))
        found = _outbox(storage, kit, report.not_recovered)
        report.last = _last_tickets(storage, kit, report.aside, found)
        with Queue(storage.db, new=True) as queue:
            queue.seed_tickets(report.last)
            report.adopted = _adopt(queue, found, report.not_recovered)
    return report


def _sound(db: Path) -> bool:
    try:
        with Queue(db) as queue:
            queue.read_all()
    except EdgeError:
        return False
    return db.exists()


def _move_aside(storage: Storage) -> Path:
    """`damaged/<time>/` holding the old database files and spool (renamed, never copied)."""
    aside = storage.root / "damaged" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    while aside.exists():
        aside = aside.with_name(aside.name + "+")
    storage.make_dirs(aside)
    for name in DB_FILES:
        if (storage.root / name).exists():
            os.replace(storage.root / name, aside / name)
    os.replace(storage.spool, aside / "spool")
    storage.spool.mkdir(mode=0o700)
    fsync_dir(aside)
    fsync_dir(storage.root)
    return aside


def _outbox(storage: Storage, kit: str, problems: list[str]) -> list[Found]:
    found = []
    for pdf in sorted(storage.outbox.rglob("*.pdf")):
        try:
            with pikepdf.open(pdf) as doc:
                ticket = str(doc.docinfo.get("/EdgeTicket", ""))
                part = str(doc.docinfo.get("/EdgePart", "1/1")).split("/")[0]
                meta = doc.open_metadata()
                title, ref = str(meta.get("dc:title", "")), str(meta.get("dc:identifier", ""))
                created = str(meta.get("xmp:CreateDate", ""))
        except (pikepdf.PdfError, ValueError) as e:
            problems.append(f"{pdf}: not a readable PDF ({e}); not re-adopted")
            continue
        if not naming.tickets_in(ticket, kit):
            problems.append(f"{pdf}: no ticket of kit {kit} inside; not re-adopted")
            continue
        found.append(Found(pdf, ticket, int(part) if part.isdigit() else 1, title, ref,
                           _timestamp(created, pdf)))
    return found


def _timestamp(created: str, pdf: Path) -> float:
    try:
        return dt.datetime.fromisoformat(created).timestamp()
    except ValueError:
        return pdf.stat().st_mtime


def _last_tickets(storage: Storage, kit: str, aside: Path,
                  found: list[Found]) -> dict[dt.date, int]:
    """The highest ticket number of each day seen anywhere on the kit."""
    seen: set[tuple[dt.date, int]] = set()
    for f in found:
        seen |= naming.tickets_in(f.ticket, kit)
    for path in storage.outbox.rglob("*"):
        seen |= naming.tickets_in(path.name, kit)
    for meta in (storage.root / "receipts").glob("*/*.json"):
        seen |= naming.tickets_in(meta.read_text(encoding="utf-8", errors="replace"), kit)
    last: dict[dt.date, int] = defaultdict(int)
    for day, n in seen | _old_counters(aside / "queue.db"):
        last[day] = max(last[day], n)
    return dict(last)


def _old_counters(db: Path) -> set[tuple[dt.date, int]]:
    """What the damaged database's `tickets` table still tells, if it can be read at all."""
    if not db.exists() or db.stat().st_size == 0:
        return set()
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            rows = c.execute("SELECT day, n FROM tickets").fetchall()
    except sqlite3.Error:
        return set()
    out = set()
    for day, n in rows:
        try:
            out.add((dt.date.fromisoformat(str(day)), int(n)))
        except ValueError:
            continue
    return out


def _adopt(queue: Queue, found: list[Found], problems: list[str]) -> int:
    """Each document (its files: parts in order) becomes one ready job of its ticket's dossier,
    oldest first: a ticket's documents in the order they were made, as they were numbered."""
    by_doc: dict[tuple[str, str], list[Found]] = defaultdict(list)
    for f in found:
        by_doc[f.ticket, _document_name(f.path)].append(f)
    seqs: dict[str, int] = defaultdict(int)
    adopted = 0
    for (ticket, _), files in sorted(by_doc.items(), key=lambda kv: min(f.created
                                                                        for f in kv[1])):
        files.sort(key=lambda f: f.part)
        if len({f.part for f in files}) != len(files):
            problems.append(f"ticket {ticket}: several files claim the same part "
                            f"({', '.join(str(f.path) for f in files)}); not re-adopted")
            continue
        try:
            dossier = naming.check_dossier(files[0].ref) if files[0].ref != ticket else None
        except JobError:
            dossier = None
        seqs[ticket] += 1
        queue.adopt(ticket=ticket, seq=seqs[ticket], dossier=dossier,
                    doc=files[0].doc or "tài liệu", created=files[0].created,
                    files=[(f.path, _recorded(f.path)) for f in files], message=ADOPTED,
                    vi=ADOPTED_VI)
        adopted += 1
    return adopted


def _document_name(pdf: Path) -> str:
    """The file name its document's parts share (`a_part2.pdf` -> `a.pdf`), in its day folder."""
    return str(pdf.parent / re.sub(r"_part\d+(?=\.pdf$)", "", pdf.name))


def _recorded(pdf: Path) -> str:
    """The checksum the kit wrote beside the PDF (so `edge verify` still catches a changed
    file), or the file's own when that is missing."""
    try:
        return sidecar_path(pdf).read_text(encoding="ascii").split()[0]
    except (OSError, ValueError, IndexError):
        return sha256_file(pdf)
