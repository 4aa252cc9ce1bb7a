"""The Raspberry Pi itself: CPU, memory, SD card space, temperature, throttling, clock.

An overheating Pi in a cultural house in May, an SD card filling with scans or a weak power supply
(under-voltage) are the usual ways a kit dies; this is what the technician sees of them.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import time
from pathlib import Path

import psutil

from edge.drivers.device import Device
from edge.drivers.system_settings import SystemSettings
from edge.health import Metric, Problem, Reading, State

THERMAL = Path("/sys/class/thermal")
TIMESYNC = Path("/run/systemd/timesync")
# vcgencmd get_throttled bits: (bit, code, severity, English, Vietnamese)
THROTTLE_BITS = [
    (0, "under-voltage", State.FAULT, "under-voltage now: the power supply is too weak",
     "Nguồn điện cho máy tính yếu. Hãy dùng bộ nguồn 5V 3A chính hãng."),
    (1, "frequency-capped", State.WARNING, "CPU frequency capped (heat or power)",
     "Máy tính đang bị giảm tốc do nóng hoặc nguồn yếu."),
    (2, "throttled", State.WARNING, "CPU throttled now (heat or power)",
     "Máy tính đang bị giảm tốc do nóng hoặc nguồn yếu."),
    (16, "under-voltage-occurred", State.WARNING, "under-voltage has occurred since boot",
     "Nguồn điện cho máy tính đã từng bị yếu. Kiểm tra bộ nguồn và cáp."),
]


class PsutilSystem(Device):
    kind = "system"

    def __init__(self, cfg: SystemSettings) -> None:
        super().__init__(cfg)
        self.name = "pi"

    def poll(self) -> Reading:
        disk = shutil.disk_usage(self.cfg.disk_path or "/")
        mem = psutil.virtual_memory()
        metrics = {
            "system.cpu_percent": Metric(psutil.cpu_percent(interval=None), "%"),
            "system.load1": Metric(round(psutil.getloadavg()[0], 2)),
            "system.memory_used": Metric(mem.percent, "%"),
            "system.memory_available": Metric(mem.available, "B"),
            "system.disk_free": Metric(disk.free, "B"),
            "system.disk_used": Metric(round(100 * disk.used / disk.total, 1), "%"),
            "system.uptime": Metric(int(time.time() - psutil.boot_time()), "s"),
        }
        temp = cpu_temperature()
        if temp is not None:
            metrics["system.cpu_temp"] = Metric(temp, "°C")
        throttled = get_throttled()
        if throttled is not None:
            metrics["system.throttled"] = Metric(hex(throttled))
        synced = clock_synced()
        if synced is not None:
            metrics["system.clock_synced"] = Metric(synced)
        return Reading(metrics, problems(self.cfg, disk.free, temp, throttled, synced))


def problems(cfg: SystemSettings, disk_free: int, temp: float | None, throttled: int | None,
             synced: bool | None) -> list[Problem]:
    out = []
    if temp is not None and temp >= cfg.temp_warning:
        severity = State.FAULT if temp >= cfg.temp_fault else State.WARNING
        out.append(Problem("hot", f"CPU at {temp:.0f} °C", f"Máy tính đang nóng ({temp:.0f} °C). "
                           "Đặt bộ thiết bị nơi thoáng, tránh nắng.", severity))
    if disk_free < cfg.disk_warning_mb * 2**20:
        out.append(Problem("disk-low", f"only {disk_free // 2**20} MB free on {cfg.disk_path}",
                           "Thẻ nhớ sắp đầy. Hãy tải hồ sơ lên cổng dịch vụ công rồi đánh dấu "
                           "đã tải để giải phóng chỗ.", State.WARNING))
    for bit, code, severity, en, vi in THROTTLE_BITS:
        if throttled is not None and throttled & (1 << bit):
            out.append(Problem(code, en, vi, severity))
    if synced is False:
        out.append(Problem("clock-not-synced", "system clock not synchronised (no network time "
                           "since boot): dates in file names may be wrong",
                           "Đồng hồ máy chưa được đồng bộ; ngày giờ trên hồ sơ có thể sai.",
                           State.WARNING))
    return out


def cpu_temperature() -> float | None:
    """The SoC temperature from the kernel's thermal zones (the CPU's if it is named)."""
    zones = sorted(THERMAL.glob("thermal_zone*"))
    for zone in sorted(zones, key=lambda z: "cpu" not in _read(z / "type")):
        raw = _read(zone / "temp")
        if raw.strip().lstrip("-").isdigit():
            return round(int(raw) / 1000.0, 1)
    return None


def get_throttled() -> int | None:
    """Raspberry Pi firmware throttling flags; None where there is no vcgencmd (not a Pi)."""
    if shutil.which("vcgencmd") is None:
        return None
    try:
        out = subprocess.run(["vcgencmd", "get_throttled"], capture_output=True, text=True,
                             timeout=5, check=True).stdout
        return int(out.strip().split("=")[1], 16)
    except (OSError, subprocess.SubprocessError, IndexError, ValueError):
        return None


def clock_synced() -> bool | None:
    """Whether systemd-timesyncd has synchronised the clock; None if it does not run here."""
    if not TIMESYNC.is_dir():
        return None
    return (TIMESYNC / "synchronized").exists()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class SimSystem(Device):
    """A Pi that warms up and cools down over a few minutes, for the demo."""

    kind = "system"

    def __init__(self, cfg: SystemSettings) -> None:
        super().__init__(cfg)
        self.name = "pi"
        self.start = time.monotonic()

    def poll(self) -> Reading:
        t = time.monotonic() - self.start
        temp = round(55 + 12 * math.sin(t / 60.0), 1)
        disk = shutil.disk_usage(self.cfg.disk_path or "/")
        metrics = {
            "system.cpu_percent": Metric(round(20 + 15 * math.sin(t / 7.0), 1), "%"),
            "system.load1": Metric(0.4),
            "system.memory_used": Metric(38.0, "%"),
            "system.disk_free": Metric(disk.free, "B"),
            "system.uptime": Metric(int(t), "s"),
            "system.cpu_temp": Metric(temp, "°C"),
            "system.throttled": Metric("0x0"),
        }
        return Reading(metrics, problems(self.cfg, disk.free, temp, 0, None))
