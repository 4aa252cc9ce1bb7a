"""A scanner's defaults merged with one preset: everything a job needs, resolved in one place.

Drivers see only the `Acquisition` part (source, mode, dpi, options); the page steps, PDF/A and
size limits are the pipeline's, so they are resolved here and not in the driver package.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.drivers.scanner.base import Acquisition
from edge.drivers.scanner.settings import Mode, OptionValue, Preset, ScannerSettings, Source
from edge.errors import ConfigError
from edge.pipeline.steps import StepSettings


@dataclass(frozen=True)
class ScanSettings:
    """A scanner's defaults merged with one preset: everything a job needs."""

    source: Source
    mode: Mode
    dpi: int
    jpeg_quality: int
    doc: str = ""
    steps: StepSettings = field(default_factory=StepSettings)
    pdfa: bool = True
    max_page_bytes: int = 1024 * 1024
    max_file_bytes: int = 20 * 1024 * 1024
    options: dict[str, OptionValue] = field(default_factory=dict)

    @property
    def acquisition(self) -> Acquisition:
        """What the driver is asked for."""
        return Acquisition(self.source, self.mode, self.dpi, self.options)

    @classmethod
    def resolve(cls, cfg: ScannerSettings, preset: str) -> ScanSettings:
        if preset and preset not in cfg.presets:
            names = ", ".join(cfg.presets) or "none configured"
            raise ConfigError(f"scanner {cfg.name} has no preset {preset!r} (presets: {names})",
                              vi="Máy quét này không có mẫu quét đã chọn")
        p = cfg.presets[preset] if preset else Preset()
        return cls(
            source=p.source or cfg.source,
            mode=p.mode or cfg.mode,
            dpi=p.dpi or cfg.dpi,
            jpeg_quality=p.jpeg_quality or cfg.jpeg_quality,
            doc=p.doc,
            steps=StepSettings(
                deskew=_pick(p.deskew, cfg.deskew),
                blank=_pick(p.drop_blank_pages, cfg.drop_blank_pages),
                classify=_pick(p.auto_color, cfg.auto_color),
            ),
            pdfa=_pick(p.pdfa, cfg.pdfa),
            max_page_bytes=(p.max_page_kb or cfg.max_page_kb) * 1024,
            max_file_bytes=(p.max_file_mb or cfg.max_file_mb) * 1024 * 1024,
            options={**cfg.options, **p.options},
        )


def _pick(preset: bool | None, scanner: bool) -> bool:
    return scanner if preset is None else preset
