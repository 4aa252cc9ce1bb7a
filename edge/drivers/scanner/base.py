"""What every scanner driver offers, and what staff are told when a scan stops.

A driver must implement `open`, `pages` and `close`; it may override `present`. Pages are yielded
one at a time as the feeder delivers them, so a 500-sheet batch never sits in memory.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from edge.drivers import registry
from edge.drivers.scanner.settings import Mode, OptionValue, ScannerSettings, Source
from edge.errors import ScannerError

# status -> (English, Vietnamese with what to do)
STATUS_TEXT: dict[str, tuple[str, str]] = {
    "NO_DOCS": ("the document feeder is empty",
                "Khay nạp giấy đang trống. Hãy đặt giấy vào khay rồi bấm Quét."),
    "JAMMED": ("paper jam in the document feeder",
               "Kẹt giấy. Mở nắp máy quét, gỡ tờ bị kẹt, đặt lại các tờ chưa quét "
               "rồi bấm Tiếp tục."),
    "COVER_OPEN": ("the scanner cover is open",
                   "Nắp máy quét đang mở. Hãy đóng nắp rồi bấm Tiếp tục."),
    "DEVICE_BUSY": ("the scanner is busy (used by another program)",
                    "Máy quét đang bận. Chờ một lát rồi bấm Tiếp tục."),
    "IO_ERROR": ("input/output error talking to the scanner",
                 "Lỗi kết nối với máy quét. Kiểm tra cáp USB và nguồn điện rồi bấm Tiếp tục."),
    "ABSENT": ("the scanner is not connected or not switched on",
               "Không thấy máy quét. Kiểm tra cáp USB, bật nguồn máy quét rồi bấm Tiếp tục."),
    "CANCELLED": ("the scan was cancelled", "Đã dừng quét."),
    "UNPLUGGED": ("the scanner is not on the USB bus: its cable is out or it is switched off",
                  "Máy quét đã bị rút cáp USB hoặc bị tắt. Cắm lại cáp USB, bật máy quét rồi "
                  "bấm Tiếp tục."),
    "POWER_LOW": ("scanning paused: the UPS battery is nearly empty",
                  "Tạm dừng quét vì pin bộ lưu điện sắp hết. Các trang đã quét được giữ an toàn; "
                  "việc quét tự tiếp tục khi có điện lưới trở lại."),
    "ERROR": ("the scanner reported an error",
              "Máy quét báo lỗi. Tắt rồi bật lại máy quét, sau đó bấm Tiếp tục."),
}


def make(cfg: ScannerSettings) -> Scanner:
    """The driver named by the scanner's `driver` (edge/drivers/registry.py)."""
    return registry.make("scanner", cfg)  # type: ignore[no-any-return]


def scan_error(status: str, scanner: str, detail: str = "") -> ScannerError:
    en, vi = STATUS_TEXT.get(status, STATUS_TEXT["ERROR"])
    msg = f"scanner {scanner}: {en}" + (f" ({detail})" if detail else "")
    return ScannerError(status, msg, vi=vi)


@dataclass(frozen=True)
class Acquisition:
    """What a driver is asked to deliver for one job (the rest of a job's settings is the
    pipeline's): page size comes from the driver's own settings."""

    source: Source
    mode: Mode
    dpi: int
    options: dict[str, OptionValue] = field(default_factory=dict)

    @classmethod
    def defaults(cls, cfg: ScannerSettings) -> Acquisition:
        """The scanner's configured defaults, no preset."""
        return cls(cfg.source, cfg.mode, cfg.dpi, dict(cfg.options))


class Scanner(abc.ABC):
    """One configured scanner. Use as a context manager; `close()` may be called twice."""

    def __init__(self, cfg: ScannerSettings) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.job_dir: Path | None = None  # the job's spool folder (imports read their files there)

    @abc.abstractmethod
    def open(self, settings: Acquisition) -> None:
        """Claim the device and apply settings; raise ScannerError (ABSENT, DEVICE_BUSY...)."""

    def resume(self, already: int) -> None:
        """Called before `pages()` when a paused job continues after `already` pages.

        Real feeders need nothing (staff reload the remaining sheets); the sim uses it.
        """
        return None

    @abc.abstractmethod
    def pages(self) -> Iterator[Image.Image]:
        """Yield pages as they arrive until the feeder is empty (flatbed: one page).

        Raise ScannerError NO_DOCS if there is no first page; any other status mid-batch.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device so other programs (and button polling) can use it."""

    def present(self) -> bool:
        """Whether the device answers now; drivers may override with something cheaper."""
        try:
            with self:
                self.open(Acquisition.defaults(self.cfg))
        except ScannerError:
            return False
        return True

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
