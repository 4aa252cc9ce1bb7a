"""Server-Sent Events made by polling: every `every` seconds the producer is called, and what it
returns is sent when it changed. Streams end after `lifetime` seconds (the browser reconnects),
so a closed tab never holds a server thread for long.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

from flask import Response, stream_with_context

EVERY = 0.5
LIFETIME = 60.0


def stream(produce: Callable[[], object], every: float = EVERY,
           lifetime: float = LIFETIME) -> Response:
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

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
