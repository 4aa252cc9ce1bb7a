"""HTTPS for `edge web`: a small TLS front that hands plain HTTP to waitress on loopback.

Why this shape: waitress stays the HTTP server (it reads each request in its event loop, so a
slow or half-open client never holds a worker thread; cheroot, the usual TLS-capable choice,
does the TLS handshake in its accepting thread, where one silent client stalls every other),
but waitress speaks no TLS. The front is Python's own asyncio TLS server (the `ssl` module,
OpenSSL underneath): it listens on [web] host/port, finishes each handshake within
HANDSHAKE_SECONDS, and copies bytes both ways to waitress listening on a private loopback port.
No HTTP is parsed here. The client's address, which login throttling needs, travels through an
in-process table keyed by the front's loopback source port: `wsgi()` puts it back into
REMOTE_ADDR, with the https scheme, before the app sees the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from edge.errors import ConfigError

HANDSHAKE_SECONDS = 10.0
CHUNK = 64 * 1024


def context(cert: Path, key: Path, prefix: str = "web.") -> ssl.SSLContext:
    """The server's TLS context from a PEM certificate (chain) and its key, or a ConfigError
    naming the config keys (`prefix` + tls_cert_file/tls_key_file)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError) as e:
        raise ConfigError(f"{prefix}tls_cert_file {cert} and {prefix}tls_key_file {key}: not a "
                          f"PEM certificate and its private key, or they do not match ({e}); "
                          "see docs/operations.md (HTTPS)") from None
    return ctx


class Front:
    """Accepts TLS on (host, port); `inner` is the loopback socket waitress serves."""

    def __init__(self, ctx: ssl.SSLContext, host: str, port: int, limit: int) -> None:
        self.ctx, self.limit = ctx, limit
        self.listener = socket.create_server((host, port), backlog=1024)
        self.inner = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.inner_port = int(self.inner.getsockname()[1])
        self.peers: dict[int, str] = {}
        self.open = 0

    def start(self) -> None:
        threading.Thread(target=asyncio.run, args=(self._serve(),), name="tls-front",
                         daemon=True).start()

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._client, sock=self.listener, ssl=self.ctx,
                                            ssl_handshake_timeout=HANDSHAKE_SECONDS)
        async with server:
            await server.serve_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.open >= self.limit:
            writer.close()
            return
        self.open += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.inner_port)
        except OSError:
            self.open -= 1
            writer.close()
            return
        local = int(up_writer.get_extra_info("sockname")[1])
        self.peers[local] = str((writer.get_extra_info("peername") or ("?",))[0])
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self.peers.pop(local, None)
            self.open -= 1

    def wsgi(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        """`app` seeing the TLS client's address and the https scheme."""

        def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("REMOTE_ADDR") == "127.0.0.1":
                peer = self.peers.get(int(environ.get("REMOTE_PORT") or 0))
                if peer:
                    environ["REMOTE_ADDR"] = peer
                    environ["wsgi.url_scheme"] = "https"
            return app(environ, start_response)

        return wrapped


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until one side ends, then close the other (which ends the opposite copy)."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
