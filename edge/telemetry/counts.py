"""Daily operations counts (jobs, pages, blank pages, receipts, bytes) for the weekly report.

Kept in the telemetry database so they survive restarts; a job counts once on the day it was first
finished, even when re-assembled later (its figures are updated, not added twice).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path

from edge.field import db, report
from edge.pipeline.job import Job
from edge.pipeline.job import State as JobState

KEEP_DAYS = 100
COUNTED = {JobState.READY: "ready", JobState.FAILED: "failed"}


def today(now: float | None = None) -> str:
    """The kit's local date: the day staff worked, as the commune reports it."""
    return dt.date.fromtimestamp(time.time() if now is None else now).isoformat()


def record_job(conn: sqlite3.Connection, job: Job, day: str) -> str | None:
    """Count a finished or failed job; returns the day whose figures changed, if any."""
    state = COUNTED.get(job.state)
    if state is None:
        return None
    row = conn.execute("SELECT day FROM counted_jobs WHERE job_id = ?", (job.id,)).fetchone()
    day = str(row[0]) if row else day
    conn.execute(
        "INSERT INTO counted_jobs (job_id, day, state, pages, blank_pages, bytes) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(job_id) DO UPDATE SET state = excluded.state, "
        "pages = excluded.pages, blank_pages = excluded.blank_pages, bytes = excluded.bytes",
        (job.id, day, state, job.pages, job.blank_pages, job.bytes))
    if row is None:
        old = (dt.date.fromisoformat(day) - dt.timedelta(days=KEEP_DAYS)).isoformat()
        conn.execute("DELETE FROM counted_jobs WHERE day < ?", (old,))
        conn.execute("DELETE FROM counts WHERE day < ?", (old,))
    return day


def add(conn: sqlite3.Connection, day: str, name: str, n: int = 1) -> None:
    """Add to a counter that is not a job's (receipts printed...)."""
    conn.execute("INSERT INTO counts (day, name, value) VALUES (?, ?, ?) ON CONFLICT(day, name) "
                 "DO UPDATE SET value = value + excluded.value", (day, name, n))


def totals(conn: sqlite3.Connection, day: str) -> dict[str, int]:
    jobs, failed, pages, blank, size = conn.execute(
        "SELECT COUNT(*) FILTER (WHERE state = 'ready'), COUNT(*) FILTER (WHERE state = 'failed'),"
        " TOTAL(pages) FILTER (WHERE state = 'ready'),"
        " TOTAL(blank_pages) FILTER (WHERE state = 'ready'),"
        " TOTAL(bytes) FILTER (WHERE state = 'ready') FROM counted_jobs WHERE day = ?",
        (day,)).fetchone()
    out = {"jobs": int(jobs), "jobs_failed": int(failed), "pages": int(pages),
           "blank_pages": int(blank), "bytes": int(size)}
    for name, value in conn.execute("SELECT name, value FROM counts WHERE day = ?", (day,)):
        out[str(name)] = out.get(str(name), 0) + int(value)
    return out


def visits(root: Path, conn: sqlite3.Connection, day: str) -> list[dict[str, object]]:
    """The day's visits (docs/telemetry.md, `visits`): numbers, times and survey tallies from
    field.db, pages from the jobs counted here. No place is personal; no ticket, no name."""
    if not (root / db.FILE).exists():
        return []
    field = db.connect(root)
    try:
        return [_visit(conn, field, v) for v in report.visits_of_day(field, day)]
    finally:
        field.close()


def _visit(conn: sqlite3.Connection, field: sqlite3.Connection, v: report.Visit
           ) -> dict[str, object]:
    f, _, job_ids = report.numbers(field, [v.id])
    marks = ",".join("?" * len(job_ids))
    jobs, pages = conn.execute(f"SELECT COUNT(*), TOTAL(pages) FROM counted_jobs WHERE state = "
                               f"'ready' AND job_id IN ({marks})", job_ids).fetchone()
    t = f.tally
    return {"visit": v.id, "place": v.place, "started": v.started, "ended": v.ended,
            "served": f.served, "served_priority": f.served_priority, "left": f.left,
            "jobs": int(jobs), "pages": int(pages), "slips": f.slips,
            "waiting_median_s": _s(report.median(f.waits)),
            "waiting_p90_s": _s(report.p90(f.waits)),
            "service_median_s": _s(report.median(f.services)),
            "service_p90_s": _s(report.p90(f.services)),
            "survey_answers": t.answers, "survey_satisfied": t.satisfied,
            "survey_scores": {str(s): n for s, n in t.scores.items()}}


def _s(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds)
