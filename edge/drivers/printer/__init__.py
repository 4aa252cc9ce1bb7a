"""Multifunction printers: turning what an IPP printer says about itself into a `Reading`.

Every IPP printer (IPP Everywhere, or a CUPS queue, which is an IPP server too) describes itself
with the same few attributes: `printer-state` (3 idle, 4 processing, 5 stopped),
`printer-state-reasons` (keywords such as `media-empty-report`, `toner-low-warning`) and its
supplies, either as the standard `printer-supply` strings
(`type=toner;maxcapacity=100;level=5;colorantname=black;`) or as CUPS's parallel
`marker-levels`/`marker-names`/`marker-colors`/`marker-types` lists. This module maps those raw
values to metrics and to problems that tell the volunteer what to do, in English and Vietnamese.
It is shared by the real driver (`ipp`) and the simulated twin (`sim`), so both read the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.errors import DeviceError
from edge.health import Metric, Problem, Reading, State

PRINTER_STATES = {3: "idle", 4: "processing", 5: "stopped"}
JOB_STATES = {3: "pending", 4: "held", 5: "processing", 6: "stopped", 7: "canceled",
              8: "aborted", 9: "completed"}
FINISHED_JOB_STATES = frozenset({"canceled", "aborted", "completed"})

SUFFIXES = ("-report", "-warning", "-error")
# Reasons that mean nothing is wrong, or that only last while a job is being sent.
IGNORED_REASONS = frozenset({"none", "connecting-to-device", "cups-waiting-for-job-completed"})
ALIASES = {"door-open": "cover-open", "media-needed": "media-empty",
           "marker-supply-low": "toner-low", "marker-supply-empty": "toner-empty"}

_TONER_LOW = ("Toner or ink is low: have a spare cartridge ready.",
              "Mực in sắp hết. Hãy chuẩn bị sẵn hộp mực thay thế.")

# normalised reason -> (severity, English, Vietnamese)
REASONS: dict[str, tuple[State, str, str]] = {
    "media-jam": (State.FAULT,
                  "Paper jam: open the printer, gently pull out the stuck sheet, close it again.",
                  "Máy in bị kẹt giấy. Hãy mở máy, nhẹ nhàng rút tờ giấy bị kẹt ra rồi đóng "
                  "máy lại."),
    "media-empty": (State.FAULT,
                    "The printer is out of paper: load paper into the tray.",
                    "Máy in hết giấy. Hãy nạp thêm giấy vào khay."),
    "media-low": (State.WARNING,
                  "Paper is running low: add paper to the tray soon.",
                  "Máy in sắp hết giấy. Hãy nạp thêm giấy vào khay."),
    "toner-low": (State.WARNING, *_TONER_LOW),
    "toner-empty": (State.FAULT,
                    "Toner or ink is empty: replace the cartridge.",
                    "Máy in đã hết mực. Hãy thay hộp mực mới."),
    "cover-open": (State.FAULT,
                   "A cover or door of the printer is open: close it firmly.",
                   "Nắp hoặc cửa máy in đang mở. Hãy đóng chặt lại."),
    "offline": (State.FAULT,
                "The printer is offline: check that it is switched on and its cable is plugged "
                "in.",
                "Máy in đang ngoại tuyến. Hãy kiểm tra máy in đã bật và dây cáp đã cắm chắc."),
    "paused": (State.FAULT,
               "The printer is paused: resume it on its control panel (or in CUPS).",
               "Máy in đang tạm dừng. Hãy cho máy in chạy lại trên bảng điều khiển của máy "
               "(hoặc trong CUPS)."),
    "shutdown": (State.FAULT,
                 "The printer is shutting down.",
                 "Máy in đang tắt."),
    "input-tray-missing": (State.FAULT,
                           "A paper tray is missing or not pushed in: insert it fully.",
                           "Khay giấy bị thiếu hoặc chưa đẩy vào hết. Hãy lắp khay vào đúng "
                           "chỗ."),
    "output-area-full": (State.FAULT,
                         "The output tray is full: take the printed pages away.",
                         "Khay giấy ra đã đầy. Hãy lấy giấy đã in ra."),
    "output-area-almost-full": (State.WARNING,
                                "The output tray is almost full: take the printed pages away.",
                                "Khay giấy ra sắp đầy. Hãy lấy bớt giấy đã in ra."),
    "marker-waste-full": (State.FAULT,
                          "The waste toner box is full: replace it.",
                          "Hộp chứa mực thải đã đầy. Hãy thay hộp mực thải."),
    "marker-waste-almost-full": (State.WARNING,
                                 "The waste toner box is almost full: have a spare ready.",
                                 "Hộp chứa mực thải sắp đầy. Hãy chuẩn bị hộp thay thế."),
    "opc-near-eol": (State.WARNING,
                     "The drum unit is nearly worn out: have a spare drum ready.",
                     "Cụm trống (drum) sắp hết tuổi thọ. Hãy chuẩn bị cụm trống thay thế."),
    "opc-life-over": (State.FAULT,
                      "The drum unit is worn out: replace it.",
                      "Cụm trống (drum) đã hết tuổi thọ. Hãy thay cụm trống mới."),
    "spool-area-full": (State.WARNING,
                        "The printer's memory is full: wait for the current jobs to finish.",
                        "Bộ nhớ máy in đã đầy. Hãy chờ các lệnh in hiện tại in xong."),
}

STOPPED = Problem("printer-stopped",
                  "The printer has stopped: read the message on its display, fix the cause, "
                  "then switch it off and on if it does not resume.",
                  "Máy in đã dừng. Hãy đọc thông báo trên màn hình máy in, khắc phục rồi tắt "
                  "và bật lại máy nếu máy chưa chạy tiếp.", State.FAULT)

# printer-supply `type=` (and CUPS marker-types) -> the word used in metric names
SUPPLY_KINDS = {"toner": "toner", "toner-cartridge": "toner", "tonerCartridge": "toner",
                "ink": "ink", "ink-cartridge": "ink", "inkCartridge": "ink",
                "opc": "drum", "wasteToner": "waste_toner", "waste-toner": "waste_toner",
                "wasteInk": "waste_ink", "waste-ink": "waste_ink"}
MARKING_KINDS = frozenset({"toner", "ink"})
COLOURS = ("black", "cyan", "magenta", "yellow")
HEX_COLOURS = {"#000000": "black", "#00ffff": "cyan", "#ff00ff": "magenta", "#ffff00": "yellow"}


# ---------------------------------------------------------------- state reasons


def normalise_reason(keyword: str) -> str | None:
    """`toner-low-report` -> `toner-low`, `door-open-error` -> `cover-open`; None if nothing."""
    word = keyword.strip().lower()
    for suffix in SUFFIXES:
        if word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    word = ALIASES.get(word, word)
    return None if not word or word in IGNORED_REASONS else word


def reason_problem(keyword: str) -> Problem | None:
    """The problem a `printer-state-reasons` keyword stands for (unknown ones as a warning)."""
    reason = normalise_reason(keyword)
    if reason is None:
        return None
    known = REASONS.get(reason)
    if known is None:
        return Problem(reason, f"The printer reports {keyword!r}: look at its display.",
                       f"Máy in báo lỗi {keyword!r}. Hãy xem thông báo trên màn hình máy in.",
                       State.WARNING)
    severity, en, vi = known
    return Problem(reason, en, vi, severity)


def reason_problems(keywords: Iterable[str]) -> list[Problem]:
    """One problem per distinct reason, in the printer's order."""
    return _unique(p for p in map(reason_problem, keywords) if p is not None)


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for p in problems:
        if p.code not in seen:
            seen.add(p.code)
            out.append(p)
    return out


def state_name(state: int | None) -> str:
    """`printer-state` enum as a word: idle, processing, stopped (or unknown)."""
    return PRINTER_STATES.get(state or 0, "unknown")


def job_state_name(state: int | None) -> str:
    """`job-state` enum 3..9 as a word: pending, held, processing, ..., completed."""
    return JOB_STATES.get(state or 0, "unknown")


# ---------------------------------------------------------------- supplies


@dataclass(frozen=True)
class Supply:
    """One consumable or waste receptacle, its level in percent when the printer knows it."""

    key: str  # metric suffix: black_toner, cyan_ink, drum, waste_toner...
    label: str  # what the printer calls it: "Black Toner", "TN-2420"...
    kind: str  # toner, ink, drum, waste_toner, ...
    percent: int | None  # None: unknown (levels -1, -2, -3 in IPP)
    consumed: bool = True  # False for receptacles that fill up (waste toner)


def parse_supply(value: str | bytes) -> dict[str, str]:
    """`type=toner;level=5;...` (an octetString, so maybe bytes) -> {"type": "toner", ...}."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, val = part.partition("=")
        if sep:
            fields[key.strip().lower()] = val.strip()
    return fields


def _int(text: object, default: int = -2) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        return default


def _percent(level: int, capacity: int) -> int | None:
    if level < 0:
        return None
    if capacity > 0:
        return max(0, min(100, round(100 * level / capacity)))
    return min(level, 100)


def _kind(raw: str) -> str:
    if raw in SUPPLY_KINDS:
        return SUPPLY_KINDS[raw]
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", raw).lower().replace("-", "_")
    return re.sub(r"[^a-z0-9_]", "", snake) or "supply"


def _colour(*hints: str) -> str:
    for hint in hints:
        h = hint.strip().lower()
        if h in HEX_COLOURS:
            return HEX_COLOURS[h]
        for colour in COLOURS:
            if colour in h:
                return colour
    return ""


def _key(kind: str, colour: str) -> str:
    return f"{colour}_{kind}" if colour and not kind.startswith("waste") else kind


def supplies_from_printer_supply(values: Sequence[str | bytes],
                                 descriptions: Sequence[str] = ()) -> list[Supply]:
    """Supplies from the standard `printer-supply` (+ `printer-supply-description`) values."""
    out = []
    for i, value in enumerate(values):
        f = parse_supply(value)
        kind = _kind(f.get("type", "other"))
        label = descriptions[i] if i < len(descriptions) else f.get("type", "supply")
        colour = _colour(f.get("colorantname", ""), label)
        percent = _percent(_int(f.get("level")), _int(f.get("maxcapacity"), 100))
        consumed = f.get("class", "supplyThatIsConsumed") != "receptacleThatIsFilled"
        out.append(Supply(_key(kind, colour), label, kind, percent, consumed))
    return out


def supplies_from_markers(levels: Sequence[int], names: Sequence[str] = (),
                          colors: Sequence[str] = (), types: Sequence[str] = ()) -> list[Supply]:
    """Supplies from CUPS's `marker-levels` and the parallel `marker-names/colors/types`."""
    out = []
    for i, level in enumerate(levels):
        name = names[i] if i < len(names) else f"marker {i + 1}"
        raw_type = types[i] if i < len(types) else "toner"
        kind = _kind(raw_type)
        colour = _colour(colors[i] if i < len(colors) else "", name)
        out.append(Supply(_key(kind, colour), name, kind, _percent(_int(level), 100),
                          not kind.startswith("waste")))
    return out


def supply_metrics(supplies: Iterable[Supply]) -> dict[str, Metric]:
    """`supply.black_toner` etc. in percent; a second supply of the same kind gets `_2`."""
    metrics: dict[str, Metric] = {}
    for s in supplies:
        if s.percent is None:
            continue
        name, n = f"supply.{s.key}", 2
        while name in metrics:
            name, n = f"supply.{s.key}_{n}", n + 1
        metrics[name] = Metric(s.percent, "%")
    return metrics


def supply_problems(supplies: Iterable[Supply], low_percent: int) -> list[Problem]:
    """A toner/ink warning below `low_percent`, a fault at 0, naming the cartridge."""
    out = []
    for s in supplies:
        if not s.consumed or s.kind not in MARKING_KINDS or s.percent is None:
            continue
        if s.percent == 0:
            out.append(Problem("toner-empty", f"{s.label} is empty: replace the cartridge.",
                               f"Hết mực ({s.label}). Hãy thay hộp mực mới.", State.FAULT))
        elif s.percent < low_percent:
            out.append(Problem("toner-low",
                               f"{s.label} is at {s.percent}%: have a spare cartridge ready.",
                               f"Mực in sắp hết ({s.label} còn {s.percent}%). Hãy chuẩn bị "
                               "sẵn hộp mực thay thế.", State.WARNING))
    return out


# ---------------------------------------------------------------- the whole reading


def as_list(value: Any) -> list[Any]:
    """ipptool gives a single value for a one-element set, a list for more: always a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def supplies_from_attributes(attrs: Mapping[str, Any]) -> list[Supply]:
    """`printer-supply` when the printer has it, else CUPS's `marker-*` attributes."""
    if attrs.get("printer-supply"):
        return supplies_from_printer_supply(as_list(attrs["printer-supply"]),
                                            [str(d) for d in
                                             as_list(attrs.get("printer-supply-description"))])
    if attrs.get("marker-levels") is not None:
        return supplies_from_markers(
            [_int(v) for v in as_list(attrs["marker-levels"])],
            [str(v) for v in as_list(attrs.get("marker-names"))],
            [str(v) for v in as_list(attrs.get("marker-colors"))],
            [str(v) for v in as_list(attrs.get("marker-types"))])
    return []


def reading_from_attributes(attrs: Mapping[str, Any], toner_low_percent: int) -> Reading:
    """The `Reading` for a Get-Printer-Attributes answer (attribute name -> value(s))."""
    state = _int(attrs.get("printer-state"), 0)
    metrics = {"printer.state": Metric(state_name(state))}
    model = attrs.get("printer-make-and-model")
    if model:
        metrics["printer.model"] = Metric(str(model))
    supplies = supplies_from_attributes(attrs)
    metrics.update(supply_metrics(supplies))
    problems = reason_problems(str(r) for r in as_list(attrs.get("printer-state-reasons")))
    specific = supply_problems(supplies, toner_low_percent)
    covered = {p.code for p in specific}  # "Black Toner is at 5%" says more than "toner low"
    problems = [p for p in problems if p.code not in covered] + specific
    if state == 5 and not any(p.severity == State.FAULT for p in problems):
        problems.append(STOPPED)
    return Reading(metrics, problems)


# ---------------------------------------------------------------- printing


def check_pdf(path: Path) -> None:
    """Refuse, with a message for people, a file that is missing or is not a PDF."""
    try:
        with path.open("rb") as f:
            head = f.read(1024)
    except FileNotFoundError:
        raise DeviceError(f"cannot print {path}: the file does not exist",
                          vi=f"Không in được: không tìm thấy tệp {path.name}.") from None
    except OSError as e:
        raise DeviceError(f"cannot print {path}: {e.strerror or e}",
                          vi=f"Không in được: không đọc được tệp {path.name}.") from None
    if b"%PDF-" not in head:
        raise DeviceError(f"cannot print {path}: it is not a PDF file",
                          vi=f"Không in được: tệp {path.name} không phải tệp PDF.")


def job_title(title: str) -> str:
    """A `job-name` the printer accepts: no control characters, at most 255 bytes."""
    clean = "".join(c for c in title if c.isprintable()).strip() or "edge"
    return clean.encode("utf-8")[:255].decode("utf-8", "ignore")
