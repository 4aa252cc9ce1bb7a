"""The dossier JSON API and the no-mixing rule of POST /api/jobs, through Flask's test client on
a real queue and outbox (documents made by the simulated scanner's worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.pipeline.worker import Worker
from edge.web.app import create_app

from .test_dossiers import CODE, OTHER, sim, unzip_and_check
from .test_web import assert_error, client
from .web_kit import add_web


@pytest.fixture
def web(kit):
    kit.configure([sim()])
    add_web(kit.config)
    app = create_app(kit.cfg())
    app.testing = True
    return app


@pytest.fixture
def staff(web):
    return client(web, "staff")


def queue(kit):
    return Queue(kit.root / "queue.db")


def run(kit, job_id):
    """What the running service does with a queued job."""
    cfg = kit.cfg()
    with queue(kit) as q:
        return Worker(cfg, Storage(kit.root), q, cfg.scanner[0]).run(q.get(job_id))


def scan(c, kit, **body):
    r = c.post("/api/jobs", {"scanner": "sim", "doc": "Giấy khai sinh", **body})
    assert r.status_code == 201, r.json
    return run(kit, r.json["job_id"])


def pause(kit, job_id):
    with queue(kit) as q:
        q.transition(job_id, State.SCANNING)
        q.transition(job_id, State.PAUSED, "paper jam")


def test_scan_while_busy_or_paused_is_refused_and_aside_is_accepted(staff, kit):
    r = staff.post("/api/jobs", {"scanner": "sim", "doc": "Tờ khai"})
    assert r.status_code == 201
    first = r.json
    r = staff.post("/api/jobs", {"scanner": "sim", "doc": "Tờ khai"})  # Quét pressed twice
    assert_error(r, 409)
    assert r.json["conflict"] == "busy" and r.json["job"]["job_id"] == first["job_id"]
    assert "page_list" in r.json["job"] and "Máy quét đang quét" in r.json["error_vi"]
    pause(kit, first["job_id"])
    r = staff.post("/api/jobs", {"scanner": "sim", "doc": "CCCD"})
    assert_error(r, 409)
    assert (r.json["conflict"], r.json["job"]["state"]) == ("paused", "paused")
    assert "tạm dừng" in r.json["error_vi"]
    assert_error(staff.post("/api/jobs", {"scanner": "sim", "doc": "CCCD", "paused": "yes"}), 400)
    with queue(kit) as q:
        assert len(q.jobs()) == 1  # nothing was queued by the refused presses
    r = staff.post("/api/jobs", {"scanner": "sim", "doc": "CCCD", "paused": "aside"})
    assert r.status_code == 201 and r.json["ticket"] != first["ticket"]


def test_a_document_is_added_to_a_dossier_by_its_ticket(staff, kit):
    first = scan(staff, kit)
    second = scan(staff, kit, doc="CCCD", ticket=first.ticket)
    assert (second.ticket, second.seq) == (first.ticket, 2)
    r = staff.get(f"/api/jobs/{second.id}")
    assert r.json["seq"] == 2
    assert_error(staff.post("/api/jobs", {"scanner": "sim", "doc": "x",
                                          "ticket": "PL01-200101-999"}), 404)
    assert_error(staff.post("/api/jobs", {"scanner": "sim", "doc": "x", "ticket": "../x"}), 404)
    assert staff.post(f"/api/dossiers/{first.ticket}/uploaded").status_code == 200
    r = staff.post("/api/jobs", {"scanner": "sim", "doc": "x", "ticket": first.ticket})
    assert_error(r, 409)
    assert "đã nộp" in r.json["error_vi"]


def test_dossier_view_rename_uploaded_and_export(staff, kit, tmp_path):
    first = scan(staff, kit)
    scan(staff, kit, doc="CCCD", ticket=first.ticket)
    later = staff.post("/api/jobs", {"scanner": "sim", "doc": "Tờ khai", "ticket": first.ticket})
    pause(kit, later.json["job_id"])
    d = staff.get(f"/api/dossiers/{first.ticket}").json
    assert (d["ticket"], d["code"], d["ref"], d["state"], d["pages"], d["uploaded"]) == (
        first.ticket, None, first.ticket, "paused", 4, False)
    assert d["todo"] == ["decide_paused", "give_code", "upload"]
    assert [(j["seq"], j["doc"], j["state"]) for j in d["documents"]] == [
        (1, "Giấy khai sinh", "ready"), (2, "CCCD", "ready"), (3, "Tờ khai", "paused")]
    assert {"page_list", "files", "job_id"} <= set(d["documents"][0])
    assert d["created"] <= d["updated"]

    r = staff.post(f"/api/dossiers/{first.ticket}/rename", {"dossier": CODE})
    assert r.status_code == 200, r.json
    assert r.json["code"] == r.json["ref"] == CODE
    assert [f["name"] for j in r.json["documents"] for f in j["files"]] == [
        f"{CODE}_01_giay-khai-sinh.pdf", f"{CODE}_02_cccd.pdf"]
    assert staff.get(f"/api/dossiers/{CODE}").json["ticket"] == first.ticket

    r = staff.post(f"/api/dossiers/{CODE}/uploaded")
    assert_error(r, 409)
    assert "document 3" in r.json["error"] and "Tờ khai" in r.json["error_vi"]

    r = staff.get(f"/api/dossiers/{CODE}/export")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{CODE}.zip"'
    manifest = unzip_and_check(r.data, tmp_path / "zip")
    assert [len(doc["files"]) for doc in manifest["documents"]] == [1, 1, 0]

    with queue(kit) as q:
        q.transition(later.json["job_id"], State.FAILED, "given up")
    d = staff.post(f"/api/dossiers/{CODE}/uploaded").json
    assert (d["state"], d["uploaded"], d["todo"]) == ("uploaded", True, [])
    assert [j["state"] for j in d["documents"]] == ["uploaded", "uploaded", "failed"]


def test_rename_to_another_dossiers_code_is_refused(staff, kit):
    first = scan(staff, kit, dossier=CODE)
    second = scan(staff, kit, doc="CCCD")
    r = staff.post(f"/api/dossiers/{second.ticket}/rename", {"dossier": CODE})
    assert_error(r, 409)
    assert first.ticket in r.json["error"] and "đã thuộc hồ sơ" in r.json["error_vi"]
    assert_error(staff.post(f"/api/dossiers/{second.ticket}/rename", {"dossier": "x"}), 400)
    assert_error(staff.post(f"/api/dossiers/{second.ticket}/rename", {}), 400)
    r = staff.post(f"/api/dossiers/{second.ticket}/rename", {"dossier": OTHER})
    assert r.status_code == 200 and r.json["code"] == OTHER


def test_a_changed_file_refuses_the_export(staff, kit):
    job = scan(staff, kit)
    Path(job.files[0].path).write_bytes(b"%PDF-1.7 not what was scanned")
    r = staff.get(f"/api/dossiers/{job.ticket}/export")
    assert_error(r, 503)
    assert "edge verify" in r.json["error"]


def test_listing_and_filters(staff, kit):
    old = scan(staff, kit, dossier=CODE)
    with queue(kit) as q:
        q.conn.execute("UPDATE jobs SET created = created - 86400 WHERE id = ?", (old.id,))
    new = scan(staff, kit, doc="CCCD")
    staff.post(f"/api/dossiers/{new.ticket}/uploaded")

    def tickets(query=""):
        r = staff.get(f"/api/dossiers{query}")
        assert r.status_code == 200, r.json
        return [d["ticket"] for d in r.json["dossiers"]]

    assert tickets() == [new.ticket, old.ticket]
    assert tickets("?today=1") == [new.ticket]
    assert tickets("?pending=1") == [old.ticket]
    assert tickets("?q=h40-230414-0002&pending=0") == [old.ticket]
    assert tickets(f"?q={new.ticket}") == [new.ticket]
    assert_error(staff.get("/api/dossiers?today=yes"), 400)
    assert_error(staff.get("/api/dossiers?q=" + "x" * 65), 400)


@pytest.mark.parametrize("path", ["/api/dossiers/PL01-200101-999", "/api/dossiers/..%2Fqueue.db",
                                  f"/api/dossiers/{OTHER}", "/api/dossiers/x/export",
                                  f"/api/dossiers/{OTHER}/export"])
def test_unknown_dossiers(staff, path):
    assert_error(staff.get(path), 404)


def test_only_staff_reach_dossiers(web, kit):
    scan(client(web, "staff"), kit)
    for name in ("tech", "vol"):
        assert_error(client(web, name).get("/api/dossiers"), 403)
    assert_error(client(web).get("/api/dossiers"), 401)
    c = client(web, "staff")
    ticket = c.get("/api/dossiers").json["dossiers"][0]["ticket"]
    assert_error(c.post(f"/api/dossiers/{ticket}/uploaded", token=False), 403)


def test_pages_render_with_dossiers(staff, kit):
    scan(staff, kit, dossier=CODE)
    assert CODE in staff.get("/dossiers").get_data(as_text=True)
    assert f'value="{CODE}"' in staff.get("/scan").get_data(as_text=True)
