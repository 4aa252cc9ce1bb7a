"""The small interface every monitored device driver implements, and the registry choosing one.

A driver must implement `poll()`; it may override `close()` (called once the poller stops; it
must be safe to call twice). `poll()` returns a `Reading`, raises `DeviceAbsent` when the device
is not there, and anything else marks the device unknown: the poller retries with backoff and
never lets a driver take the service down. Drivers are imported only when configured, so a
missing optional library disables one driver, not the service.
"""

from __future__ import annotations

import abc
import importlib
from typing import Any, ClassVar

from edge.errors import ConfigError
from edge.health import Reading

# (kind, driver) -> "module:Class"
DRIVERS: dict[tuple[str, str], str] = {
    ("ups", "nut"): "edge.drivers.ups.nut:NutUps",
    ("ups", "megatec"): "edge.drivers.ups.megatec:MegatecUps",
    ("ups", "sim"): "edge.drivers.ups.sim:SimUps",
    ("modem", "hilink"): "edge.drivers.modem.hilink:HilinkModem",
    ("modem", "at"): "edge.drivers.modem.at:AtModem",
    ("modem", "sim"): "edge.drivers.modem.sim:SimModem",
    ("printer", "ipp"): "edge.drivers.printer.ipp:IppPrinter",
    ("printer", "sim"): "edge.drivers.printer.sim:SimPrinter",
    ("system", "psutil"): "edge.drivers.system:PsutilSystem",
    ("system", "sim"): "edge.drivers.system:SimSystem",
    ("usb", "pyusb"): "edge.drivers.usb:PyusbDevice",
    ("usb", "sim"): "edge.drivers.usb:SimUsbDevice",
    **{("receipt", t): "edge.drivers.receipt.device:ReceiptDevice"
       for t in ("usb", "serial", "network", "cups", "file", "sim")},
}


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


def make(kind: str, cfg: Any) -> Device:
    """The driver named by `driver = "..."` in a device's config."""
    try:
        module, cls = DRIVERS[(kind, cfg.driver)].split(":")
    except KeyError:
        raise ConfigError(f"{kind}: no driver {cfg.driver!r}") from None
    try:
        return getattr(importlib.import_module(module), cls)(cfg)  # type: ignore[no-any-return]
    except ImportError as e:
        raise ConfigError(f"{kind} {getattr(cfg, 'name', '')}: driver {cfg.driver!r} needs "
                          f"a library that is not installed: {e}",
                          hint="reinstall the service: pip install -e .") from None
