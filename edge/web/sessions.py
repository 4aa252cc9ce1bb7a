"""Server-side login sessions, bound to the account as it is now in the config file.

The signed cookie carries only a random session id. Its row here (a small SQLite database of
the web process, `<storage root>/web-sessions.db`, WAL, survives restarts) says who logged in,
when, and a digest of the account (name, role, password hash) at that moment. A session is
valid while its row exists, is younger than `[web] session_minutes` (counted from the login,
whatever the activity), and the account still has the same digest: logout deletes the row, and
`edge user passwd/remove` (which rewrite the config file) end the account's sessions at once.
`Accounts` re-reads the `[[web.users]]` when the config file changes, so no restart is needed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

from edge import config

log = logging.getLogger(__name__)


def digest(user: config.WebUser) -> str:
    return hashlib.sha256(f"{user.name}\0{user.role}\0{user.password_hash}".encode()).hexdigest()


class Accounts:
    """The config file's accounts, re-read when its mtime, size or inode change; a file that
    no longer loads keeps the accounts known before (and says so in the log)."""

    def __init__(self, cfg: config.Config) -> None:
        self.path = cfg.path
        self.users = {u.name: u for u in cfg.web.users}
        self.stamp = self._stamp()
        self.lock = threading.Lock()

    def _stamp(self) -> tuple[int, int, int]:
        try:
            st = os.stat(self.path)
        except OSError:
            return (0, 0, 0)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def get(self, name: str) -> config.WebUser | None:
        stamp = self._stamp()
        if stamp != self.stamp:
            with self.lock:
                if stamp != self.stamp:
                    self._reload(stamp)
        return self.users.get(name)

    def _reload(self, stamp: tuple[int, int, int]) -> None:
        self.stamp = stamp
        try:
            users = config.load(self.path).web.users
        except Exception as e:  # a half-edited file must not lock everyone out
            log.warning("config file changed but does not load; keeping the %d known web "
                        "accounts: %s", len(self.users), e)
            return
        self.users = {u.name: u for u in users}
        log.info("web accounts re-read from %s: %d account(s)", self.path, len(users))


class Sessions:
    """Session id (stored as its SHA-256) -> user, login time, account digest."""

    def __init__(self, path: Path, minutes: int) -> None:
        self.lifetime = minutes * 60.0
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user TEXT NOT "
                        "NULL, created REAL NOT NULL, digest TEXT NOT NULL)")

    @staticmethod
    def _key(sid: str) -> str:
        return hashlib.sha256(sid.encode()).hexdigest()

    def open(self, user: config.WebUser) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self.lock:
            self.db.execute("DELETE FROM sessions WHERE created < ?", (now - self.lifetime,))
            self.db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                            (self._key(sid), user.name, now, digest(user)))
        return sid

    def user(self, sid: str, accounts: Accounts) -> config.WebUser | None:
        """The session's account if the session is still valid; else it is ended."""
        with self.lock:
            row = self.db.execute("SELECT user, created, digest FROM sessions WHERE id = ?",
                                  (self._key(sid),)).fetchone()
        if row is None:
            return None
        user = accounts.get(row[0])
        if user is None or digest(user) != row[2] or time.time() - row[1] > self.lifetime:
            self.close(sid)
            return None
        return user

    def close(self, sid: str) -> None:
        with self.lock:
            self.db.execute("DELETE FROM sessions WHERE id = ?", (self._key(sid),))
