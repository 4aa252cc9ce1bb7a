"""Opening and closing the serial ports of the UPS (Megatec) and the modem (AT) the same way.

Both drivers keep one port open between polls, open it exclusively, and tell an unplugged
USB-serial adapter (the device node is gone) from a port they may not use.
"""

from __future__ import annotations

import logging
import os

import serial

from edge.errors import DeviceAbsent, DeviceError

log = logging.getLogger(__name__)

READ_SLICE = 0.1  # seconds per serial read, so deadlines are checked often


def open_port(device: str, baudrate: int, write_timeout: float, unplugged: DeviceAbsent,
              cannot_open: DeviceError) -> serial.Serial:
    """The port opened exclusively; `unplugged` if its node is gone, else `cannot_open` with
    pyserial's reason added."""
    if not os.path.exists(device):
        raise unplugged
    try:
        return serial.Serial(device, baudrate, timeout=READ_SLICE, write_timeout=write_timeout,
                             exclusive=True)
    except (serial.SerialException, OSError) as e:
        if not os.path.exists(device):
            raise unplugged from None
        raise DeviceError(f"{cannot_open.message}: {e}", vi=cannot_open.vi,
                          hint=cannot_open.hint) from None


def close_port(port: serial.Serial | None) -> None:
    if port is not None:
        try:
            port.close()
        except (serial.SerialException, OSError) as e:
            log.debug("closing %s: %s", port.port, e)
