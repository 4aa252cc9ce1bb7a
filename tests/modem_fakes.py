"""Peers for the modem tests: a HiLink router speaking its real XML API over HTTP, and an AT
command modem answering on a socat pseudo-terminal pair.

FakeRouter replays the wire format of Huawei HiLink firmware (E3372h-style: SesTokInfo; or
B535-style: csrf_token meta tags on the home page): a SessionID cookie, __RequestVerificationToken
headers checked and consumed on every POST, SHA256 logins (password_type 4) checked against the
token used, and the real <error><code>...</code></error> bodies for expired sessions (125002),
wrong passwords (108006), lock-outs (108007) and too many sessions (108003).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import select
import socket
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'

STATUS = {
    "ConnectionStatus": "901", "WifiConnectionStatus": "", "SignalStrength": "",
    "SignalIcon": "4", "CurrentNetworkType": "19", "CurrentServiceDomain": "3",
    "RoamingStatus": "0", "BatteryStatus": "", "BatteryLevel": "", "BatteryPercent": "",
    "simlockStatus": "0", "PrimaryDns": "203.113.131.1", "SecondaryDns": "203.113.131.2",
    "wififrequence": "0", "flymode": "0", "PrimaryIPv6Dns": "", "SecondaryIPv6Dns": "",
    "CurrentWifiUser": "0", "TotalWifiUser": "0", "currenttotalwifiuser": "0",
    "ServiceStatus": "2", "SimStatus": "1", "WifiStatus": "0", "CurrentNetworkTypeEx": "101",
    "maxsignal": "5", "wifiindooronly": "0", "classify": "hilink", "usbup": "0",
    "wifiswitchstatus": "0", "WifiStatusExCustom": "0", "hvdcp_online": "0",
}
SIGNAL = {
    "pci": "273", "sc": "", "cell_id": "27447297", "rssi": "-67dBm", "rsrp": "-95dBm",
    "rsrq": "-11.0dB", "sinr": "8dB", "rscp": "", "ecio": "", "mode": "7",
    "ulbandwidth": "20MHz", "dlbandwidth": "20MHz", "txpower": "PPusch:1dBm PPucch:-7dBm",
    "tdd": "", "ul_mcs": "mcsUpCarrier1:20", "dl_mcs": "mcsDownCarrier1Code0:7",
    "earfcn": "DL:1575 UL:19575", "rrc_status": "1", "rac": "", "lac": "", "tac": "12301",
    "band": "3", "nei_cellid": "", "plmn": "45204", "ims": "0", "wdlfreq": "",
    "lteulfreq": "17475", "ltedlfreq": "18425", "transmode": "TM[3]", "enodeb_id": "0107216",
    "cqi0": "11", "cqi1": "8", "ulfrequency": "1747500kHz", "dlfrequency": "1842500kHz",
}
TRAFFIC = {
    "CurrentConnectTime": "3671", "CurrentUpload": "1543210", "CurrentDownload": "98765432",
    "CurrentDownloadRate": "20480", "CurrentUploadRate": "2048", "TotalUpload": "51234567",
    "TotalDownload": "4123456789", "TotalConnectTime": "861234", "showtraffic": "1",
}
PLMN = {"State": "0", "FullName": "VIETTEL", "ShortName": "VIETTEL", "Numeric": "45204",
        "Rat": "7", "Spn": ""}
STATE_LOGIN_PATH = "/api/user/state-login"
OPEN_PATHS = {"/api/webserver/SesTokInfo", "/api/webserver/token", STATE_LOGIN_PATH}


def xml_response(fields: dict[str, str] | str) -> bytes:
    if isinstance(fields, str):
        return f"{XML_HEAD}<response>{fields}</response>".encode()
    body = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return f"{XML_HEAD}<response>{body}</response>".encode()


def xml_error(code: int) -> bytes:
    return f"{XML_HEAD}<error><code>{code}</code><message></message></error>".encode()


def sha256_login(username: str, password: str, token: str) -> str:
    """What a HiLink router expects in <Password> for password_type 4."""
    inner = base64.b64encode(hashlib.sha256(password.encode()).hexdigest().encode()).decode()
    digest = hashlib.sha256((username + inner + token).encode()).hexdigest()
    return base64.b64encode(digest.encode()).decode()


@dataclass
class RouterSession:
    logged_in: bool = False
    tokens: set[str] = field(default_factory=set)
    expired_with: int = 0  # the error the next request gets, once


class FakeRouter:
    """A HiLink router on 127.0.0.1: start(), .url, stop(); knobs and records are attributes."""

    def __init__(self, *, username: str = "admin", password: str = "Kit@2025",
                 style: str = "e3372", login_required: bool = True, max_sessions: int = 4,
                 lock_after: int = 3) -> None:
        self.username, self.password, self.style = username, password, style
        self.login_required, self.max_sessions, self.lock_after = (login_required,
                                                                   max_sessions, lock_after)
        self.status, self.signal = dict(STATUS), dict(SIGNAL)
        self.traffic, self.plmn = dict(TRAFFIC), dict(PLMN)
        self.dataswitch = 1
        self.other_sessions = 0  # logged-in users that are not us (the phone app, a browser)
        self.sessions: dict[str, RouterSession] = {}
        self.failed_logins = 0
        self.logins: list[str] = []  # "ok", "108006"...: every login attempt's outcome
        self.logouts = 0
        self.dataswitch_log: list[int] = []
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.connections: set[socket.socket] = set()

    # --- control ----------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeRouter:
        router = self

        class Handler(RouterHandler):
            fake = router

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Power off: stop listening and cut the kept-alive connections too."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self.lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self.connections.clear()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def expire_sessions(self, code: int = 125002) -> None:
        """What a router does after ~5 idle minutes: the next request gets `code`, and the
        session is no longer logged in."""
        with self.lock:
            for s in self.sessions.values():
                s.expired_with = code

    def logged_in_count(self) -> int:
        return self.other_sessions + sum(s.logged_in for s in self.sessions.values())

    # --- the API, called by the handler with the lock held ----------------------------------

    def new_token(self, session: RouterSession) -> str:
        token = secrets.token_hex(16)
        session.tokens.add(token)
        return token

    def login(self, session: RouterSession, body: dict[str, str], token: str) -> bytes:
        user, password = body.get("Username", ""), body.get("Password", "")
        if self.failed_logins >= self.lock_after:
            outcome = 108007
        elif body.get("password_type") != "4" or user != self.username or \
                not secrets.compare_digest(password, sha256_login(user, self.password, token)):
            self.failed_logins += 1
            outcome = 108006
        elif session.logged_in or self.logged_in_count() >= self.max_sessions:
            outcome = 108003
        else:
            outcome = 0
        self.logins.append("ok" if outcome == 0 else str(outcome))
        if outcome:
            return xml_error(outcome)
        self.failed_logins = 0
        session.logged_in = True
        return xml_response("OK")


class RouterHandler(BaseHTTPRequestHandler):
    fake: FakeRouter
    sid = ""
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.fake.lock:
            self.fake.connections.add(self.request)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        headers: dict[str, str] = {}
        fake = self.fake
        with fake.lock:
            fake.requests.append(f"{method} {path}")
            self.sid, session = self._session(headers, create=path in ("/", "/html/index.html")
                                              or path.startswith("/api/webserver/"))
            body = self._route(method, path, session, raw, headers)
        self._send(body, headers)

    def _session(self, headers: dict[str, str], create: bool) -> tuple[str, RouterSession | None]:
        sid = ""
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "SessionID":
                sid = value
        session = self.fake.sessions.get(sid)
        if session is None and create:
            sid = secrets.token_hex(32)
            session = self.fake.sessions[sid] = RouterSession()
            headers["Set-Cookie"] = f"SessionID={sid}; path=/; HttpOnly;"
        return sid, session

    def _route(self, method: str, path: str, session: RouterSession | None, raw: bytes,
               headers: dict[str, str]) -> bytes:
        fake = self.fake
        if path in ("/", "/html/index.html"):
            return self._home(session, headers)
        if session is None:
            return xml_error(125002)
        if session.expired_with and path not in OPEN_PATHS:
            code, session.expired_with = session.expired_with, 0
            session.logged_in, session.tokens = False, set()
            return xml_error(code)
        if path == "/api/webserver/token":
            return xml_error(100002)  # E3372h firmware: not there, use SesTokInfo
        if path == "/api/webserver/SesTokInfo":
            return xml_response({"SesInfo": f"SessionID={self.sid}",
                                 "TokInfo": fake.new_token(session)})
        if path == STATE_LOGIN_PATH:
            return xml_response({"State": "0" if session.logged_in else "-1",
                                 "Username": fake.username if session.logged_in else "",
                                 "password_type": "4", "extern_password_type": "1",
                                 "firstlogin": "0", "userlevel": ""})
        if method == "POST":
            return self._post(path, session, raw, headers)
        if fake.login_required and not session.logged_in:
            return xml_error(100003)
        data = {"/api/monitoring/status": fake.status, "/api/device/signal": fake.signal,
                "/api/monitoring/traffic-statistics": fake.traffic,
                "/api/net/current-plmn": fake.plmn,
                "/api/dialup/mobile-dataswitch": {"dataswitch": str(fake.dataswitch)}}
        return xml_response(data[path]) if path in data else xml_error(100002)

    def _post(self, path: str, session: RouterSession, raw: bytes,
              headers: dict[str, str]) -> bytes:
        fake = self.fake
        token = self.headers.get("__RequestVerificationToken", "")
        if token not in session.tokens:
            return xml_error(125003 if token else 125002)
        session.tokens.discard(token)
        body = {child.tag: child.text or "" for child in ET.fromstring(raw)} if raw else {}
        if path == "/api/user/login":
            answer = fake.login(session, body, token)
            if b"<error>" not in answer:  # a logged-in session gets a new id and two tokens
                new_sid = secrets.token_hex(32)
                fake.sessions[new_sid] = fake.sessions.pop(self.sid)
                headers["Set-Cookie"] = f"SessionID={new_sid}; path=/; HttpOnly;"
                headers["__RequestVerificationTokenone"] = fake.new_token(session)
                headers["__RequestVerificationTokentwo"] = fake.new_token(session)
            else:
                headers["__RequestVerificationToken"] = fake.new_token(session)
            return answer
        headers["__RequestVerificationToken"] = fake.new_token(session)
        if path == "/api/user/logout":
            if not session.logged_in:
                return xml_error(100003)
            session.logged_in = False
            fake.logouts += 1
            return xml_response("OK")
        if fake.login_required and not session.logged_in:
            return xml_error(100003)
        if path == "/api/dialup/mobile-dataswitch":
            fake.dataswitch = int(body["dataswitch"])
            fake.dataswitch_log.append(fake.dataswitch)
            fake.status["ConnectionStatus"] = "901" if fake.dataswitch else "902"
            return xml_response("OK")
        return xml_error(100002)

    def _home(self, session: RouterSession | None, headers: dict[str, str]) -> bytes:
        meta = ""
        if self.fake.style == "b535" and session is not None:
            session.tokens.clear()
            meta = "".join(f'<meta name="csrf_token" content="{self.fake.new_token(session)}"/>'
                           for _ in range(2))
        headers["Content-Type"] = "text/html"
        return (f"<!DOCTYPE html><html><head>{meta}<title>HUAWEI</title></head>"
                "<body></body></html>").encode()

    def _send(self, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", headers.pop("Content-Type", "text/html"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


# --- AT command modem -------------------------------------------------------------------------


class AtEmulator:
    """A USB modem's AT port on the far end of a socat pty pair; knobs are attributes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.echo = True
        self.csq = 20
        self.creg = 1  # <stat>
        self.cereg = 1
        self.creg_n = 2  # the +CREG=<n> setting: 2 adds area and cell, as ModemManager sets
        self.cops = '0,2,"45204",7'
        self.sim = "ready"  # "ready", "missing", "pin"
        self.errors: set[str] = set()  # commands answered with plain ERROR
        self.silent = False
        self.urcs: list[str] = []  # sent around answers, one by one, over and over
        self.chunk = 0  # >0: write answers in pieces this small (short reads)
        self.commands: list[str] = []
        self._urc = 0
        self._stop = threading.Event()
        self._fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def _run(self) -> None:
        line = b""
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._fd], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self._fd, 256)
            except OSError:
                return  # socat went away: the port is gone
            if not data:
                return
            for byte in data:
                ch = bytes([byte])
                if self.silent:
                    continue
                if self.echo:
                    self._write(ch)
                if ch == b"\r":
                    self._answer(line.decode("ascii", "replace").strip())
                    line = b""
                elif ch != b"\n":
                    line += ch

    def _answer(self, command: str) -> None:
        if not command:
            return
        self.commands.append(command)
        self._write(self._next_urc())
        info, final = self._respond(command.upper())
        out = "".join(f"\r\n{line}\r\n" for line in info) + self._next_urc() + f"\r\n{final}\r\n"
        self._write(out)

    def _next_urc(self) -> str:
        if not self.urcs:
            return ""
        urc = self.urcs[self._urc % len(self.urcs)]
        self._urc += 1
        return f"\r\n{urc}\r\n"

    def _respond(self, cmd: str) -> tuple[list[str], str]:
        if cmd in self.errors:
            return [], "ERROR"
        if cmd in ("AT", "ATE0", "ATE1", "AT+CFUN=1", "AT+CFUN=4"):
            self.echo = {"ATE0": False, "ATE1": True}.get(cmd, self.echo)
            return [], "OK"
        if cmd == "AT+CPIN?":
            if self.sim == "missing":
                return [], "+CME ERROR: 10"
            return [f"+CPIN: {'SIM PIN' if self.sim == 'pin' else 'READY'}"], "OK"
        registered = self.sim == "ready"
        if cmd == "AT+CSQ":
            return [f"+CSQ: {self.csq},99"], "OK"
        if cmd in ("AT+CREG?", "AT+CEREG?"):
            stat = (self.creg if cmd == "AT+CREG?" else self.cereg) if registered else 0
            name = cmd[2:-1]
            where = ',"1A2B","01C2D3E",7' if self.creg_n == 2 and stat in (1, 5) else ""
            return [f"{name}: {self.creg_n},{stat}{where}"], "OK"
        if cmd == "AT+COPS?":
            return [f"+COPS: {self.cops if registered else '0'}"], "OK"
        return [], "ERROR"

    def _write(self, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        step = self.chunk or len(data) or 1
        for i in range(0, len(data), step):
            try:
                os.write(self._fd, data[i:i + step])
            except OSError:
                return
            if self.chunk:
                time.sleep(0.002)
