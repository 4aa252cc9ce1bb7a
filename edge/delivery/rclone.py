"""rclone, driven from Python: its config written by the kit, one `rclone rcd` per target.

rclone speaks every protocol a commune office has (SFTP, WebDAV, SMB, S3, a local disk); we never
write a protocol by hand. One long-lived `rclone rcd` per target (its own `--bwlimit`) keeps the
connection open across files, where a process per file would cost a new SSH handshake each time.
Its config is written 0600 in the runtime dir with the passwords obscured as rclone wants them;
the rc API's login is passed in the environment, never on a command line `ps` shows, and the
process dies with the thread that started it (a SIGKILLed service leaves no rclone uploading).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import hashlib
import http.client
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.delivery.settings import Delivery
from edge.errors import EdgeError
from edge.pipeline.storage import sha256_file

log = logging.getLogger(__name__)

RCLONE = "rclone"
START_SECONDS = 15.0
PR_SET_PDEATHSIG = 1
IN_USE = re.compile(r"share access flags are incompatible|sharing violation|being used",
                    re.IGNORECASE)


class TransferError(EdgeError):
    """The destination refused or could not be reached (retried with backoff)."""


@dataclass(frozen=True)
class Remote:
    """A target as rclone names it: `fs` is `<section>:<root path>`."""

    target: Delivery
    fs: str


def available() -> bool:
    return shutil.which(RCLONE) is not None


def environment(**extra: str) -> dict[str, str]:
    """The service's environment without what would make rclone ignore the kit's own config:
    AWS_* (the S3 SDK reads AWS_CA_BUNDLE, AWS_PROFILE... even with keys in the config) and
    RCLONE_* (any rclone flag)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    return keep | extra


def obscure(secret: str) -> str:
    """rclone's reversible obscuring of a password in its config (read from stdin, not argv)."""
    done = subprocess.run([RCLONE, "obscure", "-"], input=secret.encode(), capture_output=True,
                          timeout=30, check=False, env=environment())
    if done.returncode != 0:
        raise TransferError("rclone obscure failed: " + done.stderr.decode(errors="replace"))
    return done.stdout.decode().strip()


def section(target: Delivery) -> str:
    return f"edge-{target.name}"


def config_text(target: Delivery) -> tuple[str, str]:
    """(rclone config sections, the fs to use) for one target."""
    where, creds, name = target.where, target.secrets(), section(target)
    opts: dict[str, str] = {}
    if where.scheme == "file":
        opts = {"type": "local"}
    elif where.scheme == "sftp":
        opts = {"type": "sftp", "host": where.host, "user": where.user or creds.get("user", "")}
        opts |= {"port": str(where.port)} if where.port else {}
        opts |= {k: creds[k] for k in ("key_file", "known_hosts_file") if k in creds}
    elif where.scheme == "webdav":
        port = f":{where.port}" if where.port else ""
        opts = {"type": "webdav", "url": f"{'https' if where.tls else 'http'}://{where.host}{port}",
                "vendor": target.webdav_vendor, "user": creds.get("user", "")}
    elif where.scheme == "smb":
        opts = {"type": "smb", "host": where.host, "user": where.user or creds.get("user", "")}
        opts |= {"port": str(where.port)} if where.port else {}
        opts |= {"domain": creds["domain"]} if "domain" in creds else {}
    elif where.scheme == "s3":
        opts = {"type": "s3", "provider": "Minio", "endpoint": target.endpoint,
                "access_key_id": creds.get("access_key_id", ""),
                "secret_access_key": creds.get("secret_access_key", ""),
                "no_head": "true"}  # nor after: the kit asks for the MD5 itself
        opts |= {"region": target.region} if target.region else {}
    if creds.get("password"):
        opts["pass"] = obscure(creds["password"])
    text = _section(name, opts)
    fs = f"{name}:{where.path}"
    if target.encrypt and target.key_file is not None:
        key = target.key_file.read_text(encoding="utf-8").strip()
        text += _section(name + "-crypt", {
            "type": "crypt", "remote": fs, "filename_encryption": "standard",
            "directory_name_encryption": "true", "password": obscure(key)})
        fs = f"{name}-crypt:"
    return text, fs


def _section(name: str, opts: dict[str, str]) -> str:
    for value in opts.values():
        if "\n" in value:
            raise TransferError(f"[{name}]: a value holds a line break")
    return f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in opts.items()) + "\n"


def write_config(target: Delivery, folder: Path) -> Remote:
    """Write the target's rclone config, 0600, in `folder` (the runtime dir)."""
    text, fs = config_text(target)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = config_path(target, folder)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return Remote(target, fs)


def config_path(target: Delivery, folder: Path) -> Path:
    return folder / f"rclone-{target.name}.conf"


def _die_with_parent() -> None:
    """In the child: be killed when the thread that started us ends (even by SIGKILL)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Rcd:
    """One `rclone rcd` for one target, started on first use; `close()` stops it."""

    def __init__(self, target: Delivery, folder: Path) -> None:
        self.target = target
        self.folder = folder
        self.remote: Remote | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.host = ""
        self.auth = ""
        self._local = threading.local()  # each thread's connection to the rcd
        self._hashes: list[str] | None = None
        self._made: set[str] = set()  # folders made since started
        self.owner = 0  # the thread that started it: it dies with that thread

    @property
    def atomic(self) -> bool:
        """Whether an upload is invisible until whole and checked by the server itself (S3,
        not through crypt)."""
        return self.target.where.scheme == "s3" and not self.target.encrypt

    @property
    def cheap_requests(self) -> bool:
        """Whether more requests at once cost no new login and pay: WebDAV (HTTP's pooled
        connections; ~11 requests a file) or a local disk. For SFTP and SMB each further
        request in flight opens another connection (a handshake, and a server process: sshd
        and smbd fork one per connection): there more at once cost more than they save; S3
        (one PUT a file) gained nothing (measured with bench/delivery.py)."""
        return self.target.where.scheme in ("webdav", "file")

    @property
    def local(self) -> Path | None:
        """The folder of a plain local disk target (its copies are read here directly)."""
        where = self.target.where
        return Path(where.path) if where.scheme == "file" and not self.target.encrypt else None

    @property
    def per_folder(self) -> bool:
        """Whether each folder gets its own fs (see `at`)."""
        return self.target.where.scheme == "webdav"

    @property
    def fs(self) -> str:
        self.running()
        assert self.remote is not None
        return self.remote.fs

    def running(self) -> None:
        """The rcd is up, or is started again here if this is the thread that started it; in
        another thread (a transfer of a pass) a dead rcd fails the file, sent at the next pass:
        an rcd started there would be killed when that thread ends (PR_SET_PDEATHSIG)."""
        if self.proc is not None and self.proc.poll() is None:
            return
        if self.proc is not None and self.owner != threading.get_ident():
            raise TransferError("rclone stopped during the pass; it is started again at the "
                                "next pass", vi="Chương trình gửi tệp (rclone) bị dừng; tệp sẽ "
                                                "được gửi lại ở lần sau.")
        self.start()

    def start(self) -> None:
        """Start the rcd if it is not running, from a thread that lives as long as it should."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self.owner = threading.get_ident()
        self.remote = write_config(self.target, self.folder)
        port, user, password = _free_port(), "edge", secrets.token_urlsafe(24)
        t = self.target
        args = [RCLONE, "rcd", "--config", str(config_path(t, self.folder)),
                "--rc-addr", f"127.0.0.1:{port}", "--contimeout", f"{t.timeout_seconds:.0f}s",
                "--timeout", f"{t.timeout_seconds:.0f}s", "--low-level-retries", "2",
                "--log-level", "ERROR", "--ignore-checksum",  # we check, once, ourselves
                "--rc-serve"]  # reading a file back: a GET of /[fs]/path
        if t.bwlimit:
            args += ["--bwlimit", t.bwlimit]
        if self.atomic:  # uploads go to their names, always (re)written: no HEAD before
            args += ["--no-check-dest"]
        env = environment(RCLONE_RC_USER=user, RCLONE_RC_PASS=password)
        self.proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        self.host = f"127.0.0.1:{port}"
        self.url = f"http://{self.host}/"
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                self.call("rc/noopauth", timeout=2)
                return
            except TransferError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.01)
        self.close()
        raise TransferError("rclone rcd did not start; check `rclone version` and the config",
                            vi="Không khởi động được chương trình gửi tệp (rclone)")

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        self._hashes = None
        self._made = set()

    def call(self, command: str, timeout: float | None = None, **params: Any) -> dict[str, Any]:
        """One rc call; TransferError with rclone's own message when it fails."""
        try:
            with self._request("POST", command, json.dumps(params).encode(), timeout) as resp:
                body = resp.read()
                if resp.status != 200:
                    try:
                        why = str(json.loads(body).get("error", resp.reason))
                    except (ValueError, AttributeError):
                        why = str(resp.reason)
                    raise TransferError(why)
                return dict(json.loads(body or b"{}"))
        except (OSError, ValueError, http.client.HTTPException) as e:  # the rcd died or hangs:
            if command != "rc/noopauth":  # start a new one next time
                self.close()
            raise TransferError(f"rclone did not answer: {e}") from None

    @contextlib.contextmanager
    def _request(self, method: str, path: str, body: bytes | None,
                 timeout: float | None) -> Iterator[http.client.HTTPResponse]:
        """A request over this thread's kept-alive connection to the rcd (a new TCP connection
        per call cost both sides more CPU than most calls themselves); a connection the rcd
        closed while idle is opened again once."""
        headers = {"Authorization": self.auth, "Content-Type": "application/json"}
        for fresh in (False, True):
            conn = self._connection(fresh, timeout or self._timeout())
            reused = conn.sock is not None
            try:
                conn.request(method, "/" + path, body=body, headers=headers)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                stale = isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError,
                                       ConnectionResetError))
                if fresh or not (reused and stale):
                    raise
                continue
            try:
                yield resp
            finally:
                with contextlib.suppress(OSError, http.client.HTTPException):
                    resp.read()  # what the caller left: the connection is reused
            return

    def _connection(self, fresh: bool, timeout: float) -> http.client.HTTPConnection:
        here = self._local
        if fresh or getattr(here, "url", "") != self.url:
            if getattr(here, "conn", None) is not None:
                here.conn.close()
            here.conn, here.url = http.client.HTTPConnection(self.host), self.url
        conn: http.client.HTTPConnection = here.conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _timeout(self) -> float:
        return self.target.timeout_seconds * 3 + 3600.0  # rclone's own timeouts come first

    def hashes(self) -> list[str]:
        """The hash types the destination computes itself (empty: only a read-back checks)."""
        if self._hashes is None:
            info = self.call("operations/fsinfo", fs=self.fs)
            self._hashes = [str(h) for h in info.get("Hashes") or []]
        return self._hashes

    def at(self, remote: str) -> tuple[str, str]:
        """(an fs, the file's path in it). rclone's WebDAV paces the requests to one fs, 10 ms
        apart one at a time, and a file takes ~10 of them (checks, folder, upload, read-back,
        rename): each folder's own fs lets `transfers` dossiers go at once, over the same
        pooled HTTP connections. Elsewhere one fs: SFTP and SMB open connections per fs."""
        folder, _, name = remote.rpartition("/")
        fs = self.fs
        if not folder or not self.per_folder:
            return fs, remote
        return fs + (folder if fs.endswith(":") else "/" + folder), name

    def mkdir(self, folder: str) -> None:
        """Make a folder and its parents (before files go in at once through several folders'
        fs: their mkdirs of a shared parent would race; one fs makes them in turn). Made once
        per rclone: a second batch of the same pass (the manifests) asks nothing."""
        if folder not in self._made:
            self.call("operations/mkdir", fs=self.fs, remote=folder)
            self._made.add(folder)

    def copy_in(self, local: Path, remote: str) -> None:
        """Upload to `remote`, overwriting whatever is there without asking first (a temporary
        name of ours, or S3's atomic PUT): one request less per file (a PROPFIND, a stat)."""
        fs, name = self.at(remote)
        self.call("operations/copyfile", srcFs=str(local.parent), srcRemote=local.name,
                  dstFs=fs, dstRemote=name, _config={"NoCheckDest": True})

    def sha256(self, remote: str) -> str:
        """Read the file back from the destination and hash it as it streams (rcd's
        `--rc-serve`: nothing written here)."""
        if self.local is not None:  # a local disk: read its copy directly
            return _hash_path(self.local / remote)
        fs, name = self.at(remote)
        digest = hashlib.sha256()
        try:
            with self._request("GET", urllib.parse.quote(f"[{fs}]/{name}", safe="/:"), None,
                               None) as resp:
                if resp.status != 200:
                    raise TransferError(f"{remote}: reading it back failed ({resp.status} "
                                        f"{resp.reason})")
                while block := resp.read(1 << 20):
                    digest.update(block)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise TransferError(f"rclone did not answer: {e}") from None
        return digest.hexdigest()

    def move(self, old: str, new: str) -> None:
        """Rename on the server. A Windows share refuses it while anyone holds the file open
        (an antivirus scanning the new file; rclone closing the read-back an instant after the
        last byte): that is tried again for a few seconds."""
        (src, old_name), (dst, new_name) = self.at(old), self.at(new)
        for wait in (0.2, 0.5, 1.0, 2.0, 4.0, 0.0):
            try:
                self.call("operations/movefile", srcFs=src, srcRemote=old_name, dstFs=dst,
                          dstRemote=new_name)
                return
            except TransferError as e:
                if not wait or not IN_USE.search(e.message):
                    raise
                time.sleep(wait)

    def stat(self, remote: str, hash_type: str = "") -> dict[str, Any] | None:
        opt: dict[str, Any] = {"showHash": True, "hashTypes": [hash_type]} if hash_type else {}
        fs, name = self.at(remote)
        item = self.call("operations/stat", fs=fs, remote=name, opt=opt).get("item")
        return dict(item) if item else None

    def delete(self, remote: str) -> None:
        """Delete a file; one already gone is fine."""
        if self.stat(remote) is not None:
            self.call("operations/deletefile", fs=self.fs, remote=remote)

    def rmdir(self, remote: str) -> None:
        """Remove an empty folder; one that is not empty or gone stays as it is."""
        with contextlib.suppress(TransferError):
            self.call("operations/rmdir", fs=self.fs, remote=remote)


def _hash_path(path: Path) -> str:
    """SHA-256 of a file (OpenSSL's, several times faster than rclone's own here)."""
    try:
        return sha256_file(path)
    except OSError as e:
        raise TransferError(f"{path.name}: reading it back failed ({e.strerror})") from None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
