"""The few figures the fleet page lists, taken out of a kit's payloads once, by the collector.

The collector stores them as columns next to the raw payload (kits: from the latest metrics;
states: from each device's latest state) so that the fleet page's main query reads plain
columns instead of parsing thousands of JSON payloads; the migration that added the columns
fills them from the stored payloads with the same functions.
"""

from __future__ import annotations

import json
from typing import Any

# a metrics sample's columns: (column, device prefix, metric names, first one present wins)
SAMPLE = (("battery", "ups-", ("battery.charge",)), ("runtime", "ups-", ("battery.runtime",)),
          ("signal", "modem-", ("signal.rsrp", "signal.rssi")),
          ("disk_free", "system-", ("system.disk_free",)))
FIGURES = tuple(column for column, _, _ in SAMPLE)


def sample_of(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The chart figures of one metrics payload: battery %, runtime s, signal dBm, disk free,
    the oldest undelivered file's age (s)."""
    devices = metrics.get("devices") or {}
    out: dict[str, float | None] = {}
    for column, prefix, names in SAMPLE:
        values = [d.get(n) for dev, d in sorted(devices.items()) if dev.startswith(prefix)
                  and isinstance(d, dict) for n in names]
        out[column] = next((float(v) for v in values if isinstance(v, int | float)
                            and not isinstance(v, bool)), None)
    waiting = metrics.get("oldest_undelivered_seconds")
    out["waiting"] = float(waiting) if isinstance(waiting, int | float) else None
    return out


def kit_figures(metrics: dict[str, Any]) -> tuple[Any, ...]:
    """The kits table's columns (battery, runtime, signal, disk_free, clock_synced) of a kit's
    latest metrics payload; clock_synced as 1/0/NULL (the same on both engines)."""
    figures = sample_of({"devices": metrics.get("devices") or {}})
    synced = metrics.get("clock_synced")
    return (*(figures[c] for c in FIGURES), int(synced) if isinstance(synced, bool) else None)


def state_figures(device: str, state: dict[str, Any]) -> tuple[Any, ...]:
    """The states table's columns (battery, runtime, signal, disk_free, ups_status, problems)
    of one device's state; problems as JSON text, NULL when there are none. A state with odd
    metrics or problems gives NULLs: it is stored all the same, as before."""
    raw = state.get("metrics")
    values = {k: m.get("value") for k, m in raw.items() if isinstance(m, dict)} \
        if isinstance(raw, dict) else {}
    figures = sample_of({"devices": {device: values}})
    ups = str(values.get("ups.status") or "") if device.startswith("ups-") else ""
    problems = state.get("problems")
    return (*(figures[c] for c in FIGURES), ups or None,
            json.dumps(problems) if isinstance(problems, list) and problems else None)
