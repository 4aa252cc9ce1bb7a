"""The UPS drivers against real peers.

NUT: the real `dummy-ups` driver replaying a .seq file, served by the real `upsd` on a loopback
port (tests/ups_nut.py). Megatec/Q1: the driver opens one end of a `socat` pseudo-terminal pair,
an emulator answers on the other (tests/ups_megatec.py). The demo twin runs on an injected clock.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.drivers.registry import make
from edge.drivers.ups import critical, problems, reading, status_words
from edge.drivers.ups import settings as config
from edge.drivers.ups.megatec import MegatecUps, estimate_charge, parse_q1, q1_status
from edge.drivers.ups.nut import NutUps, nut_reading
from edge.drivers.ups.sim import SimUps
from edge.errors import DeviceAbsent, DeviceError
from edge.health import Health, Reading, State
from edge.monitor import poll_once

from .peers import SocatPair
from .ups_megatec import ONLINE, Emulator, q1
from .ups_nut import PASSWORD, UPS, USER, NutServer, PeerError, free_port

OL_SEQ = """\
ups.status: OL CHRG
battery.charge: 95
battery.runtime: 1800
battery.voltage: 27.1
input.voltage: 226.0
input.frequency: 50.0
output.voltage: 225.0
ups.load: 14
ups.temperature: 30.5
TIMER 3600
"""
OUTAGE_SEQ = """\
ups.status: OL CHRG
battery.charge: 100
battery.runtime: 1800
input.voltage: 226.0
TIMER 2
ups.status: OB DISCHRG
battery.charge: 60
battery.runtime: 900
input.voltage: 0.0
TIMER 2
ups.status: OB LB
battery.charge: 15
battery.runtime: 120
TIMER 600
"""


def health(dev: object) -> Health:
    return Health.of("ups", "ups", "test", dev.poll())  # type: ignore[attr-defined]


def codes(h: Health | Reading) -> list[str]:
    return [p.code for p in h.problems]


def poll_until(dev: NutUps, check: Callable[[Health], bool], seconds: float = 30.0) -> Health:
    deadline = time.monotonic() + seconds
    while True:
        h = health(dev)
        if check(h) or time.monotonic() > deadline:
            return h
        time.sleep(0.2)


def bounded(call: Callable[[], object], seconds: float) -> BaseException | None:
    """Run `call` in a thread; the exception it raised (None if none), or fail if it hangs."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as e:
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        pytest.fail(f"the call did not return within {seconds} s")
    return outcome[0]


def wait_state(dev: NutUps, check: Callable[[Health], bool], seconds: float) -> Health:
    """Like poll_until, through the poller's own wrapper (a raising driver becomes a state)."""
    deadline = time.monotonic() + seconds
    while True:
        h = poll_once(dev)
        if check(h) or time.monotonic() > deadline:
            return h
        time.sleep(0.2)


# ------------------------------------------------------------------ shared helpers


@pytest.mark.parametrize(("status", "words"), [
    ("OL", ["OL"]),
    ("OB DISCHRG LB", ["OB", "DISCHRG", "LB"]),
    ("  OL  CHRG ", ["OL", "CHRG"]),
    ("OL ECO NEWWORD", ["OL", "ECO", "NEWWORD"]),  # unknown words are kept
    ("", []),
])
def test_status_words(status, words):
    assert status_words(status) == words


@pytest.mark.parametrize(("status", "expected"), [
    ("OB LB", True), ("OB DISCHRG LB", True), ("OL FSD", True), ("FSD", True),
    ("OB", False), ("OL LB", False), ("OL CHRG", False), ("LB", False), ("", False),
])
def test_critical(status, expected):
    assert critical(status_words(status)) is expected


def test_problems_of_each_status_word():
    assert problems(["OL"]) == []
    on_battery = problems(["OB", "DISCHRG"], runtime=720)
    assert codes(Reading({}, on_battery)) == ["on-battery"]
    assert on_battery[0].severity is State.WARNING and "12 min" in on_battery[0].en
    assert on_battery[0].vi.startswith("Mất điện lưới, bộ lưu điện đang chạy bằng pin.")
    low = problems(["OB", "LB"])
    assert codes(Reading({}, low)) == ["battery-low"] and low[0].severity is State.FAULT
    assert low[0].vi.startswith("Pin bộ lưu điện sắp hết. Đã dừng nhận hồ sơ quét mới")
    fsd = problems(["OL", "FSD"])
    assert fsd[0].severity is State.FAULT and "FSD" in fsd[0].en
    recharging = problems(["OL", "CHRG", "LB"])
    assert codes(Reading({}, recharging)) == ["battery-low"]
    assert recharging[0].severity is State.WARNING
    assert codes(Reading({}, problems(["OL", "RB", "OVER"]))) == ["replace-battery", "overload"]
    assert codes(Reading({}, problems(["OFF"]))) == ["ups-off"]
    assert codes(Reading({}, problems(["OL", "BYPASS"]))) == ["bypass"]
    assert codes(Reading({}, problems(["OL", "ALARM"], alarm="Fan failure"))) == ["ups-alarm"]


def test_reading_uses_nut_names_and_units():
    r = reading("OL", {"battery.charge": 80.0, "ups.temperature": 31.0, "battery.runtime": None})
    assert r.metrics["ups.status"].value == "OL"
    assert (r.metrics["battery.charge"].value, r.metrics["battery.charge"].unit) == (80.0, "%")
    assert r.metrics["ups.temperature"].unit == "°C"
    assert "battery.runtime" not in r.metrics  # unknown values are left out, not zero


# ------------------------------------------------------------------ NUT: dummy-ups + upsd


@pytest.fixture
def nut(tmp_path: Path) -> Iterator[Callable[..., NutServer]]:
    servers: list[NutServer] = []

    def start(seq: str = OL_SEQ, **kw: object) -> NutServer:
        server = NutServer(tmp_path / f"nut{len(servers)}", seq, **kw)  # type: ignore[arg-type]
        servers.append(server)
        try:
            return server.start()
        except PeerError as e:
            pytest.fail(str(e))

    yield start
    for server in servers:
        server.stop()


def nut_ups(server: NutServer, **kw: object) -> NutUps:
    settings: dict[str, object] = {"host": "127.0.0.1", "port": server.port, "ups": UPS,
                                   "timeout": 3.0, **kw}
    cfg = config.Ups(driver="nut", **settings)  # type: ignore[arg-type]
    dev = make("ups", cfg)
    assert isinstance(dev, NutUps)
    return dev


def test_nut_reads_the_ups_on_line(nut):
    with nut_ups(nut()) as dev:
        h = health(dev)
    assert h.state is State.OK and h.problems == ()
    m = h.metrics
    assert m["ups.status"].value == "OL CHRG"
    expected = {"battery.charge": (95.0, "%"), "battery.runtime": (1800.0, "s"),
                "battery.voltage": (27.1, "V"), "input.voltage": (226.0, "V"),
                "input.frequency": (50.0, "Hz"), "output.voltage": (225.0, "V"),
                "ups.load": (14.0, "%"), "ups.temperature": (30.5, "°C")}
    assert {k: (m[k].value, m[k].unit) for k in expected} == expected
    assert all(isinstance(v.value, str | float | int) for v in m.values())  # decoded, no bytes


def test_nut_outage_warns_then_faults(nut):
    with nut_ups(nut(OUTAGE_SEQ)) as dev:
        seen: list[tuple[str, tuple[str, ...]]] = []

        def record(h: Health) -> bool:
            entry = (str(h.value("ups.status")), tuple(codes(h)))
            if not seen or seen[-1] != entry:
                seen.append(entry)
            return "battery-low" in codes(h)

        final = poll_until(dev, record)
    assert final.state is State.FAULT, seen
    assert critical(status_words(str(final.value("ups.status"))))
    assert final.value("battery.charge") == 15.0
    statuses = [s for s, _ in seen]
    assert "OB DISCHRG" in statuses, seen  # the warning came first
    warned = statuses.index("OB DISCHRG")
    assert seen[warned][1] == ("on-battery",)
    assert statuses.index("OB LB") > warned


def test_nut_login_right_and_wrong_password(nut):
    server = nut()
    with nut_ups(server, login=USER, password=PASSWORD) as dev:
        assert health(dev).value("ups.status") == "OL CHRG"
    with nut_ups(server, login=USER, password="wrong") as dev, \
            pytest.raises(DeviceError) as e:
        dev.poll()
    assert not isinstance(e.value, DeviceAbsent)
    assert f"refused login {USER!r}" in e.value.message and "ACCESS-DENIED" in e.value.message
    assert "upsd.users" in e.value.hint


def test_nut_server_stopped_is_absent_and_comes_back(nut):
    server = nut()
    dev = nut_ups(server, timeout=2.0)
    try:
        assert health(dev).state is State.OK  # the connection is now kept
        server.stop_upsd()
        # plain PyNUTClient spins for ever on the connection upsd closed: bound the wait
        error = bounded(dev.poll, seconds=10)
        assert isinstance(error, DeviceAbsent), error
        assert f"UPS server not answering at 127.0.0.1:{server.port}" in error.message
        assert f"upsc {UPS}@127.0.0.1:{server.port}" in error.hint
        assert poll_once(dev).state is State.ABSENT
        server.start_upsd()
        assert health(dev).value("ups.status") == "OL CHRG"  # reconnected by itself
    finally:
        dev.close()
        dev.close()  # idempotent


def test_nut_upsd_restart_between_polls_costs_no_poll(nut):
    server = nut()
    with nut_ups(server) as dev:
        assert health(dev).state is State.OK
        server.stop_upsd()
        server.start_upsd()
        assert health(dev).value("ups.status") == "OL CHRG"  # the broken connection is replaced


def test_nut_starting_driver_is_unknown_not_on_line():
    for values in ({"ups.status": "WAIT"}, {"battery.charge": "90"}):
        with pytest.raises(DeviceError) as e:
            nut_reading(values)
        assert not isinstance(e.value, DeviceAbsent)
    r = nut_reading({"ups.status": "OL", "battery.charge": "n/a", "ups.alarm": "Fan failure"})
    assert "battery.charge" not in r.metrics and codes(r) == ["ups-alarm"]


def test_nut_nothing_listening_is_absent():
    cfg = config.Ups(driver="nut", host="127.0.0.1", port=free_port(), ups=UPS, timeout=2.0)
    with NutUps(cfg) as dev, pytest.raises(DeviceAbsent) as e:
        dev.poll()
    assert "UPS server not answering" in e.value.message


def test_nut_unknown_ups_name_is_a_clear_error(nut):
    server = nut()
    with nut_ups(server, ups="nope") as dev, pytest.raises(DeviceError) as e:
        dev.poll()
    assert not isinstance(e.value, DeviceAbsent)
    assert "has no UPS named 'nope'" in e.value.message and f"serves: {UPS}" in e.value.message
    assert "upsc" in e.value.hint
    with nut_ups(server, ups="nope", login=USER, password=PASSWORD) as dev, \
            pytest.raises(DeviceError) as e:
        dev.poll()
    assert "has no UPS named 'nope'" in e.value.message  # not mistaken for a bad password


def test_nut_driver_not_running_is_absent(nut):
    server = nut()
    with nut_ups(server) as dev:
        assert health(dev).state is State.OK
        server.stop_driver()  # on its way out it may say WAIT for a moment: unknown, not OL
        h = wait_state(dev, lambda h: h.state is State.ABSENT, seconds=15)
        assert h.state is State.ABSENT, h
        with pytest.raises(DeviceAbsent) as e:
            dev.poll()
    assert "DRIVER-NOT-CONNECTED" in e.value.message
    assert f"upsc {UPS}@127.0.0.1:{server.port}" in e.value.hint


def test_nut_stale_data_is_absent(nut):
    server = nut(maxage=2)
    assert server.driver is not None
    with nut_ups(server) as dev:
        assert health(dev).state is State.OK
        os.kill(server.driver.pid, signal.SIGSTOP)  # the driver stops updating upsd
        try:
            h = wait_state(dev, lambda h: h.state is not State.OK, seconds=30)
            with pytest.raises(DeviceAbsent) as e:
                dev.poll()
        finally:
            os.kill(server.driver.pid, signal.SIGCONT)
    assert h.state is State.ABSENT
    assert "DATA-STALE" in e.value.message and "upsc" in e.value.hint


# ------------------------------------------------------------------ Megatec/Q1 over a pty pair


class Line:
    """A socat pair with the emulator on one end; the driver gets `device`."""

    def __init__(self, workdir: Path) -> None:
        self.pair = SocatPair(workdir)
        self.emu = Emulator(self.pair.peer).start()

    @property
    def device(self) -> str:
        return str(self.pair.port)

    def unplug(self) -> None:
        self.pair.unplug()
        self.emu.stop()

    def replug(self) -> None:
        self.pair = SocatPair(self.pair.port.parent)
        self.emu = Emulator(self.pair.peer).start()


@pytest.fixture
def line(tmp_path: Path) -> Iterator[Line]:
    try:
        ln = Line(tmp_path)
    except PeerError as e:
        pytest.fail(str(e))
    yield ln
    ln.unplug()


def megatec(line: Line, **kw: object) -> MegatecUps:
    kw.setdefault("timeout", 1.0)
    dev = make("ups", config.Ups(driver="megatec", device=line.device, **kw))  # type: ignore[arg-type]
    assert isinstance(dev, MegatecUps)
    return dev


def test_megatec_on_line_reply(line):
    line.emu.reply = q1(battery="25.2")  # a 24 V pack = 12 cells of 2.1 V
    with megatec(line) as dev:
        h = health(dev)
    assert h.state is State.OK and h.problems == ()
    m = h.metrics
    assert m["ups.status"].value == "OL"
    expected = {"input.voltage": (226.0, "V"), "input.voltage.fault": (195.0, "V"),
                "output.voltage": (226.0, "V"), "ups.load": (14.0, "%"),
                "input.frequency": (49.0, "Hz"), "battery.voltage": (25.2, "V"),
                "ups.temperature": (30.0, "°C"), "battery.charge": (70.0, "%")}
    assert {k: (m[k].value, m[k].unit) for k in expected} == expected
    assert m["battery.charge.estimated"].value is True
    assert m["ups.type"].value == "line-interactive" and m["ups.beeper.status"].value == "disabled"
    assert line.emu.queries == 1


def test_megatec_per_cell_voltage_and_clamping(line):
    line.emu.reply = q1(battery="2.05")  # this unit reports volts per cell
    with megatec(line, battery_cells=6) as dev:
        assert health(dev).value("battery.charge") == 60.0
        line.emu.reply = ONLINE  # 27.5 V on 12 cells: floating above "full"
        assert health(dev).value("battery.charge") == 100.0


def test_megatec_utility_fail_and_battery_low_is_critical(line):
    with megatec(line) as dev:
        line.emu.reply = q1(vin="000.0", hz="00.0", battery="21.0", bits="10001000")
        h = health(dev)
        assert h.value("ups.status") == "OB" and codes(h) == ["on-battery"]
        assert h.state is State.WARNING
        line.emu.reply = q1(vin="000.0", hz="00.0", battery="20.5", bits="11001000")
        h = health(dev)
    assert h.value("ups.status") == "OB LB"
    assert critical(status_words(str(h.value("ups.status"))))
    assert codes(h) == ["battery-low"] and h.state is State.FAULT
    assert h.value("battery.charge") == 0.0  # 20.5 V / 12 = 1.71 V per cell: below empty


@pytest.mark.parametrize(("reply", "why"), [
    (b"#    MEGATEC UPS    V1.0   \r", "does not start with '('"),
    (b"\xff\xfe\x81(\x00\x13\r", "does not start with '('"),
    (b"(226.0 195.0 \xe9\xff 014 49.0 27.5 30.0 00001000\r", "binary noise"),
    (b"(226.0 195.0 226.0 014 49.0 27.5 00001000\r", "7 fields instead of 8"),
    (b"(226.0 195.0 226.0 014 49.0 27.5 30.0 0000\r", "not 8 binary digits"),
    (b"(226.0 195.0 2x6.0 014 49.0 27.5 30.0 00001000\r", "'2x6.0' is not a number"),
    (b"(226.0 195.0 226.0 014 49.0 27.5 30.0 00001000" + b"0" * 200, "no end of line"),
])
def test_megatec_garbage_is_a_clear_error_then_recovers(line, reply, why):
    line.emu.once.append(reply)
    with megatec(line) as dev:
        with pytest.raises(DeviceError) as e:
            dev.poll()
        assert not isinstance(e.value, DeviceAbsent)
        assert "reply from the UPS to Q1" in e.value.message and why in e.value.message
        assert health(dev).value("ups.status") == "OL"  # the next good reply works


def test_megatec_short_read_is_an_incomplete_reply(line):
    line.emu.once.extend([b"(226.0 195.0 22", b"(226.0 19"])
    with megatec(line, timeout=0.5) as dev:
        with pytest.raises(DeviceError) as e:
            dev.poll()
        assert not isinstance(e.value, DeviceAbsent)
        assert "incomplete reply" in e.value.message and "(226.0 195.0 22" in e.value.message
        lost = poll_once(dev)  # what the poller makes of it: unknown, with the reason
        assert lost.state is State.UNKNOWN and "incomplete reply" in lost.problems[0].en
        assert health(dev).value("ups.status") == "OL"


def test_megatec_flushes_a_late_reply_before_asking(line):
    with megatec(line) as dev:
        line.emu.stale = q1(bits="11001000")  # arrives after the answer, unasked
        assert health(dev).value("ups.status") == "OL"
        time.sleep(0.8)  # the stale line is now waiting in the driver's input buffer
        line.emu.stale = None
        assert line.emu.stale_sent == 1
        assert health(dev).value("ups.status") == "OL"


def test_megatec_silent_ups_is_absent_in_bounded_time(line):
    line.emu.reply = None
    with megatec(line, timeout=0.5) as dev:
        started = time.monotonic()
        with pytest.raises(DeviceAbsent) as e:
            dev.poll()
        assert time.monotonic() - started < 5
        assert e.value.message.startswith(
            f"UPS not answering on {line.device}: check the serial cable")
        line.emu.reply = ONLINE
        assert health(dev).value("ups.status") == "OL"


def test_megatec_unplugged_is_absent_and_replugged_works(line):
    with megatec(line) as dev:
        assert health(dev).state is State.OK  # the port is open now
        line.unplug()
        started = time.monotonic()
        with pytest.raises(DeviceAbsent) as e:
            dev.poll()
        assert time.monotonic() - started < 5
        assert f"UPS serial port {line.device} is gone" in e.value.message
        with pytest.raises(DeviceAbsent):
            dev.poll()  # and stays absent while unplugged
        line.replug()
        assert health(dev).value("ups.status") == "OL"  # the port is reopened


def test_megatec_missing_port_at_start_is_absent(tmp_path):
    cfg = config.Ups(driver="megatec", device=str(tmp_path / "ttyUSB9"), timeout=0.5)
    with MegatecUps(cfg) as dev, pytest.raises(DeviceAbsent) as e:
        dev.poll()
    assert "is gone" in e.value.message and "Cắm lại cáp" in e.value.vi


def test_megatec_close_is_idempotent(line):
    dev = megatec(line)
    assert health(dev).state is State.OK
    dev.close()
    dev.close()
    assert health(dev).state is State.OK  # a closed driver reopens on the next poll
    dev.close()


def test_q1_parsing_details():
    q = parse_q1(b"(240.5 240.5 212.0 047 50.1 2.21 --.- 00100001")
    assert q.values["ups.temperature"] is None and q.values["battery.voltage"] == 2.21
    assert q1_status(q) == "OL TRIM"  # bit 5 with output well below input: trimming
    assert q1_status(parse_q1(b"(190.0 190.0 228.0 020 50.0 27.0 30.0 00100000")) == "OL BOOST"
    assert q1_status(parse_q1(b"(226.0 226.0 226.0 020 50.0 27.0 30.0 00100110")) == \
        "OL BYPASS CAL FSD"
    cfg = config.Ups(driver="megatec", device="/dev/null", battery_cells=12)
    assert estimate_charge(24.0, cfg) == 50.0 and estimate_charge(1.5, cfg) == 0.0
    assert estimate_charge(None, cfg) is None and estimate_charge(0.0, cfg) is None


# ------------------------------------------------------------------ the demo twin


def sim_ups(clock: list[float], **sim: float) -> SimUps:
    cfg = config.Ups(driver="sim", sim=config.UpsSim(**sim))
    return SimUps(cfg, clock=lambda: clock[0])


def test_sim_walks_ol_ob_lb_ol():
    clock = [1000.0]
    ups = sim_ups(clock, outage_after=60, outage_seconds=900, runtime=900)
    seen = []
    for t in range(0, 1200, 10):
        clock[0] = 1000.0 + t
        h = health(ups)
        seen.append((t, str(h.value("ups.status")), h.value("battery.charge"), codes(h)))
    by_time = {t: (s, c, p) for t, s, c, p in seen}
    assert by_time[0] == ("OL", 100.0, [])
    assert by_time[60][0] == "OB DISCHRG" and by_time[60][2] == ["on-battery"]
    assert by_time[420][1] == 60.0  # 360 s of a 900 s runtime gone
    assert by_time[800][0] == "OB DISCHRG LB" and by_time[800][2] == ["battery-low"]
    assert critical(status_words(by_time[800][0]))
    assert by_time[970][0].startswith("OL CHRG")  # mains back, recharging
    statuses = [s.split()[0] + (" LB" if "LB" in s else "") for _, s, _, _ in seen]
    order = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
    assert order[:4] == ["OL", "OB", "OB LB", "OL LB"]
    charges = [c for t, _, c, _ in seen if 970 <= t < 1020]  # the next cut is at 1020
    assert charges == sorted(charges) and charges[-1] > charges[0]  # recharging


def test_sim_is_deterministic_and_repeats():
    a, b = [0.0], [500.0]
    ups_a = sim_ups(a, outage_after=30, outage_seconds=60, runtime=300)
    ups_b = sim_ups(b, outage_after=30, outage_seconds=60, runtime=300)
    for t in (0, 31, 89, 95, 121, 400, 10_000.5):
        a[0], b[0] = t, 500.0 + t
        assert ups_a.poll() == ups_b.poll()
    a[0] = 30 + 60 + 30 + 1  # the second cut, starting below full
    h = health(ups_a)
    assert h.value("ups.status") == "OB DISCHRG" and float(h.value("battery.charge")) < 100


def test_sim_without_outage_stays_on_line():
    clock = [0.0]
    ups = sim_ups(clock, outage_after=0)
    for t in (0, 1e3, 1e6):
        clock[0] = t
        assert health(ups).value("ups.status") == "OL"
