"""systemd's notify protocol: READY=1 once the service is up, WATCHDOG=1 while it is healthy.

The protocol is one datagram to the socket named in $NOTIFY_SOCKET; the libsystemd bindings would
need a compiler and headers on the Pi for these few lines. Outside systemd (a terminal, the tests)
every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Send e.g. "READY=1" or "WATCHDOG=1"; False when not run by systemd or on error."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(address)
            s.sendall(state.encode())
    except OSError as e:
        log.warning("cannot notify systemd (%s): %s", state, e)
        return False
    return True


def watchdog_interval() -> float | None:
    """Half of systemd's WatchdogSec for this process (how often to ping), or None if off."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2e6
