"""The staff's working day, end to end in headless chromium against real `edge run` and
`edge web` processes (SANE test backend, and the simulated scanner for a jam): three citizens'
dossiers of two or three documents each, scanned, looked at, given their code, one downloaded as
a ZIP and checked with `sha256sum -c`, marked uploaded. After each action the element that shows
its result must be inside the viewport (phone first: 360x780), and a new scan on a scanner that
holds a paused document asks first, a double press of Quét starts one job.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile

import pytest

from .conftest import sane_adf
from .test_ups import nut  # noqa: F401  (fixture)
from .web_kit import screenshots

pytest_plugins = ["tests.web_browser"]  # fixtures: stack, browser, page_for

PHONE = {"width": 360, "height": 780}
LAPTOP = {"width": 1280, "height": 800}
CODES = ["000.00.04.H40-261203-0101", "000.00.04.H40-261203-0102", "000.00.04.H40-261203-0103"]


def sane() -> dict:
    """The SANE test backend's 10-sheet ADF (a new dict each time: write_config takes its
    presets out)."""
    return sane_adf(dpi=75, presets={"ks": {"label": "Giấy khai sinh", "doc": "Giấy khai sinh"},
                                     "cccd": {"label": "CCCD", "doc": "CCCD"},
                                     "tk": {"label": "Tờ khai", "doc": "Tờ khai"}})


def sim(jam_after: int = 0, sheets: int = 4) -> dict:
    return {"name": "sim", "driver": "sim", "dpi": 100, "source": "adf",
            "presets": {"tk": {"label": "Tờ khai", "doc": "Tờ khai"}},
            "sim": {"sheets": sheets, "page_delay": 0.05, "jam_after": jam_after,
                    "blank_backs": False}}


def assert_in_view(locator) -> None:
    """The element is on screen: its top inside the viewport, and its bottom too unless it is
    taller than the viewport (then it fills it)."""
    locator.wait_for(state="visible")
    page = locator.page
    box, view = locator.bounding_box(), page.viewport_size
    assert box is not None, locator
    top, bottom = box["y"], box["y"] + box["height"]
    where = f"{locator} at y={top:.0f}..{bottom:.0f} in a {view['height']}-px viewport"
    assert 0 <= top < view["height"], where
    assert bottom <= view["height"] + 1 or box["height"] > view["height"], where
    assert box["x"] >= 0 and box["x"] + box["width"] <= view["width"] + 1, where


def shot(page, name: str) -> None:
    """This step as the person sees it (viewport, not the whole page), in test-artifacts/."""
    from .web_kit import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"day-{name}-{page.viewport_size['width']}.png"))


def jobs(kit) -> list[dict]:
    return json.loads(kit.edge("jobs", "--json").stdout)


def small_targets(page) -> list[str]:
    """Visible controls smaller than 44x44 px (touch targets)."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'button, a, input, select, [role=button]')].map((e) => [e, e.getBoundingClientRect()])
        .filter(([, r]) => r.width > 0 && r.height > 0 && (r.width < 44 || r.height < 44))
        .map(([e, r]) => `${e.tagName}#${e.id}.${e.className} ${r.width}x${r.height}`)""")


def start_scan(page, scanner: str, preset: str) -> None:
    page.select_option("#scanner", scanner)
    page.click(f"[data-preset={preset}]")
    page.click("#start")
    assert_in_view(page.locator("#job"))  # the live progress, not the form, is in view


def wait_ready(page) -> None:
    page.wait_for_function("document.getElementById('job-state').dataset.state === 'ready'",
                           timeout=90_000)
    assert_in_view(page.locator("#result"))


# ------------------------------------------------------------------ power


def test_staff_pages_say_when_the_kit_runs_on_battery(kit, stack, page_for, nut):  # noqa: F811
    server = nut("ups.status: OL CHRG\nbattery.charge: 100\nbattery.runtime: 1800\nTIMER 3600\n")
    kit.configure([sim()])
    with open(kit.config, "a") as f:
        f.write(f'\n[[ups]]\nname = "ups"\ndriver = "nut"\nport = {server.port}\n'
                'ups = "dummy"\ninterval = 0.5\n')
    stack.start()
    page = page_for(stack, "staff")
    page.set_viewport_size(PHONE)
    line = page.locator("#power")
    page.wait_for_selector("#power[data-state=mains]", timeout=30_000)
    assert line.text_content() == "Nguồn: điện lưới"
    server.set(ups_status="OB DISCHRG", battery_charge="60", battery_runtime="900")
    page.goto("/scan")  # the line is polled; a page load reads it at once
    page.wait_for_selector("#power[data-state=battery]", timeout=30_000)
    assert_in_view(line)
    assert "còn khoảng 15 phút" in line.text_content()
    shot(page, "power-battery")
    server.set(ups_status="OB DISCHRG LB", battery_charge="8", battery_runtime="90")
    page.goto("/dossiers")
    page.wait_for_selector("#power[data-state=low]", timeout=30_000)
    assert_in_view(line)
    assert line.text_content().startswith("Pin sắp hết")
    shot(page, "power-low")


# ------------------------------------------------------------------ no mixing


def scan_page(stack, page_for):
    """The scan page on a phone, a document type typed, the scanner list loaded."""
    stack.start()
    page = page_for(stack, "staff")
    page.set_viewport_size(PHONE)
    page.goto("/scan")
    page.fill("#doc", "Tờ khai")
    page.wait_for_function("document.querySelectorAll('#scanner option').length > 0")
    return page


def test_a_double_press_of_scan_starts_one_job(kit, stack, page_for):
    kit.configure([sim(sheets=3)])
    page = scan_page(stack, page_for)
    page.fill("#doc", "")  # no document type: the refusal stands next to Quét, in view
    page.click("#start")
    assert_in_view(page.locator("#scan-error"))
    assert "loại giấy tờ" in page.locator("#scan-error").text_content()
    assert jobs(kit) == []
    page.fill("#doc", "Tờ khai")
    page.dblclick("#start")
    assert_in_view(page.locator("#job"))
    shot(page, "double-press")
    wait_ready(page)
    assert len(jobs(kit)) == 1
    page.wait_for_function("!document.getElementById('start').disabled")
    # two presses in one go (no time for the page to draw in between): still one job
    page.evaluate("() => { const b = document.getElementById('start'); b.click(); b.click(); }")
    page.wait_for_function("document.getElementById('job').dataset.job === '2'")
    wait_ready(page)
    assert len(jobs(kit)) == 2


def test_a_new_scan_on_a_scanner_with_a_paused_job_asks_first(kit, stack, page_for):
    kit.configure([sim(jam_after=2)])
    page = scan_page(stack, page_for)
    page.click("#start")
    page.wait_for_selector("#resume:not([hidden])", timeout=30_000)
    assert_in_view(page.locator("#job-message"))
    first = jobs(kit)[0]

    def ask(choice: str) -> str:
        page.wait_for_function("!document.getElementById('start').disabled")
        page.click("#start")
        dialog = page.locator("#ask")
        assert_in_view(dialog.locator("#ask-text"))
        text = dialog.locator("#ask-text").text_content()
        assert "2 trang" in text, text
        shot(page, f"paused-ask-{choice}")
        page.click(f"#ask [data-choice={choice}]")
        page.wait_for_selector("#ask", state="hidden")
        return text

    ask("back")  # nothing new starts
    assert len(jobs(kit)) == 1
    text = ask("aside")  # the paused one stays, a new one starts (and jams too)
    assert first["ticket"] in text
    page.wait_for_function("document.getElementById('job-state').dataset.state === 'paused' && "
                           f"document.getElementById('job').dataset.job !== '{first['job_id']}'",
                           timeout=30_000)
    assert [j["state"] for j in jobs(kit)] == ["paused", "paused"]
    text = ask("finish")  # one of the two is finished with the 2 pages it holds
    finished = next(j for j in jobs(kit) if j["ticket"] in text)
    page.wait_for_function("document.getElementById('job-state').dataset.state === 'ready'",
                           timeout=30_000)
    assert_in_view(page.locator("#result"))
    done = {j["job_id"]: j for j in jobs(kit)}[finished["job_id"]]
    assert done["state"] == "ready" and done["pages"] == 2
    text = ask("resume")  # the other scans on to its last sheet
    other = next(j for j in jobs(kit) if j["job_id"] != finished["job_id"])
    assert other["ticket"] in text
    wait_ready(page)
    assert {j["job_id"]: j for j in jobs(kit)}[other["job_id"]]["pages"] == 4
    # no paused job left: Quét starts at once; this one jams, and finishing it asks first
    page.click("#start")
    page.wait_for_selector("#finish:not([hidden])", timeout=30_000)
    assert page.locator("#ask").is_hidden()
    page.click("#finish")
    assert "2 trang" in page.locator("#ask-text").text_content()
    shot(page, "finish-ask")
    page.click("#ask [data-choice=back]")
    assert jobs(kit)[-1]["state"] == "paused"
    page.click("#finish")
    page.click("#ask [data-choice=finish]")
    wait_ready(page)
    assert jobs(kit)[-1]["pages"] == 2


# ------------------------------------------------------------------ the day


def scan_dossier(page, docs: list[tuple[str, str]], jam_resume: bool = False) -> str:
    """From the staff home: a new dossier of `docs` (scanner, preset); returns its ticket."""
    page.goto("/dossiers")
    page.click("#new-dossier")
    page.wait_for_url("**/scan")
    page.wait_for_function("document.querySelectorAll('#scanner option').length > 0")
    ticket = ""
    for n, (scanner, preset) in enumerate(docs, 1):
        if n > 1:
            page.click("#scan-next")
            page.wait_for_url("**/scan?ticket=*")
            assert_in_view(page.locator("#adding"))
            page.wait_for_function("document.getElementById('adding-next').textContent !== ''")
            adding = page.locator("#adding").text_content()
            assert f"Đang thêm vào hồ sơ {ticket}" in adding and f"số {n}" in adding, adding
            shot(page, f"adding-{n}")
            page.wait_for_function("document.querySelectorAll('#scanner option').length > 0")
        start_scan(page, scanner, preset)
        if scanner == "sim" and jam_resume:
            page.wait_for_selector("#resume:not([hidden])", timeout=30_000)
            assert_in_view(page.locator("#job-message"))
            assert "Kẹt giấy" in page.locator("#job-message").text_content()
            shot(page, "jam")
            page.click("#resume")
        wait_ready(page)
        ticket = page.locator("#job-ticket").text_content()
        assert re.fullmatch(r"PL01-\d{6}-\d{3}", ticket), ticket
        assert page.locator("#job-doc").text_content().startswith(f"Giấy tờ {n}:")
        shot(page, f"scanned-{n}")
    page.click("#open-dossier")
    page.wait_for_url("**/dossiers?q=*")
    return ticket


def card_of(page, ticket: str):
    card = page.locator(f".dossier[data-ticket='{ticket}']")
    card.wait_for()
    return card


def refused(page, ticket: str, code: str, why: str) -> None:
    """A code refused: the reason stands at the card's bottom, in view, announced."""
    card = card_of(page, ticket)
    card.locator(".code").fill(code)
    card.locator(".save-code").click()
    error = card.locator(".card-error")
    assert_in_view(error)
    assert error.get_attribute("role") == "alert" and why in error.text_content(), \
        error.text_content()
    shot(page, "code-refused")


def give_code(page, ticket: str, code: str) -> None:
    card = card_of(page, ticket)
    card.locator(".code").fill(code)
    card.locator(".save-code").click()
    done = page.locator(f".dossier[data-ticket='{ticket}'] .card-done")
    assert_in_view(done)
    assert done.text_content() == "Đã lưu mã hồ sơ; các tệp đã đổi tên."
    assert card_of(page, ticket).locator(".ref").text_content() == code


def look_at_pages(page, ticket: str) -> None:
    card = card_of(page, ticket)
    count = card.locator(".document").first.locator(".thumbs button.thumb").count()
    card.locator(".document").first.locator("button.thumb").first.click()
    img = page.locator("#viewer-img")
    assert_in_view(page.locator("#viewer-close"))
    page.wait_for_function("(() => { const i = document.getElementById('viewer-img'); "
                           "return i.complete && i.naturalWidth > 300; })()")
    assert page.locator("#viewer-where").text_content() == f"Trang 1/{count}"
    assert_in_view(img)
    shot(page, "viewer")
    page.click("#viewer-next")
    assert page.locator("#viewer-where").text_content() == f"Trang 2/{count}"
    assert "/pages/" in img.get_attribute("src") and img.get_attribute("src").endswith("/image")
    page.click("#viewer-close")
    page.wait_for_selector("#viewer", state="hidden")


def check_zip(page, ticket: str, tmp_path) -> None:
    card = card_of(page, ticket)
    with page.expect_download() as dl:
        card.locator(".zip").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    out = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as z:
        z.extractall(out)
    sidecars = sorted(out.rglob("*.sha256"))
    pdfs = sorted(out.rglob("*.pdf"))
    assert len(sidecars) == len(pdfs) >= 2, [p.name for p in out.rglob("*")]
    for s in sidecars:
        r = subprocess.run(["sha256sum", "-c", s.name], cwd=s.parent, capture_output=True,
                           text=True)
        assert r.returncode == 0 and r.stdout.strip().endswith(": OK"), (r.stdout, r.stderr)
    assert json.loads(next(out.rglob("manifest.json")).read_text())["ticket"] == ticket


def mark_uploaded(page, ticket: str) -> None:
    card = card_of(page, ticket)
    card.locator(".mark-uploaded").click()
    done = page.locator(f".dossier[data-ticket='{ticket}'] .card-done")
    assert_in_view(done)
    assert card_of(page, ticket).get_attribute("data-state") == "uploaded"
    assert card_of(page, ticket).locator(".state").text_content() == "Đã nộp lên Cổng"


@pytest.mark.parametrize("view", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_the_staff_day(kit, stack, page_for, tmp_path, view):
    kit.configure([sane(), sim(jam_after=2)])
    stack.start()
    page = page_for(stack, "staff")
    page.set_viewport_size(view)
    assert page.url.endswith("/dossiers")  # the staff home: today's dossiers
    assert_in_view(page.locator("#new-dossier"))
    assert_in_view(page.locator("#list-empty"))
    shot(page, "home-empty")
    citizens = [[("adf", "ks"), ("adf", "cccd")],
                [("adf", "tk"), ("sim", "tk"), ("adf", "cccd")],  # a jam in the middle
                [("sim", "tk"), ("adf", "ks")]]
    tickets = []
    for i, docs in enumerate(citizens):
        tickets.append(scan_dossier(page, docs, jam_resume=True))
        card = card_of(page, tickets[-1])
        assert_in_view(card)
        assert card.locator(".document").count() == len(docs)
        assert "Nhập mã hồ sơ của Cổng" in card.locator(".todo").text_content()
        shot(page, f"dossier-{i + 1}")
        if i == 0:
            refused(page, tickets[0], "H40-abc", "Mẫu đúng")
        if i == 1:  # another citizen's code
            refused(page, tickets[1], CODES[0], CODES[0])
        give_code(page, tickets[-1], CODES[i])
    assert not small_targets(page), small_targets(page)
    page.goto("/dossiers")
    look_at_pages(page, tickets[0])
    cards = page.locator(".dossier")
    assert [cards.nth(i).get_attribute("data-ticket") for i in range(3)] == tickets[::-1]
    page.fill("#q", tickets[1])
    page.wait_for_function("document.querySelectorAll('.dossier').length === 1")
    assert_in_view(card_of(page, tickets[1]))
    page.fill("#q", "")
    page.wait_for_function("document.querySelectorAll('.dossier').length === 3")
    check_zip(page, tickets[1], tmp_path)
    for t in tickets:
        mark_uploaded(page, t)
        shot(page, "uploaded")
    page.click("#filter-pending")  # "Chưa nộp": nothing left
    page.wait_for_function("document.querySelectorAll('.dossier').length === 0")
    assert_in_view(page.locator("#list-empty"))
    assert page.locator("#list-empty").text_content() == "Không còn hồ sơ nào chưa nộp."
    names = [p.name for p in kit.outbox_files() if p.suffix == ".pdf"]
    assert len(names) == 7 and all(n.startswith(tuple(CODES)) for n in names), names
    screenshots(page, "day-home")
    page.click("button[name=lang]")  # English: the same home in the other language
    page.wait_for_selector(".dossier .state")
    assert page.locator("#list-title").text_content() == "Today's dossiers"
    assert card_of(page, tickets[0]).locator(".state").text_content() == "Uploaded to the portal"
    assert page.locator("#power").is_hidden()  # no UPS in this kit: nothing to say
    screenshots(page, "day-home-en")
