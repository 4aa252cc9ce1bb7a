"""One receipt printer, whatever its transport: its health, and delivering a slip's bytes.

`ReceiptDevice` is one configured `[[receipt_printer]]`, whatever its transport. Where the
transport is two-way (usb, serial, network, sim) `poll()` asks the printer itself (`DLE EOT`)
and `print()` refuses to send to a printer that would not print (offline, paper out, cover
open), so the slip waits in the queue instead of being lost in a printer's buffer; after
sending, one more status query confirms the printer took the bytes. One-way transports (cups,
file) can only say whether the queue or file is there.

Network printers serve one connection at a time, so each poll or print opens and closes its own;
serial and USB ports stay open and are reopened after any error.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator

import usb.core
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from PIL import Image

from edge import config
from edge.drivers.device import Device
from edge.drivers.receipt import transports
from edge.drivers.receipt.status import OFFLINE, Status
from edge.errors import ConfigError, DeviceError
from edge.health import Metric, Reading

REQUIRED = {"usb": "usb_id", "serial": "device", "network": "host", "cups": "queue",
            "file": "path"}
REOPENED_EACH_TIME = frozenset({"network", "cups", "file"})


def check(cfg: config.ReceiptPrinter) -> None:
    """Refuse settings a transport cannot work without, naming the key."""
    key = REQUIRED.get(cfg.transport)
    if key and not getattr(cfg, key):
        raise ConfigError(f"receipt_printer {cfg.name!r}: {key} is required for transport "
                          f"{cfg.transport!r}")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", cfg.name):
        raise ConfigError(f"receipt_printer {cfg.name!r}: name must be 1-32 letters, digits, "
                          "'-' or '_'")
    if cfg.timeout <= 0 or cfg.interval < 0.5 or cfg.retry_seconds < 0:
        raise ConfigError(f"receipt_printer {cfg.name!r}: timeout must be positive, interval at "
                          "least 0.5 s and retry_seconds not negative")


class ReceiptDevice(Device):
    """A receipt printer on any transport."""

    kind = "receipt"

    def __init__(self, cfg: config.ReceiptPrinter) -> None:
        check(cfg)
        super().__init__(cfg)
        self.cfg: config.ReceiptPrinter = cfg
        self._lock = threading.Lock()
        self._printer: Escpos | None = None

    @property
    def two_way(self) -> bool:
        return self.cfg.transport in transports.TWO_WAY

    # ---------------------------------------------------------------- health

    def poll(self) -> Reading:
        if self.cfg.transport == "cups":
            return cups_reading(self.cfg)
        if self.cfg.transport == "file":
            return file_reading(self.cfg)
        with self._session() as p:
            return self._status(p).reading(self.cfg.transport)

    def status(self) -> Status:
        """The printer's status now (two-way transports; DeviceAbsent if it does not answer)."""
        with self._session() as p:
            return self._status(p)

    def _status(self, p: Escpos) -> Status:
        t = self.cfg.timeout
        online, offline, paper = (transports.query(p, n, t) for n in (1, 2, 4))
        if online is None or offline is None or paper is None:
            raise transports.lost(self.cfg, "no reply to a status query")
        errors = transports.query(p, 3, t) if offline & 0x40 else None
        return Status.parse(online, offline, paper, errors)

    # ---------------------------------------------------------------- printing

    def print(self, job: bytes | Image.Image) -> None:
        """Send one slip (its ESC/POS bytes, or an image to print as it is).

        Raises DeviceAbsent when the printer is not there, DeviceError when it is there but
        would not print (the problem says why): either way nothing was printed.
        """
        data = job if isinstance(job, bytes) else _image_job(job, self.cfg)
        with self._session() as p:
            if self.two_way:
                status = self._status(p)
                if not status.ready:
                    problem = status.why_not_ready()
                    raise DeviceError(f"receipt printer {self.name}: {problem.en}",
                                      vi=problem.vi)
            transports.send(p, data, self.cfg.timeout)
            if isinstance(p, transports.CheckedLp):
                p.close()  # lp sends the job when its input ends; failures surface here
            if self.two_way and transports.query(p, 1, self.cfg.timeout) is None:
                raise transports.lost(self.cfg, "it did not confirm the slip")

    # ---------------------------------------------------------------- connection

    @contextlib.contextmanager
    def _session(self) -> Iterator[Escpos]:
        """The open printer, for one operation; closed after it on error (and always for
        transports that hold a connection the printer can only give one client)."""
        with self._lock:
            if self._printer is None:
                self._printer = transports.make(self.cfg)
            try:
                yield self._printer
            except usb.core.NoBackendError:
                self._close()
                raise DeviceError("USB cannot be used: libusb is missing",
                                  vi="Không dùng được cổng USB; hãy báo kỹ thuật viên",
                                  hint="apt-get install libusb-1.0-0") from None
            except DeviceNotFoundError as e:
                self._close()
                raise transports.lost(self.cfg, str(e.msg).splitlines()[-1]) from None
            except transports.TRANSPORT_ERRORS as e:
                self._close()
                if isinstance(e, OSError) and self.cfg.transport == "file":
                    raise DeviceError(f"receipt printer {self.name}: cannot write "
                                      f"{self.cfg.path}: {e}") from None
                raise transports.lost(self.cfg, e) from None
            except BaseException:
                self._close()
                raise
            if self.cfg.transport in REOPENED_EACH_TIME:
                self._close()

    def _close(self) -> None:
        if self._printer is not None:
            with contextlib.suppress(*transports.TRANSPORT_ERRORS, DeviceError):
                self._printer.close()
            self._printer = None

    def close(self) -> None:
        with self._lock:
            self._close()


def _image_job(img: Image.Image, cfg: config.ReceiptPrinter) -> bytes:
    from edge.receipts.stream import raster_job  # the receipts package builds ESC/POS bytes

    return raster_job(img, cfg)


def file_reading(cfg: config.ReceiptPrinter) -> Reading:
    """A file transport is "online" when its file (a device such as /dev/usb/lp0) or, for a
    plain file, its folder is there and writable."""
    path = cfg.path
    assert path is not None
    target = path if path.exists() or str(path).startswith("/dev/") else path.parent
    if not target.exists():
        raise transports.lost(cfg, f"{target} does not exist")
    if not os.access(target, os.W_OK):
        raise DeviceError(f"receipt printer {cfg.name}: {target} is not writable",
                          vi="Không ghi được ra máy in phiếu (thiếu quyền).",
                          hint="add the service user to the lp group")
    return Reading({"receipt.online": Metric(True), "receipt.paper": Metric("unknown"),
                    "receipt.transport": Metric("file")})


def cups_reading(cfg: config.ReceiptPrinter) -> Reading:
    """What `lpstat -p QUEUE` says: enabled (online) or disabled; absent if no such queue."""
    if shutil.which("lpstat") is None:
        raise DeviceError("lpstat is missing: the CUPS client is not installed",
                          hint="apt-get install cups-client")
    try:
        out = subprocess.run(["lpstat", "-p", cfg.queue], capture_output=True, text=True,
                             timeout=cfg.timeout)
    except subprocess.TimeoutExpired:
        raise transports.lost(cfg, "lpstat timed out") from None
    return lpstat_reading(cfg, out.returncode, out.stdout + out.stderr)


def lpstat_reading(cfg: config.ReceiptPrinter, code: int, text: str) -> Reading:
    if code != 0 or f"printer {cfg.queue} " not in text:
        raise transports.lost(cfg, text.strip() or f"lpstat exit status {code}")
    online = "disabled" not in text.split("\n")[0]
    metrics = {"receipt.online": Metric(online), "receipt.paper": Metric("unknown"),
               "receipt.transport": Metric("cups")}
    return Reading(metrics, [] if online else [OFFLINE])

