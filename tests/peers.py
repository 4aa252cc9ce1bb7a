"""What the fixtures starting real peers (upsd, ippeveprinter, socat) have in common."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class PeerError(RuntimeError):
    """A peer could not be started."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise PeerError(f"timed out waiting for {what}")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Terminate one process we started, then kill it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class SocatPair:
    """Two linked pseudo-terminals made by socat: a driver opens `port` (like /dev/ttyUSB0), an
    emulator the `peer` end. `unplug()` kills socat: both ends vanish, like a pulled cable."""

    def __init__(self, directory: Path, port: str = "ttyUSB0") -> None:
        socat = shutil.which("socat")
        if socat is None:
            raise PeerError("socat is needed for the serial device tests (apt-get install socat)")
        self.port, self.peer = directory / port, directory / f"{port}.peer"
        log = directory / f"{port}.socat.log"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [socat, "-d", "-d", f"pty,raw,echo=0,link={self.port}",
                 f"pty,raw,echo=0,link={self.peer}"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        wait_until(lambda: (self.port.exists() and self.peer.exists())
                   or self.proc.poll() is not None, 10, "socat's pseudo-terminals")
        if self.proc.poll() is not None:
            raise PeerError(f"socat exited: {log.read_text(errors='replace')}")

    def unplug(self) -> None:
        stop(self.proc)
