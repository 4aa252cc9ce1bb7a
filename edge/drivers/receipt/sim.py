"""A simulated receipt printer, so the demo and the web UI have one with no hardware.

It is a python-escpos printer like the real transports, so slips go through the same code. It
keeps what it receives in a file when `path` is set (appending, so a demo can inspect every slip)
and otherwise only counts bytes. Its paper runs near its end for `NEAR_END` seconds of every
`PERIOD`, counted from when the process started, so a demo shows the warning and the recovery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from escpos.escpos import Escpos

PERIOD = 900.0  # seconds
NEAR_END = (600.0, 720.0)  # the near-end episode, as seconds into each period
OK, NEAR = 0x12, 0x12 | 0x0C  # DLE EOT 4 answers


class SimEscpos(Escpos):
    """Answers DLE EOT like a healthy Epson printer; paper near its end now and then."""

    started = time.monotonic()

    def __init__(self, path: Path | None = None, clock: Callable[[], float] = time.monotonic,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.clock = clock
        self.received = 0
        self._device = None  # nothing to open

    def open(self) -> None:
        return None

    def _raw(self, msg: bytes) -> None:
        if msg.startswith(b"\x10\x04"):
            return  # a status query, answered by `answer`
        self.received += len(msg)
        if self.path is not None:
            with open(self.path, "ab") as f:
                f.write(msg)

    def near_end(self) -> bool:
        start, end = NEAR_END
        return start <= (self.clock() - self.started) % PERIOD < end

    def answer(self, n: int) -> bytes:
        """The status byte for DLE EOT n."""
        return bytes([NEAR if n == 4 and self.near_end() else OK])
