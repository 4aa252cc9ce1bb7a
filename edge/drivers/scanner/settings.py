"""The settings of each scanner driver (`[[scanner]]`), chosen by `driver`; imports nothing heavy.

Every scanner takes the page defaults and presets; what a driver adds (a SANE device and its
buttons, the simulated feeder) is in its own class, and what it can do is said by its class.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from edge.drivers.settings import Settings, build, label_problem, name_problem, usb_id_problem

Source = Literal["flatbed", "adf", "adf-duplex"]
Mode = Literal["color", "gray", "lineart"]
OptionValue = str | int | float | bool
MAX_IN_FLIGHT = 32  # pages read but not yet written, per scanner


@dataclass(frozen=True)
class Preset:
    """Overrides of a scanner's defaults for one kind of document (one button in the UI)."""

    label: str = ""
    doc: str = ""
    source: Source | None = None
    mode: Mode | None = None
    dpi: int | None = None
    jpeg_quality: int | None = None
    deskew: bool | None = None
    drop_blank_pages: bool | None = None
    auto_color: bool | None = None
    pdfa: bool | None = None
    max_page_kb: int | None = None
    max_file_mb: int | None = None
    options: dict[str, OptionValue] = field(default_factory=dict)


@dataclass(frozen=True)
class ScannerSettings(Settings):
    """What every scanner driver takes: page defaults, driver options and presets."""

    kind: ClassVar[str] = "scanner"
    imports: ClassVar[bool] = False  # reads files people hand in (hot folder, `edge import`)
    simulated: ClassVar[bool] = False  # no device to open (doctor, demos)
    name: str
    driver: str
    source: Source = "adf"
    mode: Mode = "color"
    dpi: int = 200
    jpeg_quality: int = 75
    page_width_mm: float = 210.0
    page_height_mm: float = 297.0
    deskew: bool = True
    drop_blank_pages: bool = True
    auto_color: bool = True
    pdfa: bool = True
    max_page_kb: int = 1024
    max_file_mb: int = 20
    options: dict[str, OptionValue] = field(default_factory=dict)
    presets: dict[str, Preset] = field(default_factory=dict)
    pages_in_flight: int = 0  # read, not yet written; 0: from the cores and page size, 1: serial

    @property
    def watched_usb_id(self) -> str:
        """vendor:product of the device on the bus, when its presence is watched ("" if not)."""
        return ""

    @property
    def polls_buttons(self) -> bool:
        """Whether a press of the scanner's own button starts a scan."""
        return False

    @property
    def address(self) -> str:
        """Where the driver finds its device ("" when it has none)."""
        return ""

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from name_problem(self.name)
        yield from label_problem(self.label)
        if not 0 <= self.pages_in_flight <= MAX_IN_FLIGHT:
            yield "pages_in_flight", (f"{self.pages_in_flight} is outside 0..{MAX_IN_FLIGHT} "
                                      "(0: from the core count and page size; 1: no read-ahead)")
        for pname, p in [("", Preset()), *self.presets.items()]:
            yield from _page_problems(f"presets.{pname}." if pname else "", p, self)


def _page_problems(where: str, p: Preset, s: ScannerSettings) -> Iterator[tuple[str, str]]:
    dpi, q = p.dpi or s.dpi, p.jpeg_quality or s.jpeg_quality
    kb, mb = p.max_page_kb or s.max_page_kb, p.max_file_mb or s.max_file_mb
    if not 50 <= dpi <= 1200:
        yield f"{where}dpi", f"{dpi} is outside 50..1200"
    if not 10 <= q <= 95:
        yield f"{where}jpeg_quality", f"{q} is outside 10..95"
    if kb < 50:
        yield f"{where}max_page_kb", f"{kb} is below 50"
    if mb * 1024 < kb:
        yield f"{where}max_file_mb", f"{mb} MB is less than one page ({kb} KB)"


@dataclass(frozen=True)
class ButtonsSettings(ScannerSettings):
    """A scanner with its own buttons, each mapped to a preset (the twin takes the same map)."""

    buttons: dict[str, str] = field(default_factory=dict)  # SANE button option -> preset

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        for button, preset in self.buttons.items():
            if preset and preset not in self.presets:
                yield f"buttons.{button}", f"no preset {preset!r} in this scanner"


@dataclass(frozen=True)
class SaneSettings(ButtonsSettings):
    """A scanner libsane drives."""

    driver: Literal["sane"] = "sane"
    device: str = ""
    usb_id: str = ""  # vendor:product (lsusb): tells "unplugged" apart from other I/O errors
    poll_buttons: bool = True  # a press of the scanner's own button starts a scan

    @property
    def watched_usb_id(self) -> str:
        return self.usb_id

    @property
    def polls_buttons(self) -> bool:
        return self.poll_buttons

    @property
    def address(self) -> str:
        return self.device

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.device:
            yield "device", "required for driver 'sane' (see `scanimage -L`)"
        yield from super().problems()
        if self.usb_id:
            yield from usb_id_problem("usb_id", self.usb_id)


@dataclass(frozen=True)
class SimFeeder:
    """Behaviour of the simulated scanner (driver = "sim")."""

    sheets: int = 10
    page_delay: float = 0.3
    jam_after: int = 0
    blank_backs: bool = True


@dataclass(frozen=True)
class SimScannerSettings(ButtonsSettings):
    """The demo twin: a feeder of generated sheets."""

    simulated: ClassVar[bool] = True
    driver: Literal["sim"] = "sim"
    sim: SimFeeder = field(default_factory=SimFeeder)


@dataclass(frozen=True)
class FilesSettings(ScannerSettings):
    """Files handed in (hot folder, `edge import`) read as if scanned."""

    imports: ClassVar[bool] = True
    driver: Literal["files"] = "files"


Scanner = functools.partial(build, ScannerSettings)  # what a [[scanner]] table gives, by driver
