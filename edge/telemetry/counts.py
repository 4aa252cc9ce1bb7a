"""Daily operations counts (jobs, pages, blank pages, receipts, bytes) for the weekly report.

Kept in the telemetry database so they survive restarts; a job counts once on the day it was first
finished, even when re-assembled later (its figures are updated, not added twice).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time

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
