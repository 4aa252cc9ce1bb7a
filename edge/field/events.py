"""Telemetry events of a visit (`visit/started`, `visit/ended`): the place and the visit's
numbers, so the commune server sees the day as it happens. Never a ticket or a name; a
telemetry problem never fails the visit."""

from __future__ import annotations

import contextlib

from edge import config
from edge.errors import EdgeError
from edge.field import queue, visits
from edge.telemetry.service import for_process


def totals(cfg: config.Config, visit_id: int) -> dict[str, int]:
    entries = queue.of_visit(cfg.storage.root, visit_id)
    served = [e for e in entries if e.state == "done"]
    return {"issued": len(entries), "served": len(served),
            "served_priority": sum(bool(e.priority) for e in served),
            "left": sum(e.state == "left" for e in entries),
            "slips": visits.counts(cfg.storage.root, visit_id).get("slips", 0)}


def started(cfg: config.Config, visit: visits.Visit) -> None:
    _send(cfg, "visit/started", {"visit": visit.id, "place": visit.place})


def ended(cfg: config.Config, visit: visits.Visit) -> None:
    _send(cfg, "visit/ended", {"visit": visit.id, "place": visit.place,
                               "reason": visit.end_reason or "ended", **totals(cfg, visit.id)})


def _send(cfg: config.Config, kind: str, data: dict[str, object]) -> None:
    with contextlib.suppress(EdgeError):
        for_process(cfg).event(kind, data)
