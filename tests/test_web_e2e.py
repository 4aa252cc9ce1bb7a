"""End to end in headless chromium against real `edge run` and `edge web` processes: staff scan
a 10-sheet batch from the SANE test backend and download it, a jam is resumed, technicians watch
the UPS go on battery (NUT dummy-ups), volunteers print a slip, and cannot reach the scan API.
"""

from __future__ import annotations

import hashlib
import json
import re

from .conftest import sane_adf
from .test_ups import nut  # noqa: F401  (fixture)
from .web_kit import screenshots

DOSSIER = "000.00.04.H40-230414-0002"

pytest_plugins = ["tests.web_browser"]  # fixtures: stack, browser, page_for


def csrf_post(page, path, data):
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    return page.request.post(path, data=json.dumps(data), headers={
        "Content-Type": "application/json", "X-CSRF-Token": token})


def test_staff_scans_ten_sheets_and_downloads_the_pdf(kit, stack, page_for, tmp_path):
    kit.configure([sane_adf(presets={"ks": {"label": "Giấy khai sinh", "doc": "Giấy khai sinh"},
                                     "tk": {"label": "Tờ khai", "doc": "Tờ khai"}})])
    stack.start()
    page = page_for(stack, "staff")
    assert page.url.endswith("/dossiers")  # the staff home: today's dossiers
    page.goto("/scan")
    page.click("[data-preset=ks]")
    assert page.input_value("#doc") == "Giấy khai sinh"
    screenshots(page, "scan-form")
    page.click("#start")
    page.wait_for_function("document.getElementById('page-count').textContent === '10'",
                           timeout=60_000)
    page.wait_for_selector("#result:not([hidden])", timeout=60_000)
    assert page.locator("#job-state").get_attribute("data-state") == "ready"
    assert page.locator(".thumb img").count() == 10
    page.wait_for_function("[...document.querySelectorAll('.thumb img')].every(i => "
                           "i.complete && i.naturalWidth > 0)")
    screenshots(page, "scan-done")
    with page.expect_download() as dl:
        page.click("#download")
    saved = tmp_path / "got.pdf"
    dl.value.save_as(saved)
    (job,) = json.loads(kit.edge("jobs", "--json").stdout)
    assert job["pages"] == 10 and dl.value.suggested_filename == job["pdf"].rsplit("/", 1)[1]
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == job["files"][0]["sha256"]
    page.fill("#rename-code", "000.00.04.H40-230414-0002")
    page.click("#rename")
    page.wait_for_function("document.getElementById('pdf-name').textContent"
                           ".startsWith('000.00.04.H40-230414-0002')")
    page.click("#uploaded")
    page.wait_for_function("document.getElementById('job-state').dataset.state === 'uploaded'")
    page.goto("/dossiers")
    assert "000.00.04.H40-230414-0002" in page.content()
    screenshots(page, "dossiers")


def test_volunteer_cannot_reach_the_scan_api(kit, stack, page_for):
    stack.start()
    page = page_for(stack, "vol")
    assert page.url.endswith("/receipts")
    r = csrf_post(page, "/api/jobs", {"scanner": "adf", "doc": "Tờ khai"})
    assert r.status == 403 and r.json()["error_vi"]
    assert page.request.get("/api/jobs").status == 403
    assert page.goto("/scan").status == 403


def test_jam_mid_batch_then_resume(kit, stack, page_for):
    kit.configure([{"name": "sim", "driver": "sim", "dpi": 100, "source": "adf",
                    "sim": {"sheets": 6, "page_delay": 0.1, "jam_after": 3,
                            "blank_backs": False}}])
    stack.start()
    page = page_for(stack, "staff")
    page.goto("/scan")
    page.fill("#doc", "Tờ khai")
    page.click("#start")
    page.wait_for_selector("#resume:not([hidden])", timeout=30_000)
    message = page.locator("#job-message").text_content()
    assert "Kẹt giấy" in message
    screenshots(page, "scan-jam")
    page.reload()  # staff come back to a paused job from the list of open jobs
    page.click(".open-job")
    page.wait_for_selector("#resume:not([hidden])")
    page.click("#resume")
    page.wait_for_selector("#result:not([hidden])", timeout=30_000)
    assert page.locator("#page-count").text_content() == "6"


ON_LINE_SEQ = """\
ups.status: OL CHRG
battery.charge: 100
battery.runtime: 1800
TIMER 3600
"""


def test_technician_sees_the_ups_go_on_battery(kit, stack, page_for, nut):  # noqa: F811
    server = nut(ON_LINE_SEQ)
    kit.configure([{"name": "sim", "driver": "sim"}])
    with open(kit.config, "a") as f:
        f.write(f'\n[[ups]]\nname = "ups"\ndriver = "nut"\nport = {server.port}\n'
                'ups = "dummy"\ninterval = 0.5\n')
    stack.start()
    page = page_for(stack, "tech")
    assert page.url.endswith("/devices")
    charge = page.locator("[data-device=ups-ups] [data-metric='battery.charge'] b")
    page.wait_for_function("document.querySelector(\"[data-metric='battery.charge'] b\")"
                           "?.textContent.startsWith('100')", timeout=20_000)
    assert page.locator("#on-battery").is_hidden()
    server.set(ups_status="OB DISCHRG", battery_charge="60", battery_runtime="900")
    page.wait_for_selector("#on-battery:not([hidden])", timeout=30_000)
    page.wait_for_function("document.querySelector(\"[data-metric='battery.charge'] b\")"
                           "?.textContent.startsWith('60')", timeout=20_000)
    assert charge.text_content().startswith("60")
    assert "PL01-" not in page.content()
    # human labels and values; the raw key and value stay in data-metric and title
    runtime = page.locator("[data-device=ups-ups] [data-metric='battery.runtime']")
    page.wait_for_function("document.querySelector(\"[data-metric='battery.runtime'] b\")"
                           "?.textContent === '15 phút'")
    assert runtime.locator("span").text_content() == "Thời gian pin còn lại"
    assert runtime.get_attribute("title") == "battery.runtime = 900 s"
    status = page.locator("[data-device=ups-ups] [data-metric='ups.status']")
    assert status.locator("span").first.text_content() == "Nguồn điện"
    assert status.locator("b .tag").all_text_contents() == ["Đang chạy pin", "Đang xả pin"]
    # the battery chart: fixed 0–100 % axis, 3 times HH:MM, the latest value in its heading
    chart = page.locator("[data-chart='battery.charge']")
    page.wait_for_function("document.querySelector(\"[data-chart='battery.charge'] .latest\")"
                           "?.textContent === '60 %'", timeout=30_000)
    assert chart.locator("h3 span").first.text_content().startswith("Mức pin")
    assert chart.locator(".axis-y text").all_text_contents() == ["100 %", "50 %", "0 %"]
    times = chart.locator(".axis-x text").all_text_contents()
    assert len(times) == 3 and all(re.fullmatch(r"\d\d:\d\d", t) for t in times), times
    assert chart.locator("polyline").count() >= 1
    unstretched = ("s => s.getAttribute('preserveAspectRatio') === null && "
                   "Math.abs(s.viewBox.baseVal.width - s.getBoundingClientRect().width) < 1")
    page.set_viewport_size({"width": 360, "height": 900})
    page.wait_for_function(f"({unstretched})(document.querySelector('svg.chart'))")
    screenshots(page, "devices-on-battery")
    assert chart.locator("svg").evaluate(unstretched)
    page.click("button[name=lang]")  # English
    page.wait_for_function("document.querySelector(\"[data-metric='battery.runtime'] b\")"
                           "?.textContent === '15 min'")
    assert runtime.locator("span").text_content() == "Battery time left"
    assert status.locator("b .tag").first.text_content() == "On battery"
    page.wait_for_selector("[data-chart='battery.charge'] .axis-y text")
    screenshots(page, "devices-on-battery-en")


def test_volunteer_prints_a_slip(kit, stack, page_for, tmp_path):
    out = tmp_path / "slip.bin"
    with open(kit.config, "a") as f:
        f.write(f'\n[[receipt_printer]]\nname = "slip"\ntransport = "file"\npath = "{out}"\n')
    stack.start()
    from edge.pipeline.queue import Queue

    with Queue(kit.root / "queue.db") as q:  # two documents of one dossier scanned today
        other = q.create(kit="PL01", doc="CCCD", scanner="adf", preset="")
        for doc in ("Tờ khai", "Giấy chứng sinh"):
            job = q.create(kit="PL01", doc=doc, scanner="adf", preset="", dossier=DOSSIER)
    page = page_for(stack, "vol")
    page.wait_for_selector("#template option[value=reception]", state="attached")
    page.select_option("#template", "reception")
    page.wait_for_selector("#slip-form input[name=citizen]")
    page.wait_for_selector(f"#tickets option[value='{job.ticket}']", state="attached")
    page.fill("input[name=ticket]", job.ticket)
    page.press("input[name=ticket]", "Tab")  # picked: the dossier code and documents come along
    assert page.input_value("input[name=dossier]") == DOSSIER
    assert page.input_value("input[name=documents]") == "Tờ khai, Giấy chứng sinh"
    page.fill("input[name=ticket]", other.ticket)  # a wrong pick corrected: nothing of it stays
    page.press("input[name=ticket]", "Tab")
    assert page.input_value("input[name=dossier]") == ""
    assert page.input_value("input[name=documents]") == "CCCD"
    page.fill("input[name=ticket]", job.ticket)
    page.press("input[name=ticket]", "Tab")
    assert page.input_value("input[name=dossier]") == DOSSIER
    page.fill("input[name=citizen]", "Nguyễn Thị Phượng")
    page.fill("input[name=procedure]", "Đăng ký khai sinh")
    page.click("#preview")
    page.wait_for_selector("#slip-preview:not([hidden]), #print-result:not([hidden])")
    assert page.locator("#print-result").is_hidden(), page.locator("#print-result").text_content()
    screenshots(page, "receipts")
    page.click("#print")
    page.wait_for_selector("#print-result[data-state]")
    assert page.locator("#print-result").get_attribute("data-state") == "printed", \
        page.locator("#print-result").text_content()
    assert out.stat().st_size > 1000 and out.read_bytes().startswith(b"\x1b@")
    page.goto("/login")
    screenshots(page, "login")


def test_blank_backs_are_dropped_and_one_is_restored(kit, stack, page_for):
    kit.configure([{"name": "sim", "driver": "sim", "dpi": 100, "source": "adf-duplex",
                    "sim": {"sheets": 2, "page_delay": 0.05, "blank_backs": True}}])
    stack.start()
    page = page_for(stack, "staff")
    page.goto("/scan")
    page.fill("#doc", "Tờ khai")
    page.click("#start")
    page.wait_for_selector("#result:not([hidden])", timeout=30_000)
    assert page.locator(".thumb.blank").count() == 2
    assert page.locator("#page-count").text_content() == "2"
    page.locator(".blank-cell .restore").first.click()
    page.wait_for_function("document.getElementById('page-count').textContent === '3' && "
                           "document.getElementById('job-state').dataset.state === 'ready'",
                           timeout=30_000)
    (job,) = json.loads(kit.edge("jobs", "--json").stdout)
    assert job["pages"] == 3 and job["blank_pages"] == 1


def test_too_many_live_views_are_explained_and_the_page_still_updates(kit, stack, page_for):
    stack.start()
    first = page_for(stack, "tech")
    pages = [first] + [first.context.new_page() for _ in range(4)]
    for p in pages[1:]:
        p.set_default_timeout(20_000)
        p.goto("/devices")
    last = pages[-1]  # the session's fifth live view: refused, said so, polled instead
    last.wait_for_selector("#live-notice:not([hidden])")
    notice = last.locator("#live-notice").text_content()
    assert "Đang mở quá nhiều trang theo dõi trực tiếp" in notice
    last.wait_for_selector("[data-device]", timeout=30_000)
    screenshots(last, "devices-too-many-views")
    for p in pages[:-1]:
        p.close()
    last.wait_for_selector("#live-notice", state="hidden", timeout=60_000)


def test_login_page_says_how_long_to_wait(kit, stack, browser):
    stack.start()
    ctx = browser.new_context(base_url=stack.url)
    page = ctx.new_page()
    page.goto("/login")
    for _ in range(6):
        page.fill("#name", "staff")
        page.fill("#password", "wrong-guess")
        page.click("#login")
        page.wait_for_load_state()
    assert "Hãy chờ 5 phút rồi thử lại" in page.locator("[role=alert]").text_content()
    screenshots(page, "login-throttled")
    ctx.close()
