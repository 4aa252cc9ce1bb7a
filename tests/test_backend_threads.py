"""A SANE backend's reader thread is never cancelled inside malloc (backend_threads.py)."""

import json
import os
import subprocess
import sys
import threading
import time

from edge.drivers.scanner.backend_threads import BackendThreads, futex_call, gone, parked

from .conftest import ROOT, sane_failing


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_thread_blocked_on_a_full_pipe_is_parked_one_waiting_for_a_lock_is_not():
    r, w = os.pipe()
    lock = threading.Lock()
    lock.acquire()
    tids = {}

    def writer():
        tids["writer"] = threading.get_native_id()
        try:
            while True:
                os.write(w, b"x" * 65536)
        except OSError:
            pass

    def locked():
        tids["locked"] = threading.get_native_id()
        lock.acquire()

    threads = [threading.Thread(target=f, daemon=True) for f in (writer, locked)]
    for t in threads:
        t.start()
    wait_for(lambda: len(tids) == 2)
    wait_for(lambda: parked(tids["writer"]))
    time.sleep(0.2)
    assert not parked(tids["locked"]) and not gone(tids["locked"])
    lock.release()
    os.close(r)  # the writer gets EPIPE and ends
    for t in threads:
        t.join(timeout=30)
    os.close(w)
    # join() returns as Python lets go of a thread, a moment before the thread itself ends
    wait_for(lambda: gone(tids["writer"]) and gone(tids["locked"]))
    assert parked(tids["writer"])


def test_settle_waits_for_the_threads_started_meanwhile_and_no_longer_than_told():
    backend = BackendThreads()
    release = threading.Event()
    with backend.starting():
        t = threading.Thread(target=release.wait, daemon=True)
        t.start()
    assert threading.get_native_id() not in backend.threads and len(backend.threads) >= 1
    assert backend.settle(timeout=0.2, ended=True) is False  # still there: given up
    threading.Timer(0.3, release.set).start()
    assert backend.settle(timeout=30, ended=True) is True
    assert not t.is_alive() and backend.threads == frozenset()


SCRIPT = """
import json, sys, threading, time
from edge.drivers.scanner.base import Acquisition
from edge.drivers.scanner.sane import SaneScanner
from edge.drivers.scanner.settings import SaneSettings
from edge.errors import ScannerError
from edge.pipeline import feed

feed.return_big_buffers()  # one heap for every thread, as in the service
stop = threading.Event()
def allocate():  # other threads of the service allocating meanwhile, the lock mostly free
    while not stop.is_set():  # (python-sane takes the interpreter lock back after every line)
        chunks = [bytearray(50000) for _ in range(20)]
        del chunks
        time.sleep(0.001)
for _ in range(2):
    threading.Thread(target=allocate, daemon=True).start()
pages = errors = 0
rounds, failing = int(sys.argv[1]), json.loads(sys.argv[2])
# batches first, then cover-open errors (a test option stays set on the device once set)
for options in [{}] * rounds + [failing] * rounds:
    scanner = SaneScanner(SaneSettings(name="adf", device="test:0", dpi=50))
    with scanner:
        scanner.open(Acquisition("adf", "color", 50, options))
        try:
            pages += sum(1 for _ in scanner.pages())
        except ScannerError:
            errors += 1
stop.set()
print(pages, errors)
"""


def test_hundreds_of_pages_and_cover_errors_with_one_heap_never_hang():
    """On the code before backend_threads.py, this froze 2 runs in 5 (about 2,000 pages each)."""
    rounds = 200
    failing = json.dumps(sane_failing("SANE_STATUS_COVER_OPEN"))
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(rounds), failing], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(rounds * 10), str(rounds)]


def test_the_futex_call_is_numbered_by_the_process_abi_not_the_kernel():
    assert futex_call("x86_64", 8) == 202 and futex_call("aarch64", 8) == 98
    # Raspberry Pi OS 32-bit: a 64-bit kernel (aarch64) under an ARM EABI userland
    assert futex_call("aarch64", 4) == 240 and futex_call("armv7l", 4) == 240
    assert futex_call("riscv64", 8) is None  # unknown: no thread is taken as parked in a lock
