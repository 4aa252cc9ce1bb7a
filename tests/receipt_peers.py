"""Receipt printers for the tests: a raw-TCP network printer and a serial one on a socat pty.

Both run the same `EscposMachine`: it reads the byte stream as a real ESC/POS printer does
(with `receipt_decoder.parse`, so bytes inside raster data are never taken for commands),
answers `DLE EOT n` with status bytes built from its state (paper ok / near-end / out, cover
open), and keeps every other byte as the job it prints. The network printer listens on
127.0.0.1 like a printer's port 9100 and can be switched off (nothing listens: connection
refused) and on again on the same port; `mute` makes it accept connections but never answer,
like a printer that hangs.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import serial

from .peers import SocatPair, free_port, wait_until
from .receipt_decoder import parse

BASE = 0x12  # bits 1 and 4 are always set in an ESC/POS status byte


class EscposMachine:
    """The printer's logic: status answers and job bytes, independent of the transport."""

    def __init__(self) -> None:
        self.paper = "ok"  # ok, near-end, out
        self.cover_open = False
        self.mute = False
        self.jobs: list[bytes] = []
        self.queries: list[int] = []
        self.sessions = 0  # connections (or quiet-ended bursts) fully handled
        self._lock = threading.Lock()

    def status(self, n: int) -> int:
        offline = self.cover_open or self.paper == "out"
        if n == 1:
            return BASE | (0x08 if offline else 0)
        if n == 2:
            return BASE | (0x04 if self.cover_open else 0) | (0x20 if self.paper == "out" else 0)
        if n == 4:
            return BASE | {"ok": 0, "near-end": 0x0C, "out": 0x6C}[self.paper]
        return BASE

    def feed(self, buf: bytearray, job: bytearray) -> bytes:
        """Consume complete commands from `buf`; returns the status bytes to send back."""
        cmds, used = parse(bytes(buf))
        del buf[:used]
        replies = bytearray()
        for cmd in cmds:
            if cmd.name == "status":
                with self._lock:
                    self.queries.append(cmd.arg)
                if not self.mute:
                    replies.append(self.status(cmd.arg))
            else:
                job += cmd.raw
        return bytes(replies)

    def finish(self, job: bytearray) -> None:
        with self._lock:
            if job:
                self.jobs.append(bytes(job))
            self.sessions += 1
        job.clear()

    def wait_jobs(self, n: int, seconds: float = 10.0) -> list[bytes]:
        wait_until(lambda: len(self.jobs) >= n, seconds, f"{n} job(s) at the printer")
        return list(self.jobs)


class NetworkPrinter(EscposMachine):
    """An ESC/POS printer on a TCP port of 127.0.0.1; each connection's data is one job."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__()
        self.port = port or free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> NetworkPrinter:
        """Switch on: listen on the port (the same one after a `stop`)."""
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(4)
        self._server = srv
        t = threading.Thread(target=self._accept, args=(srv,), daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        """Switch off: stop listening and drop every connection."""
        srv, self._server = self._server, None
        if srv is not None:
            with contextlib.suppress(OSError):
                srv.shutdown(socket.SHUT_RDWR)
            srv.close()
        for c in list(self._conns):
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()
        for t in self._threads:
            t.join(5)
        self._threads.clear()

    def _accept(self, srv: socket.socket) -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            self._conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        buf, job = bytearray(), bytearray()
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
                reply = self.feed(buf, job)
                if reply:
                    with contextlib.suppress(OSError):
                        conn.sendall(reply)
        job += buf  # a stream cut short: keep what came, a test will see it is incomplete
        self.finish(job)
        with contextlib.suppress(ValueError):
            self._conns.remove(conn)


class SerialPrinter(EscposMachine):
    """An ESC/POS printer on the far end of a socat pseudo-terminal pair. A serial line has no
    connections: a job ends when the line has been quiet for `quiet` seconds."""

    def __init__(self, directory: Path, quiet: float = 0.5) -> None:
        super().__init__()
        self.pair = SocatPair(directory, "ttyPRN0")
        self.device = str(self.pair.port)
        self.quiet = quiet
        self._stop = threading.Event()
        self._port = serial.Serial(str(self.pair.peer), 115200, timeout=0.05)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buf, job = bytearray(), bytearray()
        idle = 0.0
        while not self._stop.is_set():
            try:
                chunk = self._port.read(65536)
            except (serial.SerialException, OSError):
                break
            if chunk:
                idle = 0.0
                buf += chunk
                reply = self.feed(buf, job)
                if reply:
                    self._port.write(reply)
            else:
                idle += 0.05
                if job and idle >= self.quiet:
                    self.finish(job)
        self.finish(job)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._port.close()
        self.pair.unplug()
