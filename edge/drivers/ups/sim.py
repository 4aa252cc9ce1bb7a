"""A scripted UPS for demos and tests: mains for a while, then a power cut that runs the battery
down, then mains again, over and over.

It follows `[ups.sim]`: `outage_after` seconds on mains (0: never a cut), then `outage_seconds` on
battery, discharging at a rate that empties a full battery in `runtime` seconds, with LB below
20 %; then mains again, recharging (a full recharge takes `RECHARGE_FACTOR` x `runtime`), and the
next cut starts from whatever charge the mains time brought back. Everything is a function of the
time since construction, read from an injectable clock, so tests and demos are repeatable.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from edge.drivers.device import Device
from edge.drivers.ups import reading
from edge.drivers.ups.settings import PackSettings, SimUpsSettings, UpsSim
from edge.health import Reading

LOW_PERCENT = 20.0  # below this the simulated UPS says LB
RECHARGE_FACTOR = 2.0  # recharging from empty takes this many times the runtime
MAX_CYCLES = 10_000  # the charge history is followed this far; it settles long before
MAINS_VOLTS, MAINS_HZ, OUTPUT_VOLTS, LOAD_PERCENT, TEMPERATURE = 226.0, 50.0, 220.0, 30.0, 31.0


class SimUps(Device):
    kind = "ups"

    def __init__(self, cfg: SimUpsSettings, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(cfg)
        self.clock = clock
        self.start = clock()

    def poll(self) -> Reading:
        on_battery, charge = self.state(self.clock() - self.start)
        return sim_reading(on_battery, charge, self.cfg)

    def state(self, t: float) -> tuple[bool, float]:
        """(on battery?, charge %) `t` seconds after start."""
        sim = self.cfg.sim
        if sim.outage_after <= 0 or sim.outage_seconds <= 0 or t < sim.outage_after:
            return False, 100.0  # never a cut, or before the first one
        period = sim.outage_after + sim.outage_seconds
        cycle, phase = divmod(max(0.0, t), period)
        charge = charge_at_cut(int(cycle), sim)
        if phase >= sim.outage_after:  # on battery since the cut
            return True, discharged(charge, phase - sim.outage_after, sim)
        last = discharged(charge_at_cut(int(cycle) - 1, sim), sim.outage_seconds, sim)
        return False, recharged(last, phase, sim)


def discharged(charge: float, seconds: float, sim: UpsSim) -> float:
    return max(0.0, charge - seconds * 100.0 / max(sim.runtime, 1.0))


def recharged(charge: float, seconds: float, sim: UpsSim) -> float:
    return min(100.0, charge + seconds * 100.0 / max(sim.runtime * RECHARGE_FACTOR, 1.0))


def charge_at_cut(cycle: int, sim: UpsSim) -> float:
    """The charge when cut number `cycle` (0 first) begins; the first starts full."""
    charge = 100.0
    for _ in range(min(cycle, MAX_CYCLES)):
        after = recharged(discharged(charge, sim.outage_seconds, sim), sim.outage_after, sim)
        if after == charge:  # settled: every later cut starts here too
            break
        charge = after
    return charge


def sim_reading(on_battery: bool, charge: float, cfg: PackSettings) -> Reading:
    words = ["OB", "DISCHRG"] if on_battery else ["OL"] if charge >= 100.0 else ["OL", "CHRG"]
    if charge < LOW_PERCENT:
        words.append("LB")
    cell = cfg.cell_empty_volts + (cfg.cell_full_volts - cfg.cell_empty_volts) * charge / 100.0
    values: dict[str, float | None] = {
        "battery.charge": round(charge, 1),
        "battery.runtime": round(cfg.sim.runtime * charge / 100.0),
        "battery.voltage": round(cell * cfg.battery_cells, 1),
        "input.voltage": 0.0 if on_battery else MAINS_VOLTS,
        "input.frequency": 0.0 if on_battery else MAINS_HZ,
        "output.voltage": OUTPUT_VOLTS,
        "ups.load": LOAD_PERCENT,
        "ups.temperature": TEMPERATURE,
    }
    return reading(" ".join(words), values)
