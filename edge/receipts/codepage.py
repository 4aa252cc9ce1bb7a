"""Vietnamese in a printer's own code page (TCVN-3 or CP1258), for the few printers that have one.

Why this is hard: Python has no TCVN-3 codec and its CP1258 codec encodes only what CP1258 has
precomposed (`ấ` is not there: CP1258 writes it as `â` + a combining acute), so a naive
`text.encode()` or python-escpos's `magic` encoder prints `?` for most toned letters. Here text
is NFC-normalised, then:
- TCVN-3 (Epson pages 30 and 31, preferred): one precomposed byte per letter; page 30 holds the
  lower-case letters, page 31 the capitals, so `ESC t n` switches between them as needed;
- CP1258 (page 52 on Epson, 27/94 on some clones): a letter CP1258 lacks is written as the
  longest base it has (ê, ơ, ă...) followed by combining tone marks.
The tables are python-escpos's capability data (escpos-printer-db), so a profile without these
pages is refused rather than guessed at. Characters neither page has are refused, naming them;
typographic quotes and dashes become their ASCII twins.
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

from escpos import capabilities

from edge import config
from edge.errors import ConfigError
from edge.receipts.template import TemplateError

ESC_T = b"\x1bt"
TCVN_LOWER, TCVN_UPPER, CP1258 = "TCVN-3-1", "TCVN-3-2", "CP1258"
ASCII_TWINS = {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...",
               "\u00a0": " ", "•": "*", "№": "No"}
# The escpos-printer-db table writes the capital Đ of page 31 as the look-alike Ð (U+00D0).
LOOK_ALIKES = {"Đ": "Ð"}
NO_PAGE = ("this printer's profile has no Vietnamese code page: use text_mode = \"raster\"")
PROFILE_HINT = "e.g. default, TM-T20II, TM-T88V, POS-5890; see `python-escpos` capabilities"


def profile(name: str) -> capabilities.BaseProfile:
    """The python-escpos capability profile, or a ConfigError naming the setting."""
    if name not in capabilities.CAPABILITIES["profiles"]:
        raise ConfigError(f"receipt_printer.profile: unknown profile {name!r} ({PROFILE_HINT})")
    return capabilities.get_profile(name)


def vietnamese_pages(name: str) -> dict[str, int]:
    """Encoding name -> `ESC t` number, for the Vietnamese pages the profile has (or refuse)."""
    pages: dict[str, int] = {}
    for number, encoding in sorted(profile(name).profile_data.get("codePages", {}).items(),
                                   key=lambda item: int(item[0])):
        if encoding in (TCVN_LOWER, TCVN_UPPER, CP1258):
            pages.setdefault(encoding, int(number))
    tcvn = TCVN_LOWER in pages and TCVN_UPPER in pages
    if not tcvn and CP1258 not in pages:
        raise ConfigError(f"receipt printer profile {name!r}: {NO_PAGE}",
                          vi="Máy in này không có bảng mã tiếng Việt: hãy dùng chế độ in ảnh "
                             "(text_mode = \"raster\").")
    return pages


def check_profile(printer: config.ReceiptPrinter) -> None:
    """The profile exists, is as wide as the paper, and can print what the settings ask."""
    p = profile(printer.profile)
    dots = {58: 384, 80: 576}[printer.paper_mm]
    pixels = p.profile_data.get("media", {}).get("width", {}).get("pixels")
    if isinstance(pixels, int) and pixels < dots:
        raise ConfigError(f"receipt printer {printer.name}: profile {printer.profile!r} prints "
                          f"{pixels} dots wide, less than {printer.paper_mm} mm paper "
                          f"({dots} dots): set paper_mm = 58 or another profile")
    if printer.qr == "native" and not p.supports("qrCode"):
        raise ConfigError(f"receipt printer {printer.name}: profile {printer.profile!r} cannot "
                          "print QR codes itself: use qr = \"raster\"")
    if not p.supports("bitImageRaster"):
        raise ConfigError(f"receipt printer {printer.name}: profile {printer.profile!r} "
                          "does not print raster images (GS v 0)")


@dataclass(frozen=True)
class Encoder:
    """Turns text into bytes for one printer, switching code pages with `ESC t n`."""

    pages: dict[str, int]

    @classmethod
    def for_profile(cls, name: str) -> Encoder:
        return cls(vietnamese_pages(name))

    @property
    def tcvn(self) -> bool:
        return TCVN_LOWER in self.pages and TCVN_UPPER in self.pages

    def encode(self, text: str, current: int | None = None) -> tuple[bytes, int | None]:
        """(bytes, the page selected after them); `current` is the page already selected."""
        out = bytearray()
        for char in clean(text):
            page, data = self.char(char)
            if page is not None and page != current:
                out += ESC_T + bytes([page])
                current = page
            out += data
        return bytes(out), current

    def char(self, char: str) -> tuple[int | None, bytes]:
        """(page needed or None for ASCII, bytes) for one NFC character."""
        if ord(char) < 128:
            return None, char.encode("ascii")
        if self.tcvn:
            for enc in (TCVN_LOWER, TCVN_UPPER):
                byte = table(enc).get(LOOK_ALIKES.get(char, char) if enc == TCVN_UPPER
                                      else char)
                if byte is not None:
                    return self.pages[enc], bytes([byte])
        if CP1258 in self.pages:
            data = cp1258(char)
            if data is not None:
                return self.pages[CP1258], data
        raise TemplateError(
            f"{char!r} (U+{ord(char):04X}) cannot be printed in this printer's Vietnamese "
            "code page: remove it or use text_mode = \"raster\"",
            vi=f"Ký tự {char!r} không in được bằng bảng mã của máy in này.")


def clean(text: str) -> str:
    """NFC, with typographic punctuation replaced by ASCII."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ASCII_TWINS.get(c, c) for c in text)


_TABLES: dict[str, dict[str, int]] = {}


def table(encoding: str) -> dict[str, int]:
    """Character -> byte (128-255) for a table-defined page such as TCVN-3."""
    if encoding not in _TABLES:
        data = "".join(capabilities.CAPABILITIES["encodings"][encoding]["data"])
        _TABLES[encoding] = {c: 128 + i for i, c in enumerate(data) if c != " "}
    return _TABLES[encoding]


def cp1258(char: str) -> bytes | None:
    """A letter in CP1258: itself if the page has it, else its longest base there plus
    combining marks (ệ -> ê + dot below); None if impossible."""
    try:
        return char.encode("cp1258")
    except UnicodeEncodeError:
        pass
    base, *marks = unicodedata.normalize("NFD", char)
    for n in range(len(marks), -1, -1):
        for keep in itertools.combinations(range(len(marks)), n):
            head = unicodedata.normalize("NFC", base + "".join(marks[i] for i in keep))
            rest = "".join(m for i, m in enumerate(marks) if i not in keep)
            if len(head) != 1:
                continue
            try:
                return (head + rest).encode("cp1258")
            except UnicodeEncodeError:
                continue
    return None
