"""Issue 18's whole day, end to end in headless chromium against real `edge run` + `edge web`:
a volunteer starts a visit and issues six numbers (two priority) on a file receipt printer, the
display shows each call, staff serve four (scanning for two), two leave, four survey answers come
from the kiosk tablet, the visit is ended; then the visit's report as CSV, XLSX (read back with
openpyxl) and PDF (pdftoppm + tesseract vie) has exactly those figures.

The steps of the queue are helper V's (tests/test_field_queue_e2e.py), reused here."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics

import pytest

from edge.field.report import ROWS

from .test_field_queue_e2e import act, call, field_kit, field_rows, issue, scan_for
from .test_field_report import ocr
from .test_staff_day_e2e import PHONE, assert_in_view
from .web_kit import PASSWORDS

pytest_plugins = ["tests.web_browser"]  # fixtures: stack, browser, page_for
pytestmark = pytest.mark.timeout(900)
TABLET = {"width": 800, "height": 1280}
ANSWERS = [(1, 5, ()), (2, 4, ("wait",)), (5, 5, ()), (6, 2, ("wait", "guidance"))]
LABELS = {vi: code for code, vi, _ in ROWS}


def csrf(page) -> dict[str, str]:
    return {"X-CSRF-Token": page.evaluate(
        "document.querySelector('meta[name=csrf-token]').content")}


def kiosk_answers(browser, stack) -> None:
    """The survey tablet: a volunteer unlocks it, four citizens answer."""
    tablet = browser.new_context(viewport=TABLET, base_url=stack.url).new_page()
    tablet.set_default_timeout(20_000)
    tablet.goto("/survey")  # no kiosk yet: the login page
    tablet.fill("#name", "vol")
    tablet.fill("#password", PASSWORDS["vol"])
    tablet.click("#login")
    tablet.click("#kiosk-start")
    for n, score, better in ANSWERS:
        tablet.wait_for_selector("#step-faces:not([hidden])", timeout=30_000)
        tablet.click(f"#face-{score}")
        for code in better:
            tablet.check(f'input[value="{code}"]')
        tablet.fill("#number", str(n))
        tablet.click("#survey-send")
        tablet.wait_for_selector("#step-thanks:not([hidden])")
        assert tablet.locator("#saved-later").is_hidden()
    tablet.context.close()


def expected(kit, visit_id: int) -> dict[str, object]:
    """The figures from what the databases recorded, counted here independently."""
    rows = field_rows(kit, "SELECT state, priority, issued, called, finished FROM queue "
                      "WHERE visit = ?", visit_id)
    waits = sorted(c - i for _, _, i, c, _ in rows if c is not None)
    services = sorted(f - c for s, _, _, c, f in rows if s == "done")
    jobs = json.loads(kit.edge("jobs", "--json").stdout)
    minutes = lambda s: round(s / 60, 1)  # noqa: E731
    p90 = lambda xs: xs[math.ceil(0.9 * len(xs)) - 1]  # noqa: E731
    scores = [s for _, s, _ in ANSWERS]
    better = [c for _, _, b in ANSWERS for c in b]
    out: dict[str, object] = {
        "visits": 1, "issued": 6, "served": 4, "served_priority": 2, "left": 2, "dossiers": 2,
        "documents": 2, "pages": sum(j["pages"] for j in jobs),
        "blank_pages": sum(j["blank_pages"] for j in jobs), "slips": 1, "online": 1,
        "online_share": 50.0, "waiting_median": minutes(statistics.median_low(waits)),
        "waiting_p90": minutes(p90(waits)),
        "service_median": minutes(statistics.median_low(services)),
        "service_p90": minutes(p90(services)), "survey_answers": 4, "survey_satisfied": 3,
        "satisfied_share": 75.0}
    out.update({f"score_{s}": scores.count(s) for s in (5, 4, 3, 2, 1)})
    out.update({f"better_{c}": better.count(c)
                for c in ("wait", "guidance", "equipment", "attitude", "other")})
    return out


def test_a_whole_day_in_the_field(kit, stack, browser, page_for, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    field_kit(kit)
    stack.start()
    vol = page_for(stack, "vol")
    vol.set_viewport_size(PHONE)
    vol.goto("/visit")
    vol.wait_for_selector("#visit-form:not([hidden])")
    vol.click("#visit-start")
    assert_in_view(vol.locator("#visit-status"))
    (visit_id,) = field_rows(kit, "SELECT id FROM visits WHERE ended IS NULL")[0]
    display = browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=stack.url,
                                  bypass_csp=True).new_page()
    display.goto("/queue/display")
    vol.goto("/reception")
    vol.wait_for_function("document.getElementById('visit-line').textContent !== ''")
    for n, (area, priority) in enumerate([("reception", ""), ("digitise", "elderly"),
                                          ("digitise", ""), ("support", ""),
                                          ("digitise", "disability"), ("reception", "")], 1):
        issue(vol, kit, area, priority, n)

    staff = page_for(stack, "staff")
    staff.set_viewport_size(PHONE)
    staff.goto("/queue")
    staff.select_option("#area", "digitise")
    staff.wait_for_function("document.getElementById('waiting-n').textContent === '3'")
    call(staff, display, 2, "Số hoá hồ sơ")
    ticket_2 = scan_for(staff, 2)
    staff.select_option("#area", "digitise")
    act(staff, 2, "done", "Số 2: đã xong.")
    call(staff, display, 5, "Số hoá hồ sơ")
    scan_for(staff, 5)
    staff.select_option("#area", "digitise")
    act(staff, 5, "done", "Số 5: đã xong.")
    call(staff, display, 3, "Số hoá hồ sơ")
    act(staff, 3, "left", "Số 3: đã ghi là công dân đã về.")
    staff.select_option("#area", "support")
    call(staff, display, 4, "Hỗ trợ số")
    act(staff, 4, "left", "Số 4: đã ghi là công dân đã về.")
    staff.select_option("#area", "reception")
    for n in (1, 6):
        call(staff, display, n, "Tiếp đón – tư vấn")
        act(staff, n, "done", f"Số {n}: đã xong.")
    r = staff.request.post("/api/receipts/print", headers=csrf(staff),
                           data={"template": "note", "fields": {"text": "Giấy hẹn"}})
    assert r.ok, r.text()
    r = staff.request.post(f"/api/dossiers/{ticket_2}/uploaded", headers=csrf(staff))
    assert r.ok, r.text()

    kiosk_answers(browser, stack)
    staff.goto("/visit")
    staff.wait_for_selector("#visit-open:not([hidden])")
    staff.click("#visit-end")
    staff.click("#end-yes")
    assert_in_view(staff.locator("#visit-result"))
    want = expected(kit, visit_id)

    tech = page_for(stack, "tech")
    tech.goto("/reports")
    tech.select_option("#visit", str(visit_id))
    tech.click("#show-visit")
    assert tech.inner_text('tr[data-code="served"] td.n') == "4"
    assert tech.inner_text('tr[data-code="satisfied_share"] td.n') == "75,0"
    files = {}
    for fmt in ("csv", "xlsx", "pdf"):
        with tech.expect_download() as d:
            tech.click(f"#download-{fmt}")
        files[fmt] = tmp_path / d.value.suggested_filename
        d.value.save_as(files[fmt])
    as_text = {k: "" if v is None else str(v) for k, v in want.items()}
    rows = list(csv.reader(io.StringIO(files["csv"].read_text(encoding="utf-8-sig"))))
    assert {LABELS[r[0]]: r[1] for r in rows if r and r[0] in LABELS} == as_text
    sheet = openpyxl.load_workbook(files["xlsx"]).active
    got = {LABELS[r[0]]: r[1] for r in sheet.iter_rows(values_only=True) if r[0] in LABELS}
    assert got == want
    lines = {line.strip() for line in ocr(files["pdf"], tmp_path).splitlines()}
    for code, value in want.items():
        shown = f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)
        assert f"{dict((c, vi) for c, vi, _ in ROWS)[code]} {shown}" in lines, (code, shown)
    tickets = [t for (t,) in field_rows(kit, "SELECT ticket FROM queue WHERE ticket IS NOT NULL")]
    for f in files.values():
        assert not any(t.encode() in f.read_bytes() for t in tickets)
