"""Cheap serial UPSes speaking the Megatec/Q1 protocol, read directly over pyserial.

Many line-interactive units sold in Vietnam (Santak, Ares, PowerCom and their OEM twins) have only
an RS-232 port (or a USB-serial cable) and no NUT on the kit. They answer `Q1\\r` with one line:
`(226.0 195.0 226.0 014 49.0 27.5 30.0 00001000\\r` = input V, fault V, output V, load %, Hz,
battery V, °C and eight status bits. This driver turns that into the same NUT names and
`ups.status` words as the NUT driver. There is no charge field: `battery.charge` is estimated from
the battery voltage (linear between the configured empty and full cell voltages) and flagged by
`battery.charge.estimated`. Serial lines are noisy and cables get pulled, so every reply is
checked, every read is bounded by the timeout, and the port is reopened after any error.
"""

from __future__ import annotations

import logging
import os
import termios
import threading
import time
from dataclasses import dataclass

import serial

from edge.drivers import serialport
from edge.drivers.device import Device
from edge.drivers.ups import ESTIMATED, reading
from edge.drivers.ups.settings import MegatecSettings, PackSettings
from edge.errors import DeviceAbsent, DeviceError
from edge.health import Metric, Reading

log = logging.getLogger(__name__)

QUERY = b"Q1\r"
MAX_REPLY = 128  # a Q1 reply is 47 bytes; more without a CR is noise
PER_CELL_BELOW = 3.0  # a reported battery voltage below this is per cell (2 V lead-acid cells)
FIELDS = ("input.voltage", "input.voltage.fault", "output.voltage", "ups.load",
          "input.frequency", "battery.voltage", "ups.temperature")
UNITS = {"input.voltage.fault": "V"}  # the others are in edge.drivers.ups.NUMERIC


@dataclass(frozen=True)
class Q1:
    """One parsed Q1 reply; None where the UPS sends dashes ("--.-") for a value it lacks."""

    values: dict[str, float | None]
    bits: str  # b7..b0, as sent

    def bit(self, n: int) -> bool:
        """Status bit `n` (7 = utility fail ... 0 = beeper on)."""
        return self.bits[7 - n] == "1"


class MegatecUps(Device):
    kind = "ups"

    def __init__(self, cfg: MegatecSettings) -> None:
        super().__init__(cfg)
        self._lock = threading.Lock()
        self._port: serial.Serial | None = None

    def poll(self) -> Reading:
        with self._lock:
            q1 = self._ask()
        return q1_reading(q1, self.cfg)

    def close(self) -> None:
        with self._lock:
            self._close_port()

    # --- the serial conversation ------------------------------------------------------------

    def _ask(self) -> Q1:
        """The UPS's answer to Q1; any failure (garbage too) closes the port and says why."""
        try:
            return parse_q1(self._exchange())
        except (serial.SerialException, OSError, termios.error) as e:
            self._close_port()
            if not os.path.exists(self.cfg.device):
                raise self._unplugged() from None
            raise DeviceError(f"UPS port {self.cfg.device} failed: {e}",
                              vi="Lỗi đọc bộ lưu điện qua cổng nối tiếp; hãy kiểm tra cáp.") \
                from None
        except DeviceError as e:
            self._close_port()
            log.debug("ups %s: %s", self.name, e)
            raise

    def _exchange(self) -> bytes:
        """Q1 out, the reply line back (without its CR)."""
        port = self._open()
        port.reset_input_buffer()  # a late answer to the last query is not this one's
        port.write(QUERY)
        port.flush()
        return self._read_reply(port, time.monotonic() + self.cfg.timeout)

    def _read_reply(self, port: serial.Serial, end: float) -> bytes:
        data = b""
        while b"\r" not in data:
            left = end - time.monotonic()
            if left <= 0:
                raise self._incomplete(data) if data.strip() else self._silent()
            if len(data) > MAX_REPLY:
                raise garbage(data, "no end of line")
            port.timeout = min(left, serialport.READ_SLICE)
            data += port.read(max(1, port.in_waiting))
        return data[:data.index(b"\r")]

    def _open(self) -> serial.Serial:
        if self._port is None:
            self._port = serialport.open_port(
                self.cfg.device, self.cfg.baudrate, self.cfg.timeout, self._unplugged(),
                DeviceError(f"cannot open UPS port {self.cfg.device}",
                            vi="Không mở được cổng của bộ lưu điện; hãy báo kỹ thuật viên.",
                            hint="is another program using it (a NUT driver, ModemManager)? is "
                                 "the service user in the dialout group?"))
        return self._port

    def _close_port(self) -> None:
        port, self._port = self._port, None
        serialport.close_port(port)

    # --- what went wrong, in words ----------------------------------------------------------

    def _unplugged(self) -> DeviceAbsent:
        return DeviceAbsent(
            f"UPS serial port {self.cfg.device} is gone: the UPS data cable is unplugged",
            vi="Không thấy cáp dữ liệu của bộ lưu điện. Cắm lại cáp USB/cáp nối tiếp từ bộ lưu "
               "điện vào máy tính.",
            hint="`ls /dev/ttyUSB*` shows the USB-serial adapters that are plugged in")

    def _silent(self) -> DeviceAbsent:
        return DeviceAbsent(
            f"UPS not answering on {self.cfg.device}: check the serial cable "
            f"(no reply to Q1 within {self.cfg.timeout:g} s)",
            vi="Bộ lưu điện không phản hồi. Kiểm tra cáp nối bộ lưu điện với máy tính và bộ lưu "
               "điện đã bật.",
            hint=f"check baudrate (now {self.cfg.baudrate}; Megatec UPSes use 2400) and that the "
                 "UPS speaks Megatec/Q1")

    def _incomplete(self, data: bytes) -> DeviceError:
        return DeviceError(
            f"UPS on {self.cfg.device} sent an incomplete reply to Q1: {show(data)} "
            f"(no end of line within {self.cfg.timeout:g} s)",
            vi="Bộ lưu điện trả lời không đầy đủ; kiểm tra cáp nối bộ lưu điện.",
            hint="a loose cable or a wrong baudrate")


def show(data: bytes) -> str:
    """Bytes for a message: printable ASCII as is, the rest escaped, long replies cut."""
    return repr(data[:60])[1:] + ("..." if len(data) > 60 else "")


def garbage(data: bytes, why: str) -> DeviceError:
    return DeviceError(
        f"unreadable reply from the UPS to Q1 ({why}): {show(data)}",
        vi="Bộ lưu điện trả lời không đọc được; nếu lỗi lặp lại hãy báo kỹ thuật viên.",
        hint="noise on the serial line, a wrong baudrate, or a UPS that does not speak "
             "Megatec/Q1 (then use NUT's nutdrv_qx or blazer_ser with driver = \"nut\")")


def parse_q1(reply: bytes) -> Q1:
    """`(226.0 195.0 226.0 014 49.0 27.5 30.0 00001000` -> Q1; DeviceError for anything else."""
    text = reply.strip(b"\n\x00 ")
    if not text.startswith(b"("):
        raise garbage(text, "it does not start with '('")
    try:
        fields = text[1:].decode("ascii").split()
    except UnicodeDecodeError:
        raise garbage(text, "binary noise") from None
    if len(fields) != len(FIELDS) + 1:
        raise garbage(text, f"{len(fields)} fields instead of {len(FIELDS) + 1}")
    *numbers, bits = fields
    if len(bits) != 8 or set(bits) - {"0", "1"}:
        raise garbage(text, f"status bits {bits!r} are not 8 binary digits")
    values = {name: _value(f, name, text) for name, f in zip(FIELDS, numbers, strict=True)}
    return Q1(values, bits)


def _value(field_: str, name: str, text: bytes) -> float | None:
    if set(field_) <= {"-", "."}:  # "--.-": the UPS does not measure this
        return None
    try:
        return float(field_)
    except ValueError:
        raise garbage(text, f"{name} {field_!r} is not a number") from None


def q1_reading(q1: Q1, cfg: PackSettings) -> Reading:
    values = {name: v for name, v in q1.values.items() if name not in UNITS}
    values["battery.charge"] = estimate_charge(q1.values["battery.voltage"], cfg)
    extra = {name: Metric(v, unit) for name, unit in UNITS.items()
             if (v := q1.values[name]) is not None}
    extra[ESTIMATED] = Metric(True)
    extra["ups.type"] = Metric("line-interactive" if q1.bit(3) else "online")
    extra["ups.beeper.status"] = Metric("enabled" if q1.bit(0) else "disabled")
    alarm = "UPS failed (it reports an internal fault)" if q1.bit(4) else ""
    return reading(q1_status(q1), values, alarm, extra)


def q1_status(q1: Q1) -> str:
    """The NUT `ups.status` words the bits mean (as NUT's blazer/nutdrv_qx drivers set them)."""
    words = ["OB" if q1.bit(7) else "OL"]
    if q1.bit(6):
        words.append("LB")
    if q1.bit(5):
        words += _regulating(q1.values["input.voltage"], q1.values["output.voltage"])
    if q1.bit(2):
        words.append("CAL")
    if q1.bit(1):
        words.append("FSD")
    return " ".join(words)


def _regulating(vin: float | None, vout: float | None) -> list[str]:
    """Bit 5 is "bypass/boost/buck active": which one follows from output vs input voltage."""
    if not vin or vout is None:
        return []
    ratio = vout / vin
    if 0.5 <= ratio < 0.95:
        return ["TRIM"]
    if 0.95 <= ratio < 1.05:
        return ["BYPASS"]
    if 1.05 <= ratio < 1.5:
        return ["BOOST"]
    return []


def estimate_charge(volts: float | None, cfg: PackSettings) -> float | None:
    """Battery charge in % from its voltage: linear from `cell_empty_volts` (0 %) to
    `cell_full_volts` (100 %) per cell, clamped. Values below 3 V are taken as per cell (many
    units report that), others as the whole pack of `battery_cells` cells.

    A rough guide: the voltage sags under load and floats high while charging.
    """
    if volts is None or volts <= 0:
        return None
    cell = volts if volts < PER_CELL_BELOW else volts / max(1, cfg.battery_cells)
    span = cfg.cell_full_volts - cfg.cell_empty_volts
    percent = (cell - cfg.cell_empty_volts) / span * 100.0
    return round(min(100.0, max(0.0, percent)), 1)
