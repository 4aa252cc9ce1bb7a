"""Queueing imported files as a job, for `edge import` and the daemon's hot folder alike.

The files are checked first (an unreadable one is refused, the others kept), then copied
durably into the job's spool under names of our own before the job is released to the workers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from edge import config
from edge.drivers.scanner.files import check
from edge.errors import JobError
from edge.pipeline.job import Job, State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage

log = logging.getLogger(__name__)


@dataclass
class Checked:
    good: list[Path] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)


def sort_out(paths: list[Path]) -> Checked:
    out = Checked()
    for path in paths:
        try:
            check(path)
            out.good.append(path)
        except JobError as e:
            out.refused.append((path, e.message))
        except OSError as e:
            out.refused.append((path, f"{path.name}: cannot be read ({e.strerror})"))
    return out


def queue_import(cfg: config.Config, storage: Storage, queue: Queue, files: list[Path], *,
                 doc: str, dossier: str | None, preset: str = "") -> Job:
    """A queued job whose pages are the pages of `files` (all readable, see `sort_out`)."""
    if not files:
        raise JobError("nothing to import", vi="Không có tệp nào nhập được")
    importer = cfg.importer()
    job = queue.create(kit=cfg.kit.id, doc=doc, scanner=importer.name, preset=preset,
                       dossier=dossier, state=State.PAUSED, message="copying files")
    inputs = storage.job_spool(job.id) / "inputs"
    for i, path in enumerate(files, 1):  # our own names: nothing of the caller's in a path
        storage.write_atomic(inputs / f"{i:04d}{path.suffix.lower()[:8]}", path.read_bytes())
    return queue.transition(job.id, State.QUEUED)


class HotFolder:
    """Imports files dropped in a folder (an MFP's scan-to-folder target) once they stop
    changing; each file becomes one job. Imported files are removed (the job holds them);
    refused ones are moved to `refused/` beside a note saying why."""

    def __init__(self, cfg: config.Config, storage: Storage, queue: Queue) -> None:
        assert cfg.hot_folder is not None
        self.cfg, self.hot, self.storage, self.queue = cfg, cfg.hot_folder, storage, queue
        self.seen: dict[Path, tuple[int, float, float]] = {}  # size, mtime, since

    def poll(self, now: float | None = None) -> list[Job]:
        now = time.monotonic() if now is None else now
        jobs = []
        for path in sorted(self.hot.path.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.suffix in (".part",
                                                                                   ".tmp"):
                continue
            st = path.stat()
            size, mtime, since = self.seen.get(path, (-1, -1.0, now))
            if (st.st_size, st.st_mtime) != (size, mtime):
                self.seen[path] = (st.st_size, st.st_mtime, now)
            elif now - since >= self.hot.settle_seconds:
                del self.seen[path]
                jobs += self._take(path)
        return jobs

    def _take(self, path: Path) -> list[Job]:
        checked = sort_out([path])
        if checked.refused:
            (_, why), = checked.refused
            refused = self.hot.path / "refused"
            refused.mkdir(exist_ok=True)
            path.rename(refused / path.name)
            (refused / f"{path.name}.why.txt").write_text(why + "\n", encoding="utf-8")
            log.warning("hot folder: refused a file: %s", why)
            return []
        job = queue_import(self.cfg, self.storage, self.queue, [path], doc=self.hot.doc,
                           dossier=None)
        path.unlink()
        log.info("hot folder: a file became job %d %s", job.id, job.ticket)
        return [job]
