"""Pages processed in parallel: written in the order they were read, byte for byte what the
serial path writes, and two scanners at once (simulated feeders, real files, queue and daemon)."""

import json
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pikepdf
import pytest
from PIL import Image

from edge.errors import ConfigError
from edge.pipeline import feed
from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.pipeline.worker import Worker

from .test_daemon import wait_for

SHEETS = 6


def duplex(name="sim", in_flight=0, **extra):
    """Text fronts (slow to process) and blank backs (fast): a pool that wrote pages as they
    were done would write the backs first."""
    return {"name": name, "driver": "sim", "source": "adf-duplex", "dpi": 200,
            "pages_in_flight": in_flight,
            "sim": {"sheets": SHEETS, "page_delay": 0.0, "blank_backs": True, **extra}}


def scan(kit, tmp, in_flight):
    """One duplex job through a Worker with 3 page threads; (its page records, its PDF).

    Each time the worker reports progress the pages kept so far must be 1..k: written in
    reading order, so a power cut leaves a run of pages that recovery adopts, never a gap."""
    kit.root = tmp
    kit.configure([duplex(in_flight=in_flight)])
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    with Queue(storage.db) as queue, ThreadPoolExecutor(3) as pool:
        job = queue.create(kit="PL01", doc="Tờ khai", scanner="sim", preset="")
        kept = []
        job = Worker(cfg, storage, queue, cfg.scanner[0], pool=pool,
                     on_change=lambda j: kept.append([p.idx for p in queue.pages(j.id)])).run(job)
        assert all(k == list(range(1, len(k) + 1)) for k in kept), kept
        assert len(set(map(len, kept))) == 2 * SHEETS + 1  # progress after every page
        assert job.state == State.READY, job.message
        return queue.pages(job.id), job.pdf


def streams(pdf):
    """Each page's content stream and its images' data as stored, in page order."""
    with pikepdf.open(pdf) as doc:
        return [(page.obj.Contents.read_raw_bytes(),
                 [x.read_raw_bytes() for _, x in sorted(page.Resources.XObject.items())])
                for page in doc.pages]


@pytest.fixture
def runs(kit, tmp_path):
    serial = scan(kit, tmp_path / "serial", 1)
    parallel = scan(kit, tmp_path / "parallel", 2 * SHEETS)  # every side in flight at once
    return serial, parallel


def test_pages_are_written_in_reading_order(runs):
    (serial, _), (parallel, _) = runs
    assert [p.idx for p in parallel] == list(range(1, 2 * SHEETS + 1))
    assert [p.blank for p in parallel] == [i % 2 == 0 for i in range(1, 2 * SHEETS + 1)]
    # (a page file's own checksum differs: img2pdf stamps the time into it)
    assert [(p.file, p.image_sha256, p.kind, p.blank) for p in parallel] == \
        [(p.file, p.image_sha256, p.kind, p.blank) for p in serial]


def test_parallel_and_serial_pdfs_have_byte_identical_page_streams(runs):
    (_, serial_pdf), (_, parallel_pdf) = runs
    assert len(streams(serial_pdf)) == SHEETS  # the blank backs are left out
    assert streams(parallel_pdf) == streams(serial_pdf)


def test_pages_in_flight_is_checked(kit):
    kit.configure([duplex(in_flight=-1)])
    with pytest.raises(ConfigError, match=r"pages_in_flight.*-1 is outside 0\.\.32"):
        kit.cfg()


def test_default_bound_fits_the_page_in_memory():
    a4 = (210, 297)
    assert feed.default_bound(*a4, 600, "color") == 2  # 139 MB a page: never fewer than 2
    assert feed.default_bound(*a4, 200, "gray") == feed.cores() + 1


def test_two_scanners_at_once(kit):
    kit.configure([duplex("left", page_delay=0.05),
                   duplex("right", page_delay=0.05)])
    daemon = kit.popen("run")
    try:
        wait_for(lambda: (kit.root / "locks" / "worker.lock").exists()
                 and daemon.poll() is None, what="daemon start")
        scans = [kit.popen("scan", "--scanner", name, "--doc", "Tờ khai", "--json")
                 for name in ("left", "right")]
        jobs = [json.loads(s.communicate(timeout=120)[0]) for s in scans]
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    log = daemon.stderr.read()
    listed = {j["job_id"]: j for j in json.loads(kit.edge("jobs", "--json").stdout)}
    for job in jobs:
        assert job["state"] == "ready" and job["pages"] == SHEETS, job
        assert f"job {job['job_id']} {job['ticket']} -> scanning" in log  # the daemon did both
        pages = listed[job["job_id"]]["page_list"]
        assert [p["blank"] for p in pages] == [i % 2 == 0 for i in range(1, 2 * SHEETS + 1)]
    assert kit.edge("verify").returncode == 0


def test_two_scanners_share_the_processs_bound_and_get_it_back():
    """Two readers with a bound of 3 pages each and a process bound of 3: never more than 3
    pages in flight together (the memory of one scanner keeping every core busy), every page
    comes out in order, and a reader stopped with pages in flight gives its room back."""
    shared = threading.Semaphore(3)
    go = threading.Event()
    lock = threading.Lock()
    in_flight, most = [0], [0]

    def work(n, image):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])

        def done():
            go.wait(60)
            with lock:
                in_flight[0] -= 1
            return n
        return pool.submit(done)

    def pages(k):
        return (Image.new("L", (8, 8)) for _ in range(k))

    with ThreadPoolExecutor(8) as pool:
        left = feed.ReadAhead(pages(6), work, 3, "left", shared)
        right = feed.ReadAhead(pages(6), work, 3, "right", shared)
        with left, right:
            wait_for(lambda: left.read + right.read == 3, what="three pages read")
            go.set()
            got = {}
            readers = [threading.Thread(target=lambda r=r: got.setdefault(r, list(r)))
                       for r in (left, right)]
            for t in readers:
                t.start()
            for t in readers:
                t.join(60)
        assert got == {left: [1, 2, 3, 4, 5, 6], right: [1, 2, 3, 4, 5, 6]}
        assert most[0] == 3
        go.clear()
        stopped = feed.ReadAhead(pages(6), work, 3, "stopped", shared)
        with stopped:
            wait_for(lambda: stopped.read == 3, what="three pages read")
        go.set()
    assert all(shared.acquire(blocking=False) for _ in range(3))
