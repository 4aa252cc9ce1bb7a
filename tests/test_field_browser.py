"""The survey kiosk and the report page in headless Chromium against real `edge run` + `edge
web`: unlock, answer with a face, thanks, back to the faces by itself; an answer given while the
kit is out of reach is kept and sent later; screenshots at phone, tablet and laptop sizes."""

from __future__ import annotations

import time

from edge.field import db

from .field_day import EXPECTED, write_day
from .test_daemon import wait_for
from .web_kit import ARTIFACTS

pytest_plugins = ["tests.web_browser"]  # fixtures: stack, browser, page_for
SIZES = ((360, 780), (800, 1280), (1280, 800))


def shots(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(200)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{w}x{h}.png"))
    page.set_viewport_size({"width": 1280, "height": 800})


def answers(root) -> list[tuple[int, str]]:
    conn = db.connect(root)
    try:
        return [tuple(r) for r in conn.execute("SELECT score, better FROM survey ORDER BY id")]
    finally:
        conn.close()


def test_kiosk_day(stack, page_for, kit):
    stack.start()
    page = page_for(stack, "vol")
    page.goto("/survey")
    shots(page, "survey-unlock")
    page.click("#kiosk-start")
    page.wait_for_selector("#face-5")
    assert page.locator("#kiosk-start").count() == 0
    shots(page, "survey-faces")
    page.click("#face-2")
    page.check('input[value="wait"]')
    page.check('input[value="guidance"]')
    shots(page, "survey-more")
    page.click("#survey-send")
    page.wait_for_selector("#step-thanks:not([hidden])")
    shots(page, "survey-thanks")
    assert answers(kit.root) == [(2, "wait,guidance")]
    page.wait_for_selector("#step-faces:not([hidden])", timeout=30_000)  # resets by itself
    page.context.set_offline(True)  # the tablet loses the kit's Wi-Fi
    page.click("#face-5")
    page.click("#survey-send")
    page.wait_for_selector("#saved-later:not([hidden])")
    assert len(answers(kit.root)) == 1
    back = time.time()
    page.context.set_offline(False)
    page.reload()  # or the next 30 s retry
    wait_for(lambda: len(answers(kit.root)) == 2)
    assert answers(kit.root)[1] == (5, "")
    conn = db.connect(kit.root)  # counted when it was given (the visit then), not when sent
    assert conn.execute("SELECT max(at) FROM survey").fetchone()[0] < back
    conn.close()
    page.click("#face-4")
    page.fill("#number", "7")
    page.click("#survey-send")
    page.wait_for_selector("#survey-error:not([hidden])")
    assert "số 7" in page.inner_text("#survey-error")
    shots(page, "survey-error")


def test_report_page(stack, page_for, kit):
    v1, _ = write_day(kit.root)
    stack.start()
    page = page_for(stack, "tech")
    page.goto("/reports")
    page.select_option("#visit", str(v1))
    page.click("#show-visit")
    page.wait_for_selector("#figures")
    assert page.inner_text('tr[data-code="served"] td.n') == str(EXPECTED["served"])
    shots(page, "report-visit")
    with page.expect_download() as d:
        page.click("#download-pdf")
    assert d.value.suggested_filename == f"bao-cao-buoi-{v1}.pdf"
    page.select_option("#month", "2026-11")
    page.click("#show-month")
    page.wait_for_selector("#figures")
    assert page.locator("#figures tr").first.inner_text().split("\t")[1:] == [
        "Thôn Đông", "Tổ dân phố 3", "Tổng cộng"]
    shots(page, "report-month")
