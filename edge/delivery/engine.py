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
import re
import secrets
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from edge import config
from edge.delivery import plan
from edge.delivery.rclone import Rcd, TransferError
from edge.delivery.settings import Delivery, window_of
from edge.delivery.store import Row, Store, TargetState
from edge.errors import EdgeError
from edge.pipeline.job import Job
from edge.pipeline.queue import Queue
from edge.telemetry.events import Events, Off

log = logging.getLogger(__name__)

HASHES = ("sha256", "sha1", "md5")
PARTIAL = ".partial-edge-"
CHUNK = 1 << 20


class LocalProblem(EdgeError):
    """The kit's own copy of a file is missing or changed: that file waits, the others go."""


class Deliverer:
    """The delivery work of one thread (the daemon's, or `edge delivery run`'s)."""

    def __init__(self, cfg: config.Config, events: Events | None = None,
                 stop: threading.Event | None = None) -> None:
        self.cfg = cfg
        self.events = events or Off()
        self.stop = stop or threading.Event()
        self.work = cfg.runtime_dir / "delivery"
        self.rcds: dict[str, Rcd] = {}
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
        mark = tuple(queue.conn.execute("SELECT COUNT(*), MAX(updated), MAX(id) FROM jobs")
                     .fetchone())
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
        wanted = [r for r in store.rows(t.name, "wanted") if r.next_try <= now]
        stale = store.rows(t.name, "stale")
        if before.next_try > now or not (wanted or stale):
            if not wanted and not stale and before.waiting:
                store.set_target(dataclasses.replace(before, waiting=""))
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
        rcd = self.rcd(t)
        moves = {r.sha256: r for r in stale}
        done, sent = 0, 0
        try:
            for row in ordered(wanted, store, t.name):
                if self.stop.is_set():
                    break
                if over_budget(t, store, row.bytes * (1 if verify_type(rcd) else 2), now):
                    return done, "budget"
                try:
                    self.deliver(rcd, store, row, moves.pop(row.sha256, None))
                    done, sent = done + 1, sent + row.bytes
                except LocalProblem as e:
                    log.error("delivery %s: %s", t.name, e.message)
                    store.item_failed(t.name, row.path, e.message,
                                      time.time() + t.retry_max_seconds)
        finally:
            self._count(t, store, done, sent)
        remaining = {r.ticket for r in store.rows(t.name, "wanted")}
        for row in store.rows(t.name, "stale"):
            if row.ticket not in remaining and not self.stop.is_set():
                rcd.delete(row.path)
                rcd.delete(partial(row.path))
                store.gone(t.name, row.path)
                rcd.rmdir(row.path.rsplit("/", 1)[0])
        return done, ""

    def deliver(self, rcd: Rcd, store: Store, row: Row, moved: Row | None) -> int:
        """Put one file at its place, verified; the bytes it cost on the link."""
        temp = partial(row.path)
        kind = verify_type(rcd)
        with local_copy(row, self.work) as (local, digests):
            how = "moved on the server from " + moved.path if moved else "sent"
            if moved is not None and self._move(rcd, moved.path, temp):
                store.gone(row.target, moved.path)
                cost = 0
            else:
                how = "sent"
                rcd.copy_in(local, temp)
                cost = row.bytes
            cost += self._verify(rcd, temp, row, digests.get(kind, ""), kind)
            rcd.move(temp, row.path)
        final = rcd.stat(row.path)  # a rename on the server: the size tells it is the same file
        if final is None or int(final.get("Size", -1)) != row.bytes:
            raise TransferError(f"{row.path}: not at its place after the rename")
        store.delivered(row.target, row.path, row.sha256, cost)
        log.info("delivery %s: %s %s, %d bytes, checked by %s", row.target, row.path, how,
                 row.bytes, kind or "reading it back")
        return cost

    def _move(self, rcd: Rcd, old: str, new: str) -> bool:
        try:
            rcd.move(old, new)
            return True
        except TransferError:  # gone already (a cut after the move): send it again
            rcd.start()
            return False

    def _verify(self, rcd: Rcd, remote: str, row: Row, digest: str, kind: str) -> int:
        """Check the copy at `remote`; the bytes a read-back cost."""
        if kind:
            item = rcd.stat(remote, kind)
            got = str((item or {}).get("Hashes", {}).get(kind, ""))
            size = int((item or {}).get("Size", -1))
            if got != digest or size != row.bytes:
                raise TransferError(f"{remote}: the destination's {kind} ({got or 'none'}, "
                                    f"{size} bytes) does not match ours ({digest}, "
                                    f"{row.bytes} bytes)")
            return 0
        self.work.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.work) as tmp:
            back = Path(tmp) / "readback"
            rcd.copy_out(remote, back)
            got = hash_file(back, ("sha256",))["sha256"]
        if got != row.sha256:
            raise TransferError(f"{remote}: read back, its SHA-256 {got} does not match "
                                f"{row.sha256}")
        return row.bytes

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


def ordered(rows: list[Row], store: Store, target: str) -> Iterator[Row]:
    """Files and sidecars first; a dossier's manifest once the rest of it is there."""
    yield from (r for r in rows if not r.path.endswith("/" + plan.MANIFEST))
    waiting = {r.ticket for r in store.rows(target, "wanted")
               if not r.path.endswith("/" + plan.MANIFEST)}
    yield from (r for r in rows if r.path.endswith("/" + plan.MANIFEST)
                and r.ticket not in waiting)


def partial(path: str) -> str:
    folder, _, name = path.rpartition("/")
    return f"{folder}/{PARTIAL}{name}" if folder else PARTIAL + name


def verify_type(rcd: Rcd) -> str:
    """The strongest hash the destination computes itself, or "" (read back)."""
    have = {h.lower() for h in rcd.hashes()}
    return next((h for h in HASHES if h in have), "")


@contextmanager
def local_copy(row: Row, work: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """The file to send (the outbox file, or the body written to a private temporary file) and
    its digests; LocalProblem if the outbox file is gone or no longer matches its record."""
    if row.body is not None:
        work.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            path = Path(tmp) / "body"
            path.write_bytes(row.body)
            yield path, {h: hashlib.new(h, row.body).hexdigest() for h in HASHES}
        return
    path = Path(row.source or "")
    try:
        digests = hash_file(path, HASHES)
    except OSError as e:
        raise LocalProblem(f"{path.name}: cannot read the kit's copy ({e.strerror}); run "
                           "`edge verify`") from None
    if digests["sha256"] != row.sha256:
        raise LocalProblem(f"{path.name} has changed since it was made (SHA-256 does not match "
                           "the record); not sent; run `edge verify`")
    yield path, digests


def hash_file(path: Path, kinds: tuple[str, ...]) -> dict[str, str]:
    hs = {k: hashlib.new(k) for k in kinds}
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            for h in hs.values():
                h.update(block)
    return {k: h.hexdigest() for k, h in hs.items()}


def over_budget(t: Delivery, store: Store, cost: int, now: float) -> bool:
    """Whether sending `cost` bytes now would pass the day's budget (a file larger than the whole
    budget still goes, alone, first thing in the day)."""
    if not t.daily_mb:
        return False
    sent, _ = store.sent_on(t.name, now)
    return sent > 0 and sent + cost > t.daily_mb * 1024 * 1024


def held(t: Delivery, now: float) -> str:
    """Why nothing may be sent to `t` now: "window", "network" (not on the allowed
    interfaces), or "" (go ahead)."""
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
    creds = str(t.credentials) if t.credentials else "the credentials file"
    if code == "login":
        return (f"the destination refused the login; check the user and password in {creds} "
                f"({message})",
                f"Nơi nhận {t.name} từ chối đăng nhập (sai tên hoặc mật khẩu). Hãy báo kỹ thuật "
                "viên.")
    if code == "full":
        return (f"the destination is full ({message})",
                f"Nơi nhận {t.name} đã hết chỗ. Hãy báo kỹ thuật viên.")
    if code == "unreachable":
        return (f"cannot reach the destination ({message})",
                f"Chưa kết nối được tới {t.name} (mạng hoặc máy chủ). Sẽ tự gửi lại.")
    return (f"delivery failed: {message}",
            f"Gửi tệp về {t.name} bị lỗi. Sẽ tự thử lại; nếu còn lỗi hãy báo kỹ thuật viên.")


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
        "name": t.name, "url": t.url, "required": t.required,
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
        out.append({"target": t.name, "state": state,
                    "reason": st.waiting if state == "waiting" else "",
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
                rcd.copy_out(name, Path(tmp) / "back")
                ok = (Path(tmp) / "back").read_bytes() == data
            rcd.delete(name)
        if not ok:
            raise TransferError("the test file read back differs from what was written")
        return kind or "reading it back"
    finally:
        rcd.close()
