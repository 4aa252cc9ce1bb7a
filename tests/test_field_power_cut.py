"""A power cut (SIGKILL of `edge web`) while citizens answer the survey loses no answer the kiosk
was told was saved, and a restarted kit refuses a second answer for the same number."""

from __future__ import annotations

import http.cookiejar
import json
import signal
import threading
import urllib.error
import urllib.request

from edge.field import db, queue, visits

from .peers import free_port
from .web_browser import wait_port
from .web_kit import PASSWORDS, add_web

NUMBERS = 60


class Session:
    """A logged-in staff session over real HTTP (cookies and the CSRF token)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = self.call("GET", "/api/csrf")["csrf_token"]
        self.token = self.call("POST", "/api/login", {"name": "staff",
                                                      "password": PASSWORDS["staff"]})["csrf_token"]

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(self.url + path, method=method, headers={
            "Content-Type": "application/json", "X-CSRF-Token": getattr(self, "token", "")},
            data=None if body is None else json.dumps(body).encode())
        with self.http.open(req, timeout=30) as r:
            return json.loads(r.read())


def saved(root) -> set[int]:
    conn = db.connect(root)
    try:
        return {n for (n,) in conn.execute(
            "SELECT q.n FROM survey s JOIN queue q ON q.id = s.queue")}
    finally:
        conn.close()


def start_web(kit, port):
    web = kit.popen("web")
    wait_port(port, web)
    return web


def test_sigkill_loses_no_acknowledged_answer(kit):
    port = free_port()
    add_web(kit.config, port)
    kit.root.mkdir(parents=True, exist_ok=True)
    visits.start(kit.root, "Thôn Đông")
    numbers = [queue.issue(kit.root, "digitise").n for _ in range(NUMBERS)]
    web = start_web(kit, port)
    s = Session(f"http://127.0.0.1:{port}")
    acknowledged: list[int] = []
    some = threading.Event()

    def answer_all() -> None:
        for n in numbers:
            try:
                s.call("POST", "/api/survey", {"score": 1 + n % 5, "number": n})
            except (urllib.error.URLError, ConnectionError, OSError):
                return  # the kit is gone: the kiosk keeps this one for later
            acknowledged.append(n)
            if len(acknowledged) >= 10:
                some.set()

    t = threading.Thread(target=answer_all)
    t.start()
    assert some.wait(120), "no answer was acknowledged"
    web.send_signal(signal.SIGKILL)
    web.wait(30)
    t.join(60)
    assert 10 <= len(acknowledged) < NUMBERS  # killed in the middle
    assert set(acknowledged) <= saved(kit.root)
    web = start_web(kit, port)  # the power is back
    try:
        s = Session(f"http://127.0.0.1:{port}")
        try:
            s.call("POST", "/api/survey", {"score": 5, "number": acknowledged[0]})
            raise AssertionError("a second answer for one number was taken")
        except urllib.error.HTTPError as e:
            assert e.code == 409
        late = next(n for n in numbers if n not in saved(kit.root))
        assert s.call("POST", "/api/survey", {"score": 5, "number": late})["ok"]
    finally:
        web.terminate()
        web.wait(30)
    assert queue.issue(kit.root, "digitise").n == NUMBERS + 1  # numbers never reused
