"""One MQTT connection through paho: TLS, login, last will, and failures people can act on.

Shared by the kit's publisher and the commune server's collector. Connecting is the caller's loop
(paho's own reconnect loop hides why a connection failed): `connect()` turns every failure into
a `TelemetryError` that says what to fix, `Backoff` spaces the attempts and `Complaints` keeps a
broker that stays away for hours from flooding the log.
"""

from __future__ import annotations

import contextlib
import logging
import random
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from edge import config
from edge.telemetry import TelemetryError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10.0
LOGIN_REFUSED = {4, 5, 134, 135}  # MQTT 3.1.1 CONNACK 4/5, their MQTT 5 reason codes
CLIENT_ID_REFUSED = {2, 133}


@dataclass(frozen=True)
class Broker:
    host: str
    port: int = 1883
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive: int = 60
    fix_login: str = "fix [mqtt] username/password"  # where people set the login

    @classmethod
    def of(cls, m: config.Mqtt) -> Broker:
        return cls(m.host, m.broker_port, m.username, m.password, m.use_tls, m.ca_file,
                   m.cert_file, m.key_file, m.keepalive)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def client(broker: Broker, client_id: str, *, clean: bool,
           will: tuple[str, bytes] | None = None, manual_ack: bool = False) -> mqtt.Client:
    """A fresh paho client: one per connection, so nothing of a dead one lingers in RAM."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean,
                    protocol=mqtt.MQTTv311, reconnect_on_failure=False, manual_ack=manual_ack)
    c.connect_timeout = CONNECT_TIMEOUT_SECONDS
    if broker.username:
        c.username_pw_set(broker.username, broker.password or None)
    if broker.tls:
        try:
            c.tls_set(ca_certs=str(broker.ca_file) if broker.ca_file else None,
                      certfile=str(broker.cert_file) if broker.cert_file else None,
                      keyfile=str(broker.key_file) if broker.key_file else None)
        except (OSError, ValueError) as e:
            raise TelemetryError(f"MQTT TLS files cannot be used: {e}",
                                 hint="check [mqtt] ca_file, cert_file and key_file") from None
    if will is not None:
        c.will_set(will[0], will[1], qos=1, retain=True)
    return c


def connect(c: mqtt.Client, broker: Broker) -> None:
    """Open the connection and send CONNECT (the CONNACK comes in the loop)."""
    try:
        c.connect(broker.host, broker.port, broker.keepalive)
    except ssl.SSLCertVerificationError as e:
        raise TelemetryError(
            f"MQTT broker {broker}: its TLS certificate is not trusted ({e.verify_message})",
            hint="check [mqtt] ca_file, and that host is a name the certificate is for") from None
    except ssl.SSLError as e:
        raise TelemetryError(f"MQTT broker {broker}: TLS handshake failed ({e.reason or e})",
                             hint="is that port a TLS listener? does it need a client "
                                  "certificate (cert_file, key_file)?") from None
    except ConnectionRefusedError:
        raise TelemetryError(f"MQTT broker {broker} refused the connection",
                             hint="is the broker running, and is the port right?") from None
    except socket.gaierror as e:
        raise TelemetryError(f"MQTT broker host {broker.host!r} cannot be resolved "
                             f"({e.strerror})", hint="check [mqtt] host and the 4G link") from None
    except TimeoutError:
        raise TelemetryError(f"MQTT broker {broker} did not answer within "
                             f"{CONNECT_TIMEOUT_SECONDS:.0f} s") from None
    except OSError as e:
        raise TelemetryError(f"MQTT broker {broker} cannot be reached: "
                             f"{e.strerror or e}") from None


def refusal(broker: Broker, reason: ReasonCode) -> str:
    """What a failed CONNACK means for the person reading the log."""
    if reason.value in LOGIN_REFUSED:
        return (f"MQTT broker {broker} refused the login (bad username or password): "
                f"{broker.fix_login}")
    if reason.value in CLIENT_ID_REFUSED:
        return f"MQTT broker {broker} rejected our client id: set another one"
    return f"MQTT broker {broker} refused the connection: {reason}"


class Backoff:
    """Seconds to wait before the next attempt: doubling from `first` to `longest`, jittered so
    that a province's kits do not all come back in the same second after a broker restart."""

    def __init__(self, first: float = 1.0, longest: float = 300.0) -> None:
        self.first = first
        self.longest = longest
        self.current = 0.0

    def next(self) -> float:
        self.current = min(self.longest, self.current * 2 if self.current else self.first)
        return self.current * random.uniform(0.8, 1.0)

    def give_up_for_long(self) -> float:
        """After a refusal only a person can fix: wait the longest, do not hammer the broker."""
        self.current = self.longest
        return self.longest

    def reset(self) -> None:
        self.current = 0.0


class Complaints:
    """Logs a connection failure once, again when it changes, and every `repeat` seconds."""

    def __init__(self, logger: logging.Logger = log, repeat: float = 600.0) -> None:
        self.log = logger
        self.repeat = repeat
        self.last = ""
        self.at = 0.0
        self.failures = 0

    def say(self, message: str, retry_in: float, level: int = logging.WARNING) -> None:
        self.failures += 1
        now = time.monotonic()
        if message != self.last or now - self.at >= self.repeat:
            self.last, self.at = message, now
        else:
            level = logging.DEBUG
        self.log.log(level, "%s; retrying in %.0f s", message, retry_in)

    def connected(self, broker: Broker) -> None:
        after = f" after {self.failures} failed attempt(s)" if self.failures else ""
        self.log.info("MQTT connected to %s%s", broker, after)
        self.last, self.failures = "", 0


class Waker:
    """Wakes a thread sleeping in `turn()` from any other thread, at once (a socket pair)."""

    def __init__(self) -> None:
        self.flag = threading.Event()  # something new waits in the outbox
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._w.setblocking(False)

    def wake(self, outbox: bool = True) -> None:
        if outbox:
            self.flag.set()
        with contextlib.suppress(OSError):  # full: a wake-up is pending anyway
            self._w.send(b"\0")

    def fileno(self) -> int:
        return self._r.fileno()

    def drain(self) -> None:
        with contextlib.suppress(OSError):  # BlockingIOError: drained
            while self._r.recv(4096):
                pass


def turn(c: mqtt.Client, waker: Waker, timeout: float) -> mqtt.MQTTErrorCode:
    """One turn of paho's network loop (its external-loop API): sleep in select() until the
    broker sends, a write can proceed, `waker` is woken, or `timeout`; then read, write, ping."""
    sock = c.socket()
    if sock is None:
        return mqtt.MQTT_ERR_NO_CONN
    pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0  # already decrypted
    try:
        readable, _, _ = select.select([sock, waker], [sock] if c.want_write() else [],
                                              [], 0.0 if pending else max(0.0, timeout))
    except (OSError, ValueError):
        return mqtt.MQTT_ERR_CONN_LOST
    if waker in readable:
        waker.drain()
    if sock in readable or pending:
        rc = c.loop_read()
        if rc != mqtt.MQTT_ERR_SUCCESS:
            return rc
    if c.want_write():
        rc = c.loop_write()
        if rc != mqtt.MQTT_ERR_SUCCESS:
            return rc
    return c.loop_misc()
