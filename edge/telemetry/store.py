"""The kit's telemetry database, `<storage root>/telemetry.db`: outbox, sequence numbers, counts.

Separate from the job queue so that telemetry can never lock or damage it. SQLite in WAL mode;
one connection per thread (thread-local, like the queue's one-per-thread rule); files 0600.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edge.pipeline.queue import immediate
from edge.telemetry import TelemetryError

DB_NAME = "telemetry.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,            -- event, counts, metrics
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_kind ON outbox(kind, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counts (
    day TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (day, name));
CREATE TABLE IF NOT EXISTS counted_jobs (
    job_id INTEGER PRIMARY KEY, day TEXT NOT NULL, state TEXT NOT NULL, pages INTEGER NOT NULL,
    blank_pages INTEGER NOT NULL, bytes INTEGER NOT NULL);
"""


class Store:
    """Connections to the telemetry database; `synchronous` is FULL for what must survive a power
    cut (events, counts), NORMAL for the publisher's deletions (a lost one is a duplicate)."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous
        self._local = threading.local()
        self._create()

    def _create(self) -> None:
        """Make the file 0600 before SQLite does. Never open a descriptor on an existing one:
        closing it would drop this process's SQLite locks on the file (POSIX advisory locks are
        per process), and another connection could then delete the live WAL under us."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                with contextlib.suppress(FileExistsError):
                    os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            self.path.chmod(0o600)  # SQLite gives the -wal and -shm files the same mode
        except OSError as e:
            raise self.error(e) from None

    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                   check_same_thread=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA wal_autocheckpoint=100")
            conn.execute("PRAGMA journal_size_limit=1048576")
            conn.executescript(SCHEMA)
            return conn
        except sqlite3.Error as e:
            raise self.error(e) from None

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so it cannot deadlock."""
        try:
            with immediate(self.conn()) as conn:
                yield conn
        except sqlite3.Error as e:
            raise self.error(e) from None

    def read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        try:
            return self.conn().execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise self.error(e) from None

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def error(self, e: Exception) -> TelemetryError:
        return TelemetryError(f"telemetry database {self.path}: {e}",
                              hint="delete it to start afresh (undelivered events are lost)")


def meta(conn: sqlite3.Connection, key: str, default: str = "") -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else default


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
