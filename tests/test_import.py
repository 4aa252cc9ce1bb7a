"""`edge import`: files take the same steps, names and checksums as scans."""

import json
import subprocess
from pathlib import Path

import img2pdf
import pikepdf

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
    from edge.pipeline.imports import HotFolder
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
        (inbox / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
        assert hot.poll(now=0) == []  # just seen
        page.write_bytes(page.read_bytes())  # still changing (mtime moves)
        assert hot.poll(now=3) == []
        assert hot.poll(now=6) == []  # changed at 3: not settled for 5 s yet
        (job,) = hot.poll(now=9)
        assert job.doc == "Tài liệu nhập" and job.scanner == "import"
        assert not page.exists()  # the job holds it now
        assert (inbox / "refused" / "broken.pdf").exists()
        assert "not a readable image or PDF" in (inbox / "refused" / "broken.pdf.why.txt"
                                                 ).read_text()
        assert (inbox / "scan0002.pdf.part").exists()  # partial uploads are left alone
        assert job.state == State.QUEUED  # for the daemon's import worker, which does:
        job = Worker(cfg, storage, queue, cfg.importer()).run(job)
        assert job.state == State.READY and job.pages == 1
    assert kit.edge("verify").returncode == 0
