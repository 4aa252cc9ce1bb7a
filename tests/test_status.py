"""`edge status`: the running service's device snapshot, or a one-shot poll without one."""

import json

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


def test_the_running_service_snapshot_is_shown(kit, daemon):  # noqa: F811
    configure(kit)
    daemon()
    status = kit.root / "run" / "status.json"
    wait_for(lambda: status.exists() and "battery.charge" in status.read_text(),
             what="status file")
    out = json.loads(kit.edge("status", "--json").stdout)
    assert out["source"] == "service" and len(out["devices"]) == 5
