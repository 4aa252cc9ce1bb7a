"""Release bundles and updates with real parts: bundles built from a git repository whose tags
give the versions, signed with minisign, installed by their own install.sh --stage into venvs,
and `edge run` of the `current` release kept by tests/supervisor.py (systemd's stand-in here:
READY=1, Restart=on-failure, WatchdogSec) that `edge update` stops, starts and watches."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import pytest

from edge.release import build, bundle

from .conftest import ROOT, sane_adf, write_config

SUPERVISOR = Path(__file__).with_name("supervisor.py")
SCAN = ("scan", "--scanner", "adf", "--doc", "Giấy khai sinh", "--json")
# bundles are built from a git repository and each update installs a virtualenv: minutes
pytestmark = pytest.mark.timeout(2400)
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org",
       "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]
# a schema change for the release after the first (the round trip needs one)
MIGRATION = ("edge/pipeline/queue.py", "\n]\nDB_FILES",  # the end of MIGRATIONS
             '\n    ("jobs", "update_probe", "TEXT NOT NULL DEFAULT \'\'"),\n]\nDB_FILES')
# a release that migrates the queue, then dies before READY=1 (as a broken release would)
CRASH = ("edge/cli.py", "    d = daemon.Daemon(cfg)\n    d.block_signals()\n",
         "    Queue(cfg.storage.root / 'queue.db').close()\n    raise SystemExit(70)\n")


def run(*argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    assert r.returncode == 0, (argv, r.stdout, r.stderr)
    return r


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    for name in ("province", "stranger"):
        run("minisign", "-G", "-W", "-p", str(d / f"{name}.pub"), "-s", str(d / f"{name}.key"))
    return {name: (d / f"{name}.key", (d / f"{name}.pub").read_text().splitlines()[1])
            for name in ("province", "stranger")}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, keys):
    """{version: bundle} for 0.1.0 (this checkout), 0.2.0 (+ a queue migration) and 0.2.1 (the
    migration, and a crash at start), each version from its git tag."""
    tmp = tmp_path_factory.mktemp("bundles")
    repo = tmp / "repo"
    repo.mkdir()
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                 cwd=ROOT).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    deps = tmp / "deps"
    build.gather(build.ARCH_OF_MACHINE, deps)
    run("git", "init", "-q", cwd=repo)
    out = {}
    for version, patch in (("0.1.0", None), ("0.2.0", MIGRATION), ("0.2.1", CRASH)):
        if patch:
            path, old, new = patch
            text = (repo / path).read_text()
            assert old in text, f"{path} changed: update the test's patch"
            (repo / path).write_text(text.replace(old, new))
        run(*GIT, "add", "-A", cwd=repo)
        run(*GIT, "commit", "-q", "-m", version, cwd=repo)
        run(*GIT, "tag", "-a", f"v{version}", "-m", version, cwd=repo)
        wheels = tmp / f"wheels-{version}"
        wheel = build.edge_wheel(wheels, repo)
        assert wheel.name.startswith(f"edge-{version}-")  # the version is the tag's
        files = {name: repo / name for name in build.PAYLOAD}
        files[f"wheels/{wheel.name}"] = wheel
        files.update({f"wheels/{w.name}": w for w in deps.iterdir()})
        out[version] = bundle.write(tmp / bundle.name_of(version, "amd64"), version, "amd64",
                                    files, keys["province"][0])
    return out


class Kit:
    """A kit with its release prefix, data, config and the service manager's stand-in."""

    def __init__(self, tmp: Path, public_key: str, scanner: dict, mqtt: bool = False):
        self.prefix, self.data = tmp / "opt", tmp / "data"
        self.sockets = Path(tempfile.mkdtemp(prefix="sv"))  # a socket path has 108 bytes
        self.socket = str(self.sockets / "s")
        self.config = write_config(tmp / "edge.toml", self.data, [scanner])
        self.config.write_text(self.config.read_text() + "\n[update]\n" + "\n".join([
            f'public_key = "{public_key}"', f'prefix = "{self.prefix}"',
            "service_command = "
            + json.dumps([sys.executable, str(SUPERVISOR), "ctl", self.socket]),
            "ready_seconds = 300", "watch_seconds = 4"]) + "\n"
            # events wait in the telemetry outbox for a broker (none here)
            + ('\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\n' if mqtt else ""))
        self.supervisor: subprocess.Popen | None = None

    def start_supervisor(self, watchdog_sec: float = 60) -> None:
        self.supervisor = subprocess.Popen([sys.executable, str(SUPERVISOR), "serve", self.socket,
                                            str(self.prefix), str(self.config),
                                            "--watchdog-sec", str(watchdog_sec)])
        deadline = time.monotonic() + 60
        while not Path(self.socket).exists():
            assert time.monotonic() < deadline and self.supervisor.poll() is None
            time.sleep(0.1)

    def update(self, source: Path, **kw) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "edge", "--config", str(self.config),
                               "update", str(source)], capture_output=True, text=True,
                              timeout=1200, **kw)

    def edge(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The `edge` command of the current release."""
        return run(str(self.prefix / "current/venv/bin/edge"), "--config", str(self.config),
                   *args, timeout=300)

    def current(self) -> str:
        return os.readlink(self.prefix / "current")

    def status(self) -> dict:
        return json.loads(run(sys.executable, str(SUPERVISOR), "ctl", self.socket,
                              "status").stdout)

    def journal(self) -> list[dict]:
        return [json.loads(line) for line in Path(self.socket + ".journal").read_text()
                .splitlines()]

    def columns(self) -> set[str]:
        with sqlite3.connect(self.data / "queue.db") as c:
            return {r[1] for r in c.execute("PRAGMA table_info(jobs)")}

    def close(self) -> None:
        if self.supervisor:
            self.supervisor.terminate()
            self.supervisor.wait(120)
        shutil.rmtree(self.sockets, ignore_errors=True)


@pytest.fixture
def make_kit(tmp_path, keys):
    made = []

    def make(scanner: dict | None = None, key: str = "province", mqtt: bool = False) -> Kit:
        (tmp_path / f"kit{len(made)}").mkdir()
        made.append(Kit(tmp_path / f"kit{len(made)}", keys[key][1], scanner or sane_adf(options={
            "test-picture": "Color pattern"}), mqtt))
        return made[-1]

    yield make
    for k in made:
        k.close()


def flip(path: Path, member: str, where: float = 0.5) -> None:
    """One byte of a member's data turned over, in place."""
    with tarfile.open(path) as tar:
        info = tar.getmember(member)
    offset = info.offset_data + int(info.size * where)
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0x01]))


def test_a_flipped_byte_or_another_key_is_refused_before_anything_is_unpacked(
        bundles, keys, make_kit, tmp_path):
    good = bundles["0.1.0"]
    with tarfile.open(good) as tar:
        wheel = next(n for n in tar.getnames() if n.startswith("wheels/numpy-"))
    cases = {"a byte of a wheel": (wheel, "province", "does not match its SHA-256"),
             "a byte of install.sh": ("install.sh", "province", "does not match its SHA-256"),
             "a byte of the manifest": (bundle.MANIFEST, "province", "signature does not match"),
             "a byte of the signature": (bundle.SIGNATURE, "province", "signature"),
             "signed by another key": (None, "stranger", "signed with another key")}
    for case, (member, key, why) in cases.items():
        kit = make_kit(key=key, mqtt=True)
        copy = tmp_path / f"{case}.tar"
        shutil.copy(good, copy)
        if member:
            flip(copy, member, 0.9 if member == bundle.SIGNATURE else 0.5)
        r = kit.update(copy)
        assert r.returncode == 1, (case, r.stdout, r.stderr)
        assert "the update bundle was refused" in r.stderr and why in r.stderr, (case, r.stderr)
        assert not kit.prefix.exists(), f"{case}: something was unpacked"
        event = update_events(kit)[-1]
        assert event["type"] == "update/refused" and event["data"]["from"] == "none"
        assert why in event["data"]["reason"]
        kit.close()
    # the same bundle, untouched, with the right key: verified
    assert bundle.verify(good, keys["province"][1]).version == "0.1.0"


def test_a_release_that_crashes_at_start_rolls_back_and_the_schema_round_trips(bundles, make_kit):
    kit = make_kit()
    kit.start_supervisor()
    r = kit.update(bundles["0.1.0"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert kit.current() == "releases/0.1.0" and kit.status()["state"] == "active"
    assert kit.edge("--version").stdout.strip() == "edge 0.1.0"
    job = json.loads(kit.edge(*SCAN).stdout)
    assert job["state"] == "ready" and job["pages"] == 10
    assert "update_probe" not in kit.columns()

    # 0.2.1 migrates the queue forward, then dies before READY=1, again after each restart
    r = kit.update(bundles["0.2.1"])
    assert r.returncode == 1 and "rolling back to 0.1.0" in r.stdout, r.stdout + r.stderr
    assert "0.1.0 runs again" in r.stderr
    assert kit.current() == "releases/0.1.0" and kit.status()["state"] == "active"
    started = [e["release"] for e in kit.journal() if e["event"] == "start"]
    assert "releases/0.2.1" in started and started[-1] == "releases/0.1.0"
    assert any(e["event"] == "exit" and e["code"] == 70 for e in kit.journal())
    assert "update_probe" not in kit.columns()  # the copy kept before the update is back
    jobs = json.loads(kit.edge("jobs", "--json").stdout)
    assert [(j["job_id"], j["state"], j["pages"]) for j in jobs] == [(job["job_id"], "ready", 10)]
    assert kit.edge("verify").returncode == 0

    # upgrade again, to a release with the same migration that runs: the schema goes forward
    r = kit.update(bundles["0.2.0"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert kit.current() == "releases/0.2.0" and kit.status()["state"] == "active"
    assert "update_probe" in kit.columns()
    assert [j["job_id"] for j in json.loads(kit.edge("jobs", "--json").stdout)] == [job["job_id"]]
    assert (kit.data / "queue.db.before-0.2.0").exists()
    assert sorted(p.name for p in (kit.prefix / "releases").iterdir()) == \
        ["0.1.0", "0.2.0", "0.2.1"]


def test_a_bundle_fetched_from_the_commune_server_over_https_installs(bundles, make_kit,
                                                                      tmp_path):
    from .commune_https import CommuneServer

    kit = make_kit()
    kit.start_supervisor()
    with CommuneServer(bundles["0.1.0"].parent, tmp_path / "certs") as server:
        kit.config.write_text(kit.config.read_text().replace(
            "[update]\n", f'[update]\nca_file = "{server.ca}"\n'))
        r = kit.update(f"{server.url}/edge-0.1.0-{{arch}}.tar")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "bundle 0.1.0 (amd64) verified" in r.stdout
    assert kit.current() == "releases/0.1.0" and kit.status()["state"] == "active"
    assert not (kit.data / "updates" / "download.tar").exists()  # unpacked, then removed
    assert kit.edge("--version").stdout.strip() == "edge 0.1.0"


def test_an_update_requested_during_a_scan_waits_until_the_scan_ends(bundles, make_kit):
    kit = make_kit(sane_adf(options={"test-picture": "Color pattern", "read-limit": True,
                                     "read-limit-size": 65536, "read-delay": True,
                                     "read-delay-duration": 4000}))
    kit.start_supervisor(watchdog_sec=3600)  # the service is held still for minutes below
    assert kit.update(bundles["0.1.0"]).returncode == 0
    ready_at = [e for e in kit.journal() if e["event"] == "ready"][-1]
    scan = subprocess.Popen([str(kit.prefix / "current/venv/bin/edge"), "--config",
                             str(kit.config), *SCAN],
                            stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while scanning(kit) == 0:
            assert time.monotonic() < deadline and scan.poll() is None, "the scan did not start"
            time.sleep(0.1)
        # the service scans it (`edge scan` follows the job the running service took): the
        # service holds still mid-scan (SIGSTOP, a very slow scanner) until the update waits
        service = int(kit.status()["instance"].split("/")[0])
        os.kill(service, signal.SIGSTOP)
        update = subprocess.Popen([sys.executable, "-m", "edge", "--config", str(kit.config),
                                   "update", str(bundles["0.2.0"])],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        said = []
        while not said or not said[-1].startswith("edge: waiting"):
            said.append(update.stdout.readline())
            assert said[-1], ("the update ended without waiting", said, update.stderr.read())
        assert "waiting: 1 scan(s) running" in said[-1]
        assert [e["event"] for e in kit.journal()][-1] == "ready"  # not stopped
        assert kit.current() == "releases/0.1.0"
        os.kill(service, signal.SIGCONT)
        out, err = update.communicate(timeout=1200)
        job = json.loads(scan.communicate(timeout=600)[0])
    finally:
        scan.kill()
    assert update.returncode == 0, out + err
    assert job["state"] == "ready" and job["pages"] == 10  # not paused by a restart
    stops = [e for e in kit.journal() if e["event"] == "stop" and e["ts"] > ready_at["ts"]]
    assert stops and stops[0]["ts"] >= job["updated"]  # the service stopped after the scan ended
    assert kit.current() == "releases/0.2.0"


def update_events(kit: Kit) -> list[dict]:
    """The update/* events waiting in the kit's telemetry outbox, checked against the schema."""
    from jsonschema import Draft202012Validator

    schema = json.loads((ROOT / "docs/schemas/event.schema.json").read_text())
    with sqlite3.connect(kit.data / "telemetry.db") as c:
        rows = c.execute("SELECT payload FROM outbox WHERE kind = 'event' ORDER BY id").fetchall()
    events = [json.loads(p) for (p,) in rows]
    for e in events:
        Draft202012Validator(schema).validate(e)
    return [e for e in events if e["type"].startswith("update/")]


def scanning(kit: Kit) -> int:
    if not (kit.data / "queue.db").exists():
        return 0
    with sqlite3.connect(kit.data / "queue.db") as c:
        return c.execute("SELECT COUNT(*) FROM jobs WHERE state = 'scanning'").fetchone()[0]


def test_an_update_waits_for_a_delivery_pass_and_no_pass_starts_until_the_service_is_stopped(
        tmp_path):
    from types import SimpleNamespace

    from edge.pipeline.lock import delivery_pass
    from edge.release.update import no_delivery

    locks = tmp_path / "locks"
    locks.mkdir()
    # the service in the middle of a delivery pass: another process holds the pass lock
    service = subprocess.Popen(["flock", str(locks / "delivery-pass.lock"), "-c",
                                "echo sending; read line"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert service.stdout.readline() == "sending\n"
    said: list[str] = []
    inside = threading.Event()
    leave = threading.Event()

    def update() -> None:
        with no_delivery(SimpleNamespace(storage=SimpleNamespace(root=tmp_path)), said.append):
            inside.set()
            leave.wait(60)

    t = threading.Thread(target=update)
    t.start()
    try:
        deadline = time.monotonic() + 30
        while not said:
            assert time.monotonic() < deadline, "the update did not say it waits"
            time.sleep(0.05)
        assert "files are being sent" in said[0] and not inside.is_set()
        service.communicate("done\n", timeout=30)  # the pass ends
        assert inside.wait(30), "the update did not go on after the pass"
        with delivery_pass(locks, wait=0) as mine:  # the service's next pass is skipped
            assert not mine
    finally:
        leave.set()
        t.join(30)
        service.kill()
    with delivery_pass(locks, wait=0) as mine:
        assert mine
