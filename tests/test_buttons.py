"""Scanner buttons: found and read on the real SANE test backend; presses start one job each."""

import json
import subprocess
import sys
import threading

import pytest

from edge import buttons, config


def test_the_test_backends_button_option_is_found_and_read(tmp_path):
    (tmp_path / "dll.conf").write_text("test\n")
    (tmp_path / "test.conf").write_text("enable-test-options true\n")
    script = ("import json, sane; from edge import buttons, config; sane.init(); "
              "s = config.Scanner(name='t', driver='sane', device='test:0'); "
              "r = buttons.sane_reader(s); print(json.dumps([r(), r()]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={"SANE_CONFIG_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
                         check=True, timeout=60).stdout
    first, second = json.loads(out)
    # bool + hard-select + soft-detect is a button; soft-select ones are settings, not buttons
    assert first == second == {"bool-hard-select-soft-detect": False}


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


def test_no_polling_while_the_scanner_is_busy(poller):
    p, states, _started, busy, clock = poller
    busy[0] = True
    assert p.poll_once() is None  # the reader was not called: `states` is empty
    busy[0] = False
    states.append({"scan": True})
    clock[0] += 5
    assert p.poll_once() == "scan"  # held since the job: counts as a press once it is over


def test_a_button_mapped_to_an_unknown_preset_is_a_config_error(kit):
    kit.configure([{"name": "s", "driver": "sim", "buttons": {"scan": "nope"}}])
    r = kit.edge("check-config")
    assert r.returncode == 2 and "scanner[0].buttons.scan" in r.stderr


def test_queue_busy_is_true_only_while_a_job_of_that_scanner_is_active(tmp_path):
    from edge.pipeline.job import State
    from edge.pipeline.queue import Queue

    with Queue(tmp_path / "queue.db") as queue:
        job = queue.create(kit="PL01", doc="Tờ khai", scanner="a", preset="")
        assert queue.busy("a") and not queue.busy("b")
        queue.transition(job.id, State.SCANNING)
        assert queue.busy("a")
        queue.transition(job.id, State.FAILED)
        assert not queue.busy("a")
