"""The power policy: what the kit does when the UPS says the battery is running out.

On battery: a warning and an event, work goes on (a generator may start). Critical (OB LB, or
FSD): no new scans are accepted, running scans pause after the page in hand (every page is already
on disk), the queue is flushed to the card, the state is published and, if configured, a shutdown
command runs; upsmon owns the actual power-off. Back on line: scans are accepted again and the jobs
the policy paused go back to the queue.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable

from edge import config
from edge.drivers.scanner.base import STATUS_TEXT
from edge.drivers.ups import critical, status_words
from edge.errors import PowerError
from edge.health import Health, State
from edge.pipeline.job import State as JobState
from edge.pipeline.lock import worker_lock
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage

log = logging.getLogger(__name__)

CRITICAL_FILE = "power-critical.json"
Event = Callable[[str, dict[str, object]], None]


class PowerPolicy:
    def __init__(self, cfg: config.Config, storage: Storage, hold: threading.Event,
                 event: Event | None = None) -> None:
        self.cfg = cfg
        self.storage = storage
        self.hold = hold  # set while critical: workers pause after their page, start nothing
        self.event = event or (lambda topic, payload: None)
        self.flag = cfg.runtime_dir / CRITICAL_FILE
        self.on_battery = False
        self.critical = False
        self.flag.unlink(missing_ok=True)  # a flag left by a service that died with the power

    @property
    def on_mains(self) -> bool:
        """Whether the kit runs on mains (or generator) power; True when there is no UPS."""
        return not self.on_battery

    def on_health(self, prev: Health | None, health: Health) -> None:
        """Monitor listener: follow the UPS's status words."""
        words = ups_words(health)
        if words is None:
            return  # a UPS we cannot read changes nothing: keep the last known state
        on_battery, crit = "OB" in words, critical(words)
        if on_battery != self.on_battery:
            self.on_battery = on_battery
            log.warning("UPS %s: %s", health.name,
                        "on battery (mains power lost)" if on_battery else "back on mains power",
                        extra={"event": "power.on_battery" if on_battery else "power.on_line",
                               "ups": health.name, "status": " ".join(words)})
            self.event("power/on_battery" if on_battery else "power/on_line",
                       {"ups": health.name, "status": " ".join(words)})
        if crit and not self.critical:
            self._enter_critical(health, words)
        elif self.critical and not on_battery and not crit:
            self._leave_critical(health)

    def _enter_critical(self, health: Health, words: list[str]) -> None:
        self.critical = True
        self.hold.set()
        self.flag.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.flag.write_text(json.dumps({"since": time.time(), "ups": health.name,
                                         "status": " ".join(words)}))
        log.error("UPS %s: battery critical (%s): new scans refused, running scans pause "
                  "after the current page", health.name, " ".join(words),
                  extra={"event": "power.critical", "ups": health.name, "status": " ".join(words)})
        self._flush()
        self.event("power/critical", {"ups": health.name, "status": " ".join(words)})
        command = self.cfg.power.shutdown_command
        if command:
            log.error("running the configured shutdown command: %s", command)
            try:
                subprocess.Popen(shlex.split(command), start_new_session=True)
            except OSError as e:
                log.error("shutdown command failed to start: %s", e)

    def _flush(self) -> None:
        """Everything committed so far onto the card itself, not in a cache."""
        try:
            with Queue(self.storage.db) as queue:
                queue.checkpoint()
        except Exception:
            log.exception("could not checkpoint the queue")
        os.sync()

    def _leave_critical(self, health: Health) -> None:
        self.critical = False
        self.flag.unlink(missing_ok=True)
        self.hold.clear()
        resumed = requeue_power_paused(self.storage)
        log.warning("UPS %s: power is back: scans accepted again, %d paused job(s) resumed",
                    health.name, len(resumed),
                    extra={"event": "power.restored", "ups": health.name, "resumed": len(resumed)})
        self.event("power/restored", {"ups": health.name, "resumed": resumed})


def requeue_power_paused(storage: Storage) -> list[int]:
    """Put the jobs the policy paused back in the queue (the sheets are still in the feeder)."""
    marker = STATUS_TEXT["POWER_LOW"][0]
    with Queue(storage.db) as queue:
        jobs = [j for j in queue.jobs({JobState.PAUSED}) if marker in j.message]
        for job in jobs:
            queue.transition(job.id, JobState.QUEUED, "power restored: scanning resumes")
    return [j.id for j in jobs]


def ups_words(health: Health) -> list[str] | None:
    """A UPS's status words, or None when it cannot be read (or is not a UPS)."""
    if health.kind != "ups" or health.state in (State.ABSENT, State.UNKNOWN):
        return None
    return status_words(str(health.value("ups.status", "")))


def critical_now(cfg: config.Config) -> bool:
    """Poll every configured UPS once: is one of them nearly empty (no service watching)?"""
    from edge.drivers import registry
    from edge.monitor import poll_once

    for ups in cfg.ups:
        with registry.make("ups", ups) as dev:
            words = ups_words(poll_once(dev))
        if words is not None and critical(words):
            log.error("UPS %s: battery critical (%s): new scan refused", ups.name,
                      " ".join(words), extra={"event": "power.critical", "ups": ups.name})
            return True
    return False


def check_accepting(cfg: config.Config, storage: Storage) -> None:
    """Refuse new scans while the battery is nearly empty: as the running service says, or,
    with no service running, as the UPS answers now."""
    flag = cfg.runtime_dir / CRITICAL_FILE
    with worker_lock(storage.locks) as idle:
        pass
    if idle:  # a flag is stale (its service died with the power): ask the UPS itself
        flag.unlink(missing_ok=True)
        if not critical_now(cfg):
            return
    elif not flag.exists():
        return
    raise PowerError(
        "the UPS battery is nearly empty: new scans are refused until mains power is back",
        vi="Pin bộ lưu điện sắp hết nên tạm dừng nhận hồ sơ quét mới. Hãy cắm lại điện lưới "
           "hoặc bật máy phát; việc quét sẽ tự tiếp tục khi có điện.",
        hint="`edge status` shows the UPS")
