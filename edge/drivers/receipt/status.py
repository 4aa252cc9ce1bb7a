"""What an ESC/POS printer says about itself (`DLE EOT n`), as metrics and problems.

Real-time status is one byte per query, answered even while the printer is offline:
- n=1 printer status: bit 3 offline;
- n=2 offline cause: bit 2 cover open, bit 5 stopped at paper end, bit 6 an error occurred;
- n=3 error cause: bit 3 autocutter error, bit 5 unrecoverable, bit 6 auto-recoverable;
- n=4 roll paper sensor: bits 2-3 paper near its end, bits 5-6 paper out.
Every valid byte has bits 1 and 4 set and bits 0 and 7 clear, which tells status from noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge.errors import DeviceError
from edge.health import Metric, Problem, Reading, State

Paper = Literal["ok", "near-end", "out", "unknown"]

PAPER_OUT = Problem("paper-out", "The receipt printer is out of paper: load a new roll.",
                    "Máy in phiếu hết giấy. Hãy lắp cuộn giấy mới.", State.FAULT)
PAPER_NEAR_END = Problem("paper-near-end",
                         "The receipt paper roll is nearly finished: have a new roll ready.",
                         "Cuộn giấy in phiếu sắp hết. Hãy chuẩn bị sẵn cuộn mới.",
                         State.WARNING)
COVER_OPEN = Problem("cover-open", "The receipt printer's cover is open: close it firmly.",
                     "Nắp máy in phiếu đang mở. Hãy đóng chặt lại.", State.FAULT)
CUTTER = Problem("cutter-error",
                 "The receipt printer's cutter is stuck: open the cover, clear the paper, "
                 "close it.",
                 "Dao cắt của máy in phiếu bị kẹt. Hãy mở nắp, gỡ giấy kẹt rồi đóng lại.",
                 State.FAULT)
ERROR = Problem("printer-error",
                "The receipt printer reports an error: switch it off and on again.",
                "Máy in phiếu báo lỗi. Hãy tắt rồi bật lại máy.", State.FAULT)
OFFLINE = Problem("offline", "The receipt printer is offline: press its FEED or ON button, "
                  "check the paper and cover.",
                  "Máy in phiếu đang ngoại tuyến. Hãy kiểm tra giấy, nắp máy và nút nguồn.",
                  State.FAULT)


def valid(byte: int) -> bool:
    return byte & 0x93 == 0x12


@dataclass(frozen=True)
class Status:
    online: bool = True
    paper: Paper = "unknown"
    cover_open: bool = False
    cutter_error: bool = False
    error: bool = False

    @classmethod
    def parse(cls, printer: int, offline: int, paper: int, errors: int | None = None) -> Status:
        """From the bytes answering DLE EOT 1, 2, 4 (and 3 when an error is reported)."""
        for n, byte in ((1, printer), (2, offline), (4, paper), (3, errors)):
            if byte is not None and not valid(byte):
                raise DeviceError(f"the receipt printer answered status query {n} with "
                                  f"{byte:#04x}, which is not ESC/POS status",
                                  vi="Máy in phiếu trả lời không đúng chuẩn ESC/POS.")
        paper_state: Paper = ("out" if paper & 0x60 else "near-end" if paper & 0x0C else "ok")
        return cls(online=not printer & 0x08, paper=paper_state, cover_open=bool(offline & 0x04),
                   cutter_error=bool(errors and errors & 0x08),
                   error=bool(offline & 0x40) or bool(errors and errors & 0x60))

    @property
    def ready(self) -> bool:
        """A slip sent now would be printed."""
        return self.online and self.paper != "out" and not self.cover_open and not self.error

    def problems(self) -> list[Problem]:
        out = []
        if self.paper == "out":
            out.append(PAPER_OUT)
        elif self.paper == "near-end":
            out.append(PAPER_NEAR_END)
        if self.cover_open:
            out.append(COVER_OPEN)
        if self.cutter_error:
            out.append(CUTTER)
        elif self.error:
            out.append(ERROR)
        if not self.online and not any(p.severity == State.FAULT for p in out):
            out.append(OFFLINE)
        return out

    def reading(self, transport: str) -> Reading:
        return Reading({"receipt.online": Metric(self.online),
                        "receipt.paper": Metric(self.paper),
                        "receipt.cover_open": Metric(self.cover_open),
                        "receipt.transport": Metric(transport)}, self.problems())

    def why_not_ready(self) -> Problem:
        """The main reason a slip cannot be printed now (call when not `ready`)."""
        faults = [p for p in self.problems() if p.severity == State.FAULT]
        return faults[0] if faults else OFFLINE
