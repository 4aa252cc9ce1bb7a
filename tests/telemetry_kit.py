"""Helpers of the telemetry tests: a kit config with [mqtt], `edge run` and `edge fleet` as real
processes logging to files, and payload validation against docs/schemas."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema

from edge.telemetry.fleetdb import FleetDB

from .conftest import ROOT, Kit, toml_value
from .peers import wait_until

SCHEMAS = ROOT / "docs" / "schemas"
SIM_SCANNER = {"name": "sim", "driver": "sim", "dpi": 100,
               "sim": {"sheets": 2, "page_delay": 0.01, "blank_backs": False}}


def configure(kit: Kit, port: int, *, outage_after: float = 0.0, **mqtt: object) -> None:
    """Sim scanner, Pi, UPS and 4G modem; [mqtt] on the test broker, quick reconnection."""
    kit.configure([dict(SIM_SCANNER)])
    settings = {"enabled": True, "host": "127.0.0.1", "port": port, "reconnect_max": 2.0,
                **mqtt}
    lines = ["", "[system]", 'driver = "sim"', "", "[[ups]]", 'name = "ups"', 'driver = "sim"',
             "interval = 0.5",
             f"sim = {{ outage_after = {outage_after}, outage_seconds = 600.0, runtime = 900.0 }}",
             "", "[[modem]]", 'name = "4g"', 'driver = "sim"', "", "[mqtt]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in settings.items()]
    with open(kit.config, "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def schema_name(topic: str) -> str:
    parts = topic.split("/")
    if parts[0] == "homeassistant":
        return "ha-discovery"
    return parts[-2] if parts[-2] in ("state", "counts") else parts[-1]


def validate(topic: str, payload: bytes) -> dict:
    """The payload, checked against the JSON Schema of its topic."""
    data = json.loads(payload)
    jsonschema.validate(data, schema(schema_name(topic)),
                        cls=jsonschema.Draft202012Validator)
    return data


class Proc:
    """A real `edge ...` process whose stderr goes to a file (a pipe nobody reads would fill)."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log
        with open(log, "ab") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "edge", *args],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, env=env or os.environ)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text: str, seconds: float = 30.0) -> None:
        wait_until(lambda: text in self.log() or self.proc.poll() is not None, seconds, text)
        assert text in self.log(), self.log()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, seconds: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(seconds)

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)


def start_edge(kit: Kit, log: Path) -> Proc:
    p = Proc(["--config", str(kit.config), "run"], log)
    wait_until(lambda: (kit.root / "locks" / "worker.lock").exists() or not p.alive(), 30,
               "edge run to start")
    assert p.alive(), p.log()
    return p


def start_fleet(tmp: Path, port: int, db: Path | str, *extra: str,
                client_id: str = "test-fleet") -> Proc:
    env = {**os.environ, "EDGE_CONFIG": str(tmp / "no-such-kit-config.toml")}
    p = Proc(["fleet", "--broker", f"127.0.0.1:{port}", "--db", str(db),
              "--client-id", client_id, *extra], tmp / f"{client_id}.log", env)
    p.wait_log("MQTT connected")
    time.sleep(0.3)  # its SUBSCRIBE follows the CONNACK
    return p


def fleet_events(db: Path | str) -> list[dict]:
    if "://" not in str(db) and not Path(db).exists():
        return []
    store = FleetDB(db)
    try:
        return store.events()
    finally:
        store.close()


def outbox_rows(kit: Kit) -> list[tuple[str, str, bytes]]:
    import sqlite3

    conn = sqlite3.connect(kit.root / "telemetry.db")
    try:
        return conn.execute("SELECT kind, topic, payload FROM outbox ORDER BY id").fetchall()
    finally:
        conn.close()
