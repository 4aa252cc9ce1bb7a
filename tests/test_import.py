"""`edge import`: files take the same steps, names and checksums as scans."""

import functools
import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from PIL import Image, ImageDraw

from edge.errors import JobError

from .pages import sample_set

A4_PT = (595.3, 841.9)


def test_import_photos_pdfs_and_scans_refusing_garbage(kit, tmp_path):
    text, _ = sample_set()["text"]
    seal, _ = sample_set()["red-seal"]
    photo = tmp_path / "zalo photo.JPG"  # a phone photo: no meaningful dpi
    text.resize((1240, 1754)).save(photo, quality=90)
    scan = tmp_path / "mfp.tif"  # a scan-to-folder TIFF at 300 dpi, half an A4 high
    seal.crop((0, 1169, 1654, 2339)).resize((2481, 1755)).save(scan, dpi=(300, 300))
    pdf = tmp_path / "ho-so.pdf"
    pages = []
    for name in ("yellowed-text", "id-card"):
        path = tmp_path / f"{name}.jpg"
        sample_set()[name][0].save(path, dpi=(200, 200))
        pages.append(str(path))
    pdf.write_bytes(img2pdf.convert(pages))
    junk = tmp_path / "notes.docx"
    junk.write_bytes(b"PK\x03\x04 not an image")
    r = kit.edge("import", "--doc", "Giấy khai sinh", "--json", str(photo), str(junk), str(pdf),
                 str(scan))
    assert r.returncode == 1  # something was refused...
    assert "refused" in r.stderr and "notes.docx: not a readable image or PDF" in r.stderr
    job = json.loads(r.stdout)  # ...but everything else is in the PDF
    assert job["state"] == "ready" and job["pages"] == 4 and job["scanner"] == "import"
    out = Path(job["pdf"])
    assert out.name == f"{job['ticket']}_01_giay-khai-sinh.pdf"
    subprocess.run(["sha256sum", "-c", out.name + ".sha256"], cwd=out.parent, check=True,
                   capture_output=True)
    with pikepdf.open(out) as doc:
        sizes = [tuple(round(float(v), 1) for v in p.mediabox[2:]) for p in doc.pages]
    assert abs(sizes[0][0] - A4_PT[0]) < 2 and abs(sizes[0][1] - A4_PT[1]) < 2  # photo -> A4
    assert all(abs(w - A4_PT[0]) < 2 and abs(h - A4_PT[1]) < 2 for w, h in sizes[1:3])  # PDF
    assert abs(sizes[3][0] - A4_PT[0]) < 2 and abs(sizes[3][1] - A4_PT[1] / 2) < 2  # its dpi
    (listed,) = json.loads(kit.edge("jobs", "--json").stdout)
    kinds = [p["kind"] for p in listed["page_list"]]
    assert kinds == ["bilevel", "bilevel", "color", "mixed"]


def test_import_of_nothing_readable_makes_no_job(kit, tmp_path):
    junk = tmp_path / "a.png"
    junk.write_bytes(b"\x89PNG broken")
    r = kit.edge("import", "--doc", "Tờ khai", str(junk), str(tmp_path / "missing.jpg"))
    assert r.returncode == 1 and "nothing to import" in r.stderr
    assert "missing.jpg" in r.stderr
    assert kit.edge("jobs", "--json").stdout.strip() == "[]"


def test_hot_folder_imports_files_once_they_stop_changing(kit, tmp_path):
    from edge.pipeline.hotfolder import HotFolder
    from edge.pipeline.job import State
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage
    from edge.pipeline.worker import Worker

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    kit.config.write_text(kit.config.read_text() +
                          f'\n[hot_folder]\npath = "{inbox}"\nsettle_seconds = 5\n')
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    with Queue(storage.db) as queue:
        hot = HotFolder(cfg, storage, queue)
        page = inbox / "scan0001.jpg"
        sample_set()["text"][0].save(page, dpi=(200, 200))
        (inbox / "scan0002.pdf.part").write_bytes(b"%PDF- still being written")
        (inbox / "broken.pdf").write_bytes(b"%PDF-1.4 garbage\n%%EOF\n")
        assert hot.poll(now=0) == []  # just seen
        page.write_bytes(page.read_bytes())  # still changing (mtime moves)
        assert hot.poll(now=3) == []
        assert hot.poll(now=6) == []  # changed at 3: not settled for 5 s yet
        (job,) = hot.poll(now=9)
        assert job.doc == "Tài liệu nhập" and job.scanner == "import"
        assert not page.exists()  # the job holds it now (and .importing/ until it is ready)
        (why,) = refused_reasons(inbox)  # moved aside under a name of the kit's own
        assert "not a readable image or PDF" in why and "Original name: broken.pdf" in why
        assert not (inbox / "broken.pdf").exists() and len(list((inbox / "refused").iterdir())) == 2
        assert (inbox / "scan0002.pdf.part").exists()  # partial uploads are left alone
        assert job.state == State.QUEUED  # for the daemon's import worker, which does:
        job = Worker(cfg, storage, queue, cfg.importer()).run(job)
        assert job.state == State.READY and job.pages == 1
    assert kit.edge("verify").returncode == 0


# --- hostile and clumsy input (the hot folder attack) -------------------------------------

def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(path: Path, side: int = 13300) -> Path:
    """A one-colour 1-bit PNG declaring side x side pixels: a few KB on disk."""
    z = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side,
                                                                        1, 0, 0, 0, 0))
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


@functools.cache
def text_page() -> Image.Image:
    return sample_set()["text"][0]


def page_image(n: int = 0, size: tuple[int, int] = (827, 1169)) -> Image.Image:
    """A small text page (A4 at 100 dpi), different per n."""
    im = text_page().resize(size)
    ImageDraw.Draw(im).text((40, 40 + 20 * n), f"page {n}", fill=(0, 0, 0))
    return im


def tiff_pages(path: Path, n: int, size: tuple[int, int] = (827, 1169),
               plain: bool = False) -> Path:
    frames = [Image.new("L", size, i % 256) if plain else page_image(i, size).convert("L")
              for i in range(n)]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(100, 100),
                   compression="tiff_deflate")
    return path


def pdf_with(path: Path, page_pt: tuple[float, float] = A4_PT, **save: object) -> Path:
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=page_pt)
        pdf.save(path, **save)
    return path


def truncated(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[:len(data) // 2])
    return dst


def refused_reasons(inbox: Path) -> list[str]:
    return sorted(p.read_text(encoding="utf-8") for p in (inbox / "refused").glob("*.why.txt")
                  if not p.is_symlink())


def test_links_and_fifos_are_refused_without_reading_or_blocking(tmp_path):
    from edge.drivers.scanner.files import check

    secret = tmp_path / "secret.jpg"
    page_image().save(secret)
    link = tmp_path / "link.jpg"
    link.symlink_to(secret)
    fifo = tmp_path / "fifo.pdf"
    os.mkfifo(fifo)
    with pytest.raises(JobError, match="link"):
        check(link, 200)
    outcome = []

    def check_fifo():
        try:
            check(fifo, 200)
        except JobError as e:
            outcome.append(e.message)

    t = threading.Thread(target=check_fifo, daemon=True)
    t.start()
    t.join(20)
    if t.is_alive():  # unblock the stuck open() so the thread can end
        with open(fifo, "wb"):
            pass
    assert outcome and "not a regular file" in outcome[0]


def test_multi_page_tiff_imports_every_frame(kit, tmp_path):
    scan = tiff_pages(tmp_path / "mfp.tif", 3)
    r = kit.edge("import", "--doc", "Hồ sơ", "--json", str(scan))
    assert r.returncode == 0, r.stderr
    job = json.loads(r.stdout)
    assert job["state"] == "ready" and job["pages"] == 3


def test_bomb_is_refused_by_its_declared_size_before_decoding(kit, tmp_path):
    bomb = png_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 100_000
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], "
             "capture_output=True, text=True); sys.stderr.write(r.stderr); "
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    r = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "edge", "--config",
                        str(kit.config), "import", "--doc", "Tờ khai", str(bomb)],
                       capture_output=True, text=True, timeout=120)
    code, peak_kb = map(int, r.stdout.split())
    assert code == 1 and "more than A3 at 600 dpi" in r.stderr
    assert peak_kb < 300 * 1024


def test_truncated_files_are_detected_as_incomplete(tmp_path):
    from edge.drivers.scanner.files import Incomplete, check

    good = {"png": tmp_path / "a.png", "jpg": tmp_path / "a.jpg", "tif": tmp_path / "a.tif",
            "pdf": tmp_path / "a.pdf"}
    page_image().save(good["png"])
    page_image().save(good["jpg"], quality=80)
    tiff_pages(good["tif"], 2)
    jpg = tmp_path / "a-page.jpg"
    page_image().save(jpg, dpi=(100, 100))
    good["pdf"].write_bytes(img2pdf.convert([str(jpg)]))
    for kind, path in good.items():
        assert check(path, 200) == (2 if kind == "tif" else 1)
        with pytest.raises(Incomplete):
            check(truncated(path, tmp_path / f"cut.{kind}"), 200)
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(Incomplete):
        check(tmp_path / "empty.pdf", 200)


def test_hostile_documents_are_refused_with_a_clear_reason(kit, tmp_path):
    locked = pdf_with(tmp_path / "locked.pdf",
                      encryption=pikepdf.Encryption(owner="o", user="u"))
    huge = pdf_with(tmp_path / "huge.pdf", page_pt=(14400, 14400))
    thin = tmp_path / "thin.png"
    Image.new("L", (1, 5000), 255).save(thin)
    r = kit.edge("import", "--doc", "Tờ khai", str(locked), str(huge), str(thin))
    assert r.returncode == 1 and "nothing to import" in r.stderr
    assert "locked.pdf: the PDF is protected by a password" in r.stderr
    assert "huge.pdf: page 1 is 5080 x 5080 mm" in r.stderr
    assert "thin.png: 1 x 5000 pixels is too small or too narrow" in r.stderr
    assert kit.edge("jobs", "--json").stdout.strip() == "[]"


def hot_setup(kit, tmp_path, settle=5):
    from edge.pipeline.storage import Storage

    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    kit.config.write_text(kit.config.read_text() +
                          f'\n[hot_folder]\npath = "{inbox}"\nsettle_seconds = {settle}\n')
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    return inbox, cfg, storage


def test_truncated_file_gets_more_time_then_is_set_aside(kit, tmp_path):
    from edge.pipeline.hotfolder import HotFolder
    from edge.pipeline.queue import Queue

    inbox, cfg, storage = hot_setup(kit, tmp_path)
    whole = tmp_path / "whole.jpg"
    page_image().save(whole, dpi=(100, 100))
    late, cut = inbox / "late.jpg", inbox / "cut.jpg"
    truncated(whole, late)
    truncated(whole, cut)
    with Queue(storage.db) as queue:
        hot = HotFolder(cfg, storage, queue)
        assert hot.poll(now=0) == []
        assert hot.poll(now=6) == []  # settled but incomplete: waits, nothing refused or lost
        assert late.exists() and cut.exists() and not refused_reasons(inbox)
        late.write_bytes(whole.read_bytes())  # the writer resumes and finishes
        assert hot.poll(now=7) == []
        assert len(hot.poll(now=13)) == 1
        assert cut.exists() and not refused_reasons(inbox)
        assert hot.poll(now=6 + 5 * 12) == []  # unchanged and incomplete for long: set aside
        assert not cut.exists()
        (why,) = refused_reasons(inbox)
        assert "ends early" in why and "cut.jpg" in why


def test_hot_folder_keeps_the_original_until_the_job_is_ready(kit, tmp_path):
    from edge.pipeline.hotfolder import HotFolder
    from edge.pipeline.job import State
    from edge.pipeline.queue import Queue
    from edge.pipeline.worker import Worker

    inbox, cfg, storage = hot_setup(kit, tmp_path)
    page_image().save(inbox / "a.jpg", dpi=(100, 100))
    page_image(1).save(inbox / "b.jpg", dpi=(100, 100))
    with Queue(storage.db) as queue:
        hot = HotFolder(cfg, storage, queue)
        hot.poll(now=0)
        ok, bad = hot.poll(now=6)
        assert not (inbox / "a.jpg").exists() and not (inbox / "b.jpg").exists()
        kept = sorted((inbox / ".importing").iterdir())
        assert len(kept) == 2
        queue.transition(bad.id, State.FAILED, "broken by a test", "hỏng")
    with Queue(storage.db) as queue:  # the daemon restarts: a new HotFolder finds the leftovers
        hot = HotFolder(cfg, storage, queue)
        hot.poll(now=100)
        assert len(list((inbox / ".importing").iterdir())) == 1  # ok's job is not ready yet
        assert "broken by a test" in refused_reasons(inbox)[0]
        assert "hỏng" in refused_reasons(inbox)[0]
        assert Worker(cfg, storage, queue, cfg.importer()).run(ok).state == State.READY
        hot.poll(now=102)
        assert list((inbox / ".importing").iterdir()) == []


def test_a_full_card_is_retried_later_without_blocking_or_refusing(kit, tmp_path):
    from edge.pipeline.hotfolder import HotFolder
    from edge.pipeline.queue import Queue

    inbox, cfg, storage = hot_setup(kit, tmp_path)
    page_image().save(inbox / "a.jpg", dpi=(100, 100))
    (inbox / "junk.pdf").write_bytes(b"%PDF-1.4 garbage\n%%EOF\n")
    with Queue(storage.db) as queue:
        hot = HotFolder(cfg, storage, queue)
        storage.min_free = 1 << 60  # the card is "full"
        hot.poll(now=0)
        assert hot.poll(now=6) == []
        assert (inbox / "a.jpg").exists() and len(refused_reasons(inbox)) == 1  # junk refused
        assert queue.jobs() == []
        storage.min_free = 0  # space freed
        (job,) = hot.poll(now=60)
        assert job.state == "queued"


def test_refused_files_are_purged_after_the_retention_period(kit, tmp_path):
    from edge.pipeline.hotfolder import HotFolder
    from edge.pipeline.queue import Queue

    inbox, cfg, storage = hot_setup(kit, tmp_path)
    (inbox / "junk.pdf").write_bytes(b"%PDF-1.4 garbage\n%%EOF\n")
    with Queue(storage.db) as queue:
        hot = HotFolder(cfg, storage, queue)
        hot.poll(now=0)
        hot.poll(now=6)
        assert len(list((inbox / "refused").iterdir())) == 2
        days = cfg.storage.retention_days
        assert hot.purge_refused(now=time.time() + (days - 1) * 86400) == 0
        assert hot.purge_refused(now=time.time() + (days + 1) * 86400) == 2
        assert list((inbox / "refused").iterdir()) == []


def settled(kit, inbox: Path) -> bool:
    jobs = json.loads(kit.edge("jobs", "--json").stdout)
    importing = inbox / ".importing"
    return (len(jobs) == 3 and all(j["state"] == "ready" for j in jobs)
            and (not importing.exists() or list(importing.iterdir()) == []))


def test_hot_folder_campaign_against_the_running_daemon(kit, tmp_path):
    """Everything a hostile or clumsy MFP/person can drop, against `edge run`."""
    from .test_daemon import wait_for

    r = kit.edge("import", "--doc", "Hồ sơ", "--json", str(pdf_with(tmp_path / "x.pdf")))
    outbox_pdf = Path(json.loads(r.stdout)["pdf"])
    secret = kit.root / "web-secret"
    if not secret.exists():
        secret.write_text("s3cret")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def digests(paths):
        return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}

    before = digests([secret, *kit.outbox_files()])
    inbox, _, _ = hot_setup(kit, tmp_path, settle=0.5)
    (inbox / "refused").symlink_to(elsewhere, target_is_directory=True)
    (inbox / "secret.jpg").symlink_to(secret)
    (inbox / "outbox.pdf").symlink_to(outbox_pdf)
    os.mkfifo(inbox / "fifo.pdf")
    pdf_with(inbox / "locked.pdf", encryption=pikepdf.Encryption(owner="o", user="u"))
    pdf_with(inbox / "huge.pdf", page_pt=(14400, 14400))
    png_bomb(inbox / "bomb.png")
    Image.new("L", (1, 5000), 255).save(inbox / "thin.png")
    tiff_pages(inbox / "many.tif", 1000, size=(40, 56), plain=True)
    truncated(pdf_with(tmp_path / "whole.pdf"), inbox / "cut.pdf")
    (inbox / "empty.jpg").write_bytes(b"")
    (inbox / "noise.png").write_bytes(os.urandom(3000))
    name = "Nguyễn Văn A\n000.00.04.H40-230414-0002\x1b[31m.jpg"
    page_image().save(inbox / name, dpi=(100, 100))
    (inbox / ("x" * 250 + ".pdf")).write_bytes(b"%PDF-1.4 nonsense\n%%EOF\n")
    hostile = 13  # entries to refuse, `refused` itself too (the name with a newline is good)
    proc = kit.popen("run")
    try:
        wait_for(lambda: len(refused_reasons(inbox)) == hostile, timeout=60,
                 what="every hostile file refused")
        assert not (inbox / "refused").is_symlink() and list(elsewhere.iterdir()) == []
        (inbox / "refused" / "evil.pdf.why.txt").symlink_to(secret)  # planted after the fact
        (inbox / "evil.pdf").write_bytes(b"junk")
        page_image(2).save(inbox / "normal.jpg", dpi=(100, 100))
        wait_for(lambda: len(refused_reasons(inbox)) == hostile + 1, timeout=30,
                 what="the late junk refused")
        wait_for(lambda: settled(kit, inbox), timeout=60, what="the good files imported")
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak_kb = int(next(ln.split()[1] for ln in status.splitlines()
                           if ln.startswith("VmHWM:")))
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    jobs = json.loads(kit.edge("jobs", "--json").stdout)
    assert sorted(j["state"] for j in jobs) == ["ready"] * 3
    assert sorted(p.name for p in inbox.iterdir()) == [".importing", "refused"]
    assert digests(before) == before and list(elsewhere.iterdir()) == []
    assert peak_kb < 300 * 1024, f"daemon peak RSS {peak_kb} kB"
    assert "Nguy" not in err and "H40" not in err and "xxxxxxxx" not in err
    assert "Traceback" not in err and "internal error" not in err
    reasons = "\n".join(refused_reasons(inbox))
    for words in ("link", "not a regular file", "password", "more than A3 at 600 dpi",
                  "too small or too narrow", "more than 500 pages", "ends early",
                  "not a readable image or PDF", "Tệp"):
        assert words in reasons, words


def test_a_file_that_fails_to_decode_fails_its_job_instead_of_being_retried(kit, tmp_path):
    png = tmp_path / "damaged.png"  # whole, every checksum right, but its pixels are noise
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 800, 1100, 8,
                                                                        0, 0, 0, 0))
                    + chunk(b"IDAT", os.urandom(4000)) + chunk(b"IEND", b""))
    r = kit.edge("import", "--doc", "Tờ khai", "--json", str(png))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    (job,) = json.loads(kit.edge("jobs", "--json").stdout)
    assert job["state"] == "failed" and "0001.png: not a readable image" in job["message"]
