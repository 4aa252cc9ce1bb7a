"""The field API through Flask's test client: who may start and end a visit, give and call
numbers; bad input refused with clear 4xx words; the public display shows numbers and areas and
nothing else; a scan made for a number carries its ticket."""

from __future__ import annotations

import pytest

from edge.web.app import create_app

from .test_web import assert_error, client
from .web_kit import add_web


@pytest.fixture
def web(kit, tmp_path):
    kit.configure([{"name": "sim", "driver": "sim", "dpi": 100, "source": "adf",
                    "presets": {"tk": {"label": "Tờ khai", "doc": "Tờ khai"}}}])
    kit.config.write_text(kit.config.read_text() + f"""
[[places]]
name = "Thôn Đông"
venue = "Nhà văn hóa thôn Đông"

[[receipt_printer]]
name = "slip"
transport = "file"
path = "{tmp_path / 'receipt.bin'}"
""", encoding="utf-8")
    add_web(kit.config)
    app = create_app(kit.cfg())
    app.testing = True
    return app


def test_roles(web):
    vol, staff, tech, nobody = (client(web, "vol"), client(web, "staff"), client(web, "tech"),
                                client(web))
    assert_error(nobody.post("/api/visit/start", {"place": "Thôn Đông"}), 401)
    assert_error(staff.post("/api/queue", {"area": "digitise"}), 409)  # no visit yet
    r = vol.post("/api/visit/start", {"place": "Thôn Đông"})
    assert r.status_code == 200 and r.json["visit"]["venue"] == "Nhà văn hóa thôn Đông"
    assert_error(vol.post("/api/visit/end"), 403)
    assert_error(tech.post("/api/queue", {"area": "digitise"}), 403)
    assert_error(vol.post("/api/queue/next", {"area": "digitise"}), 403)
    r = vol.post("/api/queue", {"area": "digitise", "priority": "elderly"})
    assert r.status_code == 201 and r.json["entry"]["n"] == 1
    assert r.json["slip"]["state"] == "printed"
    assert tech.get("/api/visit").json["visit"]["place"] == "Thôn Đông"
    r = staff.post("/api/queue/next", {"area": "digitise"})
    assert r.json["call"]["n"] == 1
    assert staff.post(f"/api/queue/{r.json['call']['id']}/done").json["entry"]["state"] == \
        "done"
    assert tech.post("/api/visit/end").status_code == 200


def test_bad_input_is_refused_in_words(web):
    vol, staff = client(web, "vol"), client(web, "staff")
    assert_error(vol.post("/api/visit/start", {"place": ""}), 400)
    assert_error(vol.post("/api/visit/start", {"place": 5}), 400)
    vol.post("/api/visit/start", {"place": "Xóm Mới"})  # typed once, remembered
    assert_error(vol.post("/api/visit/start", {"place": "Thôn Đông"}), 409)
    r = vol.post("/api/queue", {"area": "kitchen"})
    assert_error(r, 400)
    assert r.json["error_vi"] == "Khu vực không hợp lệ"
    assert_error(vol.post("/api/queue", {"area": "support", "priority": "vip"}), 400)
    assert_error(staff.post("/api/queue/next", {"area": "nowhere"}), 400)
    assert_error(staff.post("/api/queue/999/done"), 404)
    assert_error(staff.post("/api/queue/1/explode"), 404)
    assert_error(staff.get("/api/queue?area=x"), 400)
    e = vol.post("/api/queue", {"area": "support"}).json["entry"]
    r = staff.post(f"/api/queue/{e['id']}/done")  # not called yet
    assert_error(r, 409)
    assert r.json["error_vi"].startswith(f"Số {e['n']} chưa được gọi")
    # not an id (400), or an id past SQLite's 64-bit integers: no such number (404, not a 500)
    for bad_id, status in (("abc", 400), ([1], 400), ("9" * 20, 404), (1.5e300, 404)):
        assert_error(staff.post("/api/jobs", {"scanner": "sim", "preset": "tk",
                                              "doc": "Tờ khai", "queue": bad_id}), status)
    assert_error(vol.get(f"/api/queue/{'9' * 20}/slip.png"), 404)
    assert [p["name"] for p in vol.get("/api/visit").json["places"]] == ["Thôn Đông", "Xóm Mới"]


def test_display_shows_numbers_and_areas_only(web):
    vol, staff = client(web, "vol"), client(web, "staff")
    anyone = client(web)
    assert anyone.get("/queue/display").status_code == 200
    assert anyone.get("/api/queue/display").json["calls"] == []
    vol.post("/api/visit/start", {"place": "Thôn Đông"})
    e = vol.post("/api/queue", {"area": "digitise", "priority": "disability",
                                "procedure": "Đăng ký khai sinh"}).json["entry"]
    staff.post("/api/queue/next", {"area": "digitise"})
    job = staff.post("/api/jobs", {"scanner": "sim", "preset": "tk", "doc": "Tờ khai",
                                   "queue": e["id"]})
    assert job.status_code == 201, job.json
    d = anyone.get("/api/queue/display").json
    assert d["visit"] == {"place": "Thôn Đông", "venue": "Nhà văn hóa thôn Đông"}
    assert [{k: c[k] for k in ("n", "area", "state")} for c in d["calls"]] == [
        {"n": 1, "area": "digitise", "state": "called"}]
    assert set(d["calls"][0]) == {"n", "area", "at", "state"}
    text = anyone.get("/api/queue/display").get_data(as_text=True)
    for secret in (job.json["ticket"], "disability", "khai sinh"):
        assert secret not in text
    assert staff.get("/api/queue?area=digitise").json["called"][0]["ticket"] == \
        job.json["ticket"]
    assert staff.get(f"/api/dossiers/{job.json['ticket']}").json["queue_n"] == 1
    assert_error(anyone.get("/api/queue"), 401)
    assert_error(anyone.get(f"/api/queue/{e['id']}/slip.png"), 401)
    png = vol.get(f"/api/queue/{e['id']}/slip.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")


def test_volunteers_land_on_reception_while_a_visit_is_open(web):
    """Giving numbers is a volunteer's first job on a visit day; the slips page otherwise."""
    vol, staff = client(web, "vol"), client(web, "staff")
    assert vol.get("/").headers["Location"].endswith("/receipts")
    vol.post("/api/visit/start", {"place": "Thôn Đông"})
    assert vol.get("/").headers["Location"].endswith("/reception")
    assert staff.get("/").headers["Location"].endswith("/dossiers")  # staff: the day's work
    staff.post("/api/visit/end")
    assert vol.get("/").headers["Location"].endswith("/receipts")


def test_scan_page_says_which_number_it_scans_for(web):
    vol, staff = client(web, "vol"), client(web, "staff")
    vol.post("/api/visit/start", {"place": "Thôn Đông"})
    entry = vol.post("/api/queue", {"area": "digitise", "priority": "elderly"}).json["entry"]
    page = staff.get(f"/scan?queue={entry['id']}").data.decode()
    assert "Quét giấy tờ cho công dân số 1 · Người cao tuổi" in page
    for hostile in ("999", "abc", "1" * 5000, "²", "-1", "1e3", ""):  # unknown or not an id
        r = staff.get(f"/scan?queue={hostile}")
        assert r.status_code == 200 and b'id="scanning-for"' not in r.data
