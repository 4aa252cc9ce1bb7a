"""The simulated receipt printer of the demo and the web UI: two-way, no hardware.

It keeps what it receives in `path` when set (appending, so a demo can inspect every slip);
`printers.SimEscpos` says how it answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from edge.drivers.receipt.settings import ReceiptSettings

if TYPE_CHECKING:
    from escpos.escpos import Escpos


@dataclass(frozen=True)
class Sim(ReceiptSettings):
    transport: Literal["sim"] = "sim"
    path: Path | None = None  # where received bytes are appended; none: only counted

    @property
    def where(self) -> str:
        return "simulation"

    def make(self) -> Escpos:
        from edge.drivers.receipt.printers import SimEscpos

        return SimEscpos(path=self.path, profile=self.profile)

    def status_reply(self, printer: Escpos, n: int) -> bytes:
        return printer.answer(n)
