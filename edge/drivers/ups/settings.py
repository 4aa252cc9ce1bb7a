"""The settings of each UPS driver (`[[ups]]`), chosen by `driver`; imports nothing heavy."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from edge.drivers.settings import Polled, build


@dataclass(frozen=True)
class UpsSettings(Polled):
    """What every UPS driver takes."""

    kind: ClassVar[str] = "ups"
    name: str = "ups"
    driver: str = "sim"
    interval: float = 5.0
    timeout: float = 3.0


@dataclass(frozen=True)
class NutSettings(UpsSettings):
    """The UPS as upsd serves it."""

    driver: Literal["nut"] = "nut"
    host: str = "127.0.0.1"
    port: int = 3493
    ups: str = "ups"
    login: str = ""
    password: str = ""


@dataclass(frozen=True)
class PackSettings(UpsSettings):
    """A UPS whose charge is estimated from its battery voltage."""

    battery_cells: int = 12  # 2 V lead-acid cells in the pack (24 V = 12)
    cell_empty_volts: float = 1.75
    cell_full_volts: float = 2.25

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        if not 0 < self.cell_empty_volts < self.cell_full_volts:
            yield "cell_empty_volts", "must be above 0 and below cell_full_volts"


@dataclass(frozen=True)
class MegatecSettings(PackSettings):
    """A serial UPS speaking Q1."""

    required: ClassVar[tuple[str, ...]] = ("device",)
    driver: Literal["megatec"] = "megatec"
    device: str = ""
    baudrate: int = 2400


@dataclass(frozen=True)
class UpsSim:
    """A scripted power cut for demos: mains for a while, then the battery runs down."""

    outage_after: float = 60.0  # seconds on mains before the cut; 0: never
    outage_seconds: float = 600.0  # how long the cut lasts
    runtime: float = 900.0  # battery runtime from full, seconds


@dataclass(frozen=True)
class SimUpsSettings(PackSettings):
    """The demo twin."""

    driver: Literal["sim"] = "sim"
    sim: UpsSim = field(default_factory=UpsSim)


Ups = functools.partial(build, UpsSettings)  # what a [[ups]] table gives, by driver
