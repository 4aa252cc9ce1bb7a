"""`edge user`: web UI accounts in the config file, so the admin never hand-edits a hash.

add/passwd/remove rewrite only the account's own `[[web.users]]` block, keep every other line and
comment, check that the result still loads and holds exactly the intended accounts, and replace
the file atomically with its owner and mode kept. `hash` prints a hash for hand editing.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path

from edge import config
from edge.errors import ConfigError
from edge.web.auth import make_hash

MIN_LENGTH = 6  # a PIN
_TABLE = re.compile(r"\s*\[")
_USERS = re.compile(r"\s*\[\[\s*web\.users\s*\]\]\s*(#.*)?$")


def run(cfg: config.Config, args: argparse.Namespace) -> int:
    users = {u.name: u for u in cfg.web.users}
    name = args.name or ""
    if args.action == "list":
        for u in cfg.web.users:
            print(f"{u.name}\t{u.role}")
        return 0
    if args.action != "hash" and not name:
        print(f"edge: `edge user {args.action}` needs a user name", file=sys.stderr)
        return 2
    if name and not re.fullmatch(config.USER_NAME, name):
        print(f"edge: user name {name!r}: use 1-32 letters, digits, '.', '-' or '_'",
              file=sys.stderr)
        return 2
    if args.action == "add" and name in users:
        print(f"edge: user {name!r} exists: `edge user passwd {name}` sets a new password, "
              f"`edge user remove {name}` removes it", file=sys.stderr)
        return 2
    if args.action in ("passwd", "remove") and name not in users:
        print(f"edge: no user {name!r} in {cfg.path} (users: {', '.join(users) or 'none'})",
              file=sys.stderr)
        return 2
    if args.action == "remove":
        _rewrite(cfg.path, name, None)
        print(f"user {name} removed; the running web UI ends its sessions at once")
        return 0
    password = _read_password()
    if password is None:
        return 2
    h = make_hash(password)
    if args.action == "hash":
        if name:
            print(_block(name, args.role or "staff", h), end="")
        else:
            print(h)
        return 0
    role = args.role or (users[name].role if name in users else "staff")
    _rewrite(cfg.path, name, _block(name, role, h))
    print(f"user {name} ({role}) saved in {cfg.path}; the running web UI applies it at once "
          "(the account's open sessions end)")
    return 0


def print_hash() -> int:
    """`edge fleet hash`: a password hash for a config without a kit (the fleet page's users)."""
    password = _read_password()
    if password is None:
        return 2
    print(make_hash(password))
    return 0


def _read_password() -> str | None:
    if sys.stdin.isatty():
        password = getpass.getpass("password or PIN: ")
        if getpass.getpass("again: ") != password:
            print("edge: the two entries differ", file=sys.stderr)
            return None
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_LENGTH:
        print(f"edge: at least {MIN_LENGTH} characters", file=sys.stderr)
        return None
    return password


def _block(name: str, role: str, password_hash: str) -> str:
    return f'[[web.users]]\nname = "{name}"\nrole = "{role}"\npassword_hash = "{password_hash}"\n'


def _rewrite(path: Path, name: str, block: str | None) -> None:
    """Replace (or drop, for None) user `name`'s block, or append `block` if there is none.
    A block runs from its [[web.users]] line to its last key; comments and blank lines after
    it belong to what follows and are kept."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i, replaced = 0, False
    while i < len(lines):
        if not _USERS.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not _TABLE.match(lines[end]):
            end += 1
        while end > i + 1 and lines[end - 1].strip()[:1] in ("", "#"):
            end -= 1
        if tomllib.loads("".join(lines[i + 1:end])).get("name") == name:
            out.append(block or "")
            replaced = True
        else:
            out += lines[i:end]
        i = end
    if not replaced and block is not None:
        out.append(("" if not text or text.endswith("\n") else "\n") + "\n" + block)
    new = "".join(out)
    _check(path, text, new, name, block)
    _replace(path, new)


def _split(text: str) -> tuple[dict[str, object], dict[str, object]]:
    """A config's accounts by name, and everything else."""
    doc = tomllib.loads(text)
    web = doc.pop("web", {})
    users = {u.get("name"): u for u in web.pop("users", [])}
    return (doc | {"web": web} if web else doc), users


def _check(path: Path, old: str, new: str, name: str, block: str | None) -> None:
    """The edited file must load and differ from the old one in account `name` only."""
    rest, want = _split(old)
    want.pop(name, None)
    if block is not None:
        want[name] = tomllib.loads(block)["web"]["users"][0]
    try:
        ok = _split(new) == (rest, want)
    except tomllib.TOMLDecodeError:
        ok = False
    if not ok:
        raise ConfigError(f"{path}: cannot edit the accounts safely (are they written as "
                          "[[web.users]] tables?); edit the file by hand, `edge user hash NAME` "
                          "prints the entry to paste")
    config.loads(new, path)


def _replace(path: Path, text: str) -> None:
    """Write next to the file, fsync, keep owner and mode, rename over it."""
    st = path.stat()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        if os.geteuid() == 0:
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
