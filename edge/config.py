"""TOML configuration turned into typed, frozen dataclasses, strictly.

A kit is configured once by a technician and then runs unattended for months: a typo must stop the
service at start with the key and file named, never be silently ignored. This module holds the
kit-wide sections; a device's table is built by its driver's own settings class, found in
edge/drivers/registry.py by the table's `driver` key, so its errors list only that driver's keys.
"""

from __future__ import annotations

import dataclasses
import os
import re
import ssl
import string
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edge.delivery.settings import Delivery
from edge.drivers import registry
from edge.drivers.modem.settings import ModemSettings
from edge.drivers.printer.settings import PrinterSettings
from edge.drivers.receipt.settings import ReceiptSettings as ReceiptPrinter
from edge.drivers.scanner.settings import FilesSettings, ScannerSettings
from edge.drivers.settings import Settings, driver_of
from edge.drivers.system_settings import PsutilSettings, SystemSettings
from edge.drivers.ups.settings import UpsSettings
from edge.drivers.usb_settings import UsbSettings
from edge.errors import ConfigError
from edge.procedures import Procedure
from edge.procedures import default as default_procedures

DEFAULT_NAME_TEMPLATE = "{ref}_{seq:02d}_{doc}.pdf"


@dataclass(frozen=True)
class Kit:
    id: str
    commune: str = ""


@dataclass(frozen=True)
class Storage:
    root: Path
    retention_days: int = 7
    name_template: str = DEFAULT_NAME_TEMPLATE
    min_free_mb: int = 100
    runtime_dir: Path | None = None  # small, often rewritten state (a tmpfs such as /run/edge)
    purge_delivered: bool = False  # also purge ready files delivered to every required target


@dataclass(frozen=True)
class HotFolder:
    """A folder watched by the daemon: files that stop changing there are imported."""

    path: Path
    doc: str = "Tài liệu nhập"
    settle_seconds: float = 10.0


@dataclass(frozen=True)
class Ocr:
    """The deferred text layer (tesseract): off unless enabled; runs when the kit is idle."""

    enabled: bool = False
    language: str = "vie"
    idle_seconds: float = 120.0


@dataclass(frozen=True)
class Power:
    """What the service does when the UPS says the battery is nearly empty (OB LB, or FSD)."""

    shutdown_command: str = ""  # run once when critical; empty: leave shutdown to upsmon


@dataclass(frozen=True)
class Receipts:
    """What every slip carries, and where the editable templates are."""

    header: str = ""  # e.g. "UBND XÃ PHƯỢNG DỰC"
    templates: Path | None = None  # a folder of templates overriding the built-in ones
    lookup_url: str = ""  # dossier lookup, with {dossier} (or {ticket}) in it
    survey_url: str = ""  # satisfaction survey, may contain {ticket}


@dataclass(frozen=True)
class Mqtt:
    """Telemetry to the commune server over MQTT (edge/telemetry, docs/telemetry.md)."""

    enabled: bool = False
    host: str = "localhost"
    port: int = 0  # 0: 1883, or 8883 with TLS
    username: str = ""
    password: str = ""
    tls: bool = False  # TLS with the system's CAs; implied by ca_file
    ca_file: Path | None = None
    cert_file: Path | None = None  # a client certificate, if the broker asks for one
    key_file: Path | None = None
    client_id: str = ""  # default: edge-<kit id>
    base_topic: str = "dvc/{site}/{kit}"
    site: str = ""  # default: an ASCII slug of kit.commune, else "site"
    keepalive: int = 60
    reconnect_max: float = 300.0  # longest wait between connection attempts, seconds
    state_every: float = 300.0  # each device's state is republished at least this often
    metrics_every: float = 300.0
    outbox_max_messages: int = 10000  # oldest metrics dropped first, events last
    allow_dossier_codes: bool = False  # job events carry the ticket and dossier code
    discovery: bool = True  # Home Assistant device discovery
    discovery_prefix: str = "homeassistant"

    @property
    def use_tls(self) -> bool:
        return self.tls or self.ca_file is not None

    @property
    def broker_port(self) -> int:
        return self.port or (8883 if self.use_tls else 1883)


PlaceKind = Literal["thôn", "xóm", "bản", "ấp", "tổ dân phố", "khu phố"]


@dataclass(frozen=True)
class Place:
    """A `[[places]]` entry: where the kit goes on a visit (edge/field/visits.py)."""

    name: str  # e.g. "Thôn Đông": what staff pick, what the reports group by
    venue: str = ""  # e.g. "Nhà văn hóa thôn Đông"
    kind: PlaceKind = "thôn"


DOC_TYPES = ("Giấy khai sinh", "CCCD", "Tờ khai", "Sổ hộ khẩu cũ",
             "Giấy chứng nhận quyền sử dụng đất", "Giấy chứng nhận kết hôn", "Giấy ủy quyền")
WebRole = Literal["staff", "technician", "volunteer", "admin"]


USER_NAME = r"[A-Za-z0-9_.-]{1,32}"


@dataclass(frozen=True)
class WebUser:
    """A web UI account. `edge user add NAME --role R` writes one."""

    name: str
    role: WebRole
    password_hash: str  # werkzeug format: "scrypt:32768:8:1$salt$hex" or "pbkdf2:sha256:..."


@dataclass(frozen=True)
class Web:
    """The local web UI (`edge web`), a process of its own next to `edge run`."""

    host: str = "127.0.0.1"  # "0.0.0.0" to serve the kit's Wi-Fi
    port: int = 8080
    secret_key_file: Path | None = None  # default: <storage.root>/secrets/web-secret, 0600
    tls_cert_file: Path | None = None  # PEM certificate (chain): serve HTTPS
    tls_key_file: Path | None = None  # its PEM private key (owner edge, mode 0600)
    users: list[WebUser] = field(default_factory=list)
    doc_types: list[str] = field(default_factory=lambda: list(DOC_TYPES))
    language: Literal["vi", "en"] = "vi"
    session_minutes: int = 480
    login_attempts: int = 5  # failed logins per client and name within login_window_seconds
    login_window_seconds: float = 300.0
    history_hours: float = 24.0  # device history kept in <storage.root>/history.db
    sample_seconds: float = 30.0
    threads: int = 24  # waitress worker threads (each open live page holds one)


@dataclass(frozen=True)
class Update:
    """`edge update` and the technician's update page: whose signature a bundle needs, where the
    commune server offers it, where releases go and how the services are restarted and watched."""

    public_key: str = ""  # minisign public key (one base64 line, "RW...") of the province
    url: str = ""  # https:// address of the newest bundle on the commune server ({arch} allowed)
    ca_file: Path | None = None  # the commune server's own CA (PEM), instead of the system's
    prefix: Path = Path("/opt/edge")  # releases/<version> and the `current` link
    service_command: list[str] = field(default_factory=list)  # default: systemctl
    ready_seconds: float = 120.0  # the new release must report ready within this
    watch_seconds: float = 180.0  # ...and stay up (no watchdog restart) this long
    keep: int = 3  # releases kept, the running one included


@dataclass(frozen=True)
class Log:
    level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True)
class Config:
    kit: Kit
    storage: Storage
    scanner: list[ScannerSettings] = field(default_factory=list)
    log: Log = field(default_factory=Log)
    hot_folder: HotFolder | None = None
    ocr: Ocr = field(default_factory=Ocr)
    ups: list[UpsSettings] = field(default_factory=list)
    power: Power = field(default_factory=Power)
    modem: list[ModemSettings] = field(default_factory=list)
    printer: list[PrinterSettings] = field(default_factory=list)
    system: SystemSettings = field(default_factory=PsutilSettings)
    usb: list[UsbSettings] = field(default_factory=list)
    receipt_printer: list[ReceiptPrinter] = field(default_factory=list)
    receipts: Receipts = field(default_factory=Receipts)
    mqtt: Mqtt = field(default_factory=Mqtt)
    web: Web = field(default_factory=Web)
    delivery: list[Delivery] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=default_procedures)
    places: list[Place] = field(default_factory=list)
    update: Update = field(default_factory=Update)
    path: Path = Path()

    @property
    def runtime_dir(self) -> Path:
        """Where the service keeps its device snapshot and power flag (default: root/run)."""
        return self.storage.runtime_dir or self.storage.root / "run"

    def importer(self) -> ScannerSettings:
        """The scanner entry `edge import` uses: the first whose driver imports files."""
        return next(s for s in self.scanner if s.imports)

    def scanner_named(self, name: str) -> ScannerSettings:
        for s in self.scanner:
            if s.name == name:
                return s
        names = ", ".join(s.name for s in self.scanner) or "none configured"
        raise ConfigError(
            f"unknown scanner {name!r} (configured: {names})",
            vi=f"Không có máy quét tên {name!r}",
        )


IMPORTER = FilesSettings(name="import", source="adf")


def config_path(cli_value: str | None) -> Path:
    """The config file: --config wins, then EDGE_CONFIG, then /etc/edge/edge.toml."""
    return Path(cli_value or os.environ.get("EDGE_CONFIG") or "/etc/edge/edge.toml")


def load(path: Path) -> Config:
    """Read, type-check and validate a config file; every error names the key and the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found",
            hint="pass --config PATH or set EDGE_CONFIG; see config/edge.example.toml",
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read config file: {e}") from None
    return loads(text, path)


def loads(text: str, path: Path) -> Config:
    """`load` for text that is (or is about to become) the file at `path`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    root = raw.get("storage", {}).get("root") if isinstance(raw.get("storage"), dict) else None
    if isinstance(root, str) and not Path(root).is_absolute():
        raw["storage"]["root"] = str((path.parent / root).resolve())
    cfg = _build(Config, {**raw, "path": str(path)}, "", path)
    _validate(cfg, path)
    if cfg.system.disk_path is None:
        cfg = dataclasses.replace(cfg, system=dataclasses.replace(cfg.system,
                                                                  disk_path=cfg.storage.root))
    if not any(s.imports for s in cfg.scanner):  # imports work out of the box
        cfg = dataclasses.replace(cfg, scanner=[*cfg.scanner, IMPORTER])
    return cfg


def exposed_secrets(cfg: Config) -> tuple[str, str] | None:
    """What is wrong and the fix, when the config holds passwords or their hashes and every user
    of the machine may read it."""
    keys = [f"{kind}[{i}].password" for kind in ("ups", "modem")
            for i, d in enumerate(getattr(cfg, kind)) if getattr(d, "password", "")]
    keys += ["mqtt.password"] if cfg.mqtt.password else []
    keys += ["web.users"] if cfg.web.users else []
    try:
        readable = bool(keys) and bool(cfg.path.stat().st_mode & 0o007)
    except OSError:
        return None
    if not readable:
        return None
    return (f"{cfg.path} holds {', '.join(keys)} and is readable by every user of this machine",
            f"chmod 640 {cfg.path} (owner root, group edge)")


def _validate(cfg: Config, path: Path) -> None:
    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{path}: {key}: {why}")

    if not re.fullmatch(r"[A-Z0-9]{2,8}", cfg.kit.id):
        raise bad("kit.id", "must be 2-8 capital letters or digits (it goes into file names)")
    if cfg.storage.retention_days < 1:
        raise bad("storage.retention_days", "must be at least 1")
    from edge.pipeline.naming import check_template

    try:
        check_template(cfg.storage.name_template)
    except ValueError as e:
        raise bad("storage.name_template", str(e)) from None
    _validate_devices(cfg, ("ups", "modem", "printer", "usb"), bad)
    for key, why in cfg.system.problems():
        raise bad(f"system.{key}", why)
    _validate_mqtt(cfg.mqtt, bad)
    _validate_web(cfg.web, bad)
    _validate_places(cfg.places, bad)
    _validate_update(cfg.update, bad)
    _validate_devices(cfg, ("scanner",), bad)
    _validate_delivery(cfg, bad)
    _validate_procedures(cfg.procedures, bad)


def _validate_delivery(cfg: Config, bad: typing.Callable[[str, str], ConfigError]) -> None:
    names: set[str] = set()
    for i, d in enumerate(cfg.delivery):
        for key, why in d.problems(cfg.storage.root):
            raise bad(f"delivery[{i}].{key}", why)
        if d.name in names:
            raise bad(f"delivery[{i}].name", f"duplicate delivery name {d.name!r}")
        names.add(d.name)
    if cfg.storage.purge_delivered and not any(d.required for d in cfg.delivery):
        raise bad("storage.purge_delivered", "needs a [[delivery]] target with required = true")


def _validate_procedures(procedures: list[Procedure],
                         bad: typing.Callable[[str, str], ConfigError]) -> None:
    names: set[str] = set()
    for i, p in enumerate(procedures):
        for key, why in p.problems():
            raise bad(f"procedures[{i}].{key}", why)
        if p.name.strip().casefold() in names:
            raise bad(f"procedures[{i}].name", f"duplicate procedure {p.name!r}")
        names.add(p.name.strip().casefold())


def _validate_devices(cfg: Config, kinds: tuple[str, ...],
                      bad: typing.Callable[[str, str], ConfigError]) -> None:
    """Each device's own checks (its settings class says them), and names unique per kind."""
    for kind in kinds:
        names: set[str] = set()
        for i, d in enumerate(getattr(cfg, kind)):
            for key, why in d.problems():
                raise bad(f"{kind}[{i}].{key}", why)
            if d.name in names:
                raise bad(f"{kind}[{i}].name", f"duplicate {kind} name {d.name!r}")
            names.add(d.name)


def _validate_mqtt(m: Mqtt, bad: typing.Callable[[str, str], ConfigError]) -> None:
    if not m.enabled:
        return
    if not m.host:
        raise bad("mqtt.host", "required when mqtt.enabled = true")
    if not 0 <= m.port <= 65535:
        raise bad("mqtt.port", f"{m.port} is not a TCP port")
    _check_topic(m.base_topic, "mqtt.base_topic", {"site", "kit"}, bad)
    if m.discovery:
        _check_topic(m.discovery_prefix, "mqtt.discovery_prefix", set(), bad)
    if m.site and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", m.site):
        raise bad("mqtt.site", "must be 1-40 lower-case letters, digits, '-' or '_'")
    if not 5 <= m.keepalive <= 3600:
        raise bad("mqtt.keepalive", "must be 5..3600 seconds")
    for key in ("state_every", "metrics_every"):
        if getattr(m, key) < 10:
            raise bad(f"mqtt.{key}", "must be at least 10 seconds")
    if m.reconnect_max < 1:
        raise bad("mqtt.reconnect_max", "must be at least 1 second")
    if m.outbox_max_messages < 100:
        raise bad("mqtt.outbox_max_messages", "must be at least 100")
    if m.key_file and not m.cert_file:
        raise bad("mqtt.key_file", "needs mqtt.cert_file")
    for key in ("ca_file", "cert_file", "key_file"):
        f = getattr(m, key)
        if f is not None and not f.is_file():
            raise bad(f"mqtt.{key}", f"{f}: no such file")


def _check_topic(value: str, key: str, fields: set[str],
                 bad: typing.Callable[[str, str], ConfigError]) -> None:
    """An MQTT topic prefix: plain levels, no wildcards or NUL, only `fields` filled in as is."""
    if not value or re.search(r"[#+\x00]|^/|/$|//", value):
        raise bad(key, "must be topic levels separated by '/', without '+', '#', NUL, "
                  "or a leading, trailing or double '/'")
    allowed = " and ".join(f"{{{f}}}" for f in sorted(fields)) or "no {field}"
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as e:
        raise bad(key, f"{e}; only {allowed} may be filled in") from None
    for _, name, spec, conversion in parsed:
        if name is not None and (name not in fields or spec or conversion):
            raise bad(key, f"{{{name}{'!' + conversion if conversion else ''}"
                      f"{':' + spec if spec else ''}}}: only {allowed} may be filled in, "
                      "as they are")


def _validate_web(w: Web, bad: typing.Callable[[str, str], ConfigError]) -> None:
    if not 1 <= w.port <= 65535:
        raise bad("web.port", f"{w.port} is not a TCP port")
    names: set[str] = set()
    for i, u in enumerate(w.users):
        if not re.fullmatch(USER_NAME, u.name):
            raise bad(f"web.users[{i}].name", "must be 1-32 letters, digits, '.', '-' or '_'")
        if u.name in names:
            raise bad(f"web.users[{i}].name", f"duplicate user {u.name!r}")
        names.add(u.name)
        if not re.match(r"(scrypt|pbkdf2):", u.password_hash):
            raise bad(f"web.users[{i}].password_hash",
                      "not a password hash; make one with `edge user hash`")
    if not w.doc_types or any(not 0 < len(d.strip()) <= 120 for d in w.doc_types):
        raise bad("web.doc_types", "must list 1-120 character document types")
    if w.session_minutes < 1 or w.login_attempts < 1 or w.login_window_seconds < 1:
        raise bad("web.session_minutes", "session_minutes, login_attempts and "
                  "login_window_seconds must be positive")
    if w.sample_seconds < 1 or w.history_hours <= 0:
        raise bad("web.sample_seconds", "sample_seconds >= 1 and history_hours > 0")
    if not 4 <= w.threads <= 200:
        raise bad("web.threads", "must be 4..200")
    if (w.tls_cert_file is None) != (w.tls_key_file is None):
        raise bad("web.tls_cert_file", "tls_cert_file and tls_key_file go together")
    for key in ("tls_cert_file", "tls_key_file"):
        f = getattr(w, key)
        if f is not None and (why := unreadable(f)):
            raise bad(f"web.{key}", f"{why}; see docs/operations.md (HTTPS) for where the files "
                      "go and their owner and mode")


def unreadable(f: Path) -> str | None:
    """Why file `f` (a TLS certificate or key named in a config) cannot be read now, or None."""
    try:
        f.open("rb").close()
    except OSError as e:
        return f"{f}: cannot read it ({e.strerror})"
    return None


def _validate_places(places: list[Place], bad: typing.Callable[[str, str], ConfigError]) -> None:
    names: set[str] = set()
    for i, p in enumerate(places):
        if not 0 < len(p.name.strip()) <= 80 or p.name != " ".join(p.name.split()):
            raise bad(f"places[{i}].name", "must be 1-80 characters, without leading, trailing "
                      "or double spaces (e.g. \"Thôn Đông\")")
        if p.name.casefold() in names:
            raise bad(f"places[{i}].name", f"duplicate place {p.name!r}")
        names.add(p.name.casefold())
        if len(p.venue) > 120:
            raise bad(f"places[{i}].venue", "at most 120 characters")


def _validate_update(u: Update, bad: typing.Callable[[str, str], ConfigError]) -> None:
    if u.public_key and not re.fullmatch(r"RW[A-Za-z0-9+/]{54}", u.public_key):
        raise bad("update.public_key", "must be a minisign public key: the second line of the "
                  "province's .pub file, 56 characters starting with RW")
    if u.url and not re.fullmatch(r"https://[^\s/]+/\S*", u.url):
        raise bad("update.url", "must be an https:// address (bundles are fetched over HTTPS)")
    if u.ca_file is not None:
        try:
            ssl.create_default_context(cafile=str(u.ca_file))
        except (OSError, ssl.SSLError) as e:
            raise bad("update.ca_file", f"{u.ca_file}: not a readable PEM CA certificate ({e}); "
                      "use the certificate of the CA that signed the commune server's") from None
    if not u.prefix.is_absolute():
        raise bad("update.prefix", "must be an absolute folder, e.g. /opt/edge")
    if u.ready_seconds <= 0 or u.watch_seconds < 0:
        raise bad("update.ready_seconds", "ready_seconds must be > 0, watch_seconds >= 0")
    if u.keep < 2:
        raise bad("update.keep", "must be at least 2 (the running release and the one before)")


def _receipt_printer(value: Any, key: str, path: Path) -> ReceiptPrinter:
    """A `[[receipt_printer]]`: its `transport` first, then that transport's settings class,
    which takes only its own keys and checks them."""
    transport = value.get("transport", "sim") if isinstance(value, dict) else "sim"
    try:
        cls = registry.entry("receipt", transport).settings
    except ConfigError as e:
        raise ConfigError(f"{path}: {key}.transport: {e.message}") from None
    unknown = sorted(set(value) - set(cls.keys())) if isinstance(value, dict) else []
    if unknown:
        raise ConfigError(f"{path}: {key}: unknown key {unknown[0]!r} for transport "
                          f"{transport!r} (allowed: {', '.join(cls.keys())})")
    printer = _build(cls, value, key, path)
    try:
        printer.check()
    except ConfigError as e:
        raise ConfigError(f"{path}: {e.message}") from None
    return printer


def _chosen(base: type[Settings], value: dict[str, Any], key: str, path: Path) -> type[Settings]:
    """The settings class of the driver a device's table names (its base's default if none)."""
    kind, selector = registry.KINDS[base], base.selector
    driver = value.get(selector, driver_of(base))
    names = registry.drivers(kind)
    if driver is dataclasses.MISSING:
        raise ConfigError(f"{path}: {key}.{selector}: required key is missing")
    if driver not in names:
        raise ConfigError(f"{path}: {key}.{selector}: {driver!r} is not one of "
                          f"{', '.join(map(repr, names))}")
    return registry.entry(kind, driver).settings


def _for_driver(tp: Any) -> str:
    """" for driver 'megatec'" when `tp` is one driver's settings, so errors name it."""
    if not (isinstance(tp, type) and issubclass(tp, Settings)) or tp in registry.KINDS:
        return ""
    return f" for {tp.selector} {driver_of(tp)!r}"


def _build(tp: Any, value: Any, key: str, path: Path) -> Any:
    """Convert parsed TOML into `tp`, refusing unknown keys and wrong types."""

    def bad(why: str) -> ConfigError:
        return ConfigError(f"{path}: {key or 'top level'}: {why}")

    origin = typing.get_origin(tp)
    if tp is ReceiptPrinter:
        return _receipt_printer(value, key, path)
    if tp in registry.KINDS and isinstance(value, dict):
        tp = _chosen(tp, value, key, path)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise bad(f"expected a table, got {type(value).__name__}")
        hints = typing.get_type_hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp)}
        for k in value:
            if k not in fields:
                raise bad(f"unknown key {k!r}{_for_driver(tp)} "
                          f"(allowed: {', '.join(sorted(fields))})")
        kwargs = {}
        for name, f in fields.items():
            sub = f"{key}.{name}" if key else name
            if name in value:
                kwargs[name] = _build(hints[name], value[name], sub, path)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{path}: {sub}: required key is missing")
        return tp(**kwargs)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise bad(f"{value!r} is not one of {', '.join(map(repr, allowed))}")
        return value
    if origin in (types.UnionType, typing.Union):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _build(arg, value, key, path)
            except ConfigError as e:
                errors.append(e)
        raise errors[-1] if len(errors) == 1 else bad(f"unexpected value {value!r}")
    if origin is list:
        if not isinstance(value, list):
            raise bad(f"expected a list, got {type(value).__name__}")
        (item,) = typing.get_args(tp)
        return [_build(item, v, f"{key}[{i}]", path) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise bad(f"expected a table, got {type(value).__name__}")
        _, item = typing.get_args(tp)
        return {k: _build(item, v, f"{key}.{k}", path) for k, v in value.items()}
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise bad("expected a path string")
        return Path(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool):
        if type(value) is not tp:
            raise bad(f"expected {tp.__name__}, got {type(value).__name__} {value!r}")
        return value
    raise bad(f"unsupported type {tp}")  # a programming error in this module
