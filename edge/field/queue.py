"""The citizens' queue of a visit: numbers issued at reception, called per area (priority
groups first, then order of arrival), served or left.

A number is the citizen's ticket for the day. Numbers of a day come from `queue_days` in the
same transaction as the entry, committed durably before the slip prints: a power cut never loses
an issued number, and a day's numbers are never given twice.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from edge.errors import NotFound, StateConflict
from edge.field import db, visits

AREAS = ("reception", "digitise", "support")
PRIORITIES = ("merit", "elderly", "disability", "worker")
STATES = ("waiting", "called", "done", "left")
MAX_PROCEDURE = 150
MAX_TICKET = 64
TEMPLATE = "queue"  # the receipt template of a queue number (edge/receipts/templates)
MAX_ID = 2**63  # SQLite's integers are 64-bit signed


@dataclass(frozen=True)
class Entry:
    id: int
    day: str
    n: int
    visit: int | None
    area: str
    priority: str | None
    procedure: str | None
    ticket: str | None
    state: str
    issued: float
    called: float | None
    finished: float | None
    last_called: float | None

    @classmethod
    def of(cls, row: sqlite3.Row) -> Entry:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _check(value: str | None, allowed: tuple[str, ...], what: str, vi: str) -> None:
    if value not in allowed:
        raise visits.VisitError(f"{what} {str(value)[:40]!r}: one of {', '.join(allowed)}",
                                vi=f"{vi} không hợp lệ")


def issue(root: Path, area: str, priority: str | None = None, procedure: str | None = None,
          now: float | None = None) -> Entry:
    """The next number of the day for `area`, part of the open visit (refused when none is)."""
    now = time.time() if now is None else now
    _check(area, AREAS, "area", "Khu vực")
    if priority is not None:
        _check(priority, PRIORITIES, "priority", "Nhóm ưu tiên")
    procedure = visits.clean_text(procedure or "", MAX_PROCEDURE, "procedure", "Thủ tục") or None
    visit = visits.current(root, now)
    if visit is None:
        raise StateConflict("no visit is open: start one first (edge visit start --place NAME)",
                            vi="Chưa bắt đầu buổi lưu động. Hãy bắt đầu buổi trước khi cấp số.")
    day = visits.day_of(now)
    conn = db.connect(root)
    try:
        with db.tx(conn):
            n = conn.execute("INSERT INTO queue_days VALUES (?, 1) ON CONFLICT (day) DO UPDATE "
                             "SET n = n + 1 RETURNING n", (day,)).fetchone()[0]
            cur = conn.execute(
                "INSERT INTO queue(day, n, visit, area, priority, procedure, state, issued) "
                "VALUES (?, ?, ?, ?, ?, ?, 'waiting', ?)",
                (day, n, visit.id, area, priority, procedure, now))
        return _get(conn, int(cur.lastrowid or 0))
    finally:
        conn.close()


def _get(conn: sqlite3.Connection, entry_id: int) -> Entry:
    row = conn.execute("SELECT * FROM queue WHERE id = ?", (entry_id,)).fetchone() \
        if 0 < entry_id < MAX_ID else None  # past SQLite's integers: no such number either
    if row is None:
        raise NotFound(f"no queue number with id {entry_id}",
                       vi="Không tìm thấy số thứ tự này")
    return Entry.of(row)


def get(root: Path, entry_id: int) -> Entry:
    conn = db.connect(root)
    try:
        return _get(conn, entry_id)
    finally:
        conn.close()


def find(root: Path, n: int, now: float | None = None) -> Entry:
    """Today's number `n`."""
    conn = db.connect(root)
    try:
        row = conn.execute("SELECT id FROM queue WHERE day = ? AND n = ?",
                           (visits.day_of(time.time() if now is None else now), n)).fetchone()
        if row is None:
            raise NotFound(f"no number {n} today", vi=f"Hôm nay không có số {n}")
        return _get(conn, row["id"])
    finally:
        conn.close()


# priority groups first (any group), then the order of arrival
ORDER = "(priority IS NULL), n"


def call_next(root: Path, area: str, now: float | None = None) -> Entry | None:
    """Call the next citizen waiting for `area` today; None when nobody waits."""
    now = time.time() if now is None else now
    _check(area, AREAS, "area", "Khu vực")
    conn = db.connect(root)
    try:
        with db.tx(conn):
            row = conn.execute(f"SELECT id FROM queue WHERE day = ? AND area = ? AND state = "
                               f"'waiting' ORDER BY {ORDER} LIMIT 1",
                               (visits.day_of(now), area)).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE queue SET state = 'called', called = ?, last_called = ? "
                         "WHERE id = ?", (now, now, row["id"]))
        return _get(conn, row["id"])
    finally:
        conn.close()


def _move(root: Path, entry_id: int, states: tuple[str, ...], sql: str, args: tuple[object, ...],
          en: str, vi: str) -> Entry:
    conn = db.connect(root)
    try:
        with db.tx(conn):
            entry = _get(conn, entry_id)
            if entry.state not in states:
                raise StateConflict(f"number {entry.n} is {entry.state}: {en}",
                                    vi=f"Số {entry.n} {vi}")
            conn.execute(f"UPDATE queue SET {sql} WHERE id = ?", (*args, entry_id))
        return _get(conn, entry_id)
    finally:
        conn.close()


def recall(root: Path, entry_id: int, now: float | None = None) -> Entry:
    """Call a called number again (the display shows it again)."""
    return _move(root, entry_id, ("called",), "last_called = ?",
                 (time.time() if now is None else now,), "only a called number is called again",
                 "chưa được gọi hoặc đã xong, không gọi lại được")


def done(root: Path, entry_id: int, now: float | None = None) -> Entry:
    """The citizen was served."""
    return _move(root, entry_id, ("called",), "state = 'done', finished = ?",
                 (time.time() if now is None else now,), "only a called number is served",
                 "chưa được gọi hoặc đã xong")


def left(root: Path, entry_id: int, now: float | None = None) -> Entry:
    """The citizen went away before being served (waiting or called)."""
    return _move(root, entry_id, ("waiting", "called"), "state = 'left', finished = ?",
                 (time.time() if now is None else now,), "it is finished already",
                 "đã xong hoặc đã rời đi")


def link_ticket(root: Path, entry_id: int, ticket: str) -> Entry:
    """The dossier made for this citizen: its ticket, for the report and the dossier page."""
    if not ticket or len(ticket) > MAX_TICKET:
        raise visits.VisitError("ticket: 1-64 characters", vi="Số phiếu không hợp lệ")
    return _move(root, entry_id, STATES, "ticket = ?", (ticket,), "", "")


def number_of(root: Path, ticket: str) -> int | None:
    """The queue number linked to dossier `ticket`, if any (shown with the dossier)."""
    found = db.rows(root, "SELECT n FROM queue WHERE ticket = ? ORDER BY id DESC LIMIT 1",
                    (ticket,))
    return found[0]["n"] if found else None


def listing(root: Path, states: tuple[str, ...], area: str | None = None,
            now: float | None = None) -> list[Entry]:
    """Today's numbers in `states` (for `area`, or all), in calling order for waiting ones,
    most recently called first for called ones, else by number."""
    day = visits.day_of(time.time() if now is None else now)
    order = {("waiting",): ORDER, ("called",): "last_called DESC"}.get(states, "n")
    marks = ", ".join("?" * len(states))
    where = f"day = ? AND state IN ({marks})" + (" AND area = ?" if area else "")
    return [Entry.of(r) for r in db.rows(root, f"SELECT * FROM queue WHERE {where} ORDER BY "
                                         f"{order}", (day, *states, *([area] if area else [])))]


def of_visit(root: Path, visit_id: int) -> list[Entry]:
    """Every number of a visit, in order."""
    return [Entry.of(r) for r in db.rows(root, "SELECT * FROM queue WHERE visit = ? ORDER BY "
                                         "day, n", (visit_id,))]


def waiting(root: Path, area: str | None = None, now: float | None = None) -> list[Entry]:
    return listing(root, ("waiting",), area, now)


def called(root: Path, area: str | None = None, now: float | None = None) -> list[Entry]:
    return listing(root, ("called",), area, now)
