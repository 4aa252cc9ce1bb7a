"""The Flask app factory: config, secret key, sessions, CSRF, error handling, blueprints."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from edge import __version__, config, daemon
from edge.errors import EdgeError
from edge.web import (
    api,
    auth,
    cover_api,
    csrf,
    dossier_api,
    field,
    i18n,
    pages,
    secret,
    sse,
    updates,
)
from edge.web import reports as report_pages
from edge.web import survey as survey_pages
from edge.web.context import Kit
from edge.web.errors import as_json, status_of
from edge.web.history import History
from edge.web.sessions import Accounts, Sessions

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def create_app(cfg: config.Config) -> Flask:
    app = Flask(__name__)
    storage = daemon.open_storage(cfg)
    app.config.update(
        SECRET_KEY=secret.load(cfg), SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_NAME="edge_session",
        SESSION_COOKIE_SECURE=cfg.web.tls_cert_file is not None,
        SESSION_REFRESH_EACH_REQUEST=False,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=cfg.web.session_minutes),
        MAX_CONTENT_LENGTH=MAX_BODY, EDGE_LANG=cfg.web.language, JSON_AS_ASCII=False)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    history = History(cfg.storage.root / "history.db", cfg.web.history_hours)
    app.extensions["edge_kit"] = Kit(cfg, storage, history)
    app.extensions["edge_limiter"] = auth.Limiter(cfg.web.login_attempts,
                                                  cfg.web.login_window_seconds)
    app.extensions["edge_accounts"] = Accounts(cfg)
    app.extensions["edge_sessions"] = Sessions(cfg.storage.root / "web-sessions.db",
                                               cfg.web.session_minutes)
    app.extensions["edge_sse"] = sse.Gate.for_threads(cfg.web.threads)
    app.before_request(auth.load_user)
    app.before_request(csrf.check)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(dossier_api.bp)
    app.register_blueprint(cover_api.bp)
    app.register_blueprint(field.bp)
    app.register_blueprint(survey_pages.bp)
    app.register_blueprint(report_pages.bp)
    app.register_blueprint(updates.bp)
    app.jinja_env.globals.update(t=i18n.t, lang=i18n.lang, csrf_token=csrf.token,
                                 role=auth.current_role,
                                 user=lambda: getattr(auth.current_user(), "name", None))
    app.jinja_env.globals["edge_version"] = __version__  # the footer: which release runs here
    _errors(app)

    @app.after_request
    def headers(resp: Response) -> Response:
        if not request.path.startswith("/static/"):  # pages and API carry personal data
            resp.headers["Cache-Control"] = "no-store"
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' "
                                "data:; style-src 'self'; script-src 'self'")
        return resp

    return app


def _errors(app: Flask) -> None:
    @app.errorhandler(EdgeError)
    def edge_error(e: EdgeError) -> tuple[Response, int] | tuple[str, int]:
        if request.path.startswith("/api/"):
            return as_json(e)
        return render_template("error.html", error=e, status=status_of(e)), status_of(e)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> tuple[Response, int] | tuple[str, int]:
        return _refusal(e.code or 500)

    @app.errorhandler(sqlite3.DatabaseError)
    def database(e: sqlite3.DatabaseError) -> tuple[Response, int] | tuple[str, int]:
        log.error("database error on %s %s: %s", request.method, request.path,
                  str(e).split(" with text ")[0])  # never the stored text
        err = EdgeError("a database cannot be read (see docs/operations.md, 'The queue is "
                        "damaged')", vi="Cơ sở dữ liệu bị hỏng, hãy báo kỹ thuật viên")
        if request.path.startswith("/api/"):
            return jsonify(error=err.message, error_vi=err.vi), 503
        return render_template("error.html", error=err, status=503), 503

    @app.errorhandler(Exception)
    def internal(e: Exception) -> tuple[Response, int] | tuple[str, int]:
        log.exception("internal error on %s %s", request.method, request.path)
        return _refusal(500)


def _refusal(status: int) -> tuple[Response, int] | tuple[str, int]:
    """What the framework refuses (404, 405, 413...) or an internal error: the kit's own words
    from the i18n table, as JSON under /api/, else as the kit's error page, in one language."""
    vi, en = i18n.ERROR_WORDS.get(status, i18n.ERROR_WORDS[400 if status < 500 else 500])
    if request.path.startswith("/api/"):
        return jsonify(error=en, error_vi=vi), status
    return render_template("error.html", error=EdgeError(en, vi=vi), status=status), status
