"""The satisfaction survey: one answer per queue number of the day, five faces (1 very unhappy ..
5 very happy) and what could be better, from a fixed list. No personal data: an answer is a
score, a few codes, a time, the visit and (optionally) the queue number it was given for.

Each answer is committed (WAL, synchronous=FULL) before the kiosk says thank you, so a power
cut loses none.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edge.errors import JobError, NotFound, StateConflict
from edge.field import db, visits

SCORES = (1, 2, 3, 4, 5)
SATISFIED = 4  # "hài lòng" and "rất hài lòng"
BETTER = ("wait", "guidance", "equipment", "attitude", "other")
MAX_N = 100_000
MAX_AGE_SECONDS = 24 * 3600  # an answer a tablet kept longer counts as given a day ago


@dataclass(frozen=True)
class Answer:
    id: int
    visit: int | None
    queue_n: int | None
    score: int
    better: tuple[str, ...]
    at: float


@dataclass(frozen=True)
class Tally:
    """The answers of some visits: how many, how many satisfied, per score, per `better` code."""

    answers: int
    satisfied: int
    scores: dict[int, int]
    better: dict[str, int]

    @property
    def share(self) -> float | None:
        """The satisfied share (0..1), None with no answer."""
        return self.satisfied / self.answers if self.answers else None


def check(score: object, better: Iterable[object], queue_n: object) -> tuple[int, tuple[str, ...],
                                                                             int | None]:
    """The answer's parts, or a JobError saying which is wrong."""
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise JobError(f"score must be 1 to 5, not {str(score)[:20]!r}",
                       vi="Hãy chọn một khuôn mặt (từ 1 đến 5)")
    codes = tuple(dict.fromkeys(better))
    wrong = [c for c in codes if c not in BETTER]
    if wrong:
        raise JobError(f"unknown 'better' code {str(wrong[0])[:20]!r}; known: "
                       f"{', '.join(BETTER)}", vi="Lựa chọn góp ý không hợp lệ")
    if queue_n is not None and (isinstance(queue_n, bool) or not isinstance(queue_n, int)
                                or not 0 < queue_n < MAX_N):
        raise JobError(f"queue number must be a whole number from 1, not {str(queue_n)[:20]!r}",
                       vi="Số thứ tự phải là một số nguyên dương")
    return score, codes, queue_n  # type: ignore[return-value]


def answer(root: Path, score: int, better: Iterable[str] = (), queue_n: int | None = None,
           now: float | None = None, age: float = 0.0) -> Answer:
    """Record one answer given `age` seconds ago (a tablet off the Wi-Fi sends it later),
    linked to the visit of its queue number, else to the visit open when it was given; refused
    if that number was not issued that day or has already answered."""
    score, codes, queue_n = check(score, better, queue_n)
    if isinstance(age, bool) or not isinstance(age, int | float) or not math.isfinite(age):
        raise JobError(f"age: seconds since the answer was given, not {str(age)[:20]!r}",
                       vi="Thời điểm trả lời không hợp lệ")
    now = time.time() if now is None else now
    visits.current(root, now)  # closes one left open from an earlier day
    now -= min(max(age, 0.0), MAX_AGE_SECONDS)  # when it was given
    conn = db.connect(root)
    try:
        with db.tx(conn):
            queue_id, visit = _number(conn, queue_n, now)
            visit = visit or visits.open_at(conn, now)
            cur = conn.execute("INSERT INTO survey (visit, queue, score, better, at) VALUES "
                               "(?, ?, ?, ?, ?)", (visit, queue_id, score, ",".join(codes), now))
    except sqlite3.IntegrityError:
        raise StateConflict(f"number {queue_n} has already answered the survey",
                            vi=f"Số {queue_n} đã đánh giá rồi. Cảm ơn ông/bà!") from None
    finally:
        conn.close()
    return Answer(int(cur.lastrowid or 0), visit, queue_n, score, codes, now)


def _number(conn: sqlite3.Connection, queue_n: int | None, now: float
            ) -> tuple[int | None, int | None]:
    if queue_n is None:
        return None, None
    row = conn.execute("SELECT id, visit FROM queue WHERE day = ? AND n = ?",
                       (visits.day_of(now), queue_n)).fetchone()
    if row is None:
        raise NotFound(f"queue number {queue_n} was not issued today",
                       vi=f"Hôm nay chưa phát số {queue_n}. Hãy xem lại số trên phiếu, hoặc "
                          "để trống ô số.")
    return int(row["id"]), row["visit"]


def open_number(root: Path, ticket: str, now: float | None = None) -> int | None:
    """Today's queue number of dossier `ticket`, if it has not answered yet: the slip's survey
    QR (`survey_url` with {ticket}) opens the survey for that number alone."""
    now = time.time() if now is None else now
    found = db.rows(root, "SELECT q.n FROM queue q LEFT JOIN survey s ON s.queue = q.id "
                    "WHERE q.ticket = ? AND q.day = ? AND s.id IS NULL ORDER BY q.id DESC "
                    "LIMIT 1", (ticket[:64], visits.day_of(now)))
    return int(found[0]["n"]) if found else None


def tally(conn: sqlite3.Connection, visits: Iterable[int]) -> Tally:
    """The answers given during these visits."""
    ids = list(visits)
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT score, better FROM survey WHERE visit IN ({marks})",
                        ids).fetchall() if ids else []
    return tally_of((int(r["score"]), str(r["better"])) for r in rows)


def tally_of(answers: Iterable[tuple[int, str]]) -> Tally:
    """The tally of (score, comma-separated better codes) pairs."""
    scores = dict.fromkeys(SCORES, 0)
    better = dict.fromkeys(BETTER, 0)
    for score, codes in answers:
        scores[score] += 1
        for code in filter(None, codes.split(",")):
            better[code] = better.get(code, 0) + 1
    return Tally(sum(scores.values()), sum(n for s, n in scores.items() if s >= SATISFIED),
                 scores, better)
