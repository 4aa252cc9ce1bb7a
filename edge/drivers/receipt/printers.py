"""The python-escpos printer classes the transports open, amended where python-escpos falls short.

Its `LP` ignores `lp`'s exit status and its `Usb` always claims interface 0; `SimEscpos` is the
simulated printer. Imported only when a printer is opened (or by `device`), never when the
config is loaded. Also tames python-escpos's logging of every connection.
"""

from __future__ import annotations

from edge.drivers.receipt import library  # noqa: F401  (prepares python-escpos: import it first)

# isort: split
import logging
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import serial
import usb.core
import usb.util
from escpos.escpos import Escpos
from escpos.printer import LP, Usb

from edge.drivers.receipt.settings import DLE_EOT
from edge.errors import DeviceError

TRANSPORT_ERRORS = (OSError, socket.timeout, serial.SerialException, usb.core.USBError,
                    subprocess.SubprocessError)


class QuietEscpos(logging.Filter):
    """python-escpos logs every connection opened or closed at INFO on the root logger; with a
    printer polled every few seconds that would fill the journal. Its warnings still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.levelno >= logging.WARNING
                or f"{os.sep}escpos{os.sep}" not in record.pathname)


if not any(isinstance(f, QuietEscpos) for f in logging.getLogger().filters):
    logging.getLogger().addFilter(QuietEscpos())


class CheckedLp(LP):
    """`lp -d QUEUE -o raw`, with lp's failure reported (python-escpos discards it)."""

    def flush(self) -> None:
        proc, done = self._device, self._flushed
        super().flush()
        if not done and isinstance(proc, subprocess.Popen) and proc.returncode:
            raise DeviceError(f"CUPS queue {self.printer_name!r} refused the slip "
                              f"(lp exit status {proc.returncode})",
                              vi="Hàng đợi in CUPS từ chối phiếu in.",
                              hint=f"check `lpstat -p {self.printer_name}`")


class InterfaceUsb(Usb):
    """`Usb` detaching the kernel driver from the configured interface, not always 0."""

    def __init__(self, interface: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interface = interface

    def _check_driver(self) -> None:
        dev = self.device
        if dev is None:
            return
        try:
            if dev.is_kernel_driver_active(self.interface):
                dev.detach_kernel_driver(self.interface)
        except (NotImplementedError, usb.core.USBError):
            pass  # not every backend can; if the kernel keeps it, writing will say so


PERIOD = 900.0  # seconds
NEAR_END = (600.0, 720.0)  # the near-end episode, as seconds into each period
OK, NEAR = 0x12, 0x12 | 0x0C  # DLE EOT 4 answers


class SimEscpos(Escpos):
    """A simulated printer answering DLE EOT like a healthy Epson printer. It only counts the
    bytes it receives, or appends them to `path`. Its paper runs near its end for `NEAR_END`
    seconds of every `PERIOD`, counted from when the process started, so a demo shows the
    warning and the recovery."""

    started = time.monotonic()

    def __init__(self, path: Path | None = None, clock: Callable[[], float] = time.monotonic,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.clock = clock
        self.received = 0
        self._device = None  # nothing to open

    def open(self) -> None:
        return None

    def _raw(self, msg: bytes) -> None:
        if msg.startswith(DLE_EOT):
            return  # a status query, answered by `answer`
        self.received += len(msg)
        if self.path is not None:
            with open(self.path, "ab") as f:
                f.write(msg)

    def near_end(self) -> bool:
        start, end = NEAR_END
        return start <= (self.clock() - self.started) % PERIOD < end

    def answer(self, n: int) -> bytes:
        """The status byte for DLE EOT n."""
        return bytes([NEAR if n == 4 and self.near_end() else OK])
