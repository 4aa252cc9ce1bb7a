"""Any UPS that Network UPS Tools supports, read from NUT's `upsd` with PyNUTClient.

NUT talks to the UPS (usbhid-ups for an APC Back-UPS, nutdrv_qx for Megatec units...) and upsmon
owns the shutdown; this driver only reads `LIST VAR`, keeping one connection across polls and
reconnecting after any error. PyNUTClient connects (and sends USERNAME/PASSWORD) in its
constructor and returns bytes, decoded here. upsd accepts any password until an action needs it,
so configured credentials are checked once per connection with a short-lived `LOGIN` session.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from PyNUTClient.PyNUT import PyNUTClient, PyNUTError

from edge.drivers.device import Device
from edge.drivers.ups import NUMERIC, STATUS, number, reading
from edge.drivers.ups.settings import NutSettings
from edge.errors import DeviceAbsent, DeviceError
from edge.health import Reading

log = logging.getLogger(__name__)


class _Client(PyNUTClient):
    """PyNUTClient, but a connection closed by upsd ends a read instead of spinning forever.

    PyNUT's reader loops on `recv()`, which returns b"" for ever once the peer has gone (upsd
    restarted or stopped): one CPU pegged and a poll that never returns. This replaces that
    private reader (name-mangled `__read_until`) with one that raises `ConnectionError`.
    """

    def _PyNUTClient__read_until(self, end: bytes) -> bytes:
        data: bytes = self._PyNUTClient__recv_leftover
        while end not in data:
            chunk = self._PyNUTClient__srv_handler.recv(4096)
            if not chunk:
                raise ConnectionError("upsd closed the connection")
            data += chunk
        cut = data.index(end) + len(end)
        self._PyNUTClient__recv_leftover = data[cut:]
        return data[:cut]

    def close(self) -> None:
        sock = self._PyNUTClient__srv_handler
        self._PyNUTClient__srv_handler = None  # PyNUT's __del__ then has nothing to send to
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.send(b"LOGOUT\n")
            sock.close()


class NutUps(Device):
    kind = "ups"

    def __init__(self, cfg: NutSettings) -> None:
        super().__init__(cfg)
        self._lock = threading.Lock()
        self._client: _Client | None = None

    @property
    def where(self) -> str:
        return f"{self.cfg.host}:{self.cfg.port}"

    def poll(self) -> Reading:
        with self._lock:
            return nut_reading(self._vars())

    def close(self) -> None:
        with self._lock:
            self._drop()

    # --- the connection -------------------------------------------------------------------

    def _vars(self) -> dict[str, str]:
        """The UPS's variables. A kept connection that upsd closed (it restarted) is replaced
        at once, so a restart costs no poll; a timeout or a refused connection is reported."""
        reused = self._client is not None
        try:
            return self._list_vars(self._connected())
        except OSError as e:
            self._drop()
            if not reused or isinstance(e, TimeoutError):
                raise self._not_answering(e) from None
            log.debug("ups %s: kept connection to %s broke (%s), reconnecting", self.name,
                      self.where, e)
        try:
            return self._list_vars(self._connected())
        except OSError as e:
            self._drop()
            raise self._not_answering(e) from None

    def _connected(self) -> _Client:
        if self._client is None:
            login = self.cfg.login or None  # PyNUT sends USERNAME/PASSWORD only when not None
            password = (self.cfg.password or None) if login else None
            if login:
                self._check_login(login, password)
            self._client = self._open(login, password)
        return self._client

    def _open(self, login: str | None, password: str | None) -> _Client:
        """A new connection (PyNUTClient connects in its constructor, bounded by the timeout)."""
        try:
            return _Client(host=self.cfg.host, port=self.cfg.port, login=login,
                           password=password, timeout=self.cfg.timeout)
        except PyNUTError as e:  # USERNAME or PASSWORD refused
            raise self._refused(login or "", str(e)) from None

    def _check_login(self, login: str, password: str | None) -> None:
        """Try the credentials with `LOGIN ups` on a throwaway connection.

        Not on the kept one: a `LOGIN` lasts until the connection closes, and upsmon's primary
        waits (HOSTSYNC) for logged-in clients to leave before it powers off.
        """
        client = self._open(login, password)
        try:
            client.DeviceLogin(self.cfg.ups)
        except PyNUTError as e:
            if "UNKNOWN-UPS" in str(e):
                raise self._nut_error(client, str(e)) from None
            raise self._refused(login, str(e)) from None
        finally:
            client.close()

    def _list_vars(self, client: _Client) -> dict[str, str]:
        try:
            raw = client.GetUPSVars(self.cfg.ups)
        except PyNUTError as e:
            raise self._nut_error(client, str(e)) from None
        return {k.decode("ascii", "replace"): v.decode("utf-8", "replace")
                for k, v in raw.items()}

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except OSError as e:
                log.debug("ups %s: closing connection to %s: %s", self.name, self.where, e)

    # --- what went wrong, in words ----------------------------------------------------------

    def _upsc(self) -> str:
        return f"upsc {self.cfg.ups}@{self.where}"

    def _not_answering(self, e: BaseException) -> DeviceAbsent:
        why = "timed out" if isinstance(e, TimeoutError) else str(e) or type(e).__name__
        return DeviceAbsent(
            f"UPS server not answering at {self.where} ({why})",
            vi="Không đọc được bộ lưu điện: dịch vụ NUT (upsd) không trả lời. Hãy báo kỹ thuật "
               "viên.",
            hint=f"is upsd running (systemctl status nut-server)? try `{self._upsc()}`")

    def _nut_error(self, client: _Client, error: str) -> DeviceError:
        code = error.removeprefix("ERR ").strip()
        name, upsc = self.cfg.ups, self._upsc()
        if code == "UNKNOWN-UPS":
            return DeviceError(
                f"upsd at {self.where} has no UPS named {name!r} "
                f"(it serves: {self._known(client)})",
                vi="Cấu hình bộ lưu điện sai tên; hãy báo kỹ thuật viên.",
                hint=f"set ups = the section name in /etc/nut/ups.conf; `upsc -l {self.cfg.host}` "
                     "lists them")
        if code == "DRIVER-NOT-CONNECTED":
            return DeviceAbsent(
                f"UPS {name!r}: the NUT driver is not running (upsd at {self.where} says "
                "DRIVER-NOT-CONNECTED)",
                vi="Không đọc được bộ lưu điện: trình điều khiển NUT không chạy. Kiểm tra cáp USB "
                   "của bộ lưu điện rồi báo kỹ thuật viên.",
                hint=f"check the UPS cable, `upsdrvctl start {name}`, then `{upsc}`")
        if code == "DATA-STALE":
            return DeviceAbsent(
                f"UPS {name!r}: NUT has lost contact with the UPS (upsd at {self.where} says "
                "DATA-STALE)",
                vi="Mất liên lạc với bộ lưu điện. Kiểm tra cáp USB/cáp nối tiếp của bộ lưu điện.",
                hint=f"check the UPS's data cable and that it is switched on, then `{upsc}`")
        return DeviceError(f"UPS {name!r}: upsd at {self.where} answered {error}",
                           vi="Không đọc được bộ lưu điện; hãy báo kỹ thuật viên.",
                           hint=f"try `{upsc}`")

    def _known(self, client: _Client) -> str:
        try:
            return ", ".join(sorted(client.GetUPSNames())) or "none"
        except (PyNUTError, OSError):
            return "unknown"

    def _refused(self, login: str, error: str) -> DeviceError:
        return DeviceError(
            f"upsd at {self.where} refused login {login!r} for UPS {self.cfg.ups!r} ({error}): "
            "wrong password, or the user is not allowed to log in",
            vi="Sai tên đăng nhập hoặc mật khẩu của bộ lưu điện (NUT); hãy báo kỹ thuật viên.",
            hint="check login/password against /etc/nut/upsd.users; the user needs "
                 "`upsmon secondary`")


def nut_reading(values: dict[str, str]) -> Reading:
    """upsd's variables as a Reading: the status string, the known numbers, any alarm."""
    status = values.get(STATUS, "").strip()
    if not status or status == "WAIT":  # WAIT: the NUT driver is starting, knows nothing yet
        why = "is still starting (ups.status WAIT)" if status else "reports no ups.status"
        raise DeviceError(f"the NUT driver of the UPS {why}",
                          vi="Chưa đọc được trạng thái bộ lưu điện; vui lòng chờ.")
    numbers = {name: number(values[name]) for name in NUMERIC if name in values}
    return reading(status, numbers, values.get("ups.alarm", "").strip())
