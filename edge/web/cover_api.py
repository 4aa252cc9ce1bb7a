"""Cover sheets in the web UI (issue 21): the procedures catalogue, printing the sheets (or
their PDF), and correcting a split in the dossier view. The work is `edge.covers.service` and
`edge.pipeline.regroup`, shared with `edge cover`; errors are {"error", "error_vi"}.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from edge.covers import service
from edge.pipeline import dossiers, regroup
from edge.pipeline.actions import MAX_DOC_LEN
from edge.web import auth, jobs
from edge.web.api import STAFF, body
from edge.web.context import kit
from edge.web.dossier_api import view
from edge.web.errors import bad
from edge.web.labels import label

bp = Blueprint("cover_api", __name__, url_prefix="/api")
VIA = "web UI"
MAX_DOCS = 30


@bp.get("/procedures")
@auth.require(*STAFF)
def procedures() -> Response:
    return jsonify(procedures=[{"name": p.name, "documents": p.documents}
                               for p in kit().cfg.procedures])


def wanted(data: dict[str, Any]) -> tuple[list[str], str | None]:
    """(document types, dossier ticket or None) of a cover request."""
    docs = data.get("docs", [])
    if not isinstance(docs, list) or len(docs) > MAX_DOCS or not all(
            isinstance(d, str) and len(d) <= MAX_DOC_LEN for d in docs):
        raise bad(f"docs: expected a list of at most {MAX_DOCS} document types, each at most "
                  f"{MAX_DOC_LEN} characters",
                  "Danh sách giấy tờ không hợp lệ")
    ticket = jobs.field(data, "ticket", limit=32) or None
    if ticket is not None and not jobs.is_ticket(ticket):
        raise bad(f"ticket: {ticket!r} is not a ticket number", "Số phiếu không hợp lệ", 404)
    return docs, ticket


@bp.post("/covers")
@auth.require(*STAFF)
def print_covers() -> Response:
    """Print the sheets on the first (or the named) multifunction printer."""
    k = kit()
    docs, ticket = wanted(body())
    pdf = service.render(k.queue(), docs, ticket)
    name, job_id = service.send(k.cfg, pdf, None, "cover sheets")
    return jsonify(printer=label(k.cfg, "printer", name), job=job_id, sheets=len(docs))


@bp.get("/covers.pdf")
@auth.require(*STAFF)
def covers_pdf() -> Response:
    """The same sheets as a PDF, to print elsewhere."""
    docs, ticket = wanted({"docs": request.args.getlist("doc"),
                           "ticket": request.args.get("ticket", "")})
    pdf = service.render(kit().queue(), docs, ticket)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="to-phan-cach.pdf"'})


@bp.post("/splits/<ref>/undo")
@auth.require(*STAFF)
def undo(ref: str) -> Response:
    """Join a split document to the one before it; the dossier as it is now."""
    k = kit()
    job = regroup.unsplit(k.storage, k.queue(), jobs.job_id(ref), VIA)
    return jsonify(view(k.queue(), dossiers.find(k.queue(), job.ticket)))


@bp.post("/splits/<ref>/move")
@auth.require(*STAFF)
def move(ref: str) -> Response:
    """Move a split's boundary by `pages` (1: one page later, -1: one page earlier)."""
    k = kit()
    pages = body().get("pages")
    if pages not in (1, -1) or isinstance(pages, bool):
        raise bad("pages: expected 1 or -1", "Chỉ chuyển được từng trang một")
    job = regroup.move(k.queue(), jobs.job_id(ref), pages, VIA)
    return jsonify(view(k.queue(), dossiers.find(k.queue(), job.ticket)))
