"""The JSON API under /api/ (docs/openapi.yaml): what the pages use and the commune's own tools
may drive. Every POST needs the CSRF token; every error is {"error", "error_vi"} with a 4xx.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_file

from edge.field import queue as fqueue
from edge.pipeline import actions
from edge.pipeline.job import State
from edge.web import auth, csrf, devices, jobs, labels, receipts
from edge.web.context import kit
from edge.web.errors import as_json, bad
from edge.web.sse import stream

bp = Blueprint("api", __name__, url_prefix="/api")
STAFF = ("staff",)
DEVICES = ("technician", "staff")
SLIPS = ("volunteer", "staff")
MAX_HISTORY_HOURS = 48.0
VIA = "web UI"  # in a job's history: who acted on it


def body() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(data, dict):
        raise bad("expected a JSON object", "Dữ liệu gửi lên không hợp lệ")
    return data


@bp.get("/csrf")
def get_csrf() -> Response:
    return jsonify(csrf_token=csrf.token())


@bp.post("/login")
def login() -> Response:
    data = body()
    name = jobs.field(data, "name", required=True, limit=64)
    password = jobs.field(data, "password", required=True, limit=256)
    user = auth.attempt(name, password)
    return jsonify(user=user.name, role=user.role, csrf_token=csrf.token())


@bp.post("/logout")
def logout() -> Response:
    auth.logout()
    return jsonify(ok=True)


@bp.get("/me")
@auth.require(*auth.ROLES)
def me() -> Response:
    user = auth.current_user()
    return jsonify(user=user.name if user else None, role=auth.current_role())


# ------------------------------------------------------------------ staff: scanning


@bp.get("/scanners")
@auth.require(*STAFF)
def scanners() -> Response:
    cfg = kit().cfg
    out = [{"name": s.name, "label": labels.label(cfg, "scanner", s.name), "driver": s.driver,
            "presets": [{"name": n, "label": p.label or n, "doc": p.doc}
                        for n, p in s.presets.items()]}
           for s in cfg.scanner if not s.imports]
    return jsonify(scanners=out, doc_types=cfg.web.doc_types)


@bp.get("/jobs")
@auth.require(*STAFF)
def list_jobs() -> Response:
    q = kit().queue()
    return jsonify(jobs=[jobs.detail(q, j) for j in q.jobs()[-50:]])


@bp.post("/jobs")
@auth.require(*STAFF)
def create_job() -> tuple[Response, int]:
    k, data = kit(), body()
    number = queue_number(data)  # the citizen's queue number the scan is for, if any
    try:
        job = jobs.create(k.cfg, k.storage, k.queue(), data)
    except actions.ScannerTaken as e:  # the page offers what to do with the job in the way
        resp, status = as_json(e)
        return jsonify(**resp.json, conflict=e.conflict, job=jobs.detail(k.queue(), e.job)), status
    if number is not None:
        fqueue.link_ticket(k.cfg.storage.root, number, job.ticket)
    return jsonify(jobs.detail(k.queue(), job)), 201


def queue_number(data: dict[str, Any]) -> int | None:
    """`queue` in a new scan: the id of the citizen's number it is for, checked before the job
    is made (the dossier then shows the number, the report counts it for the visit)."""
    raw = data.pop("queue", None)
    if raw in (None, ""):
        return None
    try:
        return fqueue.get(kit().cfg.storage.root, int(raw)).id
    except (TypeError, ValueError):
        raise bad("queue: expected the id of a queue number", "Số thứ tự không hợp lệ") from None


@bp.get("/jobs/<ref>")
@auth.require(*STAFF)
def get_job(ref: str) -> Response:
    q = kit().queue()
    return jsonify(jobs.detail(q, q.get(jobs.job_id(ref))))


@bp.get("/jobs/<ref>/events")
@auth.require(*STAFF)
def job_events(ref: str) -> Response:
    k, jid = kit(), jobs.job_id(ref)
    k.queue().get(jid)  # 404 now rather than inside the stream
    return stream(lambda: jobs.detail(k.queue(), k.queue().get(jid)))


@bp.post("/jobs/<ref>/<action>")
@auth.require(*STAFF)
def act(ref: str, action: str) -> Response:
    k, jid = kit(), jobs.job_id(ref)
    q, data = k.queue(), body()
    if action == "resume":
        job = actions.resume(k.cfg, k.storage, q, jid, VIA)
    elif action == "finish":
        job = actions.finish(q, jid, VIA)
    elif action == "restore":
        job = actions.restore(q, jid, jobs.pages(data), VIA)
    elif action == "rename":
        job = actions.rename(k.cfg, k.storage, q, jid, jobs.field(data, "dossier", True, 64))
    elif action == "uploaded":
        job = actions.uploaded(q, jid)
    else:
        raise bad(f"unknown action {action[:40]!r}", "Thao tác không hợp lệ", 404)
    return jsonify(jobs.detail(q, job))


@bp.get("/jobs/<ref>/files/<int:part>")
@auth.require(*STAFF)
def download(ref: str, part: int) -> Response:
    k = kit()
    path = jobs.file_path(k.storage, k.queue(), jobs.job_id(ref), part)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=path.name)


@bp.get("/jobs/<ref>/pages/<int:idx>/thumb", defaults={"size": "thumb"})
@bp.get("/jobs/<ref>/pages/<int:idx>/image", defaults={"size": "image"})
@auth.require(*STAFF)
def page_picture(ref: str, idx: int, size: str) -> Response:
    """A page as a small thumbnail, or as a large picture for the page viewer."""
    from edge.web import thumbs

    k = kit()
    path = thumbs.picture(k.storage, k.queue(), jobs.job_id(ref), idx,
                          thumbs.THUMB if size == "thumb" else thumbs.VIEW)
    return send_file(path, mimetype=thumbs.mimetype(path))


# ------------------------------------------------------------------ technicians: devices


@bp.get("/status")
@auth.require(*DEVICES)
def status() -> Response:
    return jsonify(devices.view(kit().cfg))


@bp.get("/events/status")
@auth.require(*DEVICES)
def status_events() -> Response:
    cfg = kit().cfg

    def produce() -> object:
        v = devices.view(cfg)
        v.pop("at")
        return v

    return stream(produce)


@bp.get("/history")
@auth.require(*DEVICES)
def history() -> Response:
    try:
        hours = float(request.args.get("hours", "6"))
    except ValueError:
        raise bad("hours: expected a number", "Số giờ không hợp lệ") from None
    if not 0 < hours <= MAX_HISTORY_HOURS:
        raise bad(f"hours: 0..{MAX_HISTORY_HOURS:g}", "Số giờ không hợp lệ")
    series = kit().history.series(time.time() - hours * 3600)
    return jsonify(series={k: [[round(t, 1), v] for t, v in pts] for k, pts in series.items()})


# ------------------------------------------------------------------ volunteers: slips


@bp.get("/receipts/templates")
@auth.require(*SLIPS)
def slip_templates() -> Response:
    return jsonify(templates=receipts.templates(kit().cfg))


@bp.get("/receipts/tickets")
@auth.require(*SLIPS)
def slip_tickets() -> Response:
    return jsonify(tickets=receipts.tickets(kit().queue()))


@bp.post("/receipts/preview")
@auth.require(*SLIPS)
def slip_preview() -> Response:
    slip = receipts.build(kit().cfg, body())
    out = io.BytesIO()
    slip.save_preview(out)
    return jsonify(png=base64.b64encode(out.getvalue()).decode(), exact=slip.exact,
                   width=slip.preview.width, height=slip.preview.height)


@bp.post("/receipts/print")
@auth.require(*SLIPS)
def slip_print() -> Response:
    return jsonify(receipts.print_slip(kit().cfg, body()))


__all__ = ["State", "bp"]
