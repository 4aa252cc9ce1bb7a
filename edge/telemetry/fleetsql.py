"""The fleet store's two database engines and its schema migrations.

fleetdb.py writes its SQL once, with `?` placeholders and the syntax SQLite and PostgreSQL share
(INSERT ... ON CONFLICT); an engine here runs it: SQLite (WAL, synchronous=FULL) or PostgreSQL
through psycopg 3 (`?` becomes `%s`). The schema is a numbered list of migrations; the table
`schema_version` says how far a database is. A database newer than this code is refused with a
clear error; several collectors starting at once migrate one after the other (SQLite: BEGIN
IMMEDIATE; PostgreSQL: an advisory lock).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from edge.telemetry import TelemetryError
from edge.telemetry.fleetfigures import kit_figures, state_figures

KIT_FIGURES = ("battery", "runtime", "signal", "disk_free", "clock_synced")
STATE_FIGURES = ("battery", "runtime", "signal", "disk_free", "ups_status", "problems")


def fill_figures(engine: Engine) -> None:
    """Migration 3's data: the new columns from the payloads already stored."""
    kits = engine.execute("SELECT kit, metrics FROM kits WHERE metrics IS NOT NULL").fetchall()
    engine.executemany("UPDATE kits SET " + ", ".join(f"{c} = ?" for c in KIT_FIGURES) +
                       " WHERE kit = ?", [(*kit_figures(json.loads(m)), k) for k, m in kits])
    states = engine.execute("SELECT kit, device, payload FROM states").fetchall()
    engine.executemany("UPDATE states SET " + ", ".join(f"{c} = ?" for c in STATE_FIGURES) +
                       " WHERE kit = ? AND device = ?",
                       [(*state_figures(d, json.loads(p)), k, d) for k, d, p in states])


# one migration per step, SQL or a function; `{id}` and `{float}` are the only words the
# dialects disagree on here
MIGRATIONS: list[list[str | Callable[[Engine], None]]] = [
    [  # 1: what `edge fleet` stored before it had versions (IF NOT EXISTS adopts such a file)
        "CREATE TABLE IF NOT EXISTS kits (kit TEXT PRIMARY KEY, site TEXT NOT NULL, "
        "base TEXT NOT NULL, status TEXT NOT NULL DEFAULT '', status_since {float}, "
        "last_seen {float} NOT NULL, metrics TEXT)",
        "CREATE TABLE IF NOT EXISTS states (kit TEXT NOT NULL, device TEXT NOT NULL, "
        "payload TEXT NOT NULL, received {float} NOT NULL, PRIMARY KEY (kit, device))",
        "CREATE TABLE IF NOT EXISTS events (id {id}, kit TEXT NOT NULL, stream TEXT NOT NULL, "
        "seq INTEGER NOT NULL, type TEXT NOT NULL, ts {float} NOT NULL, payload TEXT NOT NULL, "
        "received {float} NOT NULL, UNIQUE (kit, stream, seq))",
        "CREATE TABLE IF NOT EXISTS counts (kit TEXT NOT NULL, day TEXT NOT NULL, "
        "ts {float} NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (kit, day))",
    ],
    [  # 2: time series and what the fleet page shows without reading every event
        "ALTER TABLE kits ADD COLUMN version TEXT",
        "ALTER TABLE kits ADD COLUMN last_event TEXT",
        "ALTER TABLE kits ADD COLUMN last_event_ts {float}",
        "ALTER TABLE kits ADD COLUMN waiting_since {float}",
        "CREATE TABLE samples (kit TEXT NOT NULL, ts {float} NOT NULL, "
        "received {float} NOT NULL, battery {float}, runtime {float}, signal {float}, "
        "disk_free {float}, waiting {float})",
        "CREATE INDEX samples_kit_ts ON samples (kit, ts)",  # last 30 days of one kit
        "CREATE INDEX samples_ts ON samples (ts)",  # retention
        "CREATE INDEX counts_day ON counts (day)",  # this month for every kit
        "CREATE INDEX events_received ON events (received)",
        "CREATE TABLE visits (kit TEXT NOT NULL, day TEXT NOT NULL, visit INTEGER NOT NULL, "
        "place TEXT NOT NULL, served INTEGER NOT NULL, served_priority INTEGER NOT NULL, "
        "left_unserved INTEGER NOT NULL, jobs INTEGER NOT NULL, pages INTEGER NOT NULL, "
        "slips INTEGER NOT NULL, survey_answers INTEGER NOT NULL, "
        "survey_satisfied INTEGER NOT NULL, PRIMARY KEY (kit, day, visit))",
        "CREATE INDEX visits_day ON visits (day)",
        "CREATE TABLE unread (id {id}, topic TEXT NOT NULL, payload TEXT NOT NULL, "
        "why TEXT NOT NULL, received {float} NOT NULL)",
    ],
    [  # 3: the fleet page's figures as columns, written by the collector (fleetfigures.py)
        *(f"ALTER TABLE kits ADD COLUMN {c} {{float}}" for c in KIT_FIGURES[:4]),
        "ALTER TABLE kits ADD COLUMN clock_synced INTEGER",
        *(f"ALTER TABLE states ADD COLUMN {c} {{float}}" for c in STATE_FIGURES[:4]),
        "ALTER TABLE states ADD COLUMN ups_status TEXT",
        "ALTER TABLE states ADD COLUMN problems TEXT",
        fill_figures,
    ],
]


class Engine:
    """What fleetdb.py needs from a database: execute, a transaction, a savepoint, close."""

    name = ""
    types: ClassVar[dict[str, str]] = {}
    errors: tuple[type[Exception], ...] = ()

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        raise NotImplementedError

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """One statement for many rows (PostgreSQL: pipelined, one round trip)."""
        raise NotImplementedError

    def inserted(self, sql: str, rows: list[tuple[Any, ...]]) -> list[bool]:
        """An INSERT ... RETURNING for many rows: which of them returned a row (were written)."""
        raise NotImplementedError

    def transaction(self) -> Any:
        raise NotImplementedError

    def savepoint(self) -> Any:
        raise NotImplementedError

    def lock_schema(self) -> None:
        """Within a transaction: keep other collectors out of the migration."""

    def close(self) -> None:
        raise NotImplementedError

    def check_version(self) -> None:
        """For a reader: the tables must be there and as new as this code reads."""
        try:
            row = self.execute("SELECT MAX(version) FROM schema_version").fetchone()
        except self.errors:
            row = (0,)
        if int(row[0] or 0) != len(MIGRATIONS):
            raise TelemetryError(
                f"fleet database {self}: schema version {row[0] or 0}, this edge reads "
                f"{len(MIGRATIONS)}: start the collector (`edge fleet --db ...`) of the same "
                f"edge version first; it creates and upgrades the tables")

    def migrate(self) -> None:
        try:
            with self.transaction():
                self.lock_schema()
                self.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER "
                             "NOT NULL)")
                row = self.execute("SELECT MAX(version) FROM schema_version").fetchone()
                have = int(row[0] or 0)
                if have > len(MIGRATIONS):
                    raise TelemetryError(
                        f"fleet database {self}: its schema version {have} is newer than this "
                        f"edge ({len(MIGRATIONS)}): update edge on this server")
                for number, steps in enumerate(MIGRATIONS[have:], have + 1):
                    for step in steps:
                        if callable(step):
                            step(self)
                        else:
                            self.execute(step.format(**self.types))
                    self.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
        except self.errors as e:
            raise TelemetryError(f"fleet database {self}: cannot set up its tables: {e}") \
                from None


class SQLite(Engine):
    name = "sqlite"
    types: ClassVar[dict[str, str]] = {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "float": "REAL"}
    errors = (sqlite3.Error,)

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        try:
            if readonly:
                self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                            timeout=10, isolation_level=None,
                                            check_same_thread=False)
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, timeout=10, isolation_level=None,
                                        check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
        except (OSError, sqlite3.Error) as e:
            raise TelemetryError(f"fleet database {path}: {e}") from None

    def __str__(self) -> str:
        return str(self.path)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.conn.executemany(sql, rows)

    def inserted(self, sql: str, rows: list[tuple[Any, ...]]) -> list[bool]:
        return [self.conn.execute(sql, row).fetchone() is not None for row in rows]

    def transaction(self) -> Any:
        return self._around("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")

    def savepoint(self) -> Any:
        return self._around("SAVEPOINT payload", "RELEASE payload", "ROLLBACK TO payload",
                            "RELEASE payload")

    @contextmanager
    def _around(self, begin: str, done: str, *undo: str) -> Iterator[None]:
        self.conn.execute(begin)
        try:
            yield
        except BaseException:
            for sql in undo:
                self.conn.execute(sql)
            raise
        self.conn.execute(done)

    def close(self) -> None:
        self.conn.close()


class Postgres(Engine):
    name = "postgresql"
    types: ClassVar[dict[str, str]] = {"id": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
             "float": "DOUBLE PRECISION"}

    def __init__(self, url: str, readonly: bool = False) -> None:
        try:
            import psycopg
        except ImportError:
            raise TelemetryError("a postgresql:// database needs psycopg: pip install "
                                 "'edge[fleet]'") from None
        self.errors = (psycopg.Error,)
        self.shown = shown(url)
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=15)
            if readonly:
                self.conn.execute("SET default_transaction_read_only = on")
        except psycopg.Error as e:
            raise TelemetryError(f"fleet database {self.shown}: cannot connect: "
                                 f"{str(e).strip()}") from None

    def __str__(self) -> str:
        return self.shown

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.conn.cursor().executemany(sql.replace("?", "%s"), rows)  # type: ignore[arg-type]

    def inserted(self, sql: str, rows: list[tuple[Any, ...]]) -> list[bool]:
        if not rows:
            return []
        cursor = self.conn.cursor()
        cursor.executemany(sql.replace("?", "%s"), rows, returning=True)  # type: ignore[arg-type]
        out = [cursor.fetchone() is not None]
        while cursor.nextset():
            out.append(cursor.fetchone() is not None)
        return out

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    savepoint = transaction  # nested, psycopg makes it a savepoint

    def lock_schema(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (0x65646765,))

    def close(self) -> None:
        self.conn.close()


def shown(target: str) -> str:
    """The database for a log line: a URL without its password."""
    parts = urlsplit(target)
    if parts.scheme not in ("postgresql", "postgres"):
        return target
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def open_engine(target: str, *, readonly: bool = False) -> Engine:
    """`postgresql://...` (or `postgres://`) or a SQLite file's path; migrated to the newest
    schema (a reader only checks that it is)."""
    scheme = urlsplit(target).scheme
    if scheme in ("postgresql", "postgres"):
        engine: Engine = Postgres(target, readonly)
    elif scheme in ("", "file") or len(scheme) == 1:  # a path (or a Windows drive letter)
        engine = SQLite(Path(target.removeprefix("file:")), readonly)
    else:
        raise TelemetryError(f"--db {target}: give a SQLite file's path or a "
                             f"postgresql://user@host/database URL")
    try:
        engine.check_version() if readonly else engine.migrate()
    except BaseException:
        engine.close()
        raise
    return engine
