"""Benchmark: the status API under 20 concurrent clients while a scan runs; target p95 < 100 ms.

A technician's phone, the staff laptop and the commune's own tools all poll `GET /api/status`
(the device snapshot) while the kit scans. Measured here: a real `edge run` scanning a long batch
from the simulated ADF, a real `edge web` (waitress, [web] threads), and CLIENTS threads on
loopback, each with its own keep-alive connection and logged-in session, requesting as fast as
they can for SECONDS. Printed: requests per second, p50/p95/p99 latency, errors, and the pages
the scan made meanwhile (the scan must not starve). Also `GET /api/jobs/<id>` (staff, reads the
queue) as a second line.

Run: .venv/bin/python bench/web.py [--clients 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import write_config
from tests.peers import free_port
from tests.web_kit import PASSWORDS, add_web

TARGET_P95_MS = 100.0


class Session:
    """One keep-alive connection with a logged-in session cookie and its CSRF token."""

    def __init__(self, port: int, user: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        token = self.call("GET", "/api/csrf")["csrf_token"]
        self.token = self.call("POST", "/api/login", {"name": user,
                                                      "password": PASSWORDS[user]},
                               token)["csrf_token"]

    def call(self, method: str, path: str, body: object = None, token: str = "") -> dict:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers.update({"Content-Type": "application/json", "X-CSRF-Token": token})
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                self.cookie = v.split(";", 1)[0]
        if r.status >= 400:
            raise RuntimeError(f"{method} {path}: {r.status} {raw[:200]!r}")
        return json.loads(raw)


def hammer(port: int, user: str, path: str, clients: int, seconds: float
           ) -> tuple[list[float], int]:
    sessions = [Session(port, user) for _ in range(clients)]
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def loop(s: Session) -> None:
        mine = []
        while time.monotonic() < end:
            t0 = time.perf_counter()
            try:
                s.call("GET", path)
            except Exception:
                errors[0] += 1
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=loop, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors[0]


def report(name: str, times: list[float], errors: int, seconds: float) -> float:
    q = statistics.quantiles(times, n=100)
    p95 = q[94] * 1000
    print(f"{name:<28} {len(times) / seconds:8.0f} req/s   p50 {q[49] * 1000:6.1f} ms   "
          f"p95 {p95:6.1f} ms   p99 {q[98] * 1000:6.1f} ms   errors {errors}")
    return p95


def wait_port(port: int) -> None:
    for _ in range(300):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("edge web did not start")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="edge-bench-web-"))
    cfg = write_config(tmp / "edge.toml", tmp / "data", [{
        "name": "sim", "driver": "sim", "dpi": 150, "source": "adf",
        "sim": {"sheets": 2000, "page_delay": 0.2, "blank_backs": False}}])
    with open(cfg, "a") as f:
        f.write('\n[system]\ndriver = "sim"\n[[ups]]\nname = "ups"\ndriver = "sim"\n'
                '[[modem]]\nname = "4g"\ndriver = "sim"\n')
    port = free_port()
    add_web(cfg, port)
    env = {**os.environ, "EDGE_CONFIG": str(cfg)}
    procs = [subprocess.Popen([sys.executable, "-m", "edge", cmd], env=env,
                              stderr=subprocess.DEVNULL) for cmd in ("run", "web")]
    try:
        wait_port(port)
        time.sleep(1.0)
        staff = Session(port, "staff")
        job = staff.call("POST", "/api/jobs", {"scanner": "sim", "doc": "Tờ khai"}, staff.token)
        time.sleep(2.0)
        idle0 = staff.call("GET", f"/api/jobs/{job['job_id']}")["pages"]
        time.sleep(5.0)
        before = staff.call("GET", f"/api/jobs/{job['job_id']}")["pages"]
        idle_rate = (before - idle0) / 5.0
        print(f"edge web (waitress), {args.clients} clients, {args.seconds:g} s each, "
              f"loopback, while a scan runs")
        t, e = hammer(port, "tech", "/api/status", args.clients, args.seconds)
        p95 = report("GET /api/status", t, e, args.seconds)
        t, e = hammer(port, "staff", f"/api/jobs/{job['job_id']}", args.clients, args.seconds)
        report("GET /api/jobs/<id>", t, e, args.seconds)
        after = staff.call("GET", f"/api/jobs/{job['job_id']}")
        busy_rate = (after["pages"] - before) / (2 * args.seconds)
        print(f"scan: {idle_rate:.1f} pages/s with no web load, {busy_rate:.1f} pages/s under "
              f"it (ratio {busy_rate / idle_rate if idle_rate else 0:.2f}; state "
              f"{after['state']})")
        print(f"status p95 {p95:.1f} ms vs target {TARGET_P95_MS:.0f} ms: "
              f"{'OK' if p95 < TARGET_P95_MS else 'MISSED'} (ratio {p95 / TARGET_P95_MS:.2f})")
        return 0 if p95 < TARGET_P95_MS else 1
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
