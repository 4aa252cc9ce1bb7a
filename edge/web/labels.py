"""What a person calls each device: its config `label`, else the i18n table's word for its kind,
numbered when the kit has several of that kind ("Máy quét 2"). Never the config id ("sim-adf",
"pi", "receipt"): ids stay in config, logs, the CLI, telemetry and the page's title attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edge import config
from edge.web.i18n import KIND_WORDS, WORDS, lang

SECTIONS = {"ups": "ups", "modem": "modem", "printer": "printer", "usb": "usb",
            "scanner": "scanner", "receipt": "receipt_printer"}


def _of_kind(cfg: config.Config, kind: str) -> Sequence[Any]:
    if kind == "system":
        return [cfg.system]
    if kind == "scanner":
        return [s for s in cfg.scanner if not s.imports]
    return getattr(cfg, SECTIONS[kind]) if kind in SECTIONS else []


def label(cfg: config.Config, kind: str, name: str, language: str | None = None) -> str:
    """The device `kind`/`name` as people see it, in `language` (default: the session's)."""
    def word(table: dict[str, tuple[str, str]], key: str) -> str:
        vi, en = table.get(key, KIND_WORDS["usb"])
        return vi if (language or lang()) == "vi" else en

    if kind == "scanner" and any(s.imports and s.name == name for s in cfg.scanner):
        return word(WORDS, "imported")
    devices = _of_kind(cfg, kind)
    for i, d in enumerate(devices):
        if kind == "system" or d.name == name:
            if d.label:
                return str(d.label)
            return word(KIND_WORDS, kind) + (f" {i + 1}" if len(devices) > 1 else "")
    if kind == "usb" and any(s.name == name for s in cfg.scanner):  # a scanner's USB presence
        return label(cfg, "scanner", name, language)
    return word(KIND_WORDS, kind)
