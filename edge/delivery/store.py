"""The durable delivery queue: `<storage root>/delivery.db` (SQLite, WAL, synchronous=FULL).

One row per (target, remote path): what should be there (`wanted`), what is there and verified
(`delivered`), or what a rename left behind and must go (`stale`). A row becomes `delivered` only
in a transaction after the destination's checksum matched, so a power cut at any moment means at
worst the files of the last few seconds copied again (to the same names), never one counted that
is not there. Per target, the backoff
after a failure and the bytes sent each day (the budget) live here too.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from edge.pipeline.queue import connect, immediate

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    target TEXT NOT NULL,
    path TEXT NOT NULL,            -- at the destination, relative to the target's root
    state TEXT NOT NULL,           -- wanted, delivered, stale
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    source TEXT,                   -- the outbox file, or NULL when `body` is the content
    body BLOB,                     -- a sidecar's or manifest's bytes
    ticket TEXT NOT NULL,
    job_id INTEGER,                -- NULL for a dossier's manifest
    since REAL NOT NULL,           -- wanted since (the age of the oldest undelivered file)
    delivered REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (target, path)
);
CREATE INDEX IF NOT EXISTS items_ticket ON items(ticket, target);
CREATE TABLE IF NOT EXISTS targets (
    target TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    error_vi TEXT NOT NULL DEFAULT '',
    waiting TEXT NOT NULL DEFAULT ''  -- why nothing is sent now (window, link, budget)
);
CREATE TABLE IF NOT EXISTS sent (
    target TEXT NOT NULL,
    day TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    files INTEGER NOT NULL,
    PRIMARY KEY (target, day)
);
"""
DB_NAME = "delivery.db"


@dataclass(frozen=True)
class Item:
    """One file that should be at a target's `path`."""

    path: str
    sha256: str
    bytes: int
    ticket: str
    job_id: int | None
    source: str | None = None
    body: bytes | None = None


@dataclass(frozen=True)
class Row:
    target: str
    path: str
    state: str
    sha256: str
    bytes: int
    source: str | None
    body: bytes | None
    ticket: str
    job_id: int | None
    since: float
    delivered: float | None
    attempts: int
    next_try: float
    error: str

    @property
    def item(self) -> Item:
        return Item(self.path, self.sha256, self.bytes, self.ticket, self.job_id, self.source,
                    self.body)


@dataclass(frozen=True)
class TargetState:
    target: str
    attempts: int = 0
    next_try: float = 0.0
    error: str = ""
    error_vi: str = ""
    waiting: str = ""


class Store:
    """One connection to delivery.db; one per thread."""

    def __init__(self, root: Path) -> None:
        self.path = root / DB_NAME
        self.conn = connect(self.path)
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return immediate(self.conn)

    def rows(self, target: str | None = None, state: str | None = None,
             ticket: str | None = None) -> list[Row]:
        where, args = [], []
        for column, value in (("target", target), ("state", state), ("ticket", ticket)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = "SELECT * FROM items" + (f" WHERE {' AND '.join(where)}" if where else "")
        return [Row(**dict(r)) for r in self.conn.execute(sql + " ORDER BY since, path", args)]

    def reconcile(self, target: str, wanted: list[Item], tickets: set[str],
                  now: float | None = None) -> None:
        """Make the target's rows say what should be there: new or changed items wanted, those
        of `tickets` (the dossiers planned) no longer wanted made stale, in one transaction."""
        now = time.time() if now is None else now
        paths = {i.path for i in wanted}
        with self.tx() as c:
            for i in wanted:
                row = c.execute("SELECT state, sha256 FROM items WHERE target = ? AND path = ?",
                                (target, i.path)).fetchone()
                if row is None:
                    c.execute("INSERT INTO items(target, path, state, sha256, bytes, source, "
                              "body, ticket, job_id, since) VALUES (?, ?, 'wanted', ?, ?, ?, ?, "
                              "?, ?, ?)", (target, i.path, i.sha256, i.bytes, i.source, i.body,
                                           i.ticket, i.job_id, now))
                elif row["sha256"] != i.sha256 or row["state"] == "stale":
                    c.execute("UPDATE items SET state = 'wanted', sha256 = ?, bytes = ?, "
                              "source = ?, body = ?, ticket = ?, job_id = ?, since = ?, "
                              "attempts = 0, next_try = 0, error = '' WHERE target = ? AND "
                              "path = ?", (i.sha256, i.bytes, i.source, i.body, i.ticket,
                                           i.job_id, now, target, i.path))
                else:  # the outbox name may differ (a local rename to the same remote name)
                    c.execute("UPDATE items SET source = ? WHERE target = ? AND path = ?",
                              (i.source, target, i.path))
            for ticket in tickets:
                for r in c.execute("SELECT path FROM items WHERE target = ? AND ticket = ? AND "
                                   "state != 'stale'", (target, ticket)).fetchall():
                    if r["path"] not in paths:
                        c.execute("UPDATE items SET state = 'stale', attempts = 0, next_try = 0,"
                                  " error = '' WHERE target = ? AND path = ?",
                                  (target, r["path"]))

    def delivered(self, target: str, done: list[tuple[str, str, int]],
                  now: float | None = None) -> None:
        """Files verified at their place, as (path, sha256, bytes the transfer cost): record
        them, and today's bytes, in one transaction (one fsync for many small files)."""
        now = time.time() if now is None else now
        with self.tx() as c:
            for path, sha256, sent in done:
                c.execute("UPDATE items SET state = 'delivered', delivered = ?, attempts = 0, "
                          "next_try = 0, error = '' WHERE target = ? AND path = ? AND "
                          "sha256 = ?", (now, target, path, sha256))
                self._sent(c, target, sent, 1, now)

    def gone(self, target: str, path: str) -> None:
        """A stale file was deleted (or moved away) at the destination."""
        with self.tx() as c:
            c.execute("DELETE FROM items WHERE target = ? AND path = ? AND state = 'stale'",
                      (target, path))

    def count_sent(self, target: str, sent: int, now: float | None = None) -> None:
        with self.tx() as c:
            self._sent(c, target, sent, 0, time.time() if now is None else now)

    def _sent(self, c: sqlite3.Connection, target: str, sent: int, files: int,
              now: float) -> None:
        c.execute("INSERT INTO sent(target, day, bytes, files) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT(target, day) DO UPDATE SET bytes = bytes + excluded.bytes, "
                  "files = files + excluded.files", (target, _day(now), sent, files))

    def sent_on(self, target: str, now: float | None = None) -> tuple[int, int]:
        """(bytes, files) sent to the target on the local day of `now`."""
        row = self.conn.execute("SELECT bytes, files FROM sent WHERE target = ? AND day = ?",
                                (target, _day(time.time() if now is None else now))).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def item_failed(self, target: str, path: str, error: str, next_try: float) -> None:
        with self.tx() as c:
            c.execute("UPDATE items SET attempts = attempts + 1, next_try = ?, error = ? "
                      "WHERE target = ? AND path = ?", (next_try, error, target, path))

    def target(self, target: str) -> TargetState:
        row = self.conn.execute("SELECT * FROM targets WHERE target = ?", (target,)).fetchone()
        return TargetState(**dict(row)) if row else TargetState(target)

    def set_target(self, state: TargetState) -> None:
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO targets(target, attempts, next_try, error, "
                      "error_vi, waiting) VALUES (?, ?, ?, ?, ?, ?)",
                      (state.target, state.attempts, state.next_try, state.error,
                       state.error_vi, state.waiting))

    def retry_now(self, target: str | None = None) -> int:
        """Forget the backoff: try again at the next pass. Returns the rows concerned."""
        with self.tx() as c:
            only, args = (" AND target = ?", (target,)) if target else ("", ())
            c.execute("UPDATE targets SET next_try = 0 WHERE 1" + only, args)
            cur = c.execute("UPDATE items SET next_try = 0 WHERE state != 'delivered'" + only,
                            args)
            return cur.rowcount


def _day(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(t))
