"""The settings of USB presence drivers (`[[usb]]`); kept apart from pyusb's import."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

from edge.drivers.settings import Polled, build, usb_id_problem


@dataclass(frozen=True)
class UsbSettings(Polled):
    """A USB device whose presence gives "unplugged" a precise meaning (scanners, printers)."""

    kind: ClassVar[str] = "usb"
    name: str
    id: str  # vendor:product in hex, as lsusb shows it: "04c5:132e"
    driver: str = "pyusb"
    interval: float = 5.0

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        yield from usb_id_problem("id", self.id)


@dataclass(frozen=True)
class PyusbSettings(UsbSettings):
    driver: Literal["pyusb"] = "pyusb"


@dataclass(frozen=True)
class SimUsbSettings(UsbSettings):
    driver: Literal["sim"] = "sim"


Usb = functools.partial(build, UsbSettings)  # what a [[usb]] table gives, by driver
