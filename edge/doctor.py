"""`edge doctor`: one command a technician runs to learn what the kit is missing, and the fix.

Each check prints one plain line: `ok`, `WARN` or `FAIL`, what was found and, when something is
wrong, what to do. It reuses the drivers and the queue, so it sees what the service would see.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from edge import config
from edge.health import State

SD_ERRORS = ("mmc0: error", "mmcblk0: error", "I/O error, dev mmcblk", "EXT4-fs error",
             "Buffer I/O error")
EARLIEST_SANE_YEAR = 2025


@dataclass(frozen=True)
class Check:
    verdict: str  # ok, WARN, FAIL
    what: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.verdict:<5}{self.what}" + (f"\n     fix: {self.fix}" if self.fix else "")


def run(cfg: config.Config) -> list[Check]:
    checks: list[Check] = [Check("ok", f"config {cfg.path} is valid")]
    if exposed := config.exposed_secrets(cfg):
        checks.append(Check("WARN", *exposed))
    for step in (_storage, _queue, _scanners, _slips, _devices, _broker, _delivery, _clock,
                 _sd_card):
        try:
            checks += list(step(cfg))
        except Exception as e:  # a check that breaks is itself a finding, not a crash
            checks.append(Check("FAIL", f"{step.__name__.strip('_')} check failed: {e}"))
    return checks


def _storage(cfg: config.Config) -> Iterator[Check]:
    from edge.daemon import open_storage

    storage = open_storage(cfg, queue=False)  # creates and checks the folders; raises a clear error
    probe = storage.tmp / ".doctor"
    probe.write_bytes(b"ok")
    probe.unlink()
    free = shutil.disk_usage(storage.root).free
    what = f"storage {storage.root} is writable, {free / 2**30:.1f} GB free"
    if free < cfg.storage.min_free_mb * 2**20:
        yield Check("FAIL", what, "mark uploaded jobs (`edge uploaded JOB`) and run `edge purge`")
    elif free < cfg.system.disk_warning_mb * 2**20:
        yield Check("WARN", what, "the card is filling up: upload and mark uploaded documents")
    else:
        yield Check("ok", what)


def _queue(cfg: config.Config) -> Iterator[Check]:
    from edge.errors import StorageError
    from edge.pipeline.queue import RECOVERY, Queue

    db = cfg.storage.root / "queue.db"
    fix = RECOVERY
    try:
        with Queue(db) as queue:
            (result,) = queue.conn.execute("PRAGMA quick_check").fetchone()
            rows = queue.read_all()  # SQLite's checks pass over damaged text: read it all
    except StorageError as e:
        yield Check("FAIL", e.message, fix)
        return
    except sqlite3.DatabaseError as e:
        yield Check("FAIL", f"queue database {db}: {e}", fix)
        return
    if result == "ok":
        yield Check("ok", f"queue database {db} is sound ({rows} rows read)")
    else:
        yield Check("FAIL", f"queue database {db}: {result}", fix)


def _scanners(cfg: config.Config) -> Iterator[Check]:
    from edge.drivers.scanner.base import make
    from edge.pipeline.lock import worker_lock

    scanners = [s for s in cfg.scanner if not s.imports]
    with worker_lock(cfg.storage.root / "locks") as idle:
        for s in scanners:
            if s.simulated:
                yield Check("ok", f"scanner {s.name} is simulated")
            elif not idle:
                yield Check("ok", f"scanner {s.name}: not opened, the running service owns it"
                            " (see `edge status`)")
            elif make(s).present():
                yield Check("ok", f"scanner {s.name} ({s.address}) answers")
            else:
                yield Check("FAIL", f"scanner {s.name} ({s.address}) does not answer",
                            "check its USB cable and power; `scanimage -L` must list it; the "
                            "service user must be in the scanner group")
    if not scanners:
        yield Check("WARN", "no scanner is configured", "add a [[scanner]] to the config")


def _slips(cfg: config.Config) -> Iterator[Check]:
    from edge.errors import ConfigError
    from edge.receipts import compose

    try:
        yield Check("ok", compose.check_config(cfg))
    except ConfigError as e:
        yield Check("FAIL", str(e),
                    "edit [[receipt_printer]] in the config, or the slip template named above")


def _devices(cfg: config.Config) -> Iterator[Check]:
    from edge.daemon import device_health

    verdicts = {State.OK: "ok", State.WARNING: "WARN"}
    _, snapshot = device_health(cfg)  # what `edge status` shows, from the same code
    for h in snapshot:
        problems = "; ".join(p.en for p in h.problems)
        what = f"{h.kind} {h.name} ({h.driver}): {h.state}" + (f": {problems}" if problems
                                                                else "")
        verdict = verdicts.get(h.state, "FAIL")
        yield Check(verdict, what, "" if verdict == "ok" else _fix(h.kind))


def _fix(kind: str) -> str:
    return {
        "ups": "check the UPS data cable and `upsc ups@localhost` (NUT), or [[ups]] in the config",
        "modem": "check the 4G router's power and SIM; [[modem]] url/password in the config",
        "printer": "check the printer's power and network cable; [[printer]] uri in the config",
        "usb": "plug the device in and switch it on; `lsusb` must list it",
        "system": "see the line above: cool the Pi, free space or use the official power supply",
        "receipt": "check the receipt printer's cable, power and paper",
    }.get(kind, "see `edge status`")


def _broker(cfg: config.Config) -> Iterator[Check]:
    mqtt = getattr(cfg, "mqtt", None)
    if mqtt is None or not getattr(mqtt, "enabled", False):
        return
    try:
        with socket.create_connection((mqtt.host, mqtt.port), timeout=5):
            pass
    except OSError as e:
        yield Check("FAIL", f"MQTT broker {mqtt.host}:{mqtt.port} unreachable: {e}",
                    "check the 4G link and [mqtt] host/port; telemetry waits in the outbox")
        return
    yield Check("ok", f"MQTT broker {mqtt.host}:{mqtt.port} reachable")


def _delivery(cfg: config.Config) -> Iterator[Check]:
    """Each [[delivery]] target reachable, logged in and writable (a test file of random bytes,
    written, checked and deleted), and what waits for it."""
    from edge.delivery import engine, rclone
    from edge.delivery.store import Store

    if cfg.delivery and not rclone.available():
        yield Check("FAIL", "rclone is not installed: nothing can be delivered",
                    "apt-get install rclone")
        return
    for t in cfg.delivery:
        what = f"delivery {t.name} ({t.url})"
        try:
            how = engine.probe(t, cfg.runtime_dir / "doctor")
        except rclone.TransferError as e:
            message, _ = engine.explain(t, e.message)
            yield Check("FAIL", f"{what}: {message}", _delivery_fix(t, e.message))
            continue
        yield Check("ok", f"{what}: reachable, writable, copies checked by {how}")
        if t.where.scheme == "sftp" and "known_hosts_file" not in t.secrets():
            yield Check("WARN", f"{what}: the server's host key is not checked",
                        f"add known_hosts_file = \"...\" to {t.credentials} "
                        f"(ssh-keyscan -p PORT HOST > FILE)")
    if cfg.delivery:
        with Store(cfg.storage.root) as store:
            age = engine.oldest_waiting(store)
        if age > 86400:
            yield Check("WARN", f"the oldest undelivered file has waited {age / 3600:.0f} h",
                        "see `edge delivery status`")


def _delivery_fix(t: config.Delivery, message: str) -> str:
    from edge.delivery import engine

    return {"login": f"check the user and password or key in {t.credentials}",
            "unreachable": "check the network link and that the server is on "
                           "(and the host name and port in the url)",
            "full": "free space at the destination"}.get(engine.reason_code(message),
                                                       "see the message; `edge delivery status`")


def _clock(cfg: config.Config) -> Iterator[Check]:
    from edge.drivers.system import clock_synced

    now = dt.datetime.now()
    if now.year < EARLIEST_SANE_YEAR:
        yield Check("FAIL", f"the clock says {now:%Y-%m-%d %H:%M}: it is wrong",
                    "connect the 4G link so the clock synchronises, or set it: "
                    "sudo date -s 'YYYY-MM-DD HH:MM'")
    elif clock_synced() is False:
        yield Check("WARN", f"the clock ({now:%Y-%m-%d %H:%M}) has not been synchronised "
                    "since boot", "connect the 4G link; check `timedatectl`")
    else:
        yield Check("ok", f"the clock says {now:%Y-%m-%d %H:%M}")


def _sd_card(cfg: config.Config, read_log: Callable[[], str] | None = None) -> Iterator[Check]:
    text = (read_log or _kernel_log)()
    if not text:
        yield Check("WARN", "kernel log not readable: SD card errors not checked",
                    "run `edge doctor` as root")
        return
    errors = [line for line in text.splitlines() if any(e in line for e in SD_ERRORS)]
    if errors:
        yield Check("FAIL", f"{len(errors)} storage error(s) in the kernel log, e.g. "
                    f"{errors[-1].strip()[:120]}",
                    "the SD card is failing: copy the outbox off it and replace the card")
    else:
        yield Check("ok", "no SD card errors in the kernel log")


def _kernel_log() -> str:
    for cmd in (["journalctl", "-k", "-b", "--no-pager", "-q"], ["dmesg"]):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout
    return ""
