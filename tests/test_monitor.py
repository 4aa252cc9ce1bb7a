"""The device monitor: faulty and hung drivers never stop the rest of the snapshot."""

import json
import threading
import time
from dataclasses import dataclass

import pytest

from edge.drivers.device import Device
from edge.errors import DeviceAbsent
from edge.health import Metric, Reading, State
from edge.monitor import Monitor, poll_all, read_status


@dataclass(frozen=True)
class Cfg:
    name: str
    driver: str = "test"
    interval: float = 0.5
    timeout: float = 0.5


class Counter(Device):
    kind = "test"

    def __init__(self, cfg):
        super().__init__(cfg)
        self.n = 0
        self.plugged = threading.Event()
        self.plugged.set()

    def poll(self):
        if not self.plugged.is_set():
            raise DeviceAbsent(f"{self.name} unplugged", vi="Không thấy thiết bị")
        self.n += 1
        return Reading({"test.count": Metric(self.n)})


class Raises(Device):
    kind = "test"
    calls = 0

    def poll(self):
        self.calls += 1
        raise RuntimeError("driver bug")


class Hangs(Device):
    kind = "test"

    def __init__(self, cfg):
        super().__init__(cfg)
        self.release = threading.Event()
        self.calls = 0

    def poll(self):
        self.calls += 1
        self.release.wait(60)
        return Reading()


def wait_for(pred, seconds=15.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def running(tmp_path):
    stop = threading.Event()
    devs = [Counter(Cfg("good")), Raises(Cfg("bad")), Hangs(Cfg("stuck"))]
    mon = Monitor(devs, stop, tmp_path / "status.json")
    threads = mon.start()
    yield mon, devs, tmp_path / "status.json"
    stop.set()
    devs[2].release.set()
    for t in threads:
        t.join(10)


def by_name(mon):
    return {h.name: h for h in mon.snapshot()}


def test_a_raising_and_a_hanging_driver_leave_the_rest_updating(running):
    mon, (_, _, stuck), _ = running
    assert wait_for(lambda: by_name(mon)["bad"].problems[0].code == "driver-error")
    assert wait_for(lambda: by_name(mon)["stuck"].problems[0].code == "not-answering")
    first = by_name(mon)["good"].value("test.count")
    assert wait_for(lambda: by_name(mon)["good"].value("test.count") >= first + 3)
    assert by_name(mon)["good"].state == State.OK
    assert "RuntimeError: driver bug" in by_name(mon)["bad"].problems[0].en
    assert by_name(mon)["bad"].state == by_name(mon)["stuck"].state == State.UNKNOWN
    assert stuck.calls == 1  # a hung call is never stacked with another one


def test_failing_drivers_back_off(running):
    _, (good, bad, _), _ = running
    assert wait_for(lambda: good.n >= 12, 30)
    assert bad.calls < good.n / 2  # retried, but less and less often


def test_hot_plug_is_followed_without_restart(running):
    mon, (good, _, stuck), _ = running
    assert wait_for(lambda: by_name(mon)["good"].state == State.OK)
    good.plugged.clear()
    assert wait_for(lambda: by_name(mon)["good"].state == State.ABSENT)
    assert by_name(mon)["good"].problems[0].en == "good unplugged"
    good.plugged.set()
    assert wait_for(lambda: by_name(mon)["good"].state == State.OK, 20)
    stuck.release.set()  # the hung driver answers at last: picked up again
    assert wait_for(lambda: by_name(mon)["stuck"].state == State.OK, 20)


def test_listeners_hear_changes_and_the_status_file_follows(running):
    mon, _, path = running
    assert wait_for(lambda: path.exists() and read_status(path, 60) is not None)
    data = json.loads(path.read_text())
    assert {d["name"] for d in data["devices"]} == {"good", "bad", "stuck"}
    assert path.stat().st_mode & 0o077 == 0
    heard = []
    mon.subscribe(lambda prev, cur: heard.append((cur.name, cur.state)))
    assert wait_for(lambda: ("good", State.OK) in heard)
    assert read_status(path, -1) is None  # too old for a caller that wants it fresh


def test_poll_all_is_bounded_by_each_drivers_deadline():
    hangs = Hangs(Cfg("stuck", timeout=0.2))
    try:
        healths = poll_all([Counter(Cfg("good")), hangs, Raises(Cfg("bad"))])
    finally:
        hangs.release.set()
    assert [h.state for h in healths] == [State.OK, State.UNKNOWN, State.UNKNOWN]
