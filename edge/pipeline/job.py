"""The scan job and its state machine, shared by the queue, the worker, the CLI and the web UI."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from edge.errors import StateConflict


class State(enum.StrEnum):
    QUEUED = "queued"
    SCANNING = "scanning"
    PAUSED = "paused"
    ASSEMBLING = "assembling"
    READY = "ready"
    UPLOADED = "uploaded"
    FAILED = "failed"


TRANSITIONS: dict[State, set[State]] = {
    State.QUEUED: {State.SCANNING, State.ASSEMBLING, State.FAILED},
    State.SCANNING: {State.PAUSED, State.ASSEMBLING, State.FAILED},
    State.PAUSED: {State.QUEUED, State.ASSEMBLING, State.FAILED},
    State.ASSEMBLING: {State.READY, State.PAUSED, State.FAILED},
    State.READY: {State.UPLOADED, State.ASSEMBLING},
    State.UPLOADED: set(),
    State.FAILED: set(),
}
SETTLED = {State.PAUSED, State.READY, State.UPLOADED, State.FAILED}
HAS_PDF = {State.READY, State.UPLOADED}


def check_transition(job_id: int, old: State, new: State) -> None:
    if new not in TRANSITIONS[old]:
        raise StateConflict(
            f"job {job_id} is {old}; it cannot go to {new}",
            vi=f"Hồ sơ quét số {job_id} đang ở trạng thái {old}, không thể chuyển sang {new}",
        )


@dataclass(frozen=True)
class PdfFile:
    """One file of a job's document: most jobs have one, a long one is split in parts."""

    path: str
    sha256: str
    bytes: int

    def summary(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes}


@dataclass(frozen=True)
class Job:
    id: int
    ticket: str
    dossier: str | None
    doc: str
    scanner: str
    preset: str
    state: State
    message: str
    message_vi: str
    pages: int
    blank_pages: int
    files: tuple[PdfFile, ...]
    created: float
    updated: float
    uploaded: float | None
    purged: float | None
    seq: int = 1  # its place in its dossier (the jobs sharing its ticket): 1, 2, 3...
    batch: int | None = None  # the job it was split from at a cover sheet (its own id: split)

    @property
    def ref(self) -> str:
        """What the file name starts with: the dossier code once known, else the ticket."""
        return self.dossier or self.ticket

    @property
    def pdf(self) -> str | None:
        """The document's (first) file, if it has been made."""
        return self.files[0].path if self.files else None

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def summary(self) -> dict[str, object]:
        """The JSON the CLI prints and the web API returns."""
        return {
            "job_id": self.id,
            "ticket": self.ticket,
            "seq": self.seq,
            "dossier": self.dossier,
            "doc": self.doc,
            "scanner": self.scanner,
            "preset": self.preset,
            "state": str(self.state),
            "message": self.message,
            "message_vi": self.message_vi,
            "pages": self.pages,
            "blank_pages": self.blank_pages,
            "pdf": self.pdf,
            "files": [f.summary() for f in self.files],
            "bytes": self.bytes,
            "created": self.created,
            "updated": self.updated,
            "uploaded": self.uploaded,
            "purged": self.purged,
            "batch": self.batch,
        }
