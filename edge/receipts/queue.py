"""The durable print spool: a slip for an offline printer waits here, is retried, and is never
silently lost.

Every slip is spooled before it is sent: `<storage root>/receipts/spool/<id>.bin` holds its
ESC/POS bytes and `<id>.json` what the service needs to retry and report it (printer, template,
ticket, attempts, last error; never the citizen's name, though the bytes contain it, so files are
0600 in 0700 folders). Both are written atomically (temporary file, fsync, rename), the `.bin`
last: a slip is in the spool exactly when its `.bin` is. Whoever prints a slip holds an flock on
its `.bin`, so `edge receipt` and the service never print the same slip twice at once.

The retry budget (`retry_seconds` of the printer) counts the time the slip has been seen waiting,
not wall-clock differences: a Pi has no real-time clock, and a jump of the clock at NTP sync must
neither fail a fresh slip nor keep a stale one forever. A slip past its budget moves to
`receipts/failed/`, with the reason, where the web UI can show it (`failed()`) for staff to
reprint or discard.

The daemon calls `retry_pending(cfg, cfg.storage.root, time.time())` every few seconds (and at
start), logs or shows the outcomes that are "printed" or "failed", and may pass its own
`ReceiptDevice`s so the port is shared with the health poller, and its events sink, which counts
the printed slips.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edge import config
from edge.drivers.receipt.device import ReceiptDevice
from edge.errors import DeviceError, EdgeError, StorageError
from edge.field import visits
from edge.field.queue import TEMPLATE as QUEUE_TEMPLATE
from edge.pipeline.storage import fsync_dir
from edge.telemetry.events import Events
from edge.telemetry.service import for_process
from edge.text import printable

log = logging.getLogger(__name__)

STEP_LIMIT = 300.0  # seconds: a longer gap between two looks at a slip is a clock jump or a
#                     stopped service, and is not counted against the slip's retry budget
State = Literal["printed", "waiting", "failed", "busy"]


@dataclass(frozen=True)
class Entry:
    """One spooled slip (what its `.json` says)."""

    id: str
    printer: str
    template: str
    ticket: str
    created: float  # wall-clock time it was spooled (for people; not for the budget)
    seen: float  # when it was last looked at
    waited: float = 0.0  # seconds counted against the retry budget
    attempts: int = 0
    error: str = ""
    error_vi: str = ""

    def summary(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    state: State
    message: str = ""
    vi: str = ""

    def summary(self) -> dict[str, object]:
        return {"job": self.entry.id, "printer": self.entry.printer,
                "template": self.entry.template, "ticket": self.entry.ticket,
                "state": self.state, "attempts": self.entry.attempts, "message": self.message,
                "vi": self.vi}


class Spool:
    """`receipts/spool/` and `receipts/failed/` under the storage root."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "receipts" / "spool"
        self.failed_dir = root / "receipts" / "failed"

    def prepare(self) -> None:
        try:
            for d in (self.dir.parent, self.dir, self.failed_dir):
                d.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"cannot create the receipt spool {self.dir}: {e.strerror}",
                               vi="Không ghi được hàng đợi in phiếu",
                               hint="check storage.root, its owner and permissions") from None

    # ------------------------------------------------------------ files

    def add(self, printer: str, template: str, ticket: str, data: bytes, now: float) -> Entry:
        """Spool a slip durably; it is then the spool's until printed or failed."""
        self.prepare()
        entry = Entry(f"{int(now * 1000):013d}-{secrets.token_hex(3)}", printer, template,
                      ticket, now, now)
        self._write(self.dir / f"{entry.id}.json", _json(entry))
        self._write(self.dir / f"{entry.id}.bin", data)
        return entry

    def _write(self, target: Path, data: bytes) -> None:
        tmp = target.with_name(f".tmp-{target.name}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            fsync_dir(target.parent)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"cannot write {target}: {e.strerror}",
                               vi="Không ghi được hàng đợi in phiếu (thẻ nhớ đầy hoặc hỏng?)",
                               hint="free space under storage.root") from None

    def pending(self) -> list[Entry]:
        """Slips waiting, oldest first."""
        return self._entries(self.dir)

    def failed(self) -> list[Entry]:
        """Slips that could not be printed in time, oldest first, with the reason."""
        return self._entries(self.failed_dir)

    def _entries(self, folder: Path) -> list[Entry]:
        out = []
        for data in sorted(folder.glob("*.bin")):
            entry = self.read(data.with_suffix(".json"))
            if entry is not None:
                out.append(entry)
        return out

    @staticmethod
    def read(meta: Path) -> Entry | None:
        try:
            return Entry(**json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def data(self, entry: Entry) -> bytes:
        return (self.dir / f"{entry.id}.bin").read_bytes()

    def update(self, entry: Entry) -> None:
        self._write(self.dir / f"{entry.id}.json", _json(entry))

    def remove(self, entry: Entry) -> None:
        """Printed: the slip leaves the spool (the bytes first, so it is gone at once)."""
        (self.dir / f"{entry.id}.bin").unlink(missing_ok=True)
        (self.dir / f"{entry.id}.json").unlink(missing_ok=True)
        fsync_dir(self.dir)

    def fail(self, entry: Entry) -> None:
        """Past its retry budget: moved to failed/, with the reason."""
        self.prepare()
        self._write(self.failed_dir / f"{entry.id}.json", _json(entry))
        os.replace(self.dir / f"{entry.id}.bin", self.failed_dir / f"{entry.id}.bin")
        (self.dir / f"{entry.id}.json").unlink(missing_ok=True)
        fsync_dir(self.dir)
        fsync_dir(self.failed_dir)

    def discard(self, entry_id: str) -> bool:
        """Forget a failed slip (staff reprinted it or gave up); False if there is none."""
        found = (self.failed_dir / f"{entry_id}.bin").exists()
        for suffix in (".bin", ".json"):
            (self.failed_dir / f"{entry_id}{suffix}").unlink(missing_ok=True)
        return found

    def state(self, entry: Entry) -> State:
        """Where a slip is now: still waiting, failed, or gone from the spool (printed)."""
        if (self.dir / f"{entry.id}.bin").exists():
            return "waiting"
        return "failed" if (self.failed_dir / f"{entry.id}.bin").exists() else "printed"

    @contextlib.contextmanager
    def claimed(self, entry: Entry) -> Iterator[bool]:
        """True while this process alone may print the slip; False if another holds it or it
        has left the spool."""
        path = self.dir / f"{entry.id}.bin"
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            yield False
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            yield same
        finally:
            os.close(fd)


def _json(entry: Entry) -> bytes:
    """What is stored of a slip: its free text (a printer's error...) without control codes."""
    fields = {k: printable(v) if isinstance(v, str) else v for k, v in entry.summary().items()}
    return json.dumps(fields, ensure_ascii=False, indent=1).encode("utf-8")


# ------------------------------------------------------------------ printing from the spool


def attempt(spool: Spool, entry: Entry, device: ReceiptDevice, budget: float,
            now: float) -> Outcome:
    """Try to print one spooled slip now; on failure count the wait and fail it past `budget`."""
    with spool.claimed(entry) as mine:
        if not mine:
            state = spool.state(entry)
            return Outcome(entry, "busy" if state == "waiting" else state)
        current = Spool.read(spool.dir / f"{entry.id}.json") or entry
        try:
            device.print(spool.data(current))
        except DeviceError as e:
            return _not_printed(spool, current, e, budget, now)
        spool.remove(current)
    log.info("receipt printed: template %s, ticket %s, printer %s, after %d earlier attempts",
             current.template, current.ticket or "-", current.printer, current.attempts,
             extra={"event": "receipt.printed", "printer": current.printer})
    return Outcome(current, "printed", f"printed on {current.printer}",
                   f"Đã in phiếu trên máy {current.printer}.")


def postpone(spool: Spool, entry: Entry, e: EdgeError, budget: float, now: float) -> Outcome:
    """Count a slip as not printed without trying (its printer is down or gone)."""
    with spool.claimed(entry) as mine:
        if not mine:
            state = spool.state(entry)
            return Outcome(entry, "busy" if state == "waiting" else state)
        return _not_printed(spool, Spool.read(spool.dir / f"{entry.id}.json") or entry, e,
                            budget, now)


def _not_printed(spool: Spool, entry: Entry, e: EdgeError, budget: float,
                 now: float) -> Outcome:
    previous = entry.error
    step = now - entry.seen
    waited = entry.waited + (step if 0 <= step <= STEP_LIMIT else 0.0)
    entry = dataclasses.replace(entry, seen=now, waited=waited, attempts=entry.attempts + 1,
                                error=e.message, error_vi=e.vi)
    if waited >= budget:
        spool.fail(entry)
        log.error("receipt NOT printed, given up after %.0f s and %d attempts: template %s, "
                  "ticket %s, printer %s: %s", waited, entry.attempts, entry.template,
                  entry.ticket or "-", entry.printer, e.message,
                  extra={"event": "receipt.failed", "printer": entry.printer})
        return Outcome(entry, "failed",
                       f"slip {entry.ticket or entry.id} was not printed: {e.message} "
                       f"(tried {entry.attempts} times over {waited:.0f} s)",
                       f"Không in được phiếu {entry.ticket or ''}: {e.vi}")
    spool.update(entry)
    news = entry.attempts == 1 or e.message != previous
    log.log(logging.WARNING if news else logging.DEBUG,
            "receipt waiting for printer %s (template %s, ticket %s, attempt %d): %s",
            entry.printer, entry.template, entry.ticket or "-", entry.attempts, e.message)
    return Outcome(entry, "waiting",
                   f"{e.message}; the slip is queued and retried for "
                   f"{max(0.0, budget - waited):.0f} more seconds",
                   f"{e.vi} Phiếu đang chờ in và sẽ được in lại khi máy in sẵn sàng.")


def count_printed(cfg: config.Config, events: Events | None = None, template: str = "") -> None:
    """One more slip in today's telemetry counts (the commune's weekly report), on the sink
    passed down (the service's), else on this process's own; and in the open visit's counts,
    unless it is a queue number (those are counted as numbers issued)."""
    try:
        if template != QUEUE_TEMPLATE:
            visits.count(cfg.storage.root, "slips")
        (for_process(cfg) if events is None else events).add_count("receipts")
    except EdgeError as e:  # a count lost is no reason to fail a printed slip
        log.warning("receipt printed but not counted: %s", e)


def retry_pending(cfg: config.Config, storage_root: Path, now: float,
                  devices: Mapping[str, ReceiptDevice] | None = None,
                  events: Events | None = None) -> list[Outcome]:
    """Try every waiting slip once, oldest first; stop early for a printer that is down.

    Call it from the service every few seconds with `time.time()`. Returns one outcome per
    slip looked at: "printed", "waiting" (retried later), "failed" (moved to failed/, report
    it), or "busy" (another process is printing it, or an older slip of the same printer).
    """
    spool = Spool(storage_root)
    printers = {p.name: p for p in cfg.receipt_printer}
    own: dict[str, ReceiptDevice] = {}
    down: dict[str, DeviceError] = {}  # printer -> why its first slip did not print
    busy: set[str] = set()  # printers another process is printing a slip on
    outcomes = []
    try:
        for entry in spool.pending():
            printer = printers.get(entry.printer)
            if printer is None:
                outcomes.append(postpone(spool, entry, DeviceError(
                    f"receipt printer {entry.printer!r} is no longer configured",
                    vi=f"Máy in phiếu {entry.printer!r} không còn trong cấu hình."), 0.0, now))
            elif entry.printer in busy:  # keep the order: wait for the one being printed
                outcomes.append(Outcome(entry, "busy"))
            elif entry.printer in down:  # keep the order: no slip overtakes an older one
                outcomes.append(postpone(spool, entry, down[entry.printer],
                                         printer.retry_seconds, now))
            else:
                device = (devices or {}).get(entry.printer) or own.setdefault(
                    entry.printer, ReceiptDevice(printer))
                outcome = attempt(spool, entry, device, printer.retry_seconds, now)
                if outcome.state == "printed":
                    count_printed(cfg, events, entry.template)
                if outcome.state in ("waiting", "failed"):
                    down[entry.printer] = DeviceError(outcome.entry.error,
                                                      vi=outcome.entry.error_vi)
                elif outcome.state == "busy":
                    busy.add(entry.printer)
                outcomes.append(outcome)
    finally:
        for d in own.values():
            d.close()
    return outcomes
