"""The security findings that were seen against the real `edge web` process, checked there:
parallel login guesses, live streams and half-open connections starving the login page, HTTPS,
and sessions ended by `edge user` commands while the web UI keeps running."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import threading

import pytest

from .peers import free_port
from .test_users import user
from .web_browser import wait_port
from .web_kit import PASSWORDS, add_web

GENEROUS = 30.0  # seconds: a functional bound (does it answer at all), not a speed target


class Web:
    """`edge web` alone (no `edge run`: these tests need no scanning)."""

    def __init__(self, kit, extra: str = "", tls: ssl.SSLContext | None = None) -> None:
        self.kit, self.tls, self.port = kit, tls, free_port()
        add_web(kit.config, self.port, extra)
        self.proc = kit.popen("web")
        wait_port(self.port, self.proc)

    def conn(self, timeout: float = GENEROUS) -> http.client.HTTPConnection:
        if self.tls:
            return http.client.HTTPSConnection("localhost", self.port, timeout=timeout,
                                               context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=15)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate()[1]


class Session:
    def __init__(self, web: Web) -> None:
        self.web, self.cookie, self.headers = web, "", {}
        self.token = self.call("GET", "/api/csrf")[1]["csrf_token"]

    def call(self, method: str, path: str, body: object = None) -> tuple[int, dict]:
        conn = self.web.conn()
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers.update({"Content-Type": "application/json", "X-CSRF-Token": self.token})
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)
        r = conn.getresponse()
        data = r.read()
        self.headers = dict(r.getheaders())
        if "Set-Cookie" in self.headers:
            self.cookie = self.headers["Set-Cookie"].split(";", 1)[0]
        conn.close()
        return r.status, json.loads(data) if data.startswith(b"{") else {}

    def login(self, name: str, password: str | None = None) -> int:
        status, got = self.call("POST", "/api/login",
                                {"name": name, "password": password or PASSWORDS[name]})
        if status == 200:
            self.token = got["csrf_token"]
        return status


@pytest.fixture
def web(kit):
    started: list[Web] = []

    def start(extra: str = "", tls: ssl.SSLContext | None = None) -> Web:
        started.append(Web(kit, extra, tls))
        return started[-1]

    yield start
    for w in started:
        w.stop()


def login_page_answers(web: Web) -> None:
    conn = web.conn()
    conn.request("GET", "/login")
    r = conn.getresponse()
    assert r.status == 200 and "Đăng nhập".encode() in r.read()
    conn.close()


def test_parallel_wrong_logins_get_no_more_password_checks_than_the_limit(web):
    w = web()
    sessions = [Session(w) for _ in range(40)]
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda s=s: statuses.append(s.login("staff", "guess1")))
               for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 40 and set(statuses) <= {401, 429}
    assert statuses.count(401) <= 5, statuses  # [web] login_attempts (default 5)


def open_stream(w: Web, cookie: str) -> tuple[http.client.HTTPConnection, int, bytes]:
    conn = w.conn()
    conn.request("GET", "/api/events/status", headers={"Cookie": cookie})
    r = conn.getresponse()
    return conn, r.status, (r.read() if r.status != 200 else b"")


def test_live_streams_are_capped_and_the_login_page_keeps_answering(web):
    w = web()
    tech = Session(w)
    assert tech.login("tech") == 200
    others = [Session(w) for _ in range(6)]
    for s in others:
        assert s.login("staff") == 200
    opened = [open_stream(w, tech.cookie) for _ in range(24)]
    opened += [open_stream(w, s.cookie) for s in others for _ in range(4)]
    try:
        mine = [status for _, status, _ in opened[:24]]
        assert 0 < mine.count(200) <= 4 and set(mine) == {200, 429}, mine
        refused = next(body for _, status, body in opened if status == 429)
        assert "Đang mở quá nhiều trang" in json.loads(refused)["error_vi"]
        assert [s for _, s, _ in opened].count(200) < 24  # [web] threads: some stay free
        login_page_answers(w)
    finally:
        for conn, _, _ in opened:
            conn.close()


def test_half_open_connections_do_not_starve_the_login_page(web):
    w = web()
    held = []
    try:
        for _ in range(150):
            s = socket.create_connection(("127.0.0.1", w.port), timeout=GENEROUS)
            s.sendall(b"GET /login HTTP/1.1\r\nHost: kit\r\n")  # and never the blank line
            held.append(s)
        login_page_answers(w)
    finally:
        for s in held:
            s.close()


def test_edge_user_commands_end_sessions_without_a_restart(web, kit):
    w = web()
    staff, vol = Session(w), Session(w)
    assert staff.login("staff") == 200 and vol.login("vol") == 200
    assert staff.call("GET", "/api/jobs")[0] == 200
    r = user(kit, "passwd", "staff", "--role", "volunteer", password="new-pin-1")
    assert r.returncode == 0 and "at once" in r.stdout, r.stderr
    assert staff.call("GET", "/api/jobs")[0] == 401
    again = Session(w)
    assert again.login("staff", "new-pin-1") == 200
    assert again.call("GET", "/api/me")[1]["role"] == "volunteer"
    assert user(kit, "remove", "vol").returncode == 0
    assert vol.call("GET", "/api/receipts/templates")[0] == 401
    assert Session(w).login("vol") == 401
    assert again.call("POST", "/api/logout", {})[0] == 200
    assert again.call("GET", "/api/me")[0] == 401


def make_certs(d) -> tuple:
    """A throwaway CA and a certificate for localhost signed by it, made by openssl."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d, timeout=60)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Test commune CA")
    run("req", *ec, "-keyout", "kit.key", "-out", "kit.csr", "-subj", "/CN=localhost")
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "kit.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "kit.pem", "-days", "2", "-extfile", "san.ext")
    return d / "ca.pem", d / "kit.pem", d / "kit.key"


def test_https_with_the_communes_own_certificate(web, kit, tmp_path):
    ca, cert, key = make_certs(tmp_path)
    client = ssl.create_default_context(cafile=str(ca))
    w = web(f'tls_cert_file = "{cert}"\ntls_key_file = "{key}"', tls=client)
    login_page_answers(w)
    s = Session(w)
    assert s.login("staff") == 200
    cookie = s.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie, cookie
    assert s.call("GET", "/api/me")[1]["user"] == "staff"
    plain = http.client.HTTPConnection("127.0.0.1", w.port, timeout=GENEROUS)
    with pytest.raises((http.client.HTTPException, OSError)):
        plain.request("GET", "/login")
        plain.getresponse().read()  # no page in clear text
    held = []
    try:  # half-open TLS clients (no handshake) do not block the others
        for _ in range(50):
            held.append(socket.create_connection(("127.0.0.1", w.port), timeout=GENEROUS))
        login_page_answers(w)
    finally:
        for h in held:
            h.close()


@pytest.mark.parametrize("spoil, words", [
    ("missing", "cannot read it"), ("wrong-key", "do not match"),
])
def test_a_missing_or_wrong_certificate_is_refused(kit, tmp_path, spoil, words):
    _, cert, key = make_certs(tmp_path)
    key = tmp_path / ("nowhere.key" if spoil == "missing" else "ca.key")
    add_web(kit.config, free_port(), f'tls_cert_file = "{cert}"\ntls_key_file = "{key}"')
    commands = [("web",)] + ([("check-config",)] if spoil == "missing" else [])
    for args in commands:
        r = kit.edge(*args, timeout=60)
        assert r.returncode == 2 and words in r.stderr, (args, r.stderr)
