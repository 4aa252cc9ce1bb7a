"""Per-process state the views share: config, storage, one queue connection per thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app

from edge import config
from edge.delivery.store import Store
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.web.history import History


@dataclass
class Kit:
    cfg: config.Config
    storage: Storage
    history: History
    local: threading.local = field(default_factory=threading.local)

    def queue(self) -> Queue:
        """This thread's queue connection (SQLite connections must stay in their thread)."""
        q = getattr(self.local, "queue", None)
        if q is None:
            q = self.local.queue = Queue(self.storage.db)
        return q

    def delivery(self) -> Store:
        """This thread's connection to the delivery queue."""
        d = getattr(self.local, "delivery", None)
        if d is None:
            d = self.local.delivery = Store(self.storage.root)
        return d


def kit() -> Kit:
    return current_app.extensions["edge_kit"]  # type: ignore[no-any-return]
