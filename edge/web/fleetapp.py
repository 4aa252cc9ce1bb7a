"""`edge fleet serve`: the read-only fleet page for the commune or the province.

It reads only the collector's database (opened read-only), has its own config and accounts
(fleetconf.py; the kit's password hashing and login throttle, edge/web/auth.py), the kit UI's
look (base.html, app.css) and words (i18n.py, Vietnamese first). Screens: every kit, problems
first; one kit with its 30-day charts (SVG drawn here: no script, works offline); a month's
figures per commune and per place, as CSV or XLSX too.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from edge.errors import EdgeError
from edge.telemetry.fleetdb import FleetDB
from edge.web import auth, csrf, fleetexport, fleetsvg, fleetview, i18n, pages, secret
from edge.web.fleetconf import FleetWeb
from edge.web.i18n import t
from edge.web.sessions import digest

log = logging.getLogger(__name__)
bp = Blueprint("fleet", __name__)
HISTORY_DAYS = 30
LOGIN_ATTEMPTS, LOGIN_WINDOW = 10, 600.0
EVENTS_SHOWN = 15
# (sample column, i18n key, unit, fixed y range, scale)
CHARTS = (("battery", "fleet.battery", "%", (0.0, 100.0), 1.0),
          ("signal", "fleet.signal", "dBm", None, 1.0),
          ("disk_free", "fleet.disk_free", "GB", None, 1e-9),
          ("waiting", "fleet.waiting", "h", None, 1 / 3600))


def create_app(cfg: FleetWeb) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret.load_file(cfg.secret_file), SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_NAME="edge_fleet_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=cfg.session_minutes),
        EDGE_LANG=cfg.language, MAX_CONTENT_LENGTH=16 * 1024,
        SESSION_COOKIE_SECURE=cfg.tls_cert_file is not None)
    app.extensions["edge_fleet"] = cfg
    app.extensions["edge_fleet_db"] = threading.local()
    app.extensions["edge_limiter"] = auth.Limiter(LOGIN_ATTEMPTS, LOGIN_WINDOW)
    app.before_request(csrf.check)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(t=t, lang=i18n.lang, csrf_token=csrf.token, role=lambda: None,
                                 user=lambda: session.get("user"), commune=cfg.commune,
                                 when=when, ago=ago, number=number, words=i18n.WORDS)

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers["Cache-Control"] = "no-store"
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Content-Security-Policy", "default-src 'self'")
        return resp

    @app.errorhandler(EdgeError)
    def edge_error(e: EdgeError) -> tuple[str, int]:
        log.error("%s", e)
        vi, en = i18n.WORDS["fleet.db_down"]
        return render_template("error.html", error={"vi": vi, "message": en}, status=503), 503

    @app.errorhandler(HTTPException)
    def refusal(e: HTTPException) -> tuple[str, int]:
        status = e.code or 500  # the kit's words for what the framework refuses
        vi, en = i18n.ERROR_WORDS.get(status, i18n.ERROR_WORDS[400 if status < 500 else 500])
        return render_template("error.html", error=EdgeError(en, vi=vi), status=status), status

    @app.errorhandler(Exception)
    def internal(e: Exception) -> tuple[str, int]:
        log.exception("internal error on %s %s", request.method, request.path)
        vi, en = i18n.ERROR_WORDS[500]
        return render_template("error.html", error=EdgeError(en, vi=vi), status=500), 500

    @app.teardown_request
    def forget_a_broken_connection(e: BaseException | None) -> None:
        local = app.extensions["edge_fleet_db"]
        if e is not None and getattr(local, "db", None) is not None:
            local.db.close()
            local.db = None
    return app


def db() -> FleetDB:
    """This thread's read-only connection (waitress serves from a few threads)."""
    local = current_app.extensions["edge_fleet_db"]
    if getattr(local, "db", None) is None:
        local.db = FleetDB(current_app.extensions["edge_fleet"].db, readonly=True)
    return local.db  # type: ignore[no-any-return]


def cfg() -> FleetWeb:
    return current_app.extensions["edge_fleet"]  # type: ignore[no-any-return]


def signed_in() -> str | None:
    """The session's account, if it still exists with the same password."""
    name = session.get("user")
    user = next((u for u in cfg().users if u.name == name), None)
    return name if user and session.get("digest") == digest(user) else None


@bp.before_request
def require_login() -> BaseResponse | None:
    if request.endpoint in ("fleet.login", "fleet.switch_lang", "static") or signed_in():
        return None
    return redirect(url_for("fleet.login", next=request.full_path.rstrip("?")))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse:
    error = ""
    target = auth.safe_next(request.values.get("next"))
    if request.method == "GET" and signed_in():
        return redirect(target or url_for("fleet.kits"))
    if request.method == "POST":
        name = request.form.get("name", "")[:64]
        keys = [f"addr:{request.remote_addr or '?'}", f"user:{name}"]
        lim = current_app.extensions["edge_limiter"]
        wait, stamp = lim.take(keys)
        user = None if wait else auth.verify_among(cfg().users, name,
                                                   request.form.get("password", "")[:256])
        if user is None:
            error = t("fleet.too_many") if wait else t("fleet.wrong_login")
        else:
            lim.give_back(keys, stamp)
            lang = session.get("lang")
            session.clear()
            session.permanent = True
            session.update(user=user.name, digest=digest(user), lang=lang or cfg().language)
            return redirect(target or url_for("fleet.kits"))
    return render_template("login.html", error=error, next=target or "")


@bp.post("/logout")
def logout() -> BaseResponse:
    auth.logout()  # the kit's: the session ends, the language chosen stays
    return redirect(url_for("fleet.login"))


bp.add_url_rule("/lang", "switch_lang", pages.switch_lang, methods=["POST"])  # the kit's


@bp.get("/")
def kits() -> str:
    now = time.time()
    rows = fleetview.fleet_rows(db(), now, dt.date.today().isoformat())
    return render_template("fleet_list.html", rows=rows, now=now,
                           troubled=sum(1 for r in rows if r["weight"]))


@bp.get("/kit/<name>")
def kit(name: str) -> str:
    now = time.time()
    row = next((r for r in fleetview.fleet_rows(db(), now, dt.date.today().isoformat())
                if r["kit"] == name), None)
    if row is None:
        abort(404)
    since = now - HISTORY_DAYS * 86400
    samples = db().samples(name, since)
    charts = []
    for column, key, unit, fixed, scale in CHARTS:
        points = [(s["ts"], s[column] * scale) for s in samples if s[column] is not None]
        if points:
            charts.append((key, points[-1][1], unit,
                           fleetsvg.chart(points, since, now, unit, fixed, t(key))))
    days = [(d, db().counts(name, d) or {}) for d in _last_days(7)]
    return render_template("fleet_kit.html", row=row, now=now, charts=charts, days=days,
                           events=db().recent_events(name, EVENTS_SHOWN))


@bp.get("/month")
def month() -> str:
    m = _month()
    first = dt.date.fromisoformat(f"{m}-01")
    prev = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    following = (first + dt.timedelta(days=32)).strftime("%Y-%m")
    return render_template("fleet_month.html", month=m, prev=prev, next_month=following,
                           figures=fleetview.month_figures(db(), m),
                           communes_header=_header(fleetview.COMMUNE_FIGURES),
                           places_header=_header(fleetview.PLACE_FIGURES))


@bp.get("/month.<fmt>")
def month_file(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    m = _month()
    tables = _tables(fleetview.month_figures(db(), m))
    data = fleetexport.to_csv(tables) if fmt == "csv" else fleetexport.to_xlsx(tables)
    kind = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, mimetype=kind, headers={
        "Content-Disposition": f'attachment; filename="dvc-fleet-{m}.{fmt}"'})


def _month() -> str:
    m = request.args.get("m") or dt.date.today().strftime("%Y-%m")
    try:
        fleetview.month_bounds(m)
    except ValueError:
        abort(400)
    return m


def _header(figures: tuple[str, ...]) -> list[str]:
    return [t(f"fleet.col.{f}") for f in figures]


def _tables(figures: dict[str, list[dict[str, Any]]]) -> list[fleetexport.Table]:
    communes = [[cfg().commune(c["site"]), *(c[f] for f in fleetview.COMMUNE_FIGURES)]
                for c in figures["communes"]]
    places = [[cfg().commune(p["site"]), p["place"], *(p[f] for f in fleetview.PLACE_FIGURES)]
              for p in figures["places"]]
    return [(t("fleet.by_commune"), [t("fleet.commune"), *_header(fleetview.COMMUNE_FIGURES)],
             communes),
            (t("fleet.by_place"), [t("fleet.commune"), t("fleet.place"),
                                   *_header(fleetview.PLACE_FIGURES)], places)]


def _last_days(n: int) -> list[str]:
    today = dt.date.today()
    return [(today - dt.timedelta(days=i)).isoformat() for i in range(n)]


def when(ts: float | None) -> str:
    """`14:05 03/12` in the server's time zone."""
    return time.strftime("%H:%M %d/%m", time.localtime(ts)) if ts else ""


def ago(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    if s < 3600:
        return t("fleet.minutes").format(n=max(1, s // 60))
    if s < 172800:
        return t("fleet.hours").format(n=s // 3600)
    return t("fleet.days").format(n=s // 86400)


def number(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "–"
    text = f"{v:,.{digits}f}"
    return text.replace(",", ".") if i18n.lang() == "vi" and not digits else text
