"""One delivery pass: the queue's finished dossiers planned per target, then each target's
waiting files sent, verified and recorded, with its window, network, budget and backoff obeyed.

A file goes to a hidden temporary name in its folder (`.partial-edge-<name>`), is verified there
against the destination's own checksum (sha256, sha1 or md5, whichever it computes) or, where it
computes none (SMB, plain WebDAV, an encrypted target), by reading it back and hashing it here;
only then is it renamed to its final name on the server and counted delivered. So nothing
partial or unverified ever sits under a final name, and a cut at any moment only means the same
temporary copy is made again. A dossier renamed after delivery is moved on the server, not sent
twice; the old names are removed once the new ones are there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

from edge import config
from edge.delivery import plan
from edge.delivery.rclone import Rcd, TransferError
from edge.delivery.settings import Delivery, window_of
from edge.delivery.store import Row, Store, TargetState
from edge.drivers import system
from edge.errors import EdgeError
from edge.pipeline.job import Job, State
from edge.pipeline.queue import Queue
from edge.telemetry.events import Events, Off

log = logging.getLogger(__name__)

HASHES = ("sha256", "sha1", "md5")
PARTIAL = ".partial-edge-"
CHUNK = 1 << 20
SMALL = 64 * 1024  # a sidecar or manifest: read back rather than ask the server for a hash
S3_ONE_PUT = 200 * 2**20  # rclone's upload_cutoff: larger goes in parts, then we ask its MD5
SMALL_ALONGSIDE = 2  # small files in flight per large one: their cost is round trips, not bytes
FLUSH_SECONDS = 2.0  # verified files are recorded together, at most this long after
IDLE_SECONDS = 600.0  # a target's rclone (~40 MB) stops after this long with nothing to send


class LocalProblem(EdgeError):
    """The kit's own copy of a file is missing or changed: that file waits, the others go."""


class Aborted(TransferError):
    """Not tried: another transfer to the same target failed first, or the service stops."""


class Deliverer:
    """The delivery work of one thread (the daemon's, or `edge delivery run`'s)."""

    def __init__(self, cfg: config.Config, events: Events | None = None,
                 stop: threading.Event | None = None) -> None:
        self.cfg = cfg
        self.events = events or Off()
        self.stop = stop or threading.Event()
        self.work = cfg.runtime_dir / "delivery"
        self.rcds: dict[str, Rcd] = {}
        self.busy: dict[str, float] = {}  # per target, when it last had something to send
        self._planned: tuple[object, ...] | None = None

    def close(self) -> None:
        for rcd in self.rcds.values():
            rcd.close()

    def rcd(self, target: Delivery) -> Rcd:
        if target.name not in self.rcds:
            self.rcds[target.name] = Rcd(target, self.work)
        return self.rcds[target.name]

    def run_once(self, queue: Queue, store: Store, now: float | None = None) -> int:
        """Plan (if the queue changed), then a pass over every target; the files delivered."""
        self.replan(queue, store)
        return sum(self.run_target(t, store, now) for t in self.cfg.delivery)

    def replan(self, queue: Queue, store: Store, force: bool = False) -> None:
        # only finished documents matter: pages arriving in a scan do not plan anything again
        mark = tuple(queue.conn.execute(
            "SELECT COUNT(*), MAX(updated), MAX(id), COUNT(purged) FROM jobs WHERE state IN "
            "(?, ?)", (State.READY, State.UPLOADED)).fetchone())
        if mark == self._planned and not force:
            return
        items, tickets = plan.plan(queue, self.cfg.kit.id)
        for t in self.cfg.delivery:
            store.reconcile(t.name, items, tickets)
        self._planned = mark

    def run_target(self, t: Delivery, store: Store, now: float | None = None) -> int:
        """Deliver what waits for one target; its state records why anything still waits."""
        now = time.time() if now is None else now
        before = store.target(t.name)
        wanted = [r for r in store.rows(t.name, "wanted") if due(r.next_try, t, now)]
        stale = store.rows(t.name, "stale")
        if not due(before.next_try, t, now) or not (wanted or stale):
            if not wanted and not stale and before.waiting:
                store.set_target(dataclasses.replace(before, waiting=""))
            if time.monotonic() - self.busy.get(t.name, 0.0) > IDLE_SECONDS:
                self.rcd(t).close()  # else it stays: a start costs more than a small
                # dossier's files, and rclone closes idle connections itself after a minute
            return 0
        hold = held(t, now)
        if hold:
            store.set_target(dataclasses.replace(before, waiting=hold))
            self.rcd(t).close()  # no idle connection over a paid link
            return 0
        done = 0
        try:
            done, waiting = self._send(t, store, wanted, stale, now)
        except TransferError as e:
            self._failed(t, store, before, e, now)
            return done
        store.set_target(TargetState(t.name, waiting=waiting))
        if before.error:
            log.info("delivery %s: reachable again", t.name)
            self.events.event("delivery/recovered", {"target": t.name})
        return done

    def _send(self, t: Delivery, store: Store, wanted: list[Row], stale: list[Row],
              now: float) -> tuple[int, str]:
        """Files and sidecars, then the manifests of dossiers now complete, `t.transfers` at a
        time; then what renames left behind. (files delivered, why the rest waits)"""
        rcd = self.rcd(t)
        rcd.start()  # here, not in a worker: it dies with the thread that started it
        kind = verify_type(rcd)  # asked once, before the transfers start
        moves = {r.sha256: r for r in stale}
        tally = [0, 0]  # files, payload bytes
        try:
            files = [r for r in wanted if not is_manifest(r)]
            if waiting := self._batch(t, store, rcd, kind, files, moves, now, tally):
                return tally[0], waiting
            left = {r.ticket for r in store.rows(t.name, "wanted") if not is_manifest(r)}
            manifests = [r for r in wanted if is_manifest(r) and r.ticket not in left]
            if waiting := self._batch(t, store, rcd, kind, manifests, moves, now, tally):
                return tally[0], waiting
        finally:
            self._count(t, store, tally[0], tally[1])
            self.busy[t.name] = time.monotonic()
        remaining = {r.ticket for r in store.rows(t.name, "wanted")}
        for row in store.rows(t.name, "stale"):
            if row.ticket not in remaining and not self.stop.is_set():
                rcd.delete(row.path)
                rcd.delete(partial(row.path))
                store.gone(t.name, row.path)
                rcd.rmdir(row.path.rsplit("/", 1)[0])
        return tally[0], ""

    def _batch(self, t: Delivery, store: Store, rcd: Rcd, kind: str, rows: list[Row],
               moves: dict[str, Row], now: float, tally: list[int]) -> str:
        """Deliver `rows` in parallel, recording each as it is verified; "budget" if some must
        wait for tomorrow. The first transfer error stops the rest and is raised. `t.transfers`
        large files go at once and, where requests are cheap, twice as many small ones beside
        them (sidecars, manifests: a few requests each and almost no bytes, so over a slow
        server or 4G their round trips overlap instead of queueing behind the PDFs)."""
        fits, cost = [], 0
        for row in rows:
            cost += row.bytes * (1 if rcd.local or (kind and row.bytes > SMALL) else 2)
            if over_budget(t, store, cost, now):
                break
            fits.append(row)
        for folder in sorted({r.path.rpartition("/")[0] for r in fits} - {""}):
            if rcd.per_folder:
                rcd.mkdir(folder)
        abort = threading.Event()
        errors: list[TransferError] = []
        done: list[tuple[str, str, int]] = []
        flushed = time.monotonic()
        big = ThreadPoolExecutor(t.transfers, thread_name_prefix=f"deliver-{t.name}")
        small = ThreadPoolExecutor(t.transfers * SMALL_ALONGSIDE,
                                   thread_name_prefix=f"deliver-{t.name}-small") \
            if rcd.cheap_requests else big
        with big, small:  # (the same pool twice: shutting it down again does nothing)
            jobs = {(big if row.bytes > SMALL else small).submit(
                self.transfer, rcd, row, moves.pop(row.sha256, None), kind, abort): row
                for row in fits}
            try:
                for job in as_completed(jobs):
                    row = jobs[job]
                    try:
                        cost, moved = job.result()
                    except TransferError as e:
                        abort.set()
                        errors.append(e)
                        continue
                    except LocalProblem as e:
                        log.error("delivery %s: %s", t.name, e.message)
                        store.item_failed(t.name, row.path, e.message,
                                          time.time() + t.retry_max_seconds)
                        continue
                    if moved:
                        store.gone(t.name, moved)
                    done.append((row.path, row.sha256, cost))
                    tally[0], tally[1] = tally[0] + 1, tally[1] + row.bytes
                    if time.monotonic() - flushed > FLUSH_SECONDS:
                        store.delivered(t.name, done)
                        done, flushed = [], time.monotonic()
            finally:
                store.delivered(t.name, done)
        if errors:
            raise next((e for e in errors if not isinstance(e, Aborted)), errors[0])
        return "budget" if len(fits) < len(rows) else ""

    def transfer(self, rcd: Rcd, row: Row, moved: Row | None, kind: str,
                 abort: threading.Event) -> tuple[int, str]:
        """Put one file at its place, verified (in a worker thread: no database here).
        (bytes it cost on the link, the stale path it was moved from or "")"""
        if abort.is_set() or self.stop.is_set():
            raise Aborted("stopped before this file")
        # S3 shows an object only once whole and refuses one whose MD5 differs from the
        # Content-MD5 rclone computed from our file (up to its single-PUT size): it goes
        # straight to its name, a server-side copy saved, and that check is the verification
        temp = row.path if rcd.atomic and moved is None else partial(row.path)
        server_checked = temp == row.path and row.bytes <= S3_ONE_PUT
        kind = "" if server_checked else kind if row.bytes > SMALL else ""  # a small file:
        # reading it back is cheaper
        here = (("sha256",) if server_checked else () if kind in ("", "sha256")
                else (kind, "sha256"))
        with local_copy(row, self.work, here) as (local, digests):
            if moved is not None and self._move(rcd, moved.path, temp):
                cost, source = 0, moved.path
            else:
                rcd.copy_in(local, temp)
                cost, source = row.bytes, ""
            try:
                if not server_checked:
                    cost += self._verify(rcd, temp, row, digests.get(kind, ""), kind)
            except (TransferError, LocalProblem):
                if temp == row.path:
                    rcd.delete(temp)
                raise
            if temp != row.path:
                rcd.move(temp, row.path)  # the verified copy, renamed on the server
        log.info("delivery %s: %s %s, %d bytes, checked by %s", row.target, row.path,
                 f"moved on the server from {source}" if source else "sent", row.bytes,
                 "the server (Content-MD5)" if server_checked else kind or "reading it back")
        return cost, source

    def _move(self, rcd: Rcd, old: str, new: str) -> bool:
        try:
            rcd.move(old, new)
            return True
        except TransferError:  # gone already (a cut after the move): send it again
            rcd.running()
            return False

    def _verify(self, rcd: Rcd, remote: str, row: Row, digest: str, kind: str) -> int:
        """Check the copy at `remote`; the bytes a read-back cost."""
        if kind:
            item = rcd.stat(remote, kind)
            got = str((item or {}).get("Hashes", {}).get(kind, ""))
            size = int((item or {}).get("Size", -1))
            if not got:  # it computes them: asking failed (sftp runs sha1sum over the link)
                raise TransferError(f"{remote}: the destination gave no {kind} checksum "
                                    "(connection lost?)")
            if got != digest or size != row.bytes:
                mismatch(row, f"{remote}: the destination's {kind} ({got or 'none'}, {size} "
                         f"bytes) does not match ours ({digest}, {row.bytes} bytes)")
            return 0
        got = rcd.sha256(remote)
        if got != row.sha256:
            mismatch(row, f"{remote}: read back, its SHA-256 {got} does not match {row.sha256}")
        return 0 if rcd.local else row.bytes

    def _failed(self, t: Delivery, store: Store, before: TargetState, e: TransferError,
                now: float) -> None:
        """Back off (doubling up to retry_max_seconds) and say why, once in telemetry."""
        attempts = before.attempts + 1
        wait = min(t.retry_max_seconds, t.retry_min_seconds * 2 ** (attempts - 1))
        message, vi = explain(t, e.message)
        store.set_target(TargetState(t.name, attempts, now + wait, message, vi))
        self.rcd(t).close()
        log.error("delivery %s: %s; trying again in %.0f s", t.name, message, wait)
        if not before.error:
            self.events.event("delivery/failing", {"target": t.name,
                                                   "reason": reason_code(e.message)})

    def _count(self, t: Delivery, store: Store, files: int, sent: int) -> None:
        """The day's counts of files and bytes delivered, and an event with what still waits
        (counts and ages only)."""
        if not files:
            return
        self.events.add_count("delivered_files", files)
        self.events.add_count("delivered_bytes", sent)
        st = target_status(t, store)
        self.events.event("delivery/delivered", {
            "target": t.name, "files": files, "bytes": sent,
            "waiting_files": st["waiting_files"], "waiting_bytes": st["waiting_bytes"],
            "oldest_waiting_seconds": round(oldest_waiting(store))})


def mismatch(row: Row, message: str) -> None:
    """The copy differs from the record: LocalProblem if the kit's own file changed (it is not
    hashed before sending: the destination's hash or the read-back is compared with the
    record), else TransferError."""
    if row.source and hash_file(Path(row.source), ("sha256",))["sha256"] != row.sha256:
        raise LocalProblem(changed(Path(row.source)))
    raise TransferError(message)


def is_manifest(row: Row) -> bool:
    return row.path.endswith("/" + plan.MANIFEST)


def partial(path: str) -> str:
    folder, _, name = path.rpartition("/")
    return f"{folder}/{PARTIAL}{name}" if folder else PARTIAL + name


def verify_type(rcd: Rcd) -> str:
    """The strongest hash the destination computes itself, or "" (read back). Nextcloud's and
    ownCloud's sha1 is the one the uploader declared (OC-Checksum), not computed from what
    arrived: WebDAV is always read back. A local disk is read back here (OpenSSL's SHA-256 costs
    a third of rclone's)."""
    if rcd.target.where.scheme == "webdav" or rcd.local:
        return ""
    have = {h.lower() for h in rcd.hashes()}
    return next((h for h in HASHES if h in have), "")


@contextmanager
def local_copy(row: Row, work: Path, kinds: tuple[str, ...]) -> Iterator[tuple[Path,
                                                                             dict[str, str]]]:
    """The file to send (the outbox file, or the body written to a private temporary file) and
    its `kinds` digests. The outbox file is read here only where they are asked: where the
    destination's SHA-256 or a read-back is compared with the record, none is; LocalProblem if
    it is gone or no longer matches its record (its size, and its SHA-256 when read)."""
    if row.body is not None:  # all in one folder: rclone makes one source fs for them all
        bodies = work / "bodies"
        bodies.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=bodies)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(row.body)
            yield Path(name), {h: hashlib.new(h, row.body).hexdigest() for h in kinds}
        finally:
            os.unlink(name)
        return
    path = Path(row.source or "")
    try:
        if path.stat().st_size != row.bytes:
            raise LocalProblem(changed(path))
        digests = hash_file(path, kinds) if kinds else {"sha256": row.sha256}
    except OSError as e:
        raise LocalProblem(f"{path.name}: cannot read the kit's copy ({e.strerror}); run "
                           "`edge verify`") from None
    if digests.get("sha256") != row.sha256:
        raise LocalProblem(changed(path))
    yield path, digests


def changed(path: Path) -> str:
    return (f"{path.name} has changed since it was made (SHA-256 does not match the record); "
            "not sent; run `edge verify`")


def hash_file(path: Path, kinds: tuple[str, ...]) -> dict[str, str]:
    hs = {k: hashlib.new(k) for k in kinds}
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            for h in hs.values():
                h.update(block)
    return {k: h.hexdigest() for k, h in hs.items()}


def due(next_try: float, t: Delivery, now: float) -> bool:
    """Whether a retry set for `next_try` is due. One further off than the longest backoff was
    set by a clock that has since gone back (network time after a power cut): due now."""
    return next_try <= now or next_try > now + t.retry_max_seconds


def over_budget(t: Delivery, store: Store, cost: int, now: float) -> bool:
    """Whether sending `cost` bytes now would pass the day's budget (a file larger than the whole
    budget still goes, alone, first thing in the day)."""
    if not t.daily_mb:
        return False
    sent, _ = store.sent_on(t.name, now)
    return sent > 0 and sent + cost > t.daily_mb * 1024 * 1024


def held(t: Delivery, now: float) -> str:
    """Why nothing may be sent to `t` now: "disk" (its disk is not mounted), "clock" (a window
    is set and the clock is not synchronised), "window", "network" (not on the allowed
    interfaces), or "" (go ahead).

    A Pi has no battery clock: after a power cut it starts from the time saved at the last
    shutdown (fake-hwclock) until network time arrives, so "19:00-06:30" could fall at noon
    over a paid 4G link. A target with a window waits for the synchronised clock (seconds
    after the link is up). A USB disk costs nothing and may never see a network: its window
    uses the clock as it is. Where nothing tells (no systemd-timesyncd), the clock is used."""
    if t.mount is not None and not os.path.ismount(t.mount):
        return "disk"  # else the files would go to the empty folder on the SD card
    if t.window and t.where.scheme != "file" and system.clock_synced() is False:
        return "clock"
    if t.window and not in_window(t.window, dt.datetime.fromtimestamp(now).time()):
        return "window"
    if t.interfaces and t.where.scheme != "file" and route_interface(t) not in t.interfaces:
        return "network"
    return ""


def in_window(window: str, at: dt.time) -> bool:
    span = window_of(window)
    assert span is not None  # checked at config load
    start, end = span
    return start <= at < end if start <= end else (at >= start or at < end)


def route_interface(t: Delivery) -> str:
    """The network interface the kernel would send to the target's host by ("" unknown)."""
    host = t.where.host or _host_of(t.endpoint)
    if not host:
        return "lo"  # a local disk
    try:
        addr = socket.getaddrinfo(host, None)[0][4][0]
        out = subprocess.run(["ip", "-o", "route", "get", str(addr)], capture_output=True,
                             text=True, timeout=5, check=False).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return ""
    return out[out.index("dev") + 1] if "dev" in out else ""


def _host_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


REASONS = (
    ("login", ("permission denied", "unable to authenticate", "401", "403", "logon failure",
               "logon_failure", "access denied", "invalidaccesskeyid", "signaturedoesnotmatch",
               "authentication", "unauthorized")),
    ("full", ("no space", "quota", "insufficient storage", "507", "disk full")),
    ("unreachable", ("connection refused", "no route", "timeout", "no such host",
                     "unreachable", "connection reset", "eof", "did not answer",
                     "broken pipe", "couldn't connect", "dial tcp", "connection lost")),
)


def reason_code(message: str) -> str:
    """login, full, unreachable or error: what rclone's message says went wrong (whole words:
    a port number holding 401 is no HTTP status)."""
    low = message.lower()
    return next((code for code, words in REASONS
                 if any(re.search(rf"\b{re.escape(w)}\b", low) for w in words)), "error")


def explain(t: Delivery, message: str) -> tuple[str, str]:
    """(English for the log and CLI, Vietnamese for staff) of a failed delivery."""
    code = reason_code(message)
    who = t.label or f"nơi nhận {t.name}"
    creds = str(t.credentials) if t.credentials else "the credentials file"
    if code == "login":
        return (f"the destination refused the login; check the user and password in {creds} "
                f"({message})",
                f"{who[0].upper()}{who[1:]} từ chối đăng nhập (sai tên hoặc mật khẩu). Hãy báo "
                "kỹ thuật viên.")
    if code == "full":
        return (f"the destination is full ({message})",
                f"{who[0].upper()}{who[1:]} đã hết chỗ. Hãy báo kỹ thuật viên.")
    if code == "unreachable":
        return (f"cannot reach the destination ({message})",
                f"Chưa kết nối được tới {who} (mạng hoặc máy chủ). Sẽ tự gửi lại.")
    return (f"delivery failed: {message}",
            f"Gửi tệp về {who} bị lỗi. Sẽ tự thử lại; nếu còn lỗi hãy báo kỹ thuật viên.")


def oldest_waiting(store: Store, now: float | None = None) -> float:
    """Seconds the oldest undelivered file has waited (0: none waits)."""
    row = store.conn.execute("SELECT MIN(since) FROM items WHERE state = 'wanted'").fetchone()
    return max(0.0, (time.time() if now is None else now) - row[0]) if row[0] else 0.0


def delivered_at(store: Store, required: list[str]) -> Callable[[Job], float | None]:
    """For retention: when a job was delivered to every required target (None if not)."""
    def when(job: Job) -> float | None:
        rows = store.conn.execute(
            "SELECT target, MIN(state = 'delivered'), MAX(delivered) FROM items WHERE job_id = ? "
            "AND state != 'stale' GROUP BY target", (job.id,)).fetchall()
        done = {r[0]: r[2] for r in rows if r[1]}
        if not required or any(t not in done for t in required):
            return None
        return max(float(done[t]) for t in required)
    return when



def target_status(t: Delivery, store: Store, now: float | None = None) -> dict[str, object]:
    """One target's state for `edge delivery status`, the web UI and telemetry (no names)."""
    now = time.time() if now is None else now
    st = store.target(t.name)
    waiting = store.rows(t.name, "wanted")
    sent, files = store.sent_on(t.name, now)
    failing = bool(st.error) and bool(waiting)
    return {
        "name": t.name, "label": t.label or t.name, "url": t.url, "required": t.required,
        "state": "failing" if failing else "waiting" if waiting else "ok",
        "reason": st.waiting if waiting and not failing else "",
        "error": st.error if failing else "", "error_vi": st.error_vi if failing else "",
        "next_try": st.next_try if failing else None, "attempts": st.attempts,
        "waiting_files": len(waiting), "waiting_bytes": sum(r.bytes for r in waiting),
        "oldest_waiting_seconds": round(max((now - r.since for r in waiting), default=0.0)),
        "sent_today_bytes": sent, "sent_today_files": files,
        "budget_bytes": t.daily_mb * 1024 * 1024 or None,
    }


def dossier_status(cfg: config.Config, store: Store, ticket: str) -> list[dict[str, object]]:
    """Per target, whether this dossier is there: delivered, waiting (why) or failing (why)."""
    out = []
    for t in cfg.delivery:
        rows = [r for r in store.rows(t.name, ticket=ticket) if r.state != "stale"]
        st = store.target(t.name)
        state = ("none" if not rows else "delivered" if all(r.state == "delivered" for r in rows)
                 else "failing" if st.error else "waiting")
        out.append({"target": t.name, "label": t.label or t.name, "required": t.required,
                    "state": state,
                    "reason": (st.waiting if state == "waiting" else
                               reason_code(st.error) if state == "failing" else ""),
                    "error": st.error if state == "failing" else "",
                    "error_vi": st.error_vi if state == "failing" else ""})
    return out


def purge_rule(cfg: config.Config, store: Store) -> Callable[[Job], float | None] | None:
    """What `outbox.purge` needs to purge delivered files (None: keep today's rule only)."""
    if not cfg.storage.purge_delivered:
        return None
    return delivered_at(store, [t.name for t in cfg.delivery if t.required])


def probe(t: Delivery, work: Path) -> str:
    """Write, check and delete a small file of random bytes at the target's root (never a
    citizen's file): TransferError if it cannot be reached, logged in or written. Returns how
    the copy was checked."""
    rcd = Rcd(t, work)
    name = f".edge-doctor-{secrets.token_hex(4)}"
    try:
        work.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            local = Path(tmp) / name
            data = secrets.token_bytes(4096)
            local.write_bytes(data)
            rcd.copy_in(local, name)
            kind = verify_type(rcd)
            if kind:
                item = rcd.stat(name, kind) or {}
                ok = item.get("Hashes", {}).get(kind) == hashlib.new(kind, data).hexdigest()
            else:
                ok = rcd.sha256(name) == hashlib.sha256(data).hexdigest()
            rcd.delete(name)
        if not ok:
            raise TransferError("the test file read back differs from what was written")
        return kind or "reading it back"
    finally:
        rcd.close()
