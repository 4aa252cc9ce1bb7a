"""The day in the field on the web: start and end a visit, give queue numbers at reception,
call them per area, and the public display (`/queue/display`, no login: numbers and areas only).

Pages are thin templates drawn by static/visit.js, reception.js, queue.js and display.js from
the JSON API below and its event streams. No citizen names exist anywhere in the queue.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, send_file

from edge.errors import EdgeError
from edge.field import events, queue, ticket, visits
from edge.web import auth
from edge.web.api import body
from edge.web.context import kit
from edge.web.errors import bad
from edge.web.i18n import WORDS, queue_table, queue_words
from edge.web.labels import label
from edge.web.sse import stream

bp = Blueprint("field", __name__)
VISIT_START = ("staff", "technician", "volunteer")
VISIT_END = ("staff", "technician")
RECEPTION = ("volunteer", "staff")
CALLERS = ("staff",)
ALL = ("staff", "technician", "volunteer")
DISPLAY_CALLS = 8


def root() -> Any:
    return kit().cfg.storage.root


# ------------------------------------------------------------------ pages


def page(template: str, **extra: object) -> str:
    return render_template(template, queue_words=queue_words(), w=queue_table(),
                           areas=queue.AREAS, priorities=queue.PRIORITIES, **extra)


@bp.get("/visit")
@auth.require(*ALL)
def visit_page() -> str:
    return page("visit.html", may_end=auth.current_role() in ("admin", *VISIT_END))


@bp.get("/reception")
@auth.require(*RECEPTION)
def reception_page() -> str:
    return page("reception.html")


@bp.get("/queue")
@auth.require(*CALLERS)
def queue_page() -> str:
    return page("queue.html")


@bp.get("/queue/display")
def display_page() -> str:
    """For a TV or a tablet facing the room: no login, numbers and areas only."""
    return page("display.html")


@bp.get("/api/queue/display")
def display_data() -> Response:
    return jsonify(display())


@bp.get("/api/queue/display/events")
def display_events() -> Response:
    return stream(display)


def display() -> dict[str, object]:
    """What the room sees: the latest calls (a recall counts as a new call), how many wait per
    area, and where the visit is. Never a ticket, a procedure or a priority group."""
    r = root()
    visit = visits.current(r)
    calls = sorted((e for s in ("called", "done") for e in queue.listing(r, (s,))
                    if e.last_called), key=lambda e: -(e.last_called or 0))[:DISPLAY_CALLS]
    waiting = queue.waiting(r)
    return {"visit": {"place": visit.place, "venue": visit.venue} if visit else None,
            "calls": [{"n": e.n, "area": e.area, "at": e.last_called, "state": e.state}
                      for e in calls],
            "waiting": {a: sum(e.area == a for e in waiting) for a in queue.AREAS}}


# ------------------------------------------------------------------ visits


@bp.get("/api/visit")
@auth.require(*ALL)
def visit_now() -> Response:
    return jsonify(visit_view())


def visit_view() -> dict[str, object]:
    r, cfg = root(), kit().cfg
    visit = visits.current(r)
    counts = {s: len(queue.listing(r, (s,))) for s in queue.STATES} if visit else {}
    return {"visit": visit.as_dict() if visit else None, "queue": counts,
            "places": [{"name": p.name, "venue": p.venue, "kind": p.kind}
                       for p in visits.places(cfg)]}


@bp.post("/api/visit/start")
@auth.require(*VISIT_START)
def visit_start() -> Response:
    data = body()
    place, venue = data.get("place"), data.get("venue", "")
    if not isinstance(place, str) or not isinstance(venue, str):
        raise bad("place and venue: expected text", "Hãy chọn hoặc nhập thôn, tổ dân phố")
    cfg = kit().cfg
    known = next((p for p in cfg.places if p.name == place.strip()), None)
    visit = visits.start(root(), place, venue or (known.venue if known else ""))
    events.started(cfg, visit)
    return jsonify(visit_view())


@bp.post("/api/visit/end")
@auth.require(*VISIT_END)
def visit_end() -> Response:
    cfg = kit().cfg
    visit = visits.end(root())
    events.ended(cfg, visit)
    return jsonify({**visit_view(), "ended": visit.as_dict(),
                    "totals": events.totals(cfg, visit.id)})


# ------------------------------------------------------------------ the queue


def entry_view(e: queue.Entry) -> dict[str, object]:
    return {"id": e.id, "n": e.n, "area": e.area, "priority": e.priority, "state": e.state,
            "issued": e.issued, "called": e.called, "last_called": e.last_called,
            "ticket": e.ticket}


def queue_view(area: str | None) -> dict[str, object]:
    r = root()
    visit = visits.current(r)
    waiting = queue.waiting(r)
    return {"visit": visit.as_dict() if visit else None,
            "waiting": [entry_view(e) for e in waiting if not area or e.area == area],
            "called": [entry_view(e) for e in queue.called(r, area)],
            "counts": {a: sum(e.area == a for e in waiting) for a in queue.AREAS}}


def area_arg() -> str | None:
    area = request.args.get("area") or None
    if area is not None and area not in queue.AREAS:
        raise bad(f"area: one of {', '.join(queue.AREAS)}", "Khu vực không hợp lệ")
    return area


@bp.get("/api/queue")
@auth.require(*RECEPTION)
def queue_now() -> Response:
    return jsonify(queue_view(area_arg()))


@bp.get("/api/queue/events")
@auth.require(*RECEPTION)
def queue_events() -> Response:
    area = area_arg()
    return stream(lambda: queue_view(area))


@bp.post("/api/queue")
@auth.require(*RECEPTION)
def issue() -> tuple[Response, int]:
    data = body()
    priority = data.get("priority") or None
    entry = queue.issue(root(), str(data.get("area", ""))[:40],
                        str(priority)[:40] if priority else None,
                        str(data.get("procedure") or "")[:200] or None)
    return jsonify(entry=entry_view(entry), slip=print_slip(entry)), 201


def print_slip(entry: queue.Entry) -> dict[str, str]:
    """Print the number's slip; the number stands whatever happens (staff say it aloud)."""
    cfg = kit().cfg
    if not cfg.receipt_printer:
        vi, en = WORDS["no_slip_printer"]
        return {"state": "none", "message": en, "message_vi": vi}
    try:
        outcome = ticket.print_number(cfg, entry)
        state, vi_why, en_why = outcome.state, outcome.vi, outcome.message
    except EdgeError as e:
        state, vi_why, en_why = "failed", e.vi or e.message, e.message
    state = state if state in ("printed", "failed") else "queued"
    key = {"printed": "printed_on", "failed": "print_failed"}.get(state, "print_waiting")
    name = cfg.receipt_printer[0].name
    vi, en = WORDS[key]
    return {"state": state, "message": en.format(ticket=f"no. {entry.n}", printer=label(
        cfg, "receipt", name, "en"), why=en_why), "message_vi": vi.format(
        ticket=f"số {entry.n}", printer=label(cfg, "receipt", name, "vi"), why=vi_why)}


@bp.get("/api/queue/<int:entry_id>/slip.png")
@auth.require(*RECEPTION)
def slip_preview(entry_id: int) -> Response:
    """The number's slip exactly as the receipt printer prints it."""
    _, slip = ticket.build(kit().cfg, queue.get(root(), entry_id), preview=True)
    out = io.BytesIO()
    slip.save_preview(out)
    out.seek(0)
    return send_file(out, mimetype="image/png")


@bp.post("/api/queue/next")
@auth.require(*CALLERS)
def call_next() -> Response:
    area = str(body().get("area", ""))[:40]
    entry = queue.call_next(root(), area)
    return jsonify(call=entry_view(entry) if entry else None, **queue_view(area))


@bp.post("/api/queue/<int:entry_id>/<action>")
@auth.require(*CALLERS)
def act(entry_id: int, action: str) -> Response:
    acts = {"recall": queue.recall, "done": queue.done, "left": queue.left}
    if action not in acts:
        raise bad(f"unknown action {action[:40]!r}", "Thao tác không hợp lệ", 404)
    entry = acts[action](root(), entry_id)
    return jsonify(entry=entry_view(entry), **queue_view(request.args.get("area") or None))

