"""Scanners: the `Scanner` interface, the SANE driver and the simulated twin, chosen by config."""

from __future__ import annotations

from edge import config
from edge.drivers.scanner.base import Scanner, ScanSettings, scan_error

__all__ = ["ScanSettings", "Scanner", "make", "scan_error"]


def make(cfg: config.Scanner) -> Scanner:
    """The driver named by `driver = "..."` in the scanner's config."""
    if cfg.driver == "sim":
        from edge.drivers.scanner.sim import SimScanner

        return SimScanner(cfg)
    if cfg.driver == "files":
        from edge.drivers.scanner.files import FileSource

        return FileSource(cfg)
    from edge.drivers.scanner.sane import SaneScanner

    return SaneScanner(cfg)
