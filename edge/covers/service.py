"""Which cover sheets to print, and printing them on the multifunction printer.

Written once for `edge cover` and the web UI. The document types come from the request or from a
procedure of the catalogue (`[[procedures]]`); a sheet names its dossier and place ("2/4") when a
dossier is given, else it is reusable: it means "the next document of the same dossier".
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from edge import config
from edge.covers import sheet
from edge.errors import ConfigError, JobError
from edge.pipeline import dossiers
from edge.pipeline.actions import MAX_DOC_LEN
from edge.pipeline.cover import CoverMark
from edge.pipeline.queue import Queue
from edge.procedures import Procedure


def procedure(cfg: config.Config, name: str) -> Procedure:
    for p in cfg.procedures:
        if p.name.casefold() == name.strip().casefold():
            return p
    names = ", ".join(p.name for p in cfg.procedures)
    raise JobError(f"no procedure {name!r} in the catalogue (procedures: {names})",
                   vi="Không có thủ tục này trong danh mục")


def marks(queue: Queue, docs: list[str], dossier: str | None) -> list[CoverMark]:
    """One mark per document type, numbered within dossier `dossier` (a ticket or code) if
    given, else reusable."""
    docs = [d.strip() for d in docs if d.strip()]
    if not docs or any(len(d) > MAX_DOC_LEN for d in docs):
        raise JobError(f"give 1 or more document types (--doc), each 1-{MAX_DOC_LEN} characters, "
                       "or a procedure (--procedure)",
                       vi="Hãy chọn thủ tục hoặc nhập ít nhất một loại giấy tờ")
    if not dossier:
        return [CoverMark(d) for d in docs]
    ticket = dossiers.find(queue, dossier).ticket
    return [CoverMark(d, ticket, i, len(docs)) for i, d in enumerate(docs, 1)]


def send(cfg: config.Config, pdf: bytes, printer: str | None, title: str) -> tuple[str, int]:
    """Print `pdf` on the [[printer]] named (the first if None): (printer name, its job id)."""
    from edge.drivers import registry

    chosen = [p for p in cfg.printer if printer in (None, p.name)]
    if not chosen:
        names = ", ".join(p.name for p in cfg.printer) or "none configured"
        raise ConfigError(f"no [[printer]] {printer or ''} in the config (printers: {names})",
                          vi="Chưa cấu hình máy in cho tờ phân cách")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "covers.pdf"
        path.write_bytes(pdf)
        with registry.make("printer", chosen[0]) as device:
            return chosen[0].name, device.print_pdf(path, title)  # type: ignore[attr-defined]


def render(queue: Queue, docs: list[str], dossier: str | None) -> bytes:
    return sheet.pdf(marks(queue, docs, dossier))
