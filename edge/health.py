"""The health record every device reports, so the UI, `edge status` and telemetry read one shape.

Metric names follow NUT for power (`battery.charge`, `ups.status`...) and the scheme in
hardware.md for the rest (`signal.rsrp`, `supply.black_toner`, `system.cpu_temp`...). Problems
carry a stable machine code plus what to tell people, in English (logs, CLI) and Vietnamese (UI).
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field


class State(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAULT = "fault"
    ABSENT = "absent"  # not connected, not answering at its address
    UNKNOWN = "unknown"  # the driver failed or hung: we do not know


Value = float | int | str | bool


@dataclass(frozen=True)
class Metric:
    value: Value
    unit: str = ""


@dataclass(frozen=True)
class Problem:
    code: str  # stable, machine-readable: "on-battery", "media-jam", "toner-low"...
    en: str
    vi: str
    severity: State = State.WARNING  # WARNING or FAULT

    def summary(self) -> dict[str, str]:
        return {"code": self.code, "severity": str(self.severity), "en": self.en, "vi": self.vi}


@dataclass(frozen=True)
class Reading:
    """What a driver's `poll()` returns: metrics and problems; the state follows from them."""

    metrics: dict[str, Metric] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Health:
    kind: str  # ups, modem, printer, system, usb, scanner, receipt
    name: str
    driver: str
    state: State
    problems: tuple[Problem, ...] = ()
    metrics: dict[str, Metric] = field(default_factory=dict)
    updated: float = 0.0

    @classmethod
    def of(cls, kind: str, name: str, driver: str, reading: Reading,
           now: float | None = None) -> Health:
        severities = {p.severity for p in reading.problems}
        state = (State.FAULT if State.FAULT in severities
                 else State.WARNING if severities else State.OK)
        return cls(kind, name, driver, state, tuple(reading.problems), dict(reading.metrics),
                   time.time() if now is None else now)

    @classmethod
    def lost(cls, kind: str, name: str, driver: str, state: State, problem: Problem,
             metrics: dict[str, Metric] | None = None) -> Health:
        """A device we could not read (absent or unknown), with the reason."""
        return cls(kind, name, driver, state, (problem,), metrics or {}, time.time())

    def value(self, metric: str, default: Value | None = None) -> Value | None:
        m = self.metrics.get(metric)
        return default if m is None else m.value

    def summary(self) -> dict[str, object]:
        """The JSON `edge status --json`, the web UI and telemetry use."""
        return {
            "kind": self.kind,
            "name": self.name,
            "driver": self.driver,
            "state": str(self.state),
            "problems": [p.summary() for p in self.problems],
            "metrics": {k: {"value": m.value, "unit": m.unit} for k, m in self.metrics.items()},
            "updated": self.updated,
        }

    @classmethod
    def from_summary(cls, d: dict[str, object]) -> Health:
        problems = tuple(Problem(p["code"], p["en"], p["vi"], State(p["severity"]))
                         for p in d["problems"])  # type: ignore[attr-defined,index]
        metrics = {k: Metric(m["value"], m["unit"])
                   for k, m in d["metrics"].items()}  # type: ignore[attr-defined,index]
        return cls(str(d["kind"]), str(d["name"]), str(d["driver"]), State(str(d["state"])),
                   problems, metrics, float(d["updated"]))  # type: ignore[arg-type]
