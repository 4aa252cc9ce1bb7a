"""`edge status`: the running service's device snapshot, or a one-shot poll without one."""

import json
import re

import pytest

from edge.cli import shown

from .test_daemon import daemon, wait_for  # noqa: F401  (fixture)

SIM_DEVICES = """
[system]
driver = "sim"

[[ups]]
name = "ups"
driver = "sim"

[[modem]]
name = "4g"
driver = "sim"

[[printer]]
name = "mfp"
driver = "sim"

[[usb]]
name = "fi7160"
id = "04c5:132e"
driver = "pyusb"
"""


def configure(kit):
    kit.configure([{"name": "sim", "driver": "sim"}])
    with open(kit.config, "a") as f:
        f.write(SIM_DEVICES)


def test_one_shot_poll_without_the_service(kit):
    configure(kit)
    r = kit.edge("status", "--json")
    out = json.loads(r.stdout)
    assert out["source"] == "polled now"
    devices = {(d["kind"], d["name"]): d for d in out["devices"]}
    assert set(devices) == {("system", "pi"), ("ups", "ups"), ("modem", "4g"),
                            ("printer", "mfp"), ("usb", "fi7160")}
    assert devices[("ups", "ups")]["metrics"]["battery.charge"]["unit"] == "%"
    usb = devices[("usb", "fi7160")]  # no such device on this machine's bus
    assert usb["state"] == "absent" and "not connected" in usb["problems"][0]["en"]
    assert r.returncode == 1  # something is absent: a script can tell
    text = kit.edge("status").stdout
    assert "fi7160" in text and "absent" in text and "not connected" in text
    free = devices[("system", "pi")]["metrics"]["system.disk_free"]
    assert free["unit"] == "B" and isinstance(free["value"], int)  # --json: bytes
    assert re.search(r"system\.disk_free=\d+\.\d (MB|GB|TB) ", text), text


@pytest.mark.parametrize("value, unit, text", [
    (0, "B", "0 B"), (1023, "B", "1023 B"), (1536, "B", "1.5 KB"), (5 * 1024 ** 2, "B", "5.0 MB"),
    (82_888_888_888, "B", "77.2 GB"), (2048, "B/s", "2.0 KB/s"), (55.1, "°C", "55.1°C"),
    (True, "", "True")])
def test_status_shows_sizes_in_human_units(value, unit, text):
    assert shown(value, unit) == text


def test_the_running_service_snapshot_is_shown(kit, daemon):  # noqa: F811
    configure(kit)
    daemon()
    status = kit.root / "run" / "status.json"
    wait_for(lambda: status.exists() and "battery.charge" in status.read_text(),
             what="status file")
    out = json.loads(kit.edge("status", "--json").stdout)
    assert out["source"] == "service" and len(out["devices"]) == 5


def test_doctor_reports_the_same_ups_health_as_status(kit, daemon):  # noqa: F811
    """The service's simulated UPS goes on battery after a second; a UPS polled afresh by
    doctor would still be on mains: both commands must show the service's reading."""
    kit.configure([{"name": "sim", "driver": "sim"}])
    with open(kit.config, "a") as f:
        f.write('\n[[ups]]\nname = "ups"\ndriver = "sim"\ninterval = 0.5\n'
                '[ups.sim]\noutage_after = 1\noutage_seconds = 3600\n')
    daemon()
    status = kit.root / "run" / "status.json"
    wait_for(lambda: status.exists() and '"OB DISCHRG"' in status.read_text(),
             what="the UPS on battery in the service's snapshot")
    out = json.loads(kit.edge("status", "--json").stdout)
    (ups,) = [d for d in out["devices"] if d["kind"] == "ups"]
    assert ups["state"] == "warning"
    doctor = kit.edge("doctor").stdout
    line = next(x for x in doctor.splitlines() if x[5:].startswith("ups ups"))
    assert line.startswith("WARN") and "on battery" in line.lower(), doctor
