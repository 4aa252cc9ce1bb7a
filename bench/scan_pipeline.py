"""Benchmark: the whole scan pipeline against `scanimage --batch` + `img2pdf`, in the same run.

Every figure is printed beside its baseline from the same run (the machine may be shared):
1. CPU per page (process CPU, not wall time) at 300 and 200 dpi colour, default page steps, for
   10-sheet ADF batches from the SANE `test` backend through the running service (`edge run`
   does the jobs, as when staff press Scan; its CPU and its descendants' is read from /proc, in
   its steady state: after a warm-up batch and once idle) and as a one-shot `edge scan`, against
   `scanimage --batch --format=jpeg` + `img2pdf`, same device and settings, interleaved, medians
   of REPEAT runs; beside them the floor no pipeline avoids (bench/sane_floor.py: the driver's
   read + one JPEG encode at the same quality), and the same floor with the page read by
   python-sane's snap instead, line by line, as the driver did before it read in large blocks
   (edge/drivers/scanner/sane_read.py). Targets: <= 90 ms at 300 dpi, <= 40 at 200 dpi.
2. Throughput scaling: pre-rendered 300 dpi colour pages (the simulated scanner's, rendered
   before the clock starts) fed with no delay through a Worker (steps, encoding, durable spool,
   assembly), the process pinned to one core (`taskset -c 0`) and to two (`taskset -c 0,1`):
   pages/s ratio, target >= 1.7x. Beside it, how many page threads wanted a core on average
   (on one or queued for one, not blocked on the interpreter lock): the ratio two free cores
   would give, which a busy machine does not hide the way it hides the pages/s ratio.
3. Scanner wait: the same pages delivered at a fixed rate that one core cannot keep up with but
   two can; the time the reading thread was held up by processing, as a share of the batch
   time, with parallel processing on (target <= 5 %) and off (`pages_in_flight = 1`).
   And how long after the last page was delivered the PDF was ready (target <= 2 s for a
   100-page batch: run with --pages 100).
3b. Scanner wait through the real SANE driver, which 3 cannot show: the driver reads a page in
   blocks (sane_read.py; about 120 a page here, where python-sane's snap read 1,574 lines) and
   takes the interpreter lock back after each, so the reading thread may wait for the lock while
   page threads run Python. The `test` backend of part 1 at 200 dpi colour, --jobs 10-sheet jobs
   one after another in one Worker, pinned to two cores, parallel processing on and off: the
   share of batch time the reading thread was held up by processing, as in 3 (paced by page, also
   how late pages were read against their pace: a wait for room while the next page is not due
   yet holds no scanner up), and the time it waited for the interpreter lock in its reads:
   sampled by another process (the system call the thread is in: futex() is the lock; a third
   run, on and unsampled, shows what the sampler costs), beside the difference between a page's
   read with processing on and off (the pure read), which the scheduling of the backend's thread
   and the reader on two cores blurs by a few ms a page either way.
   Paced two ways: a page started every 70 % of one core's time per page and read at the
   backend's full speed (the regime of 3); and by the backend's read-delay, a sleep before
   each of the ~57 buffers of a page it writes to its pipe, the duration nearest 70 %: here
   its shortest, 1000 us, already makes a page's read slower than one core processes it (so
   not the regime of 3, but lines arriving over the whole page as from a real scanner).
4. A Raspberry Pi 4 estimate from 1.
5. Peak RSS of `edge run` with two simulated 300 dpi colour scanners scanning at once, at two
   batch lengths: target <= 250 MB, flat with length. Pages are processed on threads of that
   one process (no process pool), so its peak RSS is the service's.

Run: .venv/bin/python bench/scan_pipeline.py [--repeat N] [--pages N] [--sheets 50 200]
     [--jobs N] [--rss-only | --sane-wait-only]
(--pages 100 for the "PDF ready within 2 s of the last sheet of a 100-page batch" figure)
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

VENV_BIN = Path(sys.executable).parent
SETTINGS = {"mode": "Color", "width_mm": 200, "height_mm": 200, "picture": "Color pattern"}
PI4_FACTOR = 4  # a Raspberry Pi 4 core does about a quarter of the work of one core here
PI4_CORES = 4
DUPLEX_IMAGE_MS = 430  # a fi-8170 in duplex: 140 images a minute
SERVICE_BATCHES = 3  # measured per run of the service, after a warm-up batch
IDLE_WINDOW = 0.5  # seconds
IDLE_CPU = 0.02  # of a core: the service's background work when no page is processed


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds user+sys, peak RSS in KiB) of one child process."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def edge_config(path: Path, root: Path, scanners: str) -> Path:
    path.write_text(f'[kit]\nid = "BENCH"\n[storage]\nroot = "{root}"\n\n{scanners}')
    return path


def _sane_config(tmp: Path, n: object, dpi: int) -> Path:
    return edge_config(tmp / f"sane{n}.toml", tmp / f"data{n}", (
        '[[scanner]]\nname = "adf"\ndriver = "sane"\ndevice = "test:0"\nsource = "adf"\n'
        f'mode = "color"\ndpi = {dpi}\njpeg_quality = 75\n'
        f'page_width_mm = {SETTINGS["width_mm"]}\npage_height_mm = {SETTINGS["height_mm"]}\n'
        f'options = {{ "test-picture" = "{SETTINGS["picture"]}" }}\n'))


def one_shot(tmp: Path, env: dict[str, str], n: int, dpi: int) -> tuple[float, float]:
    cfg = _sane_config(tmp, f"{dpi}-{n}", dpi)
    wall, cpu, _ = run_measured([str(VENV_BIN / "edge"), "--config", str(cfg), "scan",
                                 "--scanner", "adf", "--doc", "Giấy khai sinh"], env)
    return wall, cpu


def started(cfg: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`edge run`, once it says it is running."""
    daemon = subprocess.Popen([str(VENV_BIN / "edge"), "--config", str(cfg), "run"], env=env,
                              stderr=subprocess.PIPE, text=True)
    assert daemon.stderr is not None
    for line in daemon.stderr:
        if "edge running" in line:
            break
    return daemon


def service(tmp: Path, env: dict[str, str], batches: int, dpi: int) -> tuple[float, float]:
    """(wall, CPU seconds) the running daemon, with every process it started, spends on
    `batches` jobs submitted by the CLI, in its steady state: after a warm-up batch and once it
    is idle (start-up work, imports and the pollers' first passes, would count otherwise), up to
    when it is idle again after the last (a PDF finished after `edge scan` returns counts)."""
    cfg = _sane_config(tmp, f"service{dpi}", dpi)
    daemon = started(cfg, env)
    scan = [str(VENV_BIN / "edge"), "--config", str(cfg), "scan", "--scanner", "adf",
            "--doc", "Giấy khai sinh"]
    try:
        subprocess.run(scan, env=env, check=True, capture_output=True)  # warm-up
        cpu0, start = idle(daemon.pid), time.monotonic()
        for _ in range(batches):
            subprocess.run(scan, env=env, check=True, capture_output=True)
        wall = time.monotonic() - start
        return wall, idle(daemon.pid) - cpu0
    finally:
        daemon.terminate()
        daemon.wait()


def idle(pid: int, timeout: float = 60.0) -> float:
    """`tree_cpu(pid)` once the daemon has spent less than IDLE_CPU of a core over
    IDLE_WINDOW seconds (its pollers' background work), or after `timeout` seconds."""
    cpu, deadline = tree_cpu(pid), time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(IDLE_WINDOW)
        cpu, last = tree_cpu(pid), cpu
        if cpu - last < IDLE_CPU * IDLE_WINDOW:
            break
    return cpu


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` and of all its descendants: every thread
    of each, the live processes from /proc and the ones already reaped through their
    parent's cutime and cstime (a page pool's processes, a backend's reader)."""
    stats: dict[int, list[str]] = {}
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone since the listing
            continue
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    ticks, todo = 0, [pid]
    while todo:
        p = todo.pop()
        ticks += sum(int(v) for v in stats.get(p, ["0"] * 15)[11:15])
        todo += children.get(p, [])
    return ticks / os.sysconf("SC_CLK_TCK")


def floor(env: dict[str, str], dpi: int, batches: int, python_sane: bool = False) -> float:
    """CPU seconds per page of the floor (bench/sane_floor.py): the same device's pages read
    by the driver (or by python-sane's snap) and JPEG-encoded at the same quality, nothing
    else."""
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("sane_floor.py")),
                          str(dpi), "75", str(SETTINGS["width_mm"]), str(SETTINGS["height_mm"]),
                          SETTINGS["picture"], str(batches), *(["python-sane"] * python_sane)],
                         env=env, capture_output=True, text=True, check=True, timeout=600)
    got = json.loads(out.stdout)
    return got["cpu"] / got["pages"]


def baseline(tmp: Path, env: dict[str, str], n: int, dpi: int) -> tuple[float, float]:
    out = tmp / f"base{dpi}-{n}"
    out.mkdir()
    wall1, cpu1, _ = run_measured([
        "scanimage", "-d", "test:0", "--source", "Automatic Document Feeder",
        "--mode", SETTINGS["mode"], "--resolution", str(dpi),
        "-x", str(SETTINGS["width_mm"]), "-y", str(SETTINGS["height_mm"]),
        "--test-picture", SETTINGS["picture"], "--format=jpeg",
        f"--batch={out}/p%03d.jpg"], env)
    pages = sorted(str(p) for p in out.glob("p*.jpg"))
    wall2, cpu2, _ = run_measured([str(VENV_BIN / "img2pdf"), *pages, "-o",
                                   str(out / "out.pdf")], env)
    return wall1 + wall2, cpu1 + cpu2


def cpu_per_page(tmp: Path, env: dict[str, str], repeat: int) -> dict[int, float]:
    """Part 1: prints the table; returns the service's CPU seconds per page by dpi."""
    pages = 10  # the SANE test backend's feeder holds 10 sheets
    service_cpu = {}
    for dpi, target in ((300, 0.090), (200, 0.040)):
        runs: dict[str, list[tuple[float, float]]] = {"service": [], "one-shot": [],
                                                      "baseline": []}
        floors: list[float] = []
        snap_floors: list[float] = []
        for i in range(repeat):
            wall, cpu = service(tmp, env, SERVICE_BATCHES, dpi)
            runs["service"].append((wall / SERVICE_BATCHES, cpu / SERVICE_BATCHES))
            runs["one-shot"].append(one_shot(tmp, env, i, dpi))
            runs["baseline"].append(baseline(tmp, env, i, dpi))
            floors.append(floor(env, dpi, SERVICE_BATCHES))
            snap_floors.append(floor(env, dpi, SERVICE_BATCHES, python_sane=True))
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
               for k, v in runs.items()}
        print(f"\n1. CPU per page: SANE test backend, {pages}-sheet batches, {dpi} dpi colour, "
              f"default page steps, median of {repeat} runs; the service after a warm-up batch "
              f"and once idle, {SERVICE_BATCHES} batches, CPU of the daemon and its descendants")
        print(f"{'':<40}{'pages/s':>10}{'CPU ms/page':>13}{'vs baseline':>13}")
        base_cpu = med["baseline"][1]
        for k, label in (("service", "edge run (service, whole pipeline)"),
                         ("one-shot", "edge scan (one-shot process)"),
                         ("baseline", "baseline: scanimage + img2pdf")):
            wall, cpu = med[k]
            print(f"{label:<40}{pages / wall:>10.2f}{cpu / pages * 1000:>13.1f}"
                  f"{cpu / base_cpu:>12.2f}x")
        lowest = statistics.median(floors)
        label = "floor: the driver's read + one JPEG"
        print(f"{label:<40}{'':>10}{lowest * 1000:>13.1f}"
              f"{lowest * pages / base_cpu:>12.2f}x")
        snap = statistics.median(snap_floors)
        print(f"{'  the same, read by python-sane (snap)':<40}{'':>10}{snap * 1000:>13.1f}"
              f"{snap * pages / base_cpu:>12.2f}x")
        service_cpu[dpi] = med["service"][1] / pages
        print(f"service CPU per page at {dpi} dpi: {service_cpu[dpi] * 1000:.1f} ms "
              f"(target <= {target * 1000:.0f} ms; floor {lowest * 1000:.1f} ms, the pipeline's "
              f"own work above it {(service_cpu[dpi] - lowest) * 1000:.1f} ms)")
    return service_cpu


def pi4_estimate(cpu: dict[int, float]) -> None:
    print(f"\n4. Raspberry Pi 4 estimate. Assumption: a Pi 4 core does 1/{PI4_FACTOR} of the work "
          f"of one core here, and the page work spreads over its {PI4_CORES} cores as it does "
          "over the cores here (part 2); the SANE test backend's own pixel generation, counted "
          "above, stands for the USB transfer of a real scanner.")
    for label, scanners, dpi in (("one fi-8170 duplex at 300 dpi", 1, 300),
                                 ("two fi-8170 duplex at 200 dpi", 2, 200)):
        per_image = cpu[dpi] * 1000 * PI4_FACTOR
        cores = scanners * per_image / DUPLEX_IMAGE_MS
        verdict = "keeps up" if cores <= PI4_CORES else "falls behind"
        print(f"  {label}: {per_image:.0f} ms of a Pi core per image against one image every "
              f"{DUPLEX_IMAGE_MS} ms per scanner: {cores:.2f} of {PI4_CORES} cores ({verdict})")


# -- parts 2 and 3 run in a child process, pinned with taskset --------------------------------

def prerendered(pages: int, dpi: int) -> list[object]:
    """Distinct simulated A4 colour pages, rendered once (a seal on every fourth)."""
    from edge.drivers.scanner.sim import render_page

    return [render_page(n, dpi, 210, 297, seal=n % 4 == 0) for n in range(1, min(pages, 8) + 1)]


def run_worker(tmp: Path, images: list[object], pages: int, period: float,
               in_flight: int) -> dict[str, float]:
    """One job of `pages` pre-rendered pages, one every `period` seconds (0: no delay),
    through the real Worker; wall time and how long the reading thread waited."""
    from edge import config
    from edge.drivers.scanner.base import Scanner
    from edge.pipeline import worker as worker_module
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage

    class Feeder(Scanner):
        def open(self, settings: object) -> None:
            pass

        def pages(self) -> Iterator[object]:
            start = time.monotonic()
            for n in range(pages):
                delay = start + n * period - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                last[0] = time.monotonic()
                yield images[n % len(images)]

        def close(self) -> None:
            pass

    last = [0.0]  # when the last page was delivered
    root = tmp / f"w{time.monotonic_ns()}"
    cfg = config.load(edge_config(root.with_suffix(".toml"), root, (
        '[[scanner]]\nname = "feed"\ndriver = "sim"\nmode = "color"\ndpi = 300\n'
        f"pages_in_flight = {in_flight}\n")))
    worker_module.make = Feeder  # the pre-rendered feeder stands in for the driver
    storage = Storage(cfg.storage.root)
    storage.prepare()
    with Queue(storage.db) as queue:
        job = queue.create(kit="BENCH", doc="Tờ khai", scanner="feed", preset="")
        w = worker_module.Worker(cfg, storage, queue, cfg.scanner[0])
        before = page_threads_schedstat()
        start = time.monotonic()
        job = w.run(job)
        end = time.monotonic()
        wall = end - start
        after = page_threads_schedstat()
    assert job.state.value == "ready", job.message
    wanting = sum(after[t] - before.get(t, 0) for t in after) / 1e9 / wall
    return {"wall": wall, "waited": w.waited[0], "pages": pages, "wanting": wanting,
            "threads": len(after), "ready_after": end - last[0]}


def page_threads_schedstat() -> dict[int, int]:
    """Nanoseconds each page thread has spent on a core or waiting in a run queue for one
    (/proc/<pid>/task/<tid>/schedstat): its time not blocked, on the interpreter lock or
    on anything else. Summed over a run and divided by its wall time, the number of cores
    the page threads could use: the scaling a machine with the cores free would show."""
    import threading

    out = {}
    for t in threading.enumerate():
        if t.name.startswith("page") and t.native_id is not None:
            run, wait, _ = Path(f"/proc/self/task/{t.native_id}/schedstat").read_text().split()
            out[t.native_id] = int(run) + int(wait)
    return out


def child(part: str, pages: int, period: float) -> None:
    images = prerendered(pages, 300)
    with tempfile.TemporaryDirectory(prefix="edge-bench-") as name:
        tmp = Path(name)
        run_worker(tmp, images, 2, 0.0, 0)  # warm up: first imports, page threads
        if part == "throughput":
            out = run_worker(tmp, images, pages, 0.0, 0)
        elif part == "serial-ms":  # one core's time per page, no read-ahead
            out = run_worker(tmp, images, pages, 0.0, 1)
        else:
            out = {"on": run_worker(tmp, images, pages, period, 0),
                   "off": run_worker(tmp, images, pages, period, 1)}
    print(json.dumps(out))


def pinned(cpus: str, part: str, env: dict[str, str] | None = None, **options: object) -> dict:
    """What `--child part` prints, run pinned to `cpus` with `options` (pages=100: --pages 100)."""
    args = [str(a) for k, v in options.items() for a in (f"--{k.replace('_', '-')}", v)]
    out = subprocess.run(["taskset", "-c", cpus, sys.executable, __file__, "--child", part,
                          *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def scaling(pages: int) -> None:
    one = pinned("0", "throughput", pages=pages)
    two = pinned("0,1", "throughput", pages=pages)
    r1, r2 = pages / one["wall"], pages / two["wall"]
    print(f"\n2. Throughput: {pages} pre-rendered 300 dpi colour pages, no delay, whole Worker")
    print(f"  taskset -c 0   {r1:6.2f} pages/s\n  taskset -c 0,1 {r2:6.2f} pages/s\n"
          f"  ratio {r2 / r1:.2f}x (target >= 1.70)")
    print(f"  page threads wanting a core (on one or queued for one, not blocked), "
          f"taskset -c 0,1: {two['wanting']:.2f} of {two['threads']} on average: about the "
          "ratio two free cores would give (a busy machine lowers it: a thread preempted while "
          "it holds the interpreter lock blocks the other)")


def scanner_wait(pages: int) -> None:
    per_page = pinned("0", "serial-ms", pages=pages)["wall"] / pages
    period = per_page * 0.7  # one core needs 1/0.7 of the period a page, two cores 0.71/2
    res = pinned("0,1", "wait", pages=pages, period=period)
    print(f"\n3. Scanner wait: {pages} pages delivered every {period * 1000:.0f} ms (one core "
          f"processes a page in {per_page * 1000:.0f} ms), taskset -c 0,1")
    for key, label in (("on", "parallel processing on "), ("off", "parallel processing off")):
        r = res[key]
        print(f"  {label}: reading thread held up {r['waited']:.2f} s of {r['wall']:.2f} s "
              f"= {r['waited'] / r['wall']:.1%}" + ("  (target <= 5 %)" if key == "on" else ""))
    for key, label in (("on", "parallel processing on "), ("off", "parallel processing off")):
        print(f"  {label}: PDF ready {res[key]['ready_after']:.2f} s after the last sheet "
              f"({pages} pages)" + ("  (target <= 2 s for 100 pages)" if key == "on" else ""))


# -- part 3b: the scanner wait through the real SANE driver, in a child pinned with taskset ---

SANE_DPI = 200
SANE_SHEETS = 10  # the test backend's feeder: empty after 10 sheets, full again at each job
DELAY_STEP_US = 1000  # read-delay-duration: its minimum and its step
SAMPLE_SECONDS = 0.001
READ = ({"x86_64": 0, "aarch64": 63}.get(platform.machine())  # read(2), per machine and ABI
        if sys.maxsize > 2**32 else 3)
# Another process samples the system call the reading thread is in (as backend_threads.parked
# reads it): asleep in futex() during a snap is the interpreter lock (nothing else the reading
# thread locks there), in read() the backend's pipe. Its own Python would share the lock; at
# the lowest priority it takes as little as it can from the threads it watches.
SAMPLER = """
import os, sys, time
os.nice(19)
fd, interval, calls = os.open(sys.argv[1], os.O_RDONLY), float(sys.argv[2]), []
while True:
    try:
        calls.append((time.monotonic(), os.pread(fd, 16, 0).split(maxsplit=1)[0].decode()))
    except (OSError, IndexError):  # the thread is gone: its job is read
        break
    time.sleep(interval)
print(repr(calls))
"""


def sane_jobs(tmp: Path, jobs: int, delay_us: int, period: float, in_flight: int,
              sample: bool = True) -> dict[str, float]:
    """`jobs` jobs of the SANE test backend (part 1's device and settings, at SANE_DPI) done one
    after the other by one Worker, through the real driver. Pacing: the backend sleeps
    `delay_us` before each buffer it writes to its pipe (0: no delay), and a page is read no
    sooner than `period` seconds after the one before it was due or read, whichever was later,
    as a scanner feeding at that pace (0: at once). Sums over the jobs: wall time, how late
    pages were read against that pace, time the reading thread was held up by processing
    (Worker.waited), and over each page's snap (the driver's read of the page, in blocks; the
    pacing sleep excluded): its wall time, the reading thread's time on a core and queued for
    one in it (/proc/self/task/<tid>/schedstat), the times it went to sleep in it (its voluntary
    context switches: an empty pipe, or the interpreter lock held by another thread), and if
    `sample`, the SAMPLER's samples in it: all, in futex() (the lock), in read() (the pipe)."""
    import threading

    from edge import config
    from edge.drivers.scanner import sane as sane_driver
    from edge.drivers.scanner.backend_threads import FUTEX
    from edge.pipeline import worker as worker_module
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage

    snaps = {"snap": 0.0, "late": 0.0, "snap_run": 0.0, "snap_queued": 0.0, "snap_sleeps": 0.0,
             "samples": 0.0, "samples_lock": 0.0, "samples_pipe": 0.0}
    real_snap = sane_driver._snap
    paced: dict[str, Any] = {"due": 0.0, "n": 0, "spans": [], "sampler": None}
    futex, read = str(FUTEX), str(READ)

    def reader_stats() -> tuple[int, int, int]:
        task = Path(f"/proc/self/task/{threading.get_native_id()}")
        run, queued, _ = (task / "schedstat").read_text().split()
        status = (task / "status").read_text()
        sleeps = status.split("voluntary_ctxt_switches:")[1].split()[0]
        return int(run), int(queued), int(sleeps)

    def timed_snap(dev: Any, threads: Any) -> Any:
        now = time.monotonic()
        if paced["n"] == 0:
            if sample:
                paced["sampler"] = subprocess.Popen(
                    [sys.executable, "-c", SAMPLER,
                     f"/proc/{os.getpid()}/task/{threading.get_native_id()}/syscall",
                     str(SAMPLE_SECONDS)],
                    stdout=subprocess.PIPE, text=True)
                now = time.monotonic()  # the sampler's start is not the first page's lateness
            paced["due"] = now
        paced["n"] += 1
        if now < paced["due"]:
            time.sleep(paced["due"] - now)
        elif period:  # due earlier: a scanner feeding at this pace waited, then goes on at it
            snaps["late"] += now - paced["due"]
        paced["due"] = max(now, paced["due"]) + period
        run0, queued0, sleeps0 = reader_stats()
        start = time.monotonic()
        page = real_snap(dev, threads)
        paced["spans"].append((start, time.monotonic()))
        snaps["snap"] += time.monotonic() - start
        run1, queued1, sleeps1 = reader_stats()
        snaps["snap_run"] += (run1 - run0) / 1e9
        snaps["snap_queued"] += (queued1 - queued0) / 1e9
        snaps["snap_sleeps"] += sleeps1 - sleeps0
        return page

    def sampled(paced: dict[str, Any]) -> None:
        """Count the sampler's samples taken during a snap: all, in futex(), in read()."""
        if paced["sampler"] is None:
            return
        calls = ast.literal_eval(paced.pop("sampler").communicate()[0])
        paced["sampler"] = None
        spans, i = paced["spans"], 0
        for t, call in calls:
            while i < len(spans) and spans[i][1] < t:
                i += 1
            if i == len(spans):
                break
            if spans[i][0] <= t:
                snaps["samples"] += 1
                snaps["samples_lock"] += call == futex
                snaps["samples_pipe"] += call == read
        spans.clear()

    delay = f', "read-delay" = true, "read-delay-duration" = {delay_us}' if delay_us else ""
    root = tmp / f"s{time.monotonic_ns()}"
    cfg = config.load(edge_config(root.with_suffix(".toml"), root, (
        '[[scanner]]\nname = "adf"\ndriver = "sane"\ndevice = "test:0"\nsource = "adf"\n'
        f'mode = "color"\ndpi = {SANE_DPI}\njpeg_quality = 75\npages_in_flight = {in_flight}\n'
        f'page_width_mm = {SETTINGS["width_mm"]}\npage_height_mm = {SETTINGS["height_mm"]}\n'
        f'options = {{ "test-picture" = "{SETTINGS["picture"]}"{delay} }}\n')))
    storage = Storage(cfg.storage.root)
    storage.prepare()
    sane_driver._snap = timed_snap
    wall = waited = pages = 0.0
    try:
        with Queue(storage.db) as queue:
            w = worker_module.Worker(cfg, storage, queue, cfg.scanner[0])
            for _ in range(jobs):
                job = queue.create(kit="BENCH", doc="Tờ khai", scanner="adf", preset="")
                paced["n"] = 0
                start = time.monotonic()
                job = w.run(job)
                wall += time.monotonic() - start
                sampled(paced)
                assert job.state.value == "ready", job.message
                waited += w.waited[0]
                pages += w.waited[1]
    finally:
        sane_driver._snap = real_snap
    return {"wall": wall, "waited": waited, "pages": pages, **snaps}


def sane_child(part: str, jobs: int, delay_us: int, period: float) -> None:
    with tempfile.TemporaryDirectory(prefix="edge-bench-") as name:
        tmp = Path(name)
        sane_jobs(tmp, 1, 0, 0.0, 0)  # warm up: first imports, page threads, libsane
        if part == "sane-serial":  # one core's time per page, no read-ahead, not sampled;
            # and a page's read time at the shortest read delay
            out = {"serial": sane_jobs(tmp, jobs, 0, 0.0, 1, sample=False),
                   "step": sane_jobs(tmp, 1, DELAY_STEP_US, 0.0, 1, sample=False)}
        else:
            out = {"on": sane_jobs(tmp, jobs, delay_us, period, 0),
                   "off": sane_jobs(tmp, jobs, delay_us, period, 1),
                   "on unsampled": sane_jobs(tmp, jobs, delay_us, period, 0, sample=False)}
    print(json.dumps(out))


def sane_scanner_wait(jobs: int, env: dict[str, str]) -> None:
    serial = pinned("0", "sane-serial", env, jobs=jobs)
    one, step = serial["serial"], serial["step"]
    per_page = one["wall"] / one["pages"]
    read = one["snap"] / one["pages"]  # at the backend's full speed, nothing else running
    per_step = step["snap"] / step["pages"] - read  # a page's read, per DELAY_STEP_US of delay
    period = per_page * 0.7  # as part 3: one core cannot keep up, two can
    delay_us = DELAY_STEP_US * max(1, round((period - read) / per_step))
    by_page = pinned("0,1", "sane-wait", env, jobs=jobs, period=period)
    by_buffer = pinned("0,1", "sane-wait", env, jobs=jobs, delay_us=delay_us)
    paced_read = by_buffer["off"]["snap"] / by_buffer["off"]["pages"]
    print(f"\n3b. Scanner wait through the SANE driver: {jobs} jobs of {SANE_SHEETS} sheets of the "
          f"test backend, {SANE_DPI} dpi colour, one Worker, taskset -c 0,1. The driver reads a "
          "page in blocks and takes the interpreter lock back after each block. One core "
          f"(taskset -c 0, parallel off) does a page in {per_page * 1000:.0f} ms, "
          f"{read * 1000:.0f} ms of it reading at the backend's full speed")
    print(f"  paced by page: a page started every {period * 1000:.0f} ms (70 % of one core's), "
          "read at the backend's full speed")
    sane_wait_figures(by_page, paced=True)
    print(f"  paced by buffer: read-delay-duration {delay_us} us, slept before each buffer the "
          f"backend writes to its pipe (~{per_step * 1000:.0f} a page): a page takes "
          f"{paced_read * 1000:.0f} ms to read, {paced_read / per_page:.0%} of one core's page "
          f"(70 % wanted; {DELAY_STEP_US} us is the shortest delay)")
    sane_wait_figures(by_buffer)


def sane_wait_figures(res: dict, paced: bool = False) -> None:
    """Part 3b's figures of one pacing; `paced` (by page): also how late pages were read."""
    for key, label in (("on", "parallel processing on "), ("off", "parallel processing off")):
        r = res[key]
        print(f"    {label}: reading thread held up {r['waited']:.2f} s of {r['wall']:.2f} s "
              f"= {r['waited'] / r['wall']:.1%}" + ("  (target <= 5 %)" if key == "on" else ""))
    labels = (("on", "parallel processing on "), ("off", "parallel processing off"),
              ("on unsampled", "parallel on, unsampled "))
    for key, label in labels if paced else ():
        r = res[key]
        print(f"    {label}: pages read after they were due {r['late']:.2f} s of {r['wall']:.2f} s "
              f"= {r['late'] / r['wall']:.1%}: the time a scanner feeding at this pace waits "
              "(being held up while the next page is not due yet costs it nothing)")
    on, off = res["on"], res["off"]
    per = {k: on[k] / on["pages"] - off[k] / off["pages"]
           for k in ("snap", "snap_run", "snap_queued", "snap_sleeps")}
    asleep = per["snap"] - per["snap_run"] - per["snap_queued"]
    print(f"    a page's read (snap): {on['snap'] / on['pages'] * 1000:.1f} ms parallel on, "
          f"{off['snap'] / off['pages'] * 1000:.1f} ms off (the pure read: nothing runs "
          f"meanwhile), {per['snap'] * 1000:+.1f} ms: the reading thread on a core "
          f"{per['snap_run'] * 1000:+.1f}, queued for one {per['snap_queued'] * 1000:+.1f}, "
          f"asleep {asleep * 1000:+.1f} ms ({per['snap_sleeps']:+.0f} sleeps a page)")
    for key, label in (("on", "parallel processing on "), ("off", "parallel processing off")):
        r = res[key]
        lock = r["snap"] * r["samples_lock"] / max(r["samples"], 1)
        print(f"    {label}: reading thread waiting for the interpreter lock in its reads "
              f"(sampled: in futex() {r['samples_lock']:.0f} of {r['samples']:.0f} samples) "
              f"{lock:.2f} s = {lock / r['pages'] * 1000:.1f} ms a page = "
              f"{lock / r['wall']:.1%} of the batch time")
    bare = res["on unsampled"]
    print(f"    parallel on, unsampled (a control for the sampler's own cost): a page's read "
          f"{bare['snap'] / bare['pages'] * 1000:.1f} ms, reading thread held up "
          f"{bare['waited'] / bare['wall']:.1%} of {bare['wall']:.2f} s")

def two_scanner_rss(tmp: Path, env: dict[str, str], sheets: int) -> float:
    """Peak RSS (MB) of `edge run` while two simulated 300 dpi colour scanners each scan
    `sheets` pages at once."""
    scanners = "".join(f'[[scanner]]\nname = "{name}"\ndriver = "sim"\nsource = "adf"\n'
                       f'mode = "color"\ndpi = 300\n'
                       f'sim = {{ sheets = {sheets}, page_delay = 0.0 }}\n'
                       for name in ("left", "right"))
    cfg = edge_config(tmp / f"rss{sheets}.toml", tmp / f"rss{sheets}", scanners)
    daemon = started(cfg, env)
    scans = [subprocess.Popen([str(VENV_BIN / "edge"), "--config", str(cfg), "scan", "--scanner",
                               name, "--doc", "Tờ khai"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for name in ("left", "right")]
    for s in scans:
        if s.wait() != 0:
            raise SystemExit("a two-scanner batch failed")
    daemon.send_signal(signal.SIGTERM)
    _, _, usage = os.wait4(daemon.pid, 0)
    return usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pages", type=int, default=24, help="pages of the batches of parts 2, 3")
    ap.add_argument("--sheets", type=int, nargs=2, default=[50, 200])
    ap.add_argument("--rss-only", action="store_true", help="part 5 alone")
    ap.add_argument("--sane-wait-only", action="store_true", help="part 3b alone")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--period", type=float, default=0.0, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=5, help="10-sheet SANE jobs of part 3b")
    ap.add_argument("--delay-us", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child and args.child.startswith("sane"):
        return sane_child(args.child, args.jobs, args.delay_us, args.period)
    if args.child:
        return child(args.child, args.pages, args.period)
    with tempfile.TemporaryDirectory(prefix="edge-bench-") as name:
        tmp = Path(name)
        (tmp / "dll.conf").write_text("test\n")
        env = {**os.environ, "SANE_CONFIG_DIR": name,
               "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}  # as systemd/edge.service has it
        if args.sane_wait_only:
            return sane_scanner_wait(args.jobs, env)
        if not args.rss_only:
            cpu = cpu_per_page(tmp, env, args.repeat)
            scaling(args.pages)
            scanner_wait(args.pages)
            sane_scanner_wait(args.jobs, env)
            pi4_estimate(cpu)
        small, large = args.sheets
        rss = {n: two_scanner_rss(tmp, env, n) for n in (small, large)}
        print(f"\n5. Peak RSS of edge run, two simulated 300 dpi colour scanners at once: "
              f"{small} pages each {rss[small]:.0f} MB, {large} pages each {rss[large]:.0f} MB "
              f"(target <= 250 MB, flat): growth {rss[large] / rss[small]:.2f}x")


if __name__ == "__main__":
    main()
