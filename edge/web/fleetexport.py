"""A month's figures as files for the commune's report: CSV (UTF-8 with a BOM, so Excel reads
the Vietnamese) and XLSX (openpyxl), one table per commune and one per place."""

from __future__ import annotations

import csv
import io
from typing import Any

Table = tuple[str, list[str], list[list[Any]]]  # (title, header, rows)


def to_csv(tables: list[Table]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    for i, (title, header, rows) in enumerate(tables):
        if i:
            w.writerow([])
        w.writerow([title])
        w.writerow(header)
        w.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(tables: list[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, header, rows in tables:
        sheet = book.create_sheet(title[:31])  # Excel's limit
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        for col, name in zip(sheet.columns, header, strict=False):
            sheet.column_dimensions[col[0].column_letter].width = max(10, len(name) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
