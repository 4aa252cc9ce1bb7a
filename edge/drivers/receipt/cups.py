"""Receipt printers behind a CUPS queue (`lp -d QUEUE -o raw`): one-way, so their health is what
`lpstat -p QUEUE` says: enabled (online) or disabled; absent if there is no such queue."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from edge.drivers.receipt.settings import ReceiptSettings
from edge.drivers.receipt.status import OFFLINE
from edge.errors import DeviceError
from edge.health import Metric, Reading

if TYPE_CHECKING:
    from escpos.escpos import Escpos


@dataclass(frozen=True)
class Cups(ReceiptSettings):
    transport: Literal["cups"] = "cups"
    queue: str = ""

    two_way = False
    reopened_each_time = True
    required = "queue"

    @property
    def where(self) -> str:
        return f"CUPS queue {self.queue}"

    def make(self) -> Escpos:
        from edge.drivers.receipt.printers import CheckedLp

        return CheckedLp(printer_name=self.queue, profile=self.profile)

    def send(self, printer: Escpos, data: bytes) -> None:
        printer._raw(data)
        printer.close()  # lp sends the job when its input ends; failures surface here

    def reading(self) -> Reading:
        if shutil.which("lpstat") is None:
            raise DeviceError("lpstat is missing: the CUPS client is not installed",
                              hint="apt-get install cups-client")
        try:
            out = subprocess.run(["lpstat", "-p", self.queue], capture_output=True, text=True,
                                 timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise self.lost("lpstat timed out") from None
        return lpstat_reading(self, out.returncode, out.stdout + out.stderr)


def lpstat_reading(cfg: Cups, code: int, text: str) -> Reading:
    if code != 0 or f"printer {cfg.queue} " not in text:
        raise cfg.lost(text.strip() or f"lpstat exit status {code}")
    online = "disabled" not in text.split("\n")[0]
    metrics = {"receipt.online": Metric(online), "receipt.paper": Metric("unknown"),
               "receipt.transport": Metric("cups")}
    return Reading(metrics, [] if online else [OFFLINE])
