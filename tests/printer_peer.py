"""A real IPP Everywhere printer for the tests: CUPS's `ippeveprinter` on a loopback port.

How it has to be started (found by trying, CUPS 2.4.2 on Debian 12; see tests/test_printer.py):
a private D-Bus daemon, then ippeveprinter with `-r off` and DBUS_SYSTEM_BUS_ADDRESS pointing at
that bus. No avahi-daemon, no root, nothing under /run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

from .peers import PeerError, free_port, stop, wait_until

IPPEVEPRINTER = shutil.which("ippeveprinter") or "/usr/sbin/ippeveprinter"
DBUS_DAEMON = shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"
FORMATS = "application/pdf,image/pwg-raster,image/jpeg"
MAKE, MODEL = "Brother", "MFC-L2710DW"


class PrivateBus:
    """A D-Bus daemon of our own, used by ippeveprinter's Avahi client as "the system bus"."""

    def __init__(self, workdir: Path) -> None:
        self.socket = workdir / "bus"
        self.address = f"unix:path={self.socket}"
        self.log = workdir / "dbus.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not Path(DBUS_DAEMON).exists():
            raise PeerError("dbus-daemon not found: apt install dbus")
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [DBUS_DAEMON, "--session", f"--address={self.address}", "--nofork",
                 "--nopidfile"], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: self.socket.exists() or self._exited(), 10,
                       "dbus-daemon")
        except PeerError:
            self.stop()
            raise
        if self._exited():
            raise PeerError(f"dbus-daemon exited: {self.log.read_text(errors='replace')}")

    def _exited(self) -> bool:
        return self.proc is None or self.proc.poll() is not None

    def stop(self) -> None:
        stop(self.proc)


class IppEvePrinter:
    """One ippeveprinter process; `uri` is what the driver is configured with."""

    def __init__(self, workdir: Path, bus: PrivateBus, name: str = "edge-test",
                 keep: bool = False) -> None:
        self.workdir = workdir
        self.bus = bus
        self.name = name
        self.keep = keep  # -k: the documents received stay in the spool, to be read back
        self.spool = workdir / "spool"
        self.log = workdir / "ippeveprinter.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/ipp/print"

    def command(self) -> list[str]:
        return [IPPEVEPRINTER, "-r", "off", "-n", "localhost", "-p", str(self.port),
                "-d", str(self.spool), "-f", FORMATS, "-M", MAKE, "-m", MODEL,
                *(["-k"] if self.keep else []), self.name]

    def start(self) -> None:
        if not Path(IPPEVEPRINTER).exists():
            raise PeerError("ippeveprinter not found: apt install cups-ipp-utils")
        self.spool.mkdir(parents=True, exist_ok=True)  # it aborts jobs if its spool is missing
        for _ in range(3):  # another process may grab the free port first
            self.port = free_port()
            if self._try_start():
                return
        raise PeerError(f"ippeveprinter did not start: {self.log.read_text(errors='replace')}")

    def _try_start(self) -> bool:
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus.address}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         env=env)
        try:
            wait_until(lambda: self.listening() or self._exited(), 15,
                       "ippeveprinter to listen")
        except PeerError:
            self.stop()
            return False
        return not self._exited()

    def listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def web(self, page: str, **params: object) -> None:
        """GET one of its web forms (`/supplies`, `/media`), as a browser submitting it."""
        query = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        url = f"http://127.0.0.1:{self.port}/{page}?{query}"
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()

    def set_supplies(self, waste_toner: int, black_toner: int) -> None:
        """supply0 is the waste toner box, supply1 the black toner; a supply left out of the
        query disappears from printer-supply, so both are always sent."""
        self.web("supplies", supply0=waste_toner, supply1=black_toner)

    def set_paper(self, sheets: int) -> None:
        """Sheets of A4 in the main tray (0 makes it report media-empty). Like the supplies, a
        tray left out of the query is emptied, so the by-pass tray is sent as unknown (-2)."""
        self.web("media", size1="iso_a4_210x297mm", type1="stationery", level1=sheets,
                 size3="", type3="", level3=-2)

    def _exited(self) -> bool:
        return self.proc is None or self.proc.poll() is not None

    def stop(self) -> None:
        stop(self.proc)

    def __enter__(self) -> IppEvePrinter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
