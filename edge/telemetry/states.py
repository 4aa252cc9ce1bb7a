"""The latest health of every device, coalesced: a state topic only ever needs the newest record.

States never enter the outbox: while the broker is away only the last record per device is kept,
and all of them are published again on reconnection (they are retained).
"""

from __future__ import annotations

import threading

from edge.health import Health
from edge.telemetry.topics import device_id


def changed(prev: Health | None, health: Health) -> bool:
    """A change worth publishing at once (metrics alone wait for the periodic refresh)."""
    return prev is None or (prev.state, prev.problems) != (health.state, health.problems)


class Board:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, Health] = {}
        self._urgent: set[str] = set()

    def put(self, health: Health) -> bool:
        """Keep a device's newest record; True if it must be published now."""
        key = device_id(health.kind, health.name)
        with self._lock:
            urgent = changed(self._latest.get(key), health)
            self._latest[key] = health
            if urgent:
                self._urgent.add(key)
        return urgent

    def take_urgent(self) -> list[Health]:
        with self._lock:
            out = [self._latest[k] for k in sorted(self._urgent)]
            self._urgent.clear()
        return out

    def all(self) -> list[Health]:
        with self._lock:
            return list(self._latest.values())
