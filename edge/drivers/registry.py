"""The one table of drivers: (kind, driver) -> its settings class and its driver class.

Config loading reads a section's `driver` (its settings class's `selector` key), looks the pair
up here and builds that settings class; `make` imports the driver's module only then, so a
missing optional library disables one driver, not the service. A new driver is one line in
`DRIVERS`. This module imports only settings modules, never a driver or its library.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from edge.drivers.modem import settings as modem
from edge.drivers.printer import settings as printer
from edge.drivers.receipt import settings as receipt
from edge.drivers.scanner import settings as scanner
from edge.drivers.settings import Settings
from edge.drivers.system_settings import PsutilSettings, SimSystemSettings, SystemSettings
from edge.drivers.ups import settings as ups
from edge.drivers.usb_settings import PyusbSettings, SimUsbSettings, UsbSettings
from edge.errors import ConfigError


@dataclass(frozen=True)
class Entry:
    settings: type[Settings] | type[receipt.ReceiptSettings]
    driver: str  # "module:Class", imported by `make`


DRIVERS: dict[tuple[str, str], Entry] = {
    ("ups", "nut"): Entry(ups.NutSettings, "edge.drivers.ups.nut:NutUps"),
    ("ups", "megatec"): Entry(ups.MegatecSettings, "edge.drivers.ups.megatec:MegatecUps"),
    ("ups", "sim"): Entry(ups.SimUpsSettings, "edge.drivers.ups.sim:SimUps"),
    ("modem", "hilink"): Entry(modem.HilinkSettings, "edge.drivers.modem.hilink:HilinkModem"),
    ("modem", "at"): Entry(modem.AtSettings, "edge.drivers.modem.at:AtModem"),
    ("modem", "sim"): Entry(modem.SimModemSettings, "edge.drivers.modem.sim:SimModem"),
    ("printer", "ipp"): Entry(printer.IppSettings, "edge.drivers.printer.ipp:IppPrinter"),
    ("printer", "sim"): Entry(printer.SimPrinterSettings, "edge.drivers.printer.sim:SimPrinter"),
    ("system", "psutil"): Entry(PsutilSettings, "edge.drivers.system:PsutilSystem"),
    ("system", "sim"): Entry(SimSystemSettings, "edge.drivers.system:SimSystem"),
    ("usb", "pyusb"): Entry(PyusbSettings, "edge.drivers.usb:PyusbDevice"),
    ("usb", "sim"): Entry(SimUsbSettings, "edge.drivers.usb:SimUsbDevice"),
    ("scanner", "sane"): Entry(scanner.SaneSettings, "edge.drivers.scanner.sane:SaneScanner"),
    ("scanner", "sim"): Entry(scanner.SimScannerSettings, "edge.drivers.scanner.sim:SimScanner"),
    ("scanner", "files"): Entry(scanner.FilesSettings, "edge.drivers.scanner.files:FileSource"),
    # receipt printers are chosen by `transport`; each transport module is its settings class
    **{("receipt", t): Entry(cls, "edge.drivers.receipt.device:ReceiptDevice")  # type: ignore[arg-type]
       for t, cls in receipt.ReceiptSettings.by_transport.items()},
}

# the base settings class of each kind: a config field of this type is chosen by its selector
KINDS: dict[type[Settings], str] = {
    ups.UpsSettings: "ups", modem.ModemSettings: "modem", printer.PrinterSettings: "printer",
    SystemSettings: "system", UsbSettings: "usb", scanner.ScannerSettings: "scanner",
}


def drivers(kind: str) -> list[str]:
    """The driver names a kind accepts, in table order."""
    return [d for k, d in DRIVERS if k == kind]


def entry(kind: str, driver: str) -> Entry:
    try:
        return DRIVERS[(kind, driver)]
    except KeyError:
        raise ConfigError(f"{driver!r} is not one of {', '.join(map(repr, drivers(kind)))}") \
            from None


def make(kind: str, cfg: Any) -> Any:
    """The driver named by the settings' selector key (`driver = "..."`; receipt: transport)."""
    selected = getattr(cfg, getattr(cfg, "selector", "driver"))
    module, cls = entry(kind, selected).driver.split(":")
    try:
        return getattr(importlib.import_module(module), cls)(cfg)
    except ImportError as e:
        raise ConfigError(f"{kind} {getattr(cfg, 'name', '')}: driver {selected!r} needs "
                          f"a library that is not installed: {e}",
                          hint="reinstall the service: pip install -e .") from None
