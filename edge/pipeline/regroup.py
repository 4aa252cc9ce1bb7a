"""Staff correcting a cover-sheet split before the files are final: undo it, or move it.

Undoing a split joins a document to the one before it (its cover page goes along, set aside and
still shown as a cover: a job is split once, when first assembled); moving a split hands pages
across the boundary. Either way the documents are assembled again (new files, new checksums)
and, when one goes, the later documents of the dossier move up one place. Only while every
document concerned is ready and not uploaded: nothing is being scanned into them and nobody has
taken their files to the portal yet.
"""

from __future__ import annotations

from pathlib import Path

from edge.errors import JobError, StateConflict
from edge.pipeline import outbox
from edge.pipeline.job import Job, State
from edge.pipeline.lock import outbox_lock
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage


def unsplit(storage: Storage, queue: Queue, ref: int | str, via: str) -> Job:
    """Join split document `ref` to the document before it; that document is returned."""
    job, before, later = _boundary(queue, ref)
    pages = queue.pages(job.id)
    with outbox_lock(storage.locks):
        queue.regroup([(job.id, before.id, [p.idx for p in pages])],
                      [before.id, *(j.id for j in later)], drop=job.id,
                      why=f"split at a cover sheet undone from the {via}")
        # its files are now `before`'s, replaced when it is rebuilt (a power cut here leaves
        # none unrecorded); removed now all the same, their names free for the documents moving up
        for f in job.files:
            outbox.remove(Path(f.path))
    return queue.get(before.id)


def move(queue: Queue, ref: int | str, pages: int, via: str) -> Job:
    """Move the start of split document `ref` `pages` pages later (> 0: its first pages go to
    the document before it) or earlier (< 0: that document's last pages come to it)."""
    job, before, _ = _boundary(queue, ref)
    src, dst = (job, before) if pages > 0 else (before, job)
    content = [p for p in queue.pages(src.id) if not p.cover]
    moved = content[:pages] if pages > 0 else content[pages:]
    if not pages or len(moved) < abs(pages) or all(
            p.blank for p in content if p not in moved):
        raise JobError(f"document {src.id} has {src.pages} page(s): moving {abs(pages)} would "
                       "leave it empty; undo the split instead",
                       vi="Không thể chuyển hết trang của giấy tờ; hãy bỏ tách thay vì chuyển")
    queue.regroup([(src.id, dst.id, [p.idx for p in moved])], [before.id, job.id],
                  why=f"{abs(pages)} page(s) moved across a cover sheet split from the {via}")
    return queue.get(job.id)


def _boundary(queue: Queue, ref: int | str) -> tuple[Job, Job, list[Job]]:
    """The split document `ref`, the document before it in its stack, and the dossier's
    documents after it; refused unless all of them are ready."""
    job = queue.get(ref)
    if job.batch is None or job.batch == job.id:
        raise JobError(f"job {job.id} was not split from a stack at a cover sheet: there is "
                       "no split to change", vi="Giấy tờ này không được tách bằng tờ phân cách")
    docs = queue.dossier(job.ticket)
    earlier = [j for j in docs if j.batch == job.batch and j.seq < job.seq]
    if not earlier:  # its cover sent it to another dossier than the document before it
        raise JobError(f"job {job.id} is the first document its stack's cover sheet sent to "
                       f"dossier {job.ticket}: there is no document before it to join",
                       vi="Giấy tờ này là giấy tờ đầu tiên được tách vào hồ sơ này; không có "
                          "giấy tờ nào trước nó để gộp")
    before = max(earlier, key=lambda j: j.seq)
    later = [j for j in docs if j.seq > job.seq]
    busy = [j for j in (before, job, *later) if j.state != State.READY]
    if busy:
        raise StateConflict(
            f"documents {', '.join(str(j.id) for j in busy)} of dossier {job.ticket} are not "
            "ready (being scanned or assembled, paused, or already uploaded): a split can only "
            "be changed while its files are not final",
            vi="Chỉ sửa chỗ tách khi các giấy tờ đã xong và chưa nộp")
    return job, before, later
