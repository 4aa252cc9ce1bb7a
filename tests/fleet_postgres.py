"""A real PostgreSQL 15 for the fleet tests: a throwaway cluster (initdb, pg_ctl) in a temp dir on a
free loopback port, its unix socket in that dir, run as the `postgres` user when the tests run as
root (initdb refuses root). One cluster per test session; each test gets a database of its own."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .peers import PeerError, free_port

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class Postgres:
    def __init__(self, fsync: bool = False) -> None:
        self.fsync = fsync  # off in the tests: they test behaviour, not the disk
        if not (BIN / "initdb").exists():
            raise PeerError("PostgreSQL 15 is needed for the fleet tests (apt-get install "
                            "postgresql)")
        self.dir = Path(tempfile.mkdtemp(prefix="edge-pg-"))
        self.port = free_port()
        self.names = itertools.count(1)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def run(self, *args: str) -> None:
        r = subprocess.run(_as_postgres(list(args)), capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise PeerError(f"{args[0]} failed: {r.stdout}{r.stderr}")

    def start(self) -> Postgres:
        data = self.dir / "data"
        self.run(str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        opts += "" if self.fsync else " -c fsync=off"
        self.run(str(BIN / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "pg.log"), "-o",
                 opts, "-w", "-t", "120", "start")
        return self

    def stop(self) -> None:
        try:
            self.run(str(BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w",
                     "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"fleet_{os.getpid()}_{next(self.names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)
