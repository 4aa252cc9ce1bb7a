"""The HTML pages: login, staff scan, technician devices, volunteer slips. Each page is a thin
template; its live parts are drawn by static/<page>.js (helpers in static/app.js) from the JSON
API and its event streams.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from edge.errors import EdgeError
from edge.field import queue as fqueue
from edge.pipeline.dossiers import listing
from edge.web import auth
from edge.web.context import kit
from edge.web.errors import WebError
from edge.web.i18n import lang, queue_table, staff_words

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> BaseResponse:
    role = auth.current_role()
    return redirect(auth.home(role) if role else url_for("pages.login"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse:
    error = ""
    target = auth.safe_next(request.values.get("next"))
    if request.method == "POST":
        try:
            user = auth.attempt(request.form.get("name", "")[:64],
                                request.form.get("password", "")[:256])
        except WebError as e:
            error = e.vi if lang() == "vi" else e.message
        else:
            return redirect(target or auth.home(user.role))
    return render_template("login.html", error=error, next=target or "")


@bp.post("/logout")
def logout() -> BaseResponse:
    auth.logout()
    return redirect(url_for("pages.login"))


@bp.post("/lang")
def switch_lang() -> BaseResponse:
    session["lang"] = "en" if request.form.get("lang") == "en" else "vi"
    return redirect(auth.safe_next(request.form.get("next")) or "/")


@bp.get("/scan")
@auth.require("staff")
def scan() -> str:
    codes = [d.code for d in listing(kit().queue()) if d.code]
    return render_template("scan.html", doc_types=kit().cfg.web.doc_types,
                           dossier_codes=codes[:30], staff_words=staff_words(),
                           scanning_for=number_of(request.args.get("queue", "")))


def number_of(raw: str) -> str:
    """"Quét giấy tờ cho công dân số 12 · Người cao tuổi": the citizen's number a scan is
    for (the queue panel's "Quét giấy tờ" passes its id), or "" when there is none."""
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        return ""
    try:
        e = fqueue.get(kit().cfg.storage.root, int(raw))
    except EdgeError:
        return ""
    words = queue_table()
    return " · ".join([words["scanning_for"].format(n=e.n),
                       *([words[f"priority.{e.priority}"]] if e.priority else [])])


@bp.get("/dossiers")
@auth.require("staff")
def dossiers() -> str:
    """The staff home: today's dossiers (drawn by static/dossiers.js from /api/dossiers)."""
    return render_template("dossiers.html", staff_words=staff_words())


@bp.get("/devices")
@auth.require("technician", "staff")
def devices() -> str:
    return render_template("devices.html", delivery=bool(kit().cfg.delivery))


@bp.get("/receipts")
@auth.require("volunteer", "staff")
def receipts() -> str:
    return render_template("receipts.html")

