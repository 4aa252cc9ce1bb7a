"""Visits (buổi lưu động): a place on a day, started and ended by staff, that the day's queue
numbers, jobs, slips and survey answers belong to.

At most one visit is open. One left open by a power cut or past midnight is closed when it is
next looked at (`current`), at its last activity or at the end of its day, never lost; jobs a
crash left unattached are attached again from their creation time (`attach_missed`).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edge import config
from edge.errors import EdgeError, JobError, StateConflict
from edge.field import db

log = logging.getLogger(__name__)
MAX_PLACE = 80
MAX_VENUE = 120


class VisitError(JobError):
    """A visit cannot be started or ended as asked (none open, one open already, a bad place)."""


@dataclass(frozen=True)
class Visit:
    id: int
    place: str
    venue: str
    day: str
    started: float
    ended: float | None
    end_reason: str | None

    @classmethod
    def of(cls, row: sqlite3.Row) -> Visit:
        return cls(row["id"], row["place"], row["venue"], row["day"], row["started"],
                   row["ended"], row["end_reason"])

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "place": self.place, "venue": self.venue, "day": self.day,
                "started": self.started, "ended": self.ended, "end_reason": self.end_reason}


def day_of(now: float) -> str:
    """The kit's local date of a Unix time, as the visit's and the queue's day."""
    return dt.datetime.fromtimestamp(now).date().isoformat()


def end_of_day(day: str) -> float:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59)).timestamp()


def clean_text(value: str, limit: int, what: str, vi: str) -> str:
    """A place or venue as typed: spaces collapsed, NFC, no control characters, not too long."""
    text = unicodedata.normalize("NFC", " ".join(str(value).split()))
    if any(unicodedata.category(c) == "Cc" for c in text) or len(text) > limit:
        raise VisitError(f"{what}: at most {limit} printable characters",
                         vi=f"{vi}: tối đa {limit} ký tự")
    return text


def start(root: Path, place: str, venue: str = "", now: float | None = None) -> Visit:
    """Open a visit at `place` (refused while another is open: end it first)."""
    now = time.time() if now is None else now
    place = clean_text(place, MAX_PLACE, "place", "Tên thôn, tổ dân phố")
    venue = clean_text(venue, MAX_VENUE, "venue", "Địa điểm")
    if not place:
        raise VisitError("a visit needs a place: --place NAME (a [[places]] name, or typed)",
                         vi="Hãy chọn hoặc nhập thôn, tổ dân phố của buổi lưu động")
    is_open = current(root, now)
    if is_open:
        raise StateConflict(
            f"visit {is_open.id} at {is_open.place} is still open: end it first (edge visit end)",
            vi=f"Buổi lưu động tại {is_open.place} chưa kết thúc. Hãy kết thúc buổi đó trước.")
    conn = db.connect(root)
    try:
        with db.tx(conn):
            cur = conn.execute("INSERT INTO visits(place, venue, day, started) VALUES (?, ?, ?, ?)",
                               (place, venue, day_of(now), now))
        return get(root, int(cur.lastrowid or 0), conn)
    finally:
        conn.close()


def end(root: Path, now: float | None = None, reason: str = "ended") -> Visit:
    """Close the open visit (refused when none is open); its numbers not served are 'left'."""
    now = time.time() if now is None else now
    visit = current(root, now)
    if visit is None:
        raise StateConflict("no visit is open", vi="Không có buổi lưu động nào đang diễn ra")
    conn = db.connect(root)
    try:
        with db.tx(conn):  # numbers still waiting or called were not served: they left
            conn.execute("UPDATE queue SET state = 'left', finished = ? WHERE visit = ? AND "
                         "state IN ('waiting', 'called')", (max(now, visit.started), visit.id))
            conn.execute("UPDATE visits SET ended = ?, end_reason = ? WHERE id = ?",
                         (max(now, visit.started), reason, visit.id))
        return get(root, visit.id, conn)
    finally:
        conn.close()


def current(root: Path, now: float | None = None, stale: str = "midnight") -> Visit | None:
    """The open visit of today, if any. One open from an earlier day is closed first: `stale`
    'midnight' (the service saw the day change: ended 23:59:59 of its day) or 'power' (found
    at start after a power cut: ended at its last activity)."""
    now = time.time() if now is None else now
    conn = db.connect(root)
    try:
        row = conn.execute("SELECT * FROM visits WHERE ended IS NULL").fetchone()
        if row is None:
            return None
        visit = Visit.of(row)
        if visit.day >= day_of(now):
            return visit
        ended = end_of_day(visit.day) if stale == "midnight" else _last_activity(conn, visit)
        with db.tx(conn):
            conn.execute("UPDATE visits SET ended = ?, end_reason = ? WHERE id = ? AND ended "
                         "IS NULL", (ended, stale, visit.id))
        return None
    finally:
        conn.close()


def open_at(conn: sqlite3.Connection, t: float) -> int | None:
    """The id of the visit that was open at time `t`, if any."""
    row = conn.execute("SELECT id FROM visits WHERE started <= ? AND (ended IS NULL OR "
                       "ended >= ?) ORDER BY started DESC LIMIT 1", (t, t)).fetchone()
    return int(row["id"]) if row else None


def _last_activity(conn: sqlite3.Connection, visit: Visit) -> float:
    row = conn.execute(
        "SELECT MAX(t) FROM (SELECT MAX(issued) t FROM queue WHERE visit = :v "
        "UNION ALL SELECT MAX(called) FROM queue WHERE visit = :v "
        "UNION ALL SELECT MAX(finished) FROM queue WHERE visit = :v "
        "UNION ALL SELECT MAX(at) FROM survey WHERE visit = :v)", {"v": visit.id}).fetchone()
    last = row[0] if row and row[0] is not None else visit.started
    return min(max(last, visit.started), end_of_day(visit.day))


def get(root: Path, visit_id: int, conn: sqlite3.Connection | None = None) -> Visit:
    own = conn is None
    conn = conn or db.connect(root)
    try:
        row = conn.execute("SELECT * FROM visits WHERE id = ?", (visit_id,)).fetchone()
    finally:
        if own:
            conn.close()
    if row is None:
        raise VisitError(f"no visit {visit_id}", vi=f"Không có buổi lưu động số {visit_id}")
    return Visit.of(row)


def places(cfg: config.Config) -> list[config.Place]:
    """The configured places, then those typed at earlier visits (remembered), newest first."""
    known = {p.name for p in cfg.places}
    typed = [config.Place(r["place"], r["venue"]) for r in db.rows(
        cfg.storage.root, "SELECT place, venue FROM visits GROUP BY place ORDER BY MAX(id) DESC "
        "LIMIT 50") if r["place"] not in known]
    return [*cfg.places, *typed]


def attach_job(root: Path, job_id: int, now: float | None = None) -> int | None:
    """Make the new job `job_id` part of the open visit (if one is): returns the visit's id.
    Never fails the job: one not attached now is attached by `recover` at the next start."""
    try:
        visit = current(root, now)
        if visit is None:
            return None
        conn = db.connect(root)
        try:
            with db.tx(conn):
                conn.execute("INSERT OR IGNORE INTO visit_jobs VALUES (?, ?)", (job_id, visit.id))
        finally:
            conn.close()
    except (EdgeError, sqlite3.Error) as e:
        log.warning("job %d not attached to the visit yet (done at the next start): %s",
                    job_id, e)
        return None
    return visit.id


def recover(root: Path, jobs: Iterable[tuple[int, float]], now: float | None = None) -> None:
    """At the service's start: close a visit a power cut left open on an earlier day, and
    attach the jobs (id, created) a crash left out of their visit."""
    current(root, now, stale="power")
    if n := attach_missed(root, jobs, now):
        log.info("%d job(s) attached to their visit after a restart", n)


def attach_missed(root: Path, jobs: Iterable[tuple[int, float]], now: float | None = None) -> int:
    """Attach jobs (id, created) made inside a visit's time window that a crash left out; the
    number attached."""
    now = time.time() if now is None else now
    conn = db.connect(root)
    try:
        windows = [(r["id"], r["started"], r["ended"] if r["ended"] is not None else now)
                   for r in conn.execute("SELECT id, started, ended FROM visits")]
        rows = [(job, v) for job, created in jobs for v, a, b in windows if a <= created <= b]
        with db.tx(conn):
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO visit_jobs VALUES (?, ?)", rows)
            return conn.total_changes - before
    finally:
        conn.close()


def count(root: Path, name: str, n: int = 1, now: float | None = None) -> None:
    """Add `n` to the open visit's count `name` ('slips' when a slip prints); none open: nothing."""
    visit = current(root, now)
    if visit is None:
        return
    conn = db.connect(root)
    try:
        with db.tx(conn):
            conn.execute("INSERT INTO visit_counts VALUES (?, ?, ?) ON CONFLICT (visit, name) "
                         "DO UPDATE SET value = value + excluded.value", (visit.id, name, n))
    finally:
        conn.close()


def counts(root: Path, visit_id: int) -> dict[str, int]:
    return {r["name"]: r["value"] for r in db.rows(
        root, "SELECT name, value FROM visit_counts WHERE visit = ?", (visit_id,))}
