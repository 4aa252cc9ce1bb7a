"""A Megatec/Q1 UPS for the tests: a Python emulator on one end of a `socat` pseudo-terminal pair.

`socat pty,raw,echo=0,link=DIR/ups pty,raw,echo=0,link=DIR/emu` gives two linked serial ports; the
driver opens DIR/ups like a /dev/ttyUSB0, the emulator (pyserial, in a thread) reads DIR/emu and
answers each `Q1\\r` with the scripted reply. Killing socat removes both ends, like pulling the
USB-serial cable.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from pathlib import Path

import serial


def q1(vin: str = "226.0", vfault: str = "195.0", vout: str = "226.0", load: str = "014",
       hz: str = "49.0", battery: str = "27.5", temp: str = "30.0",
       bits: str = "00001000") -> bytes:
    """A Q1 reply line, CR included."""
    return f"({vin} {vfault} {vout} {load} {hz} {battery} {temp} {bits}\r".encode()


ONLINE = q1()


class Emulator:
    """Answers `Q1\\r` with `reply` (None: stays silent); `once` replies go first, one per query.

    Replies are sent byte for byte (a line ends with the CR it carries). `stale` bytes are sent
    `stale_delay` seconds after an answer, unasked, like a late answer on a slow line.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reply: bytes | None = ONLINE
        self.once: deque[bytes | None] = deque()
        self.stale: bytes | None = None
        self.stale_delay = 0.3
        self.queries = 0
        self.stale_sent = 0
        self._stop = threading.Event()
        self._port: serial.Serial | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        self._port = serial.Serial(str(self.path), 2400, timeout=0.05)
        self._thread = threading.Thread(target=self._run, daemon=True, name="megatec-emulator")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._port.close()

    def _run(self) -> None:
        assert self._port is not None
        buffer = b""
        try:
            while not self._stop.is_set():
                buffer += self._port.read(64)
                while b"\r" in buffer:
                    command, buffer = buffer.split(b"\r", 1)
                    if command.strip() == b"Q1":
                        self._answer()
        except (serial.SerialException, OSError):
            return  # the pair went away (socat killed): so does the UPS

    def _answer(self) -> None:
        assert self._port is not None
        self.queries += 1
        reply = self.once.popleft() if self.once else self.reply
        if reply is None:
            return
        self._port.write(reply)
        stale = self.stale
        if stale is not None:
            time.sleep(self.stale_delay)
            self._port.write(stale)
            self.stale_sent += 1
