"""`edge update FILE|URL`: a signed bundle installed beside the running release, switched to in
one rename, watched, and rolled back by itself when it does not come up or does not stay up.

Order: verify (nothing unpacked before) -> unpack and let the bundle's install.sh --stage make
releases/<version> -> wait until no scan and no delivery pass runs (holding the delivery
pass lock, so none starts) -> stop the services -> keep a copy of the queue
database (the new release migrates it forward when it opens it) -> point `current` at the new
release -> start -> ready within ready_seconds and the same process for watch_seconds (a watchdog
kill restarts it) -> keep the last `keep` releases. On failure: stop, put the old database back
if the new release changed its schema, point `current` back, start. Every result is a telemetry
event (update/installed, update/rolled_back, update/refused).
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import platform
import shutil
import sqlite3
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from edge import config
from edge.errors import UpdateError
from edge.pipeline.job import State
from edge.pipeline.lock import delivery_pass, scan_starts
from edge.release import bundle, requests
from edge.release.services import Services
from edge.telemetry.service import for_process

log = logging.getLogger(__name__)
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
BUSY = (State.SCANNING, State.ASSEMBLING)
MAX_DOWNLOAD = 1 << 30


def run_requested(cfg: config.Config, source: str) -> int:
    """`edge update --requested`: the update asked for on the web page, its steps in
    status.json for the page; 0 when installed."""
    version = [""]

    def say(line: str) -> None:
        log.info("%s", line)
        if line.startswith("bundle "):
            version[0] = line.split()[1]
            requests.set_status(cfg, "verified", version[0])
        elif line.startswith("waiting"):
            requests.set_status(cfg, "waiting", version[0])

    try:
        update(cfg, source, say)
    except UpdateError as e:
        rolled = "rolling back" in e.message or "runs again" in e.message
        requests.set_status(cfg, "rolled_back" if rolled else "refused", version[0],
                            e.message, e.vi)
        log.error("%s", e)
        return 1
    requests.set_status(cfg, "installed", version[0])
    return 0


def update(cfg: config.Config, source: str, say: Callable[[str], None] = log.info) -> str:
    """Install the bundle at `source` (a file or an https:// URL); returns the new version."""
    u = cfg.update
    events = for_process(cfg)
    running = current_version(u.prefix)
    spool, path = cfg.storage.root / "updates", Path(source)
    try:
        try:
            if not u.public_key:
                raise UpdateError("[update] public_key is not set: updates need the province's "
                                  "minisign public key in the config (see README, 'Updating a "
                                  "kit')", vi="Chưa cấu hình khóa công khai để kiểm tra gói cập "
                                              "nhật.")
            if "://" in source:
                path = fetch(source, spool, u.ca_file)
            manifest = bundle.verify(path, u.public_key)
            check_target(manifest, running)
        except UpdateError as e:
            events.event("update/refused", {"from": running, "to": None, "reason": e.message})
            raise
        say(f"bundle {manifest.version} ({manifest.arch}) verified: signature and every file")
        stage(path, manifest, u.prefix)
    finally:
        discard(path, spool)
    say(f"release {manifest.version} installed beside {running}")
    services = Services(u.service_command)
    with no_delivery(cfg, say), no_new_scans(cfg):
        wait_idle(cfg, say)
        services.stop()
    copy = keep_database(cfg, manifest.version)
    switch(u.prefix, manifest.version)
    why = start_and_watch(services, u.ready_seconds, u.watch_seconds)
    if why:
        say(f"{manifest.version} {why}: rolling back to {running}")
        services.stop()
        restore_database(cfg, copy)
        switch(u.prefix, running)
        back = start_and_watch(services, u.ready_seconds, 0)
        events.event("update/rolled_back", {"from": running, "to": manifest.version,
                                            "reason": why})
        raise UpdateError(f"release {manifest.version} {why}; {running} runs again"
                          + (f" but {back}" if back else "") + " (journalctl -u edge)",
                          vi=f"Phiên bản {manifest.version} không chạy được; bộ máy đã tự quay "
                             f"lại phiên bản {running}.")
    prune(u.prefix, u.keep)
    events.event("update/installed", {"from": running, "to": manifest.version})
    say(f"release {manifest.version} runs (was {running})")
    return manifest.version


def discard(path: Path, spool: Path) -> None:
    """A bundle the kit downloaded or was handed on the web page (in the spool) is removed
    once it is unpacked or refused: a few hundred MB the SD card needs back. A file the
    technician named on the command line stays where it is."""
    if path.resolve().parent == spool.resolve():
        path.unlink(missing_ok=True)


def current_version(prefix: Path) -> str:
    link = prefix / "current"
    return os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else "none"


def check_target(manifest: bundle.Manifest, running: str) -> None:
    arch = ARCH.get(platform.machine(), platform.machine())
    if manifest.arch != arch:
        raise UpdateError(f"the bundle is for {manifest.arch}, this kit is {arch}: use "
                          f"edge-{manifest.version}-{arch}.tar",
                          vi=f"Gói dành cho loại máy khác ({manifest.arch}).")
    if manifest.version == running:
        raise UpdateError(f"{running} is already running", vi="Phiên bản này đang chạy rồi.")


def fetch(url: str, spool: Path, ca_file: Path | None = None,
          limit: int = MAX_DOWNLOAD) -> Path:
    """Download over HTTPS only (the signature is checked after, but a technician's commune
    server is reached over TLS all the same), trusting the system's CAs or only `ca_file`. A
    download refused (certificate, cut off, larger than `limit`) leaves nothing in `spool`."""
    if not url.startswith("https://"):
        raise UpdateError(f"{url}: only https:// addresses are fetched",
                          vi="Địa chỉ tải gói phải bắt đầu bằng https://")
    url = url.replace("{arch}", ARCH.get(platform.machine(), platform.machine()))
    spool.mkdir(mode=0o700, parents=True, exist_ok=True)
    part = spool / "download.part"
    try:
        trust = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        with urllib.request.urlopen(url, timeout=60, context=trust) as r, part.open("wb") as f:
            _download(r, f, url, limit)
    except BaseException as e:
        part.unlink(missing_ok=True)
        if isinstance(e, OSError | http.client.HTTPException):
            raise _cannot_download(url, e) from None
        raise
    return part.rename(spool / "download.tar")


def _download(response: http.client.HTTPResponse, out: BinaryIO, url: str, limit: int) -> None:
    """The whole body into `out`, or an UpdateError: larger than `limit`, or shorter than the
    server said (http.client ends a body cut off midway without a word)."""
    length = response.headers.get("Content-Length", "")
    said = int(length) if length.isdigit() else None
    too_big = UpdateError(f"{url}: larger than {limit >> 20} MB, not an update bundle",
                          vi="Tệp trên máy chủ quá lớn, không phải gói cập nhật.")
    if said is not None and said > limit:
        raise too_big
    while chunk := response.read(1 << 20):
        if out.tell() + len(chunk) > limit:
            raise too_big
        out.write(chunk)
    if said is not None and out.tell() != said:
        raise UpdateError(f"{url}: the download stopped after {out.tell()} of {said} bytes; "
                          "try again", vi="Tải gói cập nhật bị ngắt giữa chừng: hãy thử lại.")


def _cannot_download(url: str, e: OSError | http.client.HTTPException) -> UpdateError:
    why = getattr(e, "reason", e)
    if isinstance(why, ssl.SSLCertVerificationError):
        return UpdateError(f"{url}: the server's certificate is not trusted "
                           f"({why.verify_message}); nothing was downloaded. If the commune "
                           "server has its own CA, set [update] ca_file to that CA's certificate "
                           "(README, 'Updating a kit')",
                           vi="Không tải gói cập nhật: chứng chỉ bảo mật của máy chủ không đáng "
                              "tin cậy (có thể không phải máy chủ của xã). Nhờ cán bộ kỹ thuật "
                              "của tỉnh kiểm tra.")
    return UpdateError(f"cannot download {url}: {why}",
                       vi="Không tải được gói cập nhật từ máy chủ của xã: hãy kiểm tra mạng rồi "
                          "thử lại.")


def stage(path: Path, manifest: bundle.Manifest, prefix: Path) -> None:
    """releases/<version> made by the bundle's own install.sh --stage, from its unpacked copy."""
    releases = prefix / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    unpacked = releases / f".unpacked-{manifest.version}"
    shutil.rmtree(unpacked, ignore_errors=True)
    bundle.extract(path, manifest, unpacked)
    try:
        r = subprocess.run(["./install.sh", "--stage", "--prefix", str(prefix)], cwd=unpacked,
                           capture_output=True, text=True, timeout=1800)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)
    if r.returncode != 0 or r.stdout.strip().splitlines()[-1:] != [manifest.version]:
        raise UpdateError(f"install.sh --stage of {manifest.version} failed: "
                          f"{r.stderr.strip()[-500:]}", vi="Cài phiên bản mới không thành công.")


def wait_idle(cfg: config.Config, say: Callable[[str], None], poll: float = 1.0) -> None:
    """Never stop the service under a scan: wait until no job is being scanned or assembled."""
    db = cfg.storage.root / "queue.db"
    told = False
    while db.exists() and (n := busy_jobs(db)):
        if not told:
            say(f"waiting: {n} scan(s) running; the update goes on when they end")
            told = True
        time.sleep(poll)


@contextlib.contextmanager
def no_new_scans(cfg: config.Config) -> Iterator[None]:
    """Keep a queued job from starting to scan (it waits for the new release) from the last
    look for running scans until the service is stopped."""
    locks = cfg.storage.root / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with scan_starts(locks, wait=None):
        yield


@contextlib.contextmanager
def no_delivery(cfg: config.Config, say: Callable[[str], None]) -> Iterator[None]:
    """Wait for a running delivery pass to end, and keep the next one from starting."""
    locks = cfg.storage.root / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with delivery_pass(locks, wait=0) as free:
        if free:
            yield
            return
    say("waiting: files are being sent to the commune office; the update goes on after")
    with delivery_pass(locks, wait=None):
        yield


def busy_jobs(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        marks = ",".join("?" * len(BUSY))
        return conn.execute(f"SELECT COUNT(*) FROM jobs WHERE state IN ({marks})",
                            [str(s) for s in BUSY]).fetchone()[0]


def keep_database(cfg: config.Config, version: str) -> Path | None:
    """A consistent copy of the queue (services stopped) for a rollback to go back to."""
    db = cfg.storage.root / "queue.db"
    if not db.exists():
        return None
    copy = cfg.storage.root / f"queue.db.before-{version}"
    copy.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(db)) as src, \
            contextlib.closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
    os.chmod(copy, 0o600)
    shutil.copystat(db, copy)
    return copy


def restore_database(cfg: config.Config, copy: Path | None) -> None:
    """Put the copy back only if the new release changed the schema: otherwise the jobs made
    since the update stay."""
    db = cfg.storage.root / "queue.db"
    if copy is None or schema(db) == schema(copy):
        return
    with contextlib.closing(sqlite3.connect(copy)) as src, \
            contextlib.closing(sqlite3.connect(db)) as dst:
        src.backup(dst)  # page by page through dst's own connection: its WAL stays consistent
    log.warning("queue schema put back as it was before the update (copy %s)", copy.name)


def schema(db: Path) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def switch(prefix: Path, version: str) -> None:
    """`current` -> releases/<version>: a new link renamed over the old one (atomic)."""
    new = prefix / "current.new"
    new.unlink(missing_ok=True)
    new.symlink_to(f"releases/{version}")
    os.replace(new, prefix / "current")


def start_and_watch(services: Services, ready_seconds: float, watch_seconds: float) -> str:
    """'' when the services start and stay up, else why not (systemctl start itself fails when a
    Type=notify service exits before READY=1)."""
    try:
        services.start()
    except UpdateError as e:
        return f"did not start ({e.message})"
    return watch(services, ready_seconds, watch_seconds)


def watch(services: Services, ready_seconds: float, watch_seconds: float,
          poll: float = 1.0) -> str:
    """'' when the service became ready in time and stayed the same process; else why not."""
    deadline = time.monotonic() + ready_seconds
    while not (first := services.status()).ready:
        if time.monotonic() > deadline:
            return f"did not report ready within {ready_seconds:.0f} s ({first.state})"
        time.sleep(poll)
    until = time.monotonic() + watch_seconds
    while time.monotonic() < until:
        time.sleep(poll)
        now = services.status()
        if now.instance != first.instance or not now.ready:
            return f"restarted within {watch_seconds:.0f} s of starting (watchdog or crash)"
    return ""


def prune(prefix: Path, keep: int) -> None:
    """The last `keep` releases (by time installed) stay; never the current one."""
    current = current_version(prefix)
    releases = sorted((p for p in (prefix / "releases").iterdir() if not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    kept = [p for p in releases if p.name == current]
    kept += [p for p in releases if p.name != current][:keep - 1]
    for p in releases:
        if p not in kept:
            shutil.rmtree(p)
