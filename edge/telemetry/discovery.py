"""Home Assistant MQTT discovery: one device-based config message describing the kit's sensors.

A technician with Home Assistant on the commune server (or a laptop) gets battery, runtime,
on-battery, signal, disk, CPU temperature and scanner/printer problem entities without writing
YAML. The entities read the retained `state/<device>` topics; availability follows `status`.
"""

from __future__ import annotations

import re

from edge import __version__, config
from edge.telemetry.payload import Source
from edge.telemetry.topics import Topics, device_id


def _metric(name: str, divide: int = 1) -> str:
    """A template reading one metric's value, `None` (unknown) when the driver lacks it."""
    value = f"value_json.metrics['{name}'].value"
    if divide != 1:
        value = f"({value} / {divide}) | round(0)"
    return f"{{{{ {value} if '{name}' in value_json.metrics else None }}}}"


PROBLEM = "{{ 'OFF' if value_json.state == 'ok' else 'ON' }}"
ON_BATTERY = ("{{ 'ON' if 'OB' in (value_json.metrics.get('ups.status', {}).get('value', '') "
              "| string).split() else 'OFF' }}")
SIGNAL = ("{% set m = value_json.metrics %}{{ m['signal.rsrp'].value if 'signal.rsrp' in m else "
          "(m['signal.rssi'].value if 'signal.rssi' in m else None) }}")

# kind -> [(key, platform, name, template, extra)]
SENSORS: dict[str, list[tuple[str, str, str, str, dict[str, object]]]] = {
    "ups": [
        ("battery_charge", "sensor", "Battery", _metric("battery.charge"),
         {"device_class": "battery", "unit_of_measurement": "%", "state_class": "measurement"}),
        ("battery_runtime", "sensor", "Battery runtime", _metric("battery.runtime"),
         {"device_class": "duration", "unit_of_measurement": "s", "state_class": "measurement"}),
        ("on_battery", "binary_sensor", "On battery", ON_BATTERY, {}),
    ],
    "modem": [
        ("signal", "sensor", "4G signal", SIGNAL,
         {"device_class": "signal_strength", "unit_of_measurement": "dBm",
          "state_class": "measurement"}),
    ],
    "system": [
        ("disk_free", "sensor", "Disk free", _metric("system.disk_free", 1000000),
         {"device_class": "data_size", "unit_of_measurement": "MB", "state_class": "measurement",
          "entity_category": "diagnostic"}),
        ("cpu_temp", "sensor", "CPU temperature", _metric("system.cpu_temp"),
         {"device_class": "temperature", "unit_of_measurement": "°C",
          "state_class": "measurement", "entity_category": "diagnostic"}),
    ],
}
PROBLEM_LABEL = {"printer": "Printer {} problem", "receipt": "Receipt printer {} problem",
                 "usb": "Scanner {} problem"}


def object_id(src: Source) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"edge_{src.site}_{src.kit}")


def components(cfg: config.Config, topics: Topics, src: Source,
               devices: list[tuple[str, str]]) -> dict[str, dict[str, object]]:
    scanners = {s.name for s in cfg.scanner if s.watched_usb_id}  # watched on the USB bus
    out: dict[str, dict[str, object]] = {}
    for kind, name in devices:
        dev = device_id(kind, name)
        entries = list(SENSORS.get(kind, []))
        if kind in PROBLEM_LABEL and (kind != "usb" or name in scanners):
            entries.append(("problem", "binary_sensor", PROBLEM_LABEL[kind].format(name), PROBLEM,
                            {"device_class": "problem"}))
        for key, platform, label, template, extra in entries:
            uid = re.sub(r"[^A-Za-z0-9_]", "_", f"{object_id(src)}_{dev}_{key}")
            out[uid] = {"platform": platform, "name": label, "unique_id": uid,
                        "state_topic": topics.state(dev), "value_template": template, **extra}
    return out


def config_message(cfg: config.Config, topics: Topics, src: Source,
                   devices: list[tuple[str, str]]) -> tuple[str, dict[str, object]]:
    """The retained discovery topic and payload for the whole kit."""
    name = f"Kit {src.kit}" + (f" ({cfg.kit.commune})" if cfg.kit.commune else "")
    return topics.discovery(object_id(src)), {
        "device": {"identifiers": [object_id(src)], "name": name, "manufacturer": "edge",
                   "model": "mobile public-service kit", "sw_version": __version__},
        "origin": {"name": "edge", "sw_version": __version__},
        "availability": [{"topic": topics.status, "value_template": "{{ value_json.status }}"}],
        "qos": 1,
        "components": components(cfg, topics, src, devices),
    }
