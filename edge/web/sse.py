"""Server-Sent Events made by polling: every `every` seconds the producer is called, and what it
returns is sent when it changed. Streams end after `lifetime` seconds (the browser reconnects),
so a closed tab never holds a server thread for long.

Each open stream holds one server thread, so the `Gate` caps them per session and in total,
below the thread count: normal requests (the login page above all) always find a thread. A
stream beyond the cap is answered 429 (static/app.js then polls slowly and says why).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

from flask import Response, current_app, session, stream_with_context

from edge.web.errors import bad

EVERY = 0.5
LIFETIME = 60.0
PER_SESSION = 4
RESERVED_THREADS = 6  # never given to streams


class Gate:
    """How many streams are open, per session and in total."""

    def __init__(self, total: int, per_session: int = PER_SESSION) -> None:
        self.total, self.per_session = total, per_session
        self.open: dict[str, int] = {}
        self.lock = threading.Lock()

    @classmethod
    def for_threads(cls, threads: int) -> Gate:
        return cls(max(1, threads - max(RESERVED_THREADS, threads // 4)))

    def enter(self, key: str) -> bool:
        with self.lock:
            if sum(self.open.values()) >= self.total or \
                    self.open.get(key, 0) >= self.per_session:
                return False
            self.open[key] = self.open.get(key, 0) + 1
            return True

    def leave(self, key: str) -> None:
        with self.lock:
            left = self.open.get(key, 0) - 1
            if left > 0:
                self.open[key] = left
            else:
                self.open.pop(key, None)


def stream(produce: Callable[[], object], every: float = EVERY,
           lifetime: float = LIFETIME) -> Response:
    gate: Gate = current_app.extensions["edge_sse"]
    key = str(session.get("sid", ""))
    if not gate.enter(key):
        raise bad("too many live views open: close other tabs (this one refreshes slowly)",
                  "Đang mở quá nhiều trang theo dõi trực tiếp. Hãy đóng bớt các thẻ khác; trang "
                  "này sẽ tự cập nhật chậm hơn.", 429)

    def events() -> Iterator[str]:
        yield "retry: 1000\n\n"
        last = None
        end = time.monotonic() + lifetime
        while time.monotonic() < end:
            data = json.dumps(produce(), ensure_ascii=False, sort_keys=True)
            if data != last:
                last = data
                yield f"data: {data}\n\n"
            else:
                yield ": keep-alive\n\n"
            time.sleep(every)

    resp = Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    resp.call_on_close(lambda: gate.leave(key))
    return resp
