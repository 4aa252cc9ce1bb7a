"""UPS drivers, and what they all report, so the power policy and the UI read one shape.

The kit runs from a UPS in village halls where mains power comes and goes. Whatever the hardware
(any UPS NUT supports, a cheap Megatec/Q1 serial unit, the demo twin), every driver reports NUT's
variable names and units (`battery.charge` %, `ups.load` %...) and the raw NUT `ups.status`
string ("OL CHRG", "OB LB"...): the power policy reads its words, the UI reads the problems built
here (on battery, battery low, replace battery, overload...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from edge.health import Metric, Problem, Reading, State

# NUT variable -> unit, for the numeric values every driver reports when it knows them
NUMERIC: dict[str, str] = {
    "battery.charge": "%",
    "battery.runtime": "s",
    "battery.voltage": "V",
    "input.voltage": "V",
    "input.frequency": "Hz",
    "output.voltage": "V",
    "ups.load": "%",
    "ups.temperature": "°C",
}
STATUS = "ups.status"
ALARM = "ups.alarm"
ESTIMATED = "battery.charge.estimated"  # True when the charge is a guess from the voltage


def status_words(s: str) -> list[str]:
    """NUT's `ups.status` split into its words ("OB DISCHRG LB" -> ["OB", "DISCHRG", "LB"]).

    Unknown words are kept: newer NUT versions add some (ALARM, ECO...).
    """
    return s.split()


def critical(words: Iterable[str]) -> bool:
    """True when the battery is about to run out: on battery with low battery, or forced
    shutdown (FSD, set by upsmon when it decided to power the machines off)."""
    w = set(words)
    return "FSD" in w or {"OB", "LB"} <= w


def number(text: object) -> float | None:
    """A NUT value as a number ("226.0", "100", " 27.5 "), or None if it is not one."""
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if value == value else None  # NaN is not a reading


def reading(status: str, values: Mapping[str, float | None], alarm: str = "",
            extra: Mapping[str, Metric] | None = None) -> Reading:
    """The Reading of a UPS: its status string, the known NUT numbers, a driver's own metrics
    (`extra`), and the problems they imply."""
    metrics: dict[str, Metric] = {STATUS: Metric(status)}
    for name, value in values.items():
        if value is not None:
            metrics[name] = Metric(value, NUMERIC.get(name, ""))
    if alarm:
        metrics[ALARM] = Metric(alarm)
    metrics.update(extra or {})
    return Reading(metrics, problems(status_words(status), values.get("battery.runtime"), alarm))


def problems(words: list[str], runtime: float | None = None, alarm: str = "") -> list[Problem]:
    """What a status means to the people at the desk; the worst first."""
    w = set(words)
    out: list[Problem] = []
    if critical(w):
        out.append(battery_critical(fsd="FSD" in w))
    elif "OB" in w:
        out.append(on_battery(runtime))
    elif "LB" in w:
        out.append(LOW_ON_MAINS)
    out += [p for word, p in _WORD_PROBLEMS if word in w]
    if alarm:
        out.append(ups_alarm(alarm))
    return out


def on_battery(runtime: float | None = None) -> Problem:
    left_en = left_vi = ""
    if runtime is not None and runtime > 0:
        minutes = max(1, round(runtime / 60))
        left_en, left_vi = f" (about {minutes} min left)", f" Còn khoảng {minutes} phút."
    return Problem(
        "on-battery", f"mains power lost: the UPS is running on battery{left_en}",
        "Mất điện lưới, bộ lưu điện đang chạy bằng pin. Hãy tiết kiệm thời gian quét." + left_vi,
        State.WARNING)


def battery_critical(fsd: bool = False) -> Problem:
    why = ("the UPS ordered a forced shutdown (FSD)" if fsd
           else "the UPS battery is nearly empty (on battery, low battery)")
    return Problem(
        "battery-low", f"{why}: new scans are refused; plug mains power or a generator back in",
        "Pin bộ lưu điện sắp hết. Đã dừng nhận hồ sơ quét mới; hãy cắm lại điện lưới hoặc máy "
        "phát.", State.FAULT)


def ups_alarm(alarm: str) -> Problem:
    return Problem("ups-alarm", f"the UPS reports an alarm: {alarm}",
                   "Bộ lưu điện báo lỗi. Hãy báo kỹ thuật viên kiểm tra bộ lưu điện.",
                   State.WARNING)


LOW_ON_MAINS = Problem(
    "battery-low", "the UPS battery is low and recharging: a power cut now would be short",
    "Pin bộ lưu điện còn yếu và đang được sạc lại; nếu mất điện lúc này thì chỉ chạy được ít "
    "phút.", State.WARNING)
REPLACE_BATTERY = Problem(
    "replace-battery", "the UPS asks for its battery to be replaced",
    "Bộ lưu điện báo cần thay pin (ắc quy). Hãy báo kỹ thuật viên thay pin mới.", State.WARNING)
OVERLOAD = Problem(
    "overload", "the UPS is overloaded",
    "Bộ lưu điện bị quá tải. Hãy rút bớt thiết bị tốn điện (máy in laser, quạt, ấm đun) khỏi ổ "
    "cắm của bộ lưu điện.", State.WARNING)
UPS_OFF = Problem(
    "ups-off", "the UPS output is switched off: the kit is not protected from power cuts",
    "Đầu ra của bộ lưu điện đang tắt, bộ máy không được bảo vệ khi mất điện. Hãy bật bộ lưu "
    "điện.", State.WARNING)
BYPASS = Problem(
    "bypass", "the UPS is on bypass: mains goes straight through, the battery does not protect "
    "the kit", "Bộ lưu điện đang ở chế độ bypass, pin không bảo vệ bộ máy khi mất điện. Hãy báo "
    "kỹ thuật viên.", State.WARNING)
_WORD_PROBLEMS: tuple[tuple[str, Problem], ...] = (
    ("RB", REPLACE_BATTERY), ("OVER", OVERLOAD), ("OFF", UPS_OFF), ("BYPASS", BYPASS))
