"""Benchmark: delivery to a target against a bare `rclone copy` of the same files, same run.

The kit's delivery does more than copy: a temporary name, a checksum of the copy at the
destination (or a read-back where it has none), a rename, a record in SQLite, a `.sha256` and a
manifest per dossier. Measured here on DOSSIERS dossiers of one FILE_MB file each (random bytes
standing for PDFs, adopted into a real queue as finished documents), against a real server on
loopback (tests/delivery_peers.py, the ones the tests use): wall time and throughput (payload MB/s),
CPU seconds per payload MB (this process and its rclone), against `rclone copy` of the same PDFs
(its defaults: 4 transfers, its own checksum check) into an empty folder of the same server.
Target: at least 0.9 x the bare copy's throughput. Also the byte overhead per file: sidecars and
manifests, and read-back bytes, as a ratio of the payload.

On loopback the link is free and CPU is what is measured; over 4G the link is the limit and both
approach its speed.

Run: .venv/bin/python bench/delivery.py [--target sftp|webdav|file] [--dossiers N] [--mb M]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge import config
from edge.delivery import rclone
from edge.delivery.engine import Deliverer
from edge.delivery.settings import Delivery
from edge.delivery.store import Store
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from tests.delivery_peers import SshServer, WebdavServer

TARGET_RATIO = 0.9


def cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def make_kit(root: Path, dossiers: int, mb: float, target: Delivery) -> config.Config:
    storage = Storage(root)
    storage.prepare()
    day = time.strftime("%Y-%m-%d")
    with Queue(storage.db) as queue:
        for n in range(1, dossiers + 1):
            ticket = f"PL01-{day[2:4]}{day[5:7]}{day[8:10]}-{n:03d}"
            pdf = storage.outbox / day / f"{ticket}_01_to-khai.pdf"
            pdf.parent.mkdir(parents=True, exist_ok=True)
            data = os.urandom(int(mb * 2**20))
            pdf.write_bytes(data)
            queue.adopt(ticket=ticket, seq=1, dossier=None, doc="Tờ khai", created=time.time(),
                        files=[(pdf, hashlib.sha256(data).hexdigest())], message="", vi="")
    return config.Config(kit=config.Kit("PL01"), storage=config.Storage(root),
                         delivery=[target], path=root / "edge.toml")


def ours(cfg: config.Config) -> tuple[float, float, int, int]:
    """(seconds, CPU seconds, payload bytes, all bytes sent and read back)."""
    c0, t0 = cpu(), time.perf_counter()
    d = Deliverer(cfg)
    with Queue(cfg.storage.root / "queue.db") as queue, Store(cfg.storage.root) as store:
        try:
            d.run_once(queue, store)
        finally:
            d.close()
        seconds, used = time.perf_counter() - t0, cpu() - c0
        rows = store.rows(cfg.delivery[0].name)
        assert rows and all(r.state == "delivered" for r in rows), "not all delivered"
        payload = sum(r.bytes for r in rows if r.source)
        sent, _ = store.sent_on(cfg.delivery[0].name)
        return seconds, used, payload, sent


def bare(cfg: config.Config, work: Path) -> tuple[float, float]:
    """`rclone copy` of the outbox's PDFs into an empty folder of the same target."""
    remote = rclone.write_config(cfg.delivery[0], work)
    c0, t0 = cpu(), time.perf_counter()
    subprocess.run(["rclone", "--config", str(rclone.config_path(cfg.delivery[0], work)), "copy",
                    str(cfg.storage.root / "outbox"), f"{remote.fs}/bare"], check=True)
    return time.perf_counter() - t0, cpu() - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", choices=["sftp", "webdav", "file"], default="sftp")
    ap.add_argument("--dossiers", type=int, default=20)
    ap.add_argument("--mb", type=float, default=2.0, help="MB per file (a typical PDF: 1-5)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        server = (SshServer(base / "ssh") if args.target == "sftp" else
                  WebdavServer(base / "dav") if args.target == "webdav" else None)
        if server:
            server.start()
            target = Delivery(name="office", url=server.url(), credentials=server.credentials())
        else:
            target = Delivery(name="office", url=f"file://{base / 'dest'}")
        try:
            cfg = make_kit(base / "kit", args.dossiers, args.mb, target)
            bare_s, bare_cpu = bare(cfg, base / "bare")
            our_s, our_cpu, payload, sent = ours(cfg)
        finally:
            if server:
                server.stop()
    mb = payload / 2**20
    ratio = (mb / our_s) / (mb / bare_s)
    print(f"target {args.target}: {args.dossiers} dossiers x {args.mb} MB = {mb:.1f} MB")
    print(f"rclone copy (baseline): {bare_s:6.2f} s  {mb / bare_s:7.1f} MB/s  "
          f"CPU {bare_cpu / mb * 1000:6.1f} ms/MB")
    print(f"edge delivery:          {our_s:6.2f} s  {mb / our_s:7.1f} MB/s  "
          f"CPU {our_cpu / mb * 1000:6.1f} ms/MB")
    print(f"throughput ratio {ratio:.2f} x the bare copy (target >= {TARGET_RATIO})")
    print(f"byte overhead: {(sent - payload) / payload:.4f} of the payload "
          f"({(sent - payload) / args.dossiers / 1024:.1f} KB per file: sidecar, manifest"
          f"{', read-back' if sent > 2 * payload * 0.99 else ''})")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
