"""A `[[delivery]]` target of the config: where finished dossiers go off the kit, and on what terms.

The URL says the protocol and place (`sftp://user@host:22/path`, `webdav(s)://host/path`,
`smb://host/share/path`, `s3://bucket/prefix`, `file:///path`); the secrets are in a separate
credentials file (never inline in the TOML, so the config can be shown to anyone). Checked here
at config load; `edge.delivery.rclone` turns it into rclone's own config.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from edge.errors import ConfigError

SCHEMES = ("sftp", "webdav", "webdavs", "smb", "s3", "file")
CREDENTIAL_KEYS = {
    "sftp": {"user", "password", "key_file", "known_hosts_file"},
    "webdav": {"user", "password"},
    "smb": {"user", "password", "domain"},
    "s3": {"access_key_id", "secret_access_key"},
    "file": set(),
}
NAME = r"[a-z0-9][a-z0-9_-]{0,31}"
WINDOW = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
BWLIMIT = re.compile(r"\d+(\.\d+)?[KMG]?(:\d+(\.\d+)?[KMG]?)?", re.IGNORECASE)


@dataclass(frozen=True)
class Where:
    """A target URL taken apart."""

    scheme: str  # sftp, webdav, smb, s3, file
    host: str
    port: int  # 0: the protocol's default
    user: str
    path: str  # for smb the share first; for s3 the bucket first
    tls: bool  # webdavs


@dataclass(frozen=True)
class Delivery:
    """One destination of finished dossiers (`[[delivery]]`)."""

    name: str
    url: str
    label: str = ""  # what staff read (e.g. "Máy tính bộ phận một cửa"); default: the name
    credentials: Path | None = None  # TOML file, 0600: user/password/key_file... per protocol
    required: bool = True  # counts for "delivered everywhere" (retention, the staff's list)
    endpoint: str = ""  # s3: the server (e.g. https://minio.tinh.gov.vn)
    region: str = ""  # s3
    webdav_vendor: Literal["other", "nextcloud", "owncloud"] = "other"
    bwlimit: str = ""  # rclone's form: "512K", "2M" (bytes per second), "512K:4M" (up:down)
    transfers: int = 4  # files sent at once
    window: str = ""  # "19:00-06:30": only then (local time); "" any time
    interfaces: list[str] = field(default_factory=list)  # only when the route goes out by one
    mount: Path | None = None  # file://: only while this is a mount point (the USB disk is in)
    daily_mb: int = 0  # bytes sent (and read back) per day, in MB; 0 no limit
    encrypt: bool = False  # rclone crypt: the destination holds only ciphertext
    key_file: Path | None = None  # the crypt password, off the data partition
    retry_min_seconds: float = 10.0
    retry_max_seconds: float = 900.0
    timeout_seconds: float = 60.0  # a connection or a stalled transfer

    @property
    def where(self) -> Where:
        return parse_url(self.url)

    def problems(self, data_root: Path) -> list[tuple[str, str]]:
        """(key, what is wrong and how to fix it), empty when the target is well configured."""
        out: list[tuple[str, str]] = []
        if not re.fullmatch(NAME, self.name):
            out.append(("name", "must be 1-32 lower-case letters, digits, '-' or '_'"))
        if len(self.label) > 60 or any(not c.isprintable() for c in self.label):
            out.append(("label", "at most 60 printable characters"))
        try:
            where = self.where
        except ConfigError as e:
            return [*out, ("url", e.message)]
        if where.scheme == "s3" and not self.endpoint:
            out.append(("endpoint", "required for s3:// (the MinIO or S3 server's URL)"))
        if where.scheme != "file" and self.credentials is None:
            out.append(("credentials", f"required for {where.scheme}:// (a file holding "
                        f"{', '.join(sorted(CREDENTIAL_KEYS[_kind(where.scheme)]))})"))
        if self.credentials is not None:
            try:
                self.secrets()
            except ConfigError as e:
                out.append(("credentials", e.message))
        if self.mount is not None and where.scheme != "file":
            out.append(("mount", "only for file:// targets (the disk's mount point)"))
        if self.mount is not None and not where.path.startswith(str(self.mount)):
            out.append(("mount", f"the url's path must be under {self.mount}"))
        if self.bwlimit and not BWLIMIT.fullmatch(self.bwlimit):
            out.append(("bwlimit", "bytes per second like 512K or 2M, or upload:download like "
                        "512K:4M (K, M, G = 1024 ...)"))
        if self.window and window_of(self.window) is None:
            out.append(("window", "HH:MM-HH:MM in local time, e.g. 19:00-06:30"))
        if not 1 <= self.transfers <= 16:
            out.append(("transfers", "must be 1..16"))
        if self.daily_mb < 0:
            out.append(("daily_mb", "must be 0 (no limit) or more"))
        if not 1 <= self.retry_min_seconds <= self.retry_max_seconds:
            out.append(("retry_min_seconds", "need 1 <= retry_min_seconds <= retry_max_seconds"))
        if self.timeout_seconds < 1:
            out.append(("timeout_seconds", "must be at least 1"))
        out += self._key_problems(data_root)
        return out

    def _key_problems(self, data_root: Path) -> list[tuple[str, str]]:
        if not self.encrypt:
            return [("key_file", "only with encrypt = true")] if self.key_file else []
        if self.key_file is None:
            return [("key_file", "required with encrypt = true (a file holding the passphrase, "
                     "on another partition than storage.root)")]
        try:
            st = self.key_file.stat()
            key = self.key_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            return [("key_file", f"{self.key_file}: cannot read it ({e})")]
        if st.st_mode & 0o077:
            return [("key_file", f"{self.key_file} is readable by others: chmod 600 it")]
        if len(key) < 16:
            return [("key_file", f"{self.key_file}: the passphrase must be 16 characters or "
                     "more")]
        if _same_device(self.key_file, data_root):
            return [("key_file", f"{self.key_file} is on the same partition as the data "
                     f"({data_root}): keep the key elsewhere (e.g. /etc/edge), so a copy of the "
                     "data card alone cannot be decrypted")]
        return []

    def secrets(self) -> dict[str, str]:
        """The credentials file's values (checked: known keys, strings, not world-readable)."""
        if self.credentials is None:
            return {}
        path = self.credentials
        try:
            mode = path.stat().st_mode
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot read it ({e.strerror})") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{path}: not a TOML file of key = \"value\" lines ({e})") from None
        if mode & 0o007:
            raise ConfigError(f"{path} holds passwords and is readable by every user: "
                              f"chmod 600 {path} (owner edge)")
        allowed = CREDENTIAL_KEYS[_kind(self.where.scheme)]
        for key, value in raw.items():
            if key not in allowed:
                raise ConfigError(f"{path}: unknown key {key!r} for {self.where.scheme}:// "
                                  f"(allowed: {', '.join(sorted(allowed)) or 'none'})")
            if not isinstance(value, str):
                raise ConfigError(f"{path}: {key} must be a string in quotes")
        return dict(raw)


def _kind(scheme: str) -> str:
    return "webdav" if scheme == "webdavs" else scheme


def parse_url(url: str) -> Where:
    """Take a target URL apart, or say what a good one looks like."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    examples = ("sftp://user@host[:port]/path, webdav(s)://host[:port]/path, "
                "smb://host/share/path, s3://bucket/prefix, file:///path")
    if scheme not in SCHEMES:
        raise ConfigError(f"{url!r}: unknown protocol; use one of {examples}")
    try:
        port = parts.port or 0
    except ValueError:
        raise ConfigError(f"{url!r}: the port is not a number") from None
    if parts.password:
        raise ConfigError(f"{url!r}: no password in the URL; put it in the credentials file")
    path = unquote(parts.path).strip("/")
    host = parts.hostname or ""
    if scheme == "file":
        if host or not parts.path.startswith("/"):
            raise ConfigError(f"{url!r}: a file target is file:///absolute/path")
        return Where("file", "", 0, "", "/" + path, False)
    if scheme == "s3":  # s3://bucket/prefix: the "host" is the bucket
        host, path = "", "/".join(p for p in (parts.netloc, path) if p)
    elif not host:
        raise ConfigError(f"{url!r}: the host is missing; use one of {examples}")
    if scheme in ("smb", "s3") and not path:
        raise ConfigError(f"{url!r}: name the {'share' if scheme == 'smb' else 'bucket'}")
    if ".." in path.split("/"):
        raise ConfigError(f"{url!r}: '..' is not allowed in the path")
    if scheme == "sftp":  # from the server's root, as `sftp host:/path` would
        path = "/" + path
    return Where(_kind(scheme), host, port, unquote(parts.username or ""), path,
                 scheme == "webdavs")


def window_of(text: str) -> tuple[dt.time, dt.time] | None:
    """`HH:MM-HH:MM` as two times, or None if malformed."""
    m = WINDOW.fullmatch(text.strip())
    if not m:
        return None
    h1, m1, h2, m2 = map(int, m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        return None
    return dt.time(h1, m1), dt.time(h2, m2)


def _same_device(path: Path, root: Path) -> bool:
    """Whether `path` is on the filesystem holding `root` (or its nearest existing parent)."""
    while not root.exists() and root != root.parent:
        root = root.parent
    return os.stat(path).st_dev == os.stat(root).st_dev
