"""The web app through Flask's test client: login, roles, CSRF, and bad input giving clear 4xx
JSON errors (never a 500)."""

from __future__ import annotations

import html
import json
import re

import pytest

from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.web.app import create_app

from .conftest import sane_adf
from .web_kit import PASSWORDS, add_web


@pytest.fixture
def web(kit):
    kit.configure([sane_adf(presets={"ks": {"label": "Giấy khai sinh", "doc": "Giấy khai sinh"}})])
    add_web(kit.config, extra="login_attempts = 3")
    app = create_app(kit.cfg())
    app.testing = True
    return app


class Client:
    def __init__(self, app):
        self.c = app.test_client()
        self.token = self.c.get("/api/csrf").json["csrf_token"]

    def get(self, path):
        return self.c.get(path)

    def post(self, path, json=None, token=True, **kw):
        headers = {"X-CSRF-Token": self.token} if token else {}
        return self.c.post(path, json=json if json is not None else {}, headers=headers, **kw)

    def login(self, name):
        r = self.post("/api/login", {"name": name, "password": PASSWORDS[name]})
        assert r.status_code == 200, r.json
        self.token = r.json["csrf_token"]
        return self


def client(app, name=None):
    c = Client(app)
    return c.login(name) if name else c


def assert_error(r, status):
    assert r.status_code == status, (r.status_code, r.data[:300])
    assert r.is_json and r.json["error"] and r.json["error_vi"], r.data[:300]


def test_login_roles_and_logout(web):
    c = client(web)
    assert_error(c.get("/api/jobs"), 401)
    assert_error(c.post("/api/login", {"name": "staff", "password": "nope"}), 401)
    c.login("staff")
    assert c.get("/api/me").json == {"user": "staff", "role": "staff"}
    assert c.get("/api/jobs").status_code == 200
    assert c.post("/api/logout").status_code == 200
    assert_error(c.get("/api/jobs"), 401)


def test_login_is_rate_limited(web):
    c = client(web)
    for _ in range(3):
        assert_error(c.post("/api/login", {"name": "staff", "password": "x"}), 401)
    assert_error(c.post("/api/login", {"name": "staff", "password": PASSWORDS["staff"]}), 429)


@pytest.mark.parametrize("name, path, status", [
    ("vol", "/api/jobs", 403), ("vol", "/api/status", 403), ("tech", "/api/jobs", 403),
    ("tech", "/api/dossiers", 403), ("tech", "/api/receipts/templates", 403),
    ("staff", "/api/status", 200), ("tech", "/api/status", 200), ("tech", "/api/history", 200),
    ("vol", "/api/receipts/templates", 200),
])
def test_roles(web, name, path, status):
    r = client(web, name).get(path)
    assert r.status_code == status
    if status != 200:
        assert_error(r, status)


def test_volunteer_cannot_scan(web):
    assert_error(client(web, "vol").post("/api/jobs", {"scanner": "adf", "doc": "Tờ khai"}), 403)


def test_technician_sees_no_personal_data(web, kit):
    with Queue(kit.root / "queue.db") as q:
        q.create(kit="PL01", doc="Giấy khai sinh", scanner="adf", preset="",
                 dossier="000.00.04.H40-230414-0002")
    c = client(web, "tech")
    for path in ("/api/status", "/devices"):
        body = c.get(path).get_data(as_text=True)
        assert "H40-230414" not in body and "PL01-" not in body


def device_words(c):
    page = c.get("/devices").get_data(as_text=True)
    return json.loads(html.unescape(re.search(r'data-words="([^"]*)"', page).group(1)))


def test_devices_page_names_metrics_in_the_session_language(web):
    c = client(web, "tech")
    words = device_words(c)
    assert words["metrics"]["battery.runtime"] == "Thời gian pin còn lại"
    assert words["ups"]["OB"] == "Đang chạy pin" and words["units"]["min"] == "phút"
    c.c.post("/lang", data={"lang": "en", "next": "/devices", "csrf_token": c.token})
    words = device_words(c)
    assert words["metrics"]["battery.runtime"] == "Battery time left"
    assert words["ups"]["OL"] == "On mains" and words["units"]["min"] == "min"


def test_ups_and_modem_metrics_and_ups_status_words_have_labels():
    from edge.drivers import ups
    from edge.drivers.modem.sim import sim_reading
    from edge.web.i18n import METRIC_WORDS, UPS_WORDS

    keys = {*ups.NUMERIC, ups.STATUS, ups.ALARM, ups.ESTIMATED, *sim_reading(10.0).metrics}
    assert keys - set(METRIC_WORDS) == set()
    assert {"OL", "OB", "LB", "HB", "RB", "CHRG", "DISCHRG", "BYPASS", "CAL", "OFF", "OVER", "TRIM",
            "BOOST", "FSD"} <= set(UPS_WORDS)


def test_missing_or_wrong_csrf_token(web):
    c = client(web, "staff")
    assert_error(c.post("/api/jobs", {"scanner": "adf"}, token=False), 403)
    c.token = "forged"
    assert_error(c.post("/api/jobs", {"scanner": "adf"}), 403)
    anon = client(web)
    assert_error(anon.post("/api/login", {"name": "staff", "password": "x"}, token=False), 403)
    r = anon.c.post("/login", data={"name": "staff", "password": PASSWORDS["staff"]})
    assert r.status_code == 403  # the HTML form too


def test_create_job_queues_it_for_the_service(web, kit):
    c = client(web, "staff")
    r = c.post("/api/jobs", {"scanner": "adf", "preset": "ks",
                             "dossier": "000.00.04.h40-230414-0002"})
    assert r.status_code == 201, r.json
    job = r.json
    assert job["state"] == "queued" and job["doc"] == "Giấy khai sinh"
    assert job["dossier"] == "000.00.04.H40-230414-0002"
    assert c.get(f"/api/jobs/{job['job_id']}").json["ticket"] == job["ticket"]


@pytest.mark.parametrize("payload, status, text", [
    ({"scanner": "nope", "doc": "x"}, 400, "unknown scanner"),
    ({"scanner": "adf", "preset": "zz", "doc": "x"}, 400, "preset"),
    ({"scanner": "adf", "doc": "x", "dossier": "12345"}, 400, "dossier"),
    ({"scanner": "adf", "doc": "x" * 121}, 400, "at most 120"),
    ({"scanner": "adf", "doc": "x" * 5000}, 413, "at most 120"),
    ({"scanner": "adf", "doc": ["list"]}, 400, "expected a string"),
    ({"scanner": "adf"}, 400, "doc is required"),
    ({}, 400, "scanner is required"),
])
def test_bad_job_input(web, payload, status, text):
    r = client(web, "staff").post("/api/jobs", payload)
    assert_error(r, status)
    assert text in r.json["error"]


def test_oversized_body_and_not_json(web):
    c = client(web, "staff")
    r = c.c.post("/api/jobs", data="x" * 100_000, content_type="application/json",
                 headers={"X-CSRF-Token": c.token})
    assert_error(r, 413)
    r = c.c.post("/api/jobs", data="[1, 2", content_type="application/json",
                 headers={"X-CSRF-Token": c.token})
    assert_error(r, 400)


@pytest.mark.parametrize("path", [
    "/api/jobs/999", "/api/jobs/abc", "/api/jobs/999/files/1", "/api/jobs/999/pages/1/thumb",
    "/api/jobs/..%2F..%2Fetc%2Fpasswd", "/api/jobs/1/files/../../queue.db",
    "/api/jobs/%2e%2e/files/1", "/api/jobs/999/events", "/api/nothing-here",
])
def test_unknown_jobs_and_traversal(web, path):
    r = client(web, "staff").get(path)
    assert_error(r, 404)


def test_actions_in_the_wrong_state(web, kit):
    with Queue(kit.root / "queue.db") as q:
        job = q.create(kit="PL01", doc="Tờ khai", scanner="adf", preset="")
    c = client(web, "staff")
    base = f"/api/jobs/{job.id}"
    for action in ("resume", "finish", "uploaded"):
        assert_error(c.post(f"{base}/{action}"), 409)
    assert_error(c.post(f"{base}/restore", {"pages": [1]}), 409)
    assert_error(c.post(f"{base}/restore", {"pages": "1; DROP"}), 400)
    assert_error(c.post(f"{base}/rename", {"dossier": "../../x"}), 400)
    assert_error(c.post(f"{base}/explode"), 404)
    assert_error(c.post("/api/jobs/999/resume"), 404)
    assert_error(c.get(f"{base}/files/1"), 404)  # no PDF yet


def test_resume_and_finish_a_paused_job(web, kit):
    with Queue(kit.root / "queue.db") as q:
        job = q.create(kit="PL01", doc="Tờ khai", scanner="adf", preset="")
        q.transition(job.id, State.SCANNING)
        q.transition(job.id, State.PAUSED, "paper jam")
    c = client(web, "staff")
    assert c.post(f"/api/jobs/{job.id}/resume").json["state"] == "queued"
    with Queue(kit.root / "queue.db") as q:
        q.transition(job.id, State.SCANNING)
        q.transition(job.id, State.PAUSED, "paper jam")
    assert c.post(f"/api/jobs/{job.id}/finish").json["state"] == "assembling"


def test_history_bad_hours(web):
    c = client(web, "tech")
    assert_error(c.get("/api/history?hours=abc"), 400)
    assert_error(c.get("/api/history?hours=1000"), 400)


@pytest.mark.parametrize("payload, status", [
    ({"template": "nope", "fields": {}}, 400),
    ({"template": "reception", "fields": {"citizen": "x" * 600}}, 400),
    ({"template": "reception", "fields": "text"}, 400),
    ({"fields": {}}, 400),
    ({"template": "reception", "fields": {"citizen": "A"}}, 400),  # procedure required
])
def test_bad_slip_input(web, payload, status):
    assert_error(client(web, "vol").post("/api/receipts/preview", payload), status)


def test_slip_preview(web):
    r = client(web, "vol").post("/api/receipts/preview", {"template": "reception", "fields": {
        "ticket": "PL01-261122-007", "citizen": "Nguyễn Văn A",
        "procedure": "Đăng ký khai sinh"}})
    assert r.status_code == 200, r.json
    assert r.json["width"] == 576 and r.json["png"]


def test_slip_form_offers_todays_tickets_newest_first(web, kit):
    from edge.web import receipts

    with Queue(kit.root / "queue.db") as q:
        old = q.create(kit="PL01", doc="CCCD", scanner="adf", preset="")
        first = q.create(kit="PL01", doc="Tờ khai", scanner="adf", preset="",
                         dossier="000.00.04.H40-230414-0002")
        failed = q.create(kit="PL01", doc="CCCD", scanner="adf", preset="")
        q.transition(failed.id, State.FAILED, "jam")
        second = q.create(kit="PL01", doc="Giấy khai sinh", scanner="adf", preset="")
        q.conn.execute("UPDATE jobs SET created = created - 86400 WHERE id = ?", (old.id,))
        q.conn.commit()
        tickets = receipts.tickets(q)
    assert tickets == [{"ticket": second.ticket, "doc": "Giấy khai sinh", "dossier": ""},
                       {"ticket": first.ticket, "doc": "Tờ khai",
                        "dossier": "000.00.04.H40-230414-0002"}]
    assert client(web, "vol").get("/api/receipts/tickets").json["tickets"] == tickets
    assert_error(client(web, "tech").get("/api/receipts/tickets"), 403)


def test_pages_render_for_each_role(web):
    assert client(web).get("/scan").status_code == 302
    for name, page in (("staff", "/scan"), ("staff", "/dossiers"), ("tech", "/devices"),
                       ("vol", "/receipts")):
        r = client(web, name).get(page)
        assert r.status_code == 200 and b'name="csrf-token"' in r.data
    assert client(web, "vol").get("/scan").status_code == 403


def test_user_hash_command(kit):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "edge", "--config", str(kit.config), "user", "hash",
                        "anna", "--role", "volunteer"], input="123456\n", capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert 'role = "volunteer"' in r.stdout and "scrypt:" in r.stdout


def test_openapi_documents_every_api_route(web):
    import re

    import yaml

    from .conftest import ROOT

    spec = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    documented = {re.sub(r"\{[^}]+\}", "*", p) for p in spec["paths"]}
    for rule in web.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            assert re.sub(r"<[^>]+>", "*", rule.rule) in documented, rule.rule


def test_language_switch(web):
    c = client(web, "staff")
    assert "Quét hồ sơ" in c.get("/scan").get_data(as_text=True)
    r = c.c.post("/lang", data={"lang": "en", "next": "/scan", "csrf_token": c.token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/scan")
    assert ">Scan<" in c.get("/scan").get_data(as_text=True)
    r = c.c.post("/lang", data={"lang": "vi", "next": "//evil.example", "csrf_token": c.token})
    assert r.headers["Location"] == "/"


def test_no_new_scan_while_the_battery_is_nearly_empty(web, kit):
    from edge.pipeline.lock import worker_lock
    from edge.power import CRITICAL_FILE

    cfg = kit.cfg()
    cfg.runtime_dir.mkdir(parents=True, exist_ok=True)
    (cfg.runtime_dir / CRITICAL_FILE).write_text("{}")
    with worker_lock(kit.root / "locks") as held:  # as the running service holds it
        assert held
        r = client(web, "staff").post("/api/jobs", {"scanner": "adf", "doc": "Tờ khai"})
    assert_error(r, 503)
    assert "Pin bộ lưu điện sắp hết" in r.json["error_vi"]


def test_thumbnails_of_purged_jobs_are_dropped(web, kit):
    from edge.pipeline.storage import Storage
    from edge.web import thumbs

    with Queue(kit.root / "queue.db") as q:
        keep = q.create(kit="PL01", doc="Tờ khai", scanner="adf", preset="")
        gone = q.create(kit="PL01", doc="Tờ khai", scanner="adf", preset="")
        q.mark_purged(gone.id)
        for j in (keep, gone):
            (kit.root / "web-cache" / f"{j.id:06d}").mkdir(parents=True)
        assert thumbs.prune(Storage(kit.root), q) == 1
    assert [d.name for d in (kit.root / "web-cache").iterdir()] == [f"{keep.id:06d}"]


# ------------------------------------------------------------------ security findings


def test_secret_lives_in_a_private_directory_of_its_own(web, kit):
    secrets_dir = kit.root / "secrets"
    assert secrets_dir.stat().st_mode & 0o777 == 0o700
    secret = secrets_dir / "web-secret"
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_bytes()) >= 32
    assert not (kit.root / "web-secret").exists()


@pytest.mark.parametrize("spoil, words", [
    ("link", "symbolic link"), ("short", "shorter than 32"), ("readable", "readable by"),
    ("dir-link", "symbolic link"), ("dir-open", "readable by"),
])
def test_a_spoilt_secret_is_refused_at_start(kit, spoil, words):
    from edge.errors import ConfigError

    add_web(kit.config)
    create_app(kit.cfg())  # makes the secret
    d = kit.root / "secrets"
    secret = d / "web-secret"
    if spoil == "link":
        (kit.tmp / "elsewhere").write_text("x" * 64)
        secret.unlink()
        secret.symlink_to(kit.tmp / "elsewhere")
    elif spoil == "short":
        secret.write_text("short")
    elif spoil == "readable":
        secret.chmod(0o644)
    elif spoil == "dir-link":
        d.rename(kit.tmp / "moved")
        d.symlink_to(kit.tmp / "moved")
    else:
        d.chmod(0o755)
    with pytest.raises(ConfigError) as e:
        create_app(kit.cfg())
    assert words in str(e.value)
    r = kit.edge("web", timeout=60)
    assert r.returncode == 2 and words in r.stderr, r.stderr


def test_csrf_token_changes_at_login(web):
    c = client(web)
    before = c.token
    c.login("staff")
    assert c.token != before
    c.token = before
    assert_error(c.post("/api/jobs", {"scanner": "adf", "doc": "x"}), 403)


def test_logout_revokes_the_session_on_the_server(web):
    c = client(web, "staff")
    stolen = c.c.get_cookie("edge_session").value
    assert c.post("/api/logout").status_code == 200
    thief = web.test_client()
    thief.set_cookie("edge_session", stolen)
    assert_error(thief.get("/api/jobs"), 401)


def test_sessions_expire_after_login_whatever_the_activity(web):
    import time as _time
    from unittest import mock

    c = client(web, "staff")
    start = _time.time()
    with mock.patch("time.time", return_value=start + 300 * 60):
        assert c.get("/api/jobs").status_code == 200  # activity does not extend the login
    with mock.patch("time.time", return_value=start + 481 * 60):
        assert_error(c.get("/api/jobs"), 401)


def test_session_follows_the_account_in_the_config_file(web, kit):
    from edge.web import users

    c = client(web, "staff")
    text = kit.config.read_text(encoding="utf-8")
    kit.config.write_text(text.replace('name = "staff"\nrole = "staff"',
                                       'name = "staff"\nrole = "volunteer"'), encoding="utf-8")
    assert_error(c.get("/api/jobs"), 401)  # the role changed: log in again
    assert client(web, "staff").get("/api/me").json["role"] == "volunteer"
    kit.config.write_text("not toml [", encoding="utf-8")  # a broken file keeps the accounts
    assert client(web, "staff").get("/api/me").json["role"] == "volunteer"
    kit.config.write_text(text, encoding="utf-8")
    users._rewrite(kit.config, "staff", None)  # as `edge user remove staff`
    assert_error(client(web).post("/api/login", {"name": "staff",
                                                 "password": PASSWORDS["staff"]}), 401)


def test_login_is_throttled_per_account_across_addresses(web):
    for i in range(3):
        c = client(web)
        r = c.c.post("/api/login", json={"name": "staff", "password": "x"},
                     headers={"X-CSRF-Token": c.token}, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
        assert_error(r, 401)
    c = client(web)
    r = c.c.post("/api/login", json={"name": "staff", "password": PASSWORDS["staff"]},
                 headers={"X-CSRF-Token": c.token}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert_error(r, 429)
    assert "phút" in r.json["error_vi"] and "minute" in r.json["error"]
    assert int(r.headers["Retry-After"]) > 0


def test_login_form_says_how_long_to_wait(web):
    c = client(web)
    for _ in range(4):
        r = c.c.post("/login", data={"name": "vol", "password": "x", "csrf_token": c.token})
    page = r.get_data(as_text=True)
    assert "Hãy chờ 5 phút" in page, page


def test_pins_need_six_characters(kit):
    from .test_users import user

    r = user(kit, "add", "lan", "--role", "staff", password="12345")
    assert r.returncode == 2 and "at least 6" in r.stderr


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/scan\r\nSet-Cookie: x=1", "//evil",
                                    "/\\evil.example", "https://evil.example/", "/\x00"])
def test_redirects_stay_on_this_site(web, target):
    c = client(web, "staff")
    r = c.c.post("/lang", data={"lang": "en", "next": target, "csrf_token": c.token})
    assert r.status_code == 302 and r.headers["Location"] == "/", r.headers.get("Location")
    anon = client(web)
    r = anon.c.post(f"/login?next={target}", data={"name": "staff", "csrf_token": anon.token,
                                                   "password": PASSWORDS["staff"]})
    assert r.status_code == 302 and r.headers["Location"] == "/dossiers"  # the staff home


def test_login_goes_back_to_the_page_asked_for(web):
    c = client(web)
    r = c.c.get("/dossiers")
    assert r.status_code == 302 and "next=/dossiers" in r.headers["Location"]
    page = c.c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/dossiers"' in page
    r = c.c.post("/login", data={"name": "staff", "password": PASSWORDS["staff"],
                                 "csrf_token": c.token, "next": "/dossiers"})
    assert r.headers["Location"] == "/dossiers"


def test_lone_surrogates_are_refused_not_500(web):
    anon = client(web)
    r = anon.c.post("/api/login", data='{"name": "staff", "password": "\\ud800"}',
                    content_type="application/json", headers={"X-CSRF-Token": anon.token})
    assert_error(r, 400)
    c = client(web, "staff")
    r = c.c.post("/api/jobs", data='{"scanner": "adf", "doc": "\\ud800"}',
                 content_type="application/json", headers={"X-CSRF-Token": c.token})
    assert_error(r, 400)


def test_the_import_entry_is_not_a_scanner_staff_can_start(web, kit):
    r = client(web, "staff").post("/api/jobs", {"scanner": "import", "doc": "Tờ khai"})
    assert_error(r, 400)
    assert "import" in r.json["error"]
    with Queue(kit.root / "queue.db") as q:
        assert q.jobs() == []


def test_personal_data_is_never_cached(web, kit):
    from PIL import Image

    from edge.pipeline.storage import Storage

    with Queue(kit.root / "queue.db") as q:
        job = q.create(kit="PL01", doc="Tờ khai", scanner="adf", preset="")
    img = kit.tmp / "p.png"
    Image.new("RGB", (40, 60), "white").save(img)
    storage = Storage(kit.root)
    spooled = storage.root / "spool" / "p1.pdf"
    spooled.parent.mkdir(parents=True, exist_ok=True)
    import img2pdf

    spooled.write_bytes(img2pdf.convert(str(img)))
    from edge.pipeline.queue import Page

    with Queue(kit.root / "queue.db") as q:
        q.add_page(job.id, Page(1, "spool/p1.pdf", "0" * 64, "0" * 64, spooled.stat().st_size))
    c = client(web, "staff")
    for path in (f"/api/jobs/{job.id}/pages/1/thumb", f"/api/jobs/{job.id}", "/api/dossiers",
                 "/dossiers", "/scan", "/api/me"):
        r = c.get(path)
        assert r.status_code == 200, (path, r.data[:200])
        assert r.headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client(web).get("/static/app.css").headers.get("Cache-Control", "")


def test_the_note_field_takes_the_templates_600_characters(web):
    c = client(web, "vol")
    r = c.post("/api/receipts/preview", {"template": "note", "fields": {"text": "a" * 600}})
    assert r.status_code == 200, r.json
    r = c.post("/api/receipts/preview", {"template": "note", "fields": {"text": "a" * 601}})
    assert_error(r, 400)
    assert "600" in r.json["error"]


def test_status_follows_the_error_type_not_its_wording():
    from edge.errors import JobError, NotFound, PowerError, StateConflict, StorageError
    from edge.web.errors import status_of

    assert status_of(NotFound("page 3 of job 1 is gone")) == 404
    assert status_of(StateConflict("job 1 is ready, not paused")) == 409
    assert status_of(PowerError("battery")) == status_of(StorageError("disk full")) == 503
    assert status_of(JobError("no job is a bad dossier code here")) == 400


def _spooled_page(kit, job_id, idx, size, mode="RGB"):
    """A one-page PDF in the spool as the worker leaves it, registered as page `idx`."""
    import img2pdf
    from PIL import Image

    from edge.pipeline.queue import Page

    img = kit.tmp / f"p{job_id}-{idx}.png"
    Image.new(mode, size, "white" if mode == "RGB" else 1).save(img)
    spooled = kit.root / "spool" / f"p{job_id}-{idx}.pdf"
    spooled.parent.mkdir(parents=True, exist_ok=True)
    spooled.write_bytes(img2pdf.convert(str(img)))
    with Queue(kit.root / "queue.db") as q:
        q.add_page(job_id, Page(idx, f"spool/{spooled.name}", f"{idx:064d}", "0" * 64,
                                spooled.stat().st_size))


def test_the_page_viewer_gets_a_large_picture_of_a_stored_page(web, kit, recwarn):
    import io

    from PIL import Image

    with Queue(kit.root / "queue.db") as q:
        job = q.create(kit="PL01", doc="Tờ khai", scanner="adf", preset="")
    _spooled_page(kit, job.id, 1, (1654, 2339))  # A4 at 200 dpi, colour
    _spooled_page(kit, job.id, 2, (1654, 2339), mode="1")  # a bilevel page
    c = client(web, "staff")
    r = c.get(f"/api/jobs/{job.id}/pages/1/image")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert r.headers["Cache-Control"] == "no-store"
    big = Image.open(io.BytesIO(r.data))
    assert big.format == "JPEG" and big.size == (1400, 1980)  # fits 1400x2000
    r = c.get(f"/api/jobs/{job.id}/pages/2/image")
    assert r.mimetype == "image/png" and Image.open(io.BytesIO(r.data)).width == 1400
    thumb = Image.open(io.BytesIO(c.get(f"/api/jobs/{job.id}/pages/1/thumb").data))
    assert thumb.format == "PNG" and thumb.width == 160
    assert c.get(f"/api/jobs/{job.id}/pages/1/poster").status_code == 404
    assert_error(c.get(f"/api/jobs/{job.id}/pages/9/image"), 404)
    assert_error(client(web, "tech").get(f"/api/jobs/{job.id}/pages/1/image"), 403)
    assert_error(client(web).get(f"/api/jobs/{job.id}/pages/1/image"), 401)
    deprecated = [str(w.message) for w in recwarn if issubclass(w.category, DeprecationWarning)]
    assert not [m for m in deprecated if "Page.images" in m], deprecated


@pytest.mark.parametrize("status, runtime, want", [
    ("OL CHRG", 1800, {"state": "mains", "minutes": 30, "charge": 100}),
    ("OB DISCHRG", 900, {"state": "battery", "minutes": 15, "charge": 100}),
    ("OB DISCHRG LB", 119, {"state": "low", "minutes": 1, "charge": 100}),
    ("FSD OB", None, {"state": "low", "minutes": None, "charge": 100}),
])
def test_staff_pages_get_the_power_state(status, runtime, want):
    from edge.health import Health, Metric, Reading
    from edge.web.devices import power

    metrics = {"ups.status": Metric(status), "battery.charge": Metric(100)}
    if runtime is not None:
        metrics["battery.runtime"] = Metric(runtime, "s")
    system = Health.of("system", "pi", "system", Reading({}))
    assert power([system, Health.of("ups", "ups", "nut", Reading(metrics))]) == want
    assert power([system]) is None
