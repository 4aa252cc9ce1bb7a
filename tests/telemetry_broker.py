"""A real Mosquitto for the telemetry tests: own config on free loopback ports, a password file,
TLS listeners with a test CA made by openssl, persistence (so a collector's session survives a
broker restart), and a subscriber that records what arrives."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .peers import PeerError, free_port, stop, wait_until

USER, PASSWORD = "kit", "s3cret-pass"


def make_ca(d: Path) -> dict[str, Path]:
    """A test CA, a server certificate for 127.0.0.1/localhost and a client certificate."""
    if shutil.which("openssl") is None:
        raise PeerError("openssl is needed for the TLS tests (apt-get install openssl)")
    d.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=edge test CA")
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name in ("server", "client"):
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", "san.ext")
    run("req", "-x509", *ec, "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2",
        "-subj", "/CN=some other CA")
    return {n: d / f"{n}" for n in ("ca.crt", "server.crt", "server.key", "client.crt",
                                    "client.key", "other-ca.crt")}


class Mosquitto:
    def __init__(self, d: Path, *, password: bool = False, tls: bool = False,
                 users: dict[str, str] | None = None, extra: tuple[str, ...] = ()) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise PeerError("mosquitto is needed for the telemetry tests (apt-get install "
                            "mosquitto)")
        self.exe = exe
        self.dir = d
        d.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.mtls_port = free_port() if tls else 0
        self.log = d / "mosquitto.log"
        self.certs = make_ca(d / "certs") if tls else {}
        lines = ["per_listener_settings false", "persistence true",
                 f"persistence_location {d}/", "autosave_interval 1",
                 f"log_dest file {self.log}", "log_type all", "connection_messages true"]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to `mosquitto`, who cannot read tmp_path
        if password:
            for i, (user, secret) in enumerate({USER: PASSWORD, **(users or {})}.items()):
                subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []),
                                str(d / "passwd"), user, secret], check=True, capture_output=True)
            lines += ["allow_anonymous false", f"password_file {d / 'passwd'}"]
        else:
            lines.append("allow_anonymous true")
        lines.append(f"listener {self.port} 127.0.0.1")
        if tls:
            c = self.certs
            lines += [f"listener {self.tls_port} 127.0.0.1", f"cafile {c['ca.crt']}",
                      f"certfile {c['server.crt']}", f"keyfile {c['server.key']}",
                      f"listener {self.mtls_port} 127.0.0.1", f"cafile {c['ca.crt']}",
                      f"certfile {c['server.crt']}", f"keyfile {c['server.key']}",
                      "require_certificate true"]
        lines += extra  # last: a bridge's `connection` section runs to the end of the file
        self.conf = d / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(lambda: self._listening() or self.proc.poll() is not None, 10, "mosquitto")
        if self.proc.poll() is not None:
            raise PeerError(f"mosquitto exited: {self.log_text()}")
        return self

    def _listening(self) -> bool:
        import socket

        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        stop(self.proc)  # SIGTERM: mosquitto saves its sessions (persistence) and exits
        self.proc = None

    close = stop

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Subscriber:
    """A test client recording every message of `topics` (with its retain flag)."""

    def __init__(self, broker: Mosquitto, *topics: str, port: int = 0,
                 tls: dict[str, Path] | None = None, auth: bool | tuple[str, str] = False
                 ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{time.monotonic_ns()}")
        if auth:
            self.c.username_pw_set(*(auth if isinstance(auth, tuple) else (USER, PASSWORD)))
        if tls:
            self.c.tls_set(ca_certs=str(tls["ca.crt"]), cert_reqs=ssl.CERT_REQUIRED)
        subscribed = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in topics])
        self.c.on_subscribe = lambda c, u, mid, rcs, p: subscribed.set()
        self.c.on_message = self._record
        self.c.connect("127.0.0.1", port or broker.port)
        self.c.loop_start()
        if not subscribed.wait(10):
            raise PeerError("test subscriber could not subscribe")

    def _record(self, c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def on(self, suffix: str) -> list[tuple[str, bytes, bool]]:
        with self.lock:
            return [m for m in self.messages if m[0].endswith(suffix)]

    def json(self, suffix: str) -> list[dict]:
        return [json.loads(p) for _, p, _ in self.on(suffix) if p]

    def wait(self, suffix: str, seconds: float = 15.0, n: int = 1) -> list[tuple[str, bytes, bool]]:
        wait_until(lambda: len(self.on(suffix)) >= n, seconds, f"{n} message(s) on *{suffix}")
        return self.on(suffix)

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()
