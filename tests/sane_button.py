"""A scanner whose hardware button a test can press, reached through the real libsane.

`sane_button_backend.c` (see its header for why) is compiled into a private directory that goes
on LD_LIBRARY_PATH, where libsane's dll backend looks for `libsane-NAME.so.1` before its own
directory, and listed alone in a private dll.conf (SANE_CONFIG_DIR). Give `env` to the process
under test; it then sees the device `edgebutton:0`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

SOURCE = Path(__file__).with_name("sane_button_backend.c")
HEADER = Path("/usr/include/sane/sane.h")


def missing() -> str:
    """Why the backend cannot be built here; "" when it can."""
    if shutil.which("gcc") is None:
        return "gcc is not installed (apt-get install gcc)"
    if not HEADER.exists():
        return "the SANE headers are not installed (apt-get install libsane-dev)"
    return ""


class ButtonScanner:
    """The `edgebutton:0` device: press and release its button, hold its feeder, count polls."""

    device = "edgebutton:0"

    def __init__(self, directory: Path, sheets: int = 2) -> None:
        lib, conf = directory / "lib", directory / "sane.d"
        lib.mkdir(parents=True)
        conf.mkdir()
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-o", str(lib / "libsane-edgebutton.so.1"), str(SOURCE)],
                       check=True, capture_output=True, timeout=60)
        (conf / "dll.conf").write_text("edgebutton\n")
        self.button, self.gate, self.log = (directory / n for n in ("button", "gate", "log"))
        self.release()
        self.log.touch()
        self.env = {"SANE_CONFIG_DIR": str(conf), "LD_LIBRARY_PATH": str(lib),
                    "EDGE_TEST_BUTTON_FILE": str(self.button),
                    "EDGE_TEST_BUTTON_SHEETS": str(sheets),
                    "EDGE_TEST_BUTTON_GATE": str(self.gate), "EDGE_TEST_BUTTON_LOG": str(self.log)}

    def press(self) -> None:
        self._set("1")

    def release(self) -> None:
        self._set("0")

    def _set(self, state: str) -> None:
        tmp = self.button.with_suffix(".tmp")
        tmp.write_text(state)
        os.replace(tmp, self.button)  # the backend never reads a half-written file

    @contextlib.contextmanager
    def feeder_held(self) -> Iterator[None]:
        """While inside, sane_start waits: a scan stays under way."""
        self.gate.touch()
        try:
            yield
        finally:
            self.gate.unlink(missing_ok=True)

    def events(self) -> list[str]:
        """What the backend saw: "scan=0"/"scan=1" per read of the button, "gate" per wait."""
        return self.log.read_text().split()

    def reads(self) -> int:
        """How many times the button has been read (once per poll)."""
        return sum(e.startswith("scan=") for e in self.events())
