"""Benchmark: delivery to each kind of target against a bare `rclone copy` of the same files,
same run.

The kit's delivery does more than copy: a temporary name, a checksum of the copy at the
destination (or a read-back where it computes none: SMB, WebDAV, an encrypted target), a rename,
a record in SQLite, a `.sha256` and a manifest per dossier. Measured on DOSSIERS dossiers of one
MB file each (random bytes standing for PDFs, adopted into a real queue as finished documents),
against the real servers the tests use (tests/delivery_peers.py) on loopback: wall time,
throughput (payload MB/s) and CPU per payload MB (this process and its rclone), against `rclone
copy` of the same PDFs (4 transfers) into an empty folder of the same server. Where ours reads
every byte back, a second baseline gives rclone the same assurance: `rclone copy` then `rclone
checksum sha256 --download` (the copy read back, checked against the known sums). Target:
>= 0.9 x the baseline of the same assurance. A third baseline copies what the kit delivers (the PDFs
with their sidecars and manifests, laid out as the kit lays them out): where a request costs
more than the bytes (a slow server, 4G latency) the two small files per PDF weigh, and this
tells the format's cost from the machinery's. Also the byte overhead (sidecars, manifests,
read-back) as a ratio of the payload. The kit's pass is timed with its rclone already running
(the service starts it at its first pass and keeps it); the start is printed beside, with the
ratio of a first pass that includes it. `--repeat` runs each kind again and prints the spread.

On loopback the link is free and CPU and per-request latency are measured; `--link 1M` puts both
behind the same rclone bandwidth limit, and `--link 512K:4M` behind an asymmetric one (upload:
download, as over 4G: a read-back then comes down the faster way, beside the next upload). The
machine may be busy: figures vary.

Run: .venv/bin/python bench/delivery.py [--target KIND ...] [--dossiers N] [--mb M] [--link R]
     [--repeat K]
"""

from __future__ import annotations

import argparse
import contextlib
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
from edge.delivery.engine import Deliverer, verify_type
from edge.delivery.rclone import Rcd
from edge.delivery.settings import Delivery
from edge.delivery.store import Store
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from tests.delivery_peers import (
    PeerError,
    S3Server,
    Server,
    SmbServer,
    SshServer,
    WebdavServer,
)

TARGET_RATIO = 0.9
KINDS = ["file", "sftp", "webdav", "smb", "s3"]


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


def ours(cfg: config.Config) -> tuple[float, float, float, int, int]:
    """(seconds, CPU seconds, seconds its rclone took to start, payload bytes, all bytes sent
    and read back). The service keeps its rclone between passes (started once, at its first
    pass): it is started before the clock, as a pass in the service finds it. Its CPU counts
    (rclone's is counted when it ends)."""
    d = Deliverer(cfg)
    c0, s0 = cpu(), time.perf_counter()
    d.rcd(cfg.delivery[0]).start()
    t0 = time.perf_counter()
    started = t0 - s0
    with Queue(cfg.storage.root / "queue.db") as queue, Store(cfg.storage.root) as store:
        try:
            d.run_once(queue, store)
        finally:
            seconds = time.perf_counter() - t0
            d.close()
        used = cpu() - c0  # with the start's (rclone's counts when it ends)
        rows = store.rows(cfg.delivery[0].name)
        assert rows and all(r.state == "delivered" for r in rows), (
            f"not all delivered: {store.target(cfg.delivery[0].name)}")
        payload = sum(r.bytes for r in rows if r.source)
        sent, _ = store.sent_on(cfg.delivery[0].name)
        return seconds, used, started, payload, sent


def bare(cfg: config.Config, work: Path, check: bool, link: str,
         src: Path | None = None) -> tuple[float, float]:
    """`rclone copy` of the outbox's PDFs (or of `src`) into an empty folder of the same target;
    with `check`, then `rclone checksum sha256 --download` of them against their known sums
    (the same assurance as ours where the server gives no checksum: every byte read back, and
    only the copy: `rclone check --download` would read the kit's side through the limit too)."""
    remote = rclone.write_config(cfg.delivery[0], work)
    base = ["rclone", "--config", str(rclone.config_path(cfg.delivery[0], work))]
    base += ["--bwlimit", link] if link else []
    top = src or cfg.storage.root / "outbox"
    src_s, dst = str(top), f"{remote.fs}/{work.name}"
    sums = work / "SHA256SUMS"
    sums.write_text("".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  "
                            f"{p.relative_to(top)}\n" for p in sorted(top.rglob("*"))
                            if p.is_file()))
    c0, t0 = cpu(), time.perf_counter()
    subprocess.run([*base, "copy", src_s, dst], check=True, env=rclone.environment())
    if check:
        subprocess.run([*base, "checksum", "sha256", str(sums), dst, "--download"], check=True,
                       env=rclone.environment(), capture_output=True)
    return time.perf_counter() - t0, cpu() - c0


def same_files(cfg: config.Config, folder: Path) -> Path:
    """The files the kit delivered (PDFs, sidecars, manifests), laid out as it lays them out."""
    with Store(cfg.storage.root) as store:
        for row in store.rows(cfg.delivery[0].name):
            path = folder / row.path
            path.parent.mkdir(parents=True, exist_ok=True)
            if row.source:
                os.link(row.source, path)
            else:
                path.write_bytes(row.body or b"")
    return folder


def server_for(kind: str, base: Path) -> Server | None:
    if kind == "file":
        return None
    if kind == "smb":
        try:
            return SmbServer(base / "smb")
        except PeerError:
            return None
    return {"sftp": SshServer, "webdav": WebdavServer, "s3": S3Server}[kind](base / kind)


def one(kind: str, dossiers: int, mb: float, link: str) -> dict[str, float] | None:
    """Bare copy, then ours, against a fresh server; None when the server cannot run here."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        server = server_for(kind, base)
        if server is None and kind != "file":
            return None
        with server or contextlib.nullcontext():
            keys = server.target() if server else {"url": f"file://{base / 'dest'}"}
            keys |= {"bwlimit": link} if link else {}
            target = Delivery(name="office", **{k: Path(v) if k == "credentials" else v
                                                for k, v in keys.items()})
            cfg = make_kit(base / "kit", dossiers, mb, target)
            rcd = Rcd(target, base / "probe")
            try:
                readback = verify_type(rcd) == ""
            finally:
                rcd.close()
            bare_s, bare_cpu = bare(cfg, base / "bare", False, link)
            check_s, check_cpu = bare(cfg, base / "check", True, link) if readback else (0, 0)
            our_s, our_cpu, start_s, payload, sent = ours(cfg)
            tree = same_files(cfg, base / "same")
            same_s, same_cpu = bare(cfg, base / "same-copy", readback, link, tree)
    return {"bare_s": bare_s, "bare_cpu": bare_cpu, "check_s": check_s, "check_cpu": check_cpu,
            "same_s": same_s, "same_cpu": same_cpu, "our_s": our_s, "our_cpu": our_cpu,
            "start_s": start_s,
            "payload": payload, "sent": sent, "readback": readback}


def report(kind: str, r: dict[str, float], dossiers: int) -> float:
    """Print one target's lines; its ratio against the baseline with the same assurance."""
    mb = r["payload"] / 2**20
    print(f"\n{kind}: {dossiers} files, {mb:.1f} MB, verified by "
          f"{'reading every byte back' if r['readback'] else 'the server checksum'}")
    rows = [("rclone copy", r["bare_s"], r["bare_cpu"])]
    if r["readback"]:
        rows.append(("rclone copy + checksum --download", r["check_s"], r["check_cpu"]))
    rows.append((f"the same, with sidecars+manifests{' + check' if r['readback'] else ''}",
                 r["same_s"], r["same_cpu"]))
    rows.append(("edge delivery", r["our_s"], r["our_cpu"]))
    for name, secs, used in rows:
        print(f"  {name:<42} {secs:6.2f} s {mb / secs:7.1f} MB/s  CPU {used / mb * 1000:6.1f}"
              " ms/MB")
    print(f"  (its rclone's start, once per service start, not in the time: {r['start_s']:.2f} s;"
          f" a first pass with it: {r['bare_s'] / (r['our_s'] + r['start_s']):.2f} x rclone copy)")
    vs_copy = r["bare_s"] / r["our_s"]
    print(f"  throughput vs rclone copy: {vs_copy:.2f} x")
    ratio = vs_copy
    if r["readback"]:
        ratio = r["check_s"] / r["our_s"]
        print(f"  throughput vs rclone copy + checksum --download (same assurance): "
              f"{ratio:.2f} x")
    print(f"  throughput vs rclone copy of the same files as delivered (sidecars, manifests"
          f"{', check' if r['readback'] else ''}): {r['same_s'] / r['our_s']:.2f} x")
    extra = r["sent"] - r["payload"]
    print(f"  byte overhead: {extra / r['payload']:.4f} of the payload "
          f"({extra / dossiers / 1024:.1f} KB per file: sidecar, manifest"
          f"{', read-back' if r['readback'] else ''})")
    return ratio


def spread(results: list[dict[str, float]]) -> None:
    """The ratios of every run, lowest first (the machine's noise)."""
    for name, base in (("rclone copy", "bare_s"), ("the same assurance", "check_s"),
                       ("the same files as delivered", "same_s")):
        if results[0][base]:
            ratios = sorted(r[base] / r["our_s"] for r in results)
            print(f"  {len(results)} runs vs {name}: " + " ".join(f"{x:.2f}" for x in ratios))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", action="append", choices=KINDS,
                    help="one kind (repeat for more; default: all that can run here)")
    ap.add_argument("--dossiers", type=int, default=20)
    ap.add_argument("--mb", type=float, default=2.0, help="MB per file (a typical PDF: 1-5)")
    ap.add_argument("--link", default="", help="rclone --bwlimit for both, e.g. 1M, or "
                    "UP:DOWN for an asymmetric 4G link, e.g. 512K:4M: the link is then the "
                    "limit, as in the field")
    ap.add_argument("--repeat", type=int, default=1, help="runs per kind (on a busy machine): "
                    "the median run is shown, with the spread of the ratios")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores"
          f"{': a busy machine, figures vary from run to run' if load > 1 else ''}")
    worst = []
    for kind in args.target or KINDS:
        runs = [one(kind, args.dossiers, args.mb, args.link) for _ in range(args.repeat)]
        results = [r for r in runs if r is not None]
        if not results:
            print(f"\n{kind}: skipped (its server cannot run here)")
            continue
        results.sort(key=lambda r: r["bare_s"] / r["our_s"])
        worst.append(report(kind, results[len(results) // 2], args.dossiers))
        if len(results) > 1:
            spread(results)
    print(f"\ntarget: >= {TARGET_RATIO} x the baseline of the same assurance")
    return 0 if all(r >= TARGET_RATIO for r in worst) else 1


if __name__ == "__main__":
    sys.exit(main())
