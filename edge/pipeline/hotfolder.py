"""The hot folder: files dropped by an MFP's scan-to-folder or by people become import jobs.

Everything in the folder is hostile. Each file, once it stops changing, ends in exactly one of:
imported (one job), or moved to `refused/` beside a `.why.txt` note in English and Vietnamese.
The original is kept in `.importing/` under its job's number until the job is ready (then
removed) or failed (then refused with the job's reason), so a crash or a bad job loses nothing.
The kit creates `.importing/` and `refused/` itself and never follows a link: entries are
renamed and created relative to directory descriptors, new files with O_EXCL|O_NOFOLLOW.
A file that ends early may still be being written: it gets INCOMPLETE_SETTLES settle periods
before it is set aside. Only the kit's own faults (a full card) are retried, with backoff,
file by file. Logs name files by neutral ids (job number, refused name), never by their names.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path

from edge import config
from edge.drivers.scanner.files import Incomplete, open_regular
from edge.errors import EdgeError, JobError, StorageError
from edge.pipeline import imports
from edge.pipeline.job import HAS_PDF, Job, State
from edge.pipeline.queue import Queue
from edge.pipeline.settings import ScanSettings
from edge.pipeline.storage import Storage

log = logging.getLogger(__name__)

IMPORTING, REFUSED = ".importing", "refused"
INCOMPLETE_SETTLES = 12  # a file that ends early is set aside after 12 settle periods unchanged
FIRST_BACKOFF, MAX_BACKOFF = 10.0, 600.0
PURGE_EVERY_SECONDS = 3600.0
HELD = re.compile(r"job-(\d{6})(\.[a-z0-9]{1,8})?")
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class HotFolder:
    """Imports files dropped in a folder once they stop changing; each file becomes one job."""

    def __init__(self, cfg: config.Config, storage: Storage, queue: Queue) -> None:
        assert cfg.hot_folder is not None
        self.cfg, self.hot, self.storage, self.queue = cfg, cfg.hot_folder, storage, queue
        self.dpi = ScanSettings.resolve(cfg.importer(), "").dpi
        self.seen: dict[str, tuple[tuple[int, ...], float]] = {}  # name -> (lstat key, since)
        self.retry: dict[str, tuple[float, float]] = {}  # name -> (not before, next backoff)
        self.next_purge = float("-inf")

    def poll(self, now: float | None = None) -> list[Job]:
        now = time.monotonic() if now is None else now
        self._own_dirs()
        self._follow_up(now)
        jobs = []
        names = set(os.listdir(self.hot.path))
        for name in sorted(names):
            if self._settled(name, now):
                jobs += self._try(name, now)
        for gone in set(self.seen) - names:
            del self.seen[gone]
        if now >= self.next_purge:
            self.next_purge = now + PURGE_EVERY_SECONDS
            self.purge_refused()
        return jobs

    def _settled(self, name: str, now: float) -> bool:
        if name.startswith(".") or name == REFUSED or name.endswith((".part", ".tmp")):
            return False
        try:
            st = os.lstat(self.hot.path / name)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):  # folders are left alone
            return False
        key = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode)
        seen = self.seen.get(name)
        if seen is None or seen[0] != key:
            self.seen[name] = (key, now)
            return False
        return now - seen[1] >= self.hot.settle_seconds and now >= self.retry.get(name, (0,))[0]

    def _try(self, name: str, now: float) -> list[Job]:
        try:
            return self._take(name, now)
        except StorageError as e:  # the kit's fault: this file waits, the others go on
            log.warning("hot folder: cannot import a file now (%s); trying again later",
                        e.message)
        except Exception as e:  # never let one file stop the folder (no name in the log)
            log.error("hot folder: a file could not be taken (%s); trying again later",
                      type(e).__name__)
        self._backoff(name, now)
        return []

    def _backoff(self, key: str, now: float) -> None:
        delay = self.retry.get(key, (0.0, FIRST_BACKOFF))[1]
        self.retry[key] = (now + delay, min(delay * 2, MAX_BACKOFF))

    def _take(self, name: str, now: float) -> list[Job]:
        with imports.sort_out([self.hot.path / name], self.dpi) as checked:
            if checked.refused:
                ((_, err),) = checked.refused
                waited = now - self.seen[name][1]
                if isinstance(err, Incomplete) and waited < self.hot.settle_seconds * \
                        INCOMPLETE_SETTLES:
                    return []  # perhaps still being written: look again next time
                self._refuse(name, err, name)
                return []
            job = imports.queue_import(self.cfg, self.storage, self.queue, checked.good,
                                       doc=self.hot.doc, dossier=None,
                                       on_created=lambda job: self._hold(name, job))
        self.seen.pop(name, None)
        self.retry.pop(name, None)
        log.info("hot folder: a file became job %d %s", job.id, job.ticket)
        return [job]

    def _hold(self, name: str, job: Job) -> None:
        """Keep the original under the job's number until the job is ready."""
        self._rename(name, IMPORTING, f"job-{job.id:06d}{imports.suffix(name)}")

    def _follow_up(self, now: float) -> None:
        """Settle the originals in `.importing/`: removed when ready, refused when failed,
        copied again when a crash or a full card interrupted the copy."""
        for name in sorted(os.listdir(self.hot.path / IMPORTING)):
            if now < self.retry.get(IMPORTING + name, (0,))[0]:
                continue
            try:
                self._follow_one(name)
            except StorageError as e:
                log.warning("hot folder: cannot finish an import (%s); trying again later",
                            e.message)
                self._backoff(IMPORTING + name, now)

    def _follow_one(self, name: str) -> None:
        held = HELD.fullmatch(name)
        try:
            job = self.queue.get(int(held.group(1))) if held else None
        except JobError:
            job = None
        where = f"{IMPORTING}/{name}"
        if job is None:
            self._refuse(where, JobError("no job of the kit holds this file",
                                         vi="Không có hồ sơ quét nào giữ tệp này"))
        elif job.state in HAS_PDF:
            with _dir(self.hot.path / IMPORTING) as fd:
                os.unlink(name, dir_fd=fd)
            log.info("hot folder: job %d is ready, its original removed", job.id)
        elif job.state == State.FAILED:
            self._refuse(where, JobError(f"job {job.ticket} failed: {job.message}",
                                         vi=f"Hồ sơ quét {job.ticket} bị lỗi: {job.message_vi}"))
        elif job.state == State.PAUSED and job.message == imports.COPYING:
            with open_regular(self.hot.path / where) as f:
                imports.release(self.storage, self.queue, job, [(f, name)])
            log.info("hot folder: job %d: interrupted copy finished", job.id)

    def _refuse(self, where: str, err: EdgeError, original: str | None = None) -> None:
        """Move `where` (relative to the folder) to refused/ beside a note saying why."""
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = f"{stamp}-{secrets.token_hex(4)}{imports.suffix(where)}"
        self._rename(where, REFUSED, target)
        note = (f"English: {err.message}\nTiếng Việt: {err.vi}\n"
                + (f"Original name: {imports.shown(original)}\n" if original else "")
                + f"Refused: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}\n")
        with _dir(self.hot.path / REFUSED) as fd:
            out = os.open(f"{target}.why.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL
                          | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=fd)
            with os.fdopen(out, "w", encoding="utf-8", errors="backslashreplace") as f:
                f.write(note)
        self.seen.pop(where, None)
        self.retry.pop(where, None)
        log.warning("hot folder: refused a file, now %s/%s: %s", REFUSED, target, err.message)

    def _rename(self, where: str, folder: str, target: str) -> None:
        """Rename an entry (never followed) into one of our folders, never over another."""
        with _dir(self.hot.path, follow=True) as src, _dir(self.hot.path / folder) as dst:
            try:
                os.lstat(target, dir_fd=dst)
            except FileNotFoundError:
                os.rename(where, target, src_dir_fd=src, dst_dir_fd=dst)
                return
        raise StorageError(f"{folder}/{target} exists already", vi="Tệp đã tồn tại")

    def _own_dirs(self) -> None:
        """`.importing/` and `refused/` are real folders of ours; anything else in their place
        (a link to elsewhere, a file) is moved aside and refused."""
        aside = []
        for name in (IMPORTING, REFUSED):
            path = self.hot.path / name
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                st = None
            if st is not None and not (stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()):
                aside.append(f".{secrets.token_hex(4)}.aside")
                os.rename(path, self.hot.path / aside[-1])  # renames the link, not its target
                st = None
            if st is None:
                path.mkdir(mode=0o700)
        for name in aside:
            self._refuse(name, JobError(
                "a link or a file stood in place of the kit's own folder .importing or refused",
                vi="Có liên kết hoặc tệp lạ thay cho thư mục của bộ thiết bị"))

    def purge_refused(self, now: float | None = None) -> int:
        """Delete refused files (personal data) after storage.retention_days."""
        limit = (time.time() if now is None else now) - self.cfg.storage.retention_days * 86400
        purged = 0
        with _dir(self.hot.path / REFUSED) as fd:
            for name in os.listdir(fd):
                st = os.lstat(name, dir_fd=fd)
                if max(st.st_mtime, st.st_ctime) >= limit:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    shutil.rmtree(name, dir_fd=fd)
                else:
                    os.unlink(name, dir_fd=fd)
                purged += 1
        if purged:
            log.info("hot folder: %d refused file(s) purged after the retention period", purged)
        return purged


class _dir:
    """A folder opened as a descriptor, refusing a link in its place."""

    def __init__(self, path: Path, follow: bool = False) -> None:
        self.fd = os.open(path, DIR_FLAGS & ~os.O_NOFOLLOW if follow else DIR_FLAGS)

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
