"""Names people and the national portal rely on: tickets, dossier codes and PDF file names.

File names must be ASCII, without spaces, stable and unique, because staff upload them by hand to
the portal and archives keep them for years.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata

from edge.errors import JobError

DOSSIER_PATTERN = "NNN.NN.NN.XNN-YYMMDD-NNNN"
DOSSIER_EXAMPLE = "000.00.04.H40-230414-0002"
_DOSSIER_RE = re.compile(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-(\d{6})-\d{4}")
_FIELDS = {"ref", "seq", "doc", "ticket", "kit", "date"}
# a file system takes 255 bytes; keep room for "-2", "_part12", ".sha256" and temporary names
NAME_MAX = 200


def slug(text: str, max_len: int = 40) -> str:
    """ASCII slug of Vietnamese text: `Giấy khai sinh` -> `giay-khai-sinh`."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return s[:max_len].rstrip("-") or "tai-lieu"


def ticket(kit_id: str, day: dt.date, n: int) -> str:
    """Local ticket number, unique per kit and day: `PL01-261122-007`."""
    return f"{kit_id}-{day:%y%m%d}-{n:03d}"


def tickets_in(text: str, kit_id: str) -> set[tuple[dt.date, int]]:
    """(day, number) of every ticket of this kit in `text` (a file name, a PDF's ticket)."""
    found = set()
    for m in re.finditer(re.escape(kit_id) + r"-(\d{6})-(\d{3,})(?!\d)", text):
        try:
            found.add((dt.datetime.strptime(m.group(1), "%y%m%d").date(), int(m.group(2))))
        except ValueError:
            continue
    return found


def check_dossier(code: str) -> str:
    """Return the normalised national dossier code or refuse it, showing the expected pattern."""
    norm = code.strip().upper()
    m = _DOSSIER_RE.fullmatch(norm)
    ok = bool(m)
    if m:
        try:
            dt.datetime.strptime(m.group(1), "%y%m%d")
        except ValueError:
            ok = False
    if not ok:
        raise JobError(
            f"invalid dossier code {code!r}: expected {DOSSIER_PATTERN}, e.g. {DOSSIER_EXAMPLE}",
            vi=f"Mã hồ sơ {code!r} không hợp lệ. Mẫu đúng: {DOSSIER_PATTERN}, "
            f"ví dụ {DOSSIER_EXAMPLE}",
        )
    return norm


def check_template(template: str) -> None:
    """Raise ValueError unless the name template uses known fields and ends in .pdf."""
    if not template.endswith(".pdf") or "/" in template or "\\" in template:
        raise ValueError("must end with .pdf and contain no '/' (a plain file name)")
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None and name not in _FIELDS:
            raise ValueError(f"unknown field {{{name}}} (allowed: {', '.join(sorted(_FIELDS))})")
    # the first document of a day, and the thousandth of a long type name on a long kit id
    for seq, doc, ticket_, kit in ((1, "giay-khai-sinh", "PL01-261122-007", "PL01"),
                                  (1234, "x" * 40, "ABCDEFGH-261122-1234", "ABCDEFGH")):
        sample = render(template, ref=DOSSIER_EXAMPLE, seq=seq, doc=doc, ticket=ticket_, kit=kit,
                        day=dt.date(2026, 11, 22))
        if not re.fullmatch(r"[A-Za-z0-9._-]+\.pdf", sample):
            raise ValueError(f"gives {sample[:60]!r}: use only letters, digits, '.', '_' and '-'")
        if len(sample) > NAME_MAX:
            raise ValueError(f"gives a {len(sample)}-character name; a file name must stay "
                             f"under {NAME_MAX} characters")


def render(template: str, *, ref: str, seq: int, doc: str, ticket: str, kit: str,
           day: dt.date) -> str:
    return template.format(ref=ref, seq=seq, doc=doc, ticket=ticket, kit=kit,
                           date=day.strftime("%Y-%m-%d"))


def with_suffix(name: str, n: int) -> str:
    """The n-th alternative for a name already taken: `a.pdf` -> `a-2.pdf`."""
    return name if n == 1 else f"{name[:-4]}-{n}.pdf"


def part_name(name: str, part: int, parts: int) -> str:
    """A document's file names: `a.pdf` alone, or `a_part1.pdf`, `a_part2.pdf`... when split."""
    return name if parts == 1 else f"{name[:-4]}_part{part}.pdf"
