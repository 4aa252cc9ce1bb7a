"""The settings of each office printer driver (`[[printer]]`); imports nothing heavy."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar, Literal

from edge.drivers.settings import Polled, build


@dataclass(frozen=True)
class PrinterSettings(Polled):
    """What every printer driver takes."""

    kind: ClassVar[str] = "printer"
    name: str = "mfp"
    driver: str = "sim"
    interval: float = 30.0
    timeout: float = 10.0
    toner_low_percent: int = 15


@dataclass(frozen=True)
class IppSettings(PrinterSettings):
    """A printer answering IPP, or a CUPS queue."""

    required: ClassVar[tuple[str, ...]] = ("uri",)
    driver: Literal["ipp"] = "ipp"
    uri: str = ""  # ipp://host:631/ipp/print, or a CUPS queue ipp://localhost:631/printers/NAME


@dataclass(frozen=True)
class SimPrinterSettings(PrinterSettings):
    """The demo twin."""

    driver: Literal["sim"] = "sim"


Printer = functools.partial(build, PrinterSettings)  # what a [[printer]] table gives, by driver
