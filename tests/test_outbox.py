"""Renaming, retention and crash recovery of finished PDFs (simulated scanner, real files)."""

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import pikepdf
import pytest

from edge.errors import JobError
from edge.pipeline import outbox
from edge.pipeline.assemble import DocumentInfo, assemble
from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage, sidecar_path
from edge.pipeline.worker import Worker

CODE = "000.00.04.H40-230414-0002"
NAMES = outbox.Naming("{ref}_{seq:02d}_{doc}.pdf", "PL01")


def sim(name="sim", **extra):
    return {"name": name, "driver": "sim", "source": "adf", "dpi": 100,
            "sim": {"sheets": 2, "page_delay": 0.0, **extra}}


@pytest.fixture
def env(kit):
    kit.configure([sim()])
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    with Queue(storage.db) as queue:
        yield cfg, storage, queue


def make_ready(cfg, storage, queue, doc="Giấy khai sinh", dossier=None):
    job = queue.create(kit="PL01", doc=doc, scanner="sim", preset="", dossier=dossier)
    return Worker(cfg, storage, queue, cfg.scanner[0]).run(job)


def sha_ok(pdf: Path) -> None:
    subprocess.run(["sha256sum", "-c", pdf.name + ".sha256"], cwd=pdf.parent, check=True,
                   capture_output=True)


def test_rename_moves_pdf_and_checksum(env, kit):
    cfg, storage, queue = env
    job = make_ready(cfg, storage, queue)
    old = Path(job.pdf)
    (renamed,) = outbox.rename(storage, queue, NAMES, job.ticket, CODE)
    new = Path(renamed.pdf)
    assert new.name == f"{CODE}_01_giay-khai-sinh.pdf" and new.parent == old.parent
    assert not old.exists() and not sidecar_path(old).exists()
    assert renamed.files[0].sha256 == job.files[0].sha256 and renamed.dossier == CODE
    sha_ok(new)
    assert outbox.verify(storage, queue) == []


def test_rename_never_overwrites(env):
    cfg, storage, queue = env
    job = make_ready(cfg, storage, queue)
    # a file that happens to have the name the document would get
    squatter = Path(job.pdf).with_name(f"{CODE}_01_giay-khai-sinh.pdf")
    squatter.write_bytes(b"not ours")
    (renamed,) = outbox.rename(storage, queue, NAMES, job.ticket, CODE)
    assert Path(renamed.pdf).name == f"{CODE}_01_giay-khai-sinh-2.pdf"
    assert squatter.read_bytes() == b"not ours"
    sha_ok(Path(renamed.pdf))


def test_rename_refuses_bad_code(env):
    cfg, storage, queue = env
    job = make_ready(cfg, storage, queue)
    with pytest.raises(JobError, match=r"expected NNN\.NN\.NN\.XNN-YYMMDD-NNNN"):
        outbox.rename(storage, queue, NAMES, job.ticket, "H40-1")


def test_rename_via_cli(kit):
    kit.configure([sim()])
    assert kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai").returncode == 0
    r = kit.edge("rename", "1", "--dossier", CODE, "--json")
    assert r.returncode == 0, r.stderr
    assert f"{CODE}_01_to-khai.pdf" in r.stdout
    assert kit.edge("verify").returncode == 0
    r = kit.edge("rename", "1", "--dossier", "bad")
    assert r.returncode == 1 and "invalid dossier code 'bad'" in r.stderr


def test_interrupted_rename_is_completed_on_recovery(env):
    cfg, storage, queue = env
    job = make_ready(cfg, storage, queue)
    old = Path(job.pdf)
    new = old.with_name(f"{CODE}_01_giay-khai-sinh.pdf")
    # the state a power cut leaves between recording the intent and linking the new name
    queue.set_dossier(job.ticket, CODE)
    queue.set_pending_pdf(job.id, new)
    outbox.recover(storage, queue)
    job = queue.get(job.id)
    assert Path(job.pdf) == new and not old.exists()
    sha_ok(new)
    assert outbox.verify(storage, queue) == []


def _assembling(cfg, storage, queue):
    job = queue.create(kit="PL01", doc="Tờ khai", scanner="sim", preset="")
    w = Worker(cfg, storage, queue, cfg.scanner[0])
    job = w._scan(job)
    assert job.state == State.ASSEMBLING
    return w, job


def _pdf_for(storage, queue, job, path):
    pages = queue.pages(job.id)
    info = DocumentInfo(title=job.doc, identifier=job.ref, ticket=job.ticket, pages=len(pages),
                        content_sha256="", created=dt.datetime.now().astimezone())
    path.parent.mkdir(exist_ok=True)
    assemble([storage.root / p.file for p in pages], path, info)


def test_interrupted_assembly_is_redone_without_a_duplicate(env):
    cfg, storage, queue = env
    w, job = _assembling(cfg, storage, queue)
    # a power cut after the PDF was linked into the outbox but before the job became ready
    ghost = storage.outbox / "2026-01-01" / "ghost.pdf"
    _pdf_for(storage, queue, job, ghost)
    queue.set_pending_pdf(job.id, ghost)
    (storage.tmp / "half-written.pdf").write_bytes(b"%PDF-1.4 trunc")
    outbox.recover(storage, queue)
    assert not ghost.exists() and not list(storage.tmp.iterdir())
    job = w.run(queue.get(job.id))
    assert job.state == State.READY and job.pages == 2
    assert outbox.verify(storage, queue) == []


def test_recovery_never_deletes_another_jobs_file(env):
    cfg, storage, queue = env
    other = make_ready(cfg, storage, queue)
    w, job = _assembling(cfg, storage, queue)
    # the cut came after recording the name and before linking; then the name was taken
    queue.set_pending_pdf(job.id, Path(other.pdf))
    outbox.recover(storage, queue)
    assert Path(other.pdf).exists()
    assert w.run(queue.get(job.id)).state == State.READY
    assert outbox.verify(storage, queue) == []


def test_dossier_code_given_while_assembling_names_the_file(env):
    cfg, storage, queue = env
    w, job = _assembling(cfg, storage, queue)
    outbox.rename(storage, queue, NAMES, job.ticket, CODE)
    job = w.run(queue.get(job.id))
    assert Path(job.pdf).name == f"{CODE}_01_to-khai.pdf"


def test_rename_of_a_missing_or_purged_file_is_refused_cleanly(env):
    cfg, storage, queue = env
    job = make_ready(cfg, storage, queue)
    Path(job.pdf).unlink()
    with pytest.raises(JobError, match="is missing"):
        outbox.rename(storage, queue, NAMES, job.ticket, CODE)
    assert queue.pending_pdf(job.id) is None
    assert outbox.recover(storage, queue) == []
    queue.mark_uploaded(job.id)
    outbox.purge(storage, queue, 1, now=time.time() + 2 * 86400)
    with pytest.raises(JobError, match="purged"):
        outbox.rename(storage, queue, NAMES, job.ticket, CODE)


def test_retention_purges_uploaded_jobs_only_after_the_period(env):
    cfg, storage, queue = env
    uploaded = make_ready(cfg, storage, queue)
    kept = make_ready(cfg, storage, queue)
    queue.mark_uploaded(uploaded.id)
    now = time.time()
    assert outbox.purge(storage, queue, 7, now=now + 6 * 86400) == 0
    assert Path(uploaded.pdf).exists()
    assert outbox.purge(storage, queue, 7, now=now + 8 * 86400) == 1
    assert not Path(uploaded.pdf).exists() and not sidecar_path(Path(uploaded.pdf)).exists()
    assert not storage.job_spool(uploaded.id).exists()
    assert Path(kept.pdf).exists()  # ready but never uploaded: never purged
    assert queue.get(uploaded.id).purged is not None
    assert outbox.verify(storage, queue) == []


def test_uploaded_and_purge_cli(kit):
    kit.configure([sim()], retention_days=1)
    kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai")
    r = kit.edge("uploaded", "1")
    assert r.returncode == 0 and "deleted after 1 day(s)" in r.stdout
    assert kit.edge("purge").stdout.strip() == "0 job(s) purged"
    assert kit.edge("uploaded", "1").returncode == 1  # already uploaded


def test_full_disk_pauses_without_losing_pages(env, monkeypatch):
    cfg, storage, queue = env
    job = queue.create(kit="PL01", doc="Tờ khai", scanner="sim", preset="")
    storage.min_free = 1 << 62
    job = Worker(cfg, storage, queue, cfg.scanner[0]).run(job)
    assert job.state == State.PAUSED and "is full" in job.message
    assert "Thẻ nhớ đã đầy" in job.message_vi
    storage.min_free = 0
    queue.transition(job.id, State.QUEUED)
    job = Worker(cfg, storage, queue, cfg.scanner[0]).run(queue.get(job.id))
    assert job.state == State.READY


def test_files_and_dirs_are_private(kit):
    kit.configure([sim()])
    kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai")
    for path in kit.root.rglob("*"):
        mode = path.stat().st_mode & 0o777
        assert mode in (0o600, 0o700), (path, oct(mode))
    assert os.stat(kit.root).st_mode & 0o077 == 0


def test_ticket_numbers_are_per_day_and_unique(env):
    import datetime as dt

    _, _, queue = env
    day = dt.date(2026, 11, 22)
    a = queue.create(kit="PL01", doc="a", scanner="sim", preset="", day=day)
    b = queue.create(kit="PL01", doc="b", scanner="sim", preset="", day=day)
    c = queue.create(kit="PL01", doc="c", scanner="sim", preset="", day=day.replace(day=23))
    assert [a.ticket, b.ticket, c.ticket] == ["PL01-261122-001", "PL01-261122-002",
                                              "PL01-261123-001"]


@pytest.fixture
def tiny_fs(tmp_path):
    """A real 2 MB filesystem, so that writes fail with ENOSPC as on a full SD card."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the test command runs as root)")
    mnt = tmp_path / "card"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mnt)],
                   check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=True)


def test_enospc_mid_batch_pauses_and_completes_once_space_is_freed(kit, tiny_fs):
    kit.root = tiny_fs / "data"
    kit.configure([{"name": "sim", "driver": "sim", "dpi": 200,
                    "sim": {"sheets": 80, "page_delay": 0.0}}], min_free_mb=0)
    r = kit.edge("scan", "--scanner", "sim", "--doc", "Tờ khai", "--json")
    import json

    job = json.loads(r.stdout)
    assert r.returncode == 3 and job["state"] == "paused", r.stderr
    assert "is full" in job["message"] and 0 < job["pages"] < 80
    assert kit.outbox_files() == []
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_fs)], check=True)
    r = kit.edge("resume", str(job["job_id"]), "--json")
    done = json.loads(r.stdout)
    assert r.returncode == 0 and done["state"] == "ready" and done["pages"] == 80
    assert kit.edge("verify").returncode == 0


def test_blank_backs_are_set_aside_listed_and_restorable(kit):
    import json

    kit.configure([{"name": "duplex", "driver": "sim", "source": "adf-duplex", "dpi": 100,
                    "sim": {"sheets": 3, "page_delay": 0.0}}])
    job = json.loads(kit.edge("scan", "--scanner", "duplex", "--doc", "Tờ khai",
                              "--json").stdout)
    assert job["state"] == "ready" and job["pages"] == 3 and job["blank_pages"] == 3
    with pikepdf.open(job["pdf"]) as pdf:
        assert len(pdf.pages) == 3
    (listed,) = json.loads(kit.edge("jobs", "--json").stdout)
    assert [p["blank"] for p in listed["page_list"]] == [False, True] * 3
    assert kit.edge("restore", "1", "1").returncode == 1  # page 1 was never set aside
    r = kit.edge("restore", "1", "4", "--json")
    restored = json.loads(r.stdout)
    assert r.returncode == 0 and restored["pages"] == 4 and restored["blank_pages"] == 2
    assert restored["pdf"] == job["pdf"]
    assert restored["files"][0]["sha256"] != job["files"][0]["sha256"]
    with pikepdf.open(restored["pdf"]) as pdf:
        assert len(pdf.pages) == 4
    sha_ok(Path(restored["pdf"]))
    assert kit.edge("verify").returncode == 0


def test_a_single_faint_page_is_never_dropped(kit):
    import json

    kit.configure([{"name": "flat", "driver": "sane", "device": "pnm:0", "source": "flatbed",
                    "dpi": 100, "options": {"filename": str(_blank_ppm(kit.tmp))}}])
    job = json.loads(kit.edge("scan", "--scanner", "flat", "--doc", "b", "--json").stdout)
    assert job["state"] == "ready" and job["pages"] == 1 and job["blank_pages"] == 0


def _blank_ppm(tmp):
    from PIL import Image

    path = tmp / "blank.ppm"
    Image.new("RGB", (400, 600), (240, 240, 230)).save(path)
    return path


@pytest.mark.parametrize("pdfa", [True, False])
def test_pdfa_2b_output(kit, pdfa):
    import json

    kit.configure([{**sim(), "pdfa": pdfa, "presets": {"ks": {"doc": "Giấy khai sinh"}}}])
    job = json.loads(kit.edge("scan", "--scanner", "sim", "--preset", "ks", "--json").stdout)
    subprocess.run(["qpdf", "--check", job["pdf"]], check=True, capture_output=True)
    with pikepdf.open(job["pdf"]) as pdf:
        meta = pdf.open_metadata()
        assert meta["dc:title"] == "Giấy khai sinh" and meta["dc:identifier"] == job["ticket"]
        assert meta["{http://ns.adobe.com/xap/1.0/t/pg/}NPages"] == "2"
        assert "xmp:CreateDate" in meta
        assert str(pdf.docinfo["/Title"]) == "Giấy khai sinh"  # mirrors the XMP
        if pdfa:
            assert meta.pdfa_status == "2B" and pdf.pdf_version >= "1.7"
            intent = pdf.Root.OutputIntents[0]
            assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.N == 3
            assert "/Filter" not in pdf.Root.Metadata  # PDF/A: metadata left uncompressed
        else:
            assert meta.pdfa_status == "" and "/OutputIntents" not in pdf.Root


def test_uploaded_cli_refuses_a_job_that_is_not_ready(env, kit):
    """Like the web UI: only a ready job is marked uploaded, and the CLI says why."""
    _, _, queue = env
    job = queue.create(kit="PL01", doc="Tờ khai", scanner="sim", preset="")
    r = kit.edge("uploaded", str(job.id))
    assert r.returncode == 1
    assert f"job {job.id} is queued; only a ready job can be marked uploaded" in r.stderr


def test_scan_cli_refuses_the_import_entry(kit):
    """`edge scan` starts scanners only; the import entry takes files (`edge import`)."""
    kit.configure([sim()])
    r = kit.edge("scan", "--scanner", "import", "--doc", "Tờ khai")
    assert r.returncode == 1 and "'import' is the import entry" in r.stderr
    assert kit.edge("jobs").stdout == ""
