"""What the daemon wires in: a Monitor listener, the power policy's event callable, the workers'
`on_change`, and the publisher thread's start and stop.

Every entry point records to the telemetry database or the state board and returns at once; none
raises into its caller (a telemetry fault must never stop a scan or a poller).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from edge import __version__, config
from edge.health import Health, State
from edge.pipeline.job import Job
from edge.telemetry import counts, discovery, payload
from edge.telemetry.link import Waker
from edge.telemetry.outbox import Outbox
from edge.telemetry.states import Board
from edge.telemetry.store import DB_NAME, Store
from edge.telemetry.topics import Topics, site_of

log = logging.getLogger(__name__)

LOST = {State.ABSENT, State.UNKNOWN}
CLOSE_SECONDS = 10.0


def lost_or_found(prev: Health | None, health: Health) -> str | None:
    """`device/lost` or `device/found` when a device leaves or comes back (not at start-up)."""
    if prev is None or any(p.code == "not-read-yet" for p in prev.problems):
        return None
    if (prev.state in LOST) == (health.state in LOST):
        return None
    return "device/lost" if health.state in LOST else "device/found"


class Telemetry:
    def __init__(self, cfg: config.Config, devices: list[tuple[str, str]]) -> None:
        self.cfg = cfg
        self.src = payload.Source(cfg.kit.id, site_of(cfg))
        self.topics = Topics.of(cfg)
        self.store = Store(cfg.storage.root / DB_NAME)
        self.outbox = Outbox(self.store, cfg.mqtt.outbox_max_messages)
        self.board = Board()
        self.waker = Waker()  # wakes the publisher: a state changed, the outbox has news
        self.discovery = (discovery.config_message(cfg, self.topics, self.src, devices)
                          if cfg.mqtt.discovery else None)
        self.started = time.monotonic()
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        from edge.telemetry.publisher import Publisher  # paho only where it is used

        self.event("service/started", {"version": __version__})
        publisher = Publisher(self)
        self._stop = publisher.stop
        self._thread = threading.Thread(target=publisher.run, name="telemetry", daemon=True)
        self._thread.start()
        return self._thread

    def close(self) -> None:
        """Record the stop, give the publisher a moment to deliver, say offline, disconnect."""
        if self._thread is None or self._stop is None:
            return
        self.event("service/stopped", {})
        self._stop.set()
        self.waker.wake(outbox=False)
        self._thread.join(CLOSE_SECONDS)

    def on_health(self, prev: Health | None, health: Health) -> None:
        """Monitor listener: keep the newest state; record a device lost or found."""
        if health.kind == "system":
            synced = health.value("system.clock_synced")
            if isinstance(synced, bool):
                self.src.clock_synced = synced
        if self.board.put(health):
            self.waker.wake(outbox=False)
        change = lost_or_found(prev, health)
        if change:
            self.event(change, payload.device_data(health))

    def event(self, type_: str, data: dict[str, object]) -> None:
        """The power policy's event callable (`power/on_battery`...), and ours."""
        self._record(f"event {type_}", lambda conn: self._event(conn, type_, data))

    def on_job(self, job: Job) -> None:
        """Worker `on_change`: an event when a job is ready, failed or paused; the day's counts."""
        type_ = payload.JOB_EVENTS.get(job.state)
        if type_ is None:
            return

        def record(conn: sqlite3.Connection) -> None:
            self._event(conn, type_, payload.job_data(job, self.cfg.mqtt.allow_dossier_codes))
            day = counts.record_job(conn, job, counts.today())
            if day:
                self._put_counts(conn, day)

        self._record(f"job {job.id} {type_}", record)

    def add_count(self, name: str, n: int = 1) -> None:
        """Add to one of today's counters (`receipts`...)."""
        day = counts.today()

        def record(conn: sqlite3.Connection) -> None:
            counts.add(conn, day, name, n)
            self._put_counts(conn, day)

        self._record(f"count {name}", record)

    def put_metrics(self, outbox: Outbox) -> None:
        """Queue the periodic metrics (called by the publisher thread, with its own outbox)."""
        body = payload.metrics(self.src, self.board.all(), outbox.stats(),
                               time.monotonic() - self.started)
        with outbox.store.write() as conn:
            outbox.put(conn, "metrics", self.topics.metrics, payload.encode(body))
        self.waker.flag.set()

    def _record(self, what: str, write: Callable[[sqlite3.Connection], None]) -> None:
        try:
            with self.store.write() as conn:
                write(conn)
        except Exception as e:  # never into a worker or a poller
            log.error("telemetry: %s not recorded: %s", what, e)
        self.waker.wake()

    def _event(self, conn: sqlite3.Connection, type_: str, data: dict[str, object]) -> None:
        stream, seq = self.outbox.next_seq(conn)
        body = payload.event(self.src, stream, seq, type_, data)
        self.outbox.put(conn, "event", self.topics.event, payload.encode(body))

    def _put_counts(self, conn: sqlite3.Connection, day: str) -> None:
        body = payload.counts(self.src, day, counts.totals(conn, day))
        self.outbox.put(conn, "counts", self.topics.counts(day), payload.encode(body),
                        retain=True, coalesce=True)


def recorder(cfg: config.Config) -> Callable[[Job], None] | None:
    """Job events and counts of a process without the service (a CLI scan while `edge run` is
    stopped): recorded in the outbox, delivered by the next `edge run`."""
    return Telemetry(cfg, []).on_job if cfg.mqtt.enabled else None


def count(cfg: config.Config, name: str, n: int = 1) -> None:
    """Add to today's `name` counter from any process (e.g. `receipts` when a slip prints)."""
    if cfg.mqtt.enabled:
        Telemetry(cfg, []).add_count(name, n)
