"""A simulated 4G router, so the demo kit shows a live link with no SIM card or router.

It looks alive: Viettel LTE on band 3 with a signal that drifts, traffic counters that grow, and
every seven minutes a scripted dip, a 30-second outage and a reconnect, so the UI's warnings,
faults and recovery can be shown on a laptop. Everything is computed from the time since the
driver started (no randomness), so the same moment always reads the same.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from edge.drivers.modem import Link, ModemDevice, reading
from edge.drivers.modem.settings import SimModemSettings
from edge.health import Metric, Reading

log = logging.getLogger(__name__)

CYCLE = 420.0  # seconds: one scripted cycle
UP_SECONDS = 385.0  # connected from the start of a cycle...
DIP_SECONDS = 30.0  # ...the signal fading over its last seconds...
OUTAGE_SECONDS = 30.0  # ...then down, then connecting for the rest of the cycle
RX_RATE = 30_000.0  # average download, bytes per second
PLMN = "45204"  # Viettel


class SimModem(ModemDevice):
    def __init__(self, cfg: SimModemSettings, clock: Callable[[], float] | None = None) -> None:
        super().__init__(cfg)
        self.clock = clock or time.monotonic
        self.started = self.clock()
        self.redials = 0

    def poll(self) -> Reading:
        return sim_reading(self.clock() - self.started)

    def reconnect(self) -> None:
        self.redials += 1
        log.info("modem %s: simulated redial (%d so far)", self.name, self.redials)


def sim_reading(elapsed: float) -> Reading:
    """The simulated router `elapsed` seconds after start."""
    cycle, phase = divmod(max(0.0, elapsed), CYCLE)
    up = phase < UP_SECONDS
    down = UP_SECONDS <= phase < UP_SECONDS + OUTAGE_SECONDS
    rsrp = _rsrp(elapsed, phase)
    status = 901 if up else 902 if down else 900
    link = Link(
        connected=up, connecting=status == 900, status="disconnected" if down else "",
        registration="home" if up else "searching" if down else "home",
        plmn=PLMN, network_type="LTE" if not down else "", sim="ok",
        rsrp=rsrp, rsrq=round(max(-20.0, -8.0 + (rsrp + 88.0) / 3), 1),
        sinr=round(max(-5.0, 14.0 + (rsrp + 88.0) * 0.6), 1), rssi=round(rsrp + 28.0, 1))
    session = min(phase, UP_SECONDS)
    rx_total = int(cycle * _received(UP_SECONDS) + _received(session))
    extra = {
        "network.status": Metric(str(status)),
        "signal.band": Metric(3),
        "signal.bars": Metric(_bars(rsrp)),
        "traffic.rx_bytes": Metric(int(_received(session)), "B"),
        "traffic.tx_bytes": Metric(int(_received(session)) // 8, "B"),
        "traffic.rx_total": Metric(rx_total, "B"),
        "traffic.tx_total": Metric(rx_total // 8, "B"),
        "traffic.connect_time": Metric(int(session) if up else 0, "s"),
    }
    return reading(link, extra)


def _rsrp(elapsed: float, phase: float) -> float:
    """A signal that wanders around -88 dBm, fades before the outage and is lost in it."""
    wander = 6.0 * math.sin(2 * math.pi * elapsed / 180.0) + 2.0 * math.sin(
        2 * math.pi * elapsed / 37.0)
    fade_from = UP_SECONDS - DIP_SECONDS
    if phase < fade_from:
        return round(-88.0 + wander, 1)
    if phase < UP_SECONDS:
        return round(-88.0 + wander - 30.0 * (phase - fade_from) / DIP_SECONDS, 1)
    if phase < UP_SECONDS + OUTAGE_SECONDS:
        return -125.0
    return round(-98.0 + wander, 1)


def _received(seconds: float) -> float:
    """Bytes downloaded `seconds` into a session: growing, in bursts, never shrinking."""
    return RX_RATE * seconds + 600_000.0 * (1.0 - math.cos(seconds / 20.0))


def _bars(rsrp: float) -> int:
    return sum(rsrp >= limit for limit in (-120.0, -115.0, -105.0, -95.0, -85.0))
