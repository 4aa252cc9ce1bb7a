"""A visit's queue, end to end in headless chromium against real `edge run` and `edge web`: a
volunteer starts the visit and gives six numbers (two priority) printed on a file receipt
printer (each slip decoded back to the exact preview), the room's display shows every call
(no login), staff call and serve four, scanning papers for two (the jobs carry the number's
ticket and belong to the visit), two leave, the visit is ended. And a power cut (SIGKILL of both
processes) in the middle of a visit loses no number, state or count, and numbers of the day go
on, never reused.
"""

from __future__ import annotations

import io
import json
import os
import signal

from PIL import Image

from edge.field import db

from . import receipt_decoder as decoder
from .test_receipt import same_image
from .test_staff_day_e2e import LAPTOP, PHONE, assert_in_view, sim, wait_ready
from .web_browser import wait_port
from .web_kit import ARTIFACTS

pytest_plugins = ["tests.web_browser"]  # fixtures: stack, browser, page_for

TV = {"width": 1920, "height": 1080}
PLACES = """
[[places]]
name = "Thôn Đông"
venue = "Nhà văn hóa thôn Đông"

[[places]]
name = "Tổ dân phố 3"
kind = "tổ dân phố"
venue = "Nhà văn hóa tổ 3"
"""


def field_kit(kit, sheets: int = 2) -> None:
    kit.configure([sim(sheets=sheets)])
    printer = kit.tmp / "receipt.bin"
    kit.config.write_text(kit.config.read_text() + PLACES + f"""
[[receipt_printer]]
name = "slip"
label = "Máy in phiếu"
transport = "file"
path = "{printer}"
""", encoding="utf-8")


def shots(page, name: str, sizes=(PHONE, LAPTOP)) -> None:
    """The screen as people see it, at each size, into test-artifacts/ (looked at by eye)."""
    ARTIFACTS.mkdir(exist_ok=True)
    before = page.viewport_size
    for size in sizes:
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"field-{name}-{size['width']}.png"), full_page=True)
    page.set_viewport_size(before)


def field_rows(kit, sql: str, *args: object) -> list[tuple]:
    conn = db.connect(kit.root)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def issue(page, kit, area: str, priority: str, n: int) -> None:
    """One number at reception; its slip is what the printer got, dot for dot."""
    page.click(f"#areas [data-area={area}]")
    if priority:
        page.click(f"#priorities [data-priority={priority}]")
    page.click("#issue")
    page.wait_for_function(f"document.getElementById('issued-n').textContent === '{n}'")
    assert_in_view(page.locator("#issued"))
    assert page.locator("#issued-slip").text_content() == f"Đã in phiếu số {n} trên Máy in phiếu."
    (entry_id,) = field_rows(kit, "SELECT id FROM queue WHERE n = ?", n)[0]
    png = page.request.get(f"/api/queue/{entry_id}/slip.png")
    assert png.ok
    printed = decoder.image((kit.tmp / "receipt.bin").read_bytes())
    assert same_image(printed, Image.open(io.BytesIO(png.body())))


def display_shows(display, n: int, area_vi: str) -> None:
    display.wait_for_function(
        f"document.getElementById('now-n').textContent === '{n}' && "
        f"document.getElementById('now-area').textContent === '{area_vi}'", timeout=30_000)


def call(page, display, n: int, area_vi: str) -> None:
    page.click("#call-next")
    page.wait_for_function("document.getElementById('queue-result').textContent === "
                           f"'Đã gọi số {n}: màn hình đang mời công dân đến.'")
    card = page.locator(f"#called .called[data-n='{n}']")
    assert_in_view(card)
    display_shows(display, n, area_vi)


def scan_for(page, n: int) -> str:
    """Staff press "scan papers for this number", scan one document, come back: the ticket."""
    page.click(f"#called .called[data-n='{n}'] .scan-for")
    page.wait_for_url("**/scan?queue=*")
    page.wait_for_function("document.querySelectorAll('#scanner option').length > 0")
    assert_in_view(page.locator("#scanning-for"))  # the number the papers are scanned for
    assert page.locator("#scanning-for").text_content().startswith(
        f"Quét giấy tờ cho công dân số {n}")
    shots(page, f"scan-for-{n}")
    page.click("[data-preset=tk]")
    page.click("#start")
    wait_ready(page)
    job = page.locator("#job").get_attribute("data-job")
    ticket = page.request.get(f"/api/jobs/{job}").json()["ticket"]
    page.goto("/queue")
    return ticket


def act(page, n: int, action: str, said: str) -> None:
    page.click(f"#called .called[data-n='{n}'] .{action}")
    page.wait_for_function(f"document.getElementById('queue-result').textContent === {said!r}")
    assert_in_view(page.locator("#queue-result"))


def test_a_visit_queue_through_the_day(kit, stack, browser, page_for):
    field_kit(kit)
    stack.start()
    vol = page_for(stack, "vol")
    vol.set_viewport_size(PHONE)
    vol.goto("/reception")  # no visit yet: the page says to start one first
    assert_in_view(vol.locator("#no-visit"))
    shots(vol, "reception-no-visit")
    vol.click("#no-visit a")
    vol.wait_for_url("**/visit")
    vol.wait_for_selector("#visit-form:not([hidden])")
    assert vol.locator("#place option").all_text_contents() == [
        "Thôn Đông", "Tổ dân phố 3", "Nơi khác (nhập tên)…"]
    assert vol.locator("#venue").input_value() == "Nhà văn hóa thôn Đông"
    shots(vol, "visit-start")
    vol.click("#visit-start")
    assert_in_view(vol.locator("#visit-status"))
    assert vol.locator("#visit-status").text_content().startswith("Đang diễn ra tại Thôn Đông")
    assert vol.locator("#visit-end").count() == 0  # volunteers start a visit, staff end it
    shots(vol, "visit-open-volunteer")
    (visit_id,) = field_rows(kit, "SELECT id FROM visits WHERE ended IS NULL")[0]

    display = browser.new_context(viewport=TV, base_url=stack.url,  # no login
                              bypass_csp=True).new_page()  # lets wait_for_function evaluate
    display.goto("/queue/display")
    display.wait_for_function("document.getElementById('display-place').textContent"
                              ".startsWith('Thôn Đông')", timeout=30_000)
    assert display.locator("#now-area").text_content() == "Chưa gọi số nào"

    vol.goto("/reception")
    vol.wait_for_function("document.getElementById('visit-line').textContent !== ''")
    shots(vol, "reception")
    for n, (area, priority) in enumerate([("reception", ""), ("digitise", "elderly"),
                                          ("digitise", ""), ("support", ""),
                                          ("digitise", "disability"), ("reception", "")], 1):
        issue(vol, kit, area, priority, n)
        if n == 2:
            shots(vol, "reception-issued")
    vol.wait_for_function("document.querySelector('[data-count=digitise]').textContent"
                          " === '3 người đang chờ'")

    staff = page_for(stack, "staff")
    staff.set_viewport_size(PHONE)
    staff.goto("/queue")
    staff.select_option("#area", "digitise")
    staff.wait_for_function("document.getElementById('waiting-n').textContent === '3'")
    assert staff.locator("#waiting li b").all_text_contents() == ["2", "5", "3"]  # priority first
    shots(staff, "queue-waiting")
    call(staff, display, 2, "Số hoá hồ sơ")  # the elderly citizen first
    shots(staff, "queue-called")
    shots(display, "display", (TV, LAPTOP, PHONE))
    ticket_2 = scan_for(staff, 2)
    staff.select_option("#area", "digitise")
    card = staff.locator("#called .called[data-n='2'] .scanned")
    card.wait_for(state="visible")
    assert card.text_content() == f"Đã có hồ sơ {ticket_2}"
    act(staff, 2, "done", "Số 2: đã xong.")
    call(staff, display, 5, "Số hoá hồ sơ")
    ticket_5 = scan_for(staff, 5)
    act(staff, 5, "done", "Số 5: đã xong.")
    call(staff, display, 3, "Số hoá hồ sơ")
    act(staff, 3, "recall", "Đã gọi lại số 3.")
    display.wait_for_function("document.getElementById('now').classList.contains('flash')")
    act(staff, 3, "left", "Số 3: đã ghi là công dân đã về.")
    staff.click("#call-next")  # nobody left for this area
    staff.wait_for_function("document.getElementById('queue-result').textContent === "
                            "'Không còn ai chờ ở khu vực này.'")
    assert_in_view(staff.locator("#queue-result"))
    staff.select_option("#area", "support")  # number 4 went home before being called
    staff.wait_for_function("document.getElementById('waiting-n').textContent === '1'")
    staff.click("#waiting li[data-n='4'] button.left")
    staff.wait_for_function("document.getElementById('waiting-n').textContent === '0'")
    staff.select_option("#area", "reception")
    for n in (1, 6):
        call(staff, display, n, "Tiếp đón – tư vấn")
        act(staff, n, "done", f"Số {n}: đã xong.")
    shots(display, "display-end", (TV, PHONE))
    assert "Thôn Đông" in display.locator("#display-place").text_content()
    # 6 is called now; before it 1, 5 and 2 (3 left: no longer shown)
    assert display.locator("#recent li b").all_text_contents() == ["1", "5", "2"]

    staff.goto("/visit")
    staff.wait_for_selector("#visit-open:not([hidden])")
    assert staff.locator("#visit-counts").text_content() == \
        "Hôm nay: 0 đang chờ, 0 đang phục vụ, 4 đã xong, 2 đã về."
    staff.click("#visit-end")
    assert_in_view(staff.locator("#end-ask"))
    shots(staff, "visit-end-ask")
    staff.click("#end-yes")
    assert_in_view(staff.locator("#visit-result"))
    assert "phục vụ 4 người, 2 người đã về" in staff.locator("#visit-result").text_content()
    shots(staff, "visit-ended")

    assert field_rows(kit, "SELECT n, state, priority FROM queue ORDER BY n") == [
        (1, "done", None), (2, "done", "elderly"), (3, "left", None), (4, "left", None),
        (5, "done", "disability"), (6, "done", None)]
    assert dict(field_rows(kit, "SELECT n, ticket FROM queue WHERE ticket IS NOT NULL")) == {
        2: ticket_2, 5: ticket_5}
    jobs = json.loads(kit.edge("jobs", "--json").stdout)
    assert sorted(j["ticket"] for j in jobs) == sorted([ticket_2, ticket_5])
    assert sorted(field_rows(kit, "SELECT job_id, visit FROM visit_jobs")) == sorted(
        (j["job_id"], visit_id) for j in jobs)
    assert staff.request.get(f"/api/dossiers/{ticket_5}").json()["queue_n"] == 5
    (ended, reason), = field_rows(kit, "SELECT ended, end_reason FROM visits")
    assert ended and reason == "ended"
    vol.goto("/reception")  # after the visit: no number can be given
    assert_in_view(vol.locator("#no-visit"))
    assert vol.locator("#issue-card").is_hidden()


def kill_all(stack) -> None:
    for p in stack.procs:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    stack.procs.clear()


def restart(stack) -> None:
    """`edge run` and `edge web` again, on the same config (a Pi booting after the cut)."""
    run = stack.kit.popen("run")
    web = stack.kit.popen("web")
    stack.procs += [run, web]
    wait_port(stack.port, web)


def test_a_power_cut_in_a_visit_loses_no_number_and_reuses_none(kit, stack, page_for):
    field_kit(kit, sheets=1)
    stack.start()
    staff = page_for(stack, "staff")
    csrf = {"X-CSRF-Token": staff.evaluate("document.querySelector('meta[name=csrf-token]')"
                                           ".content")}

    def post(path: str, data: dict) -> dict:
        r = staff.request.post(path, data=data, headers=csrf)
        assert r.ok, r.text()
        return r.json()

    post("/api/visit/start", {"place": "Tổ dân phố 3"})
    numbers = [post("/api/queue", {"area": "digitise", "priority": p})["entry"]["n"]
               for p in ("", "worker", "")]
    assert numbers == [1, 2, 3]
    called = post("/api/queue/next", {"area": "digitise"})["call"]
    assert called["n"] == 2
    post("/api/receipts/print", {"template": "note", "fields": {"text": "Giấy hẹn"}})
    kill_all(stack)  # the power goes
    restart(stack)
    staff = page_for(stack, "staff")
    csrf = {"X-CSRF-Token": staff.evaluate("document.querySelector('meta[name=csrf-token]')"
                                           ".content")}
    view = staff.request.get("/api/queue?area=digitise").json()
    assert view["visit"]["place"] == "Tổ dân phố 3"  # the same visit goes on
    assert [e["n"] for e in view["waiting"]] == [1, 3]
    assert [(e["n"], e["state"]) for e in view["called"]] == [(2, "called")]
    assert field_rows(kit, "SELECT name, value FROM visit_counts") == [("slips", 1)]
    assert post("/api/queue", {"area": "support", "priority": ""})["entry"]["n"] == 4
    post("/api/visit/end", {})
    post("/api/visit/start", {"place": "Thôn Đông"})  # a second visit the same day
    assert post("/api/queue", {"area": "support", "priority": ""})["entry"]["n"] == 5
    kill_all(stack)
    restart(stack)
    rows = field_rows(kit, "SELECT day, n FROM queue ORDER BY id")
    assert [n for _, n in rows] == [1, 2, 3, 4, 5] and len(set(rows)) == 5
    assert field_rows(kit, "SELECT place, end_reason FROM visits ORDER BY id") == [
        ("Tổ dân phố 3", "ended"), ("Thôn Đông", None)]
