"""Multifunction printer drivers, against a real IPP Everywhere printer and on literal values.

The peer is CUPS's own `ippeveprinter` (cups-ipp-utils), a complete IPP Everywhere printer whose
web forms change what it reports: `GET /supplies?supply0=25&supply1=5` (supply0 is the waste
toner box, supply1 the black toner; supplies left out of the query vanish) and
`GET /media?size1=iso_a4_210x297mm&type1=stationery&level1=0` (main tray empty: media-empty).
Without a print command (`-c`) it "prints" a job for about 5 seconds and completes it.

How it must be started, as found on CUPS 2.4.2 (Debian 12), contrary to the usual advice that it
needs dbus-daemon --system plus avahi-daemon:
- with no D-Bus bus at all it exits with "Error: Unable to initialize DNS-SD." even with `-r off`;
- with a bus but no avahi-daemon and DNS-SD on, it aborts (assertion in
  avahi_entry_group_add_service_strlst);
- with `-r off` (no DNS-SD advertisement) and any reachable bus, Avahi is not needed: its client
  waits in "connecting" state ("Ignored Avahi state 101.") and the printer serves IPP normally.
So the fixtures start a private bus, which needs no root and touches nothing under /run:
    dbus-daemon --session --address=unix:path=$TMP/bus --nofork --nopidfile
    DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TMP/bus ippeveprinter -r off -n localhost -p $PORT \
        -d $TMP/spool -f application/pdf,image/pwg-raster,image/jpeg -M Brother -m MFC-L2710DW \
        edge-test
(`-n localhost` makes it listen on loopback only; the spool directory must exist or every job
is aborted.) dbus-daemon --system + `avahi-daemon --no-drop-root --no-chroot` also works, as
root, but is not needed.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import img2pdf
import pytest
from PIL import Image, ImageDraw

from edge.drivers import printer as mfp
from edge.drivers import registry as device
from edge.drivers.printer import ipp
from edge.drivers.printer import sim as simp
from edge.drivers.printer.ipp import IppPrinter
from edge.drivers.printer.settings import Printer
from edge.drivers.printer.sim import SimPrinter
from edge.errors import DeviceAbsent, DeviceError
from edge.health import Health, State

from .printer_peer import MAKE, MODEL, IppEvePrinter, PeerError, PrivateBus

PAPER_OUT_VI = "Máy in hết giấy. Hãy nạp thêm giấy vào khay."

# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def bus(tmp_path_factory) -> Iterator[PrivateBus]:
    b = PrivateBus(tmp_path_factory.mktemp("dbus"))
    try:
        b.start()
    except PeerError as e:
        pytest.fail(str(e))
    yield b
    b.stop()


@pytest.fixture
def peer(bus, tmp_path) -> Iterator[IppEvePrinter]:
    p = IppEvePrinter(tmp_path, bus)
    try:
        p.start()
    except PeerError as e:
        pytest.fail(str(e))
    yield p
    p.stop()


def driver(uri: str, **kw: object) -> IppPrinter:
    return IppPrinter(Printer(name="mfp", driver="ipp", uri=uri, **kw))  # type: ignore[arg-type]


def health(dev: IppPrinter | SimPrinter) -> Health:
    return Health.of(dev.kind, dev.name, dev.driver, dev.poll())


def codes(h: Health) -> list[str]:
    return [p.code for p in h.problems]


def make_pdf(path: Path) -> Path:
    """A real one-page A4 PDF (a JPEG page, as the scanner pipeline makes them)."""
    img = Image.new("RGB", (420, 594), "white")
    ImageDraw.Draw(img).text((40, 40), "Phieu tiep nhan ho so", fill="black")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, dpi=(50, 50))
    path.write_bytes(img2pdf.convert(buf.getvalue()))
    return path


def wait_job(dev: IppPrinter | SimPrinter, job_id: int, seconds: float = 60) -> list[str]:
    """States seen until the job finishes (or time runs out)."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = dev.job_state(job_id)
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in mfp.FINISHED_JOB_STATES:
            break
        time.sleep(0.3)
    return seen


# ------------------------------------------------------------------ the real peer


def test_registry_makes_the_ipp_driver():
    dev = device.make("printer", Printer(driver="ipp", uri="ipp://127.0.0.1:9/ipp/print"))
    assert isinstance(dev, IppPrinter) and dev.kind == "printer" and dev.driver == "ipp"
    assert isinstance(device.make("printer", Printer(driver="sim")), SimPrinter)


def test_idle_printer_is_ok_with_supply_levels(peer):
    h = health(driver(peer.uri))
    assert h.state == State.OK, h.problems
    assert h.value("printer.state") == "idle"
    assert h.value("printer.model") == f"{MAKE} {MODEL}"
    assert h.metrics["supply.black_toner"].value == 75
    assert h.metrics["supply.black_toner"].unit == "%"
    assert h.value("supply.waste_toner") == 25


def test_low_toner_is_one_warning_naming_the_level(peer):
    peer.set_supplies(waste_toner=25, black_toner=5)
    h = health(driver(peer.uri, toner_low_percent=15))
    assert h.state == State.WARNING
    assert codes(h) == ["toner-low"]  # the printer's toner-low-report and our level agree
    assert "5%" in h.problems[0].en and "5%" in h.problems[0].vi
    assert h.value("supply.black_toner") == 5


def test_toner_above_our_threshold_is_ok(peer):
    peer.set_supplies(waste_toner=25, black_toner=40)
    assert health(driver(peer.uri, toner_low_percent=15)).state == State.OK


def test_paper_out_is_a_fault_said_in_vietnamese_and_clears(peer):
    dev = driver(peer.uri)
    peer.set_paper(0)
    h = health(dev)
    assert h.state == State.FAULT
    assert "media-empty" in codes(h)
    problem = next(p for p in h.problems if p.code == "media-empty")
    assert problem.severity == State.FAULT and problem.vi == PAPER_OUT_VI
    peer.set_paper(250)
    assert health(dev).state == State.OK


def test_a_pdf_prints_and_its_job_completes(peer, tmp_path):
    dev = driver(peer.uri)
    job = dev.print_pdf(make_pdf(tmp_path / "phieu.pdf"), "Phiếu tiếp nhận 000.00.04.H40")
    assert isinstance(job, int) and job >= 1
    seen = wait_job(dev, job)
    assert seen[-1] == "completed", seen
    assert set(seen) <= {"pending", "processing", "completed"}, seen


def test_print_refuses_missing_and_non_pdf_files_before_sending(peer, tmp_path):
    dev = driver(peer.uri)
    with pytest.raises(DeviceError) as e:
        dev.print_pdf(tmp_path / "missing.pdf", "x")
    assert "does not exist" in e.value.message and "không tìm thấy" in e.value.vi
    text = tmp_path / "note.pdf"
    text.write_text("not a pdf")
    with pytest.raises(DeviceError) as e:
        dev.print_pdf(text, "x")
    assert "not a PDF" in e.value.message and "không phải tệp PDF" in e.value.vi
    assert dev.print_pdf(make_pdf(tmp_path / "ok.pdf"), "ok") == 1  # nothing was sent before


def test_unknown_job_is_an_error_not_an_absent_printer(peer):
    with pytest.raises(DeviceError) as e:
        driver(peer.uri).job_state(999)
    assert not isinstance(e.value, DeviceAbsent) and "job 999" in e.value.message


def test_wrong_path_on_a_live_host_says_so(peer):
    with pytest.raises(DeviceError) as e:
        driver(peer.uri.replace("/ipp/print", "/printers/nope")).poll()
    assert not isinstance(e.value, DeviceAbsent) and "no printer at" in e.value.message


def test_stopped_printer_is_absent(peer):
    dev = driver(peer.uri, timeout=3)
    assert health(dev).state == State.OK
    peer.stop()
    with pytest.raises(DeviceAbsent) as e:
        dev.poll()
    assert "printer not answering at " + peer.uri in e.value.message
    assert "power and network cable" in e.value.message and "Máy in không phản hồi" in e.value.vi
    with pytest.raises(DeviceAbsent):
        dev.job_state(1)


def test_silent_printer_times_out_as_absent():
    """A host that accepts the connection and never answers: bounded by cfg.timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        dev = driver(f"ipp://127.0.0.1:{server.getsockname()[1]}/ipp/print", timeout=1.0)
        start = time.monotonic()
        with pytest.raises(DeviceAbsent) as e:
            dev.poll()
        assert time.monotonic() - start < 30
        assert "no answer" in e.value.message
    finally:
        server.close()
        for s in held:
            s.close()


def test_missing_ipptool_is_explained(monkeypatch):
    monkeypatch.setattr(ipp, "IPPTOOL", "/nonexistent/ipptool")
    with pytest.raises(DeviceError) as e:
        driver("ipp://127.0.0.1:9/ipp/print").poll()
    assert "cups-ipp-utils" in e.value.hint


# ------------------------------------------------------------------ state reasons


@pytest.mark.parametrize(("keyword", "expected"), [
    ("toner-low-report", "toner-low"),
    ("media-jam-error", "media-jam"),
    ("media-empty-warning", "media-empty"),
    ("media-needed", "media-empty"),
    ("door-open-error", "cover-open"),
    ("cover-open", "cover-open"),
    ("marker-supply-low-warning", "toner-low"),
    ("marker-supply-empty-error", "toner-empty"),
    ("offline-report", "offline"),
    ("none", None),
    ("cups-waiting-for-job-completed", None),
    ("com.example.fuser-hot-warning", "com.example.fuser-hot"),
])
def test_reason_keywords_are_normalised(keyword, expected):
    assert mfp.normalise_reason(keyword) == expected


def test_door_open_and_cover_open_are_one_problem():
    problems = mfp.reason_problems(["door-open-error", "cover-open-report"])
    assert [(p.code, p.severity) for p in problems] == [("cover-open", State.FAULT)]


def test_known_reasons_have_severities_and_both_languages():
    severities = {p.code: p.severity for p in mfp.reason_problems(
        ["media-jam-error", "media-empty-report", "toner-low-report", "toner-empty-error",
         "input-tray-missing", "output-area-full", "paused", "media-low-report"])}
    assert severities == {"media-jam": State.FAULT, "media-empty": State.FAULT,
                          "toner-low": State.WARNING, "toner-empty": State.FAULT,
                          "input-tray-missing": State.FAULT, "output-area-full": State.FAULT,
                          "paused": State.FAULT, "media-low": State.WARNING}
    jam = mfp.reason_problem("media-jam-error")
    assert jam is not None and "kẹt giấy" in jam.vi and "jam" in jam.en


def test_unknown_reason_is_a_warning_with_its_name():
    p = mfp.reason_problem("cups-missing-filter-warning")
    assert p is not None and p.severity == State.WARNING
    assert p.code == "cups-missing-filter" and "cups-missing-filter-warning" in p.en


def test_printer_state_names():
    assert [mfp.state_name(s) for s in (3, 4, 5, None)] == ["idle", "processing", "stopped",
                                                          "unknown"]
    assert [mfp.job_state_name(s) for s in range(3, 10)] == [
        "pending", "held", "processing", "stopped", "canceled", "aborted", "completed"]


def test_stopped_with_no_reason_is_a_fault_but_not_twice():
    alone = mfp.reading_from_attributes({"printer-state": 5, "printer-state-reasons": "none"}, 15)
    assert [p.code for p in alone.problems] == ["printer-stopped"]
    assert alone.metrics["printer.state"].value == "stopped"
    jam = mfp.reading_from_attributes(
        {"printer-state": 5, "printer-state-reasons": ["media-jam-error"]}, 15)
    assert [p.code for p in jam.problems] == ["media-jam"]


# ------------------------------------------------------------------ supplies


def test_printer_supply_strings_and_bytes_parse_alike():
    text = "index=2;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;level=5;" \
           "colorantname=black;"
    assert mfp.parse_supply(text) == mfp.parse_supply(text.encode())
    assert mfp.parse_supply(text)["level"] == "5"


def test_printer_supply_gives_percent_metrics_per_colour():
    attrs = {"printer-state": 3, "printer-state-reasons": "none",
             "printer-supply": [
                 b"type=toner;maxcapacity=100;level=5;colorantname=black;",
                 b"type=toner;maxcapacity=200;level=100;colorantname=cyan;",
                 b"type=toner;maxcapacity=100;level=-3;colorantname=magenta;",
                 b"class=receptacleThatIsFilled;type=wasteToner;maxcapacity=100;level=95;"
                 b"colorantname=unknown;",
                 b"type=opc;maxcapacity=100;level=40;colorantname=black;"],
             "printer-supply-description": ["Black Toner", "Cyan Toner", "Magenta Toner",
                                            "Waste Toner Box", "Drum Unit"]}
    r = mfp.reading_from_attributes(attrs, 15)
    values = {k: (m.value, m.unit) for k, m in r.metrics.items() if k.startswith("supply.")}
    assert values == {"supply.black_toner": (5, "%"), "supply.cyan_toner": (50, "%"),
                      "supply.waste_toner": (95, "%"), "supply.black_drum": (40, "%")}
    assert [(p.code, p.severity) for p in r.problems] == [("toner-low", State.WARNING)]
    assert "Black Toner" in r.problems[0].en


def test_empty_toner_is_a_fault():
    r = mfp.reading_from_attributes(
        {"printer-state": 3, "printer-supply": "type=toner;maxcapacity=100;level=0;"
                                               "colorantname=black;"}, 15)
    assert [(p.code, p.severity) for p in r.problems] == [("toner-empty", State.FAULT)]


def test_cups_marker_attributes_are_the_fallback():
    attrs = {"printer-state": 4, "printer-state-reasons": ["marker-supply-low-warning"],
             "marker-levels": [80, 7, 60, -1],
             "marker-names": ["Black Cartridge", "TN-247C", "TN-247M", "TN-247Y"],
             "marker-colors": ["#000000", "#00FFFF", "#FF00FF", "#FFFF00"],
             "marker-types": ["toner", "toner", "toner", "toner"]}
    r = mfp.reading_from_attributes(attrs, 15)
    assert r.metrics["printer.state"].value == "processing"
    assert {k: m.value for k, m in r.metrics.items() if k.startswith("supply.")} == {
        "supply.black_toner": 80, "supply.cyan_toner": 7, "supply.magenta_toner": 60}
    assert [p.code for p in r.problems] == ["toner-low"]
    assert "TN-247C" in r.problems[0].en and "7%" in r.problems[0].vi


def test_a_single_marker_is_not_a_list_in_ipptool_output():
    r = mfp.reading_from_attributes({"printer-state": 3, "marker-levels": 40,
                                     "marker-names": "Black Toner", "marker-types": "toner"}, 15)
    assert r.metrics["supply.black_toner"].value == 40 and r.problems == []


def test_printer_supply_wins_over_markers():
    attrs = {"printer-state": 3, "printer-supply": [b"type=toner;maxcapacity=100;level=50;"
                                                    b"colorantname=black;"],
             "marker-levels": [3], "marker-names": ["Black"], "marker-types": ["toner"]}
    assert mfp.reading_from_attributes(attrs, 15).metrics["supply.black_toner"].value == 50


def test_a_full_waste_box_is_not_low_toner():
    supplies = mfp.supplies_from_printer_supply(
        [b"class=receptacleThatIsFilled;type=wasteToner;maxcapacity=100;level=2;"])
    assert mfp.supply_problems(supplies, 15) == []


def test_pdf_check_and_job_title(tmp_path):
    with pytest.raises(DeviceError):
        mfp.check_pdf(tmp_path)  # a directory
    assert mfp.job_title("Hồ sơ\n\tsố 1") == "Hồ sơsố 1"
    long = mfp.job_title("đ" * 300)
    assert len(long.encode()) <= 255 and set(long) == {"đ"}
    assert mfp.job_title("\x00") == "edge"


# ------------------------------------------------------------------ the simulated twin


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def twin() -> tuple[SimPrinter, Clock]:
    clock = Clock()
    return SimPrinter(Printer(name="mfp", driver="sim"), clock=clock), clock


def test_sim_starts_healthy_and_toner_runs_down(twin):
    dev, clock = twin
    h = health(dev)
    assert h.state == State.OK and h.value("supply.black_toner") == 80
    assert h.value("printer.state") == "idle"
    clock.t += 70 * 60 + 5  # 70 minutes later: 10%
    h = health(dev)
    assert h.value("supply.black_toner") == 10
    assert codes(h) == ["toner-low"] and h.state == State.WARNING


def test_sim_fits_a_new_cartridge():
    levels = [simp.toner_percent(m * 60.0) for m in range(0, 200)]
    assert min(levels) >= 3 and max(levels) == 100
    assert levels[0] == 80 and levels[76] == 4 and levels[77] == 100 and levels[78] == 99


def test_sim_runs_out_of_paper_now_and_then(twin):
    dev, clock = twin
    clock.t += simp.PAPER_OUT[0] + 1
    h = health(dev)
    assert h.state == State.FAULT
    assert next(p for p in h.problems if p.code == "media-empty").vi == PAPER_OUT_VI
    clock.t += simp.PAPER_OUT[1] - simp.PAPER_OUT[0]
    assert "media-empty" not in codes(health(dev))


def test_sim_prints_and_jobs_complete(twin, tmp_path):
    dev, clock = twin
    job = dev.print_pdf(make_pdf(tmp_path / "a.pdf"), "a")
    assert dev.job_state(job) == "pending"
    clock.t += 1.5
    assert dev.job_state(job) == "processing"
    assert health(dev).value("printer.state") == "processing"
    clock.t += 5
    assert dev.job_state(job) == "completed"
    assert health(dev).value("printer.state") == "idle"
    with pytest.raises(DeviceError):
        dev.job_state(job + 1)
    with pytest.raises(DeviceError):
        dev.print_pdf(tmp_path / "missing.pdf", "b")


def test_sim_job_waits_for_paper(twin, tmp_path):
    dev, clock = twin
    clock.t += simp.PAPER_OUT[0] - 2  # submitted just before the tray runs empty
    job = dev.print_pdf(make_pdf(tmp_path / "a.pdf"), "a")
    clock.t += 10
    assert dev.job_state(job) == "processing"
    clock.t += simp.PAPER_OUT[1] - simp.PAPER_OUT[0]
    assert dev.job_state(job) == "completed"


def test_edge_print_follows_the_job_to_completion(peer, kit, tmp_path):
    kit.configure([])
    with open(kit.config, "a") as f:
        f.write(f'\n[[printer]]\nname = "mfp"\ndriver = "ipp"\nuri = "{peer.uri}"\n')
    r = kit.edge("print", str(make_pdf(tmp_path / "slip.pdf")), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].endswith("completed")
    (tmp_path / "notes.txt").write_text("not a pdf")
    r = kit.edge("print", str(tmp_path / "notes.txt"))
    assert r.returncode == 1 and "PDF" in r.stderr
    r = kit.edge("print", "--printer", "nope", str(tmp_path / "slip.pdf"))
    assert r.returncode == 2 and "printers: mfp" in r.stderr
