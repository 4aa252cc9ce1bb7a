"""Receipt slips: templates, Vietnamese rendering, QR codes, ESC/POS bytes, printers and the spool.

Real peers throughout: python-escpos's `Dummy` records the byte stream; `receipt_peers` runs an
ESC/POS printer on a local TCP port (switched off and on again for the queue tests) and another
behind a socat pseudo-terminal; `receipt_decoder` turns received bytes back into the printed
picture, which must equal the preview dot for dot; tesseract (`-l vie`) must read the Vietnamese
back and zbar must read the QR codes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pyzbar import pyzbar

from edge import config
from edge.drivers import registry
from edge.drivers.receipt.cups import lpstat_reading
from edge.drivers.receipt.device import ReceiptDevice
from edge.drivers.receipt.printers import SimEscpos
from edge.drivers.receipt.status import Status
from edge.errors import ConfigError, DeviceAbsent, DeviceError
from edge.health import Health, State
from edge.receipts import codepage, compose, layout, queue, raster, stream, template
from edge.receipts.slip import NativeQr, Raster
from edge.receipts.template import TemplateError

from . import receipt_decoder as decoder
from .conftest import ROOT
from .peers import wait_until
from .receipt_peers import NetworkPrinter, SerialPrinter

LOOKUP = "https://dichvucong.gov.vn/tra-cuu?ma={dossier}"
SURVEY = "https://khaosat.example.vn/?phieu={ticket}"
NOW = dt.datetime(2026, 11, 22, 9, 15)
VALUES = {"ticket": "PL01-261122-007", "citizen": "Nguyễn Thị Phượng",
          "address": "thôn Đông, xã Phượng Dực", "procedure": "Đăng ký khai sinh",
          "dossier": "000.00.04.H40-230414-0002", "received": "22/11/2026 09:15",
          "delivery": "post", "staff": "Trần Văn Ấn"}
LOOKUP_URL = "https://dichvucong.gov.vn/tra-cuu?ma=000.00.04.H40-230414-0002"
SURVEY_URL = "https://khaosat.example.vn/?phieu=PL01-261122-007"


def make_cfg(root: Path, templates: Path | None = None, **printer: object) -> config.Config:
    return config.Config(
        kit=config.Kit("PL01", "Phượng Dực"), storage=config.Storage(root),
        receipt_printer=[config.ReceiptPrinter(**printer)],  # type: ignore[arg-type]
        receipts=config.Receipts(header="UBND xã Phượng Dực", templates=templates,
                                 lookup_url=LOOKUP, survey_url=SURVEY))


def build(cfg: config.Config, name: str = "reception", values: dict | None = None):
    return compose.build(cfg, cfg.receipt_printer[0], name, VALUES if values is None else values,
                         NOW)


def same_image(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() \
        is None


def write_kit(kit, **printer: object) -> Path:
    """The kit's config with one [[receipt_printer]] and the [receipts] section."""
    from .conftest import toml_value

    kit.configure([])
    lines = ["", "[[receipt_printer]]"] + [f"{k} = {toml_value(v)}" for k, v in printer.items()]
    lines += ["", "[receipts]", 'header = "UBND xã Phượng Dực"',
              f"lookup_url = {toml_value(LOOKUP)}", f"survey_url = {toml_value(SURVEY)}"]
    kit.config.write_text(kit.config.read_text() + "\n".join(lines) + "\n", encoding="utf-8")
    return kit.config


def sets(values: dict[str, str]) -> list[str]:
    return [a for k, v in values.items() for a in ("--set", f"{k}={v}")]


@pytest.fixture
def printer():
    p = NetworkPrinter().start()
    yield p
    p.stop()


# ------------------------------------------------------------------ templates


def test_builtin_templates_are_there_and_valid():
    found = template.available()
    assert {"reception", "appointment", "note"} <= set(found)
    titles = {name: template.load(name).title for name in found}
    assert titles["reception"] == "Phiếu tiếp nhận hồ sơ"
    assert titles["appointment"] == "Phiếu hẹn trả kết quả"


def test_unknown_template_lists_the_available_ones():
    with pytest.raises(TemplateError) as e:
        template.load("receipt")
    assert "unknown receipt template 'receipt'" in str(e.value)
    assert "appointment, note, queue, reception" in str(e.value)


def test_every_empty_required_field_is_named_at_once():
    tpl = template.load("reception")
    with pytest.raises(template.MissingFields) as e:
        template.fill(tpl, {"address": "Thôn Đông"}, NOW)
    assert e.value.fields == ["ticket", "citizen", "procedure"]
    assert e.value.vi == "Thiếu thông tin bắt buộc: Số phiếu, Người nộp, Thủ tục."


@pytest.mark.parametrize("change, expected", [
    ({"citizen": ""}, "required field 'citizen' (Người nộp) is missing"),
    ({"citizen": "A" * 61}, "field 'citizen' is 61 characters long, at most 60"),
    ({"colour": "x"}, "has no field 'colour'"),
    ({"dossier": "000.00.04.H40-231399-0002"}, "field 'dossier': invalid dossier code"),
    ({"ticket": "PL01 007"}, "field 'ticket' 'PL01 007' is not a ticket"),
    ({"delivery": "pigeon"}, "field 'delivery' 'pigeon' is not one of counter, post, online"),
    ({"appointment": "thứ hai"}, "field 'appointment' 'thứ hai' is not a date"),
    ({"citizen": "Nguyễn\x07"}, "field 'citizen' contains control characters"),
])
def test_bad_values_are_refused_naming_the_field(change, expected):
    tpl = template.load("reception")
    with pytest.raises(TemplateError) as e:
        template.fill(tpl, {**VALUES, **change}, NOW)
    assert expected in str(e.value)
    assert e.value.vi and e.value.vi != str(e.value)


def test_values_are_normalised_and_typed():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị  Phượng ")
    given = {k: v for k, v in VALUES.items() if k != "address"}
    values = template.fill(template.load("appointment"),
                           {**given, "citizen": decomposed, "appointment": "2026-11-25 14:00",
                            "ticket": "pl01-261122-007", "received": ""}, NOW)
    assert values["citizen"] == "Nguyễn Thị Phượng"
    assert unicodedata.is_normalized("NFC", values["citizen"])
    assert values["appointment"] == "25/11/2026 14:00"
    assert values["received"] == "22/11/2026"  # default "today"
    assert values["ticket"] == "PL01-261122-007"
    assert values["delivery"] == "Qua bưu chính công ích"
    assert values["place"] == ""


def test_blocks_using_an_empty_field_are_left_out(tmp_path):
    cfg = make_cfg(tmp_path)
    tpl = template.load("reception")
    without = {k: v for k, v in VALUES.items() if k != "dossier"}
    values = template.fill(tpl, without, NOW)
    blocks = template.resolve(tpl, {**values, **compose.context(cfg, values, NOW)})
    labels = [b.label for b in blocks if isinstance(b, template.Text)]
    assert "Người nộp:" in labels and "Mã hồ sơ:" not in labels
    (row,) = [b for b in blocks if isinstance(b, template.QrRow)]
    # the lookup URL needs the dossier code: only the survey QR is left
    assert [c.data for c in row.codes] == [SURVEY_URL]


def test_configured_folder_overrides_and_adds_templates(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "note.toml").write_text(
        'title = "Ghi chú riêng"\n[fields.text]\nrequired = true\n[[block]]\ntext = "{text}"\n',
        encoding="utf-8")
    (folder / "thanks.toml").write_text('[[block]]\ntext = "Cảm ơn {commune}"\n',
                                        encoding="utf-8")
    assert template.load("note", folder).title == "Ghi chú riêng"
    assert set(template.available(folder)) >= {"reception", "note", "thanks"}
    slip = build(make_cfg(tmp_path, templates=folder), "thanks", {})
    assert slip.preview.width == 576


@pytest.mark.parametrize("text, expected", [
    ('[[block]]\ntext = "{nobody}"\n', "{nobody} is neither a field nor one of"),
    ('[[block]]\ntext = "x"\ncolour = "red"\n', "block[0].colour: unknown key"),
    ('[[block]]\ntext = "x"\nsize = "giant"\n', "block[0].size: 'giant' is not one of"),
    ('[[block]]\nrule = true\ntext = "x"\n', "exactly one of text, rule, feed or qr"),
    ('title = "x"\n', "at least one [[block]]"),
    ('[fields.header]\n[[block]]\nrule = true\n', "'header' is filled by the kit itself"),
    ('[fields.x]\nkind = "choice"\n[[block]]\nrule = true\n', 'kind = "choice" and choices go'),
    ('[[block]\n', "cannot be read"),
])
def test_malformed_template_is_refused_naming_the_key(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError) as e:
        template.parse("bad", path)
    assert expected in str(e.value)
    assert str(path) in str(e.value)


# ------------------------------------------------------------------ layout


def by_chars(text: str, style: int) -> float:
    return float(len(text) * style)


def test_wrap_breaks_between_words_and_cuts_only_long_words():
    items = layout.words("Đăng ký khai sinh cho trẻ em", 1) + layout.words("A" * 25, 1)
    lines = [" ".join(w.text for w in line) for line in layout.wrap(items, 10, by_chars)]
    assert lines == ["Đăng ký", "khai sinh", "cho trẻ em", "AAAAAAAAAA", "AAAAAAAAAA", "AAAAA"]


def test_wrap_never_breaks_a_code():
    items = layout.words("Mã hồ sơ: 000.00.04.H40-230414-0002 đã nhận", 1)
    lines = [" ".join(w.text for w in line) for line in layout.wrap(items, 12, by_chars)]
    assert lines == ["Mã hồ sơ:", "000.00.04.H40-230414-0002", "đã nhận"]


def test_a_code_wider_than_the_paper_is_printed_smaller_never_cut():
    fonts = raster.Fonts()
    code = "0123456789" * 4  # 40 digits: wider than 58 mm at the normal size
    rows = raster.text_rows(template.Text(code), fonts, 384)
    assert len(rows) == 1
    with pytest.raises(TemplateError, match="too wide for 58 mm paper"):
        raster.text_rows(template.Text("0123456789" * 10), fonts, 384)


# ------------------------------------------------------------------ raster, OCR and QR


@pytest.mark.parametrize("paper_mm, width", [(80, 576), (58, 384)])
def test_dummy_byte_stream_decodes_to_the_preview(tmp_path, paper_mm, width):
    cfg = make_cfg(tmp_path, paper_mm=paper_mm)
    slip = build(cfg)
    data = stream.encode(slip, cfg.receipt_printer[0])
    assert slip.exact and slip.preview.width == width
    cmds = decoder.commands(data)
    assert cmds[0].name == "init" and cmds[-1].name == "cut"
    assert all(c.data and len(c.data) // c.arg <= stream.BAND for c in cmds
               if c.name == "raster")
    assert same_image(decoder.image(data), slip.preview)


def ocr(img: Image.Image, path: Path) -> str:
    img.save(path)
    out = subprocess.run(["tesseract", str(path), "-", "-l", "vie"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    return unicodedata.normalize("NFC", " ".join(out.split()))


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_preview_reads_back_in_vietnamese(tmp_path, paper_mm):
    slip = build(make_cfg(tmp_path, paper_mm=paper_mm))
    text = ocr(slip.preview, tmp_path / "slip.png")
    for expected in ("Nguyễn Thị", "Phượng", "xã Phượng Dực", "Đăng ký khai sinh",
                     "PHIẾU TIẾP NHẬN", "000.00.04.H40-230414-0002", "PL01-261122-007"):
        assert expected in text, f"{expected!r} not read back from: {text}"


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_qr_codes_decode_to_the_configured_urls(tmp_path, paper_mm):
    slip = build(make_cfg(tmp_path, paper_mm=paper_mm))
    found = {c.data.decode() for c in pyzbar.decode(slip.preview.convert("L"))}
    assert found == {LOOKUP_URL, SURVEY_URL}


def test_native_qr_codes_are_sent_as_gs_k(tmp_path):
    cfg = make_cfg(tmp_path, qr="native")
    slip = build(cfg)
    data = stream.encode(slip, cfg.receipt_printer[0])
    assert decoder.qr_data(data) == [LOOKUP_URL, SURVEY_URL]
    assert [type(p) for p in slip.pieces] == [Raster, NativeQr, Raster, NativeQr, Raster]
    assert not slip.exact
    # the preview still shows both codes where the printer will print them
    assert {c.data.decode() for c in pyzbar.decode(slip.preview.convert("L"))} == {
        LOOKUP_URL, SURVEY_URL}


# ------------------------------------------------------------------ code pages


def test_codepage_mode_on_tm_t20ii_prints_vietnamese_without_question_marks(tmp_path):
    cfg = make_cfg(tmp_path, text_mode="codepage", profile="TM-T20II")
    slip = build(cfg)
    data = stream.encode(slip, cfg.receipt_printer[0])
    text = b"".join(c.data for c in decoder.commands(data) if c.name == "text")
    assert b"?" not in text
    lines = decoder.text_lines(data, "TM-T20II")
    for expected in ("UBND xã Phượng Dực", "PHIẾU TIẾP NHẬN HỒ SƠ", "Số phiếu: PL01-261122-007",
                     "Người nộp: Nguyễn Thị Phượng", "Địa chỉ: thôn Đông, xã Phượng Dực",
                     "Thủ tục: Đăng ký khai sinh", "Mã hồ sơ: 000.00.04.H40-230414-0002",
                     "Cán bộ tiếp nhận: Trần Văn Ấn"):
        assert expected in lines
    assert all(len(line) <= 48 for line in lines)


def test_tcvn3_bytes_are_the_standard_ones():
    encoder = codepage.Encoder.for_profile("TM-T20II")
    # TCVN 5712 (VN3): á B8, ư AD, đ AE, ệ D6; capitals from the second page
    assert encoder.encode("Việt")[0] == b"Vi\x1bt\x1e\xd6t"
    assert encoder.encode("đá ư")[0] == b"\x1bt\x1e\xae\xb8 \xad"
    data, page = encoder.encode("ĐƯỢC được")
    assert data.startswith(b"\x1bt\x1f") and b"\x1bt\x1e" in data and page == 30


def test_every_vietnamese_letter_encodes_and_decodes():
    vowels = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
    letters = [unicodedata.normalize("NFC", v + t) for v in vowels
               for t in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")] + ["đ", "Đ"]
    for profile in ("TM-T20II", "POS-5890"):  # TCVN-3, and CP1258 alone
        encoder = codepage.Encoder.for_profile(profile)
        data, _ = encoder.encode(" ".join(letters))
        stream_ = b"\x1b@" + data + b"\n"
        assert decoder.text_lines(stream_, profile) == [" ".join(letters)], profile


def test_cp1258_writes_missing_letters_as_base_plus_tone_mark():
    assert codepage.cp1258("ệ") == "ê\u0323".encode("cp1258")
    assert codepage.cp1258("á") == b"\xe1"  # precomposed where CP1258 has it


def test_codepage_mode_is_refused_without_a_vietnamese_code_page(tmp_path):
    cfg = make_cfg(tmp_path, text_mode="codepage", profile="simple")
    with pytest.raises(ConfigError) as e:
        build(cfg)
    assert ("this printer's profile has no Vietnamese code page: use text_mode = \"raster\""
            in str(e.value))


def test_profile_narrower_than_the_paper_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="prints 384 dots wide, less than 80 mm"):
        build(make_cfg(tmp_path, profile="POS-5890", paper_mm=80))


# ------------------------------------------------------------------ printers


def test_status_bytes_become_problems():
    assert Status.parse(0x12, 0x12, 0x12).problems() == []
    near = Status.parse(0x12, 0x12, 0x1E)
    assert near.paper == "near-end" and near.ready
    assert [p.code for p in near.problems()] == ["paper-near-end"]
    out = Status.parse(0x1A, 0x32, 0x7E)
    assert not out.ready and [p.code for p in out.problems()] == ["paper-out"]
    cover = Status.parse(0x1A, 0x16, 0x12)
    assert [p.code for p in cover.problems()] == ["cover-open"]
    cutter = Status.parse(0x1A, 0x52, 0x12, 0x1A)
    assert [p.code for p in cutter.problems()] == ["cutter-error"]
    with pytest.raises(DeviceError, match="not ESC/POS status"):
        Status.parse(0x41, 0x12, 0x12)


def network(p: NetworkPrinter, **extra: object) -> config.ReceiptPrinter:
    settings: dict = {"name": "slip", "transport": "network", "host": "127.0.0.1",
                      "port": p.port, "timeout": 2.0, **extra}
    return config.ReceiptPrinter(**settings)


@pytest.mark.parametrize("paper, cover, codes, state", [
    ("ok", False, [], State.OK),
    ("near-end", False, ["paper-near-end"], State.WARNING),
    ("out", False, ["paper-out"], State.FAULT),
    ("ok", True, ["cover-open"], State.FAULT),
])
def test_network_printer_status(printer, paper, cover, codes, state):
    printer.paper, printer.cover_open = paper, cover
    with ReceiptDevice(network(printer)) as dev:
        reading = dev.poll()
    health = Health.of("receipt", "slip", "network", reading)
    assert [p.code for p in health.problems] == codes
    assert health.state == state
    assert health.value("receipt.online") == (paper != "out" and not cover)
    assert health.value("receipt.paper") == paper
    assert printer.queries[:3] == [1, 2, 4]


def test_network_printer_gets_exactly_the_preview(tmp_path, printer):
    cfg = make_cfg(tmp_path)
    slip = build(cfg)
    with ReceiptDevice(network(printer)) as dev:
        dev.print(stream.encode(slip, cfg.receipt_printer[0]))
    (job,) = printer.wait_jobs(1)
    assert same_image(decoder.image(job), slip.preview)
    assert printer.queries == [1, 2, 4, 1]  # status before, confirmation after


def test_nothing_is_sent_to_a_printer_out_of_paper(printer):
    printer.paper = "out"
    with ReceiptDevice(network(printer)) as dev, pytest.raises(DeviceError) as e:
        dev.print(b"\x1b@hello\n")
    assert "out of paper" in str(e.value) and "hết giấy" in e.value.vi
    wait_until(lambda: printer.sessions == 1, 10, "the printer to see the connection closed")
    assert printer.jobs == [] and printer.queries == [1, 2, 4]


def test_switched_off_or_hung_network_printer_is_absent(printer):
    cfg = network(printer, timeout=0.5)
    printer.mute = True
    with ReceiptDevice(cfg) as dev, pytest.raises(DeviceAbsent, match="does not answer"):
        dev.poll()
    printer.stop()
    with ReceiptDevice(cfg) as dev, pytest.raises(DeviceAbsent) as e:
        dev.poll()
    assert "Kiểm tra máy in phiếu đã bật" in e.value.vi


def test_serial_printer_through_a_socat_pty(tmp_path):
    peer = SerialPrinter(tmp_path)
    try:
        cfg = make_cfg(tmp_path, name="slip", transport="serial", device=peer.device,
                       baudrate=115200, timeout=1.0, paper_mm=58)
        slip = build(cfg)
        with ReceiptDevice(cfg.receipt_printer[0]) as dev:
            assert dev.poll().metrics["receipt.paper"].value == "ok"
            peer.paper = "near-end"
            assert [p.code for p in dev.poll().problems] == ["paper-near-end"]
            dev.print(stream.encode(slip, cfg.receipt_printer[0]))
            (job,) = peer.wait_jobs(1)
            assert same_image(decoder.image(job), slip.preview)
            peer.mute = True
            with pytest.raises(DeviceAbsent, match="no reply to a status query"):
                dev.poll()
    finally:
        peer.close()


def test_file_transport_writes_the_byte_stream(tmp_path):
    cfg = make_cfg(tmp_path, name="slip", transport="file", path=tmp_path / "slip.bin")
    slip = build(cfg)
    data = stream.encode(slip, cfg.receipt_printer[0])
    with ReceiptDevice(cfg.receipt_printer[0]) as dev:
        assert dev.poll().metrics["receipt.online"].value is True
        dev.print(data)
    assert (tmp_path / "slip.bin").read_bytes() == data
    gone = config.ReceiptPrinter(transport="file", path=tmp_path / "no" / "slip.bin")
    with ReceiptDevice(gone) as dev, pytest.raises(DeviceAbsent):
        dev.poll()


def test_sim_printer_prints_and_runs_near_the_end_of_its_paper(tmp_path):
    clock = [0.0]
    sim = SimEscpos(clock=lambda: clock[0])
    sim.started = 0.0
    assert sim.answer(4) == b"\x12"
    clock[0] = 650.0
    assert Status.parse(sim.answer(1)[0], sim.answer(2)[0], sim.answer(4)[0]).paper == "near-end"
    cfg = config.ReceiptPrinter(transport="sim", path=tmp_path / "sim.bin")
    with ReceiptDevice(cfg) as dev:
        assert dev.poll().metrics["receipt.online"].value is True
        dev.print(b"\x1b@one\n")
        dev.print(b"\x1b@two\n")
    assert (tmp_path / "sim.bin").read_bytes() == b"\x1b@one\n\x1b@two\n"


def test_cups_transport_through_lp(tmp_path, monkeypatch):
    """python-escpos's LP runs `lpstat` and `lp -d QUEUE -o raw`; stand-in scripts play CUPS
    here (no cupsd in the test machine) and record what lp receives."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "lpstat").write_text(
        "#!/bin/sh\ncase \"$1\" in\n-e) echo receipts;;\n"
        "-v) echo 'device for receipts: socket://127.0.0.1:9100';;\n"
        "-d) echo 'system default destination: receipts';;\n"
        "-p) echo 'printer receipts is idle.  enabled since Sat 22 Nov 2026';;\nesac\n")
    (bin_dir / "lp").write_text(f"#!/bin/sh\ncat > {tmp_path}/lp.out\nexit ${{LP_EXIT:-0}}\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    cfg = config.ReceiptPrinter(name="slip", transport="cups", queue="receipts")
    with ReceiptDevice(cfg) as dev:
        assert dev.poll().metrics["receipt.online"].value is True
        dev.print(b"\x1b@slip\n")
        assert (tmp_path / "lp.out").read_bytes().startswith(b"\x1b@slip\n")
        monkeypatch.setenv("LP_EXIT", "1")
        with pytest.raises(DeviceError, match="refused the slip"):
            dev.print(b"\x1b@slip\n")


def test_lpstat_answers():
    cfg = config.ReceiptPrinter(transport="cups", queue="rcp")
    ok = lpstat_reading(cfg, 0, "printer rcp is idle.  enabled since Sat\n")
    assert ok.problems == []
    off = lpstat_reading(cfg, 0, "printer rcp disabled since Sat -\n\treason unknown\n")
    assert [p.code for p in off.problems] == ["offline"]
    with pytest.raises(DeviceAbsent):
        lpstat_reading(cfg, 1, 'lpstat: Invalid destination name in list "rcp".\n')


def test_transport_settings_are_checked():
    with pytest.raises(ConfigError, match="host is required for transport 'network'"):
        ReceiptDevice(config.ReceiptPrinter(transport="network"))
    assert isinstance(registry.make("receipt", config.ReceiptPrinter()), ReceiptDevice)


# ------------------------------------------------------------------ the spool


def spool_one(cfg: config.Config, now: float, values: dict | None = None) -> queue.Entry:
    slip = build(cfg, values=values)
    return queue.Spool(cfg.storage.root).add(cfg.receipt_printer[0].name, "reception",
                                             slip.ticket, stream.encode(
                                                 slip, cfg.receipt_printer[0]), now)


def test_offline_printer_keeps_the_slip_until_it_comes_back(tmp_path, printer):
    printer.stop()
    cfg = make_cfg(tmp_path, **network(printer).__dict__)
    t0 = 1_000_000.0
    entry = spool_one(cfg, t0)
    (first,) = queue.retry_pending(cfg, tmp_path, t0 + 5)
    assert first.state == "waiting" and "does not answer" in first.message
    assert printer.jobs == []
    printer.start()
    (second,) = queue.retry_pending(cfg, tmp_path, t0 + 10)
    assert second.state == "printed" and second.entry.attempts == 1
    (job,) = printer.wait_jobs(1)
    assert same_image(decoder.image(job), build(cfg).preview)
    assert queue.Spool(tmp_path).pending() == [] and queue.Spool(tmp_path).state(entry) == \
        "printed"


def test_slips_past_their_retry_time_are_failed_loudly_not_lost(tmp_path, printer):
    printer.stop()
    cfg = make_cfg(tmp_path, **{**network(printer).__dict__, "retry_seconds": 30.0})
    t0 = 1_000_000.0
    entry = spool_one(cfg, t0)
    data = queue.Spool(tmp_path).data(entry)
    year = 365 * 86400.0
    states = [queue.retry_pending(cfg, tmp_path, t)[0].state
              for t in (t0 + 10, t0 + 20, t0 + 20 + year, t0 + 30 + year)]
    # the clock jump (NTP sync after a power cut) is not counted against the slip
    assert states == ["waiting", "waiting", "waiting", "failed"]
    spool = queue.Spool(tmp_path)
    (failed,) = spool.failed()
    assert failed.attempts == 4 and failed.waited == 30.0 and "does not answer" in failed.error
    assert (spool.failed_dir / f"{entry.id}.bin").read_bytes() == data
    assert spool.pending() == []
    assert spool.discard(entry.id) and spool.failed() == []


def test_queued_slips_print_in_order_and_never_twice(tmp_path, printer):
    printer.stop()
    cfg = make_cfg(tmp_path, **network(printer).__dict__)
    t0 = 1_000_000.0
    a = spool_one(cfg, t0)
    b = spool_one(cfg, t0 + 1, {**VALUES, "ticket": "PL01-261122-008"})
    spool = queue.Spool(tmp_path)
    data = [spool.data(a), spool.data(b)]
    assert data[0] != data[1]
    assert [o.state for o in queue.retry_pending(cfg, tmp_path, t0 + 5)] == ["waiting"] * 2
    printer.start()
    with spool.claimed(a) as mine:  # as if `edge receipt` were printing slip a right now
        assert mine
        assert [o.state for o in queue.retry_pending(cfg, tmp_path, t0 + 6)] == ["busy"] * 2
    assert printer.jobs == []
    assert [o.state for o in queue.retry_pending(cfg, tmp_path, t0 + 7)] == ["printed"] * 2
    assert printer.wait_jobs(2) == data
    assert queue.retry_pending(cfg, tmp_path, t0 + 8) == []
    assert {spool.state(a), spool.state(b)} == {"printed"}


# ------------------------------------------------------------------ the command


def test_cli_preview_is_the_exact_raster(kit, tmp_path, printer):
    write_kit(kit, name="slip", transport="network", host="127.0.0.1", port=printer.port,
              timeout=2.0)
    out = tmp_path / "slip.png"
    r = kit.edge("receipt", "--template", "reception", *sets(VALUES), "--preview", str(out),
                 "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["state"] == "preview" and report["width"] == 576 and report["exact"]
    assert printer.jobs == [] and printer.queries == []  # a preview prints nothing
    r = kit.edge("receipt", "--template", "reception", *sets(VALUES))
    assert r.returncode == 0, r.stderr
    assert "printed" in r.stdout
    (job,) = printer.wait_jobs(1)
    assert same_image(decoder.image(job), Image.open(out))
    assert "Nguyễn" not in r.stderr and "Phượng" not in r.stderr  # no personal data in logs
    assert "PL01-261122-007" in r.stderr


def test_cli_queues_for_an_offline_printer(kit, printer):
    printer.stop()
    write_kit(kit, name="slip", transport="network", host="127.0.0.1", port=printer.port,
              timeout=1.0)
    r = kit.edge("receipt", "--template", "reception", *sets(VALUES), "--json")
    assert r.returncode == 3, r.stderr
    report = json.loads(r.stdout)
    assert report["state"] == "queued" and report["attempts"] >= 1
    assert "queued and retried" in r.stderr
    spool = queue.Spool(kit.root)
    (entry,) = spool.pending()
    for f in spool.dir.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert stat.S_IMODE(spool.dir.stat().st_mode) == 0o700
    assert "Nguyễn" not in (spool.dir / f"{entry.id}.json").read_text(encoding="utf-8")
    printer.start()
    (outcome,) = queue.retry_pending(kit.cfg(), kit.root, time.time())
    assert outcome.state == "printed"
    printer.wait_jobs(1)


@pytest.mark.parametrize("args, code, expected", [
    (["--template", "nope"], 2, "available: appointment, note, queue, reception"),
    (["--template", "reception", "--set", "ticket=PL01-261122-007"], 2,
     "required fields 'citizen' (Người nộp), 'procedure' (Thủ tục) are missing"),
    (["--template", "note", "--set", "text=x", "--set", "colour=red"], 2,
     "has no field 'colour'"),
    (["--template", "note", "--set", "text"], 2, "expected KEY=VALUE"),
    (["--template", "note", "--set", "text=x", "--printer", "other"], 2,
     "no receipt printer 'other'"),
])
def test_cli_usage_errors(kit, args, code, expected):
    write_kit(kit, name="slip", transport="sim")
    r = kit.edge("receipt", *args, "--json")
    assert r.returncode == code
    assert r.stderr.startswith("edge: ") and expected in r.stderr
    assert json.loads(r.stdout)["state"] == "error"


def test_cli_refuses_codepage_mode_without_vietnamese(kit):
    write_kit(kit, name="slip", transport="sim", text_mode="codepage", profile="simple")
    r = kit.edge("receipt", "--template", "note", "--set", "text=Xin chào")
    assert r.returncode == 2
    assert "no Vietnamese code page: use text_mode = \"raster\"" in r.stderr


@pytest.mark.parametrize("printer, template, expected", [
    ({"transport": "usb"}, "", "usb_id is required for transport 'usb'"),
    ({"transport": "sim", "profile": "nope"}, "", "unknown profile 'nope'"),
    ({"transport": "sim", "font": "/nonexistent.ttf"}, "", "/nonexistent.ttf cannot be read"),
    ({"transport": "sim"}, "[[blocks]]\ntext = 1\n", "bad.toml"),
])
def test_check_config_checks_receipt_printers_and_templates(kit, printer, template, expected):
    write_kit(kit, name="slip", **printer)
    if template:
        (kit.tmp / "slips").mkdir()
        (kit.tmp / "slips" / "bad.toml").write_text(template, encoding="utf-8")
        with kit.config.open("a", encoding="utf-8") as f:
            f.write('templates = "slips"\n')  # [receipts] is the last table
    r = kit.edge("check-config")
    assert r.returncode == 2 and expected in r.stderr, r.stderr


def test_check_config_counts_printers_and_templates(kit):
    write_kit(kit, name="slip", transport="sim")
    r = kit.edge("check-config")
    assert r.returncode == 0 and "1 receipt printer(s), 4 slip template(s)" in r.stdout


def test_demo_config_has_a_working_simulated_receipt_printer():
    cfg = config.load(ROOT / "config" / "demo.toml")
    (p,) = cfg.receipt_printer
    assert p.transport == "sim"
    with ReceiptDevice(p) as dev:
        assert dev.poll().metrics["receipt.online"].value is True
    example = config.load(ROOT / "config" / "edge.example.toml")
    assert example.receipt_printer and example.receipts.lookup_url


def test_tools_needed_by_these_tests_are_installed():
    assert shutil.which("tesseract") and shutil.which("socat")


def test_python_escpos_import_leaks_no_folder_and_leaves_logging_alone(tmp_path):
    code = ("import logging, edge.receipts.compose, edge.drivers.receipt\n"
            "logging.basicConfig(level='INFO')\n"
            "root = logging.getLogger()\n"
            "assert root.level == logging.INFO and len(root.handlers) == 1, root.handlers\n")
    env = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60,
                       env={**env, "TMPDIR": str(tmp_path)})
    (folder,) = tmp_path.iterdir()
    assert folder.name.startswith("edge-escpos-")
    assert [p.suffix for p in folder.iterdir()] == [".pickle"]
