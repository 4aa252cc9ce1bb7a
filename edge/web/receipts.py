"""Slips from the volunteers' form: the same compose/encode/deliver path as `edge receipt`."""

from __future__ import annotations

from typing import Any

from edge import config
from edge.field.queue import TEMPLATE as QUEUE_TEMPLATE
from edge.pipeline import dossiers
from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.receipts import command, compose, stream, template
from edge.receipts.slip import Slip
from edge.web.errors import bad
from edge.web.i18n import WORDS
from edge.web.labels import label

MAX_TICKETS = 50
DEFAULT_TEMPLATE = "reception"  # phiếu tiếp nhận: what most citizens get


def templates(cfg: config.Config) -> list[dict[str, object]]:
    out = []  # the reception slip first: the form opens on it
    for name in sorted(template.available(compose.templates_folder(cfg)),
                       key=lambda n: (n != DEFAULT_TEMPLATE, n)):
        if name == QUEUE_TEMPLATE:  # issued with a number on the reception page, not by hand
            continue
        tpl = template.load(name, compose.templates_folder(cfg))
        out.append({"name": name, "title": tpl.title, "fields": [
            {"name": f.name, "label": f.label or f.name, "kind": f.kind, "required": f.required,
             "max_length": f.max_length, "default": f.default, "choices": f.choices}
            for f in tpl.fields.values()]})
    return out


def tickets(queue: Queue, now: float | None = None) -> list[dict[str, str]]:
    """Today's dossiers, newest first, for the slip form's ticket field: the volunteer picks the
    ticket instead of copying it by hand, and its dossier code and documents come with it."""
    out = []
    for d in dossiers.listing(queue, today=True, now=now):
        docs = [j.doc for j in d.jobs if j.state != State.FAILED]
        if docs:
            out.append({"ticket": d.ticket, "doc": ", ".join(docs), "dossier": d.code or ""})
    return out[:MAX_TICKETS]


def values(data: dict[str, Any]) -> tuple[str, str | None, dict[str, str]]:
    name = data.get("template")
    fields = data.get("fields", {})
    if not isinstance(name, str) or not name or len(name) > 64:
        raise bad("template is required", "Hãy chọn mẫu phiếu")
    if not isinstance(fields, dict) or len(fields) > 50:
        raise bad("fields: expected an object", "Dữ liệu phiếu không hợp lệ")
    given: dict[str, str] = {}
    for k, v in fields.items():  # lengths: each field's max_length in the template
        if not isinstance(v, str) or len(k) > 64:
            raise bad(f"field {k[:40]!r}: expected a string",
                      "Một trường của phiếu không hợp lệ")
        if v.strip():
            given[k] = v
    printer = data.get("printer")
    if printer is not None and not isinstance(printer, str):
        raise bad("printer: expected a name", "Máy in phiếu không hợp lệ")
    return name, printer or None, given


def build(cfg: config.Config, data: dict[str, Any], preview: bool = True) -> Slip:
    name, printer_name, given = values(data)
    return _compose(cfg, command.choose(cfg, printer_name, preview=preview), name, given)


def _compose(cfg: config.Config, printer: config.ReceiptPrinter, name: str,
             given: dict[str, str]) -> Slip:
    """The slip; empty required fields refused all at once, named in words, for the form to
    mark each (`fields`)."""
    try:
        return compose.build(cfg, printer, name, given)
    except template.MissingFields as e:
        said = ", ".join(e.labels)
        vi, en = WORDS["required"]
        err = bad(en.format(fields=said), vi.format(fields=said))
        err.fields = e.fields  # type: ignore[attr-defined]
        raise err from None


def print_slip(cfg: config.Config, data: dict[str, Any]) -> dict[str, object]:
    """Spool and send the slip: printed, queued (the service retries) or failed, said in words
    naming the printer as people know it (its label), in both languages."""
    name, printer_name, given = values(data)
    printer = command.choose(cfg, printer_name, preview=False)
    slip = _compose(cfg, printer, name, given)
    outcome = command.deliver(cfg, printer, slip, stream.encode(slip, printer))
    state = outcome.state if outcome.state in ("printed", "failed") else "queued"
    key = {"printed": "printed_on", "failed": "print_failed"}.get(state, "print_waiting")
    said = {lang: text.format(
        ticket=slip.ticket or "", printer=label(cfg, "receipt", printer.name, lang),
        why=outcome.vi if lang == "vi" else outcome.message).replace("  ", " ")
        for lang, text in zip(("vi", "en"), WORDS[key], strict=True)}
    return {"state": state, "printer": label(cfg, "receipt", printer.name), "ticket": slip.ticket,
            "message": said["en"], "message_vi": said["vi"]}
