"""The systemd unit, the udev rules and install.sh, checked with the real tools."""

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_units_pass_systemd_analyze_verify(tmp_path):
    edge = Path(shutil.which("edge") or ROOT / ".venv/bin/edge")
    for name, command in (("edge.service", "run"), ("edge-web.service", "web")):
        unit = (ROOT / "systemd" / name).read_text()
        assert f"ExecStart=/opt/edge/venv/bin/edge {command}" in unit
        (tmp_path / name).write_text(unit.replace("/opt/edge/venv/bin/edge", str(edge)))
    r = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "edge.service"),
                        str(tmp_path / "edge-web.service")], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    unit = (ROOT / "systemd/edge.service").read_text()
    for needed in ("Type=notify", "WatchdogSec=", "DevicePolicy=closed",
                   "DeviceAllow=char-usb_device rw", "ProtectSystem=strict",
                   "StateDirectory=edge", "NoNewPrivileges=yes"):
        assert needed in unit
    assert "\nPrivateDevices=" not in unit  # it would hide the scanners


def test_install_script_is_valid_bash_and_refuses_non_root():
    subprocess.run(["bash", "-n", str(ROOT / "install.sh")], check=True)
    # the script on stdin: the checkout may sit in /root, which nobody else can read
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "bash", "-s"], input=(ROOT / "install.sh").read_text(),
                       capture_output=True, text=True, cwd="/")
    assert r.returncode == 1 and "run as root" in r.stderr


def test_udev_rules_name_groups_that_the_installer_creates():
    rules = (ROOT / "systemd/60-edge.rules").read_text()
    install = (ROOT / "install.sh").read_text()
    for group in ("scanner", "dialout", "lp"):
        assert f'GROUP="{group}"' in rules and group in install
    assert 'ENV{libsane_matched}=="yes"' in rules
