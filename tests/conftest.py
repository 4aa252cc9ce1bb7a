"""Shared fixtures: a private SANE config with the real `test` and `pnm` backends, configs, CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# libsane reads SANE_CONFIG_DIR once, at sane_init(): set it before anything imports sane.
SANE_DIR = Path(tempfile.mkdtemp(prefix="edge-sane-"))
(SANE_DIR / "dll.conf").write_text("test\npnm\n")
os.environ["SANE_CONFIG_DIR"] = str(SANE_DIR)

ROOT = Path(__file__).resolve().parent.parent

# in-process SANE scans reset SIGPIPE to "terminate": tests writing to closed sockets afterwards
# must get EPIPE, as the service does (edge.daemon.guard_sigpipe)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPIPE})


def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f'"{k}" = {toml_value(x)}' for k, x in v.items()) + " }"
    return str(v)


def write_config(path: Path, root: Path, scanners: list[dict], **storage: object) -> Path:
    lines = ['[kit]', 'id = "PL01"', 'commune = "Phú Lạc"', "", "[storage]",
             f"root = {toml_value(str(root))}"]
    lines += [f"{k} = {toml_value(v)}" for k, v in storage.items()]
    for s in scanners:
        lines += ["", "[[scanner]]"]
        presets = s.pop("presets", {})
        lines += [f"{k} = {toml_value(v)}" for k, v in s.items()]
        for name, p in presets.items():
            lines.append(f"[scanner.presets.{name}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in p.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sane_adf(name: str = "adf", **extra: object) -> dict:
    """The SANE test backend as a 10-sheet colour ADF scanner."""
    options = {"test-picture": "Color pattern", **extra.pop("options", {})}
    return {"name": name, "driver": "sane", "device": "test:0", "source": "adf",
            "mode": "color", "dpi": 200, "options": options, **extra}


def sane_failing(status: str) -> dict[str, object]:
    """Test-backend options for a scanner that answers `status` (SANE_STATUS_...) to reads.

    Its reader thread sleeps before it writes, so it is asleep when the driver cancels it. The
    test backend's sane_cancel closes the pipe before it cancels the reader asynchronously: a
    reader blocked writing to that pipe wakes up, and may be cancelled inside strerror() or
    free() with a glibc lock held for ever (the process then hangs at exit, or when it next
    starts a thread: about 1 run in 20 on a loaded machine). No frontend can prevent that.
    """
    return {"read-return-value": status, "read-delay": True, "read-delay-duration": 200000}


@pytest.fixture
def kit(tmp_path):
    """A config with one SANE test-backend ADF scanner; returns a `Kit` helper."""
    return Kit(tmp_path)


class Kit:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.root = tmp / "data"
        self.config = tmp / "edge.toml"
        self.configure([sane_adf()])

    def configure(self, scanners: list[dict], **storage: object) -> Path:
        return write_config(self.config, self.root, scanners, **storage)

    def cfg(self):
        from edge import config

        return config.load(self.config)

    def edge(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "edge", "--config", str(self.config), *args],
                              capture_output=True, text=True, timeout=timeout, env=os.environ)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "edge", "--config", str(self.config),
                                 *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=os.environ)

    def outbox_files(self) -> list[Path]:
        return sorted(p for p in (self.root / "outbox").rglob("*") if p.is_file())


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL 15 cluster for the whole session (tests/fleet_postgres.py)."""
    from .fleet_postgres import Postgres

    pg = Postgres().start()
    yield pg
    pg.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def fleet_db(request, tmp_path) -> str:
    """Where `edge fleet` stores: a SQLite file, or a fresh database on the test PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "fleet.db")
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def cleanup():
    """Closes subscribers, stops telemetry threads and kills processes a test leaves behind."""
    things: list = []
    yield things.append
    for t in reversed(things):
        t.kill() if hasattr(t, "kill") else t.close()
