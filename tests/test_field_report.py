"""The survey's answers and the report's figures, read back from CSV, XLSX (openpyxl) and the PDF
(pdftoppm + tesseract vie), on a scripted day written into the real databases."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest

from edge.errors import JobError, NotFound, StateConflict
from edge.field import db, render, report, survey
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage

from .field_day import DAY, EXPECTED, NUMBERS, T0, write_day

NOW = T0 + 3000


@pytest.fixture
def day(tmp_path):
    root = tmp_path / "data"
    v1, v2 = write_day(root)
    queue = Queue(Storage(root).db)
    yield root, queue, v1, v2
    queue.close()


def test_answer_is_linked_to_its_number_and_visit_once(day):
    root, _, v1, _ = day
    conn = db.connect(root)
    conn.execute("DELETE FROM survey WHERE queue = (SELECT id FROM queue WHERE n = 5)")
    conn.close()
    a = survey.answer(root, 4, ["guidance", "guidance"], queue_n=5, now=NOW)
    assert (a.visit, a.queue_n, a.better) == (v1, 5, ("guidance",))
    with pytest.raises(StateConflict) as e:
        survey.answer(root, 5, queue_n=5, now=NOW)
    assert "đã đánh giá" in e.value.vi
    with pytest.raises(NotFound):
        survey.answer(root, 5, queue_n=99, now=NOW)
    with pytest.raises(NotFound):  # number 5 of another day
        survey.answer(root, 5, queue_n=5, now=NOW + 86400)


@pytest.mark.parametrize("score,better,n", [(0, (), None), (6, (), None), (True, (), None),
                                            ("5", (), None), (5, ("rude",), None),
                                            (5, (), 0), (5, (), "3")])
def test_bad_answers_are_refused_saying_why(day, score, better, n):
    with pytest.raises(JobError) as e:
        survey.answer(day[0], score, better, queue_n=n, now=NOW)
    assert e.value.vi and e.value.message


def test_answer_without_number_goes_to_the_open_visit(day):
    root, _, _, v2 = day
    a = survey.answer(root, 1, now=T0 + 7 * 86400 + 100)
    assert (a.visit, a.queue_n) == (v2, None)
    conn = db.connect(root)
    assert survey.tally(conn, [v2]).scores[1] == 1
    conn.close()


def test_an_answer_sent_late_belongs_to_the_visit_it_was_given_in(day):
    """A tablet off the Wi-Fi sends its answers when it is back: after the visit ended."""
    root, _, v1, _ = day
    late = T0 + 5 * 3600  # visit 1 ended at T0 + 4 h
    assert survey.answer(root, 5, now=late, age=4 * 3600).visit == v1
    assert survey.answer(root, 4, now=late).visit is None  # given between visits
    for age in ("60", True, None, float("nan"), float("inf")):
        with pytest.raises(JobError) as e:
            survey.answer(root, 5, now=late, age=age)
        assert e.value.vi == "Thời điểm trả lời không hợp lệ"


def test_visit_figures_are_exactly_the_day(day):
    root, queue, v1, _ = day
    r = report.for_visit(root, queue, v1)
    assert [h for h, _ in r.columns] == ["Thôn Đông"]
    assert r.columns[0][1].values() == EXPECTED
    assert r.procedures() == [("Đăng ký khai sinh", 1, 2), ("khác", 1, 1)]
    assert len(NUMBERS) == EXPECTED["issued"]


def test_month_has_a_column_per_place_and_a_total(day):
    root, queue, _, _ = day
    r = report.for_month(root, queue, f"{DAY:%Y-%m}")
    assert [h for h, _ in r.columns] == ["Thôn Đông", "Tổ dân phố 3", "Tổng cộng"]
    total = r.total.values()
    assert (total["visits"], total["survey_answers"], total["survey_satisfied"],
            total["served"]) == (2, 5, 3, 4)
    one = report.for_month(root, queue, f"{DAY:%Y-%m}", place="Tổ dân phố 3")
    assert [h for h, _ in one.columns] == ["Tổ dân phố 3"]
    assert report.for_month(root, queue, "2026-10").total.values()["visits"] == 0
    with pytest.raises(JobError):
        report.for_month(root, queue, "2026-13")
    with pytest.raises(NotFound):
        report.for_visit(root, queue, 999)


def _summary(rows: list[list[str]]) -> dict[str, str]:
    labels = {vi: code for code, vi, _ in report.ROWS}
    return {labels[r[0]]: r[1] for r in rows if r and r[0] in labels}


def _as_text(v: object) -> str:
    return "" if v is None else str(v)


def test_csv_has_the_figures_and_no_ticket(day):
    root, queue, v1, _ = day
    data = render.render(report.for_visit(root, queue, v1), "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert _summary(rows) == {k: _as_text(v) for k, v in EXPECTED.items()}
    assert "Đăng ký khai sinh" in data.decode("utf-8-sig")
    _no_ticket(queue, data.decode("utf-8-sig"))


def _no_ticket(queue: Queue, text: str) -> None:
    for j in queue.jobs():
        assert j.ticket not in text


def test_xlsx_reads_back_with_openpyxl(day):
    openpyxl = pytest.importorskip("openpyxl")
    root, queue, v1, _ = day
    data = render.render(report.for_visit(root, queue, v1), "xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    labels = {vi: code for code, vi, _ in report.ROWS}
    got = {labels[r[0]]: r[1] for r in rows if r and r[0] in labels}
    assert got == EXPECTED
    _no_ticket(queue, repr(rows))


def test_pdf_is_one_a4_page_that_tesseract_reads(day, tmp_path):
    pikepdf = pytest.importorskip("pikepdf")
    root, queue, v1, _ = day
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render.render(report.for_visit(root, queue, v1), "pdf"))
    with pikepdf.open(pdf) as doc:
        assert len(doc.pages) == 1
        box = [float(x) for x in doc.pages[0].mediabox]
    assert [round(x) for x in box] == [0, 0, 595, 842]  # A4 in points
    lines = {line.strip() for line in ocr(pdf, tmp_path).splitlines()}
    labels = {code: vi for code, vi, _ in report.ROWS}
    for code, value in EXPECTED.items():  # "Trang đã số hoá 7", "Tỷ lệ hài lòng (%) 75,0"
        shown = f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)
        assert f"{labels[code]} {shown}" in lines, code
    assert "Đăng ký khai sinh 1 2" in lines


def ocr(pdf, tmp_path) -> str:
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", str(pdf), str(tmp_path / "pg")],
                   check=True)
    out = []
    for png in sorted(tmp_path.glob("pg*.png")):
        out.append(subprocess.run(["tesseract", str(png), "-", "-l", "vie", "--psm", "6"],
                                  capture_output=True, text=True, check=True).stdout)
    return "\n".join(out)


def test_unknown_format_is_refused(day):
    root, queue, v1, _ = day
    with pytest.raises(JobError):
        render.render(report.for_visit(root, queue, v1), "docx")


def test_cli_writes_each_format(kit, tmp_path):
    v1, _ = write_day(kit.root)
    done = kit.edge("report", "--visit", str(v1))
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout.removeprefix("\ufeff"))))
    assert _summary(rows) == {k: _as_text(v) for k, v in EXPECTED.items()}
    for fmt in ("xlsx", "pdf"):
        out = tmp_path / f"r.{fmt}"
        done = kit.edge("report", "--month", f"{DAY:%Y-%m}", "--place", "Thôn Đông",
                        "--format", fmt, "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert out.read_bytes()[:4] in (b"PK\x03\x04", b"%PDF")
    bad = kit.edge("report", "--month", "11-2026")
    assert bad.returncode == 1 and "expected YYYY-MM" in bad.stderr
    bad = kit.edge("report", "--visit", "1", "--place", "x")
    assert bad.returncode == 1 and bad.stderr.startswith("edge: --place goes with --month")
