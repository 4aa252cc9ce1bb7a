"""4G router and modem drivers, and what they all report, so the UI reads one shape.

The kit uploads dossiers over 4G from village halls where coverage is patchy. Whatever the
hardware (a Huawei HiLink router, a serial AT modem, the demo twin), the UI and telemetry see the
same metric names (`network.*`, `signal.*`, `traffic.*`) and the same problems, built here from a
`Link`: link down, weak signal, roaming, no SIM, a SIM the network refuses. Vietnamese operators
are named from their PLMN (452-04 is Viettel).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge.drivers.device import Device
from edge.drivers.modem.settings import ModemSettings
from edge.errors import DeviceError
from edge.health import Metric, Problem, Reading, State

OPERATORS: dict[str, str] = {
    "45201": "MobiFone",
    "45202": "Vinaphone",
    "45204": "Viettel",
    "45205": "Vietnamobile",
    "45207": "Gmobile",
}
# words in the names networks broadcast ("VN VIETTEL", "VINAPHONE", "Beeline VN") -> PLMN
_NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("viettel", "45204"), ("vinaphone", "45202"), ("mobifone", "45201"),
    ("vietnamobile", "45205"), ("gmobile", "45207"), ("beeline", "45207"),
)
REGISTRATIONS = ("home", "roaming", "searching", "denied", "none")
WEAK_RSRP_DBM = -110.0  # LTE reference signal: below this, uploads crawl or drop
WEAK_RSSI_DBM = -93.0  # CSQ below 10 ("marginal"), when no RSRP is known
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def normalize_plmn(plmn: str) -> str:
    """"452-04", "452 04" or "45204" -> "45204" (digits only)."""
    return "".join(ch for ch in plmn if ch.isdigit())


def operator_name(plmn: str, fallback: str = "") -> str:
    """The Vietnamese operator for a PLMN; else the network's own name, else the PLMN itself."""
    code = normalize_plmn(plmn)
    return OPERATORS.get(code) or fallback.strip() or code or plmn


def plmn_for_name(name: str) -> str:
    """The PLMN of a Vietnamese operator's broadcast name ("VN VIETTEL"), or "" if unknown."""
    flat = re.sub(r"[^a-z]", "", name.lower())
    return next((plmn for word, plmn in _NAME_HINTS if word in flat), "")


def parse_number(text: object) -> float | None:
    """The first number in a router's value ("-95dBm", "-11.0dB", ">=-51dBm"), or None."""
    if text is None:
        return None
    m = _NUMBER.search(str(text))
    return float(m.group()) if m else None


@dataclass(frozen=True)
class Link:
    """What any driver learnt about the 4G link; unknown fields stay None or empty."""

    connected: bool | None = None  # data can flow (router: connected; AT modem: registered)
    connecting: bool = False  # coming up right now: a warning, not a fault
    status: str = ""  # the driver's own words for the link state, for the log
    registration: str | None = None  # one of REGISTRATIONS
    plmn: str = ""
    network_name: str = ""  # the name the network broadcasts, used when the PLMN is foreign
    network_type: str = ""  # "LTE", "3G", "2G"...
    sim: str = ""  # "ok", "missing", "locked", "error"; "" when unknown
    rssi: float | None = None  # dBm
    rsrp: float | None = None  # dBm
    rsrq: float | None = None  # dB
    sinr: float | None = None  # dB

    @property
    def operator(self) -> str:
        return operator_name(self.plmn, self.network_name) if self.plmn or self.network_name \
            else ""


def reading(link: Link, extra: dict[str, Metric] | None = None) -> Reading:
    """The Reading for a link: common metrics (plus a driver's own) and the problems."""
    return Reading({**link_metrics(link), **(extra or {})}, link_problems(link))


def link_metrics(link: Link) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    if link.connected is not None:
        out["network.connected"] = Metric(link.connected)
    if link.registration:
        out["network.registration"] = Metric(link.registration)
    if link.operator:
        out["network.operator"] = Metric(link.operator)
    if link.plmn:
        out["network.plmn"] = Metric(normalize_plmn(link.plmn))
    if link.network_type:
        out["network.type"] = Metric(link.network_type)
    for name, value, unit in (("rssi", link.rssi, "dBm"), ("rsrp", link.rsrp, "dBm"),
                              ("rsrq", link.rsrq, "dB"), ("sinr", link.sinr, "dB")):
        if value is not None:
            out[f"signal.{name}"] = Metric(value, unit)
    return out


NO_SIM = Problem(
    "no-sim", "no SIM card in the 4G modem",
    "Không thấy thẻ SIM trong bộ phát 4G. Tắt bộ phát, lắp lại thẻ SIM (đúng chiều, đẩy sát "
    "vào khe) rồi bật lại.", State.FAULT)
SIM_LOCKED = Problem(
    "sim-locked", "the SIM card asks for a PIN or PUK code",
    "Thẻ SIM đang bị khoá mã PIN. Lắp thẻ vào điện thoại, tắt yêu cầu mã PIN rồi lắp lại vào "
    "bộ phát 4G.", State.FAULT)
SIM_ERROR = Problem(
    "sim-error", "the 4G modem cannot read its SIM card",
    "Bộ phát 4G không đọc được thẻ SIM. Tắt bộ phát, lau tiếp điểm và lắp lại thẻ, hoặc thử "
    "thẻ SIM khác.", State.FAULT)
DENIED = Problem(
    "registration-denied", "the mobile network refuses the SIM card (registration denied)",
    "Nhà mạng từ chối thẻ SIM. Kiểm tra thẻ còn hạn, còn tiền và đã đăng ký thông tin thuê "
    "bao; nếu cần, gọi tổng đài nhà mạng.", State.FAULT)
CONNECTING = Problem(
    "connecting", "the 4G link is coming up",
    "Bộ phát 4G đang kết nối mạng, vui lòng chờ một lát.", State.WARNING)
_SIM_PROBLEMS = {"missing": NO_SIM, "locked": SIM_LOCKED, "error": SIM_ERROR}


def link_down(status: str = "") -> Problem:
    why = f" ({status})" if status else ""
    return Problem("link-down", f"the 4G link is down{why}",
                   "Mất kết nối 4G. Kiểm tra thẻ SIM và ăng-ten của bộ phát.", State.FAULT)


def roaming(operator: str) -> Problem:
    on = f" on {operator}" if operator else ""
    vi_on = f" ({operator})" if operator else ""
    return Problem("roaming", f"the 4G modem is roaming{on}: data may cost roaming rates",
                   f"Bộ phát 4G đang dùng mạng chuyển vùng{vi_on}, cước có thể rất cao. Hãy di "
                   "chuyển xa biên giới hoặc chọn lại mạng trong nước.", State.WARNING)


def weak_signal(what: str) -> Problem:
    return Problem("weak-signal", f"weak 4G signal ({what})",
                   "Sóng 4G yếu. Đặt bộ phát gần cửa sổ hoặc ở chỗ cao hơn, tránh tường bê tông "
                   "và vật bằng kim loại.", State.WARNING)


def link_problems(link: Link) -> list[Problem]:
    sim = _SIM_PROBLEMS.get(link.sim)
    if sim is not None:  # the cause of everything else: say only that
        return [sim]
    out: list[Problem] = []
    if link.registration == "denied":
        out.append(DENIED)
    elif link.connecting:
        out.append(CONNECTING)
    elif link.connected is False:
        out.append(link_down(link.status))
    if link.registration == "roaming":
        out.append(roaming(link.operator))
    weak = _weakness(link)
    if weak:
        out.append(weak_signal(weak))
    return out


def _weakness(link: Link) -> str:
    if link.rsrp is not None:
        return f"RSRP {link.rsrp:g} dBm" if link.rsrp < WEAK_RSRP_DBM else ""
    if link.rssi is not None and link.rssi < WEAK_RSSI_DBM:
        return f"RSSI {link.rssi:g} dBm"
    return ""


class ModemDevice(Device):
    """A 4G router or modem; it may redial when the link stays down (`reconnect_after`)."""

    kind = "modem"

    def __init__(self, cfg: ModemSettings) -> None:
        super().__init__(cfg)
        self._outage: float | None = None  # the down_since the next redial time belongs to
        self._redial_at = 0.0

    def should_reconnect(self, down_since: float | None, now: float) -> bool:
        """True once the link has been down `reconnect_after` seconds, then again every
        `reconnect_after` seconds while it stays down (0 turns redialling off).

        The answer is remembered: ask once per poll, always with the same clock.
        """
        after = float(self.cfg.reconnect_after)
        if after <= 0 or down_since is None:
            self._outage = None
            return False
        if self._outage != down_since:
            self._outage, self._redial_at = down_since, down_since + after
        if now < self._redial_at:
            return False
        self._redial_at = now + after
        return True

    def reconnect(self) -> None:
        """Drop the mobile data link and bring it up again."""
        raise DeviceError(f"modem {self.name}: driver {self.driver!r} cannot redial",
                          vi="Bộ phát 4G này không hỗ trợ tự kết nối lại.")
