"""`edge user hash`: make a password (or PIN) hash to paste into `[[web.users]]`."""

from __future__ import annotations

import argparse
import getpass
import sys

from edge import config
from edge.web.auth import make_hash

MIN_LENGTH = 4  # a PIN


def run(cfg: config.Config, args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("password or PIN: ")
        if getpass.getpass("again: ") != password:
            print("edge: the two entries differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_LENGTH:
        print(f"edge: at least {MIN_LENGTH} characters", file=sys.stderr)
        return 2
    h = make_hash(password)
    if args.name:
        role = args.role or "staff"
        print(f'[[web.users]]\nname = "{args.name}"\nrole = "{role}"\npassword_hash = "{h}"')
    else:
        print(h)
    return 0

