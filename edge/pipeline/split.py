"""Where a scanned stack splits into documents: at each of the kit's cover sheets.

A cover starts a document (its type is on the cover) that runs to the next cover; the pages before
the first cover keep the type staff chose at Scan. A cover with nothing after it but blank pages
starts no document: its pages go with the next one. Cover pages and, in duplex, their backs stay
in the job set aside (like blank pages), so nothing scanned is ever lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from edge.pipeline.cover import CoverMark
from edge.pipeline.queue import Page


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
    (type, page indices), and the pages to set aside as cover backs."""

    doc: str | None
    later: list[tuple[str, list[int]]]
    backs: list[int]


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
    later = [(s.mark.doc, [p.idx for p in s.pages]) for s in found[1:] if s.mark]
    if not later and not backs and first is None:
        return None
    return Plan(first, later, backs)


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
