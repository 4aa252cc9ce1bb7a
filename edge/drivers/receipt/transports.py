"""The way bytes reach a receipt printer, one python-escpos printer class per transport.

python-escpos carries the transports (`Usb`, `Serial`, `Network`, `LP` for a CUPS queue,
`File`); this module builds the right one from config and adds the two things it lacks: status
queries bounded by the configured timeout (its `query_status` reads 16 bytes from a serial port,
waiting out the whole timeout for the 1 byte that comes back), and failures reported rather than
swallowed (its `LP` ignores `lp`'s exit status, its `Usb` always claims interface 0).
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from typing import Any

import serial
import usb.core
import usb.util
from escpos.escpos import Escpos
from escpos.printer import LP, File, Network, Serial, Usb

from edge import config
from edge.drivers.receipt.sim import SimEscpos
from edge.errors import DeviceAbsent, DeviceError

DLE_EOT = b"\x10\x04"
TWO_WAY = frozenset({"usb", "serial", "network", "sim"})


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


def make(cfg: config.ReceiptPrinter) -> Escpos:
    """The (not yet opened) python-escpos printer for this config."""
    t = cfg.transport
    if t == "usb":
        vid, pid = (int(x, 16) for x in cfg.usb_id.split(":"))
        return InterfaceUsb(cfg.interface, idVendor=vid, idProduct=pid,
                            timeout=int(cfg.timeout * 1000), in_ep=cfg.in_ep, out_ep=cfg.out_ep,
                            profile=cfg.profile)
    if t == "serial":
        return Serial(devfile=cfg.device, baudrate=cfg.baudrate, timeout=cfg.timeout,
                      profile=cfg.profile)
    if t == "network":
        return Network(host=cfg.host, port=cfg.port, timeout=cfg.timeout, profile=cfg.profile)
    if t == "cups":
        return CheckedLp(printer_name=cfg.queue, profile=cfg.profile)
    if t == "file":
        return File(devfile=str(cfg.path), profile=cfg.profile)
    return SimEscpos(path=cfg.path, profile=cfg.profile)


def send(printer: Escpos, data: bytes, timeout: float) -> None:
    """Write bytes, bounded in time: a serial printer holding its handshake line (switched
    off, DSR low) would otherwise block the write forever."""
    if isinstance(printer, Serial):
        baud = max(printer.baudrate, 300)
        printer.device.write_timeout = timeout + len(data) * 10 / baud * 1.5
    printer._raw(data)


def query(printer: Escpos, n: int, timeout: float) -> int | None:
    """DLE EOT n: the printer's one status byte, or None if it does not answer in time."""
    dev = printer.device  # opens the connection if needed
    if isinstance(printer, Serial):
        dev.write_timeout = timeout
        dev.reset_input_buffer()
        printer._raw(DLE_EOT + bytes([n]))
        data = dev.read(1)
    elif isinstance(printer, Network):
        printer._raw(DLE_EOT + bytes([n]))
        try:
            data = dev.recv(1)
        except TimeoutError:
            data = b""
    elif isinstance(printer, Usb):
        printer._raw(DLE_EOT + bytes([n]))
        try:
            data = bytes(dev.read(printer.in_ep, 16, int(timeout * 1000)))
        except usb.core.USBTimeoutError:
            data = b""
    elif isinstance(printer, SimEscpos):
        data = printer.answer(n)
    else:
        raise NotImplementedError(f"{type(printer).__name__} is one-way")
    return data[0] if data else None


def lost(cfg: config.ReceiptPrinter, why: object) -> DeviceAbsent:
    """The printer is not there: what to check, by transport."""
    where = {"usb": f"USB {cfg.usb_id}", "serial": cfg.device,
             "network": f"{cfg.host}:{cfg.port}", "cups": f"CUPS queue {cfg.queue}",
             "file": str(cfg.path), "sim": "simulation"}[cfg.transport]
    check = {"usb": "Kiểm tra cáp USB và công tắc nguồn của máy in phiếu.",
             "serial": "Kiểm tra cáp nối và công tắc nguồn của máy in phiếu.",
             "network": "Kiểm tra máy in phiếu đã bật và đã kết nối mạng.",
             }.get(cfg.transport, "Kiểm tra máy in phiếu.")
    return DeviceAbsent(f"receipt printer {cfg.name} ({where}) does not answer: {why}",
                        vi=f"Máy in phiếu {cfg.name} không phản hồi. {check}")


TRANSPORT_ERRORS = (OSError, socket.timeout, serial.SerialException, usb.core.USBError,
                    subprocess.SubprocessError)
