"""The kit's services as the updater sees them: stop, start, and "is it up, and is it still the
same process?". In production that is systemd (Type=notify: `active` only after the service's
READY=1; a watchdog kill shows as a new MainPID or a higher NRestarts). Where systemd is not PID 1
([update] service_command, e.g. a container) a command answers the same three questions:
`COMMAND stop|start`, and `COMMAND status` printing {"state": ..., "instance": ...} as JSON.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

from edge.errors import UpdateError

UNITS = ("edge.service", "edge-web.service")


@dataclass(frozen=True)
class Status:
    state: str  # active (ready), activating, failed, inactive
    instance: str  # changes when the service restarts (main PID, restarts)

    @property
    def ready(self) -> bool:
        return self.state == "active"


class Services:
    def __init__(self, command: list[str]) -> None:
        self.command = command

    def stop(self) -> None:
        self._run("stop", *([] if self.command else reversed(UNITS)))

    def start(self) -> None:
        self._run("start", *([] if self.command else UNITS))

    def status(self) -> Status:
        if self.command:
            data = json.loads(self._run("status"))
            return Status(str(data["state"]), str(data["instance"]))
        out = self._run("show", UNITS[0], "-p", "ActiveState", "-p", "MainPID", "-p",
                        "NRestarts")
        props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        return Status(props.get("ActiveState", ""),
                      f"{props.get('MainPID')}/{props.get('NRestarts')}")

    def _run(self, *args: str) -> str:
        argv = [*(self.command or ["systemctl"]), *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise UpdateError(f"`{' '.join(argv)}` failed: {r.stderr.strip() or r.returncode}",
                              vi="Không điều khiển được dịch vụ của bộ máy.")
        return r.stdout
