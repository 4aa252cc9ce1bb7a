"""QR codes on slips: the URLs they carry (from config) and their raster image.

The lookup QR leads to the dossier on the portal, the survey QR to the satisfaction form that the
commune plans count on ("quét mã QR điện tử"). The URL patterns come from `[receipts]`:
`lookup_url` with {dossier} or {ticket}, `survey_url` optionally with {ticket}. A lookup pattern
that needs the dossier code gives no QR until the code is known.
"""

from __future__ import annotations

import functools
import string
from urllib.parse import quote

import qrcode
import qrcode.constants
from PIL import Image

from edge.errors import ConfigError

URL_FIELDS = ("dossier", "ticket")
QUIET = 4  # modules of white around a code, as the standard asks
MAX_MODULE = 6  # dots per module: 0.75 mm at 203 dpi, read easily by any phone
MIN_MODULE = 2


def check_pattern(key: str, pattern: str) -> None:
    """Refuse a URL pattern with placeholders other than {dossier} and {ticket}."""
    try:
        names = [n for _, n, _, _ in string.Formatter().parse(pattern) if n is not None]
    except ValueError as e:
        raise ConfigError(f"receipts.{key}: {pattern!r}: {e}") from None
    for n in names:
        if n not in URL_FIELDS:
            raise ConfigError(f"receipts.{key}: unknown placeholder {{{n}}} "
                              f"(allowed: {', '.join('{' + f + '}' for f in URL_FIELDS)})")


def url(pattern: str, dossier: str, ticket: str) -> str:
    """The pattern filled in, or "" when it needs a value that is not known yet."""
    if not pattern:
        return ""
    values = {"dossier": dossier, "ticket": ticket}
    names = [n for _, n, _, _ in string.Formatter().parse(pattern) if n is not None]
    if any(not values.get(n) for n in names):
        return ""
    return pattern.format(**{k: quote(v, safe="") for k, v in values.items()})


@functools.lru_cache(maxsize=16)
def matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The code's modules (True = dark), without quiet zone; error correction M."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def module_size(modules: int, width: int) -> int:
    """The largest module size (dots) that fits the code and its quiet zone into `width`."""
    return max(MIN_MODULE, min(MAX_MODULE, width // (modules + 2 * QUIET)))


def image(data: str, module: int) -> Image.Image:
    """The code as a 1-bit image (white quiet zone included), `module` dots per module."""
    rows = matrix(data)
    n = len(rows)
    small = Image.new("1", (n + 2 * QUIET, n + 2 * QUIET), 1)
    pixels = small.load()
    assert pixels is not None
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + QUIET, y + QUIET] = 0
    return small.resize((small.width * module, small.height * module), Image.Resampling.NEAREST)
