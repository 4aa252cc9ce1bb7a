"""`edge receipt --template NAME --set key=value ... [--printer NAME] [--preview OUT.png]`.

With --preview the slip is rendered and its exact raster written as a PNG (what the web UI
shows); nothing is printed. Otherwise the slip is spooled, then sent: if the printer is offline,
out of paper or its cover is open, the command keeps trying for up to `CLI_WAIT` seconds, then
leaves the slip queued for the running service (exit 3), which retries it for the printer's
`retry_seconds` and then reports it failed.

Exit codes: 0 printed (or preview written), 1 failed, 2 usage or config (unknown template,
missing or invalid field), 3 queued, not printed yet. Errors go to stderr as "edge: ..."; with
--json, stdout carries one JSON object whatever happens.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass, field

from edge import config
from edge.drivers.receipt.device import ReceiptDevice
from edge.errors import ConfigError, EdgeError
from edge.receipts import compose, queue, stream
from edge.receipts.slip import Slip
from edge.receipts.template import TemplateError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_QUEUED = 0, 1, 2, 3
CLI_WAIT = 5.0  # seconds the command itself keeps trying an offline printer
RETRY_EVERY = 1.0


@dataclass
class Report:
    """What the command says: one line for people, one JSON object for programs."""

    code: int
    state: str
    message: str
    vi: str = ""
    details: dict[str, object] = field(default_factory=dict)

    def emit(self, as_json: bool) -> int:
        if as_json:
            print(json.dumps({"state": self.state, "message": self.message, "vi": self.vi,
                              **self.details}, ensure_ascii=False))
        if self.code == EXIT_OK:
            if not as_json:
                print(self.message)
        else:
            print(f"edge: {self.message}", file=sys.stderr)
        return self.code


def run(cfg: config.Config, args: argparse.Namespace) -> int:
    try:
        return _run(cfg, args).emit(args.json)
    except TemplateError as e:
        return Report(EXIT_USAGE, "error", str(e), e.vi).emit(args.json)
    except ConfigError as e:
        return Report(EXIT_USAGE, "error", f"config error: {e}", e.vi).emit(args.json)
    except EdgeError as e:
        return Report(EXIT_FAILED, "error", str(e), e.vi).emit(args.json)


def _run(cfg: config.Config, args: argparse.Namespace) -> Report:
    given = parse_sets(args.set)
    printer = choose(cfg, args.printer, preview=args.preview is not None)
    slip = compose.build(cfg, printer, args.template, given)
    data = stream.encode(slip, printer)
    details: dict[str, object] = {"template": slip.template, "ticket": slip.ticket,
                                  "printer": printer.name, "bytes": len(data),
                                  "width": slip.preview.width, "height": slip.preview.height,
                                  "exact": slip.exact}
    if args.preview is not None:
        try:
            slip.save_preview(args.preview)
        except OSError as e:
            return Report(EXIT_FAILED, "error", f"cannot write {args.preview}: {e.strerror}",
                          details=details)
        return Report(EXIT_OK, "preview", f"preview written to {args.preview} "
                      f"({slip.preview.width}x{slip.preview.height} dots)",
                      details={**details, "preview": str(args.preview)})
    outcome = deliver(cfg, printer, slip, data)
    details.update(job=outcome.entry.id, attempts=outcome.entry.attempts)
    code = {"printed": EXIT_OK, "failed": EXIT_FAILED}.get(outcome.state, EXIT_QUEUED)
    state = "queued" if code == EXIT_QUEUED else outcome.state
    message = outcome.message or f"slip queued for printer {printer.name}"
    if state == "printed":
        message = f"printer {printer.name}: slip {slip.ticket or slip.template} printed"
    return Report(code, state, message, outcome.vi, details)


def parse_sets(items: list[str]) -> dict[str, str]:
    """`--set key=value` options as a dict; malformed or repeated keys are usage errors."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise TemplateError(f"--set {item!r}: expected KEY=VALUE, e.g. --set citizen=\"Nguyễn "
                                "Văn A\"")
        if key in out:
            raise TemplateError(f"--set: field {key!r} given twice")
        out[key] = value
    return out


def choose(cfg: config.Config, name: str | None, preview: bool) -> config.ReceiptPrinter:
    """The printer named, else the first; a preview needs none (80 mm raster by default)."""
    printers = cfg.receipt_printer
    if name is None and printers:
        return printers[0]
    if name is None and preview:
        return config.ReceiptPrinter()
    for p in printers:
        if p.name == name:
            return p
    names = ", ".join(p.name for p in printers) or "none configured"
    what = f"no receipt printer {name!r}" if name else "no [[receipt_printer]] is configured"
    raise ConfigError(f"{what} (configured: {names})",
                      vi="Chưa cấu hình máy in phiếu" if not name
                      else f"Không có máy in phiếu tên {name!r}")


def deliver(cfg: config.Config, printer: config.ReceiptPrinter, slip: Slip,
            data: bytes) -> queue.Outcome:
    """Spool the slip, then try to print it for a few seconds; the service does the rest."""
    spool = queue.Spool(cfg.storage.root)
    entry = spool.add(printer.name, slip.template, slip.ticket, data, time.time())
    log.info("receipt: template %s, ticket %s, printer %s, %d bytes", slip.template,
             slip.ticket or "-", printer.name, len(data))
    deadline = time.monotonic() + min(CLI_WAIT, printer.retry_seconds)
    with ReceiptDevice(printer) as device:
        assert isinstance(device, ReceiptDevice)
        while True:
            outcome = queue.attempt(spool, entry, device, printer.retry_seconds, time.time())
            if outcome.state == "printed":
                queue.count_printed(cfg, template=slip.template)
            if outcome.state in ("printed", "failed") or time.monotonic() >= deadline:
                return outcome
            entry = outcome.entry
            time.sleep(RETRY_EVERY)
