"""Benchmark: what telemetry costs the kit, against named baselines measured in the same run.

1. CPU time of the idle service (`edge run`, simulated Pi, UPS, 4G modem, printer and scanner,
   default poll intervals) per hour, read from /proc: with telemetry on (a local Mosquitto,
   default state_every/metrics_every) against the same service with [mqtt] off (baseline).
   Target: the service with telemetry under 1 % of one core (36 CPU-s per hour).
2. Time from a device state change (the Monitor's listener call) to its `state/<device>` message
   at a subscriber on loopback, against a bare paho publish of the same payload to the same
   broker (baseline). Target: under 1 s.

Run: .venv/bin/python bench/telemetry.py [--seconds 120] [--changes 30]
Needs mosquitto (apt-get install mosquitto).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge import config  # noqa: E402
from edge.health import Health, Metric, Problem, Reading  # noqa: E402
from edge.telemetry import payload  # noqa: E402
from edge.telemetry.service import Telemetry  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(d: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        raise SystemExit("mosquitto is needed: apt-get install mosquitto")
    port = free_port()
    conf = d / "mosquitto.conf"
    lines = ["allow_anonymous true", f"listener {port} 127.0.0.1", *extra]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def kit_config(d: Path, port: int | None) -> Path:
    text = f"""[kit]
id = "BENCH"
commune = "Phú Lạc"
[storage]
root = "{d}/data"
[[scanner]]
name = "sim"
driver = "sim"
[system]
driver = "sim"
[[ups]]
name = "ups"
driver = "sim"
sim = {{ outage_after = 0.0 }}
[[modem]]
name = "4g"
driver = "sim"
[[printer]]
name = "mfp"
driver = "sim"
"""
    if port is not None:
        text += f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
    path = d / "edge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def idle_cpu_per_hour(d: Path, port: int | None, seconds: float) -> float:
    """CPU-seconds per hour of an idle `edge run`, after a 10 s warm-up."""
    d.mkdir()
    conf = kit_config(d, port)
    with open(d / "edge.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "edge", "--config", str(conf), "run"],
                                stdout=subprocess.DEVNULL, stderr=log)
    try:
        time.sleep(10)
        if proc.poll() is not None:
            raise SystemExit(f"edge run exited: {(d / 'edge.log').read_text()}")
        start, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        used, wall = cpu_seconds(proc.pid) - start, time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(30)
    return used / wall * 3600


class Watch:
    """A subscriber noting when each message arrives."""

    def __init__(self, port: int, topic: str) -> None:
        self.arrived: dict[bytes, float] = {}
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2)
        ready = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, 1)
        self.c.on_subscribe = lambda *a: ready.set()
        self.c.on_message = lambda c, u, m: self.arrived.setdefault(m.payload, time.perf_counter())
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        ready.wait(10)

    def wait(self, marker: bytes, seconds: float = 10.0) -> float:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for body, at in list(self.arrived.items()):
                if marker in body:
                    return at
            time.sleep(0.001)
        raise SystemExit("a state message never arrived")

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def ups(n: int) -> Health:
    """A UPS record whose state flips each time (a change is published at once)."""
    problems = [Problem("on-battery", "on battery", "...")] if n % 2 else []
    return Health.of("ups", "ups", "sim", Reading({"battery.charge": Metric(50 + n % 50, "%"),
                                                   "bench.n": Metric(n)}, problems))


def latencies(d: Path, port: int, changes: int) -> tuple[list[float], list[float]]:
    d.mkdir()
    cfg = config.load(kit_config(d, port))
    tel = Telemetry(cfg, [("ups", "ups")])
    tel.start()
    watch = Watch(port, "dvc/+/BENCH/state/ups-ups")
    raw = mqtt.Client(CallbackAPIVersion.VERSION2)
    raw.connect("127.0.0.1", port)
    raw.loop_start()
    time.sleep(2)  # connected, greeted
    ours, bare, prev = [], [], None
    for n in range(1, changes + 1):
        h = ups(n)
        t0 = time.perf_counter()
        tel.on_health(prev, h)
        ours.append(watch.wait(f'"bench.n":{{"value":{n},'.encode()) - t0)
        prev = h
        body = payload.encode(payload.state(tel.src, ups(-n)))
        t0 = time.perf_counter()
        raw.publish("dvc/raw/BENCH/state/ups-ups", body, qos=1)
        bare.append(watch.wait(f'"bench.n":{{"value":{-n},'.encode()) - t0)
        time.sleep(0.2)
    raw.loop_stop()
    raw.disconnect()
    watch.close()
    tel.close()
    return ours, bare


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=120.0, help="idle measurement per run")
    ap.add_argument("--changes", type=int, default=30)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-telemetry-"))
    broker, port = start_broker(tmp)
    try:
        print(f"1. idle `edge run`, {args.seconds:.0f} s each (simulated devices, default "
              "intervals)")
        off = idle_cpu_per_hour(tmp / "off", None, args.seconds)
        on = idle_cpu_per_hour(tmp / "on", port, args.seconds)
        print(f"   baseline, telemetry off: {off:6.1f} CPU-s/hour = {off / 36:.3f} % of a core")
        print(f"   telemetry on:            {on:6.1f} CPU-s/hour = {on / 36:.3f} % of a core"
              f"   (target < 1 %: {'met' if on < 36 else 'NOT met'})")
        print(f"   telemetry's share:       {on - off:6.1f} CPU-s/hour, ratio on/off "
              f"{on / off:.2f}x")
        print(f"2. device state change -> message at a subscriber, {args.changes} changes")
        ours, bare = latencies(tmp / "latency", port, args.changes)
        for name, xs in (("baseline, bare paho publish", bare), ("telemetry", ours)):
            q = statistics.quantiles(xs, n=20, method="inclusive")
            print(f"   {name:<28} median {statistics.median(xs) * 1000:6.1f} ms, "
                  f"p95 {q[-1] * 1000:6.1f} ms, max {max(xs) * 1000:6.1f} ms")
        print(f"   ratio (median) {statistics.median(ours) / statistics.median(bare):.1f}x; "
              f"target < 1 s: {'met' if max(ours) < 1.0 else 'NOT met'}")
    finally:
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
