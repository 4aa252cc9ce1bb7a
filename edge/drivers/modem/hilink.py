"""Huawei HiLink 4G routers and sticks (E3372h, B311, B535), read over their web API.

Most kits get their internet from one of these, and its web API is the only way to know whether
the link is up and how good the signal is. The API is moody: sessions expire after a few minutes,
the router allows few logins at a time, and a wrong password soon locks logins for everybody. So
this driver keeps one logged-in session across polls, logs in again once when it expires, logs
out when asked to make room, and does not hammer the router with a password it refused.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from xml.parsers.expat import ExpatError

import requests
from huawei_lte_api.api.User import User
from huawei_lte_api.Client import Client
from huawei_lte_api.Connection import Connection
from huawei_lte_api.exceptions import ResponseErrorException, ResponseErrorNotSupportedException
from huawei_lte_api.Session import Session

from edge.drivers.modem import Link, ModemDevice, parse_number, reading
from edge.drivers.modem.settings import HilinkSettings
from edge.errors import DeviceAbsent, DeviceError
from edge.health import Metric, Problem, Reading, State

log = logging.getLogger(__name__)
T = TypeVar("T")

CONNECTED = 901
CONNECTING = 900
# ConnectionStatus codes of the HiLink web UI
CONNECTION_STATUS: dict[int, str] = {
    900: "connecting", 901: "connected", 902: "disconnected", 903: "disconnecting",
    7: "network access not allowed", 11: "network access not allowed",
    14: "network access not allowed", 37: "network access not allowed",
    12: "roaming not allowed", 13: "roaming not allowed", 112: "no auto-connect",
    113: "no auto-connect when roaming", 114: "no reconnect after timeout",
    115: "no reconnect when roaming", 201: "data limit reached",
}
# the login session is gone or its token is stale: log in again (no rights, token errors)
SESSION_ERRORS = frozenset({100003, 125001, 125002, 125003})
WRONG_CREDENTIALS = frozenset({108001, 108002, 108006})  # wrong user, password, or both
LOCKED_OUT = 108007  # too many wrong passwords: the router refuses logins for a while
TOO_MANY_SESSIONS = frozenset({108003, 108005})  # "already logged in" / too many users
PASSWORD_CHANGE_CODE = 115002  # first login: the router wants its default password changed
LOGIN_RETRY_SECONDS = 300.0  # a refused password is tried again at most this often

WRONG_PASSWORD = Problem(
    "wrong-password",
    "the 4G router refuses the login: fix `username`/`password` in the [[modem]] section of the "
    "config (the router's web page password), then restart the service",
    "Bộ phát 4G từ chối mật khẩu. Kỹ thuật viên cần sửa mật khẩu (password) trong mục [[modem]] "
    "của tệp cấu hình cho đúng mật khẩu trang quản trị của bộ phát, rồi khởi động lại dịch vụ.",
    State.FAULT)
LOGIN_LOCKED = Problem(
    "login-locked",
    "the 4G router locked logins after too many wrong passwords: check `password` in the "
    "[[modem]] section of the config and wait a few minutes",
    "Bộ phát 4G tạm khoá đăng nhập vì nhập sai mật khẩu nhiều lần. Kỹ thuật viên cần kiểm tra "
    "mật khẩu (password) trong mục [[modem]] của tệp cấu hình và chờ vài phút.", State.FAULT)
PASSWORD_REQUIRED = Problem(
    "password-required",
    "the 4G router requires a login: set `password` in the [[modem]] section of the config",
    "Bộ phát 4G yêu cầu đăng nhập. Kỹ thuật viên cần điền mật khẩu (password) trong mục "
    "[[modem]] của tệp cấu hình.", State.FAULT)
MAX_SESSIONS = Problem(
    "max-sessions",
    "the 4G router refuses another login (too many sessions): log out of its web page or "
    "phone app, or wait about 5 minutes",
    "Bộ phát 4G đang có quá nhiều phiên đăng nhập. Hãy đăng xuất khỏi trang quản trị hoặc ứng "
    "dụng trên điện thoại, hoặc chờ khoảng 5 phút.", State.WARNING)
PASSWORD_CHANGE = Problem(
    "password-change",
    "the 4G router wants its default password changed: log in to its web page once, set a new "
    "password and put it in the [[modem]] section of the config",
    "Bộ phát 4G yêu cầu đổi mật khẩu mặc định. Kỹ thuật viên cần đăng nhập trang quản trị của "
    "bộ phát, đặt mật khẩu mới rồi điền vào mục [[modem]] của tệp cấu hình.", State.FAULT)
DATA_OFF = Problem(
    "data-off", "mobile data is switched off in the 4G router",
    "Dữ liệu di động trên bộ phát 4G đang bị tắt. Bật lại \"Dữ liệu di động\" trong trang quản "
    "trị hoặc ứng dụng của bộ phát.", State.FAULT)


class LoginRefused(Exception):
    """The router would not log us in; `problem` says why, `retry_after` when to try again."""

    def __init__(self, problem: Problem, retry_after: float = 0.0) -> None:
        super().__init__(problem.en)
        self.problem = problem
        self.retry_after = retry_after


class HilinkModem(ModemDevice):
    redial_pause = 3.0  # seconds between data off and on, so the network drops the bearer

    def __init__(self, cfg: HilinkSettings) -> None:
        super().__init__(cfg)
        self._lock = threading.Lock()
        self._http: requests.Session | None = None
        self._conn: Connection | None = None
        self._client: Client | None = None
        self._refused: Problem | None = None
        self._refused_until = 0.0

    def poll(self) -> Reading:
        with self._lock:
            if self._refused is not None and time.monotonic() < self._refused_until:
                return Reading(problems=[self._refused])
            try:
                data = self._call(read_router)
            except LoginRefused as e:
                return Reading(problems=[e.problem])
        return router_reading(data)

    def reconnect(self) -> None:
        """Switch mobile data off, then on again (the router redials)."""
        log.warning("modem %s: link down too long, switching mobile data off and on", self.name)
        with self._lock:
            try:
                try:
                    self._call(lambda c: c.dial_up.set_mobile_dataswitch(0))
                    time.sleep(self.redial_pause)
                finally:  # whatever failed, never leave the data switch off
                    self._call(lambda c: c.dial_up.set_mobile_dataswitch(1))
            except LoginRefused as e:
                raise DeviceError(e.problem.en, vi=e.problem.vi) from None

    def close(self) -> None:
        with self._lock:
            self._drop(logout=True)
            if self._http is not None:
                self._http.close()
                self._http = None

    # --- session handling -------------------------------------------------------------------

    def _call(self, fn: Callable[[Client], T]) -> T:
        """`fn` with a logged-in client; once more after a new login if the session expired.

        Raises DeviceAbsent (no router at the address), DeviceError (it answered nonsense),
        LoginRefused (it will not let us in).
        """
        try:
            try:
                return fn(self._logged_in())
            except ResponseErrorException as e:
                if e.code not in SESSION_ERRORS:
                    raise
                log.info("modem %s: router session expired (%s), logging in again", self.name, e)
                self._drop(logout=True)
                return fn(self._logged_in())
        except LoginRefused as e:
            self._drop(logout=False)
            if e.retry_after:
                self._refused, self._refused_until = e.problem, time.monotonic() + e.retry_after
            raise
        except (requests.ConnectionError, requests.Timeout) as e:
            self._forget_http()
            raise self._absent(e) from None
        except ResponseErrorException as e:
            self._drop(logout=True)
            if e.code in SESSION_ERRORS and not self.cfg.password:
                raise LoginRefused(PASSWORD_REQUIRED) from None
            raise DeviceError(f"4G router at {self.cfg.url} answered error {e}",
                              vi="Bộ phát 4G báo lỗi; hãy báo kỹ thuật viên.") from None
        except (requests.RequestException, ExpatError, KeyError, ValueError, TypeError) as e:
            self._drop(logout=False)
            raise DeviceError(
                f"{self.cfg.url} does not answer like a Huawei HiLink router: "
                f"{type(e).__name__}: {e}",
                vi="Không đọc được bộ phát 4G; kiểm tra địa chỉ (url) trong cấu hình.",
                hint="check url in the [[modem]] section") from None

    def _logged_in(self) -> Client:
        if self._client is None:
            self._conn = self._login()
            self._client = Client(self._conn)
            self._refused = None
        return self._client

    def _login(self) -> Connection:
        try:
            return self._connect()
        except ResponseErrorException as e:
            if e.code not in TOO_MANY_SESSIONS:
                raise _refusal(e) if _is_login_error(e) else e from None
            log.info("modem %s: router says %s; logging out and trying again", self.name, e)
        self._logout_quietly()
        try:
            return self._connect()
        except ResponseErrorException as e:
            raise _refusal(e) if _is_login_error(e) else e from None

    def _connect(self) -> Connection:
        """A new Connection (logged in when a password is configured), on our HTTP session."""
        if self._http is None:
            self._http = requests.Session()
            self._http.trust_env = False  # the router is on the LAN: never through a proxy
        if not self.cfg.password:  # a stick with no web password: read without logging in
            return Connection(self.cfg.url, timeout=self.cfg.timeout, requests_session=self._http)
        return Connection(self.cfg.url, username=self.cfg.username or "admin",
                          password=self.cfg.password, timeout=self.cfg.timeout,
                          requests_session=self._http)

    def _logout_quietly(self) -> None:
        """Log out whatever session our cookie holds, to free a login slot."""
        try:
            session = Session(self.cfg.url, timeout=self.cfg.timeout, requests_session=self._http)
            User(session).logout()
        except (ResponseErrorException, requests.RequestException) as e:
            log.debug("modem %s: logout before retrying the login failed: %s", self.name, e)

    def _drop(self, *, logout: bool) -> None:
        """Forget the connection (logging out if asked); the next call makes a new one."""
        conn, self._conn, self._client = self._conn, None, None
        if conn is None:
            return
        try:
            if logout:
                conn.close()
        except Exception as e:  # logging out of a dead session may fail in many ways
            log.debug("modem %s: logout failed: %s", self.name, e)

    def _forget_http(self) -> None:
        """After a network failure: drop the connection and its sockets, without logging out."""
        self._drop(logout=False)
        if self._http is not None:
            self._http.close()
            self._http = None

    def _absent(self, e: Exception) -> DeviceAbsent:
        what = "does not answer" if isinstance(e, requests.ReadTimeout) else "cannot be reached"
        return DeviceAbsent(
            f"4G router at {self.cfg.url} {what} ({type(e).__name__}): check that it is powered "
            "on and its USB or network cable is plugged in",
            vi="Không kết nối được với bộ phát 4G. Kiểm tra bộ phát đã bật nguồn và cáp USB "
               "hoặc cáp mạng còn cắm chắc.")


def _is_login_error(e: ResponseErrorException) -> bool:
    """An answer to the login itself (108xxx), not a session or token hiccup on the way."""
    return 108000 <= e.code < 109000 or e.code == PASSWORD_CHANGE_CODE


def _refusal(e: ResponseErrorException) -> LoginRefused:
    if e.code in WRONG_CREDENTIALS:
        return LoginRefused(WRONG_PASSWORD, LOGIN_RETRY_SECONDS)
    if e.code == LOCKED_OUT:
        return LoginRefused(LOGIN_LOCKED, LOGIN_RETRY_SECONDS)
    if e.code in TOO_MANY_SESSIONS:
        return LoginRefused(MAX_SESSIONS)
    if e.code == PASSWORD_CHANGE_CODE:
        return LoginRefused(PASSWORD_CHANGE, LOGIN_RETRY_SECONDS)
    return LoginRefused(Problem(
        "login-failed", f"the 4G router refuses the login: error {e}",
        "Không đăng nhập được vào bộ phát 4G; hãy báo kỹ thuật viên.", State.FAULT),
        LOGIN_RETRY_SECONDS)


# --- reading the router -------------------------------------------------------------------------

Section = dict[str, Any]


def read_router(client: Client) -> dict[str, Section]:
    """The API sections a reading needs; the ones a model lacks come back empty."""
    out: dict[str, Section] = {"status": client.monitoring.status()}
    optional: dict[str, Callable[[], Section]] = {
        "signal": client.device.signal,
        "traffic": client.monitoring.traffic_statistics,
        "plmn": client.net.current_plmn,
        "dataswitch": client.dial_up.mobile_dataswitch,
    }
    for key, fn in optional.items():
        try:
            out[key] = fn() or {}
        except ResponseErrorNotSupportedException:
            out[key] = {}
    return out


def router_reading(data: dict[str, Section]) -> Reading:
    status, signal = data.get("status") or {}, data.get("signal") or {}
    code = _int(status.get("ConnectionStatus"))
    link = Link(
        connected=None if code is None else code == CONNECTED,
        connecting=code == CONNECTING,
        status=_status_text(code),
        registration=_registration(status),
        plmn=str((data.get("plmn") or {}).get("Numeric") or signal.get("plmn") or ""),
        network_name=str((data.get("plmn") or {}).get("FullName") or ""),
        network_type=network_type(_int(status.get("CurrentNetworkTypeEx"))
                                  or _int(status.get("CurrentNetworkType"))),
        sim=_sim(status.get("SimStatus")),
        rssi=parse_number(signal.get("rssi")),
        rsrp=parse_number(signal.get("rsrp")),
        rsrq=parse_number(signal.get("rsrq")),
        sinr=parse_number(signal.get("sinr")),
    )
    base = reading(link, _extra_metrics(code, status, signal, data.get("traffic") or {}))
    if str((data.get("dataswitch") or {}).get("dataswitch", "")) == "0":
        return Reading(base.metrics, [DATA_OFF, *base.problems])
    return base


def _extra_metrics(code: int | None, status: Section, signal: Section,
                   traffic: Section) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    if code is not None:
        out["network.status"] = Metric(str(code))
        out["network.status_text"] = Metric(_status_text(code))
    band = str(signal.get("band") or "").strip()
    if band:
        out["signal.band"] = Metric(int(band) if band.isdigit() else band)
    bars = _int(status.get("SignalIcon"))
    if bars is not None:
        out["signal.bars"] = Metric(max(0, min(5, bars)))
    for key, name, unit in (("CurrentDownload", "traffic.rx_bytes", "B"),
                            ("CurrentUpload", "traffic.tx_bytes", "B"),
                            ("TotalDownload", "traffic.rx_total", "B"),
                            ("TotalUpload", "traffic.tx_total", "B"),
                            ("CurrentDownloadRate", "traffic.rx_rate", "B/s"),
                            ("CurrentUploadRate", "traffic.tx_rate", "B/s"),
                            ("CurrentConnectTime", "traffic.connect_time", "s")):
        value = _int(traffic.get(key))
        if value is not None:
            out[name] = Metric(value, unit)
    return out


def network_type(code: int | None) -> str:
    """CurrentNetworkType(Ex) -> "LTE", "3G", "2G"...; "" when unknown."""
    if code is None:
        return ""
    if code == 0:
        return "none"
    if code in (19, 101):
        return "LTE"
    if code == 1011:
        return "LTE+"
    if code in (111, 112, 113):
        return "5G"
    if code in (1, 2, 3, 21, 22, 23):
        return "2G"
    if 4 <= code <= 18 or 41 <= code <= 65:
        return "3G"
    return f"type {code}"


def _status_text(code: int | None) -> str:
    if code is None:
        return ""
    return CONNECTION_STATUS.get(code, f"status {code}")


def _registration(status: Section) -> str | None:
    service = _int(status.get("ServiceStatus"))
    if service is None:
        return None
    if service != 2:  # 2: valid service; others are no or limited service
        return "none"
    return "roaming" if str(status.get("RoamingStatus", "0")) == "1" else "home"


def _sim(value: object) -> str:
    return {"1": "ok", "255": "missing", "0": "error"}.get(str(value or "").strip(), "")


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None
