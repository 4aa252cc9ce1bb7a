"""Receipt printers reached by writing a file: a device such as /dev/usb/lp0, or a plain file
(tests, demos). One-way: the file or, for a plain file, its folder being there and writable is
all that can be known."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from edge.drivers.receipt.settings import ReceiptSettings
from edge.errors import DeviceError, EdgeError
from edge.health import Metric, Reading

if TYPE_CHECKING:
    from escpos.escpos import Escpos


@dataclass(frozen=True)
class File(ReceiptSettings):
    transport: Literal["file"] = "file"
    path: Path | None = None  # the byte stream is written here

    two_way = False
    reopened_each_time = True
    required = "path"

    @property
    def where(self) -> str:
        return str(self.path)

    def make(self) -> Escpos:
        from escpos.printer import File as FilePrinter

        return FilePrinter(devfile=str(self.path), profile=self.profile)

    def reading(self) -> Reading:
        path = self.path
        assert path is not None
        target = path if path.exists() or str(path).startswith("/dev/") else path.parent
        if not target.exists():
            raise self.lost(f"{target} does not exist")
        if not os.access(target, os.W_OK):
            raise DeviceError(f"receipt printer {self.name}: {target} is not writable",
                              vi="Không ghi được ra máy in phiếu (thiếu quyền).",
                              hint="add the service user to the lp group")
        return Reading({"receipt.online": Metric(True), "receipt.paper": Metric("unknown"),
                        "receipt.transport": Metric("file")})

    def failure(self, error: Exception) -> EdgeError:
        if isinstance(error, OSError):
            return DeviceError(f"receipt printer {self.name}: cannot write {self.path}: {error}",
                               vi="Không ghi được ra máy in phiếu. Hãy báo kỹ thuật viên.")
        return super().failure(error)
