"""The report page (`/reports`, technician and admin): a visit's or a month's figures on screen,
and the same as CSV, XLSX or PDF (`/api/report`), as `edge report` makes them. Counts only: a
technician sees no personal data here either.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, Response, render_template, request, send_file

from edge.field import db, render, report, visits
from edge.pipeline.naming import slug
from edge.web import auth
from edge.web.context import kit
from edge.web.errors import bad
from edge.web.i18n import lang

bp = Blueprint("reports", __name__)
ROLES = ("technician",)


def _chosen() -> tuple[report.Report | None, str]:
    """The report asked for in the query (visit=ID or month=YYYY-MM [place=...]), and a file
    name for it."""
    root, queue = kit().cfg.storage.root, kit().queue()
    visit, month = request.args.get("visit", ""), request.args.get("month", "")
    place = request.args.get("place", "").strip()[:100] or None
    if visit:
        if not visit.isdigit():
            raise bad("visit: expected a number", "Buổi lưu động không hợp lệ")
        return report.for_visit(root, queue, int(visit)), f"bao-cao-buoi-{visit}"
    if month:
        name = f"bao-cao-{month[:7]}" + (f"-{slug(place)}" if place else "")
        return report.for_month(root, queue, month, place), name
    return None, ""


@bp.get("/reports")
@auth.require(*ROLES)
def page() -> str:
    r, _ = _chosen()
    recent = [visits.Visit.of(r) for r in db.rows(
        kit().cfg.storage.root, "SELECT * FROM visits ORDER BY id DESC LIMIT 100")]
    rows = [(code, [_cell(f.values()[code]) for _, f in r.columns])
            for code, _, _ in report.ROWS] if r else []
    return render_template("reports.html", report=r, period=_period(r), rows=rows,
                           visits=[(v, report.label(v)) for v in recent],
                           places=sorted({v.place for v in recent}), months=_months(recent),
                           args=request.args, total=report.TOTAL,
                           other=report.OTHER)


def _period(r: report.Report | None) -> str:
    """What the report covers, in no language: "14/11/2026 – Thôn Đông", "11/2026"."""
    if r is None:
        return ""
    if request.args.get("visit"):
        return report.label(r.visits[0][0])
    year, month = request.args["month"][:7].split("-")
    place = request.args.get("place", "").strip()
    return f"{month}/{year}" + (f" – {place}" if place else "")


def _months(recent: list[visits.Visit]) -> list[str]:
    """This month and every month with a visit, newest first."""
    return sorted({dt.date.today().strftime("%Y-%m"), *(v.day[:7] for v in recent)},
                  reverse=True)


def _cell(v: float | None) -> str:
    if isinstance(v, float):
        return f"{v:.1f}".replace(".", ",") if lang() == "vi" else f"{v:.1f}"
    return "" if v is None else str(v)


@bp.get("/api/report")
@auth.require(*ROLES)
def download() -> Response:
    fmt = request.args.get("format", "csv")
    r, name = _chosen()
    if r is None:
        raise bad("give visit=ID or month=YYYY-MM", "Hãy chọn một buổi hoặc một tháng")
    data = render.render(r, fmt)
    return send_file(io.BytesIO(data), mimetype=render.MEDIA[fmt], as_attachment=True,
                     download_name=f"{name}.{fmt}")
