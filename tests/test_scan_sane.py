"""Acceptance of the scan pipeline against the real SANE `test` and `pnm` backends."""

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from edge.drivers.scanner.sane import SaneScanner
from edge.pipeline import worker as worker_module
from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage

from .conftest import sane_adf, sane_failing


def scan(kit, *args):
    r = kit.edge("scan", "--scanner", "adf", "--json", *args)
    out = json.loads(r.stdout) if r.stdout.strip() else None
    return r, out


def test_ten_sheet_adf_batch_gives_checked_pdf(kit):
    r, job = scan(kit, "--doc", "Giấy khai sinh")
    assert r.returncode == 0, r.stderr
    assert {"job_id", "state", "pdf", "pages", "files", "bytes"} <= job.keys()
    assert job["state"] == "ready" and job["pages"] == 10
    pdf = Path(job["pdf"])
    assert pdf.name == f"{job['ticket']}_01_giay-khai-sinh.pdf"
    assert pdf.parent.parent == kit.root / "outbox"
    assert pdf.stat().st_size == job["bytes"]
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    subprocess.run(["qpdf", "--check", str(pdf)], check=True, capture_output=True)
    subprocess.run(["sha256sum", "-c", pdf.name + ".sha256"], cwd=pdf.parent, check=True,
                   capture_output=True)
    with pikepdf.open(pdf) as doc:
        assert len(doc.pages) == 10
        # 200 mm at 200 dpi is 1575 px: the page must measure 200 mm, not the 96 dpi default
        width_mm = float(doc.pages[0].mediabox[2]) / 72 * 25.4
        assert abs(width_mm - 200) < 1
        assert str(doc.docinfo["/Title"]) == "Giấy khai sinh"
        assert len(str(doc.docinfo["/EdgeContentSHA256"])) == 64
    spool = list((kit.root / "spool").rglob("*.pdf"))
    assert len(spool) == 10 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in spool)


def test_second_document_of_a_dossier_gets_next_index(kit):
    code = "000.00.04.H40-230414-0002"
    first = scan(kit, "--doc", "Tờ khai", "--dossier", code)[1]
    second = scan(kit, "--doc", "Căn cước công dân", "--dossier", code.lower())[1]
    assert Path(first["pdf"]).name == f"{code}_01_to-khai.pdf"
    assert Path(second["pdf"]).name == f"{code}_02_can-cuoc-cong-dan.pdf"


def test_bad_dossier_code_is_refused_with_the_pattern(kit):
    r, out = scan(kit, "--doc", "Tờ khai", "--dossier", "000.00.04-230414-2")
    assert r.returncode == 1 and out is None
    assert "expected NNN.NN.NN.XNN-YYMMDD-NNNN, e.g. 000.00.04.H40-230414-0002" in r.stderr
    assert kit.edge("jobs", "--json").stdout.strip() == "[]"


def test_missing_doc_type_is_refused(kit):
    r, _ = scan(kit)
    assert r.returncode == 1 and "--doc is required" in r.stderr


def status(name):
    return {"options": sane_failing(f"SANE_STATUS_{name}")}


@pytest.mark.parametrize("scanner, code, state, says", [
    (status("NO_DOCS"), 1, "failed",
     ["document feeder is empty", "Khay nạp giấy đang trống"]),
    (status("COVER_OPEN"), 3, "paused", ["cover is open", "Nắp máy quét đang mở"]),
    (status("IO_ERROR"), 1, "failed", ["input/output error", "Kiểm tra cáp USB"]),
    ({"device": "test:9"}, 1, "failed", ["not connected or not switched on", "Kiểm tra cáp USB"]),
    ({"source": "adf-duplex"}, 1, "failed",
     ["it reports Flatbed, Automatic Document Feeder", "valid settings: flatbed, adf"]),
], ids=["empty-feeder", "cover-open", "io-error", "unplugged", "impossible-source"])
def test_scanner_trouble_on_the_first_sheet(kit, scanner, code, state, says):
    kit.configure([sane_adf(**scanner)])
    r, job = scan(kit, "--doc", "Tờ khai")
    assert r.returncode == code and job["state"] == state and job["pages"] == 0
    for text in says:
        assert text in job["message"] + job["message_vi"]
    assert kit.outbox_files() == []  # and never an empty PDF


def test_device_busy_is_retried_then_reported(kit, monkeypatch, caplog):
    kit.configure([sane_adf(options=sane_failing("SANE_STATUS_DEVICE_BUSY"))])
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    monkeypatch.setattr(worker_module, "BUSY_WAIT_SECONDS", 0.01)
    with Queue(storage.db) as queue:
        job = queue.create(kit="PL01", doc="Tờ khai", scanner="adf", preset="")
        job = worker_module.Worker(cfg, storage, queue, cfg.scanner[0]).run(job)
    assert job.state == State.FAILED and "busy" in job.message
    retries = [r for r in caplog.records if "busy, retry" in r.getMessage()]
    assert len(retries) == worker_module.BUSY_RETRIES - 1


def test_lineart_and_gray_modes(kit):
    kit.configure([sane_adf(mode="lineart", options={"test-picture": "Grid"}),
                   sane_adf(name="gray", mode="gray", auto_color=False)])
    r, job = scan(kit, "--doc", "Tờ khai")
    assert r.returncode == 0, r.stderr
    with pikepdf.open(job["pdf"]) as doc:
        (img,) = doc.pages[0].Resources.XObject.values()
        assert list(img.Filter) == ["/CCITTFaxDecode"] and img.BitsPerComponent == 1
    r = kit.edge("scan", "--scanner", "gray", "--doc", "Tờ khai", "--json")
    with pikepdf.open(json.loads(r.stdout)["pdf"]) as doc:
        (img,) = doc.pages[0].Resources.XObject.values()
        assert img.Filter == "/DCTDecode" and img.ColorSpace == "/DeviceGray"


def test_pnm_backend_flatbed(kit, tmp_path):
    image = tmp_path / "page.ppm"
    Image.new("RGB", (400, 600), (240, 240, 230)).save(image)
    kit.configure([{"name": "flat", "driver": "sane", "device": "pnm:0", "source": "flatbed",
                    "dpi": 100, "options": {"filename": str(image)}}])
    r = kit.edge("scan", "--scanner", "flat", "--doc", "CCCD", "--json")
    job = json.loads(r.stdout)
    assert job["state"] == "ready" and job["pages"] == 1
    with pikepdf.open(job["pdf"]) as doc:
        assert [float(v) for v in doc.pages[0].mediabox] == [0, 0, 288, 432]  # 4 x 6 in


class JamAfterThree(SaneScanner):
    """The real SANE test backend, told to report a jam after the third sheet."""

    def open(self, settings):
        super().open(settings)
        self.dev.read_return_value = "Default"  # the backend keeps options across opens
        self.dev.read_delay = False

    def pages(self):
        for n, page in enumerate(super().pages(), 1):
            yield page
            if n == 3:  # as sane_failing() says
                self.dev.read_return_value = "SANE_STATUS_JAMMED"
                self.dev.read_delay, self.dev.read_delay_duration = True, 200000


def jammed_job(kit, monkeypatch):
    """A job that the real test backend jammed after three sheets (run in this process)."""
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    with Queue(storage.db) as queue:
        job = queue.create(kit="PL01", doc="Giấy khai sinh", scanner="adf", preset="")
        with monkeypatch.context() as m:
            m.setattr(worker_module, "make", JamAfterThree)
            return worker_module.Worker(cfg, storage, queue, cfg.scanner[0]).run(job)


def test_jam_mid_batch_pauses_keeps_pages_and_resumes(kit, monkeypatch):
    job = jammed_job(kit, monkeypatch)
    assert job.state == State.PAUSED and job.pages == 3
    assert "paper jam" in job.message and "3 page(s) kept" in job.message
    assert "Kẹt giấy" in job.message_vi
    assert kit.outbox_files() == []
    r = kit.edge("resume", str(job.id), "--json")
    resumed = json.loads(r.stdout)
    assert r.returncode == 0, r.stderr
    assert resumed["state"] == "ready" and resumed["pages"] == 13  # the feeder was refilled
    subprocess.run(["qpdf", "--check", resumed["pdf"]], check=True, capture_output=True)


def test_paused_job_can_be_finished_as_is(kit, monkeypatch):
    job = jammed_job(kit, monkeypatch)
    r = kit.edge("finish", job.ticket, "--json")
    done = json.loads(r.stdout)
    assert done["state"] == "ready" and done["pages"] == 3
    assert kit.edge("resume", str(job.id)).returncode == 1  # no longer paused


def test_sigkill_mid_batch_leaves_no_partial_file_and_recovers(kit):
    # slow the real backend down so that the kill lands between pages
    kit.configure([sane_adf(options={"read-limit": True, "read-limit-size": 65536,
                                     "read-delay": True, "read-delay-duration": 4000})])
    proc = kit.popen("scan", "--scanner", "adf", "--doc", "Giấy khai sinh", "--json")
    spool = kit.root / "spool"
    deadline = time.monotonic() + 60
    while len(list(spool.rglob("p*.pdf"))) < 3:
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(list(spool.rglob("p*.pdf")))
    assert 3 <= written < 10
    assert kit.outbox_files() == []
    jobs = json.loads(kit.edge("jobs", "--json").stdout)
    assert [j["state"] for j in jobs] == ["paused"]
    assert jobs[0]["pages"] == written
    assert "interrupted" in jobs[0]["message"]
    r = kit.edge("finish", str(jobs[0]["job_id"]), "--json")
    assert json.loads(r.stdout)["pages"] == written
    assert kit.edge("verify").returncode == 0
    assert not list((kit.root / "tmp").iterdir())


def test_verify_catches_a_flipped_byte(kit):
    _, job = scan(kit, "--doc", "Giấy khai sinh")
    ok = kit.edge("verify")
    assert ok.returncode == 0 and "1 file(s) checked, 0 problem(s)" in ok.stdout
    pdf = Path(job["pdf"])
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))
    bad = kit.edge("verify")
    assert bad.returncode == 1
    assert f"{pdf}: SHA-256" in bad.stdout and "does not match the record" in bad.stdout
    assert "page images differ from those scanned" in bad.stdout


def test_verify_reports_missing_and_stray_files(kit):
    _, job = scan(kit, "--doc", "Giấy khai sinh")
    pdf = Path(job["pdf"])
    (pdf.parent / "stray.pdf").write_bytes(b"%PDF")
    pdf.with_name(pdf.name + ".sha256").unlink()
    out = kit.edge("verify").stdout
    assert "checksum file missing" in out and "stray.pdf: not recorded in any job" in out
    pdf.unlink()
    assert "missing (job" in kit.edge("verify").stdout


def test_config_error_on_resume_keeps_the_pages(kit, monkeypatch):
    job = jammed_job(kit, monkeypatch)
    kit.configure([sane_adf(options={"no-such-option": 1})])
    r = kit.edge("resume", str(job.id), "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 3 and out["state"] == "paused" and out["pages"] == 3
    assert "option 'no-such-option' does not exist" in out["message"]
    assert json.loads(kit.edge("finish", str(job.id), "--json").stdout)["state"] == "ready"


def test_a_write_to_a_closed_socket_after_a_scan_is_an_error_not_death():
    """SANE resets SIGPIPE to its default (terminate) after a scan; the service guards it."""
    script = """
import socket, sane, threading
from edge.daemon import guard_sigpipe
guard_sigpipe()
sane.init()
dev = sane.open("test:0")
dev.source = "Automatic Document Feeder"
for i, _ in enumerate(dev.multi_scan()):
    if i:
        break
dev.close()
a, b = socket.socketpair()
b.close()
def write():
    try:
        for _ in range(10):
            a.send(b"x" * 65536)
    except BrokenPipeError:
        print("EPIPE")
t = threading.Thread(target=write)
t.start()
t.join()
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "EPIPE", (r.returncode, r.stderr)
