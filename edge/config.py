"""TOML configuration turned into typed, frozen dataclasses, strictly.

A kit is configured once by a technician and then runs unattended for months: a typo must stop the
service at start with the key and file named, never be silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
import re
import string
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edge.drivers.receipt.settings import ReceiptSettings as ReceiptPrinter
from edge.drivers.receipt.settings import of as receipt_transport
from edge.errors import ConfigError

DEFAULT_NAME_TEMPLATE = "{ref}_{seq:02d}_{doc}.pdf"
Source = Literal["flatbed", "adf", "adf-duplex"]
Mode = Literal["color", "gray", "lineart"]
OptionValue = str | int | float | bool


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


@dataclass(frozen=True)
class Preset:
    """Overrides of a scanner's defaults for one kind of document (one button in the UI)."""

    label: str = ""
    doc: str = ""
    source: Source | None = None
    mode: Mode | None = None
    dpi: int | None = None
    jpeg_quality: int | None = None
    deskew: bool | None = None
    drop_blank_pages: bool | None = None
    auto_color: bool | None = None
    pdfa: bool | None = None
    max_page_kb: int | None = None
    max_file_mb: int | None = None
    options: dict[str, OptionValue] = field(default_factory=dict)


@dataclass(frozen=True)
class SimFeeder:
    """Behaviour of the simulated scanner (driver = "sim")."""

    sheets: int = 10
    page_delay: float = 0.3
    jam_after: int = 0
    blank_backs: bool = True


@dataclass(frozen=True)
class Scanner:
    name: str
    driver: Literal["sane", "sim", "files"]
    device: str = ""
    usb_id: str = ""  # vendor:product (lsusb): tells "unplugged" apart from other I/O errors
    poll_buttons: bool = True  # a press of the scanner's own button starts a scan
    buttons: dict[str, str] = field(default_factory=dict)  # SANE button option -> preset
    source: Source = "adf"
    mode: Mode = "color"
    dpi: int = 200
    jpeg_quality: int = 75
    page_width_mm: float = 210.0
    page_height_mm: float = 297.0
    deskew: bool = True
    drop_blank_pages: bool = True
    auto_color: bool = True
    pdfa: bool = True
    max_page_kb: int = 1024
    max_file_mb: int = 20
    options: dict[str, OptionValue] = field(default_factory=dict)
    presets: dict[str, Preset] = field(default_factory=dict)
    sim: SimFeeder = field(default_factory=SimFeeder)


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
class UpsSim:
    """A scripted power cut for demos: mains for a while, then the battery runs down."""

    outage_after: float = 60.0  # seconds on mains before the cut; 0: never
    outage_seconds: float = 600.0  # how long the cut lasts
    runtime: float = 900.0  # battery runtime from full, seconds


@dataclass(frozen=True)
class Ups:
    name: str = "ups"
    driver: Literal["nut", "megatec", "sim"] = "sim"
    interval: float = 5.0
    timeout: float = 3.0
    # nut: the UPS as upsd serves it
    host: str = "127.0.0.1"
    port: int = 3493
    ups: str = "ups"
    login: str = ""
    password: str = ""
    # megatec: a serial UPS speaking Q1
    device: str = ""
    baudrate: int = 2400
    battery_cells: int = 12  # 2 V lead-acid cells in the pack (24 V = 12)
    cell_empty_volts: float = 1.75
    cell_full_volts: float = 2.25
    sim: UpsSim = field(default_factory=UpsSim)


@dataclass(frozen=True)
class Power:
    """What the service does when the UPS says the battery is nearly empty (OB LB, or FSD)."""

    shutdown_command: str = ""  # run once when critical; empty: leave shutdown to upsmon


@dataclass(frozen=True)
class Modem:
    name: str = "4g"
    driver: Literal["hilink", "at", "sim"] = "sim"
    interval: float = 15.0
    timeout: float = 5.0
    # hilink: the router's web API
    url: str = "http://192.168.8.1/"
    username: str = "admin"
    password: str = ""
    # at: a USB modem's serial command port
    device: str = ""
    baudrate: int = 115200
    reconnect_after: float = 0.0  # seconds without a link before redialling; 0: never


@dataclass(frozen=True)
class Printer:
    name: str = "mfp"
    driver: Literal["ipp", "sim"] = "sim"
    interval: float = 30.0
    timeout: float = 10.0
    uri: str = ""  # ipp://host:631/ipp/print, or a CUPS queue ipp://localhost:631/printers/NAME
    toner_low_percent: int = 15


@dataclass(frozen=True)
class System:
    driver: Literal["psutil", "sim"] = "psutil"
    interval: float = 10.0
    temp_warning: float = 70.0
    temp_fault: float = 80.0
    disk_warning_mb: int = 1024
    disk_path: Path | None = None  # the filesystem to watch; default: storage.root


@dataclass(frozen=True)
class Usb:
    """A USB device whose presence gives "unplugged" a precise meaning (scanners, printers)."""

    name: str
    id: str  # vendor:product in hex, as lsusb shows it: "04c5:132e"
    driver: Literal["pyusb", "sim"] = "pyusb"
    interval: float = 5.0


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
class Log:
    level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True)
class Config:
    kit: Kit
    storage: Storage
    scanner: list[Scanner] = field(default_factory=list)
    log: Log = field(default_factory=Log)
    hot_folder: HotFolder | None = None
    ocr: Ocr = field(default_factory=Ocr)
    ups: list[Ups] = field(default_factory=list)
    power: Power = field(default_factory=Power)
    modem: list[Modem] = field(default_factory=list)
    printer: list[Printer] = field(default_factory=list)
    system: System = field(default_factory=System)
    usb: list[Usb] = field(default_factory=list)
    receipt_printer: list[ReceiptPrinter] = field(default_factory=list)
    receipts: Receipts = field(default_factory=Receipts)
    mqtt: Mqtt = field(default_factory=Mqtt)
    web: Web = field(default_factory=Web)
    path: Path = Path()

    @property
    def runtime_dir(self) -> Path:
        """Where the service keeps its device snapshot and power flag (default: root/run)."""
        return self.storage.runtime_dir or self.storage.root / "run"

    def importer(self) -> Scanner:
        """The scanner entry `edge import` uses: the first with driver "files"."""
        return next(s for s in self.scanner if s.driver == "files")

    def scanner_named(self, name: str) -> Scanner:
        for s in self.scanner:
            if s.name == name:
                return s
        names = ", ".join(s.name for s in self.scanner) or "none configured"
        raise ConfigError(
            f"unknown scanner {name!r} (configured: {names})",
            vi=f"Không có máy quét tên {name!r}",
        )


IMPORTER = Scanner(name="import", driver="files", source="adf")


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
    if not any(s.driver == "files" for s in cfg.scanner):  # imports work out of the box
        cfg = dataclasses.replace(cfg, scanner=[*cfg.scanner, IMPORTER])
    return cfg


def exposed_secrets(cfg: Config) -> tuple[str, str] | None:
    """What is wrong and the fix, when the config holds passwords or their hashes and every user
    of the machine may read it."""
    keys = [f"{kind}[{i}].password" for kind in ("ups", "modem")
            for i, d in enumerate(getattr(cfg, kind)) if d.password]
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
    _validate_devices(cfg, bad)
    _validate_mqtt(cfg.mqtt, bad)
    _validate_web(cfg.web, bad)
    seen: set[str] = set()
    for i, s in enumerate(cfg.scanner):
        key = f"scanner[{i}]"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", s.name):
            raise bad(f"{key}.name", "must be 1-32 letters, digits, '-' or '_'")
        if s.name in seen:
            raise bad(f"{key}.name", f"duplicate scanner name {s.name!r}")
        seen.add(s.name)
        if s.driver == "sane" and not s.device:
            raise bad(f"{key}.device", "required for driver 'sane' (see `scanimage -L`)")
        for button, preset in s.buttons.items():
            if preset and preset not in s.presets:
                raise bad(f"{key}.buttons.{button}", f"no preset {preset!r} in this scanner")
        for pname, p in [("", None), *s.presets.items()]:
            where = f"{key}.presets.{pname}" if pname else key
            dpi = (p.dpi if p else None) or s.dpi
            q = (p.jpeg_quality if p else None) or s.jpeg_quality
            if not 50 <= dpi <= 1200:
                raise bad(f"{where}.dpi", f"{dpi} is outside 50..1200")
            if not 10 <= q <= 95:
                raise bad(f"{where}.jpeg_quality", f"{q} is outside 10..95")
            kb = (p.max_page_kb if p else None) or s.max_page_kb
            if kb < 50:
                raise bad(f"{where}.max_page_kb", f"{kb} is below 50")
            mb = (p.max_file_mb if p else None) or s.max_file_mb
            if mb * 1024 < kb:
                raise bad(f"{where}.max_file_mb", f"{mb} MB is less than one page ({kb} KB)")


def _validate_devices(cfg: Config, bad: typing.Callable[[str, str], ConfigError]) -> None:
    required = {("ups", "megatec"): "device", ("modem", "at"): "device",
                ("printer", "ipp"): "uri"}
    for kind in ("ups", "modem", "printer", "usb"):
        names: set[str] = set()
        for i, d in enumerate(getattr(cfg, kind)):
            key = f"{kind}[{i}]"
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", d.name):
                raise bad(f"{key}.name", "must be 1-32 letters, digits, '-' or '_'")
            if d.name in names:
                raise bad(f"{key}.name", f"duplicate {kind} name {d.name!r}")
            names.add(d.name)
            if d.interval < 0.5:
                raise bad(f"{key}.interval", "must be at least 0.5 seconds")
            field_ = required.get((kind, d.driver))
            if field_ and not getattr(d, field_):
                raise bad(f"{key}.{field_}", f"required for driver {d.driver!r}")
    ids = [(f"usb[{i}].id", u.id) for i, u in enumerate(cfg.usb)]
    ids += [(f"scanner[{i}].usb_id", s.usb_id) for i, s in enumerate(cfg.scanner) if s.usb_id]
    for key, value in ids:
        if not re.fullmatch(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}", value):
            raise bad(key, f"{value!r} is not vendor:product in hex, like 04c5:132e")
    for i, ups in enumerate(cfg.ups):
        if not 0 < ups.cell_empty_volts < ups.cell_full_volts:
            raise bad(f"ups[{i}].cell_empty_volts", "must be above 0 and below cell_full_volts")


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
        try:
            if f is not None:
                f.open("rb").close()
        except OSError as e:
            raise bad(f"web.{key}", f"{f}: cannot read it ({e.strerror}); see docs/operations.md "
                      "(HTTPS) for where the files go and their owner and mode") from None


def _receipt_printer(value: Any, key: str, path: Path) -> ReceiptPrinter:
    """A `[[receipt_printer]]`: its `transport` first, then that transport's settings class,
    which takes only its own keys and checks them."""
    transport = value.get("transport", "sim") if isinstance(value, dict) else "sim"
    try:
        cls = receipt_transport(transport)
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


def _build(tp: Any, value: Any, key: str, path: Path) -> Any:
    """Convert parsed TOML into `tp`, refusing unknown keys and wrong types."""

    def bad(why: str) -> ConfigError:
        return ConfigError(f"{path}: {key or 'top level'}: {why}")

    origin = typing.get_origin(tp)
    if tp is ReceiptPrinter:
        return _receipt_printer(value, key, path)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise bad(f"expected a table, got {type(value).__name__}")
        hints = typing.get_type_hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp)}
        for k in value:
            if k not in fields:
                raise bad(f"unknown key {k!r} (allowed: {', '.join(sorted(fields))})")
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
