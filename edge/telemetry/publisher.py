"""The kit's only MQTT thread: connects with backoff, publishes states and the outbox, flushes.

Nothing else touches the network: device pollers, workers and the power policy write to the
outbox or the state board and return at once, whatever the broker does. It sleeps in select()
until the broker speaks, another thread wakes it or something falls due, so an idle kit costs
next to nothing and a state change goes out at once. One paho client per connection, so paho's
RAM queue never outlives a connection: a message stays in the outbox until
its PUBACK, at most WINDOW of them in flight, and after a reconnection the oldest unacknowledged
goes first again (a collector drops the odd duplicate by its sequence number).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from edge import config
from edge.health import Health
from edge.telemetry import TelemetryError, link, payload
from edge.telemetry.outbox import Outbox
from edge.telemetry.states import Board
from edge.telemetry.topics import Topics, device_id

log = logging.getLogger(__name__)

WINDOW = 16  # outbox messages in flight at once
OUTBOX_POLL_SECONDS = 5.0  # rows written by other processes (a CLI scan without the service)
CONNACK_SECONDS = 15.0
FLUSH_SECONDS = 3.0  # on stop, time given to deliver what is waiting
FIRST_METRICS_SECONDS = 30.0


class Publisher:
    """Given everything it reads from: the settings, the topics and source of every payload, the
    state board, the waker other threads set, its own outbox connection, the HA discovery
    message (None: off), and `put_metrics`, which queues the periodic metrics in an outbox."""

    def __init__(self, m: config.Mqtt, client_id: str, *, topics: Topics, src: payload.Source,
                 board: Board, waker: link.Waker, outbox: Outbox,
                 discovery: tuple[str, dict[str, object]] | None,
                 put_metrics: Callable[[Outbox], None]) -> None:
        self.m = m
        self.client_id = client_id
        self.topics, self.src, self.board, self.waker = topics, src, board, waker
        self.outbox = outbox
        self.discovery = discovery
        self.put_metrics = put_metrics
        self.broker = link.Broker.of(m)
        self.stop = threading.Event()
        self.backoff = link.Backoff(1.0, m.reconnect_max)
        self.complaints = link.Complaints(log)
        self.next_metrics = time.monotonic() + min(FIRST_METRICS_SECONDS, self.m.metrics_every)
        self._reset()

    def _reset(self) -> None:
        self.connected = False
        self.refused = ""
        self.greet = False
        self.discovery_due = False
        self.inflight: dict[int, int] = {}  # paho mid -> outbox row id
        self.acked: list[int] = []
        self.last_sent = 0
        self.published: dict[str, float] = {}  # device -> when its state was last sent
        self.next_poll = 0.0
        self.next_states = 0.0  # when the periodic state refresh may next be due

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    outcome, why = self._session()
                except Exception:  # a bug here must not end telemetry for good
                    log.exception("telemetry: unexpected error; reconnecting")
                    outcome, why = "failed", "telemetry restarted its connection"
                if outcome == "stopped":
                    break
                if outcome == "refused":
                    self.complaints.say(why, self.backoff.give_up_for_long(), logging.ERROR)
                    wait = self.backoff.longest
                else:
                    wait = self.backoff.next()
                    self.complaints.say(why, wait)
                self._idle(wait)
        finally:
            self.outbox.store.close()

    def _session(self) -> tuple[str, str]:
        """One connection, from CONNECT to its loss (or to the service's stop)."""
        self._reset()
        will = (self.topics.status,
                payload.encode(payload.status(self.src, False, "lost")))
        try:
            c = link.client(self.broker, self.client_id, clean=True, will=will)
            c.on_connect, c.on_publish, c.on_message = (self._on_connect, self._on_publish,
                                                        self._on_message)
            link.connect(c, self.broker)
        except TelemetryError as e:
            return "failed", str(e)
        try:
            return self._serve(c)
        except TelemetryError as e:  # the telemetry database failed: try again later
            log.error("%s", e)
            return "failed", "telemetry stopped publishing"
        finally:
            sock = c.socket()  # a connection given up on (a clean stop has closed it already)
            if sock is not None:
                sock.close()

    def _serve(self, c: mqtt.Client) -> tuple[str, str]:
        deadline = time.monotonic() + CONNACK_SECONDS
        while not self.stop.is_set():
            rc = link.turn(c, self.waker, self._sleep(deadline))
            if self.refused:
                return "refused", self.refused
            if rc != mqtt.MQTT_ERR_SUCCESS and not self.connected:
                return "failed", (f"MQTT broker {self.broker} closed the connection before "
                                  "accepting it: does it require a client certificate "
                                  "(cert_file, key_file) or TLS?")
            if rc != mqtt.MQTT_ERR_SUCCESS:
                return "lost", f"MQTT connection to {self.broker} lost ({mqtt.error_string(rc)})"
            if not self.connected and time.monotonic() > deadline:
                return "failed", (f"MQTT broker {self.broker} did not answer CONNECT within "
                                  f"{CONNACK_SECONDS:.0f} s")
            if self.connected:
                self._pump(c)
            self._tick()
        self._flush(c)
        return "stopped", ""

    def _sleep(self, connack_deadline: float) -> float:
        """How long the loop may sleep: until the next thing due, unless woken or the broker
        speaks first; at most half the keepalive, so that paho pings in time."""
        due = [self.next_metrics, self.next_states, self.next_poll] if self.connected \
            else [self.next_metrics, connack_deadline]
        return min(self.m.keepalive / 2, max(0.0, min(due) - time.monotonic()))

    def _on_connect(self, c: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode,
                    properties: Any) -> None:
        if reason.is_failure:
            self.refused = link.refusal(self.broker, reason)
            return
        self.connected = self.greet = True
        self.backoff.reset()
        self.complaints.connected(self.broker)

    def _on_publish(self, c: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode,
                    properties: Any) -> None:
        row = self.inflight.pop(mid, None)
        if row is not None:
            self.acked.append(row)

    def _on_message(self, c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self.topics.ha_status and msg.payload.strip() == b"online":
            self.discovery_due = True  # Home Assistant restarted: tell it about us again

    def _pump(self, c: mqtt.Client) -> None:
        """Everything that is due on a live connection, without waiting for anything."""
        now = time.monotonic()
        if self.greet:
            self._greet(c)
        if self.discovery_due and self.discovery is not None:
            self.discovery_due = False
            topic, body = self.discovery
            c.publish(topic, payload.encode(body), qos=1, retain=True)
        for health in self.board.take_urgent():
            self._state(c, health, now)
        if now >= self.next_states:
            for health in self.board.all():
                if now - self.published.get(device_id(health.kind, health.name), 0.0) \
                        >= self.m.state_every:
                    self._state(c, health, now)
            self.next_states = min(self.published.values(), default=now) + self.m.state_every
        self._send_outbox(c, now)

    def _greet(self, c: mqtt.Client) -> None:
        self.greet = False
        c.publish(self.topics.status,
                  payload.encode(payload.status(self.src, True, "connected")),
                  qos=1, retain=True)
        if self.discovery is not None:
            c.subscribe(self.topics.ha_status, qos=1)
            self.discovery_due = True
        self.board.take_urgent()
        now = time.monotonic()
        for health in self.board.all():
            self._state(c, health, now)

    def _state(self, c: mqtt.Client, health: Health, now: float) -> None:
        dev = device_id(health.kind, health.name)
        c.publish(self.topics.state(dev), payload.encode(payload.state(self.src, health)),
                  qos=1, retain=True)
        self.published[dev] = now

    def _send_outbox(self, c: mqtt.Client, now: float) -> None:
        acked = bool(self.acked)
        if acked:
            log.debug("outbox rows %s acknowledged", self.acked)
            self.outbox.delete(self.acked)
            self.acked = []
        woken = self.waker.flag.is_set()
        self.waker.flag.clear()
        poll = now >= self.next_poll  # rows another process may have written
        if poll:
            self.next_poll = now + OUTBOX_POLL_SECONDS
        room = WINDOW - len(self.inflight)
        if room <= 0 or not (acked or woken or poll):
            return  # a full window refills as acknowledgements come in
        for msg in self.outbox.after(self.last_sent, room):
            info = c.publish(msg.topic, msg.payload, qos=1, retain=msg.retain)
            self.inflight[info.mid] = msg.id
            self.last_sent = msg.id
            log.debug("outbox row %d (%s) sent as message %d", msg.id, msg.kind, info.mid)

    def _tick(self) -> None:
        """What is due whether or not the broker is there: the periodic metrics."""
        now = time.monotonic()
        if now >= self.next_metrics:
            self.next_metrics = now + self.m.metrics_every
            self.put_metrics(self.outbox)

    def _idle(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= end:
                return
            if self.stop.wait(min(end, self.next_metrics) - now + 0.01):
                return
            try:
                self._tick()
            except TelemetryError as e:
                log.error("%s", e)

    def _flush(self, c: mqtt.Client) -> None:
        """On stop: deliver what is waiting (briefly), say `offline`, disconnect cleanly."""
        end = time.monotonic() + FLUSH_SECONDS
        while self.connected and time.monotonic() < end:
            self.waker.flag.set()
            self._pump(c)
            if not self.inflight and not self.outbox.after(self.last_sent, 1):
                break
            if link.turn(c, self.waker, 0.1) != mqtt.MQTT_ERR_SUCCESS:
                return
        if not self.connected:
            return
        info = c.publish(self.topics.status,
                         payload.encode(payload.status(self.src, False, "stopped")),
                         qos=1, retain=True)
        end = time.monotonic() + 2.0
        while not info.is_published() and time.monotonic() < end:
            if link.turn(c, self.waker, 0.1) != mqtt.MQTT_ERR_SUCCESS:
                return
        if self.acked:
            self.outbox.delete(self.acked)
        c.disconnect()  # written at once: this thread runs paho's loop
