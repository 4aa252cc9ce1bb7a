"""The deferred OCR text layer: real tesseract (vie) on a finished PDF, swapped in safely."""

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from edge.pipeline import ocr, outbox
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage, sha256_file
from edge.pipeline.worker import Worker


@pytest.fixture
def ready(kit):
    kit.configure([{"name": "sim", "driver": "sim", "source": "adf", "dpi": 200,
                    "sim": {"sheets": 1, "page_delay": 0.0}}])
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    with Queue(storage.db) as queue:
        job = queue.create(kit="PL01", doc="Kế hoạch", scanner="sim", preset="")
        yield cfg, storage, queue, Worker(cfg, storage, queue, cfg.scanner[0]).run(job)


def text_of(pdf):
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_text_layer_is_added_and_the_checksum_follows(ready):
    cfg, storage, queue, job = ready
    assert ocr.available("vie")
    assert "hành chính" not in text_of(job.pdf)
    assert ocr.run_once(cfg, storage, queue, threading.Event())
    done = queue.get(job.id)
    assert "hành chính" in text_of(done.pdf)  # Vietnamese, tone marks and all
    assert done.files[0].sha256 != job.files[0].sha256
    assert done.files[0].sha256 == sha256_file(Path(done.pdf))
    assert queue.ocr_done(job.id)
    assert outbox.verify(storage, queue) == []  # sidecar and page-image digest still agree
    assert not ocr.run_once(cfg, storage, queue, threading.Event())  # nothing left to do


def test_rendering_and_tesseract_run_only_when_no_scan_wants_the_cpu(ready, tmp_path,
                                                                    monkeypatch):
    """Each child records its scheduling policy (field 41 of /proc/self/stat: 5 is
    SCHED_IDLE), then runs the real program."""
    cfg, storage, queue, _ = ready
    shims = tmp_path / "bin"
    shims.mkdir()
    for name in ("pdftoppm", "tesseract"):
        real = shutil.which(name)
        shim = shims / name
        shim.write_text(f"#!/bin/sh\ncut -d' ' -f41 /proc/$$/stat >> {tmp_path}/{name}.policy\n"
                        f'exec {real} "$@"\n')
        shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}:{os.environ['PATH']}")
    assert ocr.run_once(cfg, storage, queue, threading.Event())
    for name in ("pdftoppm", "tesseract"):
        policies = (tmp_path / f"{name}.policy").read_text().split()
        assert policies and set(policies) == {str(os.SCHED_IDLE)}, (name, policies)


def test_a_swap_cut_short_is_completed_by_recovery(ready, tmp_path):
    _, storage, queue, job = ready
    new = tmp_path / "ocr.pdf"
    ocr.text_layer(Path(job.pdf), new, "vie", threading.Event())
    sha = sha256_file(new)
    queue.set_ocr(job.id, 1, done=0, pending_sha=sha)  # the cut: file swapped, record not yet
    new.replace(job.pdf)
    outbox.recover(storage, queue)
    assert queue.get(job.id).files[0].sha256 == sha and outbox.verify(storage, queue) == []


def test_stopping_leaves_the_document_as_it_was(ready):
    cfg, storage, queue, job = ready
    stop = threading.Event()
    stop.set()
    assert not ocr.run_once(cfg, storage, queue, stop)
    assert queue.get(job.id).files == job.files and not queue.ocr_done(job.id)
