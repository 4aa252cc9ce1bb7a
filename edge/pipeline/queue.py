"""The durable job queue in SQLite (WAL, synchronous=FULL), so a power cut loses no committed step.

Every state change is one transaction and leaves a row in `history`; the CLI, the daemon's workers
and the web UI each open their own connection and meet only here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge.errors import JobError, NotFound, StorageError
from edge.pipeline import naming
from edge.pipeline.job import Job, PdfFile, State, check_transition
from edge.pipeline.storage import Storage, disk_full, fsync_dir
from edge.text import printable

# a dossier is the jobs sharing a ticket (`seq` is a job's place in it, by creation order);
# the dossier code, once given, is on every job of the ticket
JOBS_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 1,
    dossier TEXT,
    doc TEXT NOT NULL,
    scanner TEXT NOT NULL,
    preset TEXT NOT NULL,
    state TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    message_vi TEXT NOT NULL DEFAULT '',
    pending_pdf TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    uploaded REAL,
    purged REAL,
    batch INTEGER,  -- the job whose scanned stack this document was split from (cover sheets)
    split_to INTEGER  -- the last page index of the stack split so far (a resumed job: more)
);
"""
SCHEMA = JOBS_TABLE.format(name="jobs") + """
CREATE TABLE IF NOT EXISTS pages (
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    idx INTEGER NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    image_sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    blank INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT '',
    cover TEXT NOT NULL DEFAULT '',  -- a cover sheet's QR payload: a document starts here
    PRIMARY KEY (job_id, idx)
);
CREATE TABLE IF NOT EXISTS files (
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    part INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    ocr INTEGER NOT NULL DEFAULT 0,  -- 0 not yet, 1 done, -1 failed
    ocr_pending_sha TEXT,
    PRIMARY KEY (job_id, part)
);
CREATE TABLE IF NOT EXISTS history (
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    at REAL NOT NULL,
    state TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (day TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, scanner);
"""
# made once the jobs table has its current columns (after the migrations)
INDEXES = """
CREATE INDEX IF NOT EXISTS jobs_ticket ON jobs(ticket, seq);
CREATE INDEX IF NOT EXISTS jobs_dossier ON jobs(dossier);
"""
# columns added after the first release: (table, column, definition)
MIGRATIONS = [
    ("pages", "blank", "INTEGER NOT NULL DEFAULT 0"),
    ("pages", "kind", "TEXT NOT NULL DEFAULT ''"),
    ("pages", "cover", "TEXT NOT NULL DEFAULT ''"),
    ("jobs", "batch", "INTEGER"),
    ("jobs", "split_to", "INTEGER"),
]
DB_FILES = ("queue.db", "queue.db-wal", "queue.db-shm")
MARKER = "queue.created"  # beside queue.db: a queue was made here, never recreate it silently
RECOVERY = ("stop the service (systemctl stop edge), then run `edge queue rebuild`; "
            "see docs/operations.md, 'The queue is damaged'")
# jobs columns of the time when a job had exactly one file, moved to `files` as its part 1
ONE_FILE_COLUMNS = ("pdf", "sha256", "bytes", "ocr", "ocr_pending_sha")

_JOB_COLUMNS = (
    "id, ticket, seq, dossier, doc, scanner, preset, state, message, message_vi, "
    "(SELECT COUNT(*) FROM pages WHERE pages.job_id = jobs.id AND NOT blank) AS pages, "
    "(SELECT COUNT(*) FROM pages WHERE pages.job_id = jobs.id AND blank) AS blank_pages, "
    "(SELECT json_group_array(json_array(path, sha256, bytes)) FROM "
    "(SELECT * FROM files WHERE files.job_id = jobs.id ORDER BY part)) AS files, "
    "created, updated, uploaded, purged, batch"
)


@dataclass(frozen=True)
class Target:
    """The dossier (ticket) a document of the stack goes to; `why`/`vi` say why it stayed where
    it was when its cover named a dossier it could not go to."""

    ticket: str
    why: str = ""
    vi: str = ""


@dataclass(frozen=True)
class Page:
    idx: int
    file: str
    sha256: str
    image_sha256: str
    bytes: int
    blank: bool = False
    kind: str = ""
    cover: str = ""  # the QR payload when the page is a cover sheet (edge/pipeline/cover.py)

    def summary(self) -> dict[str, object]:
        return {"idx": self.idx, "kind": self.kind, "blank": self.blank, "bytes": self.bytes,
                "cover": bool(self.cover)}


class Queue:
    """One SQLite connection to the queue; use one instance per thread."""

    def __init__(self, db: Path, *, new: bool = False) -> None:
        """Open (or first create) the queue; `new` makes an empty one even where one existed
        (only `edge queue rebuild` does, after moving the damaged file aside)."""
        self.db = db
        self.root = db.parent
        if not new:
            check_present(db)
        try:
            self.conn = connect(db)
            # keep the WAL small: on a nearly full card it must not take the last megabytes
            self.conn.execute("PRAGMA wal_autocheckpoint=100")
            self.conn.execute("PRAGMA journal_size_limit=1048576")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.executescript(SCHEMA)
            self._migrate()
            self.conn.executescript(INDEXES)
        except sqlite3.DatabaseError as e:
            raise db_error(db, e) from None
        _mark(self.root)

    def _migrate(self) -> None:
        def columns(table: str) -> set[str]:
            return {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}

        for table, column, definition in MIGRATIONS:
            if column not in columns(table):
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        old = [c for c in ONE_FILE_COLUMNS if c in columns("jobs")]
        if "pdf" in old:
            ocr = "ocr, ocr_pending_sha" if "ocr" in old else "0, NULL"
            with self.tx() as c:
                c.execute("INSERT INTO files(job_id, part, path, sha256, bytes, ocr, "
                          f"ocr_pending_sha) SELECT id, 1, pdf, sha256, bytes, {ocr} FROM jobs "
                          "WHERE pdf IS NOT NULL")
                for column in old:
                    c.execute(f"ALTER TABLE jobs DROP COLUMN {column}")
        if "seq" not in columns("jobs"):
            self._rebuild_jobs(sorted(columns("jobs")))

    def _rebuild_jobs(self, kept: list[str]) -> None:
        """The jobs table of a queue from before dossiers (ticket UNIQUE, no `seq`) made anew in
        one transaction: every row kept with its id, each old job a one-document dossier. Its
        `seq` is the one its file name has: its rank among the jobs given the same code."""
        listed = ", ".join(kept)
        self.conn.execute("PRAGMA foreign_keys=OFF")  # pages, files, history keep their ids
        try:
            with self.tx() as c:
                if any(r[1] == "seq" for r in c.execute("PRAGMA table_info(jobs)")):
                    return  # another process (edge web beside edge run) upgraded it first
                row = c.execute("SELECT seq FROM sqlite_sequence WHERE name = 'jobs'").fetchone()
                c.execute(JOBS_TABLE.format(name="jobs_new"))
                c.execute(f"INSERT INTO jobs_new({listed}, seq) SELECT {listed}, ROW_NUMBER() "
                          "OVER (PARTITION BY COALESCE(dossier, ticket) ORDER BY id) FROM jobs")
                c.execute("DROP TABLE jobs")
                c.execute("ALTER TABLE jobs_new RENAME TO jobs")
                c.execute("CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, scanner)")
                if row:  # ids are never reused, not even those of the last jobs
                    c.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'jobs'",
                              (row[0],))
                if c.execute("PRAGMA foreign_key_check").fetchone():
                    raise sqlite3.DatabaseError("rows refer to missing jobs after the upgrade")
        finally:
            self.conn.execute("PRAGMA foreign_keys=ON")

    def close(self) -> None:
        self.conn.close()

    def checkpoint(self) -> None:
        """Fold the WAL into the database file (before a power cut that is coming)."""
        self._all("PRAGMA wal_checkpoint(TRUNCATE)")

    def __enter__(self) -> Queue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One immediate (write-locking) transaction; committed durably or rolled back."""
        try:
            with immediate(self.conn) as c:
                yield c
        except sqlite3.DatabaseError as e:
            raise db_error(self.db, e) from None

    def create(self, *, kit: str, doc: str, scanner: str, preset: str,
               dossier: str | None = None, ticket: str | None = None, day: dt.date | None = None,
               state: State = State.QUEUED, message: str = "",
               check: Callable[[Queue], None] | None = None) -> Job:
        """A new job: the next document of dossier `ticket`, or of the dossier that has the code
        `dossier`, else the first of a new dossier with the next ticket of the day. `state`
        PAUSED holds it back from the workers until its inputs are in place (imports). `check`
        runs inside the same transaction, before the job is added: it may refuse it."""
        now = time.time()
        doc, message = printable(doc), printable(message)
        with self.tx() as c:
            if check:
                check(self)
            ticket, dossier, seq = self._place(c, kit, day or dt.date.today(), ticket, dossier)
            cur = c.execute(
                "INSERT INTO jobs(ticket, seq, dossier, doc, scanner, preset, state, message, "
                "message_vi, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ticket, seq, dossier, doc, scanner, preset, state, message, message, now, now),
            )
            job_id = cur.lastrowid
            assert job_id is not None
            self._history(c, job_id, state, message)
        return self.get(job_id)

    def _place(self, c: sqlite3.Connection, kit: str, day: dt.date, ticket: str | None,
               code: str | None) -> tuple[str, str | None, int]:
        """(ticket, dossier code, seq) of a new job."""
        ticket = ticket or (self.ticket_of(code) if code else None)
        if ticket is None:
            return self._next_ticket(c, kit, day), code, 1
        has, seq = c.execute("SELECT MAX(dossier), MAX(seq) FROM jobs WHERE ticket = ?",
                             (ticket,)).fetchone()
        if seq is None:
            raise NotFound(f"no dossier {ticket!r}", vi=f"Không tìm thấy hồ sơ {ticket}")
        if code and code != has:
            raise JobError(
                f"dossier {ticket} has {f'the code {has}' if has else 'no code yet'}, not "
                f"{code}: leave the code out to add a document to it, or give the whole "
                "dossier its code first (`edge dossier rename`)",
                vi=f"Hồ sơ {ticket} {f'có mã {has}' if has else 'chưa có mã'}, không phải "
                   f"{code}")
        return ticket, has, int(seq) + 1

    def ticket_of(self, code: str) -> str | None:
        """The ticket of the dossier that has the dossier code `code`, if any."""
        rows = self._all("SELECT DISTINCT ticket FROM jobs WHERE dossier = ? ORDER BY ticket",
                         (code,))
        if len(rows) > 1:  # only a queue from before dossiers can hold this
            tickets = ", ".join(r[0] for r in rows)
            raise JobError(f"the code {code} is on several dossiers (tickets {tickets}): name "
                           "one by its ticket",
                           vi=f"Mã {code} thuộc nhiều hồ sơ ({tickets}); hãy dùng số phiếu")
        return str(rows[0][0]) if rows else None

    def _next_ticket(self, c: sqlite3.Connection, kit: str, day: dt.date) -> str:
        """The day's next ticket number, skipping those already on a job or on a file in the
        day's outbox folder (a queue rebuilt or restored from an old copy must not issue one
        twice)."""
        key = day.isoformat()
        folder = Storage(self.root).outbox / key
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
        used = {n for name in names for d, n in naming.tickets_in(name, kit) if d == day}
        while True:
            c.execute("INSERT INTO tickets(day, n) VALUES (?, 1) "
                      "ON CONFLICT(day) DO UPDATE SET n = n + 1", (key,))
            (n,) = c.execute("SELECT n FROM tickets WHERE day = ?", (key,)).fetchone()
            ticket = naming.ticket(kit, day, n)
            if n not in used and not c.execute("SELECT 1 FROM jobs WHERE ticket = ?",
                                               (ticket,)).fetchone():
                return ticket

    def seed_tickets(self, last: dict[dt.date, int]) -> None:
        """Make each day's next ticket come after `last[day]` (a rebuilt queue)."""
        with self.tx() as c:
            for day, n in last.items():
                c.execute("INSERT INTO tickets(day, n) VALUES (?, ?) "
                          "ON CONFLICT(day) DO UPDATE SET n = MAX(n, excluded.n)",
                          (day.isoformat(), n))

    def adopt(self, *, ticket: str, seq: int, dossier: str | None, doc: str, created: float,
              files: list[tuple[Path, str]], message: str, vi: str) -> Job:
        """Record a finished document found in the outbox as a ready job (a rebuilt queue)."""
        with self.tx() as c:
            cur = c.execute(
                "INSERT INTO jobs(ticket, seq, dossier, doc, scanner, preset, state, message, "
                "message_vi, created, updated) VALUES (?, ?, ?, ?, '', '', ?, ?, ?, ?, ?)",
                (ticket, seq, dossier, printable(doc), State.READY, message, vi, created,
                 time.time()))
            job_id = cur.lastrowid
            assert job_id is not None
            for part, (path, sha256) in enumerate(files, 1):
                c.execute("INSERT INTO files(job_id, part, path, sha256, bytes) "
                          "VALUES (?, ?, ?, ?, ?)",
                          (job_id, part, self._rel(path), sha256, path.stat().st_size))
            self._history(c, job_id, State.READY, message)
        return self.get(job_id)

    def read_all(self) -> int:
        """Read and decode every row of every table (SQLite's own checks decode no text);
        the number of rows, or StorageError."""
        tables = [r[0] for r in self._all("SELECT name FROM sqlite_master WHERE type = 'table'")]
        try:
            return sum(1 for t in tables for _ in self.conn.execute(f'SELECT * FROM "{t}"'))
        except sqlite3.DatabaseError as e:
            raise db_error(self.db, e) from None

    def get(self, ref: int | str) -> Job:
        """A job by number, or by ticket when the ticket names one job only."""
        if isinstance(ref, int) or str(ref).isdigit():
            row = self._one(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (ref,))
            if row is None:
                raise NotFound(f"no job {ref!r}", vi=f"Không tìm thấy hồ sơ quét {ref!r}")
            return self._job(row)
        found = self.dossier(str(ref))
        if len(found) > 1:
            numbers = ", ".join(str(j.id) for j in found)
            raise JobError(f"ticket {ref} names {len(found)} documents (jobs {numbers}): use the "
                           f"job number, or `edge dossier show {ref}` for the whole dossier",
                           vi=f"Phiếu {ref} có {len(found)} giấy tờ; hãy dùng số hồ sơ quét")
        return found[0]

    def dossier(self, ticket: str) -> list[Job]:
        """The jobs of one dossier (its ticket), in seq order; NotFound if there are none."""
        rows = self._all(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE ticket = ? ORDER BY seq, id",
                         (ticket,))
        if not rows:
            raise NotFound(f"no job or dossier {ticket!r}",
                           vi=f"Không tìm thấy hồ sơ {ticket!r}")
        return [self._job(r) for r in rows]

    def tickets(self, since: float | None = None) -> list[str]:
        """Tickets of the dossiers begun at or after `since`, newest first."""
        rows = self._all("SELECT ticket FROM jobs GROUP BY ticket HAVING MIN(created) >= ? "
                         "ORDER BY MIN(created) DESC, MIN(id) DESC", (since or 0.0,))
        return [str(r[0]) for r in rows]

    def jobs(self, states: set[State] | None = None, since: float | None = None) -> list[Job]:
        """Jobs in `states` (all if None) created at or after `since`, oldest first."""
        where: list[str] = []
        args: list[object] = []
        if states is not None:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            args += sorted(states)
        if since is not None:
            where.append("created >= ?")
            args.append(since)
        sql = f"SELECT {_JOB_COLUMNS} FROM jobs"
        sql += f" WHERE {' AND '.join(where)}" if where else ""
        return [self._job(r) for r in self._all(sql + " ORDER BY id", tuple(args))]

    def next_for(self, scanner: str) -> Job | None:
        """The oldest job this scanner's worker should act on (scan or assemble)."""
        row = self._one(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE scanner = ? AND state IN (?, ?) "
            "ORDER BY id LIMIT 1", (scanner, State.QUEUED, State.ASSEMBLING))
        return self._job(row) if row else None

    def unfinished(self, scanner: str) -> list[Job]:
        """This scanner's jobs that are queued, scanning, assembling or paused, oldest first."""
        rows = self._all(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE scanner = ? AND state IN "
                         "(?, ?, ?, ?) ORDER BY id", (scanner, State.QUEUED, State.SCANNING,
                                                      State.ASSEMBLING, State.PAUSED))
        return [self._job(r) for r in rows]

    def busy(self, scanner: str) -> bool:
        """Whether a job for this scanner is queued, scanning or assembling (one indexed query)."""
        row = self._one("SELECT 1 FROM jobs WHERE scanner = ? AND state IN (?, ?, ?) LIMIT 1",
                          (scanner, State.QUEUED, State.SCANNING, State.ASSEMBLING))
        return row is not None

    def transition(self, job_id: int, new: State, message: str = "", vi: str = "") -> Job:
        with self.tx() as c:
            self._move(c, job_id, new, message, vi)
        return self.get(job_id)

    def add_page(self, job_id: int, page: Page) -> None:
        with self.tx() as c:
            c.execute("INSERT INTO pages(job_id, idx, file, sha256, image_sha256, bytes, blank, "
                      "kind, cover) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (job_id, page.idx, page.file, page.sha256, page.image_sha256, page.bytes,
                       page.blank, page.kind, page.cover))
            c.execute("UPDATE jobs SET updated = ? WHERE id = ?", (time.time(), job_id))

    def pages(self, job_id: int) -> list[Page]:
        rows = self._all("SELECT idx, file, sha256, image_sha256, bytes, blank, kind, cover "
                           "FROM pages WHERE job_id = ? ORDER BY idx", (job_id,))
        return [Page(**{**dict(r), "blank": bool(r["blank"])}) for r in rows]

    def set_blank(self, job_id: int, idxs: list[int], blank: bool, why: str) -> None:
        """Quarantine pages from the PDF, or restore them; the job's history says why."""
        with self.tx() as c:
            for idx in idxs:
                c.execute("UPDATE pages SET blank = ? WHERE job_id = ? AND idx = ?",
                          (blank, job_id, idx))
            (state,) = c.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            self._history(c, job_id, State(state), why)

    def split(self, job_id: int, doc: str | None, later: list[tuple[str, list[int], Target]],
              backs: list[int], home: Target | None = None,
              tail: tuple[int, list[int]] | None = None) -> list[int]:
        """Split a job at its cover sheets in one transaction: it takes the type `doc` (if
        given) and moves to dossier `home` (if another, and nothing follows it in its own), each
        of `later` (type, page indices, dossier) becomes the next document of its dossier, to be
        assembled, `backs` are set aside and `tail` (job, page indices: pages scanned after a
        split, before any new cover) go to the stack's last document, assembled again. The new
        jobs' ids, in order."""
        now = time.time()
        made = []
        with self.tx() as c:
            row = c.execute("SELECT ticket, seq, scanner, preset FROM jobs WHERE id = ?",
                            (job_id,)).fetchone()
            c.execute("UPDATE jobs SET batch = COALESCE(?, batch), doc = COALESCE(?, doc) "
                      "WHERE id = ?",
                      (job_id if later else None, printable(doc) if doc else None, job_id))
            if tail and tail[1] and tail[0] != job_id:
                c.executemany("UPDATE pages SET job_id = ? WHERE job_id = ? AND idx = ?",
                              [(tail[0], job_id, i) for i in tail[1]])
                (state,) = c.execute("SELECT state FROM jobs WHERE id = ?", (tail[0],)).fetchone()
                if state != State.ASSEMBLING:
                    self._move(c, tail[0], State.ASSEMBLING, f"pages {tail[1]} of job {job_id}, "
                               "scanned after it was resumed, continue this document")
            if home and home.ticket != row["ticket"] and not c.execute(
                    "SELECT 1 FROM jobs WHERE ticket = ? AND seq > ?",
                    (row["ticket"], row["seq"])).fetchone():
                code, seq = self._last(c, home.ticket)
                c.execute("UPDATE jobs SET ticket = ?, seq = ?, dossier = ? WHERE id = ?",
                          (home.ticket, seq + 1, code, job_id))
                self._history(c, job_id, State.ASSEMBLING,
                              f"moved to dossier {home.ticket}: its first cover sheet names it")
            for idx in backs:
                c.execute("UPDATE pages SET blank = 1 WHERE job_id = ? AND idx = ?",
                          (job_id, idx))
            for kind, idxs, target in later:
                code, seq = self._last(c, target.ticket)
                cur = c.execute(
                    "INSERT INTO jobs(ticket, seq, dossier, doc, scanner, preset, state, "
                    "message, message_vi, created, updated, batch) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (target.ticket, seq + 1, code, printable(kind), row["scanner"],
                     row["preset"], State.ASSEMBLING, printable(target.why),
                     printable(target.vi), now, now, job_id))
                new = cur.lastrowid
                assert new is not None
                c.executemany("UPDATE pages SET job_id = ? WHERE job_id = ? AND idx = ?",
                              [(new, job_id, i) for i in idxs])
                self._history(c, new, State.ASSEMBLING,
                              target.why or f"split from job {job_id} at a cover sheet")
                made.append(new)
            if made or backs:
                self._history(c, job_id, State.ASSEMBLING,
                              f"split at cover sheets into {len(made) + 1} documents")
            c.execute("UPDATE jobs SET split_to = ? WHERE id = ?",
                      (self._stack_end(c, job_id), job_id))
        return made

    def split_to(self, job_id: int) -> int:
        """The last page index of job `job_id`'s stack already split at its covers (0: none)."""
        with self.tx() as c:
            done, batch = c.execute("SELECT split_to, batch FROM jobs WHERE id = ?",
                                    (job_id,)).fetchone()
            if done is None and batch is not None:  # split before split_to was kept: all of it
                done = self._stack_end(c, job_id)
        return int(done or 0)

    def stack_end(self, job_id: int) -> int:
        """The last page index scanned into job `job_id`, wherever its pages were split to."""
        with self.tx() as c:
            return self._stack_end(c, job_id)

    def holder(self, job_id: int, idx: int) -> Job:
        """The document of job `job_id`'s stack that holds its page `idx`."""
        row = self._one("SELECT job_id FROM pages WHERE idx = ? AND job_id IN "
                        "(SELECT id FROM jobs WHERE id = ? OR batch = ?)", (idx, job_id, job_id))
        return self.get(int(row[0]) if row else job_id)

    @staticmethod
    def _stack_end(c: sqlite3.Connection, job_id: int) -> int:
        (end,) = c.execute("SELECT MAX(idx) FROM pages WHERE job_id IN "
                           "(SELECT id FROM jobs WHERE id = ? OR batch = ?)",
                           (job_id, job_id)).fetchone()
        return int(end or 0)

    @staticmethod
    def _last(c: sqlite3.Connection, ticket: str) -> tuple[str | None, int]:
        """(dossier code, last seq) of dossier `ticket`."""
        code, seq = c.execute("SELECT MAX(dossier), MAX(seq) FROM jobs WHERE ticket = ?",
                              (ticket,)).fetchone()
        return code, int(seq)

    def regroup(self, moves: list[tuple[int, int, list[int]]], rebuild: list[int],
                drop: int | None = None, why: str = "") -> None:
        """Move pages between the documents of a split stack ((from job, to job, indices)),
        delete the document `drop` (now empty; the later ones of its dossier move up one
        place) and assemble `rebuild` again, all in one transaction.

        The files of `drop` go with its pages, as more parts of the document that takes them:
        they are removed when it is published again (outbox.publish), so a power cut at any
        moment leaves no file that no job records."""
        with self.tx() as c:
            for src, dst, idxs in moves:
                c.executemany("UPDATE pages SET job_id = ? WHERE job_id = ? AND idx = ?",
                              [(dst, src, i) for i in idxs])
            if drop is not None:
                ticket, seq = c.execute("SELECT ticket, seq FROM jobs WHERE id = ?",
                                        (drop,)).fetchone()
                heir = next(dst for src, dst, _ in moves if src == drop)
                (last,) = c.execute("SELECT COALESCE(MAX(part), 0) FROM files WHERE job_id = ?",
                                    (heir,)).fetchone()
                c.execute("UPDATE files SET job_id = ?, part = part + ? WHERE job_id = ?",
                          (heir, last, drop))
                for table in ("history", "pages"):
                    c.execute(f"DELETE FROM {table} WHERE job_id = ?", (drop,))
                c.execute("DELETE FROM jobs WHERE id = ?", (drop,))
                c.execute("UPDATE jobs SET seq = seq - 1 WHERE ticket = ? AND seq > ?",
                          (ticket, seq))
            for job_id in rebuild:
                self._move(c, job_id, State.ASSEMBLING, why)

    def publish(self, job_id: int, files: list[tuple[Path, str]], message: str = "",
                vi: str = "") -> Job:
        """Record the finished file(s) (path, SHA-256) and make the job ready, in one transaction.
        """
        with self.tx() as c:
            c.execute("DELETE FROM files WHERE job_id = ?", (job_id,))
            for part, (path, sha256) in enumerate(files, 1):
                c.execute("INSERT INTO files(job_id, part, path, sha256, bytes) "
                          "VALUES (?, ?, ?, ?, ?)",
                          (job_id, part, self._rel(path), sha256, path.stat().st_size))
            c.execute("UPDATE jobs SET pending_pdf = NULL WHERE id = ?", (job_id,))
            self._move(c, job_id, State.READY, message, vi)
        return self.get(job_id)

    def set_dossier(self, ticket: str, dossier: str | None,
                    pending: dict[int, Path] | None = None) -> None:
        """Give every job of a dossier its code, and record the names their files move to
        (`pending`, by job), in one transaction: `outbox.recover` finishes what a cut stops."""
        with self.tx() as c:
            c.execute("UPDATE jobs SET dossier = ?, updated = ? WHERE ticket = ?",
                      (dossier, time.time(), ticket))
            for job_id, path in (pending or {}).items():
                c.execute("UPDATE jobs SET pending_pdf = ? WHERE id = ?", (self._rel(path), job_id))

    def set_pending_pdf(self, job_id: int, pdf: Path | None) -> None:
        """Remember the file name being published or renamed to, so recovery can finish it."""
        with self.tx() as c:
            c.execute("UPDATE jobs SET pending_pdf = ? WHERE id = ?",
                      (self._rel(pdf) if pdf else None, job_id))

    def pending_pdf(self, job_id: int) -> Path | None:
        (p,) = self._one("SELECT pending_pdf FROM jobs WHERE id = ?", (job_id,))
        return self.root / p if p else None

    def finish_rename(self, job_id: int, paths: list[Path]) -> Job:
        with self.tx() as c:
            for part, path in enumerate(paths, 1):
                c.execute("UPDATE files SET path = ? WHERE job_id = ? AND part = ?",
                          (self._rel(path), job_id, part))
            c.execute("UPDATE jobs SET pending_pdf = NULL, updated = ? WHERE id = ?",
                      (time.time(), job_id))
            (state,) = c.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            self._history(c, job_id, State(state), "renamed to dossier code")
        return self.get(job_id)

    def ocr_done(self, job_id: int) -> bool:
        """Whether every file of the job has been through OCR (done or failed)."""
        (todo,) = self._one("SELECT COUNT(*) FROM files WHERE job_id = ? AND ocr = 0",
                              (job_id,))
        return todo == 0

    def ocr_next(self) -> tuple[Job, int] | None:
        """The oldest ready job with a file (part number) still without a text layer."""
        row = self._one("SELECT files.job_id, part FROM files JOIN jobs ON jobs.id = job_id "
                          "WHERE state = ? AND ocr = 0 ORDER BY job_id, part LIMIT 1",
                          (State.READY,))
        return (self.get(row[0]), int(row[1])) if row else None

    def set_ocr(self, job_id: int, part: int, *, done: int,
                pending_sha: str | None = None) -> None:
        with self.tx() as c:
            c.execute("UPDATE files SET ocr = ?, ocr_pending_sha = ? WHERE job_id = ? "
                      "AND part = ?", (done, pending_sha, job_id, part))

    def ocr_pending(self) -> list[tuple[int, int, str]]:
        """(job, part, SHA-256 of the swapped-in file) of OCR swaps that were cut short."""
        rows = self._all("SELECT job_id, part, ocr_pending_sha FROM files "
                           "WHERE ocr_pending_sha IS NOT NULL")
        return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]

    def finish_ocr(self, job_id: int, part: int, sha256: str, size: int) -> None:
        """The OCR'd file is in place: its checksum becomes the record's."""
        with self.tx() as c:
            c.execute("UPDATE files SET sha256 = ?, bytes = ?, ocr = 1, ocr_pending_sha = NULL "
                      "WHERE job_id = ? AND part = ?", (sha256, size, job_id, part))
            c.execute("UPDATE jobs SET updated = ? WHERE id = ?", (time.time(), job_id))
            self._history(c, job_id, State.READY, f"text layer added (OCR), file {part}")

    def mark_uploaded(self, *job_ids: int) -> None:
        """Mark ready jobs uploaded, all or none."""
        with self.tx() as c:
            for job_id in job_ids:
                c.execute("UPDATE jobs SET uploaded = ? WHERE id = ?", (time.time(), job_id))
                self._move(c, job_id, State.UPLOADED, "")

    def mark_purged(self, job_id: int) -> None:
        with self.tx() as c:
            c.execute("UPDATE jobs SET purged = ? WHERE id = ?", (time.time(), job_id))
            c.execute("DELETE FROM files WHERE job_id = ?", (job_id,))
            c.execute("DELETE FROM pages WHERE job_id = ?", (job_id,))
            self._history(c, job_id, State.UPLOADED, "purged after retention period")

    def history(self, job_id: int) -> list[tuple[float, str, str]]:
        rows = self._all("SELECT at, state, message FROM history WHERE job_id = ? "
                           "ORDER BY rowid", (job_id,))
        return [(r[0], r[1], printable(r[2])) for r in rows]

    def _move(self, c: sqlite3.Connection, job_id: int, new: State, message: str,
              vi: str = "") -> None:
        row = c.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no job {job_id}", vi=f"Không tìm thấy hồ sơ quét {job_id}")
        check_transition(job_id, State(row[0]), new)
        message, vi = printable(message), printable(vi or message)
        c.execute("UPDATE jobs SET state = ?, message = ?, message_vi = ?, updated = ? "
                  "WHERE id = ?", (new, message, vi, time.time(), job_id))
        self._history(c, job_id, new, message)

    def _history(self, c: sqlite3.Connection, job_id: int, state: State, message: str) -> None:
        c.execute("INSERT INTO history(job_id, at, state, message) VALUES (?, ?, ?, ?)",
                  (job_id, time.time(), state, printable(message)))

    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        """Every row of a query, fetched (and decoded) inside the error handling: a damaged
        page or text often fails only when its row is read, not when the query starts."""
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise db_error(self.db, e) from None

    def _one(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Row | None:
        rows = self._all(sql, args)
        return rows[0] if rows else None

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def _job(self, row: sqlite3.Row) -> Job:
        values = dict(row)
        values["state"] = State(values["state"])
        for text in ("doc", "message", "message_vi"):  # a queue written before text was cleaned
            values[text] = printable(values[text])
        values["files"] = tuple(PdfFile(str(self.root / path), sha, size)
                                for path, sha, size in json.loads(values["files"]))
        return Job(**values)


def connect(db: Path) -> sqlite3.Connection:
    """A connection that commits only when told, durably: WAL, synchronous=FULL, rows by name."""
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One immediate (write-locking) transaction on `conn`: committed, or rolled back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def check_present(db: Path) -> None:
    """Refuse a missing or empty queue database where the kit has had one: a new, empty queue
    would issue again the ticket numbers already on documents."""
    if db.exists() and db.stat().st_size > 0:
        return
    why = _had_queue(db.parent)
    if why:
        raise StorageError(
            f"queue database {db} is {'empty' if db.exists() else 'missing'}, but this kit has "
            f"had one ({why}); an empty queue would issue ticket numbers again, so none is made",
            vi="Cơ sở dữ liệu hàng đợi bị mất hoặc hỏng; hãy báo kỹ thuật viên",
            hint=RECOVERY)


def _had_queue(root: Path) -> str:
    """Why we know a queue existed under `root` (its marker, or finished or spooled files)."""
    if (root / MARKER).exists():
        return f"{root / MARKER} exists"
    storage = Storage(root)
    for folder in (storage.outbox, storage.spool):
        if folder.is_dir() and any(p.is_file() for p in folder.rglob("*")):
            return f"{folder} holds files"
    return ""


def _mark(root: Path) -> None:
    """Leave the marker saying a queue was created here (once)."""
    try:
        fd = os.open(root / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as f:
        f.write(f"queue created {dt.datetime.now().isoformat(timespec='seconds')}\n")
        f.flush()
        os.fsync(f.fileno())
    fsync_dir(root)


def db_error(db: Path, e: sqlite3.DatabaseError) -> StorageError:
    if "disk is full" in str(e):
        return disk_full(db.parent, 0)
    if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
        return StorageError(
            f"queue database {db} is locked by another process: {e}",
            vi="Cơ sở dữ liệu hàng đợi đang bị khoá, hãy thử lại sau ít phút",
            hint="another edge process holds it; wait, or stop it (see docs/operations.md)",
        )
    what = str(e).split(" with text ")[0]  # never the stored text: it may be personal data
    return StorageError(
        f"queue database {db} is damaged and cannot be used: {what}",
        vi="Cơ sở dữ liệu hàng đợi bị hỏng, hãy báo kỹ thuật viên",
        hint=RECOVERY,
    )
