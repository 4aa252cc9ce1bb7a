"""The settings of USB presence drivers (`[[usb]]`); kept apart from pyusb's import."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from edge.drivers.settings import Settings, build, polled_problems, usb_id_problem


@dataclass(frozen=True)
class UsbSettings(Settings):
    """A USB device whose presence gives "unplugged" a precise meaning (scanners, printers)."""

    kind: ClassVar[str] = "usb"
    name: str
    id: str  # vendor:product in hex, as lsusb shows it: "04c5:132e"
    driver: str = "pyusb"
    interval: float = 5.0

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from polled_problems(self.name, self.interval)
        yield from usb_id_problem("id", self.id)


@dataclass(frozen=True)
class PyusbSettings(UsbSettings):
    driver: Literal["pyusb"] = "pyusb"


@dataclass(frozen=True)
class SimUsbSettings(UsbSettings):
    driver: Literal["sim"] = "sim"


def Usb(driver: str = "pyusb", **keys: Any) -> UsbSettings:
    """The settings a `[[usb]]` table with `driver` and these keys gives."""
    return build("usb", driver, **keys)  # type: ignore[no-any-return]
