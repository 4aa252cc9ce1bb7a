"""What the kit emits (an event, a job's change, a count) and the sink that drops it all.

The daemon builds one sink and passes its methods down (to the workers, the power policy, the
receipt spool); a process without the service builds one for itself (`service.for_process`).
With [mqtt] off that sink is `Off`, so no caller ever asks whether telemetry is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from edge.health import Health
    from edge.pipeline.job import Job


class Events(Protocol):
    """What the parts of the kit emit. None of these raises or waits on the network."""

    def event(self, type_: str, data: dict[str, object]) -> None:
        """One event (`power/on_battery`, `service/started`...)."""

    def on_job(self, job: Job) -> None:
        """A job changed state (the workers' `on_change`)."""

    def add_count(self, name: str, n: int = 1) -> None:
        """Add to one of today's counters (`receipts`...)."""

    def counts_changed(self) -> None:
        """Today's figures changed outside the job queue (field.db: queue numbers, survey
        answers, visits): publish them again."""


class Sink(Events, Protocol):
    """What the daemon also needs: device states, and a start and stop."""

    def on_health(self, prev: Health | None, health: Health) -> None:
        """A Monitor listener."""

    def start(self) -> None:
        """Start delivering (a thread of its own, if any)."""

    def close(self) -> None:
        """Deliver what it can, then stop."""


class Off:
    """The sink with [mqtt] off: everything is dropped, nothing is started."""

    def event(self, type_: str, data: dict[str, object]) -> None:
        pass

    def on_job(self, job: Job) -> None:
        pass

    def add_count(self, name: str, n: int = 1) -> None:
        pass

    def counts_changed(self) -> None:
        pass

    def on_health(self, prev: Health | None, health: Health) -> None:
        pass

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass
