"""`edge fleet serve --config fleet-web.toml`: the fleet page with waitress until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
from types import FrameType

import waitress

from edge.telemetry.fleetsql import shown
from edge.web import fleetconf, serve, tls
from edge.web.fleetapp import create_app

log = logging.getLogger(__name__)
THREADS = 4
CONNECTIONS = 200  # province and commune staff: a few dozen at once


def run(args: argparse.Namespace) -> int:
    cfg = fleetconf.load(args.fleet_config)
    host, port = args.host or cfg.host, args.port or cfg.port
    os.umask(0o077)  # the session secret
    ctx = tls.context(cfg.tls_cert_file, cfg.tls_key_file, "fleet page config ") \
        if cfg.tls_cert_file and cfg.tls_key_file else None
    app = create_app(cfg)
    if not cfg.users:
        log.warning("no [[users]] in %s: nobody can log in; add one with a hash from "
                    "`edge fleet hash`", cfg.path)
    where, wsgi = serve.listening(app, ctx, host, port, serve.raise_files_limit(CONNECTIONS),
                                  "set tls_cert_file and tls_key_file, or put nginx/Caddy with "
                                  "HTTPS in front (docs/telemetry.md, fleet page)")
    log.info("fleet page on %s://%s:%d/ reading %s", "https" if ctx else "http", host, port,
             shown(cfg.db))
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        waitress.serve(wsgi, **where, threads=THREADS, ident="edge-fleet",
                       clear_untrusted_proxy_headers=True)
    except KeyboardInterrupt:
        log.info("fleet page stopped")
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
