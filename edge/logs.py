"""Log lines for the journal: one event per line, as logfmt key=value pairs.

A technician (or `journalctl -u edge | grep job=12`) filters on fields instead of prose. Under
systemd (stderr is the JOURNAL_STREAM) each line starts with its syslog priority, `<4>`, so
`journalctl -p warning` works and journald adds the time; elsewhere the line starts with ts=.
A traceback is folded into the same line (exc="..."), so one event is never split over several
journal entries. Fields passed with `extra={"job": 12, "state": "done"}` are appended after msg.
Messages and fields never carry personal data: job numbers and tickets, not names or dossier codes.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
             logging.CRITICAL: 2}


def value(v: object) -> str:
    """A logfmt value: bare when it can be, else double-quoted with escapes (one line always)."""
    s = str(v)
    if s and not any(c in s for c in ' ="\\') and s.isprintable():
        return s
    return json.dumps(s, ensure_ascii=False)


class LogfmtFormatter(logging.Formatter):
    def __init__(self, journal: bool) -> None:
        super().__init__()
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, object] = {"level": record.levelname.lower(), "logger": record.name,
                                     "msg": record.getMessage()}
        fields.update((k, v) for k, v in vars(record).items()
                      if k not in _RECORD_FIELDS and not k.startswith("_"))
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        line = " ".join(f"{k}={value(v)}" for k, v in fields.items())
        if self.journal:
            return f"<{_PRIORITY.get(record.levelno, 6)}>{line}"
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        return f"ts={ts}.{int(record.msecs):03d} {line}"


def to_journal() -> bool:
    """Whether stderr is systemd's journal stream (JOURNAL_STREAM names its device:inode)."""
    try:
        st = os.fstat(sys.stderr.fileno())
        return os.environ.get("JOURNAL_STREAM", "") == f"{st.st_dev}:{st.st_ino}"
    except (OSError, ValueError):
        return False


def setup(level: str) -> None:
    """Send every log record to stderr (the journal under systemd), one logfmt line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter(journal=to_journal()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
