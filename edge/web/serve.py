"""`edge web`: serve the app with waitress on [web] host/port until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from types import FrameType

import waitress

from edge import config
from edge.web import history
from edge.web.app import create_app

log = logging.getLogger(__name__)


def run(cfg: config.Config, args: argparse.Namespace) -> int:
    host = getattr(args, "host", None) or cfg.web.host
    port = getattr(args, "port", None) or cfg.web.port
    os.umask(0o077)  # every file this process makes (history, thumbnails, secret) is private
    app = create_app(cfg)
    stop = threading.Event()
    kit = app.extensions["edge_kit"]
    history.sampler(cfg, kit.history, stop, kit.storage)
    if not cfg.web.users:
        log.warning("no [[web.users]] in %s: nobody can log in; add one with "
                    "`edge user add NAME --role staff`", cfg.path)
    log.info("web UI on http://%s:%d/", host, port)
    signal.signal(signal.SIGTERM, _interrupt)  # systemd stop: waitress closes its sockets
    try:
        waitress.serve(app, host=host, port=port, threads=cfg.web.threads,
                       channel_timeout=120, ident="edge", clear_untrusted_proxy_headers=True)
    except KeyboardInterrupt:
        log.info("web UI stopped")
    finally:
        stop.set()
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
