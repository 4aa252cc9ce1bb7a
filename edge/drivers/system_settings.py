"""The settings of the Pi's own health drivers (`[system]`); kept apart from psutil's import."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from edge.drivers.settings import Settings, build


@dataclass(frozen=True)
class SystemSettings(Settings):
    """What both system drivers take."""

    kind: ClassVar[str] = "system"
    driver: str = "psutil"
    interval: float = 10.0
    temp_warning: float = 70.0
    temp_fault: float = 80.0
    disk_warning_mb: int = 1024
    disk_path: Path | None = None  # the filesystem to watch; default: storage.root


@dataclass(frozen=True)
class PsutilSettings(SystemSettings):
    driver: Literal["psutil"] = "psutil"


@dataclass(frozen=True)
class SimSystemSettings(SystemSettings):
    driver: Literal["sim"] = "sim"


System = functools.partial(build, SystemSettings)  # what a [[system]] table gives, by driver
