"""The dossier JSON API under /api/dossiers (docs/openapi.yaml): today's dossiers for the staff
home, one dossier, its rename, its upload mark and its ZIP. The work is `edge.pipeline.dossiers`,
shared with `edge dossier`; errors are {"error", "error_vi"} like the rest of the API.
"""

from __future__ import annotations

import functools

from flask import Blueprint, Response, jsonify, request

from edge.errors import JobError
from edge.field import queue
from edge.pipeline import dossiers, naming
from edge.pipeline.queue import Queue
from edge.web import auth, jobs
from edge.web.api import STAFF, body
from edge.web.context import kit
from edge.web.errors import bad

bp = Blueprint("dossier_api", __name__, url_prefix="/api/dossiers")
MAX_QUERY = 64


def view(queue: Queue, dossier: dossiers.Dossier) -> dict[str, object]:
    """DOSSIER: its documents as `GET /api/jobs/<id>` shows a job, with their seq."""
    return dossier.summary(functools.partial(jobs.detail, queue))


def checked_ref(ref: str) -> str:
    """A ticket or a dossier code, else 404 (never looked up)."""
    if not jobs.is_ticket(ref):
        try:
            naming.check_dossier(ref)
        except JobError:
            raise bad(f"{ref[:40]!r} is not a ticket or a dossier code",
                      "Không tìm thấy hồ sơ này", 404) from None
    return ref


def flag(name: str) -> bool:
    value = request.args.get(name, "")
    if value not in ("", "0", "1"):
        raise bad(f"{name}: expected 1 or 0", "Bộ lọc không hợp lệ")
    return value == "1"


@bp.get("")
@auth.require(*STAFF)
def listing() -> Response:
    text = request.args.get("q", "").strip()
    if len(text) > MAX_QUERY:
        raise bad(f"q: at most {MAX_QUERY} characters", "Nội dung tìm kiếm quá dài")
    q = kit().queue()
    found = dossiers.listing(q, text=text, pending=flag("pending"), today=flag("today"))
    return jsonify(dossiers=[view(q, d) for d in found])


@bp.get("/<ref>")
@auth.require(*STAFF)
def show(ref: str) -> Response:
    k = kit()
    dossier = dossiers.find(k.queue(), checked_ref(ref))
    return jsonify({**view(k.queue(), dossier),
                    "queue_n": queue.number_of(k.cfg.storage.root, dossier.ticket)})


@bp.post("/<ref>/rename")
@auth.require(*STAFF)
def rename(ref: str) -> Response:
    k = kit()
    code = jobs.field(body(), "dossier", True, 64)
    return jsonify(view(k.queue(), dossiers.rename(k.cfg, k.storage, k.queue(),
                                                   checked_ref(ref), code)))


@bp.post("/<ref>/uploaded")
@auth.require(*STAFF)
def uploaded(ref: str) -> Response:
    q = kit().queue()
    return jsonify(view(q, dossiers.uploaded(q, checked_ref(ref))))


@bp.get("/<ref>/export")
@auth.require(*STAFF)
def export(ref: str) -> Response:
    """The ZIP, streamed: every file was checked before the first byte is sent."""
    k = kit()
    exp = dossiers.export(k.storage, k.queue(), checked_ref(ref))
    resp = Response(exp.chunks(), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{exp.name}"'})
    resp.call_on_close(exp.close)  # also when the download never starts
    return resp
