"""The commune server's record of every kit: status, latest states, metrics, counts, all events.

One store, two engines: a SQLite file (one commune) or PostgreSQL (`postgresql://...`, a
province), the same tables and the same SQL where the dialects agree (fleetsql.py holds the
engines and the migrations). A message is acknowledged to the broker only once it is committed
here. Events are unique by (kit, stream, seq) and inserted with ON CONFLICT DO NOTHING, so a
redelivered event, or one that two collectors both receive, is stored once; a day's counts keep
the newest figure by the kit's timestamp. A payload this collector cannot read (a newer `v`, a
missing field) is kept raw in `unread` with a warning and acknowledged: it never stops the
collector. Metrics go to `samples`, one narrow row per report, indexed by (kit, ts).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from edge.telemetry import TelemetryError
from edge.telemetry.fleetsql import Engine, open_engine
from edge.telemetry.topics import parse

log = logging.getLogger(__name__)

PAYLOAD_VERSION = 1  # the newest payload `v` this collector reads
# a metrics sample's columns: (column, device prefix, metric names, first one present wins)
SAMPLE = (("battery", "ups-", ("battery.charge",)), ("runtime", "ups-", ("battery.runtime",)),
          ("signal", "modem-", ("signal.rsrp", "signal.rssi")),
          ("disk_free", "system-", ("system.disk_free",)))
VISIT_FIGURES = ("served", "served_priority", "left", "jobs", "pages", "slips",
                 "survey_answers", "survey_satisfied")
# their columns (LEFT is a keyword in PostgreSQL)
VISIT_COLUMNS = tuple("left_unserved" if f == "left" else f for f in VISIT_FIGURES)


class Unreadable(Exception):
    """A payload this collector does not understand (kept raw, not stored)."""


class FleetDB:
    """One connection; the collector's thread writes, `--table` and `edge fleet serve` read."""

    def __init__(self, target: str | Path, *, readonly: bool = False) -> None:
        self.target = str(target)
        self.db: Engine = open_engine(self.target, readonly=readonly)

    def close(self) -> None:
        self.db.close()

    def store(self, topic: str, body: bytes, now: float | None = None) -> str:
        """Record one message; returns what it was (`event`, `duplicate`, `state`... `ignored`,
        `unread`)."""
        now = time.time() if now is None else now
        try:
            with self.db.transaction():
                return self._one(topic, body, now, guarded=True)
        except self.db.errors as e:
            raise TelemetryError(f"fleet database {self.db}: cannot store {topic}: {e}") \
                from None

    def store_many(self, messages: list[tuple[str, bytes]], now: float | None = None
                   ) -> list[str]:
        """Record a burst in one transaction (one commit, not one per message); if one of them
        cannot be read, again one by one so that only that one lands in `unread`."""
        now = time.time() if now is None else now
        try:
            with self.db.transaction():
                return [self._one(t, b, now, guarded=False) for t, b in messages]
        except Unreadable:
            return [self.store(t, b, now) for t, b in messages]
        except self.db.errors as e:
            raise TelemetryError(f"fleet database {self.db}: cannot store {len(messages)} "
                                 f"messages: {e}") from None

    def _one(self, topic: str, body: bytes, now: float, *, guarded: bool) -> str:
        parsed = parse(topic)
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        if parsed is None or not isinstance(data, dict) or not isinstance(data.get("kit"), str):
            return "ignored"
        base, kind, arg = parsed
        if not guarded:
            return self._store(base, kind, arg, data, body.decode(), now)
        try:
            with self.db.savepoint():
                return self._store(base, kind, arg, data, body.decode(), now)
        except Unreadable as e:
            log.warning("%s: %s; kept in the table `unread`", topic, e)
            self.db.execute("INSERT INTO unread (topic, payload, why, received) "
                            "VALUES (?, ?, ?, ?)", (topic, body.decode(), str(e), now))
            return "unread"

    def _store(self, base: str, kind: str, arg: str, data: dict[str, Any], text: str,
               now: float) -> str:
        version = data.get("v")
        if not isinstance(version, int) or version > PAYLOAD_VERSION:
            raise Unreadable(f"payload version {version!r} is newer than this collector reads "
                             f"({PAYLOAD_VERSION}): update edge on the server")
        try:
            return self._record(base, kind, arg, data, text, now)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise Unreadable(f"malformed {kind} payload ({type(e).__name__}: {e})") from None

    def _record(self, base: str, kind: str, arg: str, data: dict[str, Any], text: str,
                now: float) -> str:
        kit = str(data["kit"])
        self.db.execute(
            "INSERT INTO kits (kit, site, base, last_seen) VALUES (?, ?, ?, ?) ON CONFLICT(kit) "
            "DO UPDATE SET site = excluded.site, base = excluded.base, "
            "last_seen = excluded.last_seen",
            (kit, str(data.get("site", "")), base, now))
        if kind == "status":
            self._status(kit, data, now)
        elif kind == "state":
            self.db.execute(
                "INSERT INTO states (kit, device, payload, received) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kit, device) DO UPDATE SET payload = excluded.payload, "
                "received = excluded.received", (kit, arg, text, now))
        elif kind == "metrics":
            self._metrics(kit, data, text, now)
        elif kind == "counts":
            self._counts(kit, arg, data, text)
        elif kind == "event":
            return self._event(kit, data, text, now)
        return kind

    def _status(self, kit: str, data: dict[str, Any], now: float) -> None:
        status = str(data["status"])
        since = now if data.get("reason") == "lost" else float(data["ts"])
        self.db.execute("UPDATE kits SET status = ?, status_since = ? WHERE kit = ? AND "
                        "status != ?", (status, since, kit, status))
        if isinstance(data.get("version"), str):
            self.db.execute("UPDATE kits SET version = ? WHERE kit = ?", (data["version"], kit))

    def _metrics(self, kit: str, data: dict[str, Any], text: str, now: float) -> None:
        ts = float(data["ts"])
        values = sample_of(data)
        self.db.execute("UPDATE kits SET metrics = ? WHERE kit = ?", (text, kit))
        self.db.execute(
            "INSERT INTO samples (kit, ts, received, battery, runtime, signal, disk_free, "
            "waiting) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (kit, ts, now, *(values[c] for c, _, _ in SAMPLE), values["waiting"]))
        if "oldest_undelivered_seconds" in data:
            self._waiting(kit, ts, float(data["oldest_undelivered_seconds"]))

    def _waiting(self, kit: str, ts: float, seconds: float) -> None:
        """The oldest undelivered file as a moment, so a page can say how old it is now."""
        self.db.execute("UPDATE kits SET waiting_since = ? WHERE kit = ?",
                        (ts - seconds if seconds > 0 else None, kit))

    def _counts(self, kit: str, day: str, data: dict[str, Any], text: str) -> None:
        ts = float(data["ts"])
        newer = self.db.execute(
            "INSERT INTO counts (kit, day, ts, payload) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kit, day) DO UPDATE SET ts = excluded.ts, payload = excluded.payload "
            "WHERE excluded.ts >= counts.ts", (kit, day, ts, text)).rowcount
        if not newer:
            return
        self.db.execute("DELETE FROM visits WHERE kit = ? AND day = ?", (kit, day))
        for v in data.get("visits") or []:
            self.db.execute(
                "INSERT INTO visits (kit, day, visit, place, " + ", ".join(VISIT_COLUMNS) +
                ") VALUES (?, ?, ?, ?" + ", ?" * len(VISIT_FIGURES) + ")",
                (kit, day, int(v["visit"]), str(v.get("place") or ""),
                 *(int(v.get(f) or 0) for f in VISIT_FIGURES)))

    def _event(self, kit: str, data: dict[str, Any], text: str, now: float) -> str:
        ts, kind = float(data["ts"]), str(data["type"])
        added = self.db.execute(
            "INSERT INTO events (kit, stream, seq, type, ts, payload, received) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kit, stream, seq) DO NOTHING",
            (kit, str(data["stream"]), int(data["seq"]), kind, ts, text, now)).rowcount
        if not added:
            return "duplicate"
        self.db.execute("UPDATE kits SET last_event = ?, last_event_ts = ? WHERE kit = ? AND "
                        "(last_event_ts IS NULL OR last_event_ts <= ?)", (kind, ts, kit, ts))
        waiting = (data.get("data") or {}).get("oldest_waiting_seconds")
        if kind.startswith("delivery/") and isinstance(waiting, int | float):
            self._waiting(kit, ts, float(waiting))
        return "event"

    def prune(self, keep_days: float, now: float | None = None) -> None:
        """Forget what is older than `keep_days` (0: keep everything)."""
        if keep_days <= 0:
            return
        cutoff = (time.time() if now is None else now) - keep_days * 86400
        day = time.strftime("%Y-%m-%d", time.localtime(cutoff))
        try:
            with self.db.transaction():
                for table, column, value in (("samples", "ts", cutoff),
                                             ("events", "received", cutoff),
                                             ("unread", "received", cutoff),
                                             ("counts", "day", day), ("visits", "day", day)):
                    self.db.execute(f"DELETE FROM {table} WHERE {column} < ?", (value,))
        except self.db.errors as e:
            raise TelemetryError(f"fleet database {self.db}: cannot prune: {e}") from None

    # --- reading ---------------------------------------------------------------------------

    def events(self, kit: str | None = None) -> list[dict[str, object]]:
        """Every stored event, in the order it arrived."""
        rows = self.db.execute("SELECT payload FROM events WHERE kit = ? OR ? ORDER BY id",
                               (kit or "", kit is None))
        return [json.loads(p) for (p,) in rows]

    def kits(self) -> list[dict[str, object]]:
        rows = self.db.execute(
            "SELECT kit, site, status, status_since, last_seen, metrics, version, last_event, "
            "last_event_ts, waiting_since FROM kits ORDER BY site, kit").fetchall()
        names = ("kit", "site", "status", "status_since", "last_seen", "metrics", "version",
                 "last_event", "last_event_ts", "waiting_since")
        out = [dict(zip(names, row, strict=True)) for row in rows]
        for k in out:
            k["metrics"] = json.loads(str(k["metrics"])) if k["metrics"] else None
        return out

    def states(self, kit: str | None = None) -> list[dict[str, object]]:
        """The latest state of each device (of one kit, or of every kit)."""
        rows = self.db.execute("SELECT payload FROM states WHERE kit = ? OR ? ORDER BY kit, "
                               "device", (kit or "", kit is None))
        return [json.loads(p) for (p,) in rows]

    def last_event(self, kit: str) -> dict[str, object] | None:
        row = self.db.execute("SELECT payload FROM events WHERE kit = ? ORDER BY id DESC "
                              "LIMIT 1", (kit,)).fetchone()
        return json.loads(row[0]) if row else None

    def counts(self, kit: str, day: str) -> dict[str, object] | None:
        row = self.db.execute("SELECT payload FROM counts WHERE kit = ? AND day = ?",
                              (kit, day)).fetchone()
        return json.loads(row[0]) if row else None

    def day_counts(self, day: str) -> dict[str, dict[str, object]]:
        """Every kit's counts of one day, by kit."""
        rows = self.db.execute("SELECT kit, payload FROM counts WHERE day = ?", (day,))
        return {k: json.loads(p) for k, p in rows}

    def month_counts(self, first: str, last: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(site, kit, counts) of every kit's days between two dates (inclusive)."""
        rows = self.db.execute(
            "SELECT k.site, c.kit, c.payload FROM counts c JOIN kits k ON k.kit = c.kit "
            "WHERE c.day >= ? AND c.day <= ? ORDER BY k.site, c.kit, c.day", (first, last))
        return [(s, k, json.loads(p)) for s, k, p in rows]

    def month_visits(self, first: str, last: str) -> list[dict[str, Any]]:
        """Per commune and place: the summed visit figures between two dates."""
        sums = ", ".join(f"SUM(v.{c})" for c in VISIT_COLUMNS)
        rows = self.db.execute(
            f"SELECT k.site, v.place, COUNT(*), {sums} FROM visits v JOIN kits k ON "
            "k.kit = v.kit WHERE v.day >= ? AND v.day <= ? GROUP BY k.site, v.place "
            "ORDER BY k.site, v.place", (first, last))
        return [{"site": s, "place": p, "visits": int(n),
                 **{f: int(x or 0) for f, x in zip(VISIT_FIGURES, xs, strict=True)}}
                for s, p, n, *xs in rows]

    def samples(self, kit: str, since: float) -> list[dict[str, float | None]]:
        """One kit's metrics since a moment, oldest first (the kit page's charts)."""
        rows = self.db.execute(
            "SELECT ts, battery, runtime, signal, disk_free, waiting FROM samples "
            "WHERE kit = ? AND ts >= ? ORDER BY ts", (kit, since))
        names = ("ts", "battery", "runtime", "signal", "disk_free", "waiting")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def recent_events(self, kit: str, limit: int) -> list[dict[str, object]]:
        rows = self.db.execute("SELECT payload FROM events WHERE kit = ? ORDER BY ts DESC, id "
                               "DESC LIMIT ?", (kit, limit))
        return [json.loads(p) for (p,) in rows]


def sample_of(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The chart figures of one metrics payload: battery %, runtime s, signal dBm, disk free,
    the oldest undelivered file's age (s)."""
    devices = metrics.get("devices") or {}
    out: dict[str, float | None] = {}
    for column, prefix, names in SAMPLE:
        values = [d.get(n) for dev, d in sorted(devices.items()) if dev.startswith(prefix)
                  and isinstance(d, dict) for n in names]
        out[column] = next((float(v) for v in values if isinstance(v, int | float)
                            and not isinstance(v, bool)), None)
    waiting = metrics.get("oldest_undelivered_seconds")
    out["waiting"] = float(waiting) if isinstance(waiting, int | float) else None
    return out
