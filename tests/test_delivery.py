"""Delivery off the kit (issue 17) against real servers on loopback: a file:// disk, OpenSSH's
sftp, a WebDAV server and Samba; files and sidecars arrive and `sha256sum -c` passes there, a
rename is delivered as a rename, a server stopped mid-transfer ends with every file once and no
partial file under a final name, a wrong password is reported and retried with backoff."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from edge import config
from edge.delivery import engine
from edge.delivery.engine import Deliverer, reason_code
from edge.delivery.rclone import TransferError
from edge.delivery.store import Store, TargetState
from edge.errors import ConfigError
from edge.pipeline import dossiers, outbox
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.pipeline.worker import Worker

from .conftest import toml_value
from .delivery_peers import PeerError, S3Server, SmbServer, SshServer, WebdavServer

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


def roundtrip(kit, target: dict, files: Callable[[], Path]) -> None:
    """Two documents of one dossier arrive, then the dossier's code moves them on the server
    (`files()`: what the destination holds, in a local folder)."""
    cfg = configure(kit, [target])
    with open_queue(cfg) as queue:
        first = scan(cfg, queue)
        second = scan(cfg, queue, doc="CCCD", ticket=first.ticket)
        assert deliver(cfg, queue) == 5  # 2 files, 2 sidecars, the manifest
        day = time.strftime("%Y-%m-%d", time.localtime(first.created))
        folder = files() / "PL01" / day / first.ticket
        names = [Path(j.pdf).name for j in (first, second)]
        manifest = check_dossier_folder(folder, names)
        assert [d["seq"] for d in manifest["documents"]] == [1, 2]
        assert manifest["code"] is None
        dossiers.rename(cfg, Storage(cfg.storage.root), queue, first.ticket, CODE)
        assert deliver(cfg, queue) == 5
        dest = files()
        renamed = dest / "PL01" / day / CODE
        new_names = [Path(j.pdf).name for j in queue.dossier(first.ticket)]
        assert all(n.startswith(CODE) for n in new_names)
        assert check_dossier_folder(renamed, new_names)["code"] == CODE
        assert not folder.exists(), "the old folder under the ticket is left behind"
        assert not [p for p in dest.rglob("*") if ".partial-edge" in p.name]
        assert deliver(cfg, queue) == 0


def test_file_target_delivers_a_dossier_and_its_rename(kit, tmp_path):
    dest = tmp_path / "usb"
    roundtrip(kit, {"name": "usb", "url": f"file://{dest}"}, lambda: dest)


def test_sftp_target_delivers_a_dossier_and_its_rename(kit, tmp_path):
    with SshServer(tmp_path / "ssh") as server:
        roundtrip(kit, {"name": "office", **server.target()}, server.files)


def test_webdav_target_delivers_a_dossier_and_its_rename(kit, tmp_path):
    with WebdavServer(tmp_path / "dav") as server:
        roundtrip(kit, {"name": "nextcloud", **server.target()}, server.files)


def test_smb_target_delivers_a_dossier_and_its_rename(kit, tmp_path):
    try:
        server = SmbServer(tmp_path / "smb")
    except PeerError as e:
        pytest.skip(str(e))
    with server:
        roundtrip(kit, {"name": "nas", **server.target()}, server.files)


def test_s3_target_delivers_a_dossier_and_its_rename(kit, tmp_path):
    with S3Server(tmp_path / "s3") as server:
        roundtrip(kit, {"name": "minio", **server.target()}, server.files)


WRONG = "Wr0ng-Passw0rd-17"


def make_server(kind: str, tmp_path: Path):
    if kind == "sftp":
        return SshServer(tmp_path / "ssh")
    if kind == "webdav":
        return WebdavServer(tmp_path / "dav")
    if kind == "s3":
        return S3Server(tmp_path / "s3")
    try:
        return SmbServer(tmp_path / "smb")
    except PeerError as e:
        pytest.skip(str(e))


@pytest.mark.parametrize("kind", ["webdav", "sftp", "smb", "s3"])
def test_a_wrong_password_is_reported_and_retried_with_backoff_not_a_busy_loop(kit, tmp_path,
                                                                                caplog, kind):
    with make_server(kind, tmp_path) as server:
        target = server.target(password=WRONG)
        creds = target["credentials"]
        cfg = configure(kit, [{"name": "office", **target,
                               "retry_min_seconds": 30, "retry_max_seconds": 100}])
        with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
            job = scan(cfg, queue)
            d = Deliverer(cfg)
            try:
                assert d.run_once(queue, store) == 0
                st = store.target("office")
                assert st.attempts == 1
                assert "refused the login" in st.error and creds in st.error
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
        folder = server.files() / "PL01" / time.strftime("%Y-%m-%d") / job.ticket
        check_dossier_folder(folder, [Path(job.pdf).name])
        assert kit.edge("delivery", "status").returncode == 0
    conf = cfg.runtime_dir / "delivery" / "rclone-office.conf"
    assert conf.stat().st_mode & 0o777 == 0o600
    assert WRONG not in conf.read_text() and WRONG not in caplog.text
    assert WRONG not in status.stdout + status.stderr


@pytest.mark.parametrize("kind", ["sftp", "webdav", "smb", "s3"])
def test_a_server_stopped_mid_transfer_ends_with_every_file_once(kit, tmp_path, kind):
    with make_server(kind, tmp_path) as server:
        cfg = configure(kit, [{"name": "office", **server.target(), "bwlimit": "20K"}],
                        sheets=6)
        with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
            job = scan(cfg, queue)
            assert job.bytes > 150_000  # several seconds at 20 KB/s
            d = Deliverer(cfg)
            try:
                results: list[int] = []

                def one_pass() -> None:  # its own connections: SQLite's stay in their thread
                    with open_queue(cfg) as q, Store(cfg.storage.root) as s:
                        results.append(d.run_once(q, s))

                first = threading.Thread(target=one_pass)
                first.start()
                if kind == "s3":  # an object appears only once whole: ask rclone
                    wait_for_upload(d, "office")
                else:
                    wait_for_partial(server.files())
                server.stop()
                first.join(60)
                assert len(results) == 1  # the pass ended (the sidecar may have gone first)
                assert "cannot reach" in store.target("office").error
                final = [p for p in server.files().rglob("*.pdf") if ".partial-" not in p.name]
                assert final == [], "a partial file sits under its final name"
                server.start()
                store.retry_now()
                assert d.run_once(queue, store) + results[0] <= 3
                assert [r.state for r in store.rows("office")] == ["delivered"] * 3
            finally:
                d.close()
        dest = server.files()
        folder = dest / "PL01" / time.strftime("%Y-%m-%d") / job.ticket
        check_dossier_folder(folder, [Path(job.pdf).name])
        assert not [p for p in dest.rglob("*") if ".partial-edge" in p.name]


def wait_for_upload(d: Deliverer, target: str, seconds: float = 60) -> None:
    """Until the target's rclone is sending a PDF (some of its bytes gone)."""
    def sending() -> bool:
        rcd = d.rcds.get(target)
        if rcd is None or not rcd.url:
            return False
        req = urllib.request.Request(rcd.url + "core/stats", data=b"{}", headers={
            "Content-Type": "application/json", "Authorization": rcd.auth})
        try:  # not rcd.call: that would stop the rcd when it does not answer yet
            with urllib.request.urlopen(req, timeout=5) as resp:
                stats = json.loads(resp.read())
        except OSError:
            return False
        return any(t["name"].endswith(".pdf") and t.get("bytes", 0) > 0
                   for t in stats.get("transferring") or [])

    deadline = time.monotonic() + seconds
    while not sending():
        if time.monotonic() > deadline:
            raise AssertionError("no transfer started")
        time.sleep(0.05)


def wait_for_partial(root: Path, seconds: float = 30) -> Path:
    deadline = time.monotonic() + seconds
    while True:
        found = list(root.rglob(".partial-edge-*.pdf"))  # opened (smb writes in one go)
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


def rclone_of(cfg: config.Config) -> list[int]:
    """Our rclone processes: those whose command line names this test's rclone config."""
    mine = str(cfg.runtime_dir / "delivery")
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if mine in cmdline.read_bytes().decode(errors="replace"):
                out.append(int(cmdline.parent.name))
        except OSError:
            pass
    return out


def delivered_all(kit) -> bool:
    done = kit.edge("delivery", "status", "--json")
    return json.loads(done.stdout)["targets"][0]["waiting_files"] == 0 if done.stdout else False


def check_destination(kit, dest: Path) -> None:
    """Every finished file is at the destination once, under its current name, verified; no
    partial file, no copy under an old name."""
    jobs = [j for j in json.loads(kit.edge("jobs", "--json").stdout)
            if j["state"] in ("ready", "uploaded")]
    want = sorted(Path(f["path"]).name for j in jobs for f in j["files"])
    pdfs = sorted(p.name for p in dest.rglob("*.pdf") if ".partial-" not in p.name)
    assert pdfs == want
    assert not [p for p in dest.rglob("*") if ".partial-edge" in p.name]
    for folder in {p.parent for p in dest.rglob("*.pdf")}:
        names = [p.name for p in folder.glob("*.pdf")]
        check_dossier_folder(folder, names)


def test_a_sigkilled_service_mid_delivery_loses_and_duplicates_nothing(kit, tmp_path):
    from .test_daemon import wait_for

    dest = tmp_path / "usb"
    cfg = configure(kit, [{"name": "usb", "url": f"file://{dest}", "bwlimit": "40K"}], sheets=6)
    assert kit.edge("scan", "--scanner", "sim", "--doc", "CCCD").returncode == 0
    daemon = kit.popen("run")
    try:
        wait_for_partial(dest)
        daemon.kill()
        daemon.wait()
        wait_for(lambda: not rclone_of(cfg), timeout=10, what="rclone to die with the service")
        assert not [p for p in dest.rglob("*.pdf") if ".partial-" not in p.name]
        daemon = kit.popen("run")
        wait_for(lambda: delivered_all(kit), timeout=60, what="delivery after the restart")
    finally:
        daemon.terminate()
        daemon.wait(30)
    assert not rclone_of(cfg)
    check_destination(kit, dest)


def test_one_rclone_per_target_lives_across_passes_and_a_dead_one_is_started_again(
        kit, tmp_path, monkeypatch):
    """A start of rclone costs more than a small dossier's files: the daemon keeps it between
    passes (rclone closes idle connections itself), starts another if it died, stops it after
    a while with nothing to send (~40 MB of memory on a Pi) and when the service stops."""
    cfg = configure(kit, [{"name": "usb", "url": f"file://{tmp_path / 'usb'}"}])
    with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
        d = Deliverer(cfg)
        try:
            scan(cfg, queue)
            assert d.run_once(queue, store) == 3
            assert d.run_once(queue, store) == 0  # nothing to send
            first = rclone_of(cfg)
            assert len(first) == 1
            scan(cfg, queue)
            assert d.run_once(queue, store) == 3
            assert rclone_of(cfg) == first
            proc = d.rcds["usb"].proc
            assert proc is not None
            proc.kill()  # it dies between passes (out of memory...)
            proc.wait(10)
            scan(cfg, queue)
            assert d.run_once(queue, store) == 3
            assert store.target("usb").error == ""
            assert len(rclone_of(cfg)) == 1 and rclone_of(cfg) != first
            monkeypatch.setattr(engine, "IDLE_SECONDS", 0.0)
            assert d.run_once(queue, store) == 0  # nothing to send for IDLE_SECONDS
            assert not rclone_of(cfg)
            scan(cfg, queue)
            assert d.run_once(queue, store) == 3  # started again when a dossier comes
            assert len(rclone_of(cfg)) == 1
        finally:
            d.close()
        assert not rclone_of(cfg)
        assert [r.state for r in store.rows("usb")] == ["delivered"] * 12


def test_a_dead_rclone_is_started_again_by_the_thread_that_keeps_it_not_by_a_worker(
        kit, tmp_path):
    """rclone dies with the thread that started it (PR_SET_PDEATHSIG is per thread): a pass's
    transfer thread that finds it dead fails its file, sent again at the next pass, instead of
    starting an rclone that would be killed when that thread ends."""
    cfg = configure(kit, [{"name": "usb", "url": f"file://{tmp_path / 'usb'}"}])
    d = Deliverer(cfg)
    try:
        rcd = d.rcd(cfg.delivery[0])
        rcd.start()
        assert rcd.proc is not None
        rcd.proc.kill()
        rcd.proc.wait(10)
        failed: list[Exception] = []

        def transfer() -> None:
            try:
                rcd.mkdir("2026-12-03")
            except TransferError as e:
                failed.append(e)

        t = threading.Thread(target=transfer)
        t.start()
        t.join(60)
        assert failed and "started again at the next pass" in str(failed[0])
        assert not rclone_of(cfg)
        rcd.start()  # the pass's own thread
        rcd.mkdir("2026-12-03")
        assert len(rclone_of(cfg)) == 1
    finally:
        d.close()


def two_hours_from(t: float) -> str:
    start = time.localtime(t + 3600)
    end = time.localtime(t + 3 * 3600)
    return f"{start.tm_hour:02d}:00-{end.tm_hour:02d}:00"


def test_a_time_window_holds_deliveries_and_says_so(kit, tmp_path):
    dest = tmp_path / "usb"
    now = time.time()
    cfg = configure(kit, [{"name": "usb", "url": f"file://{dest}",
                           "window": two_hours_from(now)}])
    with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
        scan(cfg, queue)
        d = Deliverer(cfg)
        try:
            assert d.run_once(queue, store, now=now) == 0
            st = engine.target_status(cfg.delivery[0], store, now)
            assert (st["state"], st["reason"], st["waiting_files"]) == ("waiting", "window", 3)
            assert "outside its time window" in kit.edge("delivery", "status").stdout
            assert d.run_once(queue, store, now=now + 2 * 3600) == 3
        finally:
            d.close()
    assert engine.in_window("19:00-06:30", dt.time(23, 0))
    assert engine.in_window("19:00-06:30", dt.time(6, 0))
    assert not engine.in_window("19:00-06:30", dt.time(12, 0))


def around(t: float) -> str:
    """A window from an hour before `t` to two hours after."""
    start, end = time.localtime(t - 3600), time.localtime(t + 2 * 3600)
    return f"{start.tm_hour:02d}:{start.tm_min:02d}-{end.tm_hour:02d}:{end.tm_min:02d}"


def test_a_window_waits_for_network_time_after_a_power_cut(kit, tmp_path, monkeypatch):
    from edge.drivers import system

    timesync = tmp_path / "timesync"  # systemd-timesyncd runs, no network time yet
    timesync.mkdir()
    monkeypatch.setattr(system, "TIMESYNC", timesync)
    window = around(time.time())
    with WebdavServer(tmp_path / "dav") as server:
        cfg = configure(kit, [{"name": "office", **server.target(), "window": window},
                              {"name": "usb", "url": f"file://{tmp_path / 'usb'}",
                               "window": window}])
        with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
            scan(cfg, queue)
            d = Deliverer(cfg)
            try:
                assert d.run_once(queue, store) == 3  # the USB disk needs no network time
                assert store.target("office").waiting == "clock"
                st = engine.target_status(cfg.delivery[0], store)
                assert (st["state"], st["reason"], st["waiting_files"]) == ("waiting", "clock", 3)
                status = kit.edge("delivery", "status").stdout
                assert "waiting for network time" in status
                (timesync / "synchronized").touch()  # the 4G link is up, NTP answered
                assert d.run_once(queue, store) == 3
                assert store.target("office").waiting == ""
            finally:
                d.close()


def test_a_backoff_set_before_the_clock_went_back_does_not_hold_deliveries(kit, tmp_path):
    """Network time after a power cut can put the clock back by hours: a retry time set by
    the wrong clock must not hold deliveries that long."""
    dest = tmp_path / "usb"
    cfg = configure(kit, [{"name": "usb", "url": f"file://{dest}", "retry_max_seconds": 900}])
    with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
        scan(cfg, queue)
        store.set_target(TargetState("usb", attempts=3, next_try=time.time() + 6 * 3600,
                                     error="cannot reach the destination"))
        d = Deliverer(cfg)
        try:
            assert d.run_once(queue, store) == 3
        finally:
            d.close()


def test_only_on_the_named_interfaces(kit, tmp_path):
    with WebdavServer(tmp_path / "dav") as server:
        target = {"name": "office", "url": server.url(), "interfaces": ["wlan0", "eth0"],
                  "credentials": str(server.credentials())}
        cfg = configure(kit, [target])
        with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
            scan(cfg, queue)
            d = Deliverer(cfg)
            try:
                assert d.run_once(queue, store) == 0  # 127.0.0.1 goes out by lo
                assert store.target("office").waiting == "network"
                cfg = configure(kit, [{**target, "interfaces": ["lo"]}])
                d.cfg = cfg
                assert d.run_once(queue, store) == 3
            finally:
                d.close()


def test_a_daily_budget_holds_the_rest_until_tomorrow(kit, tmp_path):
    dest = tmp_path / "usb"
    cfg = configure(kit, [{"name": "usb", "url": f"file://{dest}", "daily_mb": 1}])
    now = time.time()
    with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
        scan(cfg, queue)
        store.count_sent("usb", 1024 * 1024 - 10_000, now)  # today's budget nearly used
        d = Deliverer(cfg)
        try:
            assert d.run_once(queue, store, now=now) == 0
            st = engine.target_status(cfg.delivery[0], store, now)
            assert (st["state"], st["reason"]) == ("waiting", "budget")
            assert d.run_once(queue, store, now=now + 86400) == 3
        finally:
            d.close()


def test_delivered_files_may_be_purged_after_retention_even_if_not_marked_uploaded(kit,
                                                                                   tmp_path):
    targets = [{"name": "usb", "url": f"file://{tmp_path / 'usb'}"},
               {"name": "nas", "url": f"file://{tmp_path / 'nas'}"},
               {"name": "extra", "url": f"file://{tmp_path / 'extra'}", "required": False}]
    cfg = configure(kit, targets, retention_days=2, purge_delivered=True)
    storage = Storage(cfg.storage.root)
    with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
        delivered, waiting = scan(cfg, queue), scan(cfg, queue)
        d = Deliverer(cfg)
        try:
            assert d.run_once(queue, store) == 18  # 2 dossiers x 3 files x 3 targets
            for row in store.rows("usb", ticket=waiting.ticket):  # say one never reached usb
                store.conn.execute("UPDATE items SET state = 'wanted' WHERE target = ? AND "
                                   "path = ?", ("usb", row.path))
        finally:
            d.close()
        later = time.time() + 3 * 86400
        rule = engine.purge_rule(cfg, store)
        assert outbox.purge(storage, queue, 2, now=time.time() + 86400, delivered=rule) == 0
        assert outbox.purge(storage, queue, 2, now=later, delivered=rule) == 1
        assert queue.get(delivered.id).purged and not Path(delivered.pdf).exists()
        assert not queue.get(waiting.id).purged and Path(waiting.pdf).exists()
    off = configure(kit, targets, retention_days=2)
    with open_queue(off) as queue, Store(off.storage.root) as store:
        assert engine.purge_rule(off, store) is None  # default: today's rule only


def key_file(text: str = "a-long-passphrase-17") -> Path:
    """The crypt key off the data partition (/dev/shm is a tmpfs), 0600."""
    path = Path(tempfile.mkdtemp(dir="/dev/shm")) / "delivery.key"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_an_encrypted_target_holds_only_ciphertext_and_reads_back_right(kit, tmp_path,
                                                                         caplog):
    dest, key = tmp_path / "cloud", key_file()
    try:
        cfg = configure(kit, [{"name": "cloud", "url": f"file://{dest}", "encrypt": True,
                               "key_file": str(key)}])
        caplog.set_level("INFO", logger="edge.delivery")
        with open_queue(cfg) as queue:
            job = scan(cfg, queue)
            assert deliver(cfg, queue) == 3
        # the kit verified each file by reading it back through the decryption
        assert caplog.text.count("checked by reading it back") == 3
        stored = [p for p in dest.rglob("*") if p.is_file()]
        assert len(stored) == 3
        in_names = [job.ticket, "PL01", ".pdf", "manifest", "sha256", "giay"]
        in_data = [job.ticket.encode(), b"%PDF-", b'"documents"', "Giấy".encode()]
        for p in dest.rglob("*"):  # no name, folder or byte in the clear
            name = str(p.relative_to(dest)).lower()
            assert not [s for s in in_names if s.lower() in name], name
            if p.is_file():
                data = p.read_bytes()
                assert not [s for s in in_data if s in data], p
        conf = tmp_path / "read.conf"  # the office decrypts with the same passphrase
        obscured = subprocess.run(["rclone", "obscure", "-"], input=key.read_text(),
                                  capture_output=True, text=True).stdout.strip()
        conf.write_text(f"[d]\ntype = crypt\nremote = {dest}\nfilename_encryption = standard\n"
                        f"directory_name_encryption = true\npassword = {obscured}\n")
        plain = tmp_path / "plain"
        done = subprocess.run(["rclone", "--config", str(conf), "copy", "d:", str(plain)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        folder = plain / "PL01" / time.strftime("%Y-%m-%d", time.localtime(job.created)) / \
            job.ticket
        check_dossier_folder(folder, [Path(job.pdf).name])
    finally:
        shutil.rmtree(key.parent)


def test_a_key_on_the_data_partition_or_readable_by_others_is_refused(kit, tmp_path):
    same = tmp_path / "same.key"
    same.write_text("a-long-passphrase-17")
    same.chmod(0o600)
    with pytest.raises(ConfigError, match="same partition"):
        configure(kit, [{"name": "cloud", "url": "file:///srv/x", "encrypt": True,
                         "key_file": str(same)}])
    key = key_file()
    try:
        key.chmod(0o644)
        with pytest.raises(ConfigError, match="chmod 600"):
            configure(kit, [{"name": "cloud", "url": "file:///srv/x", "encrypt": True,
                             "key_file": str(key)}])
    finally:
        shutil.rmtree(key.parent)


@pytest.mark.parametrize(("target", "message"), [
    ({"url": "ftp://host/x"}, "unknown protocol"),
    ({"url": "sftp://u:pw@host/x"}, "no password in the URL"),
    ({"url": "sftp://host/x"}, "credentials: required for sftp"),
    ({"url": "smb://host"}, "name the share"),
    ({"url": "s3://bucket/kits"}, "endpoint: required"),
    ({"url": "file:///x", "window": "7-9"}, "HH:MM-HH:MM"),
    ({"url": "file:///x", "bwlimit": "fast"}, "512K"),
    ({"url": "file:///x", "bwlimit": "512K:"}, "upload:download like 512K:4M"),
    ({"url": "file:///x", "bwlimit": "512K:4M:1M"}, "upload:download like 512K:4M"),
])
def test_bad_targets_are_refused_naming_the_key(kit, target, message):
    with pytest.raises(ConfigError, match=message) as e:
        configure(kit, [{"name": "office", **target}])
    assert "delivery[0]." in e.value.message


def test_an_upload_download_limit_reaches_rclone_as_two_limits(kit, tmp_path):
    """Over 4G the upload is the scarce way: "512k:4M" limits it alone, so reading a copy back
    (WebDAV, SMB, crypt) comes down the faster way instead of halving the upload."""
    with WebdavServer(tmp_path / "dav") as server:
        cfg = configure(kit, [{"name": "office", **server.target(), "bwlimit": "512k:4M"}])
        with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
            scan(cfg, queue)
            d = Deliverer(cfg)
            try:
                rcd = d.rcd(cfg.delivery[0])
                rcd.start()
                limits = rcd.call("core/bwlimit")
                assert (limits["bytesPerSecondTx"], limits["bytesPerSecondRx"]) == (
                    512 * 1024, 4 * 1024 * 1024)
                assert d.run_once(queue, store) == 3
                assert store.sent_on("office")[0] > 2 * sum(
                    r.bytes for r in store.rows("office") if r.source), "read-backs not counted"
            finally:
                d.close()


def test_credentials_are_a_private_file_of_known_keys(kit, tmp_path):
    creds = tmp_path / "c.toml"
    creds.write_text('user = "office"\npassword = "x"\n')
    creds.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        configure(kit, [{"name": "o", "url": "webdav://h/x", "credentials": str(creds)}])
    creds.chmod(0o600)
    creds.write_text('user = "office"\npasword = "x"\n')
    with pytest.raises(ConfigError, match="unknown key 'pasword'"):
        configure(kit, [{"name": "o", "url": "webdav://h/x", "credentials": str(creds)}])


def test_doctor_checks_each_target_without_sending_citizen_data(kit, tmp_path):
    from edge import doctor

    with WebdavServer(tmp_path / "dav") as server, SshServer(tmp_path / "ssh") as ssh, \
            S3Server(tmp_path / "s3") as s3:
        bad = tmp_path / "bad.toml"
        bad.write_text(f'user = "office"\npassword = "{WRONG}"\n')
        bad.chmod(0o600)
        s3_bad = tmp_path / "s3-bad.toml"
        s3_bad.write_text(f'access_key_id = "{s3.key_id}"\nsecret_access_key = "{WRONG}"\n')
        s3_bad.chmod(0o600)
        cfg = configure(kit, [
            {"name": "office", "url": server.url(), "credentials": str(server.credentials())},
            {"name": "nas", "url": server.url(), "credentials": str(bad)},
            {"name": "sftp", "url": ssh.url(), "credentials": str(ssh.credentials())},
            {"name": "minio", **s3.target()},
            {"name": "minio-bad", **s3.target(), "credentials": str(s3_bad)},
            {"name": "gone", "url": "webdav://127.0.0.1:1/", "credentials": str(bad)}])
        found = list(doctor._delivery(cfg))
        checks = {c.what.split(" (")[0]: c for c in found if c.verdict != "WARN"}
        assert checks["delivery office"].verdict == "ok"
        assert "checked by reading it back" in checks["delivery office"].what
        assert checks["delivery nas"].verdict == "FAIL"
        assert "refused the login" in checks["delivery nas"].what
        assert str(bad) in checks["delivery nas"].fix
        assert checks["delivery sftp"].verdict == "ok" and "sha1" in checks["delivery sftp"].what
        assert checks["delivery minio"].verdict == "ok", checks["delivery minio"]
        assert "md5" in checks["delivery minio"].what
        assert checks["delivery minio-bad"].verdict == "FAIL"
        assert "refused the login" in checks["delivery minio-bad"].what
        assert not list(s3.files().rglob("*"))  # the probe file is gone
        assert [c.what.split(" (")[0] for c in found if c.verdict == "WARN"] == ["delivery sftp"]
        assert checks["delivery gone"].verdict == "FAIL"
        assert "network link" in checks["delivery gone"].fix
        assert not list(server.root.rglob("*")) and not list(ssh.root.rglob("*"))


def test_telemetry_counts_what_is_delivered_and_what_waits_without_names(kit, tmp_path):
    from edge.telemetry.service import Telemetry

    from .telemetry_kit import configure as with_mqtt
    from .telemetry_kit import outbox_rows, validate

    with_mqtt(kit, 1883)
    dest, creds = tmp_path / "usb", tmp_path / "gone.toml"
    creds.write_text('user = "office"\npassword = "x"\n')
    creds.chmod(0o600)
    with kit.config.open("a") as f:
        f.write(f'\n[[delivery]]\nname = "usb"\nurl = "file://{dest}"\n\n[[delivery]]\n'
                f'name = "gone"\nurl = "webdav://127.0.0.1:1/"\ncredentials = "{creds}"\n')
    cfg = kit.cfg()
    with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
        job = scan(cfg, queue)
        d = Deliverer(cfg, Telemetry(cfg, []))
        try:
            assert d.run_once(queue, store) == 3
        finally:
            d.close()
    rows = [(t, validate(t, p), p) for k, t, p in outbox_rows(kit) if k in ("event", "counts")]
    events = {b["type"]: b["data"] for t, b, _ in rows if "type" in b}
    assert events["delivery/delivered"] == {
        "target": "usb", "files": 3, "bytes": events["delivery/delivered"]["bytes"],
        "waiting_files": 0, "waiting_bytes": 0,
        "oldest_waiting_seconds": events["delivery/delivered"]["oldest_waiting_seconds"]}
    assert events["delivery/delivered"]["bytes"] > job.bytes
    assert events["delivery/delivered"]["oldest_waiting_seconds"] >= 0  # gone's files wait
    assert events["delivery/failing"] == {"target": "gone", "reason": "unreachable"}
    counts = [b for t, b, _ in rows if "/counts/" in t][-1]
    assert counts["delivered_files"] == 3
    assert counts["delivered_bytes"] == events["delivery/delivered"]["bytes"]
    for _, _, payload in rows:
        assert job.ticket.encode() not in payload and b".pdf" not in payload
        assert "Giấy".encode() not in payload


@pytest.mark.parametrize("kind", ["file", "webdav", "s3"])
def test_a_changed_outbox_file_is_not_delivered_and_the_others_go(kit, tmp_path, kind):
    """Read back, or checked by the destination against the record, or (S3: the server checks
    the MD5 rclone computed from the kit's file) the kit's file checked against its record."""
    server = make_server(kind, tmp_path) if kind != "file" else None
    with server or contextlib.nullcontext():
        target = ({"name": "office", **server.target()} if server  # (S3's key made at start)
                  else {"name": "office", "url": f"file://{tmp_path / 'usb'}"})
        cfg = configure(kit, [target])
        with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
            bad, good = scan(cfg, queue), scan(cfg, queue)
            pdf = Path(bad.pdf)
            data = bytearray(pdf.read_bytes())
            data[len(data) // 2] ^= 0xFF  # one bit flipped on the card, same size
            pdf.chmod(0o600)
            pdf.write_bytes(bytes(data))
            d = Deliverer(cfg)
            try:
                d.run_once(queue, store)
            finally:
                d.close()
            by_path = {r.path.rsplit("/", 1)[1]: r for r in store.rows("office")}
            assert by_path[pdf.name].state == "wanted"
            assert "has changed since it was made" in by_path[pdf.name].error
            assert by_path[Path(good.pdf).name].state == "delivered"
            assert store.target("office").error == ""  # the target is fine
        dest = server.files() if server else tmp_path / "usb"
        assert not list(dest.rglob(pdf.name))
        assert list(dest.rglob(Path(good.pdf).name))


def test_web_api_shows_per_dossier_and_per_target_delivered_waiting_failing(kit, tmp_path):
    from edge.web.app import create_app

    from .test_web import client
    from .web_kit import add_web

    creds = tmp_path / "gone.toml"
    creds.write_text('user = "office"\npassword = "x"\n')
    creds.chmod(0o600)
    cfg = configure(kit, [{"name": "usb", "url": f"file://{tmp_path / 'usb'}"},
                          {"name": "office", "url": "webdav://127.0.0.1:1/",
                           "label": "Máy tính một cửa", "credentials": str(creds)}])
    add_web(kit.config)
    with open_queue(cfg) as queue:
        job = scan(cfg, queue)
        deliver(cfg, queue)
    app = create_app(kit.cfg())
    app.testing = True
    staff = client(app, "staff")
    d = staff.get(f"/api/dossiers/{job.ticket}").json
    by = {x["target"]: x for x in d["delivery"]}
    assert by["usb"]["state"] == "delivered"
    assert by["office"]["state"] == "failing"
    assert "Chưa kết nối được" in by["office"]["error_vi"]
    listed = staff.get("/api/dossiers?today=1").json["dossiers"][0]
    assert [x["state"] for x in listed["delivery"]] == ["delivered", "failing"]
    tech = client(app, "tech")
    targets = {t["name"]: t for t in tech.get("/api/delivery").json["targets"]}
    assert targets["usb"]["state"] == "ok" and targets["usb"]["sent_today_files"] == 3
    assert targets["office"]["state"] == "failing" and targets["office"]["waiting_files"] == 3
    assert targets["office"]["label"] == "Máy tính một cửa"
    with Store(cfg.storage.root) as store:
        assert store.target("office").next_try > time.time()
        r = tech.post("/api/delivery/retry", {})
        assert r.status_code == 200
        assert store.target("office").next_try == 0


def test_cli_delivery_run_to_a_usb_disk_and_status(kit, tmp_path):
    dest = tmp_path / "usb"
    cfg = configure(kit, [])
    assert kit.edge("delivery", "status").stderr.strip().endswith(
        "no [[delivery]] target in the config; see config/edge.example.toml")
    cfg = configure(kit, [{"name": "usb", "url": f"file://{dest}"}])
    with open_queue(cfg) as queue:
        job = scan(cfg, queue)
    r = kit.edge("delivery", "run")
    assert r.returncode == 0, r.stderr
    assert "usb: 3 file(s) delivered" in r.stdout
    assert "usb          ok          0 file(s) waiting" in r.stdout
    status = json.loads(kit.edge("delivery", "status", "--json").stdout)
    assert status["targets"][0]["sent_today_files"] == 3
    check_dossier_folder(next(dest.rglob(job.ticket)), [Path(job.pdf).name])
    assert kit.edge("delivery", "retry", "nope").returncode == 2


def test_a_usb_disk_target_waits_while_the_disk_is_not_mounted(kit, tmp_path):
    folder = tmp_path / "media-usb"  # an empty folder where the disk would be mounted
    folder.mkdir()
    cfg = configure(kit, [{"name": "usb", "url": f"file://{folder}/hoso", "mount": str(folder)}])
    with open_queue(cfg) as queue, Store(cfg.storage.root) as store:
        scan(cfg, queue)
        d = Deliverer(cfg)
        try:
            assert d.run_once(queue, store) == 0
            assert store.target("usb").waiting == "disk"
            assert not list(folder.iterdir())  # nothing written onto the SD card
            assert "not plugged in" in kit.edge("delivery", "status").stdout
            d.cfg = configure(kit, [{"name": "usb", "url": "file:///proc/hoso",
                                     "mount": "/proc"}])
            assert engine.held(d.cfg.delivery[0], time.time()) == ""  # a mount point: go
        finally:
            d.close()
    creds = tmp_path / "c.toml"
    creds.write_text('user = "u"\n')
    creds.chmod(0o600)
    with pytest.raises(ConfigError, match="mount: only for file"):
        configure(kit, [{"name": "o", "url": "webdav://h/x", "mount": "/media/usb",
                         "credentials": str(creds)}])
