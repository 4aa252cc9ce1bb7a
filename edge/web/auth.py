"""Accounts, roles, sessions and login rate limiting.

Users come from `[[web.users]]` in the config with werkzeug password hashes (`edge user add`).
Roles: staff scan (and see dossiers), technicians see devices only (no personal data),
volunteers print slips, admin may do everything.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import current_app, redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from edge import config
from edge.web.errors import bad

ROLES = ("staff", "technician", "volunteer", "admin")
HOME = {"staff": "pages.scan", "technician": "pages.devices", "volunteer": "pages.receipts",
        "admin": "pages.scan"}
# a check against this hash when the name is unknown keeps the timing the same
_DUMMY_HASH = generate_password_hash("not a password")


def make_hash(password: str) -> str:
    return generate_password_hash(password)


def verify(cfg: config.Config, name: str, password: str) -> config.WebUser | None:
    user = next((u for u in cfg.web.users if u.name == name), None)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    return user if ok and user else None


class Limiter:
    """Failed logins per client address within a sliding window (in memory: per process)."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts, self.window = attempts, window
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self.failures.setdefault(key, deque())
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def blocked(self, key: str) -> bool:
        with self.lock:
            return len(self._recent(key, time.monotonic())) >= self.attempts

    def failed(self, key: str) -> None:
        with self.lock:
            self._recent(key, time.monotonic()).append(time.monotonic())

    def reset(self, key: str) -> None:
        with self.lock:
            self.failures.pop(key, None)


def current_role() -> str | None:
    return session.get("role")


def login(user: config.WebUser) -> None:
    token = session.get("csrf")
    session.clear()
    session.permanent = True
    session.update(user=user.name, role=user.role, csrf=token)


def require(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse the view unless the session's role is one of `roles` (admin always passes).

    API views answer 401/403 JSON; pages send an anonymous visitor to the login page.
    """

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def inner(*args: Any, **kw: Any) -> Any:
            role = current_role()
            is_api = request.path.startswith("/api/")
            if role is None:
                if not is_api:
                    return redirect(url_for("pages.login", next=request.path))
                raise bad("log in first", "Hãy đăng nhập trước", 401)
            if role != "admin" and role not in roles:
                raise bad(f"the {role} role may not use this", "Tài khoản của bạn không có "
                          "quyền dùng chức năng này", 403)
            return view(*args, **kw)

        return inner

    return wrap


def limiter() -> Limiter:
    return current_app.extensions["edge_limiter"]  # type: ignore[no-any-return]
