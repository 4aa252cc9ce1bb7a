"""What should be at every target: each finished file of a dossier, its `.sha256` and the
dossier's `manifest.json`, laid out as `<kit>/<YYYY-MM-DD>/<dossier code or ticket>/`.

The day is the one the dossier was begun, so all its documents share one folder; the folder and
file names follow the dossier's code once it has one (a rename after delivery moves them). A
dossier with a purged document is left as it is at the destination: what was delivered stays.
The manifest holds no citizen names: ticket, code, document types, pages, checksums, times.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from edge.delivery.store import Item
from edge.pipeline.job import HAS_PDF, Job
from edge.pipeline.queue import Queue
from edge.pipeline.storage import sidecar_text

MANIFEST = "manifest.json"


def plan(queue: Queue, kit: str) -> tuple[list[Item], set[str]]:
    """(every item that should be delivered, the tickets they cover)."""
    by_ticket: dict[str, list[Job]] = {}
    for job in queue.jobs(HAS_PDF):
        by_ticket.setdefault(job.ticket, []).append(job)
    items: list[Item] = []
    tickets: set[str] = set()
    for ticket, jobs in by_ticket.items():
        if any(j.purged for j in jobs):
            continue
        jobs.sort(key=lambda j: (j.seq, j.id))
        items += dossier_items(kit, jobs)
        tickets.add(ticket)
    return items, tickets


def folder(kit: str, jobs: list[Job]) -> str:
    """`<kit>/<day begun>/<ref>` of a dossier (its jobs)."""
    first = min(jobs, key=lambda j: j.created)
    day = dt.date.fromtimestamp(first.created).isoformat()
    ref = next((j.dossier for j in jobs if j.dossier), None) or first.ticket
    return f"{kit}/{day}/{ref}"


def dossier_items(kit: str, jobs: list[Job]) -> list[Item]:
    base = folder(kit, jobs)
    out: list[Item] = []
    for job in jobs:
        for f in job.files:
            name = Path(f.path).name
            side = sidecar_text(Path(name), f.sha256)
            out.append(Item(f"{base}/{name}", f.sha256, f.bytes, job.ticket, job.id,
                            source=f.path))
            out.append(_body(f"{base}/{name}.sha256", side, job.ticket, job.id))
    out.append(_body(f"{base}/{MANIFEST}", manifest(kit, jobs), jobs[0].ticket, None))
    return out


def manifest(kit: str, jobs: list[Job]) -> bytes:
    """The dossier's manifest: the same bytes for the same dossier (no time of writing)."""
    body = {"kit": kit, "ticket": jobs[0].ticket,
            "code": next((j.dossier for j in jobs if j.dossier), None),
            "documents": [{"seq": j.seq, "doc": j.doc, "pages": j.pages,
                           "created": _iso(j.created), "finished": _iso(j.updated),
                           "files": [{"name": Path(f.path).name, "sha256": f.sha256,
                                      "bytes": f.bytes} for f in j.files]} for j in jobs]}
    return (json.dumps(body, ensure_ascii=False, indent=1) + "\n").encode()


def _body(path: str, body: bytes, ticket: str, job_id: int | None) -> Item:
    return Item(path, hashlib.sha256(body).hexdigest(), len(body), ticket, job_id, body=body)


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")
