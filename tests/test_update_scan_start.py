"""`edge update` never stops the service under a scan that started after its last look for
running scans: from that look until the service is stopped, a queued job waits in the queue."""

import threading
from types import SimpleNamespace

from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.pipeline.worker import Worker
from edge.release.update import busy_jobs, no_new_scans

SIM = {"name": "sim", "driver": "sim", "source": "adf", "dpi": 100,
       "sim": {"sheets": 2, "page_delay": 0.0}}


def test_a_job_queued_while_an_update_stops_the_service_waits_for_the_new_release(kit):
    kit.configure([SIM])
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    stop = threading.Event()
    with Queue(storage.db) as queue:
        job = queue.create(kit="PL01", doc="Tờ khai", scanner="sim", preset="")
        worker = Worker(cfg, storage, queue, cfg.scanner[0], stop=stop)
        done: list = []
        with no_new_scans(SimpleNamespace(storage=SimpleNamespace(root=storage.root))):
            # the update has looked: nothing scans; the web UI's Scan is pressed now
            assert busy_jobs(storage.db) == 0
            t = threading.Thread(target=lambda: done.append(worker.run(job)))
            t.start()
            t.join(1.0)
            assert busy_jobs(storage.db) == 0 and queue.get(job.id).state == State.QUEUED
            stop.set()  # the service is stopped
            t.join(30)
        assert done and done[0].state == State.QUEUED  # kept for after the update
        assert queue.get(job.id).state == State.QUEUED

        # the new release runs it
        job = Worker(cfg, storage, queue, cfg.scanner[0]).run(queue.get(job.id))
        assert job.state == State.READY and job.pages == 2, job.message
