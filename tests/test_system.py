"""The Pi's own health, read with psutil and the kernel's files on this machine."""

import dataclasses

from edge.drivers import system
from edge.drivers import system_settings as config
from edge.drivers.registry import make
from edge.health import Health, State


def cfg(tmp_path, **kw):
    return dataclasses.replace(config.System(disk_path=tmp_path), **kw)


def test_real_reading_has_units_and_sane_values(tmp_path):
    reading = make("system", cfg(tmp_path)).poll()
    m = reading.metrics
    assert m["system.disk_free"].unit == "B" and m["system.disk_free"].value > 0
    assert 0 <= m["system.memory_used"].value <= 100 and m["system.uptime"].value > 0
    assert "system.throttled" not in m  # no vcgencmd here: absent, not an error


def test_disk_low_and_heat_are_reported(tmp_path, monkeypatch):
    zone = tmp_path / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text("83200\n")
    monkeypatch.setattr(system, "THERMAL", tmp_path / "thermal")
    dev = make("system", cfg(tmp_path, disk_warning_mb=10**9))
    health = Health.of("system", "pi", "psutil", dev.poll())
    assert health.value("system.cpu_temp") == 83.2 and health.state == State.FAULT
    codes = {p.code: p for p in health.problems}
    assert codes["hot"].severity == State.FAULT and "83" in codes["hot"].vi
    assert codes["disk-low"].severity == State.WARNING


def test_throttling_flags_and_clock(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vcgencmd").write_text("#!/bin/sh\necho throttled=0x50005\n")
    (bin_dir / "vcgencmd").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    (tmp_path / "timesync").mkdir()
    monkeypatch.setattr(system, "TIMESYNC", tmp_path / "timesync")
    reading = make("system", cfg(tmp_path)).poll()
    codes = {p.code for p in reading.problems}
    assert reading.metrics["system.throttled"].value == "0x50005"
    assert {"under-voltage", "throttled", "under-voltage-occurred", "clock-not-synced"} <= codes
    (tmp_path / "timesync" / "synchronized").touch()
    assert "clock-not-synced" not in {p.code for p in make("system", cfg(tmp_path)).poll().problems}


def test_sim_changes_over_time(tmp_path):
    dev = make("system", dataclasses.replace(cfg(tmp_path), driver="sim"))
    assert dev.poll().metrics["system.cpu_temp"].unit == "°C"
