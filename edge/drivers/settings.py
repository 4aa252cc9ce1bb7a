"""What every driver's settings dataclass offers: the checks config loading runs on it.

Each driver keeps its settings beside its code, in a module that imports nothing heavy, so
reading a config never loads a driver's library. A settings class lists exactly the keys its
driver takes (unknown keys are errors naming the driver) and may override `problems()`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

NAME = r"[A-Za-z0-9_-]{1,32}"
USB_ID = r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}"


class Settings:
    """Base of every driver's settings; `kind` names the config section (`[[ups]]`...)."""

    kind: ClassVar[str]
    selector: ClassVar[str] = "driver"  # the key naming the driver in a section's table

    def problems(self) -> Iterator[tuple[str, str]]:
        """(key, why) for each value this driver cannot work with; the key is relative."""
        return iter(())


def name_problem(name: str) -> Iterator[tuple[str, str]]:
    if not re.fullmatch(NAME, name):
        yield "name", "must be 1-32 letters, digits, '-' or '_'"


def usb_id_problem(key: str, value: str) -> Iterator[tuple[str, str]]:
    if not re.fullmatch(USB_ID, value):
        yield key, f"{value!r} is not vendor:product in hex, like 04c5:132e"


def required(key: str, value: object, driver: str) -> Iterator[tuple[str, str]]:
    if not value:
        yield key, f"required for driver {driver!r}"


def polled_problems(name: str, interval: float) -> Iterator[tuple[str, str]]:
    """The checks every named, polled device shares (ups, modem, printer, usb)."""
    yield from name_problem(name)
    if interval < 0.5:
        yield "interval", "must be at least 0.5 seconds"


def build(kind: str, driver: str, **keys: Any) -> Any:
    """The settings `driver`'s table with these keys gives (what tests and tools construct)."""
    from edge.drivers.registry import entry

    return entry(kind, driver).settings(**keys)
