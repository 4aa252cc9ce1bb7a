"""The durable outbox: events, counts and metrics wait here until the broker acknowledges them.

A message is committed (synchronous=FULL) before any network I/O and deleted only on its PUBACK,
so a 4G outage or a power cut delays it, never loses it; it goes out in the order it was written.
The outbox is bounded: when full, the oldest metrics go first, then the oldest counts (a newer
figure of the same day replaces them anyway), events last; each drop is counted. Events get a
per-kit sequence number within a `stream` (a random id made with the database), so a collector
can drop redeliveries by (kit, stream, seq) even after the kit's card is replaced.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass

from edge.telemetry.store import Store, meta, set_meta

DROP_ORDER = ("metrics", "counts", "event")


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    topic: str
    payload: bytes
    retain: bool


class Outbox:
    def __init__(self, store: Store, max_messages: int) -> None:
        self.store = store
        self.max_messages = max_messages

    def put(self, conn: sqlite3.Connection, kind: str, topic: str, payload: bytes,
            retain: bool = False, coalesce: bool = False) -> None:
        """Add a message in the caller's transaction; `coalesce` replaces a waiting one on the
        same topic (a day's counts: only the latest figure matters)."""
        assert kind in DROP_ORDER
        if coalesce:
            conn.execute("DELETE FROM outbox WHERE kind = ? AND topic = ?", (kind, topic))
        conn.execute("INSERT INTO outbox (kind, topic, payload, retain, created) "
                     "VALUES (?, ?, ?, ?, ?)", (kind, topic, payload, int(retain), time.time()))
        self._bound(conn)

    def _bound(self, conn: sqlite3.Connection) -> None:
        (n,) = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()
        excess = n - self.max_messages
        for kind in DROP_ORDER:
            if excess <= 0:
                return
            dropped = conn.execute(
                "DELETE FROM outbox WHERE id IN "
                "(SELECT id FROM outbox WHERE kind = ? ORDER BY id LIMIT ?)",
                (kind, excess)).rowcount
            if dropped:
                key = f"dropped.{kind}"
                set_meta(conn, key, str(int(meta(conn, key, "0")) + dropped))
                excess -= dropped

    def next_seq(self, conn: sqlite3.Connection) -> tuple[str, int]:
        """The next event's (stream, sequence number), in the caller's transaction."""
        stream = meta(conn, "stream")
        if not stream:
            stream = secrets.token_hex(6)
            set_meta(conn, "stream", stream)
        seq = int(meta(conn, "seq", "0")) + 1
        set_meta(conn, "seq", str(seq))
        return stream, seq

    def after(self, last_id: int, limit: int) -> list[Message]:
        """The oldest waiting messages written after `last_id`."""
        rows = self.store.read("SELECT id, kind, topic, payload, retain FROM outbox "
                               "WHERE id > ? ORDER BY id LIMIT ?", (last_id, limit))
        return [Message(int(i), str(k), str(t), bytes(p), bool(r))
                for i, k, t, p, r in rows]

    def delete(self, ids: list[int]) -> None:
        """Forget acknowledged messages (a row replaced or dropped meanwhile is simply gone)."""
        with self.store.write() as conn:
            conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])

    def stats(self) -> dict[str, object]:
        """What is waiting and what the bound has dropped so far, for the metrics payload."""
        waiting = dict(self.store.read("SELECT kind, COUNT(*) FROM outbox GROUP BY kind"))
        dropped = dict(self.store.read("SELECT key, value FROM meta WHERE key LIKE 'dropped.%'"))
        return {"pending": {k: int(waiting.get(k, 0)) for k in DROP_ORDER},
                "dropped": {k: int(dropped.get(f"dropped.{k}", 0))
                            for k in DROP_ORDER}}
