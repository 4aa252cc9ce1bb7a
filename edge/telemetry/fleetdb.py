"""The commune server's record of every kit: status, latest states, metrics, counts, all events.

SQLite (WAL, synchronous=FULL: a message is acknowledged to the broker only once it is stored
here). Events are unique by (kit, stream, seq), so a redelivered event is stored once; a day's
counts keep the newest figure by the kit's timestamp.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from edge.telemetry import TelemetryError
from edge.telemetry.topics import parse

SCHEMA = """
CREATE TABLE IF NOT EXISTS kits (
    kit TEXT PRIMARY KEY, site TEXT NOT NULL, base TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT '', status_since REAL, last_seen REAL NOT NULL, metrics TEXT);
CREATE TABLE IF NOT EXISTS states (
    kit TEXT NOT NULL, device TEXT NOT NULL, payload TEXT NOT NULL, received REAL NOT NULL,
    PRIMARY KEY (kit, device));
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kit TEXT NOT NULL, stream TEXT NOT NULL,
    seq INTEGER NOT NULL, type TEXT NOT NULL, ts REAL NOT NULL, payload TEXT NOT NULL,
    received REAL NOT NULL, UNIQUE (kit, stream, seq));
CREATE TABLE IF NOT EXISTS counts (
    kit TEXT NOT NULL, day TEXT NOT NULL, ts REAL NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (kit, day));
"""


class FleetDB:
    """One connection; the collector's thread writes, `edge fleet --table` reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, timeout=10, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise TelemetryError(f"fleet database {path}: {e}") from None

    def close(self) -> None:
        self.conn.close()

    def store(self, topic: str, body: bytes, now: float | None = None) -> str:
        """Record one message; returns what it was (`event`, `duplicate`, `state`... `ignored`)."""
        parsed = parse(topic)
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        if parsed is None or not isinstance(data, dict) or not isinstance(data.get("kit"), str):
            return "ignored"
        base, kind, arg = parsed
        now = time.time() if now is None else now
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                what = self._store(base, kind, arg, data, body.decode(), now)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except (sqlite3.Error, KeyError, TypeError, ValueError) as e:
            raise TelemetryError(f"fleet database {self.path}: cannot store {topic}: {e}") \
                from None
        return what

    def _store(self, base: str, kind: str, arg: str, data: dict[str, Any], text: str,
               now: float) -> str:
        kit = str(data["kit"])
        self.conn.execute(
            "INSERT INTO kits (kit, site, base, last_seen) VALUES (?, ?, ?, ?) ON CONFLICT(kit) "
            "DO UPDATE SET site = excluded.site, base = excluded.base, "
            "last_seen = excluded.last_seen",
            (kit, str(data.get("site", "")), base, now))
        if kind == "status":
            status = str(data["status"])
            since = now if data.get("reason") == "lost" else float(data["ts"])
            self.conn.execute("UPDATE kits SET status = ?, status_since = ? "
                              "WHERE kit = ? AND status != ?", (status, since, kit, status))
        elif kind == "state":
            self.conn.execute("INSERT OR REPLACE INTO states VALUES (?, ?, ?, ?)",
                              (kit, arg, text, now))
        elif kind == "metrics":
            self.conn.execute("UPDATE kits SET metrics = ? WHERE kit = ?", (text, kit))
        elif kind == "counts":
            self.conn.execute(
                "INSERT INTO counts VALUES (?, ?, ?, ?) ON CONFLICT(kit, day) DO UPDATE SET "
                "ts = excluded.ts, payload = excluded.payload WHERE excluded.ts >= counts.ts",
                (kit, arg, float(data["ts"]), text))
        elif kind == "event":
            added = self.conn.execute(
                "INSERT OR IGNORE INTO events (kit, stream, seq, type, ts, payload, received) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (kit, str(data["stream"]), int(data["seq"]), str(data["type"]),
                 float(data["ts"]), text, now)).rowcount
            return "event" if added else "duplicate"
        return kind

    def events(self, kit: str | None = None) -> list[dict[str, object]]:
        """Every stored event, in the order it arrived."""
        rows = self.conn.execute(
            "SELECT payload FROM events WHERE ? IS NULL OR kit = ? ORDER BY id", (kit, kit))
        return [json.loads(p) for (p,) in rows]

    def kits(self) -> list[dict[str, object]]:
        rows = self.conn.execute("SELECT kit, site, status, status_since, last_seen, metrics "
                                 "FROM kits ORDER BY site, kit").fetchall()
        return [{"kit": k, "site": s, "status": st, "status_since": since, "last_seen": seen,
                 "metrics": json.loads(m) if m else None} for k, s, st, since, seen, m in rows]

    def states(self, kit: str) -> list[dict[str, object]]:
        rows = self.conn.execute("SELECT payload FROM states WHERE kit = ? ORDER BY device",
                                 (kit,))
        return [json.loads(p) for (p,) in rows]

    def last_event(self, kit: str) -> dict[str, object] | None:
        row = self.conn.execute("SELECT payload FROM events WHERE kit = ? ORDER BY id DESC "
                                "LIMIT 1", (kit,)).fetchone()
        return json.loads(row[0]) if row else None

    def counts(self, kit: str, day: str) -> dict[str, object] | None:
        row = self.conn.execute("SELECT payload FROM counts WHERE kit = ? AND day = ?",
                                (kit, day)).fetchone()
        return json.loads(row[0]) if row else None
