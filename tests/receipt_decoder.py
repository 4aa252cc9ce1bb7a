"""A small ESC/POS decoder: turns the bytes a receipt printer receives back into what it prints.

It knows exactly the commands the edge service sends (and the status queries), and refuses
anything else, so a test fails if the service starts emitting something a printer might
misread. `parse` works on a growing buffer (the printer emulators feed it what arrives), `image`
stacks the `GS v 0` raster bands into the picture the paper would show, and `text_lines`
decodes code-page text with the tables of python-escpos's capability data and Python's cp1258.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from escpos import capabilities
from PIL import Image

ESC, GS, DLE = 0x1B, 0x1D, 0x10


class Incomplete(Exception):
    """The buffer ends inside a command: wait for more bytes."""


@dataclass(frozen=True)
class Command:
    name: str  # "init", "raster", "status", "text", "lf", "feed", "cut", "align", "bold",
    #            "size", "codepage", "2d"
    raw: bytes  # every byte of the command as received
    arg: int = 0
    data: bytes = b""


def _need(buf: bytes, end: int) -> None:
    if len(buf) < end:
        raise Incomplete


def parse_one(buf: bytes, i: int) -> Command:
    """The command starting at buf[i] (Incomplete if it is cut short, ValueError if unknown)."""
    b = buf[i]
    if b == 0x0A:
        return Command("lf", buf[i:i + 1])
    if b == DLE:
        _need(buf, i + 3)
        if buf[i + 1] != 0x04:
            raise ValueError(f"unknown DLE command {buf[i:i + 3]!r} at {i}")
        return Command("status", buf[i:i + 3], buf[i + 2])
    if b == ESC:
        _need(buf, i + 2)
        op = buf[i + 1]
        if op == ord("@"):
            return Command("init", buf[i:i + 2])
        names = {ord("a"): "align", ord("E"): "bold", ord("t"): "codepage", ord("d"): "feed"}
        if op in names:
            _need(buf, i + 3)
            return Command(names[op], buf[i:i + 3], buf[i + 2])
        raise ValueError(f"unknown ESC command {bytes([op])!r} at {i}")
    if b == GS:
        _need(buf, i + 2)
        op = buf[i + 1]
        if op == ord("v"):  # GS v 0 m xL xH yL yH d1...dk
            _need(buf, i + 8)
            xb = buf[i + 4] | buf[i + 5] << 8
            rows = buf[i + 6] | buf[i + 7] << 8
            end = i + 8 + xb * rows
            _need(buf, end)
            return Command("raster", buf[i:end], xb, buf[i + 8:end])
        if op == ord("V"):  # GS V m, or GS V m n for m = 65, 66
            _need(buf, i + 3)
            end = i + 4 if buf[i + 2] in (65, 66) else i + 3
            _need(buf, end)
            return Command("cut", buf[i:end], buf[i + 2])
        if op == ord("!"):
            _need(buf, i + 3)
            return Command("size", buf[i:i + 3], buf[i + 2])
        if op == ord("("):  # GS ( k pL pH cn fn [m] data
            _need(buf, i + 5)
            n = buf[i + 3] | buf[i + 4] << 8
            _need(buf, i + 5 + n)
            return Command("2d", buf[i:i + 5 + n], buf[i + 6] if n >= 2 else 0,
                           buf[i + 5:i + 5 + n])
        raise ValueError(f"unknown GS command {bytes([op])!r} at {i}")
    if b < 0x20:
        raise ValueError(f"unexpected control byte {b:#04x} at {i}")
    j = i
    while j < len(buf) and (buf[j] >= 0x20 and buf[j] not in (ESC, GS, DLE)):
        j += 1
    return Command("text", buf[i:j], data=buf[i:j])


def parse(buf: bytes) -> tuple[list[Command], int]:
    """The complete commands at the start of `buf`, and how many bytes they took."""
    out: list[Command] = []
    i = 0
    while i < len(buf):
        try:
            cmd = parse_one(buf, i)
        except Incomplete:
            break
        if cmd.name == "text" and i + len(cmd.raw) == len(buf):
            break  # text may go on in the next chunk
        out.append(cmd)
        i += len(cmd.raw)
    return out, i


def commands(data: bytes) -> list[Command]:
    """Every command of a whole stream (it must end on a command boundary)."""
    out, used = parse(data)
    if used < len(data):
        tail = parse_one(data, used)  # raises Incomplete for a cut-off command
        out.append(tail)
        used += len(tail.raw)
    assert used == len(data)
    return out


def image(data: bytes) -> Image.Image:
    """The raster bands of a stream, one under the other, as a 1-bit image (black = 0)."""
    bands = []
    for cmd in commands(data):
        if cmd.name == "raster":
            rows = len(cmd.data) // cmd.arg
            # ESC/POS: a 1 bit is a black dot; Pillow's "1;I" raw mode reads it that way
            band = Image.frombytes("1", (cmd.arg * 8, rows), cmd.data, "raw", "1;I")
            mode = cmd.raw[3] % 48  # m: 0 normal, 1 double width, 2 double height, 3 both
            if mode:
                band = band.resize((band.width * (1 + (mode & 1)),
                                    band.height * (1 + (mode >> 1 & 1))))
            bands.append(band)
    width = max(b.width for b in bands)
    out = Image.new("1", (width, sum(b.height for b in bands)), 1)
    top = 0
    for band in bands:
        out.paste(band, (0, top))
        top += band.height
    return out


def _page(number: int, profile: str) -> str:
    return capabilities.get_profile(profile).profile_data["codePages"][str(number)]


def decode_char(byte: int, encoding: str) -> str:
    if byte < 0x80:
        return chr(byte)
    if encoding == "CP1258":
        return bytes([byte]).decode("cp1258")
    table = "".join(capabilities.CAPABILITIES["encodings"][encoding]["data"])
    char = table[byte - 0x80]
    return "Đ" if char == "Ð" else char


def text_lines(data: bytes, profile: str) -> list[str]:
    """The text lines a code-page stream prints (NFC), as the printer's tables read them."""
    lines: list[str] = []
    line = ""
    encoding = "CP437"
    for cmd in commands(data):
        if cmd.name == "codepage":
            encoding = _page(cmd.arg, profile)
        elif cmd.name == "text":
            line += "".join(decode_char(b, encoding) for b in cmd.data)
        elif cmd.name == "lf":
            lines.append(unicodedata.normalize("NFC", line))
            line = ""
    return lines


def qr_data(data: bytes) -> list[str]:
    """What native QR codes (GS ( k, function 180 store) carry."""
    out = []
    for cmd in commands(data):
        if cmd.name == "2d" and cmd.data[:3] == b"1P0":
            out.append(cmd.data[3:].decode("utf-8"))
    return out
