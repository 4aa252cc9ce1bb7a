"""The JSON payloads the kit publishes, built in one place so the schemas have one source.

Every payload carries `v` (the schema version: bump it on any incompatible change), `ts` (Unix
time of the kit's clock, which may be wrong after a power cut without network: `clock_synced`
says whether it was synchronised), `kit` and `site`. Nothing personal goes in: job events carry
numbers, never the document type; the ticket and dossier code only with allow_dossier_codes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from edge import __version__
from edge.health import Health
from edge.pipeline.job import Job
from edge.pipeline.job import State as JobState
from edge.telemetry.topics import device_id

SCHEMA_VERSION = 1
JOB_EVENTS = {JobState.READY: "job/ready", JobState.FAILED: "job/failed",
              JobState.PAUSED: "job/paused"}
COUNT_NAMES = ("jobs", "jobs_failed", "pages", "blank_pages", "receipts", "bytes",
               "delivered_files", "delivered_bytes")


@dataclass
class Source:
    """Who speaks: the kit, its site, and whether its clock is known to be right."""

    kit: str
    site: str
    clock_synced: bool | None = None


def envelope(src: Source, now: float | None = None, **fields: object) -> dict[str, object]:
    return {"v": SCHEMA_VERSION, "ts": round(time.time() if now is None else now, 3),
            "kit": src.kit, "site": src.site, "clock_synced": src.clock_synced, **fields}


def encode(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def status(src: Source, online: bool, reason: str, now: float | None = None) -> dict[str, object]:
    """`reason`: connected, stopped (clean stop) or lost (the last will, sent by the broker);
    `version`: the running release (`edge --version`), so the commune sees which kits are behind."""
    return envelope(src, now, status="online" if online else "offline", reason=reason,
                    version=__version__)


def state(src: Source, health: Health) -> dict[str, object]:
    return envelope(src, device=device_id(health.kind, health.name), **health.summary())


def event(src: Source, stream: str, seq: int, type_: str, data: dict[str, object],
          now: float | None = None) -> dict[str, object]:
    return envelope(src, now, stream=stream, seq=seq, type=type_, data=data)


def job_data(job: Job, allow_codes: bool) -> dict[str, object]:
    """What a job event says: numbers only, unless the config allows the codes."""
    data: dict[str, object] = {
        "job": job.id, "scanner": job.scanner, "state": str(job.state), "pages": job.pages,
        "blank_pages": job.blank_pages, "files": len(job.files), "bytes": job.bytes}
    if allow_codes:
        data["ticket"] = job.ticket
        if job.dossier:
            data["dossier"] = job.dossier
    return data


def device_data(health: Health) -> dict[str, object]:
    """What a device lost/found event says."""
    return {"device": device_id(health.kind, health.name), "kind": health.kind,
            "name": health.name, "state": str(health.state),
            "problems": [p.code for p in health.problems]}


def metrics(src: Source, healths: list[Health], outbox: dict[str, object],
            uptime: float) -> dict[str, object]:
    """Periodic figures: every device's metric values (units are in its state topic)."""
    devices = {device_id(h.kind, h.name): {"state": str(h.state),
                                           **{k: m.value for k, m in h.metrics.items()}}
               for h in healths}
    return envelope(src, uptime=round(uptime, 1), outbox=outbox, devices=devices)


def counts(src: Source, day: str, totals: dict[str, int],
           visits: list[dict[str, object]] | None = None) -> dict[str, object]:
    """The day's operations figures for the commune's weekly report; `visits` (issue 18) only
    on a day with visits."""
    extra: dict[str, object] = {"visits": visits} if visits else {}
    return envelope(src, day=day, **{name: int(totals.get(name, 0)) for name in COUNT_NAMES},
                    **extra)
