"""Device history for the technician's charts: the web process samples the service's snapshot
every `sample_seconds` into <storage.root>/history.db, keeping `history_hours` of it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from edge import config
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.web import devices, thumbs

log = logging.getLogger(__name__)


class History:
    def __init__(self, path: Path, hours: float) -> None:
        self.path, self.hours = path, hours
        self.lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.conn = sqlite3.connect(path, check_same_thread=False, timeout=10)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS samples(at REAL, series TEXT, value REAL)")
        self.conn.execute("CREATE INDEX IF NOT EXISTS samples_at ON samples(series, at)")

    def add(self, at: float, values: dict[str, float]) -> None:
        with self.lock, self.conn:
            self.conn.executemany("INSERT INTO samples VALUES (?, ?, ?)",
                                  [(at, k, v) for k, v in values.items()])
            self.conn.execute("DELETE FROM samples WHERE at < ?", (at - self.hours * 3600,))

    def series(self, since: float) -> dict[str, list[tuple[float, float]]]:
        with self.lock:
            rows = self.conn.execute("SELECT series, at, value FROM samples WHERE at >= ? "
                                     "ORDER BY at", (since,)).fetchall()
        out: dict[str, list[tuple[float, float]]] = {}
        for series, at, value in rows:
            out.setdefault(series, []).append((at, value))
        return out

    def close(self) -> None:
        self.conn.close()


def sampler(cfg: config.Config, history: History, stop: threading.Event,
            storage: Storage | None = None) -> threading.Thread:
    """A daemon thread taking one sample of the snapshot now and then every sample_seconds;
    it also drops the thumbnails of purged jobs."""

    def loop() -> None:
        while not stop.is_set():
            try:
                health = devices.snapshot(cfg)
                if health:
                    history.add(time.time(), devices.samples(health))
                if storage is not None:
                    with Queue(storage.db) as queue:
                        thumbs.prune(storage, queue)
            except Exception:
                log.exception("device history sample failed")
            stop.wait(cfg.web.sample_seconds)

    t = threading.Thread(target=loop, name="web-history", daemon=True)
    t.start()
    return t
