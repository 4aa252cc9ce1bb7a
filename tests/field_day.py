"""A scripted day in the field written straight into field.db and the job queue (real schema,
real Queue transitions), for the survey, report and telemetry tests: two visits, queue numbers,
jobs with pages and blank pages, slips, survey answers. `EXPECTED` is what a report must say."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from edge.field import db
from edge.pipeline.job import State
from edge.pipeline.queue import Page, Queue
from edge.pipeline.storage import Storage

DAY = dt.date(2026, 11, 14)
T0 = dt.datetime(2026, 11, 14, 8, 0).timestamp()
# (n, area, priority, procedure, state, issued+, called+, finished+) seconds after T0
NUMBERS = [
    (1, "digitise", "elderly", "Đăng ký khai sinh", "done", 0, 60, 660),
    (2, "digitise", None, "Đăng ký khai sinh", "done", 30, 300, 1200),
    (3, "support", None, None, "done", 40, 400, 700),
    (4, "reception", "disability", None, "done", 50, 500, 530),
    (5, "reception", None, None, "left", 60, None, 900),
    (6, "digitise", None, None, "left", 70, 1300, 1310),
]
EXPECTED = {"visits": 1, "issued": 6, "served": 4, "served_priority": 2, "left": 2,
            "dossiers": 2, "documents": 3, "pages": 7, "blank_pages": 2, "slips": 5,
            "online": 1, "online_share": 50.0,
            # waits 60, 270, 360, 450, 1230 -> lower median 360 s, p90 1230 s
            "waiting_median": 6.0, "waiting_p90": 20.5,
            # services 600, 900, 300, 30 -> lower median 300 s, p90 900 s
            "service_median": 5.0, "service_p90": 15.0,
            "survey_answers": 4, "survey_satisfied": 3, "satisfied_share": 75.0,
            "score_5": 2, "score_4": 1, "score_3": 0, "score_2": 1, "score_1": 0,
            "better_wait": 2, "better_guidance": 1, "better_equipment": 0,
            "better_attitude": 0, "better_other": 0}


def job(queue: Queue, root: Path, ticket: str | None, pages: int, blank: int,
        uploaded: bool = False, day: dt.date = DAY) -> int:
    """A finished job of `pages` pages and `blank` blank ones, through the queue's states."""
    j = queue.create(kit="kit1", doc="Giấy khai sinh", scanner="adf", preset="", ticket=ticket,
                     day=day)
    queue.transition(j.id, State.SCANNING)
    for i in range(pages + blank):
        queue.add_page(j.id, Page(i + 1, f"p{j.id}-{i}", "0" * 64, "0" * 64, 100,
                                  blank=i >= pages))
    queue.transition(j.id, State.ASSEMBLING)
    pdf = root / f"job{j.id}.pdf"
    pdf.write_bytes(b"%PDF-1.4 test")
    queue.publish(j.id, [(pdf, hashlib.sha256(pdf.read_bytes()).hexdigest())])
    if uploaded:
        queue.mark_uploaded(j.id)
    return j.id


def write_day(root: Path, day: dt.date = DAY) -> tuple[int, int]:
    """Visit 1 (the scripted day, ended) and visit 2 (another place, a week later, open);
    returns their ids."""
    t0 = T0 + (day - DAY).days * 86400
    root.mkdir(parents=True, exist_ok=True)
    queue = Queue(Storage(root).db, new=True)
    a = job(queue, root, None, 3, 1, day=day)
    ticket_a = queue.get(a).ticket
    b = job(queue, root, ticket_a, 2, 1, day=day)
    c = job(queue, root, None, 2, 0, True, day)
    ticket_c = queue.get(c).ticket
    failed = queue.create(kit="kit1", doc="x", scanner="adf", preset="", day=day)
    queue.transition(failed.id, State.FAILED)
    queue.close()
    conn = db.connect(root)
    v1 = conn.execute("INSERT INTO visits (place, venue, day, started, ended, end_reason) VALUES "
                      "('Thôn Đông', 'Nhà văn hóa thôn Đông', ?, ?, ?, 'ended')",
                      (day.isoformat(), t0 - 600, t0 + 4 * 3600)).lastrowid
    tickets = {1: ticket_a, 3: ticket_c}
    for n, area, prio, proc, state, i, called, fin in NUMBERS:
        conn.execute("INSERT INTO queue (day, n, visit, area, priority, procedure, ticket, state,"
                     " issued, called, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (day.isoformat(), n, v1, area, prio, proc, tickets.get(n), state, t0 + i,
                      None if called is None else t0 + called, t0 + fin))
    for job_id in (a, b, c, failed.id):
        conn.execute("INSERT INTO visit_jobs VALUES (?, ?)", (job_id, v1))
    conn.execute("INSERT INTO visit_counts VALUES (?, 'slips', 5)", (v1,))
    qid = {n: conn.execute("SELECT id FROM queue WHERE n = ?", (n,)).fetchone()[0]
           for n in (1, 2, 3, 4)}
    for n, score, better in ((1, 5, ""), (2, 4, "wait"), (3, 2, "wait,guidance"), (4, 5, "")):
        conn.execute("INSERT INTO survey (visit, queue, score, better, at) VALUES (?, ?, ?, ?, ?)",
                     (v1, qid[n], score, better, t0 + 2000))
    v2 = conn.execute("INSERT INTO visits (place, venue, day, started) VALUES ('Tổ dân phố 3', "
                      "'', ?, ?)", ((day + dt.timedelta(7)).isoformat(), t0 + 7 * 86400)).lastrowid
    conn.execute("INSERT INTO survey (visit, score, better, at) VALUES (?, 3, 'other', ?)",
                 (v2, t0 + 7 * 86400 + 60))
    conn.close()
    return int(v1 or 0), int(v2 or 0)
