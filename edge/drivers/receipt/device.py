"""One receipt printer, whatever its transport: its health, and delivering a slip's bytes.

`ReceiptDevice` is one configured `[[receipt_printer]]`; its settings (a transport class, see
`settings`) say how to reach the printer. Where the transport is two-way `poll()` asks the
printer itself (`DLE EOT`) and `print()` refuses to send to a printer that would not print
(offline, paper out, cover open), so the slip waits in the queue instead of being lost in a
printer's buffer; after sending, one more status query confirms the printer took the bytes.
One-way transports can only say whether their queue or file is there.

Transports reopened each time (a network printer serves one connection at a time) open and close
a connection per poll or print; the others keep their port open and reopen it after any error.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import usb.core
from escpos.exceptions import DeviceNotFoundError

from edge.drivers.device import Device
from edge.drivers.receipt import printers
from edge.drivers.receipt.settings import ReceiptSettings
from edge.drivers.receipt.status import Status
from edge.errors import DeviceError
from edge.health import Reading

if TYPE_CHECKING:
    from escpos.escpos import Escpos


class ReceiptDevice(Device):
    """A receipt printer on any transport."""

    kind = "receipt"

    def __init__(self, cfg: ReceiptSettings) -> None:
        cfg.check()
        super().__init__(cfg)
        self.cfg: ReceiptSettings = cfg
        self._lock = threading.Lock()
        self._printer: Escpos | None = None

    @property
    def two_way(self) -> bool:
        return self.cfg.two_way

    # ---------------------------------------------------------------- health

    def poll(self) -> Reading:
        if not self.two_way:
            return self.cfg.reading()
        with self._session() as p:
            return self._status(p).reading(self.cfg.transport)

    def status(self) -> Status:
        """The printer's status now (two-way transports; DeviceAbsent if it does not answer)."""
        with self._session() as p:
            return self._status(p)

    def _status(self, p: Escpos) -> Status:
        online, offline, paper = (self.cfg.query(p, n) for n in (1, 2, 4))
        if online is None or offline is None or paper is None:
            raise self.cfg.lost("no reply to a status query")
        errors = self.cfg.query(p, 3) if offline & 0x40 else None
        return Status.parse(online, offline, paper, errors)

    # ---------------------------------------------------------------- printing

    def print(self, data: bytes) -> None:
        """Send one slip's ESC/POS bytes.

        Raises DeviceAbsent when the printer is not there, DeviceError when it is there but
        would not print (the problem says why): either way nothing was printed.
        """
        with self._session() as p:
            if self.two_way:
                status = self._status(p)
                if not status.ready:
                    problem = status.why_not_ready()
                    raise DeviceError(f"receipt printer {self.name}: {problem.en}",
                                      vi=problem.vi)
            self.cfg.send(p, data)
            if self.two_way and self.cfg.query(p, 1) is None:
                raise self.cfg.lost("it did not confirm the slip")

    # ---------------------------------------------------------------- connection

    @contextlib.contextmanager
    def _session(self) -> Iterator[Escpos]:
        """The open printer, for one operation; closed after it on error (and always for
        transports reopened each time)."""
        with self._lock:
            if self._printer is None:
                self._printer = self.cfg.make()
            try:
                yield self._printer
            except usb.core.NoBackendError:
                self._close()
                raise DeviceError("USB cannot be used: libusb is missing",
                                  vi="Không dùng được cổng USB; hãy báo kỹ thuật viên",
                                  hint="apt-get install libusb-1.0-0") from None
            except DeviceNotFoundError as e:
                self._close()
                raise self.cfg.lost(str(e.msg).splitlines()[-1]) from None
            except printers.TRANSPORT_ERRORS as e:
                self._close()
                raise self.cfg.failure(e) from None
            except BaseException:
                self._close()
                raise
            if self.cfg.reopened_each_time:
                self._close()

    def _close(self) -> None:
        if self._printer is not None:
            with contextlib.suppress(*printers.TRANSPORT_ERRORS, DeviceError):
                self._printer.close()
            self._printer = None

    def close(self) -> None:
        with self._lock:
            self._close()
