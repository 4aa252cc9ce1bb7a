"""The floor of CPU per page no scan pipeline avoids: the scanner's pages read by the driver
(edge/drivers/scanner/sane_read.py) and JPEG-encoded once at the same quality, in one process,
nothing else; or, with `python-sane`, read by python-sane's `snap`, line by line, as the driver
did before.

bench/scan_pipeline.py part 1 prints it beside the service's CPU per page, as a second
reference next to `scanimage` + `img2pdf`: what is left above it is the pipeline's own work
(steps, PDF, checksums, durable writes, assembly).

Run: SANE_CONFIG_DIR=<dir with dll.conf: test> .venv/bin/python bench/sane_floor.py DPI QUALITY
WIDTH_MM HEIGHT_MM PICTURE BATCHES [python-sane]; prints the CPU seconds and pages of the
measured batches (a warm-up batch first) as JSON.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

import sane

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.drivers.scanner import buffers, sane_read
from edge.drivers.scanner.backend_threads import BackendThreads
from edge.drivers.scanner.sane import _cancel, _snap  # the service's own read and cancel


def cpu() -> float:
    """CPU seconds of this process and of the children it waited for (a backend's reader)."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def batch(dpi: int, quality: int, width: float, height: float, picture: str) -> int:
    """One ADF batch read and encoded: the number of pages. Memory is kept from page to page
    as in the service (buffers.py)."""
    dev = sane.open("test:0")
    threads, pool = BackendThreads(), buffers.shared()
    try:
        dev.source, dev.mode, dev.resolution = "Automatic Document Feeder", "Color", dpi
        dev.br_x, dev.br_y, dev.test_picture = width, height, picture
        n = 0
        while True:
            try:
                with threads.starting():
                    dev.start()
                image = _snap(dev, threads)
            except sane._sane.error:  # the feeder is empty
                _cancel(dev, threads)  # as the driver does: else sane_close may deadlock
                return n
            with open(os.memfd_create("page", os.MFD_CLOEXEC), "w+b") as f:
                image.save(f, "JPEG", quality=quality, dpi=(dpi, dpi))
            pool.give_back(image)
            n += 1
    finally:
        dev.close()


def main() -> None:
    dpi, quality, width, height, picture, batches = sys.argv[1:7]
    if sys.argv[7:] == ["python-sane"]:
        sane_read.handle = lambda dev: None  # the driver then reads through python-sane
    sane.init()
    args = (int(dpi), int(quality), float(width), float(height), picture)
    with buffers.shared().scanning():
        batch(*args)  # warm-up: first reads, Pillow's plugins
        start = cpu()
        pages = sum(batch(*args) for _ in range(int(batches)))
    print(json.dumps({"cpu": cpu() - start, "pages": pages}))


if __name__ == "__main__":
    main()
