"""`edge run` as a real process: CLI scans go through its queue; SIGTERM stops it cleanly."""

import json
import signal
import time

import pytest

from .conftest import sane_adf


def wait_for(predicate, timeout=30.0, what="condition"):
    """Poll `predicate` until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while not (got := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return got


@pytest.fixture
def daemon(kit):
    procs = []

    def start():
        proc = kit.popen("run")
        procs.append(proc)
        wait_for(lambda: (kit.root / "locks" / "worker.lock").exists()
                 and proc.poll() is None, what="daemon start")
        time.sleep(0.5)
        return proc

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_cli_scan_goes_through_the_running_daemon(kit, daemon):
    kit.configure([sane_adf(), sane_adf(name="gone", device="test:9")])
    proc = daemon()
    r = kit.edge("scan", "--scanner", "adf", "--doc", "Giấy khai sinh", "--json")
    job = json.loads(r.stdout)
    assert r.returncode == 0 and job["state"] == "ready" and job["pages"] == 10
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    log = proc.stderr.read()
    assert f"job {job['job_id']} {job['ticket']} -> scanning" in log  # the daemon did the work
    assert "scanner gone (test:9) not found" in log  # absent at start: reported, not fatal
    assert "edge stopped" in log
    assert kit.edge("verify").returncode == 0


def test_sigterm_mid_scan_pauses_the_job_with_its_pages(kit, daemon):
    kit.configure([{"name": "sim", "driver": "sim", "dpi": 100,
                    "sim": {"sheets": 50, "page_delay": 0.1}}])
    proc = daemon()
    scan = kit.popen("scan", "--scanner", "sim", "--doc", "Tờ khai", "--json")
    wait_for(lambda: len(list((kit.root / "spool").rglob("p*.pdf"))) >= 2, what="pages")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    out, _ = scan.communicate(timeout=30)
    job = json.loads(out)
    assert scan.returncode == 3 and job["state"] == "paused" and 2 <= job["pages"] < 50
    assert "the service is stopping" in job["message"]


def test_second_daemon_refuses_to_start(kit, daemon):
    daemon()
    r = kit.edge("run", timeout=30)
    assert r.returncode == 1 and "another edge process" in r.stderr


def test_ctrl_c_on_a_cli_scan_pauses_it(kit):
    kit.configure([{"name": "sim", "driver": "sim", "dpi": 100,
                    "sim": {"sheets": 50, "page_delay": 0.1}}])
    scan = kit.popen("scan", "--scanner", "sim", "--doc", "Tờ khai", "--json")
    wait_for(lambda: len(list((kit.root / "spool").rglob("p*.pdf"))) >= 2, what="pages")
    scan.send_signal(signal.SIGINT)
    out, err = scan.communicate(timeout=30)
    job = json.loads(out)
    assert scan.returncode == 3 and job["state"] == "paused", err
    assert "stopping after the current page" in err


def test_a_cli_scan_stopped_and_continued_carries_on(kit):
    """SIGSTOP then SIGCONT (a debugger, a frozen cgroup) wakes sigtimedwait with signal 0:
    not a request to stop."""
    kit.configure([{"name": "sim", "driver": "sim", "dpi": 100,
                    "sim": {"sheets": 12, "page_delay": 0.1}}])
    scan = kit.popen("scan", "--scanner", "sim", "--doc", "Tờ khai", "--json")
    wait_for(lambda: len(list((kit.root / "spool").rglob("p*.pdf"))) >= 2, what="pages")
    scan.send_signal(signal.SIGSTOP)
    time.sleep(0.5)
    scan.send_signal(signal.SIGCONT)
    out, err = scan.communicate(timeout=120)
    job = json.loads(out)
    assert scan.returncode == 0 and job["state"] == "ready" and job["pages"] == 12, err
    assert "stopping" not in err
