"""Scanner buttons: found and read on the real SANE test backend; presses start one job each.

The last test presses a real button: the service polls the `edgebutton` SANE backend
(tests/sane_button_backend.c) through libsane and python-sane, and scans from it.
"""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pikepdf
import pytest

from edge import buttons
from edge.buttons import BUTTON_DOC
from edge.drivers.scanner import settings as config
from edge.pipeline.job import SETTLED, State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage

from . import sane_button
from .peers import stop, wait_until


def test_the_test_backends_button_option_is_found_and_read(tmp_path):
    (tmp_path / "dll.conf").write_text("test\n")
    (tmp_path / "test.conf").write_text("enable-test-options true\n")
    script = ("import json, sane; from edge import buttons; "
              "from edge.drivers.scanner import settings as config; sane.init(); "
              "named = {'bool-hard-select-soft-detect': ''}; "
              "r = [buttons.sane_reader(config.Scanner(name='t', driver='sane', "
              "device='test:0', buttons=b)) for b in (named, {})]; "
              "print(json.dumps([r[0](), r[0](), r[1]()]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={"SANE_CONFIG_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
                         check=True, timeout=60).stdout
    first, second, unnamed = json.loads(out)
    # bool + hard-select + soft-detect is a button; soft-select ones are settings, not buttons
    assert first == second == {"bool-hard-select-soft-detect": False}
    assert unnamed == {}  # by default only well-known button names: not every sensor is one


def test_is_button_follows_sane_capabilities():
    assert buttons.is_button(0, buttons.HARD_SELECT | buttons.SOFT_DETECT)
    assert not buttons.is_button(0, buttons.SOFT_SELECT | buttons.SOFT_DETECT)
    assert not buttons.is_button(0, buttons.HARD_SELECT | buttons.SOFT_DETECT | buttons.INACTIVE)
    assert not buttons.is_button(1, buttons.HARD_SELECT | buttons.SOFT_DETECT)  # an int


@pytest.fixture
def poller(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(buttons.time, "monotonic", lambda: clock[0])
    states: list[dict[str, bool]] = []
    started: list[str] = []
    busy = [False]
    s = config.Scanner(name="fi7160", driver="sane", device="fujitsu:x",
                       presets={"ks": config.Preset(doc="Giấy khai sinh")},
                       buttons={"email": "ks"})
    p = buttons.ButtonPoller(s, lambda: states.pop(0), started.append, lambda: busy[0],
                             threading.Event())
    return p, states, started, busy, clock


def test_one_job_per_press_debounced_and_mapped_to_presets(poller):
    p, states, started, _busy, clock = poller
    states += [{"scan": False, "email": False}, {"scan": True, "email": False}]
    assert p.poll_once() is None and p.poll_once() == "scan" and started == [""]
    states.append({"scan": True, "email": False})  # still held: not a new press
    assert p.poll_once() is None
    states += [{"scan": False, "email": False}, {"scan": True, "email": False}]
    clock[0] += 0.5
    p.poll_once()
    assert p.poll_once() is None  # a bounce half a second later
    states += [{"scan": False, "email": False}, {"scan": False, "email": True}]
    clock[0] += 5
    p.poll_once()
    assert p.poll_once() == "email" and started == ["", "ks"]


def test_no_polling_while_the_scanner_is_busy_and_no_press_then(poller):
    p, states, started, busy, clock = poller
    states.append({"scan": True})
    assert p.poll_once() == "scan"
    busy[0] = True
    assert p.poll_once() is None  # the reader was not called: `states` is empty
    busy[0] = False
    clock[0] += 5
    states += [{"scan": True}, {"scan": False}, {"scan": True}]
    assert p.poll_once() is None  # still down when the job ends: held, or pressed meanwhile
    assert p.poll_once() is None and p.poll_once() == "scan" and started == ["", ""]


def test_a_failed_read_is_no_release(poller):
    p, states, started, _busy, clock = poller
    p.read = lambda: states.pop(0)
    states += [{"scan": True}, None, {"scan": True}]
    assert p.poll_once() == "scan"
    clock[0] += 5
    assert p.poll_once() is None and p.poll_once() is None and started == [""]


def test_a_press_never_adds_to_a_paused_job(tmp_path):
    s = config.Scanner(name="a", driver="sane", device="fujitsu:x",
                       presets={"ks": config.Preset(doc="Giấy khai sinh")})
    with Queue(tmp_path / "queue.db") as queue:
        jammed = queue.create(kit="PL01", doc="Tờ khai", scanner="a", preset="")
        queue.transition(jammed.id, State.SCANNING)
        queue.transition(jammed.id, State.PAUSED, "paper jam")
        new = buttons.button_job(queue, "PL01", s, "ks")
        assert new.id != jammed.id and new.doc == "Giấy khai sinh"
        assert queue.get(jammed.id).state is State.PAUSED  # left for staff to resume or finish
        assert buttons.button_job(queue, "PL01", s, "").doc == buttons.BUTTON_DOC


def test_a_button_mapped_to_an_unknown_preset_is_a_config_error(kit):
    kit.configure([{"name": "s", "driver": "sim", "buttons": {"scan": "nope"}}])
    r = kit.edge("check-config")
    assert r.returncode == 2 and "scanner[0].buttons.scan" in r.stderr


def test_queue_busy_is_true_only_while_a_job_of_that_scanner_is_active(tmp_path):
    with Queue(tmp_path / "queue.db") as queue:
        job = queue.create(kit="PL01", doc="Tờ khai", scanner="a", preset="")
        assert queue.busy("a") and not queue.busy("b")
        queue.transition(job.id, State.SCANNING)
        assert queue.busy("a")
        queue.transition(job.id, State.FAILED)
        assert not queue.busy("a")


# --- a real press, through libsane, python-sane and the running service ---------------------

HELD_POLLS = 3  # polls to watch before deciding that something did not happen


@pytest.fixture
def button_scanner(kit, tmp_path, monkeypatch):
    """The edgebutton SANE backend, built for this test; the service run by `kit` sees it."""
    why = sane_button.missing()
    if why:
        pytest.skip(f"cannot build the SANE test backend with a pressable button: {why}")
    scanner = sane_button.ButtonScanner(tmp_path / "edgebutton", sheets=2)
    for name, value in scanner.env.items():
        monkeypatch.setenv(name, value)
    kit.configure([{"name": "eb", "driver": "sane", "device": scanner.device, "source": "adf",
                    "mode": "gray", "dpi": 100, "page_width_mm": 148, "page_height_mm": 210}])
    return scanner


@pytest.fixture
def service(kit, tmp_path, button_scanner):
    """`edge run` as a real process, its log in a file; stopped with SIGTERM at the end."""
    log = tmp_path / "edge.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "edge", "--config", str(kit.config), "run"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_until(lambda: "edge running" in log.read_text() or proc.poll() is not None, 60,
                   "the service to start")
        assert proc.poll() is None, log.read_text()
        with Queue(Storage(kit.root).db) as queue:
            yield queue, log
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()
    finally:
        stop(proc)


def wait_for_polls(scanner, n=HELD_POLLS):
    start = scanner.reads()
    wait_until(lambda: scanner.reads() >= start + n, 30, f"{n} button polls")


def wait_for_settled(queue, count):
    wait_until(lambda: len(queue.jobs()) == count and all(
        j.state in SETTLED for j in queue.jobs()), 60, f"{count} job(s) to finish")


def check_pdf(job, pages):
    assert job.state == State.READY, job.message
    assert job.pages == pages and job.scanner == "eb" and job.doc == BUTTON_DOC
    pdf = Path(job.pdf)
    assert pdf.name.startswith(f"{job.ticket}_") and job.ticket
    subprocess.run(["qpdf", "--check", str(pdf)], check=True, capture_output=True, timeout=60)
    with pikepdf.open(pdf) as doc:
        assert len(doc.pages) == pages
        width_mm = float(doc.pages[0].mediabox[2]) / 72 * 25.4
        assert abs(width_mm - 148) < 1  # the A5 sheet the backend feeds, at the right dpi


def test_each_press_of_the_scanner_button_scans_one_batch(button_scanner, service):
    scanner, (queue, log) = button_scanner, service
    wait_for_polls(scanner)
    # the feeder's paper sensor (page-loaded, also bool + hard-select + soft-detect) is no button
    assert queue.jobs() == []

    scanner.press()
    wait_for_settled(queue, 1)
    (first,) = queue.jobs()
    check_pdf(first, pages=2)
    wait_for_polls(scanner)  # held through the whole job and after it: still one press
    assert len(queue.jobs()) == 1
    scanner.release()
    wait_until(lambda: scanner.events()[-1] == "scan=0", 30, "the release to be seen")

    with scanner.feeder_held():
        scanner.press()  # a second press after the release: a second batch
        wait_until(lambda: "gate" in scanner.events(), 30, "the second scan to start")
        polls = scanner.reads()
        scanner.release()
        time.sleep(HELD_POLLS * buttons.POLL_SECONDS)
        scanner.press()  # pressed while that scan runs: not even looked at...
        time.sleep(HELD_POLLS * buttons.POLL_SECONDS)
        assert scanner.reads() == polls and len(queue.jobs()) == 2
        assert queue.jobs()[1].state == State.SCANNING
    wait_for_settled(queue, 2)
    check_pdf(queue.jobs()[1], pages=2)
    wait_for_polls(scanner)  # ...nor once it is over, though still held
    assert len(queue.jobs()) == 2
    scanner.release()
    assert log.read_text().count("button scan pressed") == 2
