"""4G drivers against real peers: a HiLink router speaking its XML API over HTTP (huawei-lte-api
on our side, unchanged), an AT modem on a socat pty pair, and the simulated twin."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from edge.drivers import registry as device
from edge.drivers.modem import (
    Link,
    ModemDevice,
    link_problems,
    operator_name,
    parse_number,
    plmn_for_name,
)
from edge.drivers.modem.at import AtModem
from edge.drivers.modem.hilink import HilinkModem
from edge.drivers.modem.settings import Modem
from edge.drivers.modem.sim import SimModem
from edge.errors import DeviceAbsent, DeviceError
from edge.health import Health, State

from .modem_fakes import AtEmulator, FakeRouter
from .peers import SocatPair

PASSWORD = "Kit@2025"


def codes(reading):
    return [p.code for p in reading.problems]


def values(reading):
    return {k: m.value for k, m in reading.metrics.items()}


def state(dev, reading):
    return Health.of(dev.kind, dev.name, dev.driver, reading).state


# --- shared helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(("plmn", "name"), [("452-01", "MobiFone"), ("45202", "Vinaphone"),
                                            ("452 04", "Viettel"), ("45205", "Vietnamobile"),
                                            ("45207", "Gmobile"), ("45606", "45606")])
def test_operator_names_from_plmn(plmn, name):
    assert operator_name(plmn) == name


def test_operator_names_from_network_names():
    assert operator_name("45606", "METFONE") == "METFONE"  # foreign: the network's own name
    assert operator_name("45204", "VN VIETTEL") == "Viettel"
    assert plmn_for_name("VN VINAPHONE") == "45202"
    assert plmn_for_name("Vietnamobile") == "45205"
    assert plmn_for_name("Beeline VN") == "45207"
    assert plmn_for_name("METFONE") == ""


@pytest.mark.parametrize(("text", "number"), [("-95dBm", -95.0), ("-11.0dB", -11.0),
                                              (">=-51dBm", -51.0), ("8dB", 8.0), ("", None),
                                              (None, None), ("unknown", None)])
def test_router_strings_become_numbers(text, number):
    assert parse_number(text) == number


def test_common_problems():
    good = Link(connected=True, registration="home", plmn="45204", rsrp=-95.0, sim="ok")
    assert link_problems(good) == []
    weak = link_problems(Link(connected=True, rsrp=-116.0))
    assert [p.code for p in weak] == ["weak-signal"] and "-116" in weak[0].en
    assert [p.code for p in link_problems(Link(connected=True, rssi=-101.0))] == ["weak-signal"]
    roam = link_problems(Link(connected=True, registration="roaming", plmn="45606",
                              network_name="METFONE"))
    assert [p.code for p in roam] == ["roaming"] and "METFONE" in roam[0].vi
    down = link_problems(Link(connected=False, status="disconnected"))
    assert [(p.code, p.severity) for p in down] == [("link-down", State.FAULT)]
    assert down[0].vi == "Mất kết nối 4G. Kiểm tra thẻ SIM và ăng-ten của bộ phát."
    # no SIM explains everything else: it is the one problem shown
    assert [p.code for p in link_problems(Link(connected=False, sim="missing",
                                               rsrp=-130.0))] == ["no-sim"]
    assert [p.code for p in link_problems(Link(connected=False,
                                               registration="denied"))] == ["registration-denied"]


def test_should_reconnect_waits_then_repeats_at_the_interval():
    dev = SimModem(Modem(driver="sim", reconnect_after=60.0))
    assert not dev.should_reconnect(None, 1000.0)
    assert not dev.should_reconnect(1000.0, 1059.0)
    assert dev.should_reconnect(1000.0, 1060.0)
    assert not dev.should_reconnect(1000.0, 1061.0)  # just redialled: give it time
    assert not dev.should_reconnect(1000.0, 1119.0)
    assert dev.should_reconnect(1000.0, 1121.0)
    assert not dev.should_reconnect(None, 1122.0)  # back up
    assert not dev.should_reconnect(2000.0, 2030.0)  # a new outage starts its own count
    assert dev.should_reconnect(2000.0, 2060.0)
    never = SimModem(Modem(driver="sim"))  # reconnect_after = 0: never redial
    assert not never.should_reconnect(0.0, 1e9)


def test_registry_builds_each_modem_driver(tmp_path):
    assert isinstance(device.make("modem", Modem(driver="sim")), SimModem)
    assert isinstance(device.make("modem", Modem(driver="hilink")), HilinkModem)
    at = device.make("modem", Modem(driver="at", device=str(tmp_path / "ttyUSB2")))
    assert isinstance(at, AtModem) and isinstance(at, ModemDevice) and at.kind == "modem"


# --- HiLink ------------------------------------------------------------------------------------


@pytest.fixture
def router():
    fake = FakeRouter(password=PASSWORD).start()
    yield fake
    fake.stop()


@pytest.fixture
def hilink():
    made = []

    def make(url, password=PASSWORD, timeout=3.0):
        dev = HilinkModem(Modem(driver="hilink", url=url, password=password, timeout=timeout))
        dev.redial_pause = 0.05
        made.append(dev)
        return dev

    yield make
    for dev in made:
        dev.close()


@pytest.mark.parametrize("style", ["e3372", "b535"])
def test_hilink_reading(style, hilink):
    fake = FakeRouter(password=PASSWORD, style=style).start()
    try:
        dev = hilink(fake.url)
        r = dev.poll()
    finally:
        fake.stop()
    assert r.problems == [] and state(dev, r) == State.OK
    v = values(r)
    assert v["network.connected"] is True
    assert v["network.status"] == "901"
    assert v["network.type"] == "LTE"
    assert v["network.operator"] == "Viettel" and v["network.plmn"] == "45204"
    assert v["signal.rsrp"] == -95.0 and r.metrics["signal.rsrp"].unit == "dBm"
    assert v["signal.rsrq"] == -11.0 and r.metrics["signal.rsrq"].unit == "dB"
    assert v["signal.sinr"] == 8.0 and v["signal.rssi"] == -67.0
    assert v["signal.band"] == 3 and v["signal.bars"] == 4
    assert v["traffic.rx_bytes"] == 98765432 and v["traffic.tx_bytes"] == 1543210
    assert r.metrics["traffic.rx_bytes"].unit == "B"
    assert fake.logins == ["ok"]  # the SHA256 login was checked against the token it used


def test_hilink_keeps_one_session_across_polls(router, hilink):
    dev = hilink(router.url)
    for _ in range(3):
        assert dev.poll().problems == []
    assert router.logins == ["ok"]
    assert router.requests.count("GET /") == 1


@pytest.mark.parametrize("code", [125002, 125003, 125001, 100003])
def test_hilink_logs_in_again_once_when_the_session_expires(code, router, hilink):
    dev = hilink(router.url)
    assert dev.poll().problems == []
    router.signal["rsrp"] = "-101dBm"
    router.expire_sessions(code)
    r = dev.poll()
    assert r.problems == [] and values(r)["signal.rsrp"] == -101.0
    assert router.logins == ["ok", "ok"]


def test_hilink_wrong_password_is_a_fault_for_the_technician(router, hilink):
    dev = hilink(router.url, password="admin")
    r = dev.poll()
    assert codes(r) == ["wrong-password"] and state(dev, r) == State.FAULT
    p = r.problems[0]
    assert "password" in p.en and "[[modem]]" in p.en
    assert "mật khẩu" in p.vi and "[[modem]]" in p.vi
    assert router.logins == ["108006"]
    # the router locks logins after a few wrong passwords: do not try again at every poll
    assert codes(dev.poll()) == ["wrong-password"]
    assert router.logins == ["108006"]


def test_hilink_locked_router_is_reported(router, hilink):
    router.failed_logins = router.lock_after  # someone typed the wrong password too often
    r = hilink(router.url).poll()
    assert codes(r) == ["login-locked"] and r.problems[0].severity == State.FAULT
    assert router.logins == ["108007"]


def test_hilink_max_sessions_logs_out_retries_then_warns(hilink):
    fake = FakeRouter(password=PASSWORD, max_sessions=1).start()
    try:
        fake.other_sessions = 1  # the phone app is logged in and the router allows one
        dev = hilink(fake.url)
        r = dev.poll()
        assert codes(r) == ["max-sessions"] and state(dev, r) == State.WARNING
        assert fake.logins == ["108003", "108003"]
        first, second = (i for i, req in enumerate(fake.requests) if req == "POST /api/user/login")
        assert "POST /api/user/logout" in fake.requests[first:second]
        fake.other_sessions = 0  # the phone logged out
        assert dev.poll().problems == []
        assert fake.logins[-1] == "ok"
    finally:
        fake.stop()


def test_hilink_without_password_reads_without_logging_in(hilink):
    fake = FakeRouter(login_required=False).start()
    try:
        r = hilink(fake.url, password="").poll()
    finally:
        fake.stop()
    assert r.problems == [] and values(r)["network.operator"] == "Viettel"
    assert fake.logins == [] and "POST /api/user/login" not in fake.requests


def test_hilink_asking_for_a_login_without_password_is_a_fault(router, hilink):
    r = hilink(router.url, password="").poll()
    assert codes(r) == ["password-required"] and "[[modem]]" in r.problems[0].en


def test_hilink_router_problems(router, hilink):
    dev = hilink(router.url)
    router.status.update(ConnectionStatus="902", RoamingStatus="1")
    router.plmn.update(Numeric="45606", FullName="METFONE")
    router.signal["rsrp"] = "-117dBm"
    router.dataswitch = 0
    r = dev.poll()
    assert codes(r) == ["data-off", "link-down", "roaming", "weak-signal"]
    assert state(dev, r) == State.FAULT
    assert values(r)["network.connected"] is False and values(r)["network.operator"] == "METFONE"
    router.status.update(SimStatus="255")
    assert codes(dev.poll()) == ["data-off", "no-sim"]


def test_hilink_unreachable_router_is_absent_and_found_again(router, hilink):
    dev = hilink(router.url, timeout=2.0)
    assert dev.poll().problems == []
    port = router.port
    router.stop()
    for _ in range(2):
        with pytest.raises(DeviceAbsent, match=f"127.0.0.1:{port}.*cannot be reached"):
            dev.poll()
    back = FakeRouter(password=PASSWORD).start(port=port)  # powered on again
    try:
        assert dev.poll().problems == []
        assert back.logins == ["ok"]
    finally:
        back.stop()


def test_hilink_closed_port_is_absent(hilink):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dev = hilink(f"http://127.0.0.1:{port}/")
    with pytest.raises(DeviceAbsent) as e:
        dev.poll()
    assert "bộ phát 4G" in e.value.vi


def test_hilink_silent_router_is_absent_within_the_timeout(hilink):
    with socket.socket() as s:  # accepts connections (the kernel does) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        dev = hilink(f"http://127.0.0.1:{s.getsockname()[1]}/", timeout=1.0)
        started = time.monotonic()
        with pytest.raises(DeviceAbsent, match="does not answer"):
            dev.poll()
        assert time.monotonic() - started < 10


def test_hilink_something_else_at_the_address_is_an_error(hilink):
    class NotARouter(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html><body>It works!</body></html>"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotARouter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(DeviceError, match="does not answer like a Huawei HiLink") as e:
            hilink(f"http://127.0.0.1:{server.server_address[1]}/").poll()
        assert not isinstance(e.value, DeviceAbsent)
    finally:
        server.shutdown()
        server.server_close()


def test_hilink_reconnect_toggles_the_data_switch(router, hilink):
    dev = hilink(router.url)
    assert dev.poll().problems == []
    router.expire_sessions(125002)  # and the session went stale meanwhile
    dev.reconnect()
    assert router.dataswitch_log == [0, 1] and router.dataswitch == 1
    assert router.logins == ["ok", "ok"]


def test_hilink_close_logs_out_once(router, hilink):
    dev = hilink(router.url)
    dev.poll()
    dev.close()
    dev.close()
    assert router.logouts == 1 and router.logged_in_count() == 0
    assert dev.poll().problems == []  # usable again: a new session
    assert router.logins == ["ok", "ok"]


# --- AT modem ----------------------------------------------------------------------------------


class AtRig:
    def __init__(self, tmp_path):
        self.pair = SocatPair(tmp_path, "ttyUSB2")
        self.emu = AtEmulator(self.pair.peer)
        self.devs = []

    def modem(self, timeout=2.0, device=None):
        dev = AtModem(Modem(driver="at", device=str(device or self.pair.port), timeout=timeout))
        self.devs.append(dev)
        return dev

    def close(self):
        for dev in self.devs:
            dev.close()
        self.emu.stop()
        self.pair.unplug()


@pytest.fixture
def at(tmp_path):
    rig = AtRig(tmp_path)
    yield rig
    rig.close()


def test_at_reading(at):
    dev = at.modem()
    r = dev.poll()
    assert r.problems == [] and state(dev, r) == State.OK
    v = values(r)
    assert v["signal.rssi"] == -73.0 and r.metrics["signal.rssi"].unit == "dBm"  # CSQ 20
    assert v["network.registration"] == "home" and v["network.connected"] is True
    assert v["network.operator"] == "Viettel" and v["network.plmn"] == "45204"
    assert v["network.type"] == "LTE"
    assert at.emu.commands == ["AT+CPIN?", "AT+CSQ", "AT+CREG?", "AT+CEREG?", "AT+COPS?"]


def test_at_tolerates_echo_urcs_and_short_reads(at):
    at.emu.echo = True
    at.emu.chunk = 2  # answers trickle in two bytes at a time
    at.emu.creg = at.emu.cereg = 5  # roaming, while stale URCs claim "home":
    # two URCs per command, one before its answer and one before its OK; these land in
    # CPIN, CSQ, CREG, CEREG and COPS in turn
    at.emu.urcs = ["RING", "^RSSI: 3", "^MODE: 5,4", "+CPIN: READY",
                   "+CREG: 1", '+CREG: 1,"1A2B","01C2D3E",7',
                   "+CEREG: 1", '+CEREG: 1,"1A2B","01C2D3E",7', "RING", "+CREG: 1"]
    at.emu.cops = '0,2,"45606",7'
    at.emu.csq = 9
    r = at.modem().poll()
    v = values(r)
    assert v["signal.rssi"] == -95.0 and v["network.registration"] == "roaming"
    assert codes(r) == ["roaming", "weak-signal"]
    assert len(at.emu.commands) == 5  # each command sent once, answers matched


def test_at_alphanumeric_operator_and_3g(at):
    at.emu.cops = '0,0,"VN VINAPHONE",2'
    at.emu.errors = {"AT+CEREG?"}  # a 3G modem without LTE: ERROR, not a failure
    v = values(at.modem().poll())
    assert v["network.operator"] == "Vinaphone" and v["network.plmn"] == "45202"
    assert v["network.type"] == "3G" and v["network.registration"] == "home"


def test_at_error_answers_leave_the_rest_of_the_reading(at):
    at.emu.errors = {"AT+CSQ", "AT+COPS?"}
    r = at.modem().poll()
    v = values(r)
    assert "signal.rssi" not in v and "network.operator" not in v
    assert v["network.connected"] is True and r.problems == []


def test_at_unknown_signal(at):
    at.emu.csq = 99
    assert "signal.rssi" not in values(at.modem().poll())


def test_at_roaming(at):
    at.emu.creg = at.emu.cereg = 5
    at.emu.cops = '0,2,"45606",7'
    r = at.modem().poll()
    assert values(r)["network.registration"] == "roaming" and codes(r) == ["roaming"]
    assert values(r)["network.operator"] == "45606"


def test_at_no_sim(at):
    at.emu.sim = "missing"
    dev = at.modem()
    r = dev.poll()
    assert codes(r) == ["no-sim"] and state(dev, r) == State.FAULT
    assert "thẻ SIM" in r.problems[0].vi


def test_at_sim_pin(at):
    at.emu.sim = "pin"
    assert codes(at.modem().poll()) == ["sim-locked"]


@pytest.mark.parametrize(("stat", "problem", "registration"),
                         [(3, "registration-denied", "denied"), (2, "link-down", "searching"),
                          (0, "link-down", "none")])
def test_at_not_registered(at, stat, problem, registration):
    at.emu.creg = at.emu.cereg = stat
    at.emu.cops = "0"
    r = at.modem().poll()
    assert codes(r) == [problem] and r.problems[0].severity == State.FAULT
    assert values(r)["network.registration"] == registration
    assert values(r)["network.connected"] is False


def test_at_silent_modem_times_out_clearly_then_recovers(at):
    at.emu.silent = True
    dev = at.modem(timeout=1.0)
    started = time.monotonic()
    with pytest.raises(DeviceError, match="did not answer AT") as e:
        dev.poll()
    assert time.monotonic() - started < 5
    assert not isinstance(e.value, DeviceAbsent) and "không phản hồi" in e.value.vi
    at.emu.silent = False
    assert dev.poll().problems == []  # the port was reopened


def test_at_unplugged_modem_is_absent(at):
    dev = at.modem()
    assert dev.poll().problems == []
    at.pair.unplug()  # socat gone: the pty and its link vanish, like /dev/ttyUSB2
    for _ in range(2):
        with pytest.raises(DeviceAbsent, match="unplugged"):
            dev.poll()


def test_at_missing_port_is_absent(at, tmp_path):
    with pytest.raises(DeviceAbsent, match="unplugged"):
        at.modem(device=tmp_path / "ttyUSB9").poll()


def test_at_reconnect_restarts_the_radio(at):
    dev = at.modem()
    dev.reconnect()
    assert at.emu.commands == ["AT+CFUN=4", "AT+CFUN=1"]


# --- simulated twin ----------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 5000.0

    def __call__(self):
        return self.now


def sim_at(*seconds):
    clock = Clock()
    dev = SimModem(Modem(driver="sim"), clock=clock)
    out = []
    for s in seconds:
        clock.now = 5000.0 + s
        out.append(dev.poll())
    return dev, out


def test_sim_looks_alive():
    dev, (a, b, c) = sim_at(10, 100, 200)
    for r in (a, b, c):
        assert r.problems == [] and state(dev, r) == State.OK
        v = values(r)
        assert v["network.operator"] == "Viettel" and v["network.type"] == "LTE"
        assert -100 < v["signal.rsrp"] < -75
    assert len({values(r)["signal.rsrp"] for r in (a, b, c)}) == 3  # the signal wanders
    rx = [values(r)["traffic.rx_bytes"] for r in (a, b, c)]
    assert rx[0] < rx[1] < rx[2]


def test_sim_scripted_outage_and_recovery():
    dev, (before, fading, down, connecting, back) = sim_at(300, 383, 400, 418, 440)
    assert before.problems == []
    assert codes(fading) == ["weak-signal"]
    assert "link-down" in codes(down) and state(dev, down) == State.FAULT
    assert values(down)["network.connected"] is False
    assert codes(connecting) == ["connecting"] and state(dev, connecting) == State.WARNING
    assert back.problems == []
    assert values(back)["traffic.rx_bytes"] < values(before)["traffic.rx_bytes"]  # new session
    assert values(back)["traffic.rx_total"] > values(down)["traffic.rx_total"]


def test_sim_is_deterministic():
    _, first = sim_at(123.4, 777.0)
    _, second = sim_at(123.4, 777.0)
    assert first == second
