"""The settings of each modem driver (`[[modem]]`), chosen by `driver`; imports nothing heavy."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar, Literal

from edge.drivers.settings import Polled, build


@dataclass(frozen=True)
class ModemSettings(Polled):
    """What every modem driver takes."""

    kind: ClassVar[str] = "modem"
    name: str = "4g"
    driver: str = "sim"
    interval: float = 15.0
    timeout: float = 5.0
    reconnect_after: float = 0.0  # seconds without a link before redialling; 0: never


@dataclass(frozen=True)
class HilinkSettings(ModemSettings):
    """A Huawei HiLink router's web API."""

    driver: Literal["hilink"] = "hilink"
    url: str = "http://192.168.8.1/"
    username: str = "admin"
    password: str = ""


@dataclass(frozen=True)
class AtSettings(ModemSettings):
    """A USB modem's serial command port."""

    required: ClassVar[tuple[str, ...]] = ("device",)
    driver: Literal["at"] = "at"
    device: str = ""
    baudrate: int = 115200


@dataclass(frozen=True)
class SimModemSettings(ModemSettings):
    """The demo twin."""

    driver: Literal["sim"] = "sim"


Modem = functools.partial(build, ModemSettings)  # what a [[modem]] table gives, by driver
