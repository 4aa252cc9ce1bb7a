"""What every receipt printer's settings hold, and what each transport class must answer.

A `[[receipt_printer]]` is one of six transports (usb, serial, network, cups, file, sim), each a
small frozen dataclass in its own module holding the common keys below plus its own, checking
them, and answering what `ReceiptDevice` needs: two-way or not, reopened each time, how to open
the python-escpos printer, how to ask it for a status byte, where it is and what to check when it
is lost. `ReceiptSettings(transport=..., ...)` builds the class of that transport; `of(name)` is
the one mapping from a transport name to its class.

This module and the transport modules import no python-escpos, pyusb or pyserial at load time,
so loading the config stays light; a transport imports them when it opens its printer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from edge.drivers.settings import label_problem
from edge.errors import ConfigError, DeviceAbsent, EdgeError
from edge.health import Reading

if TYPE_CHECKING:
    from escpos.escpos import Escpos

DLE_EOT = b"\x10\x04"


@dataclass(frozen=True)
class ReceiptSettings:
    """A thermal ESC/POS printer for citizens' slips: the keys every transport takes.

    A subclass must set `transport` (its name, as a one-value Literal), `where` and `make`; a
    two-way one `status_reply`, a one-way one (`two_way = False`) `reading`. It may override
    `check` (calling this one), `send`, `failure` and the class variables.
    """

    name: str = "receipt"
    transport: str = "sim"
    label: str = ""  # what people see, e.g. "Máy in phiếu bàn 1" (see edge/drivers/settings.py)
    paper_mm: Literal[58, 80] = 80  # 384 or 576 dots
    text_mode: Literal["raster", "codepage"] = "raster"
    profile: str = "default"  # python-escpos capability profile, e.g. "TM-T20II"
    font: Path | None = None  # a Vietnamese-capable TTF; default: DejaVu Sans
    qr: Literal["raster", "native"] = "raster"
    interval: float = 10.0  # status polling, where the transport is two-way
    timeout: float = 5.0
    retry_seconds: float = 600.0  # an offline printer's slips wait this long, then fail loudly

    two_way: ClassVar[bool] = True  # answers DLE EOT status queries
    reopened_each_time: ClassVar[bool] = False  # closed after every poll or print
    required: ClassVar[str] = ""  # the key this transport cannot work without
    what_to_check: ClassVar[str] = "Kiểm tra máy in phiếu."
    by_transport: ClassVar[dict[str, type[ReceiptSettings]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ReceiptSettings.by_transport[cls.transport] = cls

    def __new__(cls, *args: Any, **kwargs: Any) -> ReceiptSettings:
        """`ReceiptSettings(transport="network", ...)` is a `Network`."""
        if cls is ReceiptSettings:
            cls = of(kwargs.get("transport", args[1] if len(args) > 1 else "sim"))
        return super().__new__(cls)

    @property
    def driver(self) -> str:
        return self.transport

    @classmethod
    def keys(cls) -> list[str]:
        return sorted(f.name for f in fields(cls))

    def check(self) -> None:
        """Refuse settings this transport cannot work with, naming the key."""
        if self.required and not getattr(self, self.required):
            raise ConfigError(f"receipt_printer {self.name!r}: {self.required} is required for "
                              f"transport {self.transport!r}")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", self.name):
            raise ConfigError(f"receipt_printer {self.name!r}: name must be 1-32 letters, "
                              "digits, '-' or '_'")
        for key, why in label_problem(self.label):
            raise ConfigError(f"receipt_printer {self.name!r}: {key}: {why}")
        if self.timeout <= 0 or self.interval < 0.5 or self.retry_seconds < 0:
            raise ConfigError(f"receipt_printer {self.name!r}: timeout must be positive, "
                              "interval at least 0.5 s and retry_seconds not negative")

    # ---------------------------------------------------------------- the printer

    @property
    def where(self) -> str:
        """Where the printer is, for messages."""
        raise NotImplementedError

    def make(self) -> Escpos:
        """The (not yet opened) python-escpos printer for these settings."""
        raise NotImplementedError

    def send(self, printer: Escpos, data: bytes) -> None:
        """Write one job's bytes."""
        printer._raw(data)

    def query(self, printer: Escpos, n: int) -> int | None:
        """DLE EOT n: the printer's one status byte, or None if it does not answer in time."""
        data = self.status_reply(printer, n)
        return data[0] if data else None

    def status_reply(self, printer: Escpos, n: int) -> bytes:
        """What a two-way printer answers to DLE EOT n (b"" when nothing comes in time)."""
        raise NotImplementedError(f"transport {self.transport} is one-way")

    def reading(self) -> Reading:
        """A one-way printer's health: whether its queue or file is there."""
        raise NotImplementedError(f"transport {self.transport} is two-way")

    def failure(self, error: Exception) -> EdgeError:
        """What an error of the connection means (by default: the printer is not there)."""
        return self.lost(error)

    def lost(self, why: object) -> DeviceAbsent:
        """The printer is not there: what to check."""
        who = self.label or "Máy in phiếu"
        return DeviceAbsent(f"receipt printer {self.name} ({self.where}) does not answer: {why}",
                            vi=f"{who} không phản hồi. {self.what_to_check}")


def of(transport: object) -> type[ReceiptSettings]:
    """The settings class of a transport name (ConfigError naming the known ones)."""
    try:
        return ReceiptSettings.by_transport[transport]  # type: ignore[index]
    except (KeyError, TypeError):
        known = ", ".join(map(repr, ReceiptSettings.by_transport))
        raise ConfigError(f"{transport!r} is not one of {known}") from None
