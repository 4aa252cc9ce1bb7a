"""Queueing imported files as a job, for `edge import` and the daemon's hot folder alike.

The files are checked first (an unreadable one is refused, the others kept open), then copied
durably into the job's spool under names of our own before the job is released to the workers.
Each file is read only through the descriptor its check opened: never through a link, never
the path again (it could have been swapped meanwhile).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from edge import config
from edge.drivers.scanner.files import check_file, open_regular
from edge.errors import JobError
from edge.field import visits
from edge.pipeline.job import Job, State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage

COPYING = "copying files"  # the message of an import job not yet released to the workers


@dataclass
class Accepted:
    path: Path
    file: BinaryIO  # the checked descriptor: the copy is made from it
    pages: int


@dataclass
class Checked:
    good: list[Accepted] = field(default_factory=list)
    refused: list[tuple[Path, JobError]] = field(default_factory=list)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __enter__(self) -> Checked:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


def sort_out(paths: list[Path], dpi: int) -> Checked:
    """Every file checked for an import at `dpi`; use as a context manager (it holds them open)."""
    out = Checked()
    for path in paths:
        try:
            f = out.stack.enter_context(open_regular(path))
            out.good.append(Accepted(path, f, check_file(f, dpi)))
        except JobError as e:
            out.refused.append((path, e))
        except FileNotFoundError:
            out.refused.append((path, JobError("does not exist", vi="Không có tệp này")))
        except OSError as e:
            out.refused.append((path, JobError(f"cannot be read ({e.strerror})",
                                               vi="Không đọc được tệp")))
    return out


def queue_import(cfg: config.Config, storage: Storage, queue: Queue, files: list[Accepted], *,
                 doc: str, dossier: str | None, preset: str = "",
                 on_created: Callable[[Job], None] | None = None) -> Job:
    """A queued job whose pages are the pages of `files` (all checked, see `sort_out`).

    `on_created` is called once the job exists, before its files are copied."""
    if not files:
        raise JobError("nothing to import", vi="Không có tệp nào nhập được")
    storage.check_free()
    importer = cfg.importer()
    job = queue.create(kit=cfg.kit.id, doc=doc, scanner=importer.name, preset=preset,
                       dossier=dossier, state=State.PAUSED, message=COPYING)
    visits.attach_job(cfg.storage.root, job.id)
    if on_created:
        on_created(job)
    return release(storage, queue, job, ((a.file, a.path.name) for a in files))


def release(storage: Storage, queue: Queue, job: Job,
            files: Iterable[tuple[BinaryIO, str]]) -> Job:
    """Copy the files (open descriptors, with their original names) into the job, queue it."""
    inputs = storage.job_spool(job.id) / "inputs"
    for i, (f, name) in enumerate(files, 1):  # our own names: nothing of the caller's in a path
        storage.write_atomic(inputs / f"{i:04d}{suffix(name)}", f)
    return queue.transition(job.id, State.QUEUED)


def suffix(name: str) -> str:
    """A file name's extension, safe in a path of ours: lower-case ASCII letters and digits."""
    ext = re.sub(r"[^a-z0-9]", "", os.path.splitext(name)[1].lower())[:8]
    return f".{ext}" if ext else ""


def shown(name: str) -> str:
    """A file name fit for a terminal or a note: control and undecodable characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
