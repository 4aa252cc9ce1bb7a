"""The field database (`<storage root>/field.db`): visits, queue numbers, survey answers and what
each visit did, in SQLite (WAL, synchronous=FULL) so a power cut loses no committed number or
answer.

Apart from the job queue on purpose: the queue is the scanners' hot path, and a visit's records
outlive the jobs (a report for last month still counts jobs whose files were purged). A job
belongs to a visit through `visit_jobs`; a citizen's queue number is linked to the dossier made
for them through `queue.ticket`. No citizen names anywhere in this database.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from edge.errors import StorageError

FILE = "field.db"
VERSION = 2  # 2: queue.last_called
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- a buổi lưu động: a place on a day, started and ended by staff (or closed by the kit)
CREATE TABLE IF NOT EXISTS visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    place TEXT NOT NULL,             -- a [[places]] name, or typed once by staff
    venue TEXT NOT NULL DEFAULT '',  -- e.g. "Nhà văn hóa thôn Đông"
    day TEXT NOT NULL,               -- the kit's local date when it started (YYYY-MM-DD)
    started REAL NOT NULL,
    ended REAL,                      -- NULL while open; at most one visit is open
    end_reason TEXT                  -- 'ended' (by staff), 'midnight', 'power' (found open later)
);
CREATE UNIQUE INDEX IF NOT EXISTS visits_one_open ON visits((ended IS NULL)) WHERE ended IS NULL;
-- numbers of a day are never reused, even after a power cut or a rolled-back issue
CREATE TABLE IF NOT EXISTS queue_days (day TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    n INTEGER NOT NULL,              -- the number on the slip and the display
    visit INTEGER REFERENCES visits(id),
    area TEXT NOT NULL,              -- 'reception' | 'digitise' | 'support'
    priority TEXT,                   -- NULL | 'merit' | 'elderly' | 'disability' | 'worker'
    procedure TEXT,                  -- what the citizen came for, if said at reception
    ticket TEXT,                     -- the dossier ticket made for this citizen, once any
    state TEXT NOT NULL,             -- 'waiting' | 'called' | 'done' | 'left'
    issued REAL NOT NULL,
    called REAL,                     -- first call (waiting time = called - issued)
    finished REAL,                   -- done or left (service time = finished - called, if done)
    last_called REAL,                -- the latest call (a recall shows the number again)
    UNIQUE (day, n)
);
CREATE INDEX IF NOT EXISTS queue_waiting ON queue(day, state, area);
-- one answer per queue number (queue NULL: an answer given without a number)
CREATE TABLE IF NOT EXISTS survey (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    visit INTEGER REFERENCES visits(id),
    queue INTEGER UNIQUE REFERENCES queue(id),
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),  -- 1 very unhappy .. 5 very happy
    better TEXT NOT NULL DEFAULT '',  -- improvement codes, comma-separated, from a fixed list
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS visit_jobs (job_id INTEGER PRIMARY KEY, visit INTEGER NOT NULL
    REFERENCES visits(id));
-- other things a visit did, counted ('slips' printed...)
CREATE TABLE IF NOT EXISTS visit_counts (visit INTEGER NOT NULL REFERENCES visits(id),
    name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (visit, name));
"""


def connect(root: Path) -> sqlite3.Connection:
    """A connection to the field database under storage `root`, made on first use; one per
    thread. Autocommit: write with `BEGIN IMMEDIATE` ... `COMMIT` (or `with conn:` after it)."""
    path = root / FILE
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(SCHEMA)
        _migrate(conn)
    except sqlite3.DatabaseError as e:
        raise StorageError(f"the field database {path} cannot be opened: {e}; move it aside "
                           "and restart the service (a new one is made)",
                           vi="Không mở được dữ liệu buổi lưu động; báo kỹ thuật viên") from None
    path.chmod(0o600)
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a database made by an older version up to VERSION (columns are only added)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    if row is not None and int(row[0]) >= VERSION:
        return
    with tx(conn):
        if "last_called" not in {r[1] for r in conn.execute("PRAGMA table_info(queue)")}:
            conn.execute("ALTER TABLE queue ADD COLUMN last_called REAL")
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (str(VERSION),))


@contextlib.contextmanager
def tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT on a connection from `connect`, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    with conn:  # commits, or rolls back on an exception
        yield conn


def rows(root: Path, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    """One read on its own connection."""
    conn = connect(root)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()
