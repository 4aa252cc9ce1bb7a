"""`edge run`: the long-running service, wiring storage, queue, one worker per scanner, the
device monitor, the power policy and the events sink (telemetry, with [mqtt] enabled).

Everything is started and stopped here in one place; SIGTERM stops cleanly, pausing a running
scan after its current page so that every page is on disk.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from edge import config
from edge.drivers import device, registry
from edge.drivers.modem import ModemDevice
from edge.drivers.scanner.base import make
from edge.drivers.scanner.settings import SaneSettings, ScannerSettings
from edge.drivers.usb_settings import PyusbSettings
from edge.errors import EdgeError
from edge.field import visits
from edge.health import Health
from edge.health import State as HealthState
from edge.monitor import Monitor, poll_all, read_status
from edge.notify import notify, watchdog_interval
from edge.pipeline import hotfolder, ocr, outbox
from edge.pipeline.job import SETTLED, Job, State
from edge.pipeline.lock import delivery_pass, file_lock, holder, worker_lock
from edge.pipeline.queue import Queue, check_present
from edge.pipeline.storage import Storage
from edge.pipeline.worker import Worker
from edge.power import PowerPolicy
from edge.telemetry.service import for_process, sink

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
PURGE_EVERY_SECONDS = 3600.0
ERROR_BACKOFF_SECONDS = 5.0
HOT_FOLDER_POLL_SECONDS = 2.0
OCR_POLL_SECONDS = 15.0
DELIVERY_POLL_SECONDS = 2.0
RECEIPT_RETRY_SECONDS = 5.0
LOCK_WAIT_SECONDS = 10.0
STATUS_MAX_AGE_SECONDS = 120.0  # an older snapshot is from a service that is gone
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def guard_sigpipe() -> None:
    """Block SIGPIPE in this thread and every thread it starts.

    SANE's reader threads reset SIGPIPE to its default action (terminate the process) when a scan
    ends, undoing Python's SIG_IGN: the next write to a closed socket (an MQTT broker, a router,
    a printer gone away) would kill the service. Blocked, such a write is an EPIPE error instead.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPIPE})


def devices(cfg: config.Config) -> list[device.Device]:
    """Every configured device's driver, the Pi itself first."""
    out = [registry.make("system", cfg.system)]
    for kind in ("ups", "modem", "printer", "usb"):
        out += [registry.make(kind, c) for c in getattr(cfg, kind)]
    out += [registry.make("usb", PyusbSettings(name=s.name, id=s.watched_usb_id, label=s.label))
            for s in cfg.scanner if s.watched_usb_id]
    return out + [registry.make("receipt", c) for c in cfg.receipt_printer]


def open_storage(cfg: config.Config, *, queue: bool = True) -> Storage:
    """The storage area, created if needed; with `queue`, refuse to start on a queue database
    that vanished or was emptied (StorageError naming the file and the recovery)."""
    storage = Storage(cfg.storage.root, cfg.storage.min_free_mb)
    storage.prepare()
    if queue:
        check_present(storage.db)
    return storage


def device_health(cfg: config.Config) -> tuple[str, list[Health]]:
    """Every device's health, the one verdict `edge status` and `edge doctor` both show: the
    running service's snapshot if there is a recent one, else a poll of every device now."""
    storage = open_storage(cfg, queue=False)
    with worker_lock(storage.locks) as idle:
        snapshot = None if idle else read_status(cfg.runtime_dir / "status.json",
                                                 STATUS_MAX_AGE_SECONDS)
    if snapshot is not None:
        return "service", snapshot
    return "polled now", poll_all(devices(cfg))


class Daemon:
    def __init__(self, cfg: config.Config) -> None:
        self.cfg = cfg
        self.stop = threading.Event()
        self.hold = threading.Event()  # set by the power policy: start no scan, pause running
        self.storage = open_storage(cfg)
        self.threads: list[threading.Thread] = []
        cfg.runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.monitor = Monitor(devices(cfg), self.stop, cfg.runtime_dir / "status.json")
        self.events = sink(cfg, [(d.kind, d.name) for d in self.monitor.devices])
        self.power = PowerPolicy(cfg, self.storage, self.hold, event=self.events.event)
        self.monitor.subscribe(self.power.on_health)
        self.monitor.subscribe(self.events.on_health)
        self.monitor.subscribe(self._redial)
        self._link_down: dict[str, float] = {}

    def block_signals(self) -> None:
        """Keep SIGTERM/SIGINT pending for the main loop, in every thread started after this.

        Some SANE backends reset signal dispositions from their reader threads; a blocked
        signal cannot kill the process that way, and `run()` collects it with sigtimedwait.
        """
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    def run(self) -> int:
        # CLI commands hold the lock briefly to recover: give them time to finish
        with worker_lock(self.storage.locks, wait=LOCK_WAIT_SECONDS) as held:
            if not held:
                log.error("another edge process (pid %s) is running the queue; "
                          "stop it first (systemctl stop edge)", holder(self.storage.locks))
                return 1
            with Queue(self.storage.db) as queue:
                for job in outbox.recover(self.storage, queue):
                    log.info("recovered job %d %s: now %s", job.id, job.ticket, job.state)
                visits.recover(self.cfg.storage.root, [(j.id, j.created) for j in queue.jobs()])
            self._report_scanners()
            self.events.start()  # joined by close(), after everything else has stopped
            self.threads += self.monitor.start()
            for s in self.cfg.scanner:
                self._spawn(f"scanner-{s.name}", self._scanner_loop, s)
            self._spawn("purge", self._purge_loop)
            if self.cfg.hot_folder:
                self._spawn("hot-folder", self._hot_folder_loop)
            if self.cfg.ocr.enabled:
                self._spawn("ocr", self._ocr_loop)
            if self.cfg.receipt_printer:
                self._spawn("receipts", self._receipt_loop)
            if self.cfg.delivery:
                self._spawn("delivery", self._delivery_loop)
            for s in self.cfg.scanner:
                if s.polls_buttons:
                    self._spawn(f"buttons-{s.name}", self._button_loop, s)
            log.info("edge running: kit %s, %d scanner(s), %d device(s), storage %s",
                     self.cfg.kit.id, len(self.cfg.scanner), len(self.monitor.devices),
                     self.storage.root)
            notify("READY=1")
            watchdog, last_ping = watchdog_interval(), 0.0
            while not self.stop.is_set():
                got = signal.sigtimedwait(STOP_SIGNALS, 1.0)
                if got is not None and got.si_signo:  # 0: woken by SIGCONT after a SIGSTOP
                    log.info("received %s, stopping", signal.Signals(got.si_signo).name)
                    self.stop.set()
                    notify("STOPPING=1")
                elif watchdog and time.monotonic() - last_ping >= watchdog and self.healthy():
                    notify("WATCHDOG=1")
                    last_ping = time.monotonic()
            for t in self.threads:
                t.join()
            self.events.close()
        log.info("edge stopped")
        return 0

    def healthy(self) -> bool:
        """Every worker, poller and loop thread still running (else systemd restarts us)."""
        dead = [t.name for t in self.threads if not t.is_alive()]
        if dead:
            log.error("thread(s) %s died: not telling systemd we are alive", ", ".join(dead))
        return not dead

    def _button_loop(self, scanner: SaneSettings) -> None:
        from edge.buttons import ButtonPoller, button_job, sane_reader

        with Queue(self.storage.db) as queue:
            def busy() -> bool:  # asked twice a second: one indexed query, not every job
                return self.hold.is_set() or queue.busy(scanner.name)

            def start(preset: str) -> None:
                button_job(queue, self.cfg.kit.id, scanner, preset)

            ButtonPoller(scanner, sane_reader(scanner), start, busy, self.stop).loop()

    def _receipt_loop(self) -> None:
        """Print the slips that waited for an offline receipt printer, or report them."""
        from edge.receipts.queue import retry_pending

        printers = {d.name: d for d in self.monitor.devices if d.kind == "receipt"}
        while not self.stop.wait(RECEIPT_RETRY_SECONDS):
            try:
                for outcome in retry_pending(self.cfg, self.cfg.storage.root, time.time(),
                                             devices=printers, events=self.events):
                    if outcome.state == "failed":
                        log.error("receipt %s", outcome.message)
            except EdgeError as e:
                log.error("receipt spool: %s", e)
            except Exception:
                log.exception("receipt retry failed; trying again later")

    def _spawn(self, name: str, target: object, *args: object) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
        t.start()
        self.threads.append(t)

    def _redial(self, prev: Health | None, health: Health) -> None:
        """Redial a modem whose link has been down for its `reconnect_after` seconds."""
        if health.kind != "modem" or health.state in (HealthState.ABSENT, HealthState.UNKNOWN):
            return
        now = time.monotonic()
        if health.value("network.connected", True):
            self._link_down.pop(health.name, None)
        else:
            self._link_down.setdefault(health.name, now)
        dev = next(d for d in self.monitor.devices if (d.kind, d.name) == ("modem", health.name))
        assert isinstance(dev, ModemDevice)
        if dev.should_reconnect(self._link_down.get(health.name), now):
            log.warning("modem %s: link down for %.0f s, redialling", health.name,
                        now - self._link_down[health.name])
            try:
                dev.reconnect()
            except Exception as e:
                log.error("modem %s: redial failed: %s", health.name, e)

    def _report_scanners(self) -> None:
        for s in self.cfg.scanner:
            if make(s).present():
                log.info("scanner %s (%s %s) present", s.name, s.driver, s.address or "simulated")
            else:
                log.warning("scanner %s (%s) not found: check its USB cable and power; "
                            "jobs for it will fail until it is back", s.name, s.address)

    def _scanner_loop(self, scanner: ScannerSettings) -> None:
        with Queue(self.storage.db) as queue:
            worker = Worker(self.cfg, self.storage, queue, scanner, stop=self.stop,
                            hold=self.hold,
                            on_change=self.events.on_job)
            while not self.stop.is_set():
                try:
                    job = None if self.hold.is_set() else queue.next_for(scanner.name)
                    if job is None:
                        self.stop.wait(POLL_SECONDS)
                    else:
                        self._work(queue, worker, job.id)
                except Exception:  # the loop must outlive any one job or a full card
                    log.exception("scanner %s worker error; retrying", scanner.name)
                    self.stop.wait(ERROR_BACKOFF_SECONDS)

    def _work(self, queue: Queue, worker: Worker, job_id: int) -> None:
        try:
            worker.run(queue.get(job_id))
        except EdgeError as e:
            log.error("job %d: %s", job_id, e)
            self._park(queue, job_id, e.message, e.vi)
        except Exception:
            log.exception("job %d: internal error", job_id)
            self._park(queue, job_id, "internal error, see the service log",
                       "Lỗi phần mềm, hãy báo kỹ thuật viên")

    def _park(self, queue: Queue, job_id: int, message: str, vi: str) -> None:
        """Take a job that raised out of the worker's way without losing its pages.

        A queued job stays queued (retried after a pause); a started one is paused.
        """
        if queue.get(job_id).state in (State.SCANNING, State.ASSEMBLING):
            queue.transition(job_id, State.PAUSED, message, vi)
        self.stop.wait(ERROR_BACKOFF_SECONDS)

    def _hot_folder_loop(self) -> None:
        assert self.cfg.hot_folder is not None
        path = self.cfg.hot_folder.path
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with Queue(self.storage.db) as queue:
            hot = hotfolder.HotFolder(self.cfg, self.storage, queue)
            while not self.stop.wait(HOT_FOLDER_POLL_SECONDS):
                try:
                    hot.poll()
                except OSError as e:  # an unreadable folder must not end the service; the
                    # error's file name may be a citizen's: log only what went wrong
                    log.error("hot folder %s: %s; retrying", path, e.strerror)
                    self.stop.wait(ERROR_BACKOFF_SECONDS)
                except Exception:
                    log.exception("hot folder %s: error; retrying", path)
                    self.stop.wait(ERROR_BACKOFF_SECONDS)

    def _ocr_loop(self) -> None:
        if not ocr.available(self.cfg.ocr.language):
            log.error("OCR is enabled but tesseract (language %r) or pdftoppm is missing: "
                      "apt-get install tesseract-ocr tesseract-ocr-vie poppler-utils",
                      self.cfg.ocr.language)
            return
        with Queue(self.storage.db) as queue:
            while not self.stop.wait(OCR_POLL_SECONDS):
                try:
                    while (self.ocr_may_run(queue)
                           and ocr.run_once(self.cfg, self.storage, queue, self.stop)):
                        pass
                except Exception:
                    log.exception("OCR error; retrying later")

    def ocr_may_run(self, queue: Queue) -> bool:
        """OCR is a long CPU job: only on mains power, and while staff are not scanning."""
        return self.power.on_mains and ocr.idle_for(queue) >= self.cfg.ocr.idle_seconds

    def _delivery_loop(self) -> None:
        """Send finished dossiers to the [[delivery]] targets; this thread owns their rclone."""
        from edge.delivery.engine import Deliverer
        from edge.delivery.store import Store

        deliverer = Deliverer(self.cfg, self.events, self.stop)
        with (file_lock(self.storage.locks / "delivery.lock", wait=None),
              Queue(self.storage.db) as queue, Store(self.storage.root) as store):
            try:
                while not self.stop.wait(DELIVERY_POLL_SECONDS):
                    try:
                        # an update holds this lock while it stops the service: skip the pass
                        with delivery_pass(self.storage.locks, wait=0) as mine:
                            if mine:
                                deliverer.run_once(queue, store)
                    except Exception:  # a bug or a full card must not end delivery for good
                        log.exception("delivery error; retrying")
                        self.stop.wait(ERROR_BACKOFF_SECONDS)
            finally:
                deliverer.close()

    def _purge_loop(self) -> None:
        from edge.delivery.engine import purge_rule
        from edge.delivery.store import Store

        with Queue(self.storage.db) as queue, Store(self.storage.root) as store:
            while True:
                try:
                    outbox.purge(self.storage, queue, self.cfg.storage.retention_days,
                                 delivered=purge_rule(self.cfg, store))
                except Exception:  # a failing card must not end purging for good
                    log.exception("retention purge failed; retrying in an hour")
                if self.stop.wait(PURGE_EVERY_SECONDS):
                    return


def recover_if_idle(storage: Storage, queue: Queue) -> None:
    """Finish what a killed process left half done, unless another process is working."""
    with worker_lock(storage.locks) as held:
        if held:
            outbox.recover(storage, queue)


def drive(cfg: config.Config, storage: Storage, queue: Queue, job_id: int,
          stop: threading.Event) -> Job:
    """Get a job settled: by this process if no daemon runs, else by waiting for the daemon."""
    while True:
        with worker_lock(storage.locks) as held:
            if held:
                outbox.recover(storage, queue)
                job = queue.get(job_id)
                worker = Worker(cfg, storage, queue, cfg.scanner_named(job.scanner), stop=stop,
                                on_change=for_process(cfg).on_job)
                return worker.run(job)
        job = queue.get(job_id)
        if job.state in SETTLED:
            return job
        if stop.wait(POLL_SECONDS):
            return job
