"""python-escpos, imported here first so that two side effects of its import are tamed.

1. It parses its 100 KB capability database and pickles it into a fresh `mkdtemp()` folder
   that nobody removes: 0.3 s (more on a Pi) and one leaked folder in /tmp for every `edge`
   command. `ESCPOS_CAPABILITIES_PICKLE_DIR` pointing at one private folder per user lets every
   process after the first load the pickle; `mkdtemp` is stood in for during the import, as
   python-escpos calls it even when that variable is set.
2. It calls `logging.basicConfig()`: imported before the service sets up its logging, it would
   install its own handler and make the service's `basicConfig(level=...)` a no-op (INFO
   messages lost). A placeholder handler during the import keeps that call from doing anything.
"""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
from pathlib import Path

PICKLE_DIR = Path(tempfile.gettempdir()) / f"edge-escpos-{os.getuid()}"


def prepare() -> None:
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" in os.environ:
        return
    try:
        PICKLE_DIR.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return  # python-escpos falls back to its own temporary folder
    if PICKLE_DIR.is_dir() and PICKLE_DIR.stat().st_uid == os.getuid():
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(PICKLE_DIR)


def import_quietly() -> None:
    """Import python-escpos with `basicConfig` made a no-op, and without the empty folder its
    `environ.get(..., mkdtemp())` creates even when the variable is set."""
    root = logging.getLogger()
    placeholder = logging.NullHandler()
    root.addHandler(placeholder)
    real = tempfile.mkdtemp
    chosen = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR")
    if chosen:
        tempfile.mkdtemp = lambda *args, **kwargs: chosen  # type: ignore[assignment]
    try:
        importlib.import_module("escpos.capabilities")
    finally:
        tempfile.mkdtemp = real
        root.removeHandler(placeholder)


prepare()
import_quietly()
