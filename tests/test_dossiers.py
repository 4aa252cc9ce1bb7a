"""Dossiers, the documents of one ticket: the queue upgrade, joining, seq and file names, the
whole-dossier rename (and its recovery after a cut), uploaded, the checked ZIP, no mixing of two
citizens' papers on one scanner, and `edge dossier` / `edge scan --into` (real files, real CLI)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

from edge.errors import JobError, NotFound, StateConflict, StorageError
from edge.pipeline import actions, dossiers, outbox
from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.pipeline.worker import Worker

from . import test_outbox
from .test_outbox import sim

CODE = "000.00.04.H40-230414-0002"
OTHER = "000.00.04.H40-230414-0003"
env = test_outbox.env  # the fixture: a simulated scanner's config, storage and queue


def ready(cfg, storage, queue, doc, **where):
    job = queue.create(kit="PL01", doc=doc, scanner="sim", preset="", **where)
    return Worker(cfg, storage, queue, cfg.scanner[0]).run(job)


def names(queue, ticket):
    return [Path(f.path).name for j in queue.dossier(ticket) for f in j.files]


# ------------------------------------------------------------------ the queue


OLD_SCHEMA = """
CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, ticket TEXT NOT NULL UNIQUE,
    dossier TEXT, doc TEXT NOT NULL, scanner TEXT NOT NULL, preset TEXT NOT NULL,
    state TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', message_vi TEXT NOT NULL DEFAULT '',
    pending_pdf TEXT, created REAL NOT NULL, updated REAL NOT NULL, uploaded REAL, purged REAL);
CREATE TABLE pages (job_id INTEGER NOT NULL REFERENCES jobs(id), idx INTEGER NOT NULL,
    file TEXT NOT NULL, sha256 TEXT NOT NULL, image_sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
    blank INTEGER NOT NULL DEFAULT 0, kind TEXT NOT NULL DEFAULT '', PRIMARY KEY (job_id, idx));
CREATE TABLE files (job_id INTEGER NOT NULL REFERENCES jobs(id), part INTEGER NOT NULL,
    path TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
    ocr INTEGER NOT NULL DEFAULT 0, ocr_pending_sha TEXT, PRIMARY KEY (job_id, part));
CREATE TABLE history (job_id INTEGER NOT NULL REFERENCES jobs(id), at REAL NOT NULL,
    state TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE tickets (day TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE INDEX jobs_state ON jobs(state, scanner);
INSERT INTO jobs VALUES (1, 'PL01-261122-001', NULL, 'Tờ khai', 'sim', '', 'ready', 'ok', 'ok',
    NULL, 100, 101, NULL, NULL);
INSERT INTO jobs VALUES (2, 'PL01-261122-002', '000.00.04.H40-230414-0002', 'CCCD', 'sim', '',
    'paused', 'jam', 'kẹt giấy', NULL, 200, 201, NULL, NULL);
INSERT INTO jobs VALUES (3, 'PL01-261122-003', '000.00.04.H40-230414-0002', 'Tờ khai', 'sim',
    '', 'ready', '', '', NULL, 300, 301, NULL, NULL);
INSERT INTO files VALUES (1, 1, 'outbox/a.pdf', 'ab12', 1234, 1, NULL);
INSERT INTO files VALUES (3, 1, 'outbox/000.00.04.H40-230414-0002_02_to-khai.pdf', 'cd', 9, 0,
    NULL);
INSERT INTO pages VALUES (2, 1, 'spool/000002/p0001.pdf', 'cd', 'ef', 99, 0, 'color');
INSERT INTO history VALUES (1, 100, 'queued', ''), (2, 200, 'paused', 'jam');
INSERT INTO tickets VALUES ('2026-11-22', 2);
UPDATE sqlite_sequence SET seq = 5 WHERE name = 'jobs';
"""


def test_a_queue_from_before_dossiers_is_upgraded_keeping_every_row(tmp_path):
    db = tmp_path / "queue.db"
    with sqlite3.connect(db) as c:
        c.executescript(OLD_SCHEMA)
    with Queue(db) as queue:
        first, second = queue.get(1), queue.get(2)
        assert (first.ticket, first.seq, first.doc, first.state, first.created) == (
            "PL01-261122-001", 1, "Tờ khai", State.READY, 100)
        assert [(f.path, f.sha256) for f in first.files] == [(str(tmp_path / "outbox/a.pdf"),
                                                              "ab12")]
        assert (second.dossier, second.message_vi, second.pages) == (CODE, "kẹt giấy", 1)
        assert [p.kind for p in queue.pages(2)] == ["color"] and queue.history(2)[0][2] == "jam"
        # the second document given the same code: the seq its file name has
        assert (queue.get(3).seq, queue.get(3).ticket) == (2, "PL01-261122-003")
        # a ticket names a dossier now: a second document joins the first's
        joined = queue.create(kit="PL01", doc="CCCD", scanner="sim", preset="",
                              ticket=first.ticket)
        assert (joined.id, joined.ticket, joined.seq) == (6, first.ticket, 2)  # no id reused
        assert queue.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert queue.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Queue(db) as queue:  # opening again changes nothing
        assert [(j.id, j.seq) for j in queue.jobs()] == [(1, 1), (2, 1), (3, 2), (6, 2)]


def test_documents_join_a_dossier_in_order_and_keep_their_names(env):
    cfg, storage, queue = env
    first = ready(cfg, storage, queue, "Giấy khai sinh", dossier=CODE)
    second = ready(cfg, storage, queue, "CCCD", dossier=CODE)  # the code's dossier: joined
    third = ready(cfg, storage, queue, "Tờ khai", ticket=first.ticket)
    assert second.ticket == third.ticket == first.ticket
    assert [j.seq for j in queue.dossier(first.ticket)] == [1, 2, 3]
    assert names(queue, first.ticket) == [f"{CODE}_01_giay-khai-sinh.pdf", f"{CODE}_02_cccd.pdf",
                                          f"{CODE}_03_to-khai.pdf"]
    queue.transition(first.id, State.ASSEMBLING, "made again")  # a page restored, say
    Worker(cfg, storage, queue, cfg.scanner[0]).run(queue.get(first.id))
    assert names(queue, first.ticket)[0] == f"{CODE}_01_giay-khai-sinh.pdf"  # not _01-2, _04
    queue.conn.execute("UPDATE tickets SET n = 0")  # a counter behind (an old copy restored)
    other = queue.create(kit="PL01", doc="CCCD", scanner="sim", preset="")
    assert (other.ticket[-3:], other.seq) == ("002", 1)  # never a second "first document"
    with pytest.raises(NotFound):
        queue.create(kit="PL01", doc="CCCD", scanner="sim", preset="", ticket="PL01-261122-099")
    with pytest.raises(JobError, match="has the code"):
        queue.create(kit="PL01", doc="CCCD", scanner="sim", preset="", ticket=first.ticket,
                     dossier=OTHER)
    with pytest.raises(JobError, match="names 3 documents"):
        queue.get(first.ticket)
    assert queue.get(other.ticket).id == other.id  # a ticket of one document still names it


def test_a_dossier_is_renamed_whole_and_its_code_is_its_own(env):
    cfg, storage, queue = env
    first = ready(cfg, storage, queue, "Giấy khai sinh")
    ready(cfg, storage, queue, "CCCD", ticket=first.ticket)
    queued = queue.create(kit="PL01", doc="Tờ khai", scanner="sim", preset="",
                          ticket=first.ticket)
    old = [Path(f.path) for j in queue.dossier(first.ticket) for f in j.files]
    d = dossiers.rename(cfg, storage, queue, first.ticket, CODE.lower())
    assert d.code == CODE and {j.dossier for j in d.jobs} == {CODE}
    assert names(queue, first.ticket) == [f"{CODE}_01_giay-khai-sinh.pdf", f"{CODE}_02_cccd.pdf"]
    assert not any(p.exists() for p in old) and outbox.verify(storage, queue) == []
    assert dossiers.find(queue, CODE).ticket == first.ticket
    # the document not scanned yet gets the code when it is made
    Worker(cfg, storage, queue, cfg.scanner[0]).run(queue.get(queued.id))
    assert names(queue, first.ticket)[-1] == f"{CODE}_03_to-khai.pdf"
    other = ready(cfg, storage, queue, "CCCD")
    with pytest.raises(StateConflict, match=f"already belongs to dossier {first.ticket}"):
        dossiers.rename(cfg, storage, queue, other.ticket, CODE)
    assert queue.get(other.id).dossier is None
    with pytest.raises(JobError, match="invalid dossier code"):
        dossiers.rename(cfg, storage, queue, other.ticket, "H40-1")
    with pytest.raises(NotFound):
        dossiers.find(queue, OTHER)


class PowerCut(BaseException):
    pass


@pytest.mark.parametrize("links_before_cut", [0, 1])
def test_a_dossier_rename_cut_short_is_finished_by_recovery(env, monkeypatch, links_before_cut):
    cfg, storage, queue = env
    first = ready(cfg, storage, queue, "Giấy khai sinh")
    ready(cfg, storage, queue, "CCCD", ticket=first.ticket)
    old = [Path(f.path) for j in queue.dossier(first.ticket) for f in j.files]
    link, done = outbox._link, []

    def cut(src, dst):
        if len(done) == links_before_cut:
            raise PowerCut
        link(src, dst)
        done.append(dst)

    monkeypatch.setattr(outbox, "_link", cut)
    with pytest.raises(PowerCut):
        dossiers.rename(cfg, storage, queue, first.ticket, CODE)
    monkeypatch.undo()
    assert {j.dossier for j in queue.dossier(first.ticket)} == {CODE}  # recorded at once
    assert old[1].exists()  # the second file was not moved before the cut
    outbox.recover(storage, queue)
    assert names(queue, first.ticket) == [f"{CODE}_01_giay-khai-sinh.pdf", f"{CODE}_02_cccd.pdf"]
    assert not any(p.exists() for p in old)
    assert all(j.dossier == CODE for j in queue.dossier(first.ticket))
    assert outbox.verify(storage, queue) == []


def test_uploaded_marks_the_whole_dossier_once_every_document_is_done(env):
    cfg, storage, queue = env
    first = ready(cfg, storage, queue, "Giấy khai sinh")
    paused = queue.create(kit="PL01", doc="Tờ khai", scanner="sim", preset="",
                          ticket=first.ticket)
    queue.transition(paused.id, State.SCANNING)
    queue.transition(paused.id, State.PAUSED, "jam")
    with pytest.raises(StateConflict, match=r"document 2 \(job 2, paused\) not finished") as e:
        dossiers.uploaded(queue, first.ticket)
    assert "giấy tờ 2 (Tờ khai)" in e.value.vi
    assert queue.get(first.id).state == State.READY  # nothing marked
    queue.transition(paused.id, State.FAILED, "given up")
    d = dossiers.uploaded(queue, first.ticket)
    assert d.uploaded and d.state == "uploaded" and d.todo == []
    assert dossiers.uploaded(queue, first.ticket).uploaded  # again: nothing to do, no error
    with pytest.raises(StateConflict, match="uploaded already"):
        actions.create(cfg, storage, queue, scanner="sim", preset="", doc="CCCD", dossier=None,
                       ticket=first.ticket)
    failed = queue.create(kit="PL01", doc="CCCD", scanner="sim", preset="")
    queue.transition(failed.id, State.FAILED, "no scanner")
    with pytest.raises(StateConflict, match="no finished file"):
        dossiers.uploaded(queue, failed.ticket)


def test_state_and_todo_of_a_dossier(env):
    cfg, storage, queue = env
    first = ready(cfg, storage, queue, "Giấy khai sinh")
    assert dossiers.find(queue, first.ticket).todo == ["give_code", "upload"]
    job = queue.create(kit="PL01", doc="CCCD", scanner="sim", preset="", ticket=first.ticket)
    d = dossiers.find(queue, first.ticket)
    assert (d.state, d.todo) == ("scanning", ["wait_scanning", "give_code", "upload"])
    queue.transition(job.id, State.SCANNING)
    queue.transition(job.id, State.PAUSED, "jam")
    d = dossiers.find(queue, first.ticket)
    assert (d.state, d.todo) == ("paused", ["decide_paused", "give_code", "upload"])
    view = d.summary()
    assert [doc["seq"] for doc in view["documents"]] == [1, 2]
    assert (view["ref"], view["pages"], view["uploaded"]) == (first.ticket, 2, False)


def test_listing_filters(env):
    cfg, storage, queue = env
    old = ready(cfg, storage, queue, "Giấy khai sinh", dossier=CODE)
    queue.conn.execute("UPDATE jobs SET created = created - 86400 WHERE id = ?", (old.id,))
    new = ready(cfg, storage, queue, "CCCD")
    dossiers.uploaded(queue, new.ticket)
    assert [d.ticket for d in dossiers.listing(queue)] == [new.ticket, old.ticket]
    assert [d.ticket for d in dossiers.listing(queue, today=True)] == [new.ticket]
    assert [d.ticket for d in dossiers.listing(queue, pending=True)] == [old.ticket]
    assert [d.ticket for d in dossiers.listing(queue, text="h40-230414")] == [old.ticket]
    assert [d.ticket for d in dossiers.listing(queue, text=new.ticket[-7:])] == [new.ticket]


# ------------------------------------------------------------------ the ZIP


def unzip_and_check(data: bytes, where: Path) -> dict:
    where.mkdir()
    (where / "d.zip").write_bytes(data)
    with zipfile.ZipFile(where / "d.zip") as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
        z.extractall(where / "out")
    sums = sorted(p.name for p in (where / "out").glob("*.sha256"))
    r = subprocess.run(["sha256sum", "-c", *sums], cwd=where / "out", capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout.count(": OK") == len(sums) > 0, r.stdout + r.stderr
    return json.loads((where / "out" / "manifest.json").read_text(encoding="utf-8"))


def test_export_holds_every_file_with_its_checksum_and_refuses_a_changed_one(env, tmp_path):
    cfg, storage, queue = env
    first = ready(cfg, storage, queue, "Giấy khai sinh")
    ready(cfg, storage, queue, "CCCD", ticket=first.ticket)
    dossiers.rename(cfg, storage, queue, first.ticket, CODE)
    exp = dossiers.export(storage, queue, CODE)
    assert exp.name == f"{CODE}.zip"
    manifest = unzip_and_check(b"".join(exp.chunks()), tmp_path / "a")
    assert (manifest["ticket"], manifest["code"]) == (first.ticket, CODE)
    assert [(d["seq"], d["doc"], d["pages"]) for d in manifest["documents"]] == [
        (1, "Giấy khai sinh", 2), (2, "CCCD", 2)]
    assert [f["name"] for d in manifest["documents"] for f in d["files"]] == names(
        queue, first.ticket)
    pdf = Path(queue.dossier(first.ticket)[1].files[0].path)
    with pdf.open("ab") as f:
        f.write(b"%changed")
    with pytest.raises(StorageError, match="edge verify") as e:
        dossiers.export(storage, queue, first.ticket)
    assert "has changed" in e.value.message
    pdf.unlink()
    with pytest.raises(StorageError, match=r"missing.*edge verify"):
        dossiers.export(storage, queue, first.ticket)


# ------------------------------------------------------------------ no mixing


def test_a_new_scan_waits_for_the_scanners_job(env):
    cfg, storage, queue = env
    job = actions.create(cfg, storage, queue, scanner="sim", preset="", doc="CCCD", dossier=None)
    with pytest.raises(actions.ScannerTaken) as e:  # pressed twice: not queued twice
        actions.create(cfg, storage, queue, scanner="sim", preset="", doc="CCCD", dossier=None,
                       aside=True)
    assert (e.value.conflict, e.value.job.id) == ("busy", job.id)
    queue.transition(job.id, State.SCANNING)
    queue.transition(job.id, State.PAUSED, "jam")
    with pytest.raises(actions.ScannerTaken) as e:
        actions.create(cfg, storage, queue, scanner="sim", preset="", doc="Tờ khai",
                       dossier=None)
    assert (e.value.conflict, e.value.job.id) == ("paused", job.id)
    assert f"edge resume {job.id}" in e.value.message and "--set-aside" in e.value.message
    assert len(queue.jobs()) == 1
    aside = actions.create(cfg, storage, queue, scanner="sim", preset="", doc="Tờ khai",
                           dossier=None, aside=True)
    assert aside.ticket != job.ticket and queue.get(job.id).state == State.PAUSED


# ------------------------------------------------------------------ the command line


def edge_json(kit, *args):
    r = kit.edge(*args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_cli_scan_refuses_to_mix_and_sets_aside(kit):
    kit.configure([sim(sheets=3)])
    first = edge_json(kit, "scan", "--scanner", "sim", "--doc", "Giấy khai sinh")
    with Queue(kit.root / "queue.db") as q:  # a second job, paused by a jam
        job = q.create(kit="PL01", doc="CCCD", scanner="sim", preset="")
        q.transition(job.id, State.SCANNING)
        q.transition(job.id, State.PAUSED, "jam")
    r = kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    for words in (f"job {job.id}", "paused with 0 page(s)", f"edge resume {job.id}",
                  f"edge finish {job.id}", "--set-aside"):
        assert words in r.stderr, r.stderr
    second = edge_json(kit, "scan", "--scanner", "sim", "--doc", "Tờ khai", "--set-aside",
                       "--into", first["ticket"])
    assert (second["ticket"], second["seq"], second["state"]) == (first["ticket"], 2, "ready")
    with Queue(kit.root / "queue.db") as q:
        busy = q.create(kit="PL01", doc="CCCD", scanner="sim", preset="")
    r = kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai", "--set-aside")
    assert r.returncode == 1 and f"busy with job {busy.id}" in r.stderr, r.stderr
    r = kit.edge("uploaded", first["ticket"])
    assert r.returncode == 1 and "names 2 documents" in r.stderr, r.stderr
    assert f"edge dossier show {first['ticket']}" in r.stderr


def test_cli_dossier_commands(kit, tmp_path):
    kit.configure([sim()])
    first = edge_json(kit, "scan", "--scanner", "sim", "--doc", "Giấy khai sinh")
    ticket = first["ticket"]
    edge_json(kit, "scan", "--scanner", "sim", "--doc", "CCCD", "--into", ticket)
    (listed,) = edge_json(kit, "dossier", "list", "--today", "--pending")
    assert (listed["ticket"], listed["state"], listed["todo"]) == (ticket, "ready",
                                                                  ["give_code", "upload"])
    r = kit.edge("dossier", "rename", ticket, CODE)
    assert r.returncode == 0 and f"dossier {ticket} (code {CODE}): ready, 2 document(s)" in \
        r.stdout, r.stderr
    assert f"{CODE}_02_cccd.pdf" in r.stdout
    third = edge_json(kit, "scan", "--scanner", "sim", "--doc", "Tờ khai", "--into", CODE)
    assert (third["ticket"], third["dossier"], third["seq"]) == (ticket, CODE, 3)
    shown = edge_json(kit, "dossier", "show", CODE)
    assert [d["seq"] for d in shown["documents"]] == [1, 2, 3] and shown["pages"] == 6
    r = kit.edge("dossier", "list")
    assert ticket in r.stdout and CODE in r.stdout and "upload" in r.stdout
    out = tmp_path / "d.zip"
    r = kit.edge("dossier", "export", CODE, "-o", str(out))
    assert r.returncode == 0 and "3 file(s)" in r.stdout, r.stderr
    manifest = unzip_and_check(out.read_bytes(), tmp_path / "x")
    assert len(manifest["documents"]) == 3
    r = kit.edge("dossier", "export", CODE, "-o", str(out))
    assert r.returncode == 1 and "exists already" in r.stderr
    r = kit.edge("dossier", "uploaded", CODE)
    assert r.returncode == 0 and "every document marked uploaded" in r.stdout, r.stderr
    assert edge_json(kit, "dossier", "list", "--pending") == []
    r = kit.edge("dossier", "show", "PL01-000000-999")
    assert r.returncode == 1 and "no job or dossier" in r.stderr


def test_scan_help_lists_the_scanner_names(kit):
    kit.configure([sim("ban-1"), sim("ban-2")])
    r = kit.edge("scan", "--help")
    assert r.returncode == 0 and "ban-1, ban-2" in r.stdout, r.stdout


def test_rebuild_adopts_the_documents_of_one_dossier(kit):
    kit.configure([sim()])
    first = edge_json(kit, "scan", "--scanner", "sim", "--doc", "Giấy khai sinh")
    edge_json(kit, "scan", "--scanner", "sim", "--doc", "CCCD", "--into", first["ticket"])
    (kit.root / "queue.db").write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        (kit.root / f"queue.db{suffix}").unlink(missing_ok=True)
    r = kit.edge("queue", "rebuild")
    assert r.returncode == 0 and "2 document(s) re-adopted" in r.stdout, r.stdout + r.stderr
    shown = edge_json(kit, "dossier", "show", first["ticket"])
    assert [(d["seq"], d["doc"]) for d in shown["documents"]] == [(1, "Giấy khai sinh"),
                                                                  (2, "CCCD")]
    assert kit.edge("verify").returncode == 0
