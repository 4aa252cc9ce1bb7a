"""Scanner hardware buttons: a press on the scanner starts a scan, as if staff pressed Scan.

SANE shows a button as a sensor option: a bool that the hardware sets (hard-select) and the
frontend can read (soft-detect), e.g. fujitsu `scan`/`email`, canon_dr `start`. Like scanbd, the
poller opens the device about every half second, reads the sensors and closes it again, so the
device is never held between polls; it does not poll at all while a job runs on that scanner, and
a press then starts nothing. Backends give paper and cover sensors the same capabilities as
buttons, so only the buttons named in DEFAULT_BUTTONS (or the scanner's `buttons`) are polled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from edge.drivers.scanner.settings import SaneSettings, ScannerSettings
from edge.field import visits
from edge.pipeline.job import Job
from edge.pipeline.queue import Queue
from edge.pipeline.settings import ScanSettings

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
DEBOUNCE_SECONDS = 2.0
SOFT_SELECT, HARD_SELECT, SOFT_DETECT, INACTIVE = 1, 2, 4, 32
TYPE_BOOL = 0
BUTTON_DOC = "Tài liệu quét"  # the document type of a job started by a scanner's button
# polled unless the scanner's `buttons` names others; not sensors such as fujitsu page-loaded,
# cover-open, double-feed, power-save or canon_dr stop, adf-loaded, which must not start scans
DEFAULT_BUTTONS = frozenset({"scan", "start", "email", "copy", "file", "pdf", "fax", "ocr",
                             "extra"})

Reader = Callable[[], dict[str, bool] | None]  # None: the scanner could not be read this time


def is_button(option_type: int, cap: int) -> bool:
    """A sensor: a bool the hardware sets and software may only read."""
    return (option_type == TYPE_BOOL and bool(cap & HARD_SELECT) and bool(cap & SOFT_DETECT)
            and not cap & SOFT_SELECT and not cap & INACTIVE)


def sane_reader(scanner: SaneSettings) -> Reader:
    """Read the scanner's buttons by opening it briefly (python-sane); None if it cannot be
    opened (absent or busy)."""

    def read() -> dict[str, bool] | None:
        import sane

        from edge.drivers.scanner.sane import ensure_init

        ensure_init()
        try:
            dev = sane.open(scanner.device)
        except Exception:  # absent or busy: try again at the next poll
            return None
        try:
            found = [(o[0], o[1]) for o in dev.get_options() if o[1] and is_button(o[4], o[7])]
            # by index: as attributes, fujitsu's `scan` and canon_dr's `start` are SaneDev methods
            wanted = scanner.buttons or DEFAULT_BUTTONS
            return {name: bool(dev.dev.get_option(index)) for index, name in found
                    if name in wanted}
        finally:
            dev.close()

    return read


def button_job(queue: Queue, kit: str, scanner: ScannerSettings, preset: str) -> Job:
    """What a press does: queue a new job with the next ticket. A paused job is never resumed
    by a press: why and when it paused is not recorded well enough to rule out adding the next
    citizen's papers to it (staff resume it on the scan page or with `edge resume`)."""
    doc = ScanSettings.resolve(scanner, preset).doc or BUTTON_DOC
    job = queue.create(kit=kit, doc=doc, scanner=scanner.name, preset=preset)
    visits.attach_job(queue.db.parent, job.id)
    log.info("job %d %s queued by the scanner's button", job.id, job.ticket,
             extra={"event": "job.queued", "job": job.id, "ticket": job.ticket,
                    "scanner": scanner.name, "by": "button"})
    return job


class ButtonPoller:
    """Start a job when a button goes from released to pressed (once per press, debounced)."""

    def __init__(self, scanner: SaneSettings, read: Reader, start: Callable[[str], None],
                 busy: Callable[[], bool], stop: threading.Event) -> None:
        self.scanner = scanner
        self.read = read
        self.start = start  # called with the preset name ("" for the scanner's defaults)
        self.busy = busy
        self.stop = stop
        self.last: dict[str, bool] = {}
        self.last_press = 0.0

    def loop(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            try:
                self.poll_once()
            except Exception:  # a button must never take the service down
                log.exception("scanner %s: button polling failed", self.scanner.name)
                self.stop.wait(10 * POLL_SECONDS)

    def poll_once(self) -> str | None:
        """Read the buttons once; the button whose press started a job, if any."""
        if self.busy():
            # `last` stays as it was: a button held since it started the job is no new press when
            # the job ends (no job after each job); the buttons are not read meanwhile
            return None
        states = self.read()
        if states is None:  # what was held stays held: no press out of a failed read
            return None
        pressed = [n for n, on in states.items() if on and not self.last.get(n)]
        self.last = states
        now = time.monotonic()
        if not pressed or now - self.last_press < DEBOUNCE_SECONDS:
            return None
        self.last_press = now
        button = pressed[0]
        preset = self.scanner.buttons.get(button, "")
        log.info("scanner %s: button %s pressed, starting %s", self.scanner.name, button,
                 f"preset {preset}" if preset else "a scan with the defaults")
        self.start(preset)
        return button
