"""The device view technicians see: the service's snapshot, reduced to what is safe to show.

Read from <runtime_dir>/status.json (written by `edge run`); nothing here names a citizen.
"""

from __future__ import annotations

import time
from pathlib import Path

from edge import config, monitor
from edge.drivers.ups import critical
from edge.health import Health
from edge.power import ups_words
from edge.web.labels import label

MAX_AGE = 120.0


_cache: dict[Path, tuple[tuple[int, int], list[Health] | None, float]] = {}


def snapshot(cfg: config.Config) -> list[Health] | None:
    """The service's snapshot if recent; parsed again only when the file changed (many clients
    poll this while the service rewrites it every few seconds)."""
    path = cfg.runtime_dir / "status.json"
    try:
        st = path.stat()
    except OSError:
        return None
    key = (st.st_mtime_ns, st.st_size)
    hit = _cache.get(path)
    if hit is None or hit[0] != key:
        hit = (key, monitor.read_status(path, float("inf")), st.st_mtime)
        _cache[path] = hit
    _, health, mtime = hit
    return health if health is not None and time.time() - mtime <= MAX_AGE else None


def view(cfg: config.Config) -> dict[str, object]:
    """Every device's health plus the banners the page shows (on battery, service down)."""
    health = snapshot(cfg)
    devices = [{**h.summary(), "label": label(cfg, h.kind, h.name)} for h in health or []]
    on_battery = any(h.kind == "ups" and "OB" in str(h.value("ups.status", "")).split()
                     for h in health or [])
    return {"service": health is not None, "on_battery": on_battery, "at": time.time(),
            "devices": devices, "power": power(health or [])}


def power(health: list[Health]) -> dict[str, object] | None:
    """What the staff pages say about power: "mains", "battery" (with minutes and charge left)
    or "low" (the battery is nearly empty: new scans are refused); None without a UPS reading."""
    for h in health:
        words = ups_words(h)
        if words is None:
            continue
        runtime, charge = h.value("battery.runtime"), h.value("battery.charge")
        return {"state": "low" if critical(words) else "battery" if "OB" in words else "mains",
                "minutes": int(runtime) // 60 if _number(runtime) else None,
                "charge": round(charge) if _number(charge) else None}
    return None


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def samples(health: list[Health]) -> dict[str, float]:
    """The numbers the history charts plot: battery charge, signal, temperature."""
    out: dict[str, float] = {}
    for h in health:
        for key in ("battery.charge", "signal.rsrp", "signal.sinr", "system.cpu_temp"):
            v = h.value(key)
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[f"{h.kind}.{h.name}.{key}"] = float(v)
    return out
