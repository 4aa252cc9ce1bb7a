"""scripts/demo.sh, as a newcomer stops it: Ctrl-C (SIGINT to the terminal's process group) or
`kill` of the script (SIGINT or SIGTERM to it alone) leaves no `edge run` or `edge web` behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import ROOT
from .peers import free_port
from .web_browser import wait_port


def in_session(sid: int) -> list[str]:
    """The command lines of every process of session `sid` (the script's own)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid:
            out.append(cmd)
    return out


def terminal_signals() -> None:
    """SIGINT as a terminal gives it: a runner started in the background (`cmd &` in a script)
    ignores SIGINT, its children inherit that, and bash cannot trap a signal ignored at entry."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def demo_config(tmp_path) -> Path:
    """config/demo.toml with a throwaway root and a free port."""
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^root = ".*"$', f'root = "{tmp_path / "data"}"', text)
    text = re.sub(r"(?m)^port = 8080$", f"port = {free_port()}", text)
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("target, sig", [("group", signal.SIGINT), ("script", signal.SIGINT),
                                         ("script", signal.SIGTERM)])
def test_stopping_the_demo_leaves_no_process_behind(demo_config, tmp_path, target, sig):
    port = int(re.search(r"(?m)^port = (\d+)$", demo_config.read_text()).group(1))
    script = subprocess.Popen([str(ROOT / "scripts" / "demo.sh")], cwd=ROOT, text=True,
                              env={**os.environ, "EDGE_CONFIG": str(demo_config)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True, preexec_fn=terminal_signals)
    try:
        wait_port(port, script, 120)
        deadline = time.monotonic() + 60
        while not (tmp_path / "data" / "locks" / "worker.lock").exists():
            assert script.poll() is None and time.monotonic() < deadline, script.stderr.read()
            time.sleep(0.1)
        running = in_session(script.pid)
        assert any(" run" in c for c in running) and any(" web" in c for c in running), running
        if target == "group":  # what Ctrl-C in the terminal does
            os.killpg(script.pid, sig)
        else:
            script.send_signal(sig)
        try:
            script.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"demo.sh still runs 60 s after {sig!r}: {in_session(script.pid)}")
        deadline = time.monotonic() + 30
        while in_session(script.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert in_session(script.pid) == []
    finally:
        if in_session(script.pid):
            os.killpg(script.pid, signal.SIGKILL)
