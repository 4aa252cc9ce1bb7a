"""The figures of the monthly report a commune office files: per visit, per place, per month.

From field.db (visits, queue numbers, survey answers, the jobs of each visit, slips printed) and
the job queue (pages, blank pages, which dossiers were uploaded). A job's procedure is the one
said at reception for the citizen whose ticket it carries ("khác" when none was). Counts only:
no citizen name, dossier code or ticket ever reaches a report.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sqlite3
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from edge.errors import JobError, NotFound
from edge.field import db, survey
from edge.field.visits import Visit
from edge.pipeline.job import Job, State
from edge.pipeline.queue import Queue

OTHER = "khác"  # the procedure of a job whose citizen said none at reception
TOTAL = "Tổng cộng"  # the heading of the total column
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# (code, Vietnamese, English): the rows of the summary table, in the report's order
ROWS: tuple[tuple[str, str, str], ...] = (
    ("visits", "Số buổi lưu động", "Visits"),
    ("issued", "Số thứ tự đã phát", "Queue numbers issued"),
    ("served", "Công dân được phục vụ", "Citizens served"),
    ("served_priority", "Trong đó thuộc nhóm ưu tiên", "Of whom priority"),
    ("left", "Công dân bỏ về", "Citizens who left"),
    ("dossiers", "Hồ sơ tiếp nhận", "Dossiers received"),
    ("documents", "Giấy tờ đã số hoá", "Documents digitised"),
    ("pages", "Trang đã số hoá", "Pages digitised"),
    ("blank_pages", "Trang trắng để riêng", "Blank pages set aside"),
    ("slips", "Phiếu đã in", "Slips printed"),
    ("online", "Hồ sơ đã nộp trực tuyến", "Dossiers handled online"),
    ("online_share", "Tỷ lệ hồ sơ trực tuyến (%)", "Share handled online (%)"),
    ("waiting_median", "Thời gian chờ, trung vị (phút)", "Waiting time, median (min)"),
    ("waiting_p90", "Thời gian chờ, 90% không quá (phút)", "Waiting time, p90 (min)"),
    ("service_median", "Thời gian phục vụ, trung vị (phút)", "Service time, median (min)"),
    ("service_p90", "Thời gian phục vụ, 90% không quá (phút)", "Service time, p90 (min)"),
    ("survey_answers", "Số lượt đánh giá", "Survey answers"),
    ("survey_satisfied", "Số lượt hài lòng", "Satisfied answers"),
    ("satisfied_share", "Tỷ lệ hài lòng (%)", "Satisfied share (%)"),
    ("score_5", "Rất hài lòng", "Very satisfied"),
    ("score_4", "Hài lòng", "Satisfied"),
    ("score_3", "Bình thường", "Neutral"),
    ("score_2", "Không hài lòng", "Unsatisfied"),
    ("score_1", "Rất không hài lòng", "Very unsatisfied"),
    ("better_wait", "Góp ý: chờ lâu", "To improve: waiting"),
    ("better_guidance", "Góp ý: hướng dẫn chưa rõ", "To improve: guidance"),
    ("better_equipment", "Góp ý: máy móc trục trặc", "To improve: equipment"),
    ("better_attitude", "Góp ý: thái độ phục vụ", "To improve: attitude"),
    ("better_other", "Góp ý: khác", "To improve: other"),
)


def label(v: Visit) -> str:
    """A visit as a report names it: "14/11/2026 – Thôn Đông"."""
    return f"{dt.date.fromisoformat(v.day):%d/%m/%Y} – {v.place}"


@dataclass
class Figures:
    """What some visits did; `values()` gives the summary rows by code."""

    visits: int = 0
    issued: int = 0
    served: int = 0
    served_priority: int = 0
    left: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    dossiers: Counter[str] = field(default_factory=Counter)   # procedure -> dossiers
    documents: Counter[str] = field(default_factory=Counter)  # procedure -> documents
    pages: int = 0
    blank_pages: int = 0
    slips: int = 0
    online: int = 0
    tally: survey.Tally = field(default_factory=lambda: survey.tally_of([]))

    def values(self) -> dict[str, int | float | None]:
        t = self.tally
        received = sum(self.dossiers.values())
        out: dict[str, int | float | None] = {
            "visits": self.visits, "issued": self.issued, "served": self.served,
            "served_priority": self.served_priority, "left": self.left, "dossiers": received,
            "documents": sum(self.documents.values()), "pages": self.pages,
            "blank_pages": self.blank_pages, "slips": self.slips, "online": self.online,
            "online_share": percent(self.online, received),
            "waiting_median": minutes(median(self.waits)),
            "waiting_p90": minutes(p90(self.waits)),
            "service_median": minutes(median(self.services)),
            "service_p90": minutes(p90(self.services)),
            "survey_answers": t.answers, "survey_satisfied": t.satisfied,
            "satisfied_share": percent(t.satisfied, t.answers)}
        out.update({f"score_{s}": n for s, n in t.scores.items()})
        out.update({f"better_{c}": n for c, n in t.better.items()})
        return out


@dataclass(frozen=True)
class Report:
    title: str
    period: str
    columns: list[tuple[str, Figures]]  # (heading, figures): a place each, then the total
    visits: list[tuple[Visit, Figures]]
    total: Figures

    def procedures(self) -> list[tuple[str, int, int]]:
        """(procedure, dossiers, documents), most dossiers first, "khác" last."""
        d, docs = self.total.dossiers, self.total.documents
        names = sorted(set(d) | set(docs), key=lambda p: (p == OTHER, -d[p], p))
        return [(p, d[p], docs[p]) for p in names]


def median(xs: list[float]) -> float | None:
    """The lower median (an observed time), None with none."""
    return statistics.median_low(xs) if xs else None


def p90(xs: list[float]) -> float | None:
    """The nearest-rank 90th percentile: 90 % of the times are at most this."""
    return sorted(xs)[math.ceil(0.9 * len(xs)) - 1] if xs else None


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def for_visit(root: Path, queue: Queue, visit_id: int) -> Report:
    conn = db.connect(root)
    try:
        visits = _visits(conn, "id = ?", (visit_id,))
        if not visits:
            raise NotFound(f"there is no visit {visit_id} (see `edge visit show`)",
                           vi=f"Không có buổi lưu động số {visit_id}")
        return _report(conn, queue, visits, "Báo cáo buổi lưu động", label(visits[0]))
    finally:
        conn.close()


def for_month(root: Path, queue: Queue, month: str, place: str | None = None) -> Report:
    m = MONTH.match(month.strip())
    if not m:
        raise JobError(f"month {month[:20]!r}: expected YYYY-MM, e.g. 2026-11",
                       vi="Tháng phải có dạng NNNN-TT, ví dụ 2026-11")
    where, args = "day LIKE ?", [f"{m[0]}-%"]
    if place:
        where, args = where + " AND place = ?", [*args, place.strip()]
    conn = db.connect(root)
    try:
        visits = _visits(conn, where, tuple(args))
        period = f"Tháng {m[2]}/{m[1]}" + (f" – {place.strip()}" if place else "")
        return _report(conn, queue, visits, "Báo cáo tháng", period)
    finally:
        conn.close()


def visits_of_day(conn: sqlite3.Connection, day: str) -> list[Visit]:
    return _visits(conn, "day = ? ORDER BY started", (day,))


def _visits(conn: sqlite3.Connection, where: str, args: tuple[object, ...]) -> list[Visit]:
    rows = conn.execute(f"SELECT * FROM visits WHERE {where}", args).fetchall()
    return [Visit.of(r) for r in rows]


def _report(conn: sqlite3.Connection, queue: Queue, visits: list[Visit], title: str,
            period: str) -> Report:
    visits = sorted(visits, key=lambda v: v.started)
    per_visit = [(v, _figures(conn, queue, [v])) for v in visits]
    places = list(dict.fromkeys(v.place for v in visits))
    total = _figures(conn, queue, visits)
    columns = [(p, _figures(conn, queue, [v for v in visits if v.place == p])) for p in places]
    if len(columns) != 1:
        columns.append((TOTAL, total))
    return Report(title, period, columns, per_visit, total)


def _figures(conn: sqlite3.Connection, queue: Queue, visits: list[Visit]) -> Figures:
    f, procedures, job_ids = numbers(conn, [v.id for v in visits])
    _jobs(f, _read_jobs(queue, job_ids), procedures)
    return f


def numbers(conn: sqlite3.Connection, ids: list[int]) -> tuple[Figures, dict[str, str], list[int]]:
    """What field.db alone says of these visits: the figures but those of jobs, each ticket's
    procedure, and the visits' job ids."""
    f = Figures(visits=len(ids), tally=survey.tally(conn, ids))
    if not ids:
        return f, {}, []
    marks = ",".join("?" * len(ids))
    procedures: dict[str, str] = {}
    for r in conn.execute(f"SELECT * FROM queue WHERE visit IN ({marks})", ids):
        _number(f, r)
        if r["ticket"] and r["procedure"]:
            procedures[r["ticket"]] = r["procedure"]
    f.slips = int(conn.execute(f"SELECT TOTAL(value) FROM visit_counts WHERE name = 'slips' "
                               f"AND visit IN ({marks})", ids).fetchone()[0])
    job_ids = [int(r[0]) for r in conn.execute(
        f"SELECT job_id FROM visit_jobs WHERE visit IN ({marks})", ids)]
    return f, procedures, job_ids


def _number(f: Figures, r: sqlite3.Row) -> None:
    f.issued += 1
    if r["called"] is not None:
        f.waits.append(r["called"] - r["issued"])
    if r["state"] == "done":
        f.served += 1
        f.served_priority += r["priority"] is not None
        if r["called"] is not None and r["finished"] is not None:
            f.services.append(r["finished"] - r["called"])
    elif r["state"] == "left":
        f.left += 1


def _read_jobs(queue: Queue, job_ids: Iterable[int]) -> list[Job]:
    out = []
    for i in job_ids:
        try:
            out.append(queue.get(i))
        except NotFound:  # a queue rebuilt since: its old jobs are gone, not the visit's counts
            continue
    return out


def _jobs(f: Figures, jobs: list[Job], procedures: dict[str, str]) -> None:
    by_ticket: dict[str, list[Job]] = {}
    for j in jobs:
        if j.state != State.FAILED:
            by_ticket.setdefault(j.ticket, []).append(j)
    for ticket, docs in by_ticket.items():
        proc = procedures.get(ticket) or OTHER
        f.dossiers[proc] += 1
        f.documents[proc] += len(docs)
        f.pages += sum(j.pages for j in docs)
        f.blank_pages += sum(j.blank_pages for j in docs)
        f.online += all(j.state == State.UPLOADED for j in docs)
