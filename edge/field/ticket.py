"""The queue-number slip: the built-in `queue` receipt template filled from a queue entry, made
and printed through the same compose/encode/deliver path as every other slip, so its preview is
exactly what the receipt printer prints."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from edge import config
from edge.field import queue, visits
from edge.receipts import command, compose, stream
from edge.receipts.queue import Outcome
from edge.receipts.slip import Slip


def values(root: Path, entry: queue.Entry) -> dict[str, str]:
    place = visits.get(root, entry.visit).place if entry.visit else ""
    out = {"number": str(entry.n), "area": entry.area, "place": place,
           "issued": f"{dt.datetime.fromtimestamp(entry.issued):%d/%m/%Y %H:%M}"}
    return {**out, **({"priority": entry.priority} if entry.priority else {})}


def build(cfg: config.Config, entry: queue.Entry, printer: str | None = None,
          preview: bool = False) -> tuple[config.ReceiptPrinter, Slip]:
    chosen = command.choose(cfg, printer, preview=preview)
    return chosen, compose.build(cfg, chosen, queue.TEMPLATE, values(cfg.storage.root, entry))


def print_number(cfg: config.Config, entry: queue.Entry, printer: str | None = None) -> Outcome:
    """Spool and send the slip of `entry` (printed, queued for the service, or failed)."""
    chosen, slip = build(cfg, entry, printer)
    return command.deliver(cfg, chosen, slip, stream.encode(slip, chosen))
