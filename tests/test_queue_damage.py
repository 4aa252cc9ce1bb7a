"""A damaged or vanished queue database: refused with the recovery steps, rebuilt without reusing
a ticket, read errors reported clearly (CLI, web, doctor); stored free text has no controls."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest

from edge.pipeline.queue import Queue

from .peers import free_port
from .web_kit import PASSWORDS, add_web

SIM = {"name": "sim", "driver": "sim", "source": "flatbed", "dpi": 100}
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def scan(kit, *extra):
    r = kit.edge("scan", "--scanner", "sim", "--doc", "Giấy khai sinh", "--json", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def empty_queue(kit):
    db = kit.root / "queue.db"
    db.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        (kit.root / f"queue.db{suffix}").unlink(missing_ok=True)


def assert_clear_error(r, *words):
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


def test_an_emptied_queue_is_refused_everywhere_with_the_recovery_steps(kit):
    kit.configure([SIM])
    add_web(kit.config, port=free_port())
    first = scan(kit)
    empty_queue(kit)
    for args in (("jobs",), ("scan", "--scanner", "sim", "--doc", "Tờ khai"), ("run",),
                 ("web",)):
        r = kit.edge(*args, timeout=60)
        assert_clear_error(r, str(kit.root / "queue.db"), "edge queue rebuild")
    assert len(kit.outbox_files()) == 2  # the first document and its checksum, nothing new
    assert (kit.root / "queue.db").stat().st_size == 0  # left as found
    assert first["ticket"].endswith("-001")


def test_rebuild_moves_the_damaged_file_aside_and_never_reuses_a_ticket(kit):
    kit.configure([SIM])
    a = scan(kit)
    b = scan(kit, "--dossier", "000.00.04.H40-230414-0002")  # its file name has no ticket
    assert (a["ticket"][-3:], b["ticket"][-3:]) == ("001", "002")
    empty_queue(kit)
    r = kit.edge("queue", "rebuild")
    assert r.returncode == 0, r.stderr
    (aside,) = (kit.root / "damaged").iterdir()
    assert (aside / "queue.db").exists() and str(aside) in r.stdout
    assert "2 document(s) re-adopted" in r.stdout
    assert kit.edge("verify").returncode == 0  # every outbox file belongs to a job again
    c = scan(kit)
    assert c["ticket"].endswith("-003")
    jobs = json.loads(kit.edge("jobs", "--json").stdout)
    assert sorted(j["ticket"] for j in jobs) == sorted(x["ticket"] for x in (a, b, c))
    assert {j["dossier"] for j in jobs} == {None, "000.00.04.H40-230414-0002"}


def test_rebuild_refuses_while_the_service_runs(kit):
    kit.configure([SIM])
    scan(kit)
    from edge.pipeline.lock import worker_lock

    with worker_lock(kit.root / "locks") as held:
        assert held
        r = kit.edge("queue", "rebuild")
    assert_clear_error(r, "systemctl stop edge")
    assert not (kit.root / "damaged").exists()


def test_a_new_ticket_skips_a_name_already_in_the_outbox(tmp_path):
    today = dt.date.today()
    with Queue(tmp_path / "queue.db") as q:
        day = tmp_path / "outbox" / today.isoformat()
        day.mkdir(parents=True)
        (day / f"PL01-{today:%y%m%d}-001_01_giay-khai-sinh.pdf").write_bytes(b"%PDF-")
        job = q.create(kit="PL01", doc="Giấy khai sinh", scanner="adf", preset="")
    assert job.ticket == f"PL01-{today:%y%m%d}-002"


def damaged_queue(kit, jobs=5):
    """A real queue whose data page has 64 flipped bytes in a job's document type: the header
    and the b-tree are intact, so it opens and passes SQLite's checks, but rows cannot be read."""
    kit.root.mkdir(parents=True, exist_ok=True)
    db = kit.root / "queue.db"
    with Queue(db) as q:
        for _ in range(jobs):
            q.create(kit="PL01", doc="Giấy khai sinh " + "x" * 80, scanner="sim", preset="")
    data = bytearray(db.read_bytes())
    at = data.find(b"x" * 64)
    assert at > 4096  # a data page, not the header page
    for i in range(at, at + 64):
        data[i] ^= 0xFF
    db.write_bytes(bytes(data))
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        with pytest.raises(sqlite3.DatabaseError):
            c.execute("SELECT * FROM jobs").fetchall()


def test_flipped_bytes_are_reported_clearly_by_the_cli_the_web_and_doctor(kit):
    kit.configure([SIM])
    add_web(kit.config)
    damaged_queue(kit)
    for args in (("jobs",), ("jobs", "--json")):
        r = kit.edge(*args)
        assert_clear_error(r, str(kit.root / "queue.db"), "edge queue rebuild")
        assert "xxxx" not in r.stderr and "Giấy" not in r.stderr  # no stored text in errors
    from edge.web.app import create_app

    app = create_app(kit.cfg())
    c = app.test_client()
    token = c.get("/api/csrf").json["csrf_token"]
    c.post("/api/login", json={"name": "staff", "password": PASSWORDS["staff"]},
           headers={"X-CSRF-Token": token})
    r = c.get("/api/jobs")
    assert r.status_code == 503 and r.is_json, r.data[:300]
    assert r.json["error_vi"] and "queue" in r.json["error"]
    r = kit.edge("doctor")
    line = next(x for x in r.stdout.splitlines() if "queue database" in x)
    assert line.startswith("FAIL") and r.returncode == 1, r.stdout


def test_control_characters_never_reach_the_store_or_the_terminal(kit):
    kit.configure([SIM])
    kit.root.mkdir(parents=True, exist_ok=True)
    with Queue(kit.root / "queue.db") as q:
        job = q.create(kit="PL01", doc="Giấy\x1b[2J khai\x9b sinh\x07", scanner="sim",
                       preset="", message="from\x1b]0;outside\x07")
        stored = q.conn.execute("SELECT doc, message FROM jobs WHERE id = ?",
                                (job.id,)).fetchone()
        assert not CONTROLS.search("".join(stored)), stored
        assert "Giấy" in stored[0] and "sinh" in stored[0]
        # an old queue, written before text was cleaned
        q.conn.execute("UPDATE jobs SET doc = ?, message = ? WHERE id = ?",
                       ("Tờ\x1b[31m khai\x9b", "bad\x1b[0m", job.id))
    for args in (("jobs",), ("jobs", "--json")):
        r = kit.edge(*args)
        assert r.returncode == 0, r.stderr
        assert not CONTROLS.search(r.stdout), repr(r.stdout)
        assert "Tờ" in r.stdout


def test_receipt_spool_stores_no_control_characters(tmp_path):
    from edge.errors import DeviceError
    from edge.receipts.queue import Spool, _not_printed

    spool = Spool(tmp_path)
    entry = spool.add("slip", "recep\x1btion", "PL01-\x9b001", b"bytes", 1000.0)
    _not_printed(spool, entry, DeviceError("printer says \x1b[5m hi", vi="máy\x07 in"),
                 600.0, 1001.0)
    for meta in (tmp_path / "receipts" / "spool").glob("*.json"):
        text = json.loads(meta.read_text(encoding="utf-8"))
        assert not CONTROLS.search(json.dumps(text, ensure_ascii=False)), text


@pytest.mark.parametrize("args", [("status", "--json"), ("jobs", "--json")])
def test_a_closed_pipe_ends_the_command_quietly(kit, args):
    kit.configure([SIM])
    kit.root.mkdir(parents=True, exist_ok=True)
    with Queue(kit.root / "queue.db") as q:  # enough output to overflow the pipe's buffer
        for _ in range(200):
            q.create(kit="PL01", doc="Giấy khai sinh", scanner="sim", preset="")
    read, write = os.pipe()
    os.close(read)  # like `| head` that has already exited
    try:
        r = subprocess.run([sys.executable, "-m", "edge", "--config", str(kit.config), *args],
                           stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    assert "BrokenPipe" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
