"""Device pollers: one thread per device, each on its own interval, feeding one health snapshot.

A driver that raises is marked `unknown` (or `absent`, for DeviceAbsent) with the reason and is
retried with backoff; one that hangs is marked `unknown` once its deadline passes and is not
called again until the stuck call returns, so threads never pile up. A device that comes back is
picked up at its next poll: hot-plug needs no restart. Listeners hear every new record.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from edge.drivers.device import Device
from edge.errors import DeviceAbsent, EdgeError
from edge.health import Health, Problem, State

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
STATUS_WRITE_SECONDS = 10.0  # the status file is rewritten at most this often, unless a state
# changes: it lives on the SD card unless storage.runtime_dir points at a tmpfs

Listener = Callable[[Health | None, Health], None]


def deadline(dev: Device) -> float:
    """How long one poll may take before the device counts as hung."""
    return 2 * float(getattr(dev.cfg, "timeout", 5.0)) + 1.0


def poll_once(dev: Device) -> Health:
    """Poll a device in this thread; never raises."""
    try:
        return Health.of(dev.kind, dev.name, dev.driver, dev.poll())
    except DeviceAbsent as e:
        return Health.lost(dev.kind, dev.name, dev.driver, State.ABSENT,
                           Problem("absent", e.message, e.vi, State.FAULT))
    except EdgeError as e:
        return Health.lost(dev.kind, dev.name, dev.driver, State.UNKNOWN,
                           Problem("driver-error", e.message, e.vi, State.FAULT))
    except Exception as e:  # a driver bug must not take the service down
        log.debug("%s %s poll failed", dev.kind, dev.name, exc_info=True)
        return Health.lost(dev.kind, dev.name, dev.driver, State.UNKNOWN, Problem(
            "driver-error", f"{dev.kind} {dev.name}: driver error: {type(e).__name__}: {e}",
            "Không đọc được trạng thái thiết bị; hãy báo kỹ thuật viên", State.FAULT))


def hung(dev: Device, seconds: float) -> Health:
    return Health.lost(dev.kind, dev.name, dev.driver, State.UNKNOWN, Problem(
        "not-answering", f"{dev.kind} {dev.name}: driver has not answered for {seconds:.0f} s",
        "Thiết bị không phản hồi; kiểm tra cáp và nguồn điện", State.FAULT))


class Call:
    """One poll running in its own daemon thread, so a hung driver cannot stall its poller."""

    def __init__(self, dev: Device) -> None:
        self.result: Health | None = None
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, args=(dev,), daemon=True,
                                       name=f"poll-{dev.kind}-{dev.name}")
        self.thread.start()

    def _run(self, dev: Device) -> None:
        self.result = poll_once(dev)

    def wait(self, seconds: float) -> Health | None:
        self.thread.join(max(0.0, seconds))
        return self.result


def poll_all(devices: list[Device]) -> list[Health]:
    """One reading of every device at once (for `edge status` without a running service)."""
    calls = [(dev, Call(dev)) for dev in devices]
    return [call.wait(deadline(dev) - (time.monotonic() - call.started))
            or hung(dev, deadline(dev)) for dev, call in calls]


class Monitor:
    def __init__(self, devices: list[Device], stop: threading.Event,
                 status_file: Path | None = None) -> None:
        self.devices = devices
        self.stop = stop
        self.status_file = status_file
        self._lock = threading.Lock()
        self._health: dict[tuple[str, str], Health] = {}
        self._listeners: list[Listener] = []
        self._written = 0.0
        self._write_lock = threading.Lock()
        for dev in devices:
            self._health[(dev.kind, dev.name)] = Health.lost(
                dev.kind, dev.name, dev.driver, State.UNKNOWN,
                Problem("not-read-yet", "not read yet", "Đang kiểm tra thiết bị..."))

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._loop, args=(dev,), daemon=True,
                                    name=f"monitor-{dev.kind}-{dev.name}")
                   for dev in self.devices]
        for t in threads:
            t.start()
        return threads

    def snapshot(self) -> list[Health]:
        with self._lock:
            return list(self._health.values())

    def get(self, kind: str) -> list[Health]:
        return [h for h in self.snapshot() if h.kind == kind]

    def _loop(self, dev: Device) -> None:
        failures = 0
        call: Call | None = None
        try:
            while not self.stop.is_set():
                if call is None:
                    call = Call(dev)
                result = call.wait(deadline(dev) - (time.monotonic() - call.started))
                if result is not None:
                    call = None
                elif failures == 0 or self._current(dev).state != State.UNKNOWN:
                    result = hung(dev, time.monotonic() - call.started)
                if result is not None:
                    failures = 0 if result.state not in (State.UNKNOWN, State.ABSENT) \
                        else failures + 1
                    self._set(result)
                interval = float(dev.cfg.interval)
                if failures:
                    interval = min(interval * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
                self.stop.wait(interval)
        finally:
            try:
                dev.close()
            except Exception:
                log.exception("%s %s: error while closing", dev.kind, dev.name)

    def _current(self, dev: Device) -> Health:
        with self._lock:
            return self._health[(dev.kind, dev.name)]

    def _set(self, health: Health) -> None:
        with self._lock:
            key = (health.kind, health.name)
            prev = self._health.get(key)
            self._health[key] = health
        changed = prev is None or (prev.state, prev.problems) != (health.state, health.problems)
        if changed:
            self._log_change(prev, health)
        self._write_status(force=changed)
        for listener in self._listeners:
            try:
                listener(prev, health)
            except Exception:
                log.exception("health listener failed")

    def _log_change(self, prev: Health | None, health: Health) -> None:
        what = "; ".join(p.en for p in health.problems) or "no problems"
        level = logging.INFO if health.state == State.OK else logging.WARNING
        log.log(level, "%s %s: %s -> %s (%s)", health.kind, health.name,
                prev.state if prev else "-", health.state, what)

    def _write_status(self, force: bool) -> None:
        with self._write_lock:  # poller threads share one temporary file
            self._write_status_locked(force)

    def _write_status_locked(self, force: bool) -> None:
        now = time.monotonic()
        if self.status_file is None or (not force and now - self._written < STATUS_WRITE_SECONDS):
            return
        self._written = now
        data = json.dumps({"written": time.time(),
                           "devices": [h.summary() for h in self.snapshot()]},
                          ensure_ascii=False)
        tmp = self.status_file.with_name(self.status_file.name + ".tmp")
        try:
            tmp.write_text(data, encoding="utf-8")
            tmp.chmod(0o600)
            tmp.replace(self.status_file)
        except OSError as e:
            log.warning("cannot write %s: %s", self.status_file, e)


def read_status(path: Path, max_age: float) -> list[Health] | None:
    """The running service's snapshot, if it is there and recent."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if time.time() - float(data.get("written", 0)) > max_age:
        return None
    return [Health.from_summary(d) for d in data["devices"]]

