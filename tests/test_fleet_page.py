"""`edge fleet serve`: the read-only fleet page over the collector's database (SQLite and
PostgreSQL) through Flask's test client, then end to end: a real kit (`edge run`), Mosquitto,
the collector into PostgreSQL, the page in headless Chromium; SIGKILL the kit and the page
shows it offline; the month's figures are what the kits sent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import time

import pytest
from openpyxl import load_workbook
from werkzeug.security import generate_password_hash

from edge.errors import ConfigError
from edge.telemetry import TelemetryError
from edge.telemetry.fleetdb import FleetDB
from edge.web import fleetconf
from edge.web.fleetapp import create_app

from .peers import free_port, wait_until
from .telemetry_broker import Mosquitto, Subscriber
from .telemetry_kit import Proc, configure, start_edge, start_fleet
from .test_fleet import body, event, metrics, visit
from .web_browser import wait_port
from .web_kit import screenshots

pytest_plugins = ["tests.web_browser"]  # fixtures: browser
pytestmark = pytest.mark.timeout(300)

PASSWORD = "tinh-pass"
HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
TODAY = dt.date.today().isoformat()
MONTH = TODAY[:7]


def page_config(tmp_path, db: str, extra: str = "") -> fleetconf.FleetWeb:
    path = tmp_path / "fleet-web.toml"
    path.write_text(f'db = "{db}"\nport = {free_port()}\nsecret_file = "secret"\n'
                    f'[communes]\nphu-lac = "Phú Lạc"\nvan-yen = "Văn Yên"\n'
                    f'[[users]]\nname = "tinh"\npassword_hash = "{HASH}"\n{extra}')
    return fleetconf.load(path)


def fill(db: FleetDB) -> None:
    """Two kits: PL01 online and fine, VY01 offline on battery; a month of counts."""
    now = time.time()
    for kit, site, status in (("PL01", "phu-lac", "online"), ("VY01", "van-yen", "offline")):
        base = f"dvc/{site}/{kit}"
        db.store(f"{base}/status", json.dumps({"v": 1, "ts": now - 600, "kit": kit,
                                                "site": site, "clock_synced": True,
                                                "status": status, "reason": "connected",
                                                "version": "1.4.0"}).encode())
        for i in range(48):
            m = json.loads(metrics(now - 3600 * (47 - i), 90 - i % 10, -95 - i % 7))
            m.update(kit=kit, site=site)
            db.store(f"{base}/metrics", json.dumps(m).encode())
        day = json.loads(body(ts=now, day=TODAY, jobs=4, pages=9, receipts=2,
                              visits=[visit(1, "Thôn Đông", 6, 5), visit(2, "Chợ", 2, 1)]))
        day.update(kit=kit, site=site)
        db.store(f"{base}/counts/{TODAY}", json.dumps(day).encode())
        e = json.loads(event(1, "power/on_battery"))
        e.update(kit=kit, site=site)
        db.store(f"{base}/event", json.dumps(e).encode())


@pytest.fixture
def client(fleet_db, tmp_path):
    db = FleetDB(fleet_db)
    fill(db)
    db.close()
    app = create_app(page_config(tmp_path, fleet_db))
    c = app.test_client()
    r = c.get("/login")
    token = r.text.split('name="csrf-token" content="')[1].split('"')[0]
    r = c.post("/login", data={"name": "tinh", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.text
    return c


def test_the_page_needs_a_login_and_refuses_a_wrong_password(fleet_db, tmp_path):
    FleetDB(fleet_db).close()
    c = create_app(page_config(tmp_path, fleet_db)).test_client()
    assert c.get("/").headers["Location"].startswith("/login")
    token = c.get("/login").text.split('name="csrf-token" content="')[1].split('"')[0]
    r = c.post("/login", data={"name": "tinh", "password": "wrong", "csrf_token": token})
    assert "Sai tên đăng nhập hoặc mật khẩu." in r.text
    assert c.get("/month").status_code == 302


def test_kits_with_problems_come_first_and_a_kit_has_its_charts(client):
    page = client.get("/").text
    assert page.index('id="kit-VY01"') < page.index('id="kit-PL01"')
    assert "1 bộ cần chú ý" in page and "Văn Yên" in page
    assert page.count("Mất kết nối") == 1 and "1.4.0" in page
    kit = client.get("/kit/PL01").text
    assert kit.count('<svg class="chart"') == 3  # battery, signal, disk (nothing waits)
    assert "<polyline" in kit and "Mất điện lưới, chạy bằng pin" in kit
    assert client.get("/kit/NOPE").status_code == 404


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_fleet_page_in_one_language(client, lang):
    from .test_one_language import leaks, visible

    token = client.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]
    client.post("/lang", data={"lang": lang, "csrf_token": token})
    data = ["Phú Lạc", "Văn Yên", "Thôn Đông", "Chợ", "tinh"]  # names the config and kits give
    found = {}
    for path in ("/", "/kit/PL01", "/kit/VY01", f"/month?m={MONTH}", "/month?m=2020-01",
                 "/kit/NOPE"):
        if bad := leaks(visible(client.get(path).text), lang, data):
            found[path] = bad
    assert not found, found


def test_the_month_per_commune_and_place_and_its_exports(client):
    page = client.get(f"/month?m={MONTH}").text
    assert "Phú Lạc" in page and "Thôn Đông" in page
    rows = list(csv.reader(io.StringIO(client.get(f"/month.csv?m={MONTH}").data
                                       .decode("utf-8-sig"))))
    assert rows[0] == ["Theo xã"]
    assert rows[2] == ["Phú Lạc", "1", "1", "4", "9", "2", "0"]
    book = load_workbook(io.BytesIO(client.get(f"/month.xlsx?m={MONTH}").data))
    places = list(book["Theo điểm phục vụ"].values)
    assert places[0][:3] == ("Xã", "Điểm phục vụ", "Số buổi")
    assert places[-1][:4] == ("Văn Yên", "Thôn Đông", 1, 6)
    assert places[-1][-1] == 83  # 5 of 6 satisfied
    assert client.get("/month?m=2026-13").status_code == 400


def test_the_page_only_reads(fleet_db):
    FleetDB(fleet_db).close()
    reader = FleetDB(fleet_db, readonly=True)
    with pytest.raises(TelemetryError):
        reader.store("dvc/phu-lac/PL01/event", event(1))
    reader.close()


def test_the_page_config_is_checked(tmp_path):
    with pytest.raises(ConfigError, match="colour: unknown key"):
        page_config(tmp_path, "x.db", 'colour = "blue"\n')
    path = tmp_path / "bad.toml"
    path.write_text('db = "x.db"\n[[users]]\nname = "a"\npassword_hash = "secret"\n')
    with pytest.raises(ConfigError, match=r"users\[0\].password_hash: must be a hash from "
                                          "`edge fleet hash`"):
        fleetconf.load(path)


def test_the_page_serves_https_with_its_certificate_and_only_https(fleet_db, tmp_path,
                                                                  cleanup):
    import http.client
    import ssl

    from .commune_https import make_ca

    FleetDB(fleet_db).close()
    ca, cert, key = make_ca(tmp_path / "certs", "fleet")
    port = free_port()
    path = tmp_path / "fleet-web.toml"
    path.write_text(f'db = "{fleet_db}"\nport = {port}\nsecret_file = "secret"\n'
                    f'tls_cert_file = "certs/{cert.name}"\ntls_key_file = "{key}"\n'
                    f'[[users]]\nname = "tinh"\npassword_hash = "{HASH}"\n')
    serve = Proc(["fleet", "serve", "--config", str(path)], tmp_path / "serve.log")
    cleanup(serve)
    wait_port(port, serve.proc)
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                    context=ssl.create_default_context(cafile=str(ca)))
    c.request("GET", "/login")
    r = c.getresponse()
    assert r.status == 200 and "csrf-token" in r.read().decode()
    assert "Secure" in r.getheader("Set-Cookie", "")  # the session cookie never goes in clear
    plain = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    with pytest.raises((OSError, http.client.HTTPException)):  # no page without TLS
        plain.request("GET", "/login")
        plain.getresponse().read()
    assert f"fleet page on https://127.0.0.1:{port}/" in serve.log()

    path.write_text(f'db = "{fleet_db}"\ntls_cert_file = "certs/{cert.name}"\n')
    with pytest.raises(ConfigError, match="tls_cert_file and tls_key_file go together"):
        fleetconf.load(path)
    path.write_text(f'db = "{fleet_db}"\ntls_cert_file = "nothing.pem"\ntls_key_file = "k"\n')
    with pytest.raises(ConfigError, match=r"tls_cert_file: .*nothing\.pem: cannot read it"):
        fleetconf.load(path)


def test_edge_fleet_hash_makes_a_hash_the_page_accepts(tmp_path):
    r = subprocess.run([sys.executable, "-m", "edge", "fleet", "hash"], input="long-pass\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    from werkzeug.security import check_password_hash

    assert check_password_hash(r.stdout.strip(), "long-pass")


# --- end to end -----------------------------------------------------------------------------

def test_a_killed_kit_shows_offline_and_the_month_matches(kit, postgres, tmp_path, cleanup,
                                                          browser):
    broker = Mosquitto(tmp_path / "broker").start()
    cleanup(broker)
    url = postgres.new_database()
    cleanup(start_fleet(tmp_path, broker.port, url))
    configure(kit, broker.port, keepalive=10)
    edge = start_edge(kit, tmp_path / "edge.log")
    cleanup(edge)
    for _ in range(2):
        r = kit.edge("scan", "--scanner", "sim", "--doc", "Giấy khai sinh", "--json",
                     timeout=60)
        assert r.returncode == 0, r.stderr
    other = Subscriber(broker, "nothing/here")  # a second kit with visits (issue 18's payload)
    cleanup(other)
    day = json.loads(body(ts=time.time(), day=TODAY, jobs=3, pages=7, receipts=1,
                          visits=[visit(1, "Thôn Đông", 6, 5)]))
    day.update(kit="VY01", site="van-yen")
    other.publish(f"dvc/van-yen/VY01/counts/{TODAY}", json.dumps(day), retain=True)
    now = time.time()
    for i in range(180):  # its last 30 days, one report every 4 hours
        m = json.loads(metrics(now - 4 * 3600 * (180 - i), 60 + 30 * (i % 12 < 6), -100 - i % 9))
        m.update(kit="VY01", site="van-yen")
        other.publish("dvc/van-yen/VY01/metrics", json.dumps(m))

    cfg = page_config(tmp_path, url)
    serve = Proc(["fleet", "serve", "--config", str(cfg.path)], tmp_path / "serve.log")
    cleanup(serve)
    wait_port(cfg.port, serve.proc)
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True,
                              base_url=f"http://127.0.0.1:{cfg.port}")
    cleanup(ctx)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.goto("/")
    page.fill("#name", "tinh")
    page.fill("#password", PASSWORD)
    page.click("#login")
    card = page.locator("#kit-PL01")

    def shows(text: str) -> bool:
        page.reload()
        return text in card.inner_text()

    wait_until(lambda: shows("Đang hoạt động") and shows("2 giấy tờ"), 60, "PL01 online")
    screenshots(page, "fleet-list")
    edge.kill()  # SIGKILL: the broker speaks the kit's last will (at the latest 1.5 x 10 s)
    wait_until(lambda: shows("Mất kết nối"), 60, "PL01 offline on the page")
    assert page.locator("#kits > section").first.get_attribute("id") == "kit-PL01"
    screenshots(page, "fleet-list-offline")
    page.click("#kit-PL01 a.button")
    page.wait_for_selector("text=Chưa có số liệu đo nào")  # killed before its first metrics
    screenshots(page, "fleet-kit-new")
    page.goto("/kit/VY01")
    assert page.locator("svg.chart").count() == 3
    assert page.locator("svg.chart polyline").count() >= 3
    screenshots(page, "fleet-kit")
    page.click("#nav-month")
    communes = {r.get_attribute("data-site"): r.locator(".jobs").inner_text()
                for r in page.locator("#communes tbody tr").all()}
    assert communes == {"phu-lac": "2", "van-yen": "3"}  # what the kits sent
    assert page.locator("#places .served").all_inner_texts() == ["6"]
    screenshots(page, "fleet-month")
    with page.expect_download() as d:
        page.click("#xlsx")
    assert d.value.suggested_filename == f"dvc-fleet-{MONTH}.xlsx"
    book = load_workbook(io.BytesIO(d.value.path().read_bytes()))
    assert [r[3] for r in book["Theo xã"].values][1:] == [2, 3]
    page.click("header button[name=lang]")
    assert "Monthly figures" in page.inner_text("body")
    screenshots(page, "fleet-month-en")
    page.goto("/login")  # already logged in: the list
    assert page.locator("#kits").count() == 1
    page.click("#logout")
    page.click("header button[name=lang]")
    assert page.locator("#login").inner_text() == "Đăng nhập"
    screenshots(page, "fleet-login")
