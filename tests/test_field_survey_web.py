"""The survey kiosk and the report page through Flask's test client: who may unlock, what a
kiosk may do (answer, nothing else), the figures on the page and the downloads."""

from __future__ import annotations

import io
import re

import pytest

from edge.field import db
from edge.web.app import create_app

from .field_day import DAY, EXPECTED, write_day
from .test_web import assert_error, client
from .web_kit import add_web


@pytest.fixture
def web(kit):
    add_web(kit.config)
    app = create_app(kit.cfg())
    app.testing = True
    return app


def unlock(app, who="vol"):
    c = client(app, who)
    page = c.get("/survey")
    assert page.status_code == 200 and b'id="kiosk-start"' in page.data
    r = c.c.post("/survey/kiosk", data={"csrf_token": c.token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/survey")
    c.token = re.search(rb'name="csrf-token" content="([^"]+)"', c.get("/survey").data)[1].decode()
    return c


def test_a_kiosk_answers_and_does_nothing_else(web, kit):
    assert client(web).get("/survey").status_code == 302  # no login, no kiosk
    assert_error(client(web).post("/api/survey", {"score": 5}), 401)
    assert_error(client(web, "tech").post("/api/survey", {"score": 5}), 401)
    c = unlock(web)
    page = c.get("/survey")
    assert b'id="face-5"' in page.data and b'id="kiosk-start"' not in page.data
    text = page.data.decode()
    assert "Rất hài lòng" in text
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing from outside the kit
    assert_error(c.get("/api/me"), 401)  # the volunteer is logged out of this browser
    assert c.get("/receipts").status_code == 302
    r = c.post("/api/survey", {"score": 4, "better": ["wait"], "number": None})
    assert r.status_code == 201, r.json
    assert_error(c.post("/api/survey", {"score": 9}), 400)
    assert_error(c.post("/api/survey", {"score": 5, "number": "12"}), 404)  # not issued today
    conn = db.connect(kit.root)
    assert [tuple(r) for r in conn.execute("SELECT score, better FROM survey")] == [(4, "wait")]
    conn.close()
    c.c.post("/survey/leave", data={"csrf_token": c.token})
    assert c.get("/survey").status_code == 302
    assert_error(c.post("/api/survey", {"score": 5}), 401)


def test_only_staff_and_volunteers_unlock_a_kiosk(web):
    c = client(web, "tech")
    assert c.get("/survey").status_code == 302
    assert c.post("/survey/kiosk").status_code == 403


def test_report_page_and_downloads(web, kit):
    openpyxl = pytest.importorskip("openpyxl")
    v1, _ = write_day(kit.root)
    c = client(web, "tech")
    page = c.get(f"/reports?visit={v1}").data.decode()
    served = re.search(r'data-code="served"><td>[^<]+</td><td class="n">(\d+)</td>', page)
    assert served and int(served[1]) == EXPECTED["served"]
    assert "75,0" in page and "Thôn Đông" in page
    r = c.get(f"/api/report?visit={v1}&format=xlsx")
    assert r.status_code == 200 and "bao-cao-buoi-1.xlsx" in r.headers["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert ("Công dân được phục vụ", 4) in [r[:2] for r in rows]
    month = c.get(f"/api/report?month={DAY:%Y-%m}&place=Thôn Đông&format=pdf")
    assert month.status_code == 200 and month.data.startswith(b"%PDF")
    assert "bao-cao-2026-11-thon-dong.pdf" in month.headers["Content-Disposition"]
    assert "Tổng cộng" in c.get(f"/reports?month={DAY:%Y-%m}").data.decode()
    assert_error(c.get("/api/report?month=2026-13"), 400)
    assert_error(c.get("/api/report?visit=77"), 404)
    assert_error(c.get("/api/report"), 400)
    assert_error(c.get(f"/api/report?visit={v1}&format=doc"), 400)
    for who in ("staff", "vol"):
        assert_error(client(web, who).get(f"/api/report?visit={v1}"), 403)


def test_the_slips_qr_opens_the_survey_for_its_number_once(web, kit):
    from edge.field import queue, visits

    kit.root.mkdir(parents=True, exist_ok=True)
    visits.start(kit.root, "Thôn Đông")
    queue.issue(kit.root, "digitise")
    entry = queue.issue(kit.root, "digitise")
    queue.link_ticket(kit.root, entry.id, "PL01-261203-0007")
    c = client(web)  # a citizen's phone: no login
    page = c.get("/survey?ticket=PL01-261203-0007")
    assert page.status_code == 200
    assert f'type="hidden" id="number" value="{entry.n}"' in page.data.decode()
    c.token = re.search(rb'name="csrf-token" content="([^"]+)"', page.data)[1].decode()
    assert c.post("/api/survey", {"score": 5, "number": 1}).status_code == 201
    conn = db.connect(kit.root)
    assert [tuple(r) for r in conn.execute(
        "SELECT q.n, s.score FROM survey s JOIN queue q ON q.id = s.queue")] == [(entry.n, 5)]
    conn.close()
    assert_error(c.post("/api/survey", {"score": 1}), 401)  # once
    assert c.get("/survey?ticket=PL01-261203-0007").status_code == 404  # answered
    assert client(web).get("/survey?ticket=PL01-261203-0099").status_code == 404
    assert client(web).get("/survey").status_code == 302


def test_unlocking_a_kiosk_with_no_visit_open_says_its_answers_count_nowhere(web):
    vol = client(web, "vol")
    page = vol.get("/survey").get_data(as_text=True)
    assert 'id="no-visit"' in page and "không được tính vào báo cáo" in page
    vol.post("/api/visit/start", {"place": "Thôn Đông"})
    assert 'id="no-visit"' not in vol.get("/survey").get_data(as_text=True)
