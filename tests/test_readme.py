"""The README's CLI block lists every command the `edge` parser has (a command added later
without its line fails here)."""

from __future__ import annotations

import argparse
import re

from edge.cli import _parser

from .conftest import ROOT


def test_the_readme_cli_block_lists_every_command():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## CLI", 1)[1].split("```", 2)[1]
    listed = set(re.findall(r"(?m)(?:^(?:edge |  )|\| )([a-z][a-z-]+)", block))
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = set(sub.choices)
    assert commands - listed == set(), f"README's CLI block leaves out {commands - listed}"
