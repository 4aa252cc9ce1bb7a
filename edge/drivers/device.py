"""The small interface every monitored device driver implements.

A driver must implement `poll()`; it may override `close()` (called once the poller stops; it
must be safe to call twice). `poll()` returns a `Reading`, raises `DeviceAbsent` when the device
is not there, and anything else marks the device unknown: the poller retries with backoff and
never lets a driver take the service down. Drivers are imported only when configured, so a
missing optional library disables one driver, not the service.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from edge.health import Reading


class Device(abc.ABC):
    """One configured device of some kind, read by a poller thread."""

    kind: ClassVar[str]

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.name: str = getattr(cfg, "name", self.kind)
        self.driver: str = cfg.driver

    @abc.abstractmethod
    def poll(self) -> Reading:
        """Read the device now (bounded by the config's timeout where the protocol allows)."""

    def close(self) -> None:
        """Release connections and ports; idempotent."""
        return None

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
