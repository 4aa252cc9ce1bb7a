"""The power policy, driven by UPS health records (the UPS drivers are tested in test_ups.py)."""

import json
import threading

import pytest

from edge.errors import PowerError
from edge.health import Health, Metric, Reading, State
from edge.pipeline.job import State as JobState
from edge.pipeline.lock import worker_lock
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.power import CRITICAL_FILE, PowerPolicy, check_accepting

from .test_daemon import daemon, wait_for  # noqa: F401  (fixture)
from .test_ups import nut  # noqa: F401  (fixture)


def ups(status, state=None):
    if state is not None:
        return Health("ups", "ups", "nut", state, (), {"ups.status": Metric(status)})
    return Health.of("ups", "ups", "nut", Reading({"ups.status": Metric(status)}))


@pytest.fixture
def policy(kit, tmp_path):
    kit.configure([{"name": "sim", "driver": "sim"}])
    with open(kit.config, "a") as f:
        f.write(f'\n[power]\nshutdown_command = "touch {tmp_path}/shutdown-ran"\n')
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    events = []
    hold = threading.Event()
    p = PowerPolicy(cfg, storage, hold, lambda topic, payload: events.append(topic))
    return p, cfg, storage, events


def test_on_battery_warns_critical_holds_and_line_resumes(policy, tmp_path):
    p, cfg, storage, events = policy
    p.on_health(None, ups("OL CHRG"))
    assert p.on_mains and not p.hold.is_set() and events == []
    p.on_health(None, ups("OB DISCHRG"))
    assert not p.on_mains and not p.critical and events == ["power/on_battery"]
    with Queue(storage.db) as queue:  # a scan the policy paused mid-feed
        job = queue.create(kit="PL01", doc="Tờ khai", scanner="sim", preset="")
        queue.transition(job.id, JobState.SCANNING)
        queue.transition(job.id, JobState.PAUSED, "scanner sim: scanning paused: the UPS "
                         "battery is nearly empty; 2 page(s) kept")
    p.on_health(None, ups("OB DISCHRG LB"))
    assert p.critical and p.hold.is_set() and events[-1] == "power/critical"
    assert (cfg.runtime_dir / CRITICAL_FILE).exists()
    assert threading_wait(lambda: (tmp_path / "shutdown-ran").exists())
    with worker_lock(storage.locks) as held:  # as the running service holds it
        assert held
        with pytest.raises(PowerError) as e:
            check_accepting(cfg, storage)
    assert "Pin bộ lưu điện sắp hết" in e.value.vi
    p.on_health(None, ups("OB LB", State.UNKNOWN))  # an unreadable UPS changes nothing
    p.on_health(None, ups("OB DISCHRG"))  # LB flickering off while still on battery: no
    assert p.critical
    p.on_health(None, ups("OL CHRG"))
    assert not p.critical and not p.hold.is_set() and p.on_mains
    assert events[-2:] == ["power/on_line", "power/restored"]
    assert not (cfg.runtime_dir / CRITICAL_FILE).exists()
    with Queue(storage.db) as queue:
        assert queue.get(job.id).state == JobState.QUEUED
    check_accepting(cfg, storage)


def test_forced_shutdown_is_critical_and_a_stale_flag_is_ignored(policy):
    p, cfg, storage, _ = policy
    p.on_health(None, ups("OL FSD"))
    assert p.critical
    check_accepting(cfg, storage)  # no service holds the lock: the flag is stale, removed
    assert not (cfg.runtime_dir / CRITICAL_FILE).exists()


def test_ocr_waits_for_mains_power(kit):
    from edge.daemon import Daemon

    kit.configure([{"name": "sim", "driver": "sim"}])
    with open(kit.config, "a") as f:
        f.write("\n[ocr]\nenabled = true\nidle_seconds = 0.0\n")
    d = Daemon(kit.cfg())
    with Queue(d.storage.db) as queue:
        assert d.ocr_may_run(queue)  # no UPS reading yet: mains assumed
        d.power.on_health(None, ups("OB DISCHRG"))
        assert not d.ocr_may_run(queue)
        d.power.on_health(None, ups("OL CHRG"))
        assert d.ocr_may_run(queue)


def threading_wait(pred, seconds=10.0):
    done = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if pred():
            return True
        done.wait(0.05)
    return False


def test_a_modem_down_for_reconnect_after_is_redialled(kit, monkeypatch):
    from edge import daemon as daemon_mod

    kit.configure([{"name": "sim", "driver": "sim"}])
    with open(kit.config, "a") as f:
        f.write('\n[[modem]]\nname = "4g"\ndriver = "sim"\nreconnect_after = 30.0\n')
    d = daemon_mod.Daemon(kit.cfg())
    (modem,) = [dev for dev in d.monitor.devices if dev.kind == "modem"]
    now = [1000.0]
    monkeypatch.setattr(daemon_mod.time, "monotonic", lambda: now[0])

    def link(up):
        return Health.of("modem", "4g", "sim", Reading({"network.connected": Metric(up)}))

    d._redial(None, link(False))
    now[0] += 20
    d._redial(None, link(False))
    assert modem.redials == 0
    now[0] += 15
    d._redial(None, link(False))
    assert modem.redials == 1  # down for 35 s
    d._redial(None, link(True))
    now[0] += 100
    d._redial(None, link(False))  # a new outage starts the count again
    assert modem.redials == 1


def test_power_cut_with_real_nut_pauses_refuses_and_resumes(kit, daemon, nut):  # noqa: F811
    """OL -> OB -> OB LB -> OL from NUT's dummy-ups through upsd, with a long scan running."""
    server = nut("ups.status: OL CHRG\nbattery.charge: 100\nTIMER 3600\n")
    kit.configure([{"name": "sim", "driver": "sim", "source": "adf", "dpi": 100,
                    "sim": {"sheets": 40, "page_delay": 0.5, "blank_backs": False}}])
    with open(kit.config, "a") as f:
        f.write(f'\n[[ups]]\nname = "ups"\ndriver = "nut"\nport = {server.port}\n'
                f'ups = "dummy"\ninterval = 0.5\n')
    proc = daemon()
    scan = kit.popen("scan", "--scanner", "sim", "--doc", "Tờ khai", "--json")

    def pages() -> int:
        jobs = json.loads(kit.edge("jobs", "--json").stdout)
        return jobs[0]["pages"] if jobs else 0

    wait_for(lambda: pages() >= 2, timeout=60, what="the scan under way")
    server.set(ups_status="OB DISCHRG", battery_charge="50")  # on battery: the scan goes on
    seen = pages()
    wait_for(lambda: pages() >= seen + 2, timeout=60, what="the scan going on, on battery")
    server.set(ups_status="OB LB", battery_charge="10")
    out, _ = scan.communicate(timeout=60)  # returns when the job settles: paused by power
    job = json.loads(out)
    assert scan.returncode == 3 and job["state"] == "paused"
    assert "the UPS battery is nearly empty" in job["message"]
    assert "resumes when mains power is back" in job["message"]
    assert "pin bộ lưu điện sắp hết" in job["message_vi"]
    kept = job["pages"]
    assert 0 < kept < 40
    refused = kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai")
    assert refused.returncode == 1 and "new scans are refused" in refused.stderr
    status = json.loads(kit.edge("status", "--json").stdout)
    (ups_health,) = [d for d in status["devices"] if d["kind"] == "ups"]
    assert ups_health["state"] == "fault"
    assert ups_health["metrics"]["ups.status"]["value"] == "OB LB"
    # mains is back: the paused job goes on by itself, from where it stopped
    server.set(ups_status="OL CHRG", battery_charge="12")
    wait_for(lambda: json.loads(kit.edge("jobs", "--json").stdout)[0]["state"] == "ready",
             timeout=90, what="job resumed and ready")
    (done,) = json.loads(kit.edge("jobs", "--json").stdout)
    assert done["pages"] == 40
    assert kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai").returncode == 0
    assert proc.poll() is None


def test_a_one_shot_scan_asks_the_ups_and_refuses_on_a_low_battery(kit, nut):  # noqa: F811
    """No service runs, so no power flag: `edge scan` polls the real NUT UPS itself."""
    server = nut("ups.status: OB LB\nbattery.charge: 10\nbattery.runtime: 60\n")
    kit.configure([{"name": "sim", "driver": "sim", "source": "flatbed", "dpi": 100}])
    with open(kit.config, "a") as f:
        f.write(f'\n[[ups]]\nname = "ups"\ndriver = "nut"\nport = {server.port}\n'
                f'ups = "dummy"\n')
    refused = kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai")
    assert refused.returncode == 1 and "new scans are refused" in refused.stderr
    assert json.loads(kit.edge("jobs", "--json").stdout) == []  # no job was even queued
