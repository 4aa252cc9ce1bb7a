"""Free text from people and other machines, made safe to store and to show on a terminal.

Document types, job messages and slip fields end up on staff terminals (`edge jobs`), in logs and
in the web UI; a C0 or C1 control character in them (ESC, CSI...) would drive the terminal. They
are removed where text is stored, and again where stored text is read (a queue written before).
"""

from __future__ import annotations

import re

_SPACES = re.compile("[\t\n\r\v\f]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` without C0/C1 control characters; tabs and line breaks become spaces."""
    return _CONTROLS.sub("", _SPACES.sub(" ", text))
