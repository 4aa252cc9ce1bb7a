"""`edge fleet`: the commune server's collector and its fleet table.

Runs on any Linux server, without a kit config: subscribes to every kit's topics (`dvc/#`) with a
persistent session (fixed client id, clean session off), so the broker keeps what arrives while
the collector is down; a message is acknowledged only once stored (fleetdb.py, SQLite or
PostgreSQL), the messages of a burst in one transaction. With `--share GROUP` several
collectors split one shared subscription (`$share/GROUP/dvc/#`); either way the store keeps
each event once. `--table` prints kit, site, online since, battery, signal, last event and
today's counts from the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from edge.telemetry import TelemetryError, link
from edge.telemetry.fleetdb import FleetDB
from edge.telemetry.fleetsql import shown

log = logging.getLogger(__name__)

LOOP_SECONDS = 1.0
CONNACK_SECONDS = 15.0
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
PRUNE_SECONDS = 3600.0
# messages that arrive together are stored in one transaction: at most this many, and the
# socket is read again for this long before they are committed and acknowledged
BURST_MAX = 500
BURST_WAIT = 0.01


def main(args: argparse.Namespace) -> int:
    """Print the table, or collect until SIGTERM/SIGINT."""
    db = FleetDB(args.db)
    try:
        if args.table:
            rows = table(db, dt.date.today().isoformat())
            print(json.dumps(rows, ensure_ascii=False) if args.json else render(rows))
            return 0
    finally:
        db.close()
    return collect(args)


def broker_of(args: argparse.Namespace) -> link.Broker:
    """The broker from the command line; the password from a file or $EDGE_FLEET_PASSWORD (a
    password on the command line would show in `ps`)."""
    host, _, port = args.broker.rpartition(":") if ":" in args.broker else (args.broker, "", "")
    tls = bool(args.tls or args.ca_file)
    password = ""
    if args.password_file:
        try:
            password = Path(args.password_file).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise TelemetryError(f"--password-file: {e}") from None
    password = password or os.environ.get("EDGE_FLEET_PASSWORD", "")
    try:
        number = int(port) if port else (8883 if tls else 1883)
    except ValueError:
        raise TelemetryError(f"--broker {args.broker}: the port must be a number") from None
    return link.Broker(host or "localhost", number, args.username or "", password, tls,
                       args.ca_file, args.cert_file, args.key_file,
                       fix_login="fix --username and --password-file (or $EDGE_FLEET_PASSWORD)")


def collect(args: argparse.Namespace) -> int:
    broker = broker_of(args)
    stop = threading.Event()
    topic = f"$share/{args.share}/{args.topic}" if args.share else args.topic
    collector = Collector(broker, args.db, topic,
                          args.client_id or f"edge-fleet-{socket.gethostname()}", args.keep_days)
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    thread = threading.Thread(target=collector.run, args=(stop,), name="fleet", daemon=True)
    thread.start()
    log.info("edge fleet: collecting %s from %s into %s", topic, broker, shown(args.db))
    while thread.is_alive():
        got = signal.sigtimedwait(STOP_SIGNALS, 1.0)
        if got is not None:
            log.info("received %s, stopping", signal.Signals(got.si_signo).name)
            stop.set()
            thread.join(10)
    return 0


class Collector:
    """One thread: connect (with backoff), store every message, acknowledge it once stored."""

    def __init__(self, broker: link.Broker, db: str, topic: str, client_id: str,
                 keep_days: float = 0.0) -> None:
        self.broker = broker
        self.db_path = db
        self.keep_days = keep_days
        self.pruned = 0.0
        self.burst: list[mqtt.MQTTMessage] = []
        self.topic = topic
        self.client_id = client_id
        self.backoff = link.Backoff(1.0, 120.0)
        self.complaints = link.Complaints(log)
        self.refused = ""
        self.connected = False
        self.failed = ""

    def run(self, stop: threading.Event) -> None:
        db = FleetDB(self.db_path)
        try:
            while not stop.is_set():
                try:
                    outcome, why = self._session(db, stop)
                except Exception:  # keep collecting whatever one message did
                    log.exception("edge fleet: unexpected error; reconnecting")
                    outcome, why = "failed", "the collector restarted its connection"
                if outcome == "stopped":
                    return
                if outcome == "refused":
                    self.complaints.say(why, self.backoff.give_up_for_long(), logging.ERROR)
                    stop.wait(self.backoff.longest)
                else:
                    wait = self.backoff.next()
                    self.complaints.say(why, wait)
                    stop.wait(wait)
        finally:
            db.close()

    def _session(self, db: FleetDB, stop: threading.Event) -> tuple[str, str]:
        self.refused, self.failed, self.connected = "", "", False
        try:
            c = link.client(self.broker, self.client_id, clean=False, manual_ack=True)
            c.on_connect = self._on_connect
            c.on_message = lambda c, userdata, msg: self.burst.append(msg)
            link.connect(c, self.broker)
        except TelemetryError as e:
            return "failed", str(e)
        deadline = time.monotonic() + CONNACK_SECONDS
        try:
            while not stop.is_set():
                before = len(self.burst)
                rc = c.loop(BURST_WAIT if self.burst else LOOP_SECONDS)
                if self.burst and (len(self.burst) == before or len(self.burst) >= BURST_MAX):
                    self._store(c, db)  # the socket went quiet, or the burst is big enough
                self._prune(db)
                if self.refused:
                    return "refused", self.refused
                if self.failed:
                    return "failed", self.failed
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    return "lost", f"MQTT connection to {self.broker} lost " \
                                   f"({mqtt.error_string(rc)})"
                if not self.connected and time.monotonic() > deadline:
                    return "failed", f"MQTT broker {self.broker} did not answer CONNECT"
            if self.burst:
                self._store(c, db)
            c.disconnect()
            return "stopped", ""
        finally:
            self.burst.clear()  # not acknowledged: the broker sends them again
            sock = c.socket()
            if sock is not None:
                sock.close()

    def _prune(self, db: FleetDB) -> None:
        """Retention, at start and then hourly (a failure is logged, collecting goes on)."""
        if not self.keep_days or (self.pruned and time.monotonic() - self.pruned < PRUNE_SECONDS):
            return
        self.pruned = time.monotonic()
        try:
            db.prune(self.keep_days)
        except TelemetryError as e:
            log.warning("%s", e)

    def _on_connect(self, c: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode,
                    properties: Any) -> None:
        if reason.is_failure:
            self.refused = link.refusal(self.broker, reason)
            return
        self.connected = True
        self.backoff.reset()
        self.complaints.connected(self.broker)
        c.subscribe(self.topic, qos=1)

    def _store(self, c: mqtt.Client, db: FleetDB) -> None:
        """Store the messages read so far in one transaction, then acknowledge them."""
        burst, self.burst = self.burst, []
        try:
            outcomes = db.store_many([(m.topic, m.payload) for m in burst])
        except TelemetryError as e:  # not acknowledged: the broker sends them again
            self.failed = str(e)
            return
        for msg, what in zip(burst, outcomes, strict=True):
            if what == "duplicate":
                log.debug("%s: a redelivered event, already stored", msg.topic)
            c.ack(msg.mid, msg.qos)


def table(db: FleetDB, day: str) -> list[dict[str, object]]:
    """One row per kit: what the commune's technician looks at first."""
    rows = []
    for kit in db.kits():
        name = str(kit["kit"])
        states = db.states(name)
        ups = next((s for s in states if s.get("kind") == "ups"), None)
        modem = next((s for s in states if s.get("kind") == "modem"), None)
        today = db.counts(name, day) or {}
        rows.append({
            "kit": name, "site": kit["site"], "status": kit["status"],
            "since": kit["status_since"],
            "battery": _metric(ups, "battery.charge"),
            "on_battery": "OB" in str(_metric(ups, "ups.status") or "").split(),
            "signal": _metric(modem, "signal.rsrp") or _metric(modem, "signal.rssi"),
            "operator": _metric(modem, "network.operator"),
            "last_event": kit["last_event"], "last_event_ts": kit["last_event_ts"],
            "today": {k: today.get(k, 0) for k in ("jobs", "pages", "blank_pages",
                                                   "receipts", "bytes")},
        })
    return rows


def _metric(state: dict[str, Any] | None, name: str) -> Any:
    if state is None:
        return None
    return state.get("metrics", {}).get(name, {}).get("value")


def render(rows: list[dict[str, Any]], now: float | None = None) -> str:
    now = time.time() if now is None else now
    head = f"{'KIT':<9}{'SITE':<16}{'STATUS':<20}{'BATTERY':<10}{'SIGNAL':<18}" \
           f"{'LAST EVENT':<26}TODAY"
    lines = [head]
    for r in rows:
        status = f"{r['status'] or '?'} {_ago(r['since'], now)}".strip()
        battery = "" if r["battery"] is None else f"{r['battery']:.0f}%"
        battery += " OB" if r["on_battery"] else ""
        signal_ = "" if r["signal"] is None else f"{r['signal']} dBm {r['operator'] or ''}"
        event = f"{r['last_event']} {_ago(r['last_event_ts'], now)} ago" if r["last_event"] \
            else "-"
        t = r["today"]
        today = f"{t['jobs']} jobs, {t['pages']} pages, {t['receipts']} receipts"
        lines.append(f"{r['kit']:<9}{r['site']:<16}{status:<20}{battery:<10}"
                     f"{signal_.strip():<18}{event:<26}{today}")
    return "\n".join(lines)


def _ago(ts: float | None, now: float) -> str:
    if not ts:
        return ""
    s = max(0, int(now - float(ts)))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h" if s < 172800 else f"{s // 86400}d"
