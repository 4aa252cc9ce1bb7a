"""Benchmark: the commune/province server (`edge fleet` into PostgreSQL) under many kits.

Everything on loopback, bounded in count and time: a throwaway PostgreSQL 15 cluster
(tests/fleet_postgres.py), a Mosquitto, one `edge fleet` collector as a real process, and
simulated kits as real MQTT clients (paho, QoS 1) in a few processes.

1. Throughput: the kits publish a fixed number of messages (events 60 %, metrics 20 %, device
   states 20 %, the mix of a working day) while the collector is stopped (its persistent
   session keeps them at the broker); then the collector drains that backlog: the figure is
   messages stored per second from its connection to the last commit, the publishers out of
   the way. Against the real rate of 1,000
   kits (REAL_RATE below); target: at least 10x that.
2. End-to-end delay, p50/p95: the kits publish at 10x the real rate of 1,000 kits for a while;
   the delay of an event is the collector's commit time minus the kit's publish time.
3. Database growth per kit per day: the tables' size on disk (pg_total_relation_size) after
   the fill of 4, divided by kits x days.
4. The fleet page's main query (edge.web.fleetview.fleet_rows: kits, states, today's counts) at
   1,000 kits x 90 days of history written straight into the database (generate_series, with
   the figure columns the collector writes; a printer problem on every tenth kit), and
   the kit page's 30 days of one kit and the month's figures; median of 10. Target < 200 ms.

Run: .venv/bin/python bench/fleet.py [--kits 200 --processes 4 --messages 20000]
     [--fill-kits 1000 --fill-days 90]
Needs postgresql and mosquitto (scripts/setup.sh test). The figures depend on the machine: on a
shared, busy machine they are lower bounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from telemetry import start_broker  # noqa: E402

from edge.telemetry.fleetdb import FleetDB  # noqa: E402
from edge.telemetry.fleetfigures import kit_figures  # noqa: E402
from edge.telemetry.fleetsql import KIT_FIGURES  # noqa: E402
from edge.web import fleetview  # noqa: E402
from tests.fleet_postgres import Postgres  # noqa: E402

# one kit on a working day: 4 device states and 1 metrics per 300 s, about 2 events a minute
# (a job every minute or so: job/ready, and the counts that follow it)
REAL_RATE = 5 / 300 + 2 / 60  # messages per second per kit
DEVICES = ("system-pi", "ups-ups", "modem-4g", "printer-mfp")


def message(kit: str, n: int, seq: int) -> tuple[str, dict[str, object]]:
    """The n-th message of a kit in the day's mix (3 events, 1 metrics, 1 state in 5)."""
    base = f"dvc/bench/{kit}"
    head = {"v": 1, "ts": time.time(), "kit": kit, "site": "bench", "clock_synced": True}
    if n % 5 == 3:
        return f"{base}/metrics", {**head, "uptime": 1.0, "devices": {
            "ups-ups": {"state": "ok", "battery.charge": 90, "battery.runtime": 900},
            "modem-4g": {"state": "ok", "signal.rsrp": -95},
            "system-pi": {"state": "ok", "system.disk_free": 5e9}},
            "outbox": {"pending": {"metrics": 0, "counts": 0, "event": 0},
                       "dropped": {"metrics": 0, "counts": 0, "event": 0}}}
    if n % 5 == 4:
        device = DEVICES[n // 5 % len(DEVICES)]
        return f"{base}/state/{device}", {**head, "device": device, "kind": device.split("-")[0],
                                          "name": "x", "driver": "sim", "state": "ok",
                                          "problems": [], "metrics": {}, "updated": time.time()}
    return f"{base}/event", {**head, "stream": "bench", "seq": seq, "type": "job/ready",
                             "data": {"job": seq, "pages": 3}}


def kits_process(port: int, first: int, count: int, per_kit: int, rate: float,
                 out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """`count` kits as paho clients publishing `per_kit` messages each at `rate` msg/s in all
    (0: as fast as the broker takes them)."""
    clients = []
    for k in range(first, first + count):
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-kit-{k}")
        c.max_queued_messages_set(0)
        c.connect("127.0.0.1", port)
        c.loop_start()
        clients.append((f"K{k:05d}", c))
    start, sent, last = time.monotonic(), 0, []
    seqs = {kit: 0 for kit, _ in clients}
    for n in range(per_kit):
        for kit, c in clients:
            topic, body = message(kit, n, seqs[kit] + 1)
            seqs[kit] += topic.endswith("/event")
            info = c.publish(topic, json.dumps(body), qos=1)
            sent += 1
            if rate:
                ahead = start + sent / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            if n == per_kit - 1:
                last.append(info)
    for info in last:
        info.wait_for_publish(120)
    for _, c in clients:
        c.disconnect()
        c.loop_stop()
    out.put(seqs)


def publish(port: int, kits: int, processes: int, per_kit: int, rate: float) -> dict[str, int]:
    """Run the kits; the number of events each kit sent."""
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    cut = [p * kits // processes for p in range(processes + 1)]  # every kit, none left out
    procs = [multiprocessing.Process(target=kits_process, args=(
        port, cut[p], cut[p + 1] - cut[p], per_kit, rate * (cut[p + 1] - cut[p]) / kits, out))
        for p in range(processes)]
    for p in procs:
        p.start()
    seqs: dict[str, int] = {}
    for _ in procs:
        seqs.update(out.get(timeout=900))
    for p in procs:
        p.join(60)
    return seqs


def stored(db: FleetDB) -> tuple[int, int]:
    (events,) = db.db.execute("SELECT COUNT(*) FROM events").fetchone()
    (samples,) = db.db.execute("SELECT COUNT(*) FROM samples").fetchone()
    return int(events), int(samples)


def wait_stored(db: FleetDB, events: int, samples: int, seconds: float) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if stored(db) >= (events, samples):
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"the collector fell behind: {stored(db)} of {(events, samples)} stored")


def reset(db: FleetDB) -> None:
    db.db.execute("TRUNCATE events, samples, states, kits")


def start_collector(port: int, url: str, tmp: Path, settle: bool = True
                    ) -> subprocess.Popen[bytes]:
    log = tmp / f"collector-{time.monotonic_ns()}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge", "fleet", "--broker", f"127.0.0.1:{port}", "--db", url,
         "--client-id", "bench-fleet"],
        env={**os.environ, "EDGE_CONFIG": str(tmp / "none.toml")},
        stderr=open(log, "wb"))  # noqa: SIM115
    deadline = time.monotonic() + 120
    while "MQTT connected" not in log.read_text():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit(f"the collector did not connect: {log.read_text()[-2000:]}")
        time.sleep(0.02)
    if settle:
        time.sleep(1)  # its SUBSCRIBE follows the CONNACK
    return proc


def throughput(args: argparse.Namespace, port: int, db: FleetDB, url: str,
               tmp: Path) -> subprocess.Popen[bytes]:
    """The kits publish while the collector is stopped (its persistent session keeps all),
    then the collector drains the backlog: its sustained rate, publishers out of the way."""
    first = start_collector(port, url, tmp)  # its session and subscription now exist
    first.terminate()
    first.wait(30)
    per_kit = max(5, args.messages // args.kits)
    seqs = publish(port, args.kits, args.processes, per_kit, 0)
    metrics_n = args.kits * sum(1 for n in range(per_kit) if n % 5 == 3)
    collector = start_collector(port, url, tmp, settle=False)
    t0 = time.monotonic()  # connected: the broker sends the backlog from now on (within 0.02 s)
    t1 = wait_stored(db, sum(seqs.values()), metrics_n, 900)
    total = args.kits * per_kit
    rate = sum(stored(db)) / 0.8 / (t1 - t0)  # events + samples: 60 % + 20 %
    need = 1000 * REAL_RATE
    print(f"1. throughput: a backlog of {total} messages from {args.kits} kits drained at "
          f"{rate:.0f} msg/s; 1,000 kits at their real rate send {need:.0f} msg/s: headroom "
          f"{rate / need:.1f}x (target >= 10x)")
    return collector


def delay(args: argparse.Namespace, port: int, db: FleetDB) -> None:
    reset(db)
    rate = 10 * 1000 * REAL_RATE
    per_kit = max(5, int(rate * args.delay_seconds / args.kits))
    seqs = publish(port, args.kits, args.processes, per_kit, rate)
    metrics_n = args.kits * sum(1 for n in range(per_kit) if n % 5 == 3)
    wait_stored(db, sum(seqs.values()), metrics_n, 600)
    rows = db.db.execute("SELECT received - ts FROM events").fetchall()
    ms = sorted(1000 * float(d) for (d,) in rows)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(f"2. end-to-end delay at {rate:.0f} msg/s (10x the real rate of 1,000 kits), "
          f"{len(ms)} events: p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms")


FILL = """
INSERT INTO kits (kit, site, base, status, status_since, last_seen, metrics, version,
                  last_event, last_event_ts, battery, runtime, signal, disk_free, clock_synced)
SELECT 'K' || lpad(k::text, 5, '0'), 'site-' || (k % 100), 'dvc/x/' || k,
       CASE WHEN k % 17 = 0 THEN 'offline' ELSE 'online' END, %(now)s - 3600, %(now)s,
       %(metrics)s, '1.0.0', 'job/ready', %(now)s, %(battery)s, %(runtime)s, %(signal)s,
       %(disk_free)s, %(clock_synced)s
FROM generate_series(1, %(kits)s) k;
INSERT INTO states (kit, device, payload, received, ups_status, problems)
SELECT k.kit, d, %(state)s, %(now)s, CASE WHEN d LIKE 'ups-%%' THEN 'OL' END,
       CASE WHEN d LIKE 'printer-%%' AND k.kit LIKE '%%3' THEN %(problems)s END
FROM kits k, unnest(%(devices)s::text[]) d;
INSERT INTO samples (kit, ts, received, battery, runtime, signal, disk_free, waiting)
SELECT 'K' || lpad(k::text, 5, '0'), %(now)s - s * %(step)s, %(now)s - s * %(step)s,
       50 + (s % 50), 900, -90 - (s % 20), 5e9, NULL
FROM generate_series(1, %(kits)s) k, generate_series(0, %(samples)s - 1) s;
INSERT INTO events (kit, stream, seq, type, ts, payload, received)
SELECT 'K' || lpad(k::text, 5, '0'), 'fill', s, 'job/ready', %(now)s - s * %(estep)s,
       %(event)s, %(now)s - s * %(estep)s
FROM generate_series(1, %(kits)s) k, generate_series(1, %(events)s) s;
INSERT INTO counts (kit, day, ts, payload)
SELECT 'K' || lpad(k::text, 5, '0'), to_char(current_date - d, 'YYYY-MM-DD'), %(now)s,
       %(counts)s
FROM generate_series(1, %(kits)s) k, generate_series(0, %(days)s - 1) d;
INSERT INTO visits (kit, day, visit, place, served, served_priority, left_unserved, jobs,
                    pages, slips, survey_answers, survey_satisfied)
SELECT 'K' || lpad(k::text, 5, '0'), to_char(current_date - d, 'YYYY-MM-DD'), 1,
       'place-' || (k % 7), 30, 5, 1, 25, 80, 20, 20, 18
FROM generate_series(1, %(kits)s) k, generate_series(0, %(days)s - 1) d;
ANALYZE;
""".replace(" % ", " %% ")  # modulo, not a placeholder


def fill(pg: Postgres, kits: int, days: int, per_day: int, events_per_day: int) -> str:
    import psycopg

    url = pg.new_database()
    FleetDB(url).close()  # the schema
    now = time.time()
    kit_metrics = json.loads(json.dumps(message("K00001", 3, 1)[1]))
    state = message("K00001", 4, 1)[1]
    event = message("K00001", 0, 1)[1]
    counts = {"v": 1, "ts": now, "kit": "K00001", "site": "site-1", "clock_synced": True,
              "day": "x", "jobs": 40, "pages": 120, "blank_pages": 3, "receipts": 20,
              "bytes": 10**8, "jobs_failed": 0}
    t0 = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        params = {
            **dict(zip(KIT_FIGURES, kit_figures(kit_metrics), strict=True)),
            "problems": json.dumps([{"code": "printer.paper_out", "severity": "warning"}]),
            "now": now, "kits": kits, "metrics": json.dumps(kit_metrics),
            "state": json.dumps(state), "devices": list(DEVICES), "step": 86400 / per_day,
            "samples": days * per_day, "estep": 86400 / events_per_day,
            "events": days * events_per_day, "event": json.dumps(event),
            "counts": json.dumps(counts), "days": days}
        for statement in FILL.split(";\n"):
            if statement.strip():
                conn.execute(statement, params)  # type: ignore[arg-type]
        sizes = conn.execute(
            "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables").fetchall()
    total = sum(int(s) for _, s in sizes)
    print(f"   filled {kits} kits x {days} days ({per_day} samples and {events_per_day} events "
          f"a day) in {time.monotonic() - t0:.0f} s")
    print(f"3. database growth: {total / kits / days / 1024:.0f} KiB per kit per day ("
          + ", ".join(f"{n} {int(s) / kits / days / 1024:.1f}" for n, s in
                      sorted(sizes, key=lambda x: -int(x[1])) if int(s) > 1 << 20) + ")")
    return url


def timed(f: object, n: int = 10) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def queries(url: str, kits: int, days: int) -> None:
    db = FleetDB(url, readonly=True)
    today, now = dt.date.today().isoformat(), time.time()
    rows: list[object] = []
    main = timed(lambda: rows.__setitem__(slice(None), fleetview.fleet_rows(db, now, today)))
    assert len(rows) == kits, len(rows)
    kit = timed(lambda: db.samples("K00001", now - 30 * 86400))
    month = timed(lambda: fleetview.month_figures(db, today[:7]), 5)
    print(f"4. at {kits} kits x {days} days: the fleet page's main query {main:.0f} ms "
          f"(target < 200 ms); one kit's 30 days of samples {kit:.0f} ms; the month's figures "
          f"per commune and place {month:.0f} ms (medians)")
    db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kits", type=int, default=200, help="simulated kits (MQTT clients)")
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--messages", type=int, default=20000, help="the backlog to drain")
    ap.add_argument("--delay-seconds", type=float, default=20.0)
    ap.add_argument("--fill-kits", type=int, default=1000)
    ap.add_argument("--fill-days", type=int, default=90)
    ap.add_argument("--samples-per-day", type=int, default=288, help="metrics every 300 s")
    ap.add_argument("--events-per-day", type=int, default=60)
    ap.add_argument("--skip-load", action="store_true", help="only 3 and 4")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f}"
          + ("  WARNING: a busy machine; the figures are lower bounds" if load > 1 else ""))
    pg = Postgres(fsync=True).start()  # a commit reaches the disk, as in production
    tmp = Path(tempfile.mkdtemp(prefix="edge-bench-fleet-"))
    # a collector's queue may hold a whole burst (docs/mosquitto/commune.conf does the same)
    broker, port = start_broker(tmp, "max_queued_messages 0", f"log_dest file {tmp}/broker.log",
                                "log_type error", "log_type warning", "log_type notice")
    collector = None
    try:
        url = pg.new_database()
        db = FleetDB(url)
        if not args.skip_load:
            collector = throughput(args, port, db, url, tmp)
            delay(args, port, db)
        db.close()
        big = fill(pg, args.fill_kits, args.fill_days, args.samples_per_day,
                   args.events_per_day)
        queries(big, args.fill_kits, args.fill_days)
    except SystemExit:
        print((tmp / "broker.log").read_text()[-2000:])
        raise
    finally:
        if collector is not None:
            collector.terminate()
            collector.wait(30)
        broker.terminate()
        broker.wait(10)
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
