"""The commune server's record of every kit: status, latest states, metrics, counts, all events.

One store, two engines: a SQLite file (one commune) or PostgreSQL (`postgresql://...`, a
province), the same tables and the same SQL where the dialects agree (fleetsql.py holds the
engines and the migrations). A message is acknowledged to the broker only once it is committed
here. Events are unique by (kit, stream, seq) and inserted with ON CONFLICT DO NOTHING, so a
redelivered event, or one that two collectors both receive, is stored once; a day's counts keep
the newest figure by the kit's timestamp. A payload this collector cannot read (a newer `v`, a
missing field) is kept raw in `unread` with a warning and acknowledged: it never stops the
collector. Metrics go to `samples`, one narrow row per report, indexed by (kit, ts).

A burst of messages is read in Python first, then written in one transaction with one statement
per table (executemany, pipelined on PostgreSQL) and one `kits` upsert per kit that folds what
the burst said about it, so the round trips grow with the tables, not with the messages.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.telemetry import TelemetryError
from edge.telemetry.fleetfigures import FIGURES, kit_figures, sample_of, state_figures
from edge.telemetry.fleetsql import KIT_FIGURES, STATE_FIGURES, Engine, open_engine
from edge.telemetry.topics import parse

log = logging.getLogger(__name__)

PAYLOAD_VERSION = 1  # the newest payload `v` this collector reads
VISIT_FIGURES = ("served", "served_priority", "left", "jobs", "pages", "slips",
                 "survey_answers", "survey_satisfied")
# their columns (LEFT is a keyword in PostgreSQL)
VISIT_COLUMNS = tuple("left_unserved" if f == "left" else f for f in VISIT_FIGURES)

KIT_UPSERT = (
    "INSERT INTO kits (kit, site, base, last_seen, status, status_since, version, metrics, "
    "waiting_since, last_event, last_event_ts, " + ", ".join(KIT_FIGURES) + ") VALUES (?"
    + ", ?" * (10 + len(KIT_FIGURES)) + ") ON CONFLICT (kit) DO UPDATE SET "
    "site = excluded.site, base = excluded.base, last_seen = excluded.last_seen, "
    # a status run that began before this burst keeps its `since`
    "status_since = CASE WHEN ? AND NOT (kits.status = excluded.status AND ?) "
    "THEN excluded.status_since ELSE kits.status_since END, "
    "status = CASE WHEN ? THEN excluded.status ELSE kits.status END, "
    "version = COALESCE(excluded.version, kits.version), "
    "metrics = COALESCE(excluded.metrics, kits.metrics), "
    + "".join(f"{c} = CASE WHEN ? THEN excluded.{c} ELSE kits.{c} END, " for c in KIT_FIGURES)
    + "waiting_since = CASE WHEN ? THEN excluded.waiting_since ELSE kits.waiting_since END, "
    + ", ".join(f"{c} = CASE WHEN excluded.last_event_ts IS NOT NULL AND (kits.last_event_ts "
                f"IS NULL OR kits.last_event_ts <= excluded.last_event_ts) THEN excluded.{c} "
                f"ELSE kits.{c} END" for c in ("last_event", "last_event_ts")))
STATE_UPSERT = (
    "INSERT INTO states (kit, device, payload, received, " + ", ".join(STATE_FIGURES) +
    ") VALUES (?, ?, ?, ?" + ", ?" * len(STATE_FIGURES) + ") ON CONFLICT (kit, device) DO "
    "UPDATE SET payload = excluded.payload, received = excluded.received, "
    + ", ".join(f"{c} = excluded.{c}" for c in STATE_FIGURES))
SAMPLE_INSERT = ("INSERT INTO samples (kit, ts, received, " + ", ".join(FIGURES) +
                 ", waiting) VALUES (?, ?, ?" + ", ?" * (len(FIGURES) + 1) + ")")
EVENT_INSERT = ("INSERT INTO events (kit, stream, seq, type, ts, payload, received) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kit, stream, seq) DO NOTHING "
                "RETURNING id")
COUNTS_UPSERT = ("INSERT INTO counts (kit, day, ts, payload) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT (kit, day) DO UPDATE SET ts = excluded.ts, "
                 "payload = excluded.payload WHERE excluded.ts >= counts.ts RETURNING kit")
VISIT_INSERT = ("INSERT INTO visits (kit, day, visit, place, " + ", ".join(VISIT_COLUMNS) +
                ") VALUES (?, ?, ?, ?" + ", ?" * len(VISIT_FIGURES) + ")")
UNREAD_INSERT = "INSERT INTO unread (topic, payload, why, received) VALUES (?, ?, ?, ?)"


class Unreadable(Exception):
    """A payload this collector does not understand (kept raw, not stored)."""


@dataclass
class Read:
    """One message understood, before the database is touched: its kind, kit and values."""

    kind: str
    kit: str
    site: str
    base: str
    text: str
    values: dict[str, Any]


@dataclass
class Kit:
    """What one burst says about one kit: the values of its single `kits` upsert."""

    site: str = ""
    base: str = ""
    status: str | None = None
    since: float | None = None
    whole: bool = False  # the burst's last status run is all its status messages
    version: str | None = None
    metrics: str | None = None
    figures: tuple[Any, ...] | None = None
    waiting: list[float | None] = field(default_factory=list)  # [] unchanged, [x] set to x
    last_event: tuple[str, float] | None = None

    def row(self, kit: str, now: float) -> tuple[Any, ...]:
        figures = self.figures or (None,) * len(KIT_FIGURES)
        last_kind, last_ts = self.last_event or (None, None)
        return (kit, self.site, self.base, now, self.status or "", self.since, self.version,
                self.metrics, self.waiting[0] if self.waiting else None, last_kind, last_ts,
                *figures, self.status is not None, self.whole, self.status is not None,
                *(self.figures is not None,) * len(KIT_FIGURES), bool(self.waiting))


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
        return self.store_many([(topic, body)], now)[0]

    def store_many(self, messages: list[tuple[str, bytes]], now: float | None = None
                   ) -> list[str]:
        """Record a burst in one transaction (one commit, not one per message); what cannot be
        read lands in `unread` and spoils nothing else."""
        now = time.time() if now is None else now
        outcomes: list[str] = []
        reads: list[tuple[int, Read]] = []
        unread: list[tuple[Any, ...]] = []
        for topic, body in messages:
            try:
                read = _read(topic, body)
            except Unreadable as e:
                log.warning("%s: %s; kept in the table `unread`", topic, e)
                unread.append((topic, body.decode(), str(e), now))
                outcomes.append("unread")
                continue
            outcomes.append(read.kind if read else "ignored")
            if read:
                reads.append((len(outcomes) - 1, read))
        try:
            with self.db.transaction():
                self.db.executemany(UNREAD_INSERT, unread)
                self._write(reads, outcomes, now)
        except self.db.errors as e:
            raise TelemetryError(f"fleet database {self.db}: cannot store {len(messages)} "
                                 f"message(s): {e}") from None
        return outcomes

    def _write(self, reads: list[tuple[int, Read]], outcomes: list[str], now: float) -> None:
        events = [(i, r) for i, r in reads if r.kind == "event"]
        added = self.db.inserted(EVENT_INSERT, [
            (r.kit, r.values["stream"], r.values["seq"], r.values["type"], r.values["ts"],
             r.text, now) for _, r in events])
        for (i, _), new in zip(events, added, strict=True):
            outcomes[i] = "event" if new else "duplicate"
        counts = [r for _, r in reads if r.kind == "counts"]
        newer = self.db.inserted(COUNTS_UPSERT, [
            (r.kit, r.values["day"], r.values["ts"], r.text) for r in counts])
        for r in (r for r, new in zip(counts, newer, strict=True) if new):
            self.db.execute("DELETE FROM visits WHERE kit = ? AND day = ?",
                            (r.kit, r.values["day"]))
            self.db.executemany(VISIT_INSERT, r.values["visits"])
        kits: dict[str, Kit] = {}
        for i, r in reads:
            _fold(kits.setdefault(r.kit, Kit()), r, outcomes[i] != "duplicate", now)
        # by name: two collectors lock the kits' rows in the same order (no deadlock)
        self.db.executemany(KIT_UPSERT, [k.row(kit, now) for kit, k in sorted(kits.items())])
        self.db.executemany(STATE_UPSERT, [
            (r.kit, r.values["device"], r.text, now, *r.values["figures"])
            for _, r in reads if r.kind == "state"])
        self.db.executemany(SAMPLE_INSERT, [
            (r.kit, r.values["ts"], now, *(r.values["sample"][c] for c in FIGURES),
             r.values["sample"]["waiting"]) for _, r in reads if r.kind == "metrics"])

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

    def kit_figures(self) -> list[dict[str, Any]]:
        """Every kit's columns the fleet page lists, no payload parsed (its main query)."""
        names = ("kit", "site", "status", "status_since", "last_seen", "version", "last_event",
                 "last_event_ts", "waiting_since", *KIT_FIGURES)
        rows = self.db.execute(f"SELECT {', '.join(names)} FROM kits ORDER BY site, kit")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def device_figures(self) -> list[dict[str, Any]]:
        """Every device's figures from its latest state, by kit and device."""
        names = ("kit", "device", *STATE_FIGURES)
        rows = self.db.execute(f"SELECT {', '.join(names)} FROM states ORDER BY kit, device")
        return [dict(zip(names, row, strict=True)) for row in rows]

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



def _read(topic: str, body: bytes) -> Read | None:
    """A message's values (None: not a kit's message, ignored); Unreadable when the payload is
    newer than this collector or malformed."""
    parsed = parse(topic)
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if parsed is None or not isinstance(data, dict) or not isinstance(data.get("kit"), str):
        return None
    base, kind, arg = parsed
    version = data.get("v")
    if not isinstance(version, int) or version > PAYLOAD_VERSION:
        raise Unreadable(f"payload version {version!r} is newer than this collector reads "
                         f"({PAYLOAD_VERSION}): update edge on the server")
    try:
        values = READERS[kind](data, arg) if kind in READERS else {}
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise Unreadable(f"malformed {kind} payload ({type(e).__name__}: {e})") from None
    return Read(kind, data["kit"], str(data.get("site", "")), base, body.decode(), values)


def _status(data: dict[str, Any], arg: str) -> dict[str, Any]:
    status = str(data["status"])
    lost = data.get("reason") == "lost"  # the broker's last will: since it said so
    return {"status": status, "since": None if lost else float(data["ts"]),
            "version": data["version"] if isinstance(data.get("version"), str) else None}


def _metrics(data: dict[str, Any], arg: str) -> dict[str, Any]:
    ts = float(data["ts"])
    waiting = float(data["oldest_undelivered_seconds"]) \
        if "oldest_undelivered_seconds" in data else None
    return {"ts": ts, "sample": sample_of(data), "figures": kit_figures(data),
            "waiting": None if waiting is None else [_since(ts, waiting)]}


def _counts(data: dict[str, Any], day: str) -> dict[str, Any]:
    kit = str(data["kit"])
    visits = [(kit, day, int(v["visit"]), str(v.get("place") or ""),
               *(int(v.get(f) or 0) for f in VISIT_FIGURES)) for v in data.get("visits") or []]
    return {"day": day, "ts": float(data["ts"]), "visits": visits}


def _event(data: dict[str, Any], arg: str) -> dict[str, Any]:
    ts, kind = float(data["ts"]), str(data["type"])
    waiting = (data.get("data") or {}).get("oldest_waiting_seconds")
    delivery = kind.startswith("delivery/") and isinstance(waiting, int | float)
    return {"ts": ts, "type": kind, "stream": str(data["stream"]), "seq": int(data["seq"]),
            "waiting": [_since(ts, float(waiting))] if delivery else None}


def _state(data: dict[str, Any], device: str) -> dict[str, Any]:
    return {"device": device, "figures": state_figures(device, data)}


READERS = {"status": _status, "metrics": _metrics, "counts": _counts, "event": _event,
           "state": _state}


def _since(ts: float, seconds: float) -> float | None:
    """The oldest undelivered file as a moment, so a page can say how old it is now."""
    return ts - seconds if seconds > 0 else None


def _fold(kit: Kit, r: Read, new: bool, now: float) -> None:
    """Add one message, in the burst's order, to what the kit's upsert writes (a duplicate
    event changes nothing but last_seen)."""
    kit.site, kit.base = r.site, r.base
    v = r.values
    if r.kind == "status":
        if kit.status != v["status"]:
            kit.whole = kit.status is None
            kit.status, kit.since = v["status"], now if v["since"] is None else v["since"]
        kit.version = v["version"] or kit.version
    elif r.kind == "metrics":
        kit.metrics, kit.figures = r.text, v["figures"]
    elif r.kind == "event" and new and (kit.last_event is None or kit.last_event[1] <= v["ts"]):
        kit.last_event = (v["type"], v["ts"])
    if new and v.get("waiting") is not None:
        kit.waiting = v["waiting"]
