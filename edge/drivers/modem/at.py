"""USB 4G modems in serial mode (Quectel EC25, SIMCom SIM7600...), read with AT commands.

Some kits carry a bare modem instead of a router; its AT port (often /dev/ttyUSB2) answers
`AT+CSQ`, `AT+CREG?`, `AT+CEREG?` and `AT+COPS?`. That port is shared with the modem's own
chatter (command echo, unsolicited `+CREG: 1`, `RING`, `^RSSI:` lines at any time), answers late
or never when the modem is busy or hung, and vanishes when the stick is pulled out. This driver
reads it tolerantly, bounds every poll by the configured timeout, reopens the port after any
error, and says which of those things happened.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field

import serial

from edge.drivers import serialport
from edge.drivers.modem import Link, ModemDevice, operator_name, plmn_for_name, reading
from edge.drivers.modem.settings import AtSettings
from edge.errors import DeviceAbsent, DeviceError
from edge.health import Metric, Reading

log = logging.getLogger(__name__)

POLL_COMMANDS = ("AT+CPIN?", "AT+CSQ", "AT+CREG?", "AT+CEREG?", "AT+COPS?")
POLL_BUDGET = 1.5  # a whole poll takes at most this many timeouts (the poller allows 2)
FINAL_ERRORS = ("ERROR", "+CME ERROR:", "+CMS ERROR:", "NO CARRIER", "COMMAND NOT SUPPORT")
CME_SIM_MISSING = 10
CME_SIM_LOCKED = frozenset({11, 12, 16, 17, 18})  # PIN, PUK, PIN2, PUK2 required / wrong
CME_SIM_ERROR = frozenset({13, 15})  # SIM failure, wrong SIM
# verbose error texts (AT+CMEE=2) -> numeric codes
CME_TEXTS = {"sim not inserted": 10, "sim pin required": 11, "sim puk required": 12,
             "sim failure": 13, "sim busy": 14, "sim wrong": 15, "incorrect password": 16}
# +CREG/+CEREG <stat>: 1 home, 5 roaming, 2 searching, 3 denied, 0 not registered...
REGISTRATION = {0: "none", 1: "home", 2: "searching", 3: "denied", 4: "none", 5: "roaming",
                6: "home", 7: "roaming", 8: "none", 9: "home", 10: "roaming"}
_RANK = ("home", "roaming", "searching", "denied", "none")  # best first
REGISTRATION_TEXT = {"searching": "searching for a network", "denied": "registration denied",
                     "none": "not registered"}
# +COPS <AcT>: 7 LTE, 2 UTRAN, 0 GSM...
ACCESS_TECH = {0: "2G", 1: "2G", 3: "2G", 8: "2G", 2: "3G", 4: "3G", 5: "3G", 6: "3G",
               7: "LTE", 9: "LTE", 10: "LTE", 11: "5G", 12: "5G", 13: "5G"}
_COPS = re.compile(r'^\s*(\d+)\s*(?:,\s*(\d+)\s*,\s*"([^"]*)"\s*(?:,\s*(\d+))?)?')


@dataclass
class Answer:
    """A command's result: the information lines it returned and how it ended."""

    ok: bool
    lines: list[str] = field(default_factory=list)  # text after the "+CSQ:" style prefix
    error: str = ""  # the final line when not OK ("ERROR", "+CME ERROR: 10")

    @property
    def cme(self) -> int | None:
        return cme_code(self.error)


class AtModem(ModemDevice):
    def __init__(self, cfg: AtSettings) -> None:
        super().__init__(cfg)
        self._lock = threading.Lock()
        self._port: serial.Serial | None = None
        self._buffer = b""

    def poll(self) -> Reading:
        with self._lock:
            deadline = time.monotonic() + POLL_BUDGET * self.cfg.timeout
            answers = {cmd: self._guarded(cmd, deadline) for cmd in POLL_COMMANDS}
        return at_reading(answers)

    def reconnect(self) -> None:
        """Turn the radio off and on (AT+CFUN=4, AT+CFUN=1): the modem registers afresh."""
        log.warning("modem %s: link down too long, restarting the radio", self.name)
        with self._lock:
            try:
                self._guarded("AT+CFUN=4", time.monotonic() + 3 * self.cfg.timeout)
            finally:
                answer = self._guarded("AT+CFUN=1", time.monotonic() + 3 * self.cfg.timeout)
        if not answer.ok:
            raise DeviceError(f"modem on {self.cfg.device} refused AT+CFUN=1: {answer.error}",
                              vi="Bộ phát 4G không bật lại được sóng; hãy rút ra cắm lại.")

    def close(self) -> None:
        with self._lock:
            self._close_port()

    # --- the serial conversation ------------------------------------------------------------

    def _guarded(self, command: str, deadline: float) -> Answer:
        """`command`'s answer; any failure closes the port (reopened next time) and says why."""
        try:
            return self._command(command, deadline)
        except (serial.SerialException, OSError) as e:
            self._close_port()
            if not os.path.exists(self.cfg.device):
                raise self._unplugged() from None
            raise DeviceError(f"modem port {self.cfg.device} failed: {e}",
                              vi="Lỗi đọc bộ phát 4G qua cổng USB; hãy rút ra cắm lại.") from None
        except DeviceError:
            self._close_port()
            raise

    def _command(self, command: str, deadline: float) -> Answer:
        port = self._open()
        port.write(command.encode("ascii") + b"\r")
        prefix = _prefix(command)
        end = min(deadline, time.monotonic() + self.cfg.timeout)
        lines: list[str] = []
        while True:
            line = self._readline(port, end)
            if line is None:
                raise self._silent(command)
            if not line or line.upper().startswith("AT"):  # blank, or our command echoed
                continue
            if line == "OK":
                return Answer(True, lines)
            if line.startswith(FINAL_ERRORS):
                return Answer(False, lines, line)
            if prefix and line.upper().startswith(prefix):
                lines.append(line[len(prefix):].strip())
            else:
                log.debug("modem %s: ignoring unsolicited %r", self.name, line)

    def _readline(self, port: serial.Serial, end: float) -> str | None:
        """The next line (without CR/LF), or None if none completes before `end`."""
        while True:
            m = re.search(rb"[\r\n]", self._buffer)
            if m:
                raw, self._buffer = self._buffer[:m.start()], self._buffer[m.end():]
                return raw.decode("ascii", "replace").strip()
            left = end - time.monotonic()
            if left <= 0:
                return None
            port.timeout = min(left, serialport.READ_SLICE)
            self._buffer += port.read(max(1, port.in_waiting))

    def _open(self) -> serial.Serial:
        if self._port is None:
            port = serialport.open_port(
                self.cfg.device, self.cfg.baudrate, self.cfg.timeout, self._unplugged(),
                DeviceError(f"cannot open modem port {self.cfg.device}",
                            vi="Không mở được cổng của bộ phát 4G; hãy báo kỹ thuật viên.",
                            hint="is another program using it (ModemManager)? is the service "
                                 "user in the dialout group?"))
            port.reset_input_buffer()
            self._port, self._buffer = port, b""
        return self._port

    def _close_port(self) -> None:
        port, self._port, self._buffer = self._port, None, b""
        serialport.close_port(port)

    def _unplugged(self) -> DeviceAbsent:
        return DeviceAbsent(
            f"modem port {self.cfg.device} is gone: the USB modem is unplugged",
            vi="Không thấy bộ phát 4G (USB). Cắm lại bộ phát vào cổng USB của máy tính.")

    def _silent(self, command: str) -> DeviceError:
        return DeviceError(
            f"modem on {self.cfg.device} did not answer {command} within "
            f"{self.cfg.timeout:g} s: it may be hung, or this is not its AT port",
            vi="Bộ phát 4G (USB) không phản hồi. Rút bộ phát ra, chờ 10 giây rồi cắm lại.",
            hint="try the other /dev/ttyUSB* ports of the modem in device=")


def _prefix(command: str) -> str:
    """"AT+CSQ" -> "+CSQ:", "AT+CREG?" -> "+CREG:"; "" for plain commands."""
    m = re.match(r"AT([+^][A-Z]+)", command.upper())
    return f"{m.group(1)}:" if m else ""


def cme_code(error: str) -> int | None:
    """"+CME ERROR: 10" or "+CME ERROR: SIM not inserted" -> 10; None for other errors."""
    if not error.upper().startswith("+CME ERROR:"):
        return None
    detail = error.split(":", 1)[1].strip()
    return int(detail) if detail.isdigit() else CME_TEXTS.get(detail.lower())


# --- making sense of the answers ----------------------------------------------------------------


def at_reading(answers: dict[str, Answer]) -> Reading:
    cops = parse_cops(answers["AT+COPS?"])
    registration = best_registration(parse_stat(answers["AT+CREG?"]),
                                     parse_stat(answers["AT+CEREG?"]))
    csq = parse_csq(answers["AT+CSQ"])
    plmn, name, tech = cops
    link = Link(
        connected=None if registration is None else registration in ("home", "roaming"),
        status=REGISTRATION_TEXT.get(registration or "none", ""),
        registration=registration,
        plmn=plmn,
        network_name=name,
        network_type=tech or ("LTE" if parse_stat(answers["AT+CEREG?"]) in (1, 5) else ""),
        sim=sim_state(answers),
        rssi=csq_dbm(csq),
    )
    extra = {"signal.csq": Metric(csq)} if csq is not None else {}
    return reading(link, extra)


def sim_state(answers: dict[str, Answer]) -> str:
    """"ok", "missing", "locked", "error" or "" from AT+CPIN? (and CME errors anywhere)."""
    codes = {a.cme for a in answers.values()}
    if CME_SIM_MISSING in codes:
        return "missing"
    if codes & CME_SIM_LOCKED:
        return "locked"
    if codes & CME_SIM_ERROR:
        return "error"
    cpin = answers["AT+CPIN?"]
    state = cpin.lines[0].upper() if cpin.ok and cpin.lines else ""
    if state == "READY":
        return "ok"
    return "locked" if "PIN" in state or "PUK" in state else ""


def parse_csq(answer: Answer) -> int | None:
    """`+CSQ: 20,99` -> 20; None when unknown (99) or not answered."""
    for line in answer.lines:
        first = line.split(",")[0].strip()
        if first.isdigit() and int(first) not in (99, 199):
            return int(first)
    return None


def csq_dbm(csq: int | None) -> float | None:
    """CSQ rssi -> dBm: -113 + 2 * rssi (0..31); 100..191 is TD-SCDMA's finer scale."""
    if csq is None:
        return None
    if 100 <= csq <= 191:
        return float(csq - 216)
    return float(-113 + 2 * min(csq, 31))


def parse_stat(answer: Answer) -> int | None:
    """<stat> of a `+CREG: <n>,<stat>[,...]` query answer; unsolicited `+CREG: <stat>` lines
    (one field, or a quoted area code second) that slipped in are skipped."""
    for line in answer.lines:
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            return int(parts[1])
    return None


def best_registration(*stats: int | None) -> str | None:
    """The best registration among CS (CREG) and EPS (CEREG): a modem on LTE may say "not
    registered" on the other."""
    names = [REGISTRATION.get(s, "none") for s in stats if s is not None]
    return min(names, key=_RANK.index) if names else None


def parse_cops(answer: Answer) -> tuple[str, str, str]:
    """(plmn, network name, "LTE"/"3G"/"2G") from `+COPS: 0,2,"45204",7` (or format 0/1)."""
    for line in answer.lines:
        m = _COPS.match(line)
        if not m or m.group(3) is None:
            continue
        fmt, oper, act = m.group(2), m.group(3).strip(), m.group(4)
        tech = ACCESS_TECH.get(int(act), "") if act else ""
        if fmt == "2":
            return oper, "", tech
        return plmn_for_name(oper), operator_name(plmn_for_name(oper), oper), tech
    return "", "", ""
