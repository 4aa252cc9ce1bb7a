"""Network receipt printers (raw TCP, port 9100): two-way; such a printer serves one connection
at a time, so each poll or print opens and closes its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from edge.drivers.receipt.settings import DLE_EOT, ReceiptSettings

if TYPE_CHECKING:
    from escpos.escpos import Escpos


@dataclass(frozen=True)
class Network(ReceiptSettings):
    transport: Literal["network"] = "network"
    host: str = ""
    port: int = 9100

    reopened_each_time = True
    required = "host"
    what_to_check = "Kiểm tra máy in phiếu đã bật và đã kết nối mạng."

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def make(self) -> Escpos:
        from escpos.printer import Network as NetworkPrinter

        return NetworkPrinter(host=self.host, port=self.port, timeout=self.timeout,
                              profile=self.profile)

    def status_reply(self, printer: Escpos, n: int) -> bytes:
        dev = printer.device  # opens the connection if needed
        printer._raw(DLE_EOT + bytes([n]))
        try:
            return dev.recv(1)
        except TimeoutError:
            return b""
