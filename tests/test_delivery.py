"""Delivery off the kit (issue 17) against real servers on loopback: a file:// disk, OpenSSH's
sftp, a WebDAV server and Samba; files and sidecars arrive and `sha256sum -c` passes there, a
rename is delivered as a rename, a server stopped mid-transfer ends with every file once and no
partial file under a final name, a wrong password is reported and retried with backoff."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from edge import config
from edge.delivery.engine import Deliverer, reason_code
from edge.delivery.store import Store
from edge.pipeline import dossiers
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.pipeline.worker import Worker

from .conftest import toml_value
from .delivery_peers import PeerError, SmbServer, SshServer, WebdavServer

CODE = "000.00.04.H40-230414-0002"


def sim(sheets: int = 1) -> dict:
    return {"name": "sim", "driver": "sim", "source": "adf", "dpi": 100,
            "sim": {"sheets": sheets, "page_delay": 0.0}}


def configure(kit, targets: list[dict], sheets: int = 1, **storage: object) -> config.Config:
    kit.configure([sim(sheets)], **storage)
    lines = []
    for t in targets:
        lines += ["", "[[delivery]]"] + [f"{k} = {toml_value(v)}" for k, v in t.items()]
    with kit.config.open("a") as f:
        f.write("\n".join(lines) + "\n")
    return kit.cfg()


def open_queue(cfg: config.Config) -> Queue:
    storage = Storage(cfg.storage.root)
    storage.prepare()
    return Queue(storage.db)


def scan(cfg: config.Config, queue: Queue, doc: str = "Giấy khai sinh", **where: object):
    storage = Storage(cfg.storage.root)
    job = queue.create(kit=cfg.kit.id, doc=doc, scanner="sim", preset="", **where)
    return Worker(cfg, storage, queue, cfg.scanner[0]).run(job)


def files_under(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def check_dossier_folder(folder: Path, names: list[str]) -> dict:
    """Every file with its sidecar and the manifest; `sha256sum -c` passes in the folder."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*names, *(n + ".sha256" for n in names), "manifest.json"])
    done = subprocess.run(["sha256sum", "-c", *(n + ".sha256" for n in names)], cwd=folder,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((folder / "manifest.json").read_text())


def deliver(cfg: config.Config, queue: Queue) -> int:
    d = Deliverer(cfg)
    try:
        with Store(cfg.storage.root) as store:
            return d.run_once(queue, store)
    finally:
        d.close()


def roundtrip(kit, target: dict, dest: Path) -> None:
    """Two documents of one dossier arrive, then the dossier's code moves them on the server."""
    cfg = configure(kit, [target])
    with open_queue(cfg) as queue:
        first = scan(cfg, queue)
        second = scan(cfg, queue, doc="CCCD", ticket=first.ticket)
        assert deliver(cfg, queue) == 5  # 2 files, 2 sidecars, the manifest
        day = time.strftime("%Y-%m-%d", time.localtime(first.created))
        folder = dest / "PL01" / day / first.ticket
        names = [Path(j.pdf).name for j in (first, second)]
        manifest = check_dossier_folder(folder, names)
        assert [d["seq"] for d in manifest["documents"]] == [1, 2]
        assert manifest["code"] is None
        dossiers.rename(cfg, Storage(cfg.storage.root), queue, first.ticket, CODE)
        assert deliver(cfg, queue) == 5
        renamed = dest / "PL01" / day / CODE
        new_names = [Path(j.pdf).name for j in queue.dossier(first.ticket)]
        assert all(n.startswith(CODE) for n in new_names)
        assert check_dossier_folder(renamed, new_names)["code"] == CODE
        assert not folder.exists(), "the old folder under the ticket is left behind"
        assert not [p for p in dest.rglob("*") if ".partial-edge" in p.name]
        assert deliver(cfg, queue) == 0


def test_file_target_delivers_a_dossier_and_its_rename(kit, tmp_path):
    dest = tmp_path / "usb"
    roundtrip(kit, {"name": "usb", "url": f"file://{dest}"}, dest)


def test_sftp_target_delivers_a_dossier_and_its_rename(kit, tmp_path):
    with SshServer(tmp_path / "ssh") as server:
        roundtrip(kit, {"name": "office", "url": server.url(),
                        "credentials": str(server.credentials())}, server.root)


def test_webdav_target_delivers_a_dossier_and_its_rename(kit, tmp_path):
    with WebdavServer(tmp_path / "dav") as server:
        roundtrip(kit, {"name": "nextcloud", "url": server.url(),
                        "credentials": str(server.credentials())}, server.root)


def test_smb_target_delivers_a_dossier_and_its_rename(kit, tmp_path):
    try:
        server = SmbServer(tmp_path / "smb")
    except PeerError as e:
        pytest.skip(str(e))
    with server:
        roundtrip(kit, {"name": "nas", "url": server.url(),
                        "credentials": str(server.credentials())}, server.dest)


WRONG = "Wr0ng-Passw0rd-17"


def test_a_wrong_password_is_reported_and_retried_with_backoff_not_a_busy_loop(kit, tmp_path,
                                                                                caplog):
    with WebdavServer(tmp_path / "dav") as server:
        creds = server.credentials(password=WRONG)
        cfg = configure(kit, [{"name": "office", "url": server.url(), "credentials": str(creds),
                               "retry_min_seconds": 30, "retry_max_seconds": 100}])
        with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
            job = scan(cfg, queue)
            d = Deliverer(cfg)
            try:
                assert d.run_once(queue, store) == 0
                st = store.target("office")
                assert st.attempts == 1
                assert "refused the login" in st.error and str(creds) in st.error
                assert "mật khẩu" in st.error_vi
                first = st.next_try
                assert first >= time.time() + 25
                for _ in range(5):  # passes before the backoff ends do nothing
                    assert d.run_once(queue, store) == 0
                assert store.target("office").attempts == 1
                d.run_once(queue, store, now=first + 1)
                assert store.target("office").attempts == 2
                assert store.target("office").next_try == first + 1 + 60  # doubled
                d.run_once(queue, store, now=first + 1000)
                assert store.target("office").next_try == first + 1000 + 100  # capped

                status = kit.edge("delivery", "status")
                assert status.returncode == 1
                assert "office" in status.stdout and "failing" in status.stdout
                assert "refused the login" in status.stdout

                server.credentials()  # the technician fixes the password
                assert kit.edge("delivery", "retry").returncode == 0
                assert d.run_once(queue, store) == 3
                assert store.target("office").error == ""
            finally:
                d.close()
        folder = server.root / "PL01" / time.strftime("%Y-%m-%d") / job.ticket
        check_dossier_folder(folder, [Path(job.pdf).name])
        assert kit.edge("delivery", "status").returncode == 0
    conf = cfg.runtime_dir / "delivery" / "rclone-office.conf"
    assert conf.stat().st_mode & 0o777 == 0o600
    assert WRONG not in conf.read_text() and WRONG not in caplog.text
    assert WRONG not in status.stdout + status.stderr


def make_server(kind: str, tmp_path: Path):
    if kind == "sftp":
        return SshServer(tmp_path / "ssh")
    if kind == "webdav":
        return WebdavServer(tmp_path / "dav")
    try:
        return SmbServer(tmp_path / "smb")
    except PeerError as e:
        pytest.skip(str(e))


@pytest.mark.parametrize("kind", ["sftp", "webdav", "smb"])
def test_a_server_stopped_mid_transfer_ends_with_every_file_once(kit, tmp_path, kind):
    with make_server(kind, tmp_path) as server:
        dest = getattr(server, "dest", server.root)
        cfg = configure(kit, [{"name": "office", "url": server.url(), "bwlimit": "40K",
                               "credentials": str(server.credentials()),
                               "timeout_seconds": 5}], sheets=6)
        with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
            job = scan(cfg, queue)
            assert job.bytes > 150_000  # several seconds at 40 KB/s
            d = Deliverer(cfg)
            try:
                results: list[int] = []

                def one_pass() -> None:  # its own connections: SQLite's stay in their thread
                    with open_queue(cfg) as q, Store(cfg.storage.root) as s:
                        results.append(d.run_once(q, s))

                first = threading.Thread(target=one_pass)
                first.start()
                wait_for_partial(dest)
                server.stop()
                first.join(60)
                assert results == [0]
                assert "cannot reach" in store.target("office").error
                final = [p for p in dest.rglob("*.pdf") if ".partial-" not in p.name]
                assert final == [], "a partial file sits under its final name"
                server.start()
                store.retry_now()
                assert d.run_once(queue, store) == 3
            finally:
                d.close()
        folder = dest / "PL01" / time.strftime("%Y-%m-%d") / job.ticket
        check_dossier_folder(folder, [Path(job.pdf).name])
        assert not [p for p in dest.rglob("*") if ".partial-edge" in p.name]


def wait_for_partial(root: Path, seconds: float = 30) -> Path:
    deadline = time.monotonic() + seconds
    while True:
        found = [p for p in root.rglob(".partial-edge-*.pdf") if p.stat().st_size > 0]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError("no transfer started")
        time.sleep(0.05)


def test_rclone_errors_are_told_apart_by_whole_words():
    assert reason_code("couldn't connect SMB: dial tcp 127.0.0.1:44013: connect: connection "
                       "refused") == "unreachable"
    assert reason_code("401 Unauthorized") == "login"
    assert reason_code("ssh: handshake failed: ssh: unable to authenticate") == "login"
    assert reason_code("Update ReadFrom failed: connection lost") == "unreachable"
    assert reason_code("507 Insufficient Storage") == "full"
    assert reason_code("something odd") == "error"
