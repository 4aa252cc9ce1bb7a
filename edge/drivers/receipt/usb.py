"""USB receipt printers (a vendor:product id, bulk endpoints): two-way, the port stays open."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from edge.drivers.receipt.settings import DLE_EOT, ReceiptSettings
from edge.errors import ConfigError

if TYPE_CHECKING:
    from escpos.escpos import Escpos


@dataclass(frozen=True)
class Usb(ReceiptSettings):
    transport: Literal["usb"] = "usb"
    usb_id: str = ""  # vendor:product, e.g. "0416:5011"
    in_ep: int = 0x82
    out_ep: int = 0x01
    interface: int = 0

    required = "usb_id"
    what_to_check = "Kiểm tra cáp USB và công tắc nguồn của máy in phiếu."

    def check(self) -> None:
        super().check()
        if not re.fullmatch(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}", self.usb_id):
            raise ConfigError(f"receipt_printer {self.name!r}: usb_id {self.usb_id!r} is not "
                              "vendor:product in hex, like 04c5:132e")

    @property
    def where(self) -> str:
        return f"USB {self.usb_id}"

    def make(self) -> Escpos:
        from edge.drivers.receipt.printers import InterfaceUsb

        vid, pid = (int(x, 16) for x in self.usb_id.split(":"))
        return InterfaceUsb(self.interface, idVendor=vid, idProduct=pid,
                            timeout=int(self.timeout * 1000), in_ep=self.in_ep,
                            out_ep=self.out_ep, profile=self.profile)

    def status_reply(self, printer: Escpos, n: int) -> bytes:
        import usb.core

        dev = printer.device  # opens the connection if needed
        printer._raw(DLE_EOT + bytes([n]))
        try:
            return bytes(dev.read(printer.in_ep, 16, int(self.timeout * 1000)))
        except usb.core.USBTimeoutError:
            return b""
