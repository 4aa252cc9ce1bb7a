"""What every driver's settings dataclass offers: the checks config loading runs on it.

Each driver keeps its settings beside its code, in a module that imports nothing heavy, so
reading a config never loads a driver's library. A settings class lists exactly the keys its
driver takes (unknown keys are errors naming the driver) and may override `problems()`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from edge.errors import ConfigError

NAME = r"[A-Za-z0-9_-]{1,32}"
USB_ID = r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}"
LABEL_MAX = 40


@dataclass(frozen=True)
class Settings:
    """Base of every driver's settings; `kind` names the config section (`[[ups]]`...).

    `label` is what people see ("Máy quét Fujitsu bàn 1"); the `name` stays the id in config,
    logs, the CLI and telemetry. Without a label the UI says the kind's word (edge/labels.py).
    """

    kind: ClassVar[str]
    selector: ClassVar[str] = "driver"  # the key naming the driver in a section's table
    required: ClassVar[tuple[str, ...]] = ()  # keys this driver cannot work without
    label: str = field(default="", kw_only=True)

    def problems(self) -> Iterator[tuple[str, str]]:
        """(key, why) for each value this driver cannot work with; the key is relative."""
        yield from label_problem(self.label)
        for key in self.required:
            if not getattr(self, key):
                yield key, f"required for driver {getattr(self, self.selector)!r}"


def name_problem(name: str) -> Iterator[tuple[str, str]]:
    if not re.fullmatch(NAME, name):
        yield "name", "must be 1-32 letters, digits, '-' or '_'"


def label_problem(label: str) -> Iterator[tuple[str, str]]:
    """A label is shown to people: printable text of sensible length, or nothing."""
    if label and (label != label.strip() or not label.isprintable()
                  or len(label) > LABEL_MAX):
        yield "label", (f"{label[:60]!r}: must be 1-{LABEL_MAX} printable characters without "
                        'leading or trailing spaces, e.g. "Máy quét Fujitsu bàn 1"')


def usb_id_problem(key: str, value: str) -> Iterator[tuple[str, str]]:
    if not re.fullmatch(USB_ID, value):
        yield key, f"{value!r} is not vendor:product in hex, like 04c5:132e"


class Polled(Settings):
    """A named device a poller reads every `interval` seconds (ups, modem, printer, usb)."""

    name: str
    interval: float

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from name_problem(self.name)
        if self.interval < 0.5:
            yield "interval", "must be at least 0.5 seconds"
        yield from super().problems()


def driver_of(cls: type[Settings]) -> Any:
    """The driver a settings class stands for: its selector's default (MISSING if it has none)."""
    return cls.__dataclass_fields__[cls.selector].default  # type: ignore[attr-defined]


def build(base: type[Any], driver: str = "", **keys: Any) -> Any:
    """The settings of `base`'s kind whose driver is `driver` (default: the kind's), with these
    keys: what a table of this kind gives (config loading goes through edge/drivers/registry.py)."""
    driver = driver or driver_of(base)
    todo = [base]
    while todo:
        cls = todo.pop()
        declared = inspect.get_annotations(cls)  # a driver's own class names its driver
        if cls is not base and cls.selector in declared and driver_of(cls) == driver:
            return cls(**keys)
        todo += cls.__subclasses__()
    raise ConfigError(f"{base.kind}: no driver {driver!r}")
