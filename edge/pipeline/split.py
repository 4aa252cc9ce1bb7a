"""Where a scanned stack splits into documents: at each of the kit's cover sheets.

A cover starts a document (its type is on the cover) that runs to the next cover; the pages before
the first cover keep the type staff chose at Scan. A cover naming a dossier sends its document
there (when the kit has that dossier and it is not all uploaded); a cover naming none continues
in the dossier of the document before it (`targets`). A cover with nothing after it but blank pages
starts no document: its pages go with the next one. Cover pages and, in duplex, their backs stay
in the job set aside (like blank pages), so nothing scanned is ever lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from edge.errors import EdgeError
from edge.pipeline.cover import CoverMark
from edge.pipeline.queue import Page, Target


@dataclass
class Section:
    """One document of a stack: the cover that starts it (None before the first) and its pages."""

    mark: CoverMark | None
    pages: list[Page] = field(default_factory=list)

    @property
    def content(self) -> int:
        return sum(1 for p in self.pages if not p.blank)


@dataclass(frozen=True)
class Plan:
    """What a job becomes: its own document type (None: unchanged), then the later documents
    (type, page indices, the dossier their cover names or ""), the pages to set aside as cover
    backs, and the dossier the job's own first cover names ("": none)."""

    doc: str | None
    later: list[tuple[str, list[int], str]]
    backs: list[int]
    ref: str = ""


def mark_of(page: Page) -> CoverMark | None:
    return CoverMark.parse(page.cover) if page.cover else None


def at_covers(pages: list[Page]) -> list[Section]:
    """The stack cut before each cover: the pages before the first cover, then one section per
    cover (some may have no content yet)."""
    raw = [Section(None)]
    for p in pages:
        mark = mark_of(p)
        if mark:
            raw.append(Section(mark))
        raw[-1].pages.append(p)
    return raw


def sections(pages: list[Page]) -> list[Section]:
    """The documents of a stack, in order; at least one, holding every page."""
    raw = at_covers(pages)
    kept: list[Section] = []
    carry: list[Page] = []
    for s in raw:
        if not s.content:
            carry += s.pages
            continue
        kept.append(Section(s.mark, carry + s.pages))
        carry = []
    if not kept:
        marks = [s.mark for s in raw if s.mark]
        return [Section(marks[-1] if marks else None, carry)]
    kept[-1].pages += carry
    return kept


def cover_backs(pages: list[Page]) -> list[int]:
    """In duplex, the back of each cover sheet (the cover is a front: an odd page)."""
    by_idx = {p.idx: p for p in pages}
    return [p.idx + 1 for p in pages
            if p.cover and p.idx % 2 == 1 and p.idx + 1 in by_idx
            and not by_idx[p.idx + 1].blank and not by_idx[p.idx + 1].cover]


def plan(pages: list[Page], duplex: bool) -> Plan | None:
    """How to split a job of `pages`, or None when it is one document as it is."""
    backs = cover_backs(pages) if duplex else []
    if backs:
        pages = [replace(p, blank=True) if p.idx in backs else p for p in pages]
    found = sections(pages)
    first = found[0].mark.doc if found[0].mark else None
    later = [(s.mark.doc, [p.idx for p in s.pages], s.mark.ref) for s in found[1:] if s.mark]
    if not later and not backs and first is None:
        return None
    return Plan(first, later, backs, found[0].mark.ref if found[0].mark else "")


def continued(found: Plan | None, pages: list[Page]) -> tuple[list[int], Plan]:
    """The pages of a stack scanned after it was split (a resumed job): those before any new
    cover (they continue the stack's last document) and the new documents; a first cover starts
    one (it does not retype the job)."""
    later = found.later if found else []
    rest = [p.idx for p in pages if not any(p.idx in idxs for _, idxs, _ in later)]
    backs = found.backs if found else []
    if found and found.doc is not None:
        return [], Plan(None, [(found.doc, rest, found.ref), *later], backs)
    return rest, Plan(None, later, backs)


def targets(refs: list[str], home: str, find: Callable[[str], str]) -> list[Target]:
    """Where each document of a stack goes, in order, given the dossier each cover names ("":
    none): the ticket `find` gives for it, else (none named, or `find` refused it with an
    EdgeError saying why) the dossier of the document before, the first one's being `home`."""
    out = []
    for ref in refs:
        if ref:
            try:
                home = find(ref)
            except EdgeError as e:
                out.append(Target(
                    home, f"the cover sheet names dossier {ref}, which {e.message}: its pages "
                    f"were kept in dossier {home}; move them if they belong elsewhere",
                    f"Tờ phân cách ghi hồ sơ {ref} nhưng {e.vi}, nên các trang được giữ trong "
                    f"hồ sơ {home}. Hãy chuyển nếu cần."))
                continue
        out.append(Target(home))
    return out


def live(pages: list[Page], doc: str) -> list[dict[str, object]]:
    """The documents seen so far in a job's pages, for the live scan view: type, pages, and the
    place the cover gives ("2/4") when it has one. A cover just read shows with 0 pages."""
    found = at_covers(pages)
    if not found[0].content:
        found = found[1:]
    out = []
    for n, s in enumerate(found, 1):
        out.append({"doc": s.mark.doc if s.mark else doc, "pages": s.content, "n": n,
                    "index": s.mark.index if s.mark else 0,
                    "count": s.mark.count if s.mark else 0})
    return out
