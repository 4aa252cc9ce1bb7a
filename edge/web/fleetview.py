"""What the fleet page shows, computed from the store (no Flask here): one row per kit with its
problems, problems first; a month's figures per commune and per place.

The main query reads three small tables (kits, states, today's counts), their figure columns
written by the collector rather than the JSON payloads: its cost grows with the number of kits,
not with the months of history (bench/fleet.py times it at 1,000 kits).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from edge.telemetry.fleetdb import VISIT_FIGURES, FleetDB
from edge.telemetry.fleetfigures import FIGURES

# thresholds of the problems the page raises itself (device problems come from the kits)
BATTERY_LOW = 30.0  # %
SIGNAL_WEAK = -110.0  # dBm (RSRP)
DISK_LOW = 2e9  # bytes
WAITING_LONG = 86400.0  # s: a finished file not delivered after a day
# (problem key, weight): the page sorts by the sum, offline first
WEIGHTS = {"offline": 100, "battery_low": 20, "on_battery": 10, "waiting_long": 8,
           "disk_low": 8, "signal_weak": 4, "clock": 2, "device": 5}
COUNT_FIGURES = ("jobs", "pages", "receipts", "delivered_files")


def fleet_rows(db: FleetDB, now: float, day: str) -> list[dict[str, Any]]:
    """Every kit, the ones with problems first (offline before the rest)."""
    devices: dict[str, list[dict[str, Any]]] = {}
    for d in db.device_figures():
        devices.setdefault(d["kit"], []).append(d)
    today = db.day_counts(day)
    rows = [_row(k, devices.get(k["kit"], []), today.get(k["kit"]) or {}, now)
            for k in db.kit_figures()]
    return sorted(rows, key=lambda r: (-r["weight"], r["site"], r["kit"]))


def _row(kit: dict[str, Any], devices: list[dict[str, Any]], today: dict[str, Any],
         now: float) -> dict[str, Any]:
    # a device's latest state over the kit's latest metrics; the first device by name wins
    figures = {c: next((d[c] for d in devices if d[c] is not None), kit[c]) for c in FIGURES}
    ups_status = " ".join(d["ups_status"] or "" for d in devices).split()
    problems = [p for d in devices if d["problems"] for p in json.loads(d["problems"])]
    waiting = now - kit["waiting_since"] if kit["waiting_since"] else None
    synced = kit["clock_synced"]
    row = {**{k: kit[k] for k in ("kit", "site", "status", "status_since", "last_seen",
                                  "version", "last_event", "last_event_ts")},
           **figures, "on_battery": "OB" in ups_status, "waiting": waiting,
           "clock_synced": None if synced is None else bool(synced),
           "today": {k: int(today.get(k) or 0) for k in COUNT_FIGURES},
           "device_problems": problems}
    row["problems"] = _problems(row)
    row["weight"] = sum(WEIGHTS[p] for p in row["problems"]) + WEIGHTS["device"] * len(problems)
    return row


def _problems(r: dict[str, Any]) -> list[str]:
    checks = [("offline", r["status"] != "online"),
              ("on_battery", r["on_battery"]),
              ("battery_low", r["battery"] is not None and r["battery"] < BATTERY_LOW),
              ("signal_weak", r["signal"] is not None and r["signal"] < SIGNAL_WEAK),
              ("disk_low", r["disk_free"] is not None and r["disk_free"] < DISK_LOW),
              ("waiting_long", r["waiting"] is not None and r["waiting"] > WAITING_LONG),
              ("clock", r["clock_synced"] is False)]
    return [name for name, hit in checks if hit]


def month_bounds(month: str) -> tuple[str, str]:
    """`2026-12` -> (`2026-12-01`, `2026-12-31`); ValueError for anything else."""
    first = dt.date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first.isoformat(), (following - dt.timedelta(days=1)).isoformat()


def month_figures(db: FleetDB, month: str) -> dict[str, list[dict[str, Any]]]:
    """Per commune (from the daily counts) and per place (from the visits) for one month."""
    first, last = month_bounds(month)
    communes: dict[str, dict[str, Any]] = {}
    for site, kit, counts in db.month_counts(first, last):
        c = communes.setdefault(site, {"site": site, "kits": set(), "days": 0,
                                       **dict.fromkeys(COUNT_FIGURES, 0)})
        c["kits"].add(kit)
        c["days"] += 1 if int(counts.get("jobs") or 0) else 0
        for k in COUNT_FIGURES:
            c[k] += int(counts.get(k) or 0)
    for c in communes.values():
        c["kits"] = len(c["kits"])
    places = db.month_visits(first, last)
    for p in places:
        p["satisfied_pct"] = round(100 * p["survey_satisfied"] / p["survey_answers"]) \
            if p["survey_answers"] else None
    return {"communes": list(communes.values()), "places": places}


PLACE_FIGURES = ("visits", *VISIT_FIGURES, "satisfied_pct")
COMMUNE_FIGURES = ("kits", "days", *COUNT_FIGURES)
