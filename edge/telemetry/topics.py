"""The MQTT topics of one kit, in one place: `<base>/status`, `state/<device>`, `event`...

The base defaults to `dvc/<site>/<kit>`, so a province's broker (or a bridge into one) can
subscribe to one commune (`dvc/<site>/#`) or to every kit (`dvc/#`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge import config
from edge.pipeline.naming import slug


def site_of(cfg: config.Config) -> str:
    """[mqtt] site, else an ASCII slug of the commune's name (`Phú Lạc` -> `phu-lac`)."""
    if cfg.mqtt.site:
        return cfg.mqtt.site
    return slug(cfg.kit.commune) if cfg.kit.commune.strip() else "site"


def device_id(kind: str, name: str) -> str:
    """A device's topic level: `ups-ups`, `modem-4g`, `system-pi` (safe in a topic)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{kind}-{name}")


@dataclass(frozen=True)
class Topics:
    base: str
    discovery_prefix: str = "homeassistant"

    @classmethod
    def of(cls, cfg: config.Config) -> Topics:
        base = cfg.mqtt.base_topic.format(site=site_of(cfg), kit=cfg.kit.id)
        return cls(base, cfg.mqtt.discovery_prefix)

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def event(self) -> str:
        return f"{self.base}/event"

    @property
    def metrics(self) -> str:
        return f"{self.base}/metrics"

    def state(self, device: str) -> str:
        return f"{self.base}/state/{device}"

    def counts(self, day: str) -> str:
        return f"{self.base}/counts/{day}"

    @property
    def ha_status(self) -> str:
        """Home Assistant says `online` here when it (re)starts: discovery is sent again."""
        return f"{self.discovery_prefix}/status"

    def discovery(self, object_id: str) -> str:
        return f"{self.discovery_prefix}/device/{object_id}/config"


# what a collector subscribed to `dvc/#` recognises: (base, kind, argument)
_TAIL = re.compile(r"^(?P<base>.+)/(?:(?P<one>status|event|metrics)"
                   r"|(?P<two>state|counts)/(?P<arg>[^/]+))$")


def parse(topic: str) -> tuple[str, str, str] | None:
    """`dvc/phu-lac/PL01/state/ups-ups` -> (`dvc/phu-lac/PL01`, `state`, `ups-ups`)."""
    m = _TAIL.match(topic)
    if m is None:
        return None
    return m["base"], m["one"] or m["two"], m["arg"] or ""
