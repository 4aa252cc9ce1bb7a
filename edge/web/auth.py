"""Accounts, roles, sessions and login throttling.

Users come from `[[web.users]]` in the config with werkzeug password hashes (`edge user add`),
re-read when the file changes (sessions.Accounts). Roles: staff scan (and see dossiers),
technicians see devices only (no personal data), volunteers print slips, admin may do everything.
Both logins (the form and `POST /api/login`) go through `attempt`: the attempt is counted, per
client address and per account, before the password is checked, so parallel guesses cannot
overtake the limit.
"""

from __future__ import annotations

import functools
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from edge import config
from edge.field import visits
from edge.web.context import kit
from edge.web.errors import WebError, bad
from edge.web.sessions import Accounts, Sessions

ROLES = ("staff", "technician", "volunteer", "admin")
# staff land on today's dossiers: the day's work, and "Quét hồ sơ mới" at the top of it
HOME = {"staff": "pages.dossiers", "technician": "pages.devices", "volunteer": "pages.receipts",
        "admin": "pages.dossiers"}
# during a visit a volunteer's first job is giving queue numbers at reception
VISIT_HOME = {"volunteer": "field.reception_page"}
# a check against this hash when the name is unknown keeps the timing the same
_DUMMY_HASH = generate_password_hash("not a password")
MAX_KEYS = 10_000


def home(role: str) -> str:
    """The page a role lands on after login: reception for a volunteer while a visit is open."""
    if role in VISIT_HOME and visits.current(kit().cfg.storage.root):
        return url_for(VISIT_HOME[role])
    return url_for(HOME[role])


def make_hash(password: str) -> str:
    return generate_password_hash(password)


def verify(cfg: config.Config, name: str, password: str) -> config.WebUser | None:
    return verify_among(cfg.web.users, name, password)


def verify_among(users: Sequence[config.WebUser], name: str,
                 password: str) -> config.WebUser | None:
    """The account if the password is right (also the fleet page's, which has no kit config)."""
    user = next((u for u in users if u.name == name), None)
    return _check(user, password)


def _check(user: config.WebUser | None, password: str) -> config.WebUser | None:
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    return user if ok and user else None


class Limiter:
    """Login attempts per key (client address, account) within a sliding window, in memory."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts, self.window = attempts, window
        self.tries: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self.tries.setdefault(key, deque())
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def take(self, keys: list[str]) -> tuple[float, float]:
        """Count one attempt on every key, atomically: (0, stamp) if allowed, else (seconds to
        wait, 0) and nothing counted."""
        with self.lock:
            now = time.monotonic()
            if len(self.tries) > MAX_KEYS:
                old = now - self.window
                self.tries = {k: q for k, q in self.tries.items() if q and q[-1] > old}
            queues = [self._recent(k, now) for k in keys]
            full = [q[0] + self.window - now for q in queues if len(q) >= self.attempts]
            if full:
                return max(full), 0.0
            for q in queues:
                q.append(now)
            return 0.0, now

    def give_back(self, keys: list[str], stamp: float) -> None:
        """A successful login is not a failure: its attempt is uncounted."""
        with self.lock:
            for k in keys:
                q = self.tries.get(k)
                if q is not None and stamp in q:
                    q.remove(stamp)


class Throttled(WebError):
    """Too many login attempts: wait `retry_after` seconds."""

    def __init__(self, seconds: float) -> None:
        minutes = max(1, math.ceil(seconds / 60))
        super().__init__(429, f"too many failed logins: wait {minutes} minute(s) and try again",
                         f"Đăng nhập sai quá nhiều lần. Hãy chờ {minutes} phút rồi thử lại.")
        self.retry_after = max(1, math.ceil(seconds))


def attempt(name: str, password: str) -> config.WebUser:
    """The one login path: throttle, check the password, start a fresh session."""
    keys = [f"addr:{request.remote_addr or '?'}", f"user:{name}"]
    lim = limiter()
    wait, stamp = lim.take(keys)
    if wait:
        raise Throttled(wait)
    user = _check(accounts().get(name), password)
    if user is None:
        raise bad("wrong name or password", "Sai tên đăng nhập hoặc mật khẩu", 401)
    lim.give_back(keys, stamp)
    _start(user)
    return user


def _start(user: config.WebUser) -> None:
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session.update(sid=sessions().open(user), csrf=secrets.token_urlsafe(32))
    if lang:
        session["lang"] = lang
    g.user = user


def logout() -> None:
    """End the session; the language chosen stays for the login page and the next login."""
    sid, lang = session.get("sid"), session.get("lang")
    if sid:
        sessions().close(str(sid))
    session.clear()
    if lang:
        session["lang"] = lang
    g.user = None


def load_user() -> None:
    """A before_request hook: the session's account as it is now, or nobody."""
    sid = session.get("sid")
    g.user = sessions().user(str(sid), accounts()) if sid else None
    if sid and g.user is None:
        session.pop("sid", None)


def current_user() -> config.WebUser | None:
    return g.get("user")


def current_role() -> str | None:
    user = current_user()
    return user.role if user else None


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: every redirect taking a `next` uses
    this, so neither `//host`, `/\\host`, control characters (browsers drop tabs and newlines:
    `/\\t/host` is `//host`) nor a scheme can send anyone elsewhere."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target or any(
            ord(c) < 0x21 or 0x7F <= ord(c) <= 0x9F for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


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


def sessions() -> Sessions:
    return current_app.extensions["edge_sessions"]  # type: ignore[no-any-return]


def accounts() -> Accounts:
    return current_app.extensions["edge_accounts"]  # type: ignore[no-any-return]
