"""`edge web`: serve the app with waitress on [web] host/port until SIGTERM or Ctrl-C.

Availability on the kit's Wi-Fi: waitress reads requests in its event loop, so half-open and
idle connections hold no worker thread; they are dropped after IDLE_SECONDS, and up to
CONNECTION_LIMIT of them are taken (the open-files limit is raised to match). Live streams are
capped below the thread count (sse.Gate). With `[web] tls_cert_file`/`tls_key_file` it serves
HTTPS through edge.web.tls; plain HTTP on a non-loopback address is logged as a warning.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import resource
import signal
import ssl
import threading
from types import FrameType
from typing import Any

import waitress

from edge import config
from edge.web import history, tls
from edge.web.app import create_app

log = logging.getLogger(__name__)
IDLE_SECONDS = 30
CONNECTION_LIMIT = 1000
FILES_PER_CONNECTION = 3  # client socket, TLS front's upstream socket, waitress's end


def run(cfg: config.Config, args: argparse.Namespace) -> int:
    host = getattr(args, "host", None) or cfg.web.host
    port = getattr(args, "port", None) or cfg.web.port
    os.umask(0o077)  # every file this process makes (history, thumbnails, secret) is private
    ctx = tls.context(cfg.web.tls_cert_file, cfg.web.tls_key_file) \
        if cfg.web.tls_cert_file and cfg.web.tls_key_file else None
    app = create_app(cfg)
    stop = threading.Event()
    kit = app.extensions["edge_kit"]
    history.sampler(cfg, kit.history, stop, kit.storage)
    if exposed := config.exposed_secrets(cfg):
        log.warning("%s: %s", *exposed)
    if not cfg.web.users:
        log.warning("no [[web.users]] in %s: nobody can log in; add one with "
                    "`edge user add NAME --role staff`", cfg.path)
    limit = raise_files_limit(CONNECTION_LIMIT)
    where, wsgi = listening(app, ctx, host, port, limit, "set [web] tls_cert_file and "
                            "tls_key_file (docs/operations.md, HTTPS)")
    log.info("web UI on %s://%s:%d/", "https" if ctx else "http", host, port)
    signal.signal(signal.SIGTERM, _interrupt)  # systemd stop: waitress closes its sockets
    try:
        waitress.serve(wsgi, **where, threads=cfg.web.threads, channel_timeout=IDLE_SECONDS,
                       cleanup_interval=5, connection_limit=limit, ident="edge",
                       clear_untrusted_proxy_headers=True)
    except KeyboardInterrupt:
        log.info("web UI stopped")
    finally:
        stop.set()
    return 0


def listening(app: Any, ctx: ssl.SSLContext | None, host: str, port: int, limit: int,
              fix: str) -> tuple[dict[str, Any], Any]:
    """(where waitress listens, what it serves): `app` behind the TLS front when there is a
    context, else plain HTTP on (host, port), said in a warning beyond loopback (`fix`: how to
    set HTTPS). The kit's web UI and the fleet page serve the same way."""
    if ctx is not None:
        front = tls.Front(ctx, host, port, limit)
        front.start()
        return {"sockets": [front.inner]}, front.wsgi(app)
    if not loopback(host):
        log.warning("serving plain HTTP on %s: passwords and cookies cross the network in "
                    "clear; %s", host, fix)
    return {"host": host, "port": port}, app


def loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def raise_files_limit(connections: int) -> int:
    """Raise the open-files limit towards what `connections` need; the connections it allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = connections * FILES_PER_CONNECTION + 100
    if soft != resource.RLIM_INFINITY and soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == resource.RLIM_INFINITY:
        return connections
    return max(10, min(connections, (soft - 100) // FILES_PER_CONNECTION))


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
