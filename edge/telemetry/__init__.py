"""Telemetry: the kit's health, events and daily counts to the commune server over MQTT.

The kit's 4G link drops for hours and its power may be cut at any moment, so events and counts go
through a durable SQLite outbox (`outbox.py`) before any network I/O; `publisher.py` is the only
thread that talks to the broker; `events.py` is what the rest of the kit emits through, and
`service.py` the sink that records it (built once by the daemon, or once by a process without
it); `fleet.py` is the commune server's collector (`edge fleet`). Topics and payloads are
documented in docs/telemetry.md, with a JSON Schema per payload in docs/schemas/.
"""

from __future__ import annotations

from edge.errors import EdgeError


class TelemetryError(EdgeError):
    """The broker cannot be reached, refused us, or the telemetry database cannot be written."""
