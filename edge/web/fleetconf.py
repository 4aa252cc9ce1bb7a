"""The fleet page's own config (`edge fleet serve --config fleet-web.toml`): there is no kit here.

It names the database the collector fills, where to listen, the page's language, the communes'
display names (kits send an ASCII slug such as `phu-lac`) and the accounts, whose password
hashes `edge fleet hash` makes (the kit's own hashing, edge/web/auth.py). Unknown keys are
errors naming the key, like the kit's config.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge import config
from edge.errors import ConfigError

KEYS = {"db", "host", "port", "language", "secret_file", "session_minutes", "communes", "users",
        "tls_cert_file", "tls_key_file"}
USER_KEYS = {"name", "password_hash"}


@dataclass(frozen=True)
class FleetWeb:
    path: Path
    db: str
    users: tuple[config.WebUser, ...]
    host: str = "127.0.0.1"
    port: int = 8090
    language: str = "vi"
    secret_file: Path = Path("fleet-web-secret")
    session_minutes: int = 480
    communes: dict[str, str] = field(default_factory=dict)
    tls_cert_file: Path | None = None  # PEM certificate (chain): serve HTTPS
    tls_key_file: Path | None = None  # its private key

    def commune(self, site: str) -> str:
        """A site's display name (`phu-lac` -> `Phú Lạc`), the slug when none is given."""
        return self.communes.get(site, site)


def load(path: Path) -> FleetWeb:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"fleet page config {path}: {e.strerror}: give an existing file "
                          f"with --config (docs/telemetry.md, fleet page)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"fleet page config {path}: not valid TOML: {e}") from None

    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"fleet page config {path}: {key}: {why}")

    if unknown := sorted(set(raw) - KEYS):
        raise bad(unknown[0], f"unknown key (known: {', '.join(sorted(KEYS))})")
    if not isinstance(raw.get("db"), str) or not raw["db"]:
        raise bad("db", "give the collector's database: a SQLite path or postgresql://...")
    db = raw["db"] if "://" in raw["db"] else str((path.parent / raw["db"]).resolve())
    port = raw.get("port", 8090)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise bad("port", "must be a port number (1-65535)")
    if raw.get("language", "vi") not in ("vi", "en"):
        raise bad("language", 'must be "vi" or "en"')
    minutes = raw.get("session_minutes", 480)
    if not isinstance(minutes, int) or minutes < 5:
        raise bad("session_minutes", "must be a whole number of minutes, at least 5")
    communes = raw.get("communes", {})
    if not isinstance(communes, dict) or not all(isinstance(v, str) for v in communes.values()):
        raise bad("communes", 'must be a table of site = "display name"')
    secret = Path(str(raw.get("secret_file", "fleet-web-secret")))
    cert, key = (_readable(path, raw, k, bad) for k in ("tls_cert_file", "tls_key_file"))
    if (cert is None) != (key is None):
        raise bad("tls_cert_file", "tls_cert_file and tls_key_file go together")
    return FleetWeb(path, db, _users(raw.get("users", []), bad), str(raw.get("host", "127.0.0.1")),
                    port, str(raw.get("language", "vi")), path.parent / secret, minutes, communes,
                    cert, key)


def _readable(path: Path, raw: dict[str, Any], key: str, bad: Any) -> Path | None:
    """A TLS file named in the config (relative to it), checked readable now."""
    if key not in raw:
        return None
    if not isinstance(raw[key], str) or not raw[key]:
        raise bad(key, "give the path of a PEM file")
    f = path.parent / raw[key]
    if why := config.unreadable(f):
        raise bad(key, why)
    return f


def _users(raw: Any, bad: Any) -> tuple[config.WebUser, ...]:
    if not isinstance(raw, list):
        raise bad("users", "write each account as a [[users]] block")
    users: dict[str, config.WebUser] = {}
    for i, u in enumerate(raw):
        key = f"users[{i}]"
        if not isinstance(u, dict):
            raise bad(key, "write each account as a [[users]] block")
        if unknown := sorted(set(u) - USER_KEYS):
            raise bad(f"{key}.{unknown[0]}", "unknown key (known: name, password_hash)")
        name, h = u.get("name"), u.get("password_hash")
        if not isinstance(name, str) or not re.fullmatch(config.USER_NAME, name):
            raise bad(f"{key}.name", "must be 1-32 letters, digits, '.', '-' or '_'")
        if name in users:
            raise bad(f"{key}.name", f"duplicate user {name!r}")
        if not isinstance(h, str) or not re.match(r"(scrypt|pbkdf2):", h):
            raise bad(f"{key}.password_hash", "must be a hash from `edge fleet hash`")
        users[name] = config.WebUser(name, "technician", h)
    return tuple(users.values())
