"""Serial receipt printers (RS-232 or a USB serial adapter): two-way, the port stays open.

Writes are bounded in time: a printer holding its handshake line (switched off, DSR low) would
otherwise block a write forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from edge.drivers.receipt.settings import DLE_EOT, ReceiptSettings

if TYPE_CHECKING:
    from escpos.escpos import Escpos


@dataclass(frozen=True)
class Serial(ReceiptSettings):
    transport: Literal["serial"] = "serial"
    device: str = ""
    baudrate: int = 9600

    required = "device"
    what_to_check = "Kiểm tra cáp nối và công tắc nguồn của máy in phiếu."

    @property
    def where(self) -> str:
        return self.device

    def make(self) -> Escpos:
        from escpos.printer import Serial as SerialPrinter

        return SerialPrinter(devfile=self.device, baudrate=self.baudrate, timeout=self.timeout,
                             profile=self.profile)

    def send(self, printer: Escpos, data: bytes) -> None:
        baud = max(printer.baudrate, 300)
        printer.device.write_timeout = self.timeout + len(data) * 10 / baud * 1.5
        printer._raw(data)

    def status_reply(self, printer: Escpos, n: int) -> bytes:
        dev = printer.device  # opens the connection if needed
        dev.write_timeout = self.timeout
        dev.reset_input_buffer()
        printer._raw(DLE_EOT + bytes([n]))
        return dev.read(1)
