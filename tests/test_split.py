"""Documents over the per-file budget are split into parts, each with its own checksum."""

import json
from pathlib import Path

import pikepdf

from edge.pipeline import outbox
from edge.pipeline.assemble import FILE_OVERHEAD, plan_parts
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from tests.test_outbox import CODE, sha_ok

MB = 2**20


def test_pages_are_grouped_in_order_under_the_budget():
    kb = 1024
    assert plan_parts([100 * kb] * 5, 10 * MB) == [[0, 1, 2, 3, 4]]
    budget = FILE_OVERHEAD + 300 * kb
    assert plan_parts([100 * kb] * 7, budget) == [[0, 1, 2], [3, 4, 5], [6]]
    # a page over the budget by itself is not lost: it gets a file of its own
    assert plan_parts([50 * kb, 400 * kb, 50 * kb], budget) == [[0], [1], [2]]


def big_pages(**extra):
    """Colour pages at high quality: about 0.3 MB each, so 1 MB holds two or three."""
    return {"name": "sim", "driver": "sim", "source": "adf", "dpi": 150, "mode": "color",
            "auto_color": False, "jpeg_quality": 85, "max_file_mb": 1,
            "sim": {"sheets": 7, "page_delay": 0.0, "blank_backs": False}, **extra}


def test_a_long_document_is_split_and_staff_are_told(kit):
    kit.configure([big_pages()])
    r = kit.edge("scan", "--scanner", "sim", "--doc", "Giấy khai sinh", "--json")
    job = json.loads(r.stdout)
    assert r.returncode == 0 and job["state"] == "ready" and job["pages"] == 7
    files = [Path(f["path"]) for f in job["files"]]
    n = len(files)
    assert 3 <= n < 7  # parts of several pages
    assert [p.name for p in files] == [f"PL01-{p.name[5:11]}-001_01_giay-khai-sinh_part{i}.pdf"
                                       for i, p in enumerate(files, 1)]
    assert f"split into {n} files" in job["message"] and f"đủ cả {n} tệp" in job["message_vi"]
    pages = 0
    for i, (path, f) in enumerate(zip(files, job["files"], strict=True), 1):
        assert path.stat().st_size == f["bytes"] <= MB
        sha_ok(path)
        with pikepdf.open(path) as pdf:
            pages += len(pdf.pages)
            assert str(pdf.docinfo["/EdgePart"]) == f"{i}/{n}"
            with pdf.open_metadata() as xmp:
                assert xmp["dc:title"] == "Giấy khai sinh"
    assert pages == 7 and sum(f["bytes"] for f in job["files"]) == job["bytes"]
    assert kit.edge("verify").stdout.endswith(f"{n} file(s) checked, 0 problem(s)\n")

    renamed = json.loads(kit.edge("rename", "1", "--dossier", CODE, "--json").stdout)
    assert [Path(f["path"]).name for f in renamed["files"]] == [
        f"{CODE}_01_giay-khai-sinh_part{i}.pdf" for i in range(1, n + 1)]
    assert not any(p.exists() for p in files)
    assert sorted(p.name for p in kit.outbox_files()) == sorted(
        [Path(f["path"]).name for f in renamed["files"]]
        + [Path(f["path"]).name + ".sha256" for f in renamed["files"]])
    assert kit.edge("verify").returncode == 0


def test_a_split_rename_cut_short_is_completed(kit):
    kit.configure([big_pages()])
    kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai")
    storage = Storage(kit.cfg().storage.root)
    with Queue(storage.db) as queue:
        job = queue.get(1)
        old = [Path(f.path) for f in job.files]
        base = old[0].parent / f"{CODE}_01_to-khai.pdf"
        new = outbox.part_paths(base, len(old))
        # the cut came after the first part was linked under its new name, before the rest
        queue.set_dossier(job.ticket, CODE)
        queue.set_pending_pdf(job.id, base)
        new[0].hardlink_to(old[0])
        outbox.recover(storage, queue)
        assert [f.path for f in queue.get(job.id).files] == [str(p) for p in new]
        assert not any(p.exists() for p in old)
        assert outbox.verify(storage, queue) == []


def test_a_queue_from_before_split_files_keeps_its_documents(tmp_path):
    import sqlite3

    db = tmp_path / "queue.db"
    with sqlite3.connect(db) as c:  # the jobs table as it was when a job had one file
        c.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, ticket TEXT NOT NULL "
                  "UNIQUE, dossier TEXT, doc TEXT NOT NULL, scanner TEXT NOT NULL, preset TEXT "
                  "NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', message_vi "
                  "TEXT NOT NULL DEFAULT '', pdf TEXT, sha256 TEXT, bytes INTEGER, pending_pdf "
                  "TEXT, created REAL NOT NULL, updated REAL NOT NULL, uploaded REAL, purged "
                  "REAL, ocr INTEGER NOT NULL DEFAULT 0, ocr_pending_sha TEXT)")
        c.execute("INSERT INTO jobs(ticket, doc, scanner, preset, state, pdf, sha256, bytes, ocr, "
                  "created, updated) VALUES ('PL01-261122-001', 'Tờ khai', 'sim', '', 'ready', "
                  "'outbox/a.pdf', 'ab12', 1234, 1, 0, 0)")
    with Queue(db) as queue:
        job = queue.get(1)
        assert [(f.path, f.sha256, f.bytes) for f in job.files] == [
            (str(tmp_path / "outbox/a.pdf"), "ab12", 1234)]
        assert queue.ocr_done(1) and queue.ocr_next() is None
    with Queue(db) as queue:  # opening again changes nothing
        assert len(queue.get(1).files) == 1
