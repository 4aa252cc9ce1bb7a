"""Cover sheets end to end (issue 21): staff print the covers of a three-document dossier from
the web UI on a real IPP printer (ippeveprinter), the sheets the printer received are rasterised
and scanned back with the documents through the files scanner (`edge import`) while `edge run`
and `edge web` run; three named files come out whose sidecars verify, and one split is undone
in the dossier view, the files rebuilt with new checksums."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from .pages import id_card, noise, skew, table_form, text_page
from .printer_peer import IppEvePrinter
from .test_daemon import wait_for
from .test_printer import bus  # noqa: F401 (the fixture)
from .web_kit import screenshots

pytest_plugins = ["tests.web_browser"]  # fixtures: stack, browser, page_for

BIRTH = "Đăng ký khai sinh"
DOCS = ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh", "CCCD của cha/mẹ"]


@pytest.fixture
def printer(bus, tmp_path) -> Iterator[IppEvePrinter]:  # noqa: F811
    (tmp_path / "printer").mkdir()
    with IppEvePrinter(tmp_path / "printer", bus, keep=True) as p:
        yield p


def received(printer: IppEvePrinter) -> list[Path]:
    """The documents the printer was sent."""
    return sorted(p for p in printer.spool.rglob("*.pdf") if p.stat().st_size > 0)


def stack_from(pdf: Path, tmp: Path) -> list[Path]:
    """The printed covers scanned with the papers: cover, 1 page, cover, 2 pages, cover, 1."""
    subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", str(pdf), str(tmp / "cover")],
                   check=True)
    covers = [Image.open(p).convert("L") for p in sorted(tmp.glob("cover*.png"))]
    assert len(covers) == 3
    papers = [[text_page(lines=30)[0]], [table_form(), noise(skew(text_page(start=5)[0], 3))],
              [id_card()]]
    files = []
    for cover, pages in zip(covers, papers, strict=True):
        for im in [skew(cover.convert("RGB"), -2), *pages]:
            path = tmp / f"s{len(files) + 1:02d}.png"
            im.save(path, dpi=(200, 200))
            files.append(path)
    return files


def dossier(kit, ticket: str) -> dict:
    return json.loads(kit.edge("dossier", "show", ticket, "--json").stdout)


def sidecars_verify(folder: Path, names: list[str]) -> None:
    r = subprocess.run(["sha256sum", "-c", *(n + ".sha256" for n in names)], cwd=folder,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_covers_printed_scanned_split_and_a_split_undone(kit, stack, page_for, printer,
                                                         tmp_path):
    with kit.config.open("a", encoding="utf-8") as f:
        f.write(f'\n[[printer]]\nname = "mfp"\ndriver = "ipp"\nuri = "{printer.uri}"\n')
    stack.start()
    page = page_for(stack, "staff")
    page.goto("/scan")
    page.click("#covers summary")  # folded away until wanted: the scan form comes first
    page.select_option("#procedure", label=BIRTH)
    page.uncheck("#cover-docs input[value='Giấy chứng nhận kết hôn']")
    screenshots(page, "covers-scan")
    page.click("#print-covers")
    page.wait_for_selector("#covers-done:visible")
    assert "Đã gửi 3 tờ phân cách" in page.inner_text("#covers-done")
    screenshots(page, "covers-printed")
    (pdf,) = wait_for(lambda: received(printer), 180, what="the printed covers")

    r = kit.edge("import", "--doc", "Giấy tờ khác", "--json", *map(str, stack_from(pdf, tmp_path)),
                 timeout=300)
    assert r.returncode == 0, r.stderr
    ticket = json.loads(r.stdout)["ticket"]

    def three_ready():
        d = dossier(kit, ticket)
        return d if d["state"] == "ready" and len(d["documents"]) == 3 else None

    d = wait_for(three_ready, 180, what="three ready")
    assert [(j["seq"], j["doc"], j["pages"]) for j in d["documents"]] == [
        (1, DOCS[0], 1), (2, DOCS[1], 2), (3, DOCS[2], 1)]
    files = [Path(j["files"][0]["path"]) for j in d["documents"]]
    assert [p.name for p in files] == [f"{ticket}_01_to-khai-dang-ky-khai-sinh.pdf",
                                       f"{ticket}_02_giay-chung-sinh.pdf",
                                       f"{ticket}_03_cccd-cua-cha-me.pdf"]
    sidecars_verify(files[0].parent, [p.name for p in files])
    old = d["documents"][1]["files"][0]["sha256"]

    # the third cover was put one page too late: move the split one page earlier
    page.goto(f"/dossiers?q={ticket}")
    card = page.locator(f"[data-ticket='{ticket}']")
    card.locator(".split-undo").first.wait_for()
    screenshots(page, "covers-dossier")
    third = f"[data-job='{d['documents'][2]['job_id']}']"
    card.locator(third).locator(".split-earlier").click()
    page.wait_for_selector(".card-done:visible")

    def moved():
        d = dossier(kit, ticket)
        pages = [j["pages"] for j in d["documents"]]
        return d if d["state"] == "ready" and pages == [1, 1, 2] else None

    d = wait_for(moved, 180, what="moved")
    assert d["documents"][1]["files"][0]["sha256"] != old
    sidecars_verify(files[0].parent, [p.name for p in files])
    old = d["documents"][1]["files"][0]["sha256"]

    # then it turns out the ID card copy belonged to that document after all: undo the split
    page.reload()
    card.locator(third).locator(".split-undo").click()
    page.click("#ask-buttons [data-choice='yes']")
    page.wait_for_selector(".card-done:visible")

    def two_ready():
        d = dossier(kit, ticket)
        return d if d["state"] == "ready" and len(d["documents"]) == 2 else None

    d = wait_for(two_ready, 180, what="two ready")
    assert [(j["seq"], j["doc"], j["pages"]) for j in d["documents"]] == [
        (1, DOCS[0], 1), (2, DOCS[1], 3)]
    assert d["documents"][1]["files"][0]["sha256"] != old
    names = [Path(j["files"][0]["path"]).name for j in d["documents"]]
    assert sorted(p.name for p in files[0].parent.glob("*.pdf")) == names
    sidecars_verify(files[0].parent, names)
    page.reload()
    card.locator(".document").nth(1).wait_for()
    page.wait_for_function("document.querySelectorAll('.document').length === 2")
    screenshots(page, "covers-undone")


def test_the_scan_view_shows_the_documents_of_a_stack_as_they_are_split(kit, stack, page_for):
    """A stack jammed after its sixth sheet: the live view lists the documents seen so far."""
    from edge.pipeline.cover import CoverMark
    from edge.pipeline.job import State
    from edge.pipeline.pagework import process
    from edge.pipeline.queue import Queue
    from edge.pipeline.settings import ScanSettings
    from edge.pipeline.storage import Storage

    from .cover_stack import rasterised

    stack.start()
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    settings = ScanSettings.resolve(cfg.scanner_named("adf"), "")
    marks = [CoverMark(d, "", i, 3) for i, d in enumerate(DOCS, 1)]
    sheets = [rasterised(marks[0], 200, "color"), text_page()[0],
              rasterised(marks[1], 200, "color"), table_form(), noise(text_page(start=5)[0]),
              rasterised(marks[2], 200, "color")]
    with Queue(storage.db) as queue:
        job = queue.create(kit=cfg.kit.id, doc="Giấy tờ khác", scanner="adf", preset="",
                           state=State.PAUSED)
        spool = storage.job_spool(job.id)
        spool.mkdir(parents=True)
        for idx, im in enumerate(sheets, 1):
            done = process(im.convert("RGB"), settings, idx, storage.rel(spool / f"p{idx:04d}.pdf"))
            storage.write_atomic(storage.root / done.record.file, done.data)
            queue.add_page(job.id, done.record)
    page = page_for(stack, "staff")
    page.goto("/scan")
    page.click(f".open-job[data-job='{job.id}']")
    page.wait_for_selector("#stack:visible")
    assert page.locator(".stack-doc").all_inner_texts() == [
        f"Tài liệu 1/3: {DOCS[0]}, 1 trang", f"Tài liệu 2/3: {DOCS[1]}, 2 trang",
        f"Tài liệu 3/3: {DOCS[2]}, 0 trang"]
    screenshots(page, "covers-live")
