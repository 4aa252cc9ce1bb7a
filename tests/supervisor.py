"""A stand-in for systemd where systemd is not PID 1 (this container): it runs `edge run` of the
`current` release as edge.service does (Type=notify: `active` only after READY=1;
Restart=on-failure; WatchdogSec: killed with SIGABRT when WATCHDOG=1 stops coming) and answers the
updater's questions as [update] service_command: `supervisor.py ctl SOCKET start|stop|status`.

    supervisor.py serve SOCKET PREFIX CONFIG [--watchdog-sec S] [--restart-sec S]

Every start, exit and kill goes to SOCKET.journal (JSON lines, with time.time()).
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


class Supervisor:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.wanted = False
        self.state = "inactive"
        self.starts = 0
        self.last_ping = 0.0
        self.restart_at: float | None = None
        self.journal = Path(args.socket + ".journal")
        notify = args.socket + ".notify"
        Path(notify).unlink(missing_ok=True)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify)
        Path(args.socket).unlink(missing_ok=True)
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.control.bind(args.socket)
        self.control.listen()

    def log(self, event: str, **data: object) -> None:
        with self.journal.open("a") as f:
            f.write(json.dumps({"ts": time.time(), "event": event, **data}) + "\n")

    def spawn(self) -> None:
        edge = Path(self.args.prefix) / "current/venv/bin/edge"
        env = {**os.environ, "NOTIFY_SOCKET": self.args.socket + ".notify",
               "WATCHDOG_USEC": str(int(self.args.watchdog_sec * 1e6))}
        self.proc = subprocess.Popen([str(edge), "--config", self.args.config, "run"], env=env)
        self.starts += 1
        self.state, self.last_ping, self.restart_at = "activating", time.monotonic(), None
        release = os.readlink(Path(self.args.prefix) / "current")
        self.log("start", pid=self.proc.pid, release=release)

    def stop(self) -> None:
        self.wanted, self.restart_at = False, None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log("stop", pid=self.proc.pid, code=self.proc.returncode)
        self.proc, self.state = None, "inactive"

    def answer(self, command: str) -> str:
        if command == "start":
            if not self.wanted:
                self.wanted = True
                self.spawn()
            return "ok"
        if command == "stop":
            self.stop()
            return "ok"
        if command == "status":
            pid = self.proc.pid if self.proc else 0
            return json.dumps({"state": self.state, "instance": f"{pid}/{self.starts}"})
        return f"error: unknown command {command}"

    def tick(self) -> None:
        now = time.monotonic()
        if self.proc and self.proc.poll() is not None:
            self.log("exit", pid=self.proc.pid, code=self.proc.returncode)
            failed = self.proc.returncode != 0
            self.proc, self.state = None, "failed" if failed else "inactive"
            if self.wanted and failed:  # Restart=on-failure
                self.restart_at = now + self.args.restart_sec
        if self.restart_at is not None and now >= self.restart_at:
            self.spawn()
        if self.proc and self.state == "active" and now - self.last_ping > self.args.watchdog_sec:
            self.log("watchdog", pid=self.proc.pid)
            self.proc.send_signal(signal.SIGABRT)

    def on_notify(self) -> None:
        for line in self.notify.recv(4096).decode().splitlines():
            if line == "READY=1" and self.proc:
                self.state, self.last_ping = "active", time.monotonic()
                self.log("ready", pid=self.proc.pid)
            elif line == "WATCHDOG=1":
                self.last_ping = time.monotonic()

    def on_control(self) -> None:
        conn, _ = self.control.accept()
        with conn:
            command = conn.makefile().readline().strip()
            conn.sendall(self.answer(command).encode())

    def serve(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.notify, selectors.EVENT_READ, self.on_notify)
        sel.register(self.control, selectors.EVENT_READ, self.on_control)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                for key, _ in sel.select(0.2):
                    key.data()
                self.tick()
        finally:
            self.stop()


def ctl(path: str, command: str) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(command.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        reply = b"".join(iter(lambda: s.recv(4096), b"")).decode()
    print(reply)
    return 1 if reply.startswith("error") else 0


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("serve")
    s.add_argument("socket")
    s.add_argument("prefix")
    s.add_argument("config")
    s.add_argument("--watchdog-sec", type=float, default=60.0)
    s.add_argument("--restart-sec", type=float, default=1.0)
    c = sub.add_parser("ctl")
    c.add_argument("socket")
    c.add_argument("command", choices=["start", "stop", "status"])
    args = p.parse_args()
    if args.what == "ctl":
        return ctl(args.socket, args.command)
    Supervisor(args).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
