"""The queue-number slip: the ESC/POS bytes decode back to the preview dot for dot, tesseract
reads the number, the area and the priority at the receipt printer's resolution (203 dpi), on
80 and 58 mm paper; a file receipt printer receives exactly those bytes."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from edge import config
from edge.field import db, queue, ticket, visits
from edge.receipts import stream

from . import receipt_decoder as decoder
from .test_receipt import ocr, same_image

NOW = dt.datetime(2026, 12, 3, 8, 5).timestamp()


def cfg_for(root, **printer: object) -> config.Config:
    return config.Config(kit=config.Kit("PL01", "Phượng Dực"), storage=config.Storage(root),
                         receipt_printer=[config.ReceiptPrinter(**printer)],  # type: ignore
                         receipts=config.Receipts(header="UBND xã Phượng Dực"))


def number_42(root, priority: str | None) -> queue.Entry:
    visits.start(root, "Thôn Đông", now=NOW)
    conn = db.connect(root)
    conn.execute("INSERT INTO queue_days VALUES ('2026-12-03', 41)")
    conn.close()
    return queue.issue(root, "digitise", priority, now=NOW)


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_queue_slip_decodes_to_the_preview_and_reads_back(tmp_path, paper_mm):
    cfg = cfg_for(tmp_path, paper_mm=paper_mm)
    entry = number_42(tmp_path, "elderly")
    printer, slip = ticket.build(cfg, entry)
    data = stream.encode(slip, printer)
    assert slip.exact and same_image(decoder.image(data), slip.preview)
    text = ocr(slip.preview, tmp_path / "slip.png")
    assert re.search(r"(^| )42( |$)", text), text
    for expected in ("SỐ THỨ TỰ", "Người cao tuổi", "Số hoá hồ sơ", "Thôn Đông", "08:05"):
        assert expected in text, f"{expected!r} not read back from: {text}"


def test_no_priority_line_without_a_priority(tmp_path):
    entry = number_42(tmp_path, None)
    _, slip = ticket.build(cfg_for(tmp_path), entry)
    text = ocr(slip.preview, tmp_path / "slip.png")
    assert "42" in text.split() and "ƯU TIÊN" not in text


def test_file_printer_receives_the_slip_and_it_is_no_reception_slip(tmp_path):
    out = tmp_path / "printer.bin"
    cfg = cfg_for(tmp_path, name="slip", transport="file", path=out)
    entry = number_42(tmp_path, "worker")
    outcome = ticket.print_number(cfg, entry)
    assert outcome.state == "printed"
    _, slip = ticket.build(cfg, entry)
    assert same_image(decoder.image(out.read_bytes()), slip.preview)
    assert visits.counts(tmp_path, entry.visit) == {}  # a number is not a reception slip
