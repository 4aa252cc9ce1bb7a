"""A simulated multifunction printer, so the demo and the web UI show a printer with no hardware.

Everything follows from the time since the driver started, so a demo is repeatable: the black
toner starts at 80% and loses 1% a minute (a new cartridge is "fitted" at 3%), and every
`PAPER_PERIOD` seconds the tray runs empty for `PAPER_OUT` seconds. It answers with the same
attributes an IPP printer would and goes through the same mapping as the real driver. Printing
works too: a job is pending for a second, then processes for a few seconds (longer when it meets
a paper-out episode: it waits for paper, like a real printer) and completes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.drivers.device import Device
from edge.drivers.printer import check_pdf, reading_from_attributes
from edge.drivers.printer.settings import SimPrinterSettings
from edge.errors import DeviceError
from edge.health import Reading

TONER_START = 80.0  # percent when the driver starts
TONER_PER_MINUTE = 1.0
TONER_REPLACED_AT = 3.0  # the "technician" fits a new cartridge at this level
PRINTER_LOW_AT = 10  # the printer's own toner-low threshold (reported as a reason)
PAPER_PERIOD = 300.0  # seconds between paper-out episodes
PAPER_OUT = (240.0, 270.0)  # the episode, as seconds into each period
JOB_PENDING = 1.0  # seconds a new job waits before it starts
JOB_PRINTING = 3.0  # seconds it prints when there is paper
MODEL = "Simulated MFP (IPP Everywhere twin)"


def toner_percent(elapsed: float) -> int:
    """Black toner level after `elapsed` seconds: 80% -> 3%, then a fresh 100% cartridge."""
    used = elapsed / 60.0 * TONER_PER_MINUTE
    first = TONER_START - TONER_REPLACED_AT  # used before the first replacement
    if used < first:
        return round(TONER_START - used)
    span = 100.0 - TONER_REPLACED_AT
    return round(100.0 - (used - first) % span)


def paper_out(elapsed: float) -> bool:
    """True during the scripted paper-out episode of each period."""
    start, end = PAPER_OUT
    return start <= elapsed % PAPER_PERIOD < end


def paper_back_at(elapsed: float) -> float:
    """When paper is back, for a moment inside a paper-out episode (else `elapsed` itself)."""
    if not paper_out(elapsed):
        return elapsed
    return elapsed - elapsed % PAPER_PERIOD + PAPER_OUT[1]


class SimPrinter(Device):
    """A deterministic printer twin: toner runs down, paper runs out, jobs complete."""

    kind = "printer"

    def __init__(self, cfg: SimPrinterSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(cfg)
        self.clock = clock
        self.start = clock()
        self.jobs: dict[int, float] = {}  # job id -> elapsed seconds when submitted

    def elapsed(self) -> float:
        return self.clock() - self.start

    def poll(self) -> Reading:
        return reading_from_attributes(self.attributes(), self.cfg.toner_low_percent)

    def attributes(self) -> dict[str, Any]:
        """What Get-Printer-Attributes would answer now."""
        t = self.elapsed()
        toner = toner_percent(t)
        reasons = []
        if paper_out(t):
            reasons.append("media-empty-report")
        if toner < PRINTER_LOW_AT:
            reasons.append("toner-low-report")
        busy = any(self._state(job, t) == "processing" for job in self.jobs)
        return {
            "printer-state": 4 if busy else 3,
            "printer-state-reasons": reasons or "none",
            "printer-supply": [
                f"index=1;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;"
                f"level={toner};colorantname=black;".encode(),
                f"index=2;class=receptacleThatIsFilled;type=wasteToner;unit=percent;"
                f"maxcapacity=100;level={(100 - toner) // 4};colorantname=unknown;".encode(),
            ],
            "printer-supply-description": ["Black Toner", "Waste Toner Box"],
            "printer-make-and-model": MODEL,
        }

    def print_pdf(self, path: Path, title: str) -> int:
        """Accept a PDF as a new job (checked like the real driver); returns its id."""
        check_pdf(Path(path))
        job_id = len(self.jobs) + 1
        self.jobs[job_id] = self.elapsed()
        return job_id

    def job_state(self, job_id: int) -> str:
        """pending for a second, processing while it prints (and waits for paper), completed."""
        if job_id not in self.jobs:
            raise DeviceError(f"printer {self.name} does not know job {job_id}",
                              vi=f"Máy in không còn lệnh in số {job_id}.")
        return self._state(job_id, self.elapsed())

    def _state(self, job_id: int, now: float) -> str:
        submitted = self.jobs[job_id]
        if now < submitted + JOB_PENDING:
            return "pending"
        done = paper_back_at(submitted + JOB_PENDING + JOB_PRINTING)
        return "processing" if now < done else "completed"
