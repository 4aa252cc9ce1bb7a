"""Receipt templates: editable TOML files, and the checks on the values that fill them.

A commune changes a slip's wording without a programmer, so a template is a plain TOML file:
`[fields.NAME]` tables say what a volunteer must or may give (label, kind, required,
max_length, default, choices) and `[[block]]` tables are the slip, top to bottom: a line of text
with `{field}` placeholders (optionally after a bold `label`, in bold/small/large, left/centred/
right), a `rule`, some `feed`, or a row of `qr` codes with captions. A block (or one QR of a row)
that uses a field left empty is skipped: that is how "the dossier code, when known" works.

Besides the fields, placeholders may use what the kit knows: {header} and {commune} (config),
{kit}, {printed} (now) and the two QR targets {lookup_url} and {survey_url}.

Built-in templates live next to this module (`templates/*.toml`); `[receipts] templates` names a
folder whose files override or add to them. Every mistake, in a template or in the values, is a
`TemplateError` naming the template and the field.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edge.errors import JobError
from edge.pipeline.naming import check_dossier

BUILTIN = Path(__file__).parent / "templates"
CONTEXT = ("header", "commune", "kit", "printed", "lookup_url", "survey_url")
DEFAULT_MAX_LENGTH = 200
TICKET_RE = re.compile(r"[A-Z0-9]{2,8}-\d{6}-\d{3,4}")
DATE_INPUTS = ("%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%d/%m/%Y", "%Y-%m-%d")

Kind = Literal["text", "ticket", "dossier", "date", "choice"]
Size = Literal["small", "normal", "large", "huge"]  # huge: a queue number
Align = Literal["left", "center", "right"]


class TemplateError(JobError):
    """A template is unknown or malformed, or the values given for it are not acceptable."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str = ""
    kind: Kind = "text"
    required: bool = False
    max_length: int = DEFAULT_MAX_LENGTH
    default: str = ""  # for kind "date": "now" or "today" are the moment of printing
    choices: dict[str, str] = field(default_factory=dict)  # kind "choice": key -> printed text


@dataclass(frozen=True)
class Text:
    text: str
    label: str = ""
    bold: bool = False
    size: Size = "normal"
    align: Align = "left"


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the paper."""


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class QrCode:
    data: str
    caption: str = ""


@dataclass(frozen=True)
class QrRow:
    codes: tuple[QrCode, ...]


Block = Text | Rule | Feed | QrRow


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    fields: dict[str, Field]
    blocks: tuple[Block, ...]
    path: Path


# ------------------------------------------------------------------ finding and loading


def folders(override: Path | None) -> list[Path]:
    """Where templates are looked for, the later winning: built-in, then the configured folder."""
    return [BUILTIN, *([override] if override else [])]


def available(override: Path | None = None) -> dict[str, Path]:
    """Template name -> file, the configured folder overriding the built-in ones."""
    found: dict[str, Path] = {}
    for folder in folders(override):
        if folder.is_dir():
            found.update({p.stem: p for p in sorted(folder.glob("*.toml"))})
    return found


def load(name: str, override: Path | None = None) -> Template:
    """The template called `name`, or a TemplateError listing the ones there are."""
    found = available(override)
    if name not in found:
        names = ", ".join(sorted(found)) or "none"
        raise TemplateError(f"unknown receipt template {name!r} (available: {names})",
                            vi=f"Không có mẫu phiếu {name!r}. Các mẫu có sẵn: {names}")
    return parse(name, found[name])


def parse(name: str, path: Path) -> Template:
    """Read and check one template file; every error names the file and the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise _bad(path, "", f"cannot be read: {e}") from None
    _keys(raw, {"title", "fields", "block"}, path, "")
    fields = {k: _field(k, v, path) for k, v in _table(raw.get("fields", {}), path, "fields")
              .items()}
    blocks = raw.get("block", [])
    if not isinstance(blocks, list) or not blocks:
        raise _bad(path, "block", "a template needs at least one [[block]]")
    tpl = Template(name, _str(raw.get("title", name), path, "title"), fields,
                   tuple(_block(b, path, f"block[{i}]") for i, b in enumerate(blocks)), path)
    _check_placeholders(tpl)
    return tpl


def _bad(path: Path, key: str, why: str) -> TemplateError:
    where = f"{path}: {key}: " if key else f"{path}: "
    return TemplateError(f"receipt template {where}{why}",
                         vi=f"Mẫu phiếu {path.name} bị lỗi ({key or 'tệp'}): {why}")


def _keys(raw: Mapping[str, Any], allowed: set[str], path: Path, where: str) -> None:
    for k in raw:
        if k not in allowed:
            raise _bad(path, f"{where}{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _table(value: Any, path: Path, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(path, key, "expected a table")
    return value


def _str(value: Any, path: Path, key: str) -> str:
    if not isinstance(value, str):
        raise _bad(path, key, f"expected a string, got {type(value).__name__}")
    return unicodedata.normalize("NFC", value)


def _choice(value: Any, allowed: tuple[str, ...], path: Path, key: str) -> Any:
    if value not in allowed:
        raise _bad(path, key, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _field(name: str, raw: Any, path: Path) -> Field:
    key = f"fields.{name}"
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name):
        raise _bad(path, key, "a field name is 1-32 lower-case letters, digits or '_'")
    if name in CONTEXT:
        raise _bad(path, key, f"{name!r} is filled by the kit itself; choose another name")
    raw = _table(raw, path, key)
    _keys(raw, {"label", "kind", "required", "max_length", "default", "choices"}, path,
          f"{key}.")
    kind = _choice(raw.get("kind", "text"), ("text", "ticket", "dossier", "date", "choice"),
                   path, f"{key}.kind")
    required = raw.get("required", False)
    max_length = raw.get("max_length", DEFAULT_MAX_LENGTH)
    if not isinstance(required, bool):
        raise _bad(path, f"{key}.required", "expected true or false")
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1:
        raise _bad(path, f"{key}.max_length", "expected a positive whole number")
    choices = {k: _str(v, path, f"{key}.choices.{k}")
               for k, v in _table(raw.get("choices", {}), path, f"{key}.choices").items()}
    if (kind == "choice") != bool(choices):
        raise _bad(path, f"{key}.choices", "kind = \"choice\" and choices go together")
    return Field(name, _str(raw.get("label", name), path, f"{key}.label"), kind, required,
                 max_length, _str(raw.get("default", ""), path, f"{key}.default"), choices)


def _block(raw: Any, path: Path, key: str) -> Block:
    raw = _table(raw, path, key)
    kinds = [k for k in ("text", "rule", "feed", "qr") if k in raw]
    if len(kinds) != 1:
        raise _bad(path, key, "a block has exactly one of text, rule, feed or qr")
    if kinds == ["text"]:
        _keys(raw, {"text", "label", "bold", "size", "align"}, path, f"{key}.")
        bold = raw.get("bold", False)
        if not isinstance(bold, bool):
            raise _bad(path, f"{key}.bold", "expected true or false")
        return Text(_str(raw["text"], path, f"{key}.text"),
                    _str(raw.get("label", ""), path, f"{key}.label"), bold,
                    _choice(raw.get("size", "normal"), ("small", "normal", "large", "huge"), path,
                            f"{key}.size"),
                    _choice(raw.get("align", "left"), ("left", "center", "right"), path,
                            f"{key}.align"))
    if kinds == ["rule"]:
        _keys(raw, {"rule"}, path, f"{key}.")
        if raw["rule"] is not True:
            raise _bad(path, f"{key}.rule", "write rule = true")
        return Rule()
    if kinds == ["feed"]:
        _keys(raw, {"feed"}, path, f"{key}.")
        if not isinstance(raw["feed"], int) or not 1 <= raw["feed"] <= 10:
            raise _bad(path, f"{key}.feed", "expected a number of lines, 1-10")
        return Feed(raw["feed"])
    _keys(raw, {"qr"}, path, f"{key}.")
    codes = raw["qr"] if isinstance(raw["qr"], list) else [raw["qr"]]
    return QrRow(tuple(_qr(c, path, f"{key}.qr[{i}]") for i, c in enumerate(codes)))


def _qr(raw: Any, path: Path, key: str) -> QrCode:
    raw = _table(raw, path, key)
    _keys(raw, {"data", "caption"}, path, f"{key}.")
    if "data" not in raw:
        raise _bad(path, f"{key}.data", "required (e.g. \"{lookup_url}\")")
    return QrCode(_str(raw["data"], path, f"{key}.data"),
                  _str(raw.get("caption", ""), path, f"{key}.caption"))


def _texts(block: Block) -> list[str]:
    if isinstance(block, Text):
        return [block.text, block.label]
    if isinstance(block, QrRow):
        return [s for c in block.codes for s in (c.data, c.caption)]
    return []


def placeholders(text: str) -> list[str]:
    """The names `{name}` placeholders in `text` refer to (ValueError if it is malformed)."""
    return [n for _, n, spec, conv in string.Formatter().parse(text) if n is not None]


def _check_placeholders(tpl: Template) -> None:
    known = set(tpl.fields) | set(CONTEXT)
    for i, block in enumerate(tpl.blocks):
        for text in _texts(block):
            try:
                names = placeholders(text)
            except ValueError as e:
                raise _bad(tpl.path, f"block[{i}]",
                           f"{text!r}: {e} (write {{{{ for a brace)") from None
            for n in names:
                if n not in known:
                    raise _bad(tpl.path, f"block[{i}]",
                               f"{{{n}}} is neither a field nor one of {', '.join(CONTEXT)}")


# ------------------------------------------------------------------ filling


def fill(tpl: Template, given: Mapping[str, str], now: dt.datetime) -> dict[str, str]:
    """Check the values a volunteer gave and return every field's printed text ("" if empty).

    Unknown fields, missing required ones, over-long values, control characters and malformed
    tickets, dossier codes, dates or choices are refused, naming the field.
    """
    for name in given:
        if name not in tpl.fields:
            raise TemplateError(
                f"template {tpl.name!r} has no field {name!r} "
                f"(fields: {', '.join(tpl.fields) or 'none'})",
                vi=f"Mẫu phiếu {tpl.title!r} không có mục {name!r}.")
    missing = [f for f in tpl.fields.values()
               if f.required and not (" ".join(given.get(f.name, "").split()) or f.default)]
    if missing:
        raise MissingFields(tpl, missing)
    return {name: _value(tpl, f, given.get(name, ""), now) for name, f in tpl.fields.items()}


class MissingFields(TemplateError):
    """Required fields left empty: all of them named at once (`fields` for forms to mark)."""

    def __init__(self, tpl: Template, missing: list[Field]) -> None:
        names = ", ".join(f"{f.name!r} ({f.label})" for f in missing)
        super().__init__(
            f"template {tpl.name!r}: required field {names} is missing" if len(missing) == 1
            else f"template {tpl.name!r}: required fields {names} are missing",
            vi="Thiếu thông tin bắt buộc: " + ", ".join(f.label or f.name for f in missing) + ".")
        self.fields = [f.name for f in missing]
        self.labels = [f.label or f.name for f in missing]


def _value(tpl: Template, f: Field, raw: str, now: dt.datetime) -> str:
    value = unicodedata.normalize("NFC", " ".join(raw.split()))
    if not value:
        value = f.default
    if not value:
        if f.required:
            raise TemplateError(
                f"template {tpl.name!r}: required field {f.name!r} ({f.label}) is missing",
                vi=f"Thiếu thông tin bắt buộc: {f.label}.")
        return ""
    if any(unicodedata.category(c) == "Cc" for c in raw.replace("\n", " ").replace("\t", " ")):
        raise _refused(tpl, f, "contains control characters", "có ký tự không in được")
    if len(value) > f.max_length:
        raise _refused(tpl, f, f"is {len(value)} characters long, at most {f.max_length}",
                       f"dài {len(value)} ký tự, tối đa {f.max_length}")
    return _typed(tpl, f, value, now)


def _typed(tpl: Template, f: Field, value: str, now: dt.datetime) -> str:
    if f.kind == "ticket":
        if not TICKET_RE.fullmatch(value.upper()):
            raise _refused(tpl, f, f"{value!r} is not a ticket like PL01-261122-007",
                           f"{value!r} không phải số phiếu dạng PL01-261122-007")
        return value.upper()
    if f.kind == "dossier":
        try:
            return check_dossier(value)
        except JobError as e:
            raise TemplateError(f"template {tpl.name!r}: field {f.name!r}: {e.message}",
                                vi=e.vi) from None
    if f.kind == "date":
        return _date(tpl, f, value, now)
    if f.kind == "choice":
        if value in f.choices:
            return f.choices[value]
        if value in f.choices.values():
            return value
        raise _refused(tpl, f, f"{value!r} is not one of {', '.join(f.choices)}",
                       f"{value!r} không nằm trong các lựa chọn {', '.join(f.choices)}")
    return value


def _date(tpl: Template, f: Field, value: str, now: dt.datetime) -> str:
    if value == "now":
        return f"{now:%d/%m/%Y %H:%M}"
    if value == "today":
        return f"{now:%d/%m/%Y}"
    for fmt in DATE_INPUTS:
        try:
            parsed = dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return f"{parsed:%d/%m/%Y %H:%M}" if "%H" in fmt else f"{parsed:%d/%m/%Y}"
    raise _refused(tpl, f, f"{value!r} is not a date like 25/11/2026 or 25/11/2026 14:00",
                   f"{value!r} không phải ngày dạng 25/11/2026 hoặc 25/11/2026 14:00")


def _refused(tpl: Template, f: Field, en: str, vi: str) -> TemplateError:
    return TemplateError(f"template {tpl.name!r}: field {f.name!r} {en}", vi=f"{f.label}: {vi}.")


def substitute(text: str, values: Mapping[str, str]) -> str | None:
    """`text` with its placeholders filled, or None when one of them is empty (skip it)."""
    names = placeholders(text)
    if any(not values.get(n) for n in names):
        return None
    return unicodedata.normalize("NFC", text.format_map(dict(values)))


def resolve(tpl: Template, values: Mapping[str, str]) -> list[Block]:
    """The template's blocks with placeholders filled; those using an empty value left out."""
    out: list[Block] = []
    for block in tpl.blocks:
        if isinstance(block, Text):
            text = substitute(block.text, values)
            label = substitute(block.label, values) if block.label else ""
            if text is not None and label is not None:
                out.append(Text(text, label, block.bold, block.size, block.align))
        elif isinstance(block, QrRow):
            codes = [QrCode(d, substitute(c.caption, values) or "") for c in block.codes
                     if (d := substitute(c.data, values))]
            if codes:
                out.append(QrRow(tuple(codes)))
        else:
            out.append(block)
    return out
