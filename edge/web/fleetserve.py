"""`edge fleet serve --config fleet-web.toml`: the fleet page with waitress until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
from types import FrameType

import waitress

from edge.telemetry.fleetsql import shown
from edge.web import fleetconf
from edge.web.fleetapp import create_app

log = logging.getLogger(__name__)
THREADS = 4


def run(args: argparse.Namespace) -> int:
    cfg = fleetconf.load(args.fleet_config)
    host, port = args.host or cfg.host, args.port or cfg.port
    os.umask(0o077)  # the session secret
    app = create_app(cfg)
    if not cfg.users:
        log.warning("no [[users]] in %s: nobody can log in; add one with a hash from "
                    "`edge fleet hash`", cfg.path)
    log.info("fleet page on http://%s:%d/ reading %s", host, port, shown(cfg.db))
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        waitress.serve(app, host=host, port=port, threads=THREADS, ident="edge-fleet",
                       clear_untrusted_proxy_headers=True)
    except KeyboardInterrupt:
        log.info("fleet page stopped")
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
