"""The events sink with [mqtt] enabled (`events.Sink`): a Monitor listener, the power policy's
event callable, the workers' `on_change`, the day's counts, and the publisher thread's start and
stop. `sink()` builds it, or the do-nothing one with [mqtt] off.

Every entry point records to the telemetry database or the state board and returns at once; none
raises into its caller (a telemetry fault must never stop a scan or a poller).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from edge import __version__, config
from edge.health import Health, State
from edge.pipeline.job import Job
from edge.telemetry import counts, discovery, payload
from edge.telemetry.events import Events, Off, Sink
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

    def start(self) -> None:
        """Record the start and start the publisher thread (joined by `close()`)."""
        from edge.telemetry.publisher import Publisher  # paho only where it is used

        self.event("service/started", {"version": __version__})
        m = self.cfg.mqtt
        publisher = Publisher(
            m, m.client_id or f"edge-{self.cfg.kit.id}", topics=self.topics, src=self.src,
            board=self.board, waker=self.waker, discovery=self.discovery,
            # its own connection, synchronous=NORMAL: a deletion lost in a power cut is a
            # duplicate
            outbox=Outbox(Store(self.store.path, "NORMAL"), m.outbox_max_messages),
            put_metrics=self.put_metrics)
        self._stop = publisher.stop
        self._thread = threading.Thread(target=publisher.run, name="telemetry", daemon=True)
        self._thread.start()

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

    def counts_changed(self) -> None:
        """Today's figures changed elsewhere (a queue number, a survey answer): queue them."""
        self._record("counts", lambda conn: self._put_counts(conn, counts.today()))

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
        body = payload.counts(self.src, day, counts.totals(conn, day),
                              counts.visits(self.cfg.storage.root, conn, day))
        self.outbox.put(conn, "counts", self.topics.counts(day), payload.encode(body),
                        retain=True, coalesce=True)


def sink(cfg: config.Config, devices: Sequence[tuple[str, str]] = ()) -> Sink:
    """The events sink of a process: telemetry with [mqtt] enabled, else one that drops
    everything. `devices` (kind, name) are announced to Home Assistant."""
    return Telemetry(cfg, list(devices)) if cfg.mqtt.enabled else Off()


def for_process(cfg: config.Config) -> Events:
    """The sink of a process without the service (a CLI scan, `edge receipt`, the web UI): built
    on first use, then the same one for the life of the process. What it records waits in the
    outbox for the next `edge run` to deliver."""
    key = (cfg.storage.root, cfg.kit, cfg.mqtt)
    with _OWN_LOCK:
        if key not in _OWN:
            _OWN[key] = sink(cfg)
        return _OWN[key]


_OWN: dict[tuple[Path, config.Kit, config.Mqtt], Events] = {}
_OWN_LOCK = threading.Lock()
