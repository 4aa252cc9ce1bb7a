"""A real NUT server for the tests: `dummy-ups` replaying a .seq file, served by `upsd`.

How it has to be started (found by trying, NUT 2.8.0 on Debian 12): a private config dir in
NUT_CONFPATH (ups.conf, upsd.conf with `LISTEN 127.0.0.1 <port>`, upsd.users mode 600) and state
dir in NUT_STATEPATH; the driver first (`dummy-ups -a dummy -F`), then upsd (`upsd -F`) once the
driver's socket exists; `-u root` when running as root. /usr/sbin/upsd is Debian's wrapper that
refuses to start unless /etc/nut/nut.conf sets MODE, so the real binary /lib/nut/upsd is used.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from .peers import PeerError, free_port, stop, wait_until

NUT_LIB = Path("/lib/nut")
DUMMY_UPS = str(NUT_LIB / "dummy-ups")
UPSD = str(NUT_LIB / "upsd") if (NUT_LIB / "upsd").exists() else shutil.which("upsd") or "upsd"
UPS = "dummy"
USER, PASSWORD = "edge", "s3cret"


class NutServer:
    """dummy-ups + upsd on a loopback port, configured in `workdir`."""

    def __init__(self, workdir: Path, seq: str, maxage: int | None = None) -> None:
        self.dir = workdir
        self.state = workdir / "state"
        self.seq = seq
        self.maxage = maxage
        self.port = free_port()
        self.driver: subprocess.Popen[bytes] | None = None
        self.upsd: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "NUT_CONFPATH": str(workdir), "NUT_STATEPATH": str(self.state)}
        self.as_root = ["-u", "root"] if os.geteuid() == 0 else []

    @property
    def driver_command(self) -> list[str]:
        return [DUMMY_UPS, "-a", UPS, "-F", *self.as_root]

    @property
    def upsd_command(self) -> list[str]:
        return [UPSD, "-F", *self.as_root]

    def write_config(self) -> None:
        self.state.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.dir / "test.seq").write_text(self.seq)
        (self.dir / "ups.conf").write_text(
            f'[{UPS}]\n  driver = dummy-ups\n  port = test.seq\n  desc = "edge test UPS"\n')
        maxage = f"MAXAGE {self.maxage}\n" if self.maxage else ""
        (self.dir / "upsd.conf").write_text(f"LISTEN 127.0.0.1 {self.port}\n{maxage}")
        users = self.dir / "upsd.users"
        users.write_text(f"[{USER}]\n  password = {PASSWORD}\n  actions = SET\n"
                         "  upsmon secondary\n")
        users.chmod(0o600)

    def start(self) -> NutServer:
        self.write_config()
        self.start_driver()
        self.start_upsd()
        return self

    def start_driver(self) -> None:
        self.driver = self._spawn(self.driver_command, "driver.log")
        wait_until(lambda: (self.state / f"dummy-ups-{UPS}").exists() or self._died(self.driver),
                   15, "dummy-ups to create its socket")
        self._check(self.driver, "dummy-ups", "driver.log")

    def start_upsd(self) -> None:
        self.upsd = self._spawn(self.upsd_command, "upsd.log")
        wait_until(lambda: self.answers() or self._died(self.upsd), 15, "upsd to serve the UPS")
        self._check(self.upsd, "upsd", "upsd.log")

    def answers(self) -> bool:
        """True once upsd serves the UPS's status from the .seq file (not the driver's WAIT)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1) as s:
                s.sendall(f"GET VAR {UPS} ups.status\n".encode())
                reply = s.recv(200)
                return reply.startswith(b"VAR ") and b'"WAIT"' not in reply
        except OSError:
            return False

    def set(self, **values: str) -> None:
        """Change variables now (`upsrw`; dummy-ups takes any), e.g. set(ups_status="OB")."""
        for name, value in values.items():
            subprocess.run(["upsrw", "-s", f"{name.replace('_', '.')}={value}", "-u", USER,
                            "-p", PASSWORD, f"{UPS}@127.0.0.1:{self.port}"], env=self.env,
                           check=True, capture_output=True, timeout=10)

    def stop_upsd(self) -> None:
        stop(self.upsd)

    def stop_driver(self) -> None:
        stop(self.driver)

    def stop(self) -> None:
        self.stop_upsd()
        self.stop_driver()

    def _spawn(self, command: list[str], log: str) -> subprocess.Popen[bytes]:
        with open(self.dir / log, "wb") as out:
            return subprocess.Popen(command, env=self.env, cwd=self.dir, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def _died(self, proc: subprocess.Popen[bytes] | None) -> bool:
        return proc is not None and proc.poll() is not None

    def _check(self, proc: subprocess.Popen[bytes] | None, what: str, log: str) -> None:
        if self._died(proc):
            text = (self.dir / log).read_text(errors="replace")[-2000:]
            raise PeerError(f"{what} exited at start:\n{text}")
