"""CSRF protection: one random token per session, required on every POST (API included).

Forms send it as the `csrf_token` field, scripts as the `X-CSRF-Token` header; clients get it
from the page or from `GET /api/csrf`.
"""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

from edge.web.errors import bad

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def token() -> str:
    if "csrf" not in session or not session["csrf"]:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check() -> None:
    """A before_request hook: refuse an unsafe request without the session's token."""
    if request.method not in UNSAFE:
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise bad("missing or wrong CSRF token: reload the page (API: GET /api/csrf first)",
                  "Phiên làm việc đã hết hạn hoặc thiếu mã bảo vệ. Hãy tải lại trang.", 403)
