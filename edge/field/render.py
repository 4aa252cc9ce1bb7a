"""A report as the files a commune office uses: CSV (UTF-8 with a BOM, so a spreadsheet shows
the Vietnamese right), XLSX (openpyxl, numbers as numbers) and an A4 PDF (fpdf2 with the DejaVu
fonts, Vietnamese as text) that `edge print` sends to the kit's multifunction printer.

Three tables, in the order a monthly report pastes them: the summary per place, dossiers by
procedure, and one line per visit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

from edge.errors import JobError
from edge.field.report import ROWS, Report, label
from edge.receipts.raster import BOLD, REGULAR

FORMATS = ("csv", "xlsx", "pdf")
MEDIA = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
Cell = str | int | float | None
Table = tuple[str, list[str], list[list[Cell]]]


def tables(report: Report) -> list[Table]:
    summary = [[vi, *(figures.values()[code] for _, figures in report.columns)]
               for code, vi, _ in ROWS]
    procedures: list[list[Cell]] = [[p, d, n] for p, d, n in report.procedures()]
    visits: list[list[Cell]] = []
    for v, f in report.visits:
        x = f.values()
        visits.append([label(v), _clock(v.started), _clock(v.ended), x["served"],
                       x["served_priority"], x["left"], x["dossiers"], x["pages"],
                       x["survey_answers"], x["satisfied_share"]])
    return [
        ("Tổng hợp", ["Chỉ tiêu", *(h for h, _ in report.columns)], summary),
        ("Hồ sơ theo thủ tục", ["Thủ tục", "Hồ sơ", "Giấy tờ"], procedures),
        ("Theo từng buổi", ["Buổi", "Bắt đầu", "Kết thúc", "Phục vụ", "Ưu tiên", "Bỏ về",
                            "Hồ sơ", "Trang", "Lượt đánh giá", "Hài lòng (%)"], visits)]


def _clock(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%H:%M") if ts else ""


def heading(report: Report) -> tuple[str, str]:
    made = dt.datetime.fromtimestamp(time.time()).strftime("%d/%m/%Y %H:%M")
    return f"{report.title}: {report.period}", f"Lập lúc {made} trên bộ thiết bị lưu động"


def render(report: Report, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise JobError(f"format {fmt[:10]!r}: expected one of {', '.join(FORMATS)}",
                       vi="Định dạng báo cáo phải là csv, xlsx hoặc pdf")
    return {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}[fmt](report)


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for line in heading(report):
        w.writerow([line])
    for title, header, rows in tables(report):
        w.writerows([[], [title], header])
        w.writerows([["" if c is None else c for c in row] for row in rows])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    for line in heading(report):
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=13)
    for title, header, rows in tables(report):
        ws.append([])
        ws.append([title])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        ws.append(header)
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
    ws.column_dimensions["A"].width = 42
    for col in "BCDEFGHIJ":
        ws.column_dimensions[col].width = 14
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_pdf(report: Report) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(12, 10, 12)
    pdf.set_auto_page_break(True, 10)
    pdf.add_font("dejavu", "", str(REGULAR))
    pdf.add_font("dejavu", "B", str(BOLD))
    pdf.add_page()
    title, made = heading(report)
    pdf.set_font("dejavu", "B", 13)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 8)
    pdf.cell(0, 5, made, new_x="LMARGIN", new_y="NEXT")
    for name, header, rows in tables(report):
        pdf.ln(2)
        pdf.set_font("dejavu", "B", 10)
        pdf.cell(0, 6, name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("dejavu", "", 8)
        _table(pdf, header, rows)
    return bytes(pdf.output())


def _table(pdf: object, header: list[str], rows: list[list[Cell]]) -> None:
    """A table with a line under its heading only: grid lines would cut through the figures
    for a reader (or OCR) of a photocopy."""
    first = 72 if len(header) <= 4 else 40
    rest = min(36, (186 - first) / max(1, len(header) - 1))
    widths = (first, *([rest] * (len(header) - 1)))
    with pdf.table(col_widths=widths, line_height=4.4, text_align="LEFT",  # type: ignore[attr-defined]
                   width=sum(widths), align="LEFT", borders_layout="SINGLE_TOP_LINE",
                   first_row_as_headings=True) as table:
        for row in [header, *rows]:
            line = table.row()
            for c in row:
                line.cell("" if c is None else _shown(c))


def _shown(c: Cell) -> str:
    if isinstance(c, float):
        return f"{c:.1f}".replace(".", ",")  # Vietnamese decimal comma
    return str(c)
