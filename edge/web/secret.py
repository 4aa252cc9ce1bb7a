"""The web UI's session signing key: made once with `secrets`, kept where no other code writes.

The default place is `<storage root>/secrets/web-secret`, in a 0700 directory that only this
module creates and checks (the hot folder, imports and outbox never write there), or the file
named by `[web] secret_key_file`. A key that is a link, shorter than 32 bytes or readable by
others, or a secrets directory that is a link, someone else's, or open to others, is refused
at start (a ConfigError: exit code 2) with the fix: nobody can guess the key or slip theirs in.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

from edge import config
from edge.errors import ConfigError

MIN_BYTES = 32
FILE_NAME = "web-secret"


def path_of(cfg: config.Config) -> Path:
    return cfg.web.secret_key_file or cfg.storage.root / "secrets" / FILE_NAME


def load(cfg: config.Config) -> bytes:
    """The key, made first if missing; ConfigError naming the file and the fix if unsafe."""
    path = path_of(cfg)
    if cfg.web.secret_key_file is None:
        _private_dir(path.parent)
    return load_file(path)


def load_file(path: Path) -> bytes:
    """The key in `path`, made first if missing (the fleet page's too)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return _read(path)
    except OSError as e:
        raise ConfigError(f"{path}: cannot create the web secret: {e.strerror}") from None
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    return _read(path)


def _private_dir(d: Path) -> None:
    d.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        d.mkdir(mode=0o700)
    st = os.lstat(d)
    fix = f"remove it (`rm -r {d}`): `edge web` makes it again with a new secret"
    if stat.S_ISLNK(st.st_mode):
        raise ConfigError(f"{d} is a symbolic link, not the web UI's own secrets directory; {fix}")
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise ConfigError(f"{d} is not a directory owned by this user (uid {os.geteuid()}); {fix}")
    if st.st_mode & 0o077:
        raise ConfigError(f"{d} is readable by other users (mode {st.st_mode & 0o777:o}); "
                          f"`chmod 700 {d}`, or {fix}")


def _read(path: Path) -> bytes:
    fix = f"remove it (`rm {path}`) and start `edge web` again: it makes a new one"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ConfigError(f"{path}: the web secret is a symbolic link; {fix}") from None
        raise ConfigError(f"{path}: cannot read the web secret: {e.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{path}: the web secret is not a regular file; {fix}")
        if st.st_mode & 0o077:
            raise ConfigError(f"{path}: the web secret is readable by other users (mode "
                              f"{st.st_mode & 0o777:o}); {fix}")
        key = f.read(4096).strip()
    if len(key) < MIN_BYTES:
        raise ConfigError(f"{path}: the web secret is shorter than {MIN_BYTES} bytes; {fix}")
    return key
