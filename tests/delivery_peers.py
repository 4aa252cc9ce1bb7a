"""Real servers for the delivery tests, on loopback ports, each in a private folder.

- `SshServer`: OpenSSH's sshd with a host key and a user key made here, `internal-sftp`, key
  login only (as the user running the tests; root needs `PermitRootLogin prohibit-password`).
  sshd insists on /run/sshd (its privilege separation dir) existing.
- `WebdavServer`: `rclone serve webdav` with a user and password (a plain WebDAV server that
  computes no checksums, like most NAS boxes: the kit reads files back).
- `SmbServer`: Samba's smbd with a private smb.conf, its own private/lock/state dirs and a
  passdb made with `smbpasswd -c`, one share; root only (smbd wants to be root), else skipped.
- `S3Server`: moto's S3 server (`moto[server]`, a test extra; rclone 1.60 has no `serve s3`) with
  signatures checked: an IAM user and its access key are made before moto is told to check every
  request, so a wrong secret is refused as by MinIO. moto keeps its objects in memory, so the
  kit reaches it through a `socat` front: stopping the "server" stops the front and every
  connection it carries (the kit sees the server go away mid-transfer), and the objects stay.
Each can be stopped and started again on the same port (a server that goes away mid-transfer).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from .peers import PeerError, free_port, stop, wait_until

SSHD = "/usr/sbin/sshd"
SMBD = "/usr/sbin/smbd"
PASSWORD = "s3cret-pass"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (a server's per-connection children, even those that called
    setsid and left its process group)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [c for c, p in parents.items() if p == parent]
        out += kids
        todo += kids
    return out


def _secret_file(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


class Server:
    """A server process on `self.port`: start(), stop(), start() again."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def start(self) -> None:
        with open(self.dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=self.env(),
                                         start_new_session=True)
        wait_until(lambda: _listening(self.port) or self.proc.poll() is not None, 20,
                   f"{self.command()[0]} on port {self.port}")
        if self.proc.poll() is not None:
            raise PeerError((self.dir / "server.log").read_text(errors="replace"))

    def stop(self) -> None:
        """Stop the server and every connection it serves (sshd and smbd fork one per client)."""
        if self.proc is not None and self.proc.poll() is None:
            for pid in [self.proc.pid, *descendants(self.proc.pid)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        stop(self.proc)
        self.proc = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def url(self) -> str:
        raise NotImplementedError

    def credentials(self, password: str = "") -> Path:
        raise NotImplementedError

    def target(self, password: str = "") -> dict[str, str]:
        """The `[[delivery]]` keys for this server (with `password`: a wrong login)."""
        creds = self.credentials(password) if password else self.credentials()
        return {"url": self.url(), "credentials": str(creds)}

    def files(self) -> Path:
        """A local folder holding what the server holds (to look at and `sha256sum -c`)."""
        return Path(getattr(self, "dest", self.dir / "dest"))

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SshServer(Server):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.root = workdir / "dest"
        self.root.mkdir(exist_ok=True)
        self.user = getpass.getuser()
        self.key = workdir / "userkey"
        for key in (workdir / "hostkey", self.key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                           check=True)
        shutil.copy(workdir / "userkey.pub", workdir / "authorized_keys")
        (workdir / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {workdir / 'hostkey'}\n"
            f"AuthorizedKeysFile {workdir / 'authorized_keys'}\nPidFile {workdir / 'sshd.pid'}\n"
            "StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "Subsystem sftp internal-sftp\nLogLevel ERROR\n")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)

    def command(self) -> list[str]:
        return [SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config")]

    def url(self) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{self.root}"

    def credentials(self, password: str = "") -> Path:
        """A key the server knows, or with any `password` one it does not (a wrong login)."""
        key = self.key
        if password:
            key = self.dir / "otherkey"
            if not key.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                               check=True)
        return _secret_file(self.dir / "sftp.toml", f'key_file = "{key}"\n')


class WebdavServer(Server):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.root = workdir / "dest"
        self.root.mkdir(exist_ok=True)

    def command(self) -> list[str]:
        return ["rclone", "serve", "webdav", str(self.root), "--addr", f"127.0.0.1:{self.port}",
                "--config", "/dev/null"]

    def env(self) -> dict[str, str]:  # the login in the environment, not on a command line
        return {**os.environ, "RCLONE_USER": "office", "RCLONE_PASS": PASSWORD}

    def url(self) -> str:
        return f"webdav://127.0.0.1:{self.port}/"

    def credentials(self, password: str = PASSWORD) -> Path:
        return _secret_file(self.dir / "webdav.toml",
                            f'user = "office"\npassword = "{password}"\n')


class SmbServer(Server):
    SHARE = "hoso"

    def __init__(self, workdir: Path) -> None:
        if os.geteuid() != 0 or not Path(SMBD).exists():
            raise PeerError("smbd needs root and the samba package")
        super().__init__(workdir)
        self.root = workdir / "share"
        self.root.mkdir(exist_ok=True)
        self.user = getpass.getuser()
        for d in ("private", "lock", "state", "cache", "pid", "ncalrpc"):
            (workdir / d).mkdir(exist_ok=True)
        conf = workdir / "smb.conf"
        conf.write_text(
            "[global]\n"
            f"  smb ports = {self.port}\n  interfaces = lo\n  bind interfaces only = yes\n"
            f"  private dir = {workdir / 'private'}\n  lock directory = {workdir / 'lock'}\n"
            f"  state directory = {workdir / 'state'}\n  cache directory = {workdir / 'cache'}\n"
            f"  pid directory = {workdir / 'pid'}\n  ncalrpc dir = {workdir / 'ncalrpc'}\n"
            f"  passdb backend = tdbsam:{workdir / 'private' / 'passdb.tdb'}\n"
            "  server role = standalone server\n  disable spoolss = yes\n"
            "  load printers = no\n  printing = bsd\n  printcap name = /dev/null\n"
            "  server min protocol = SMB2\n  log level = 0\n"
            f"  log file = {workdir / 'smbd.log'}\n\n"
            f"[{self.SHARE}]\n  path = {self.root}\n  read only = no\n"
            f"  valid users = {self.user}\n")
        self.conf = conf
        subprocess.run(["smbpasswd", "-c", str(conf), "-a", "-s", self.user],
                       input=f"{PASSWORD}\n{PASSWORD}\n", text=True, check=True,
                       capture_output=True)

    def command(self) -> list[str]:
        return [SMBD, "--foreground", "--no-process-group", "--debug-stdout",
                f"--configfile={self.conf}"]

    def url(self) -> str:
        return f"smb://127.0.0.1:{self.port}/{self.SHARE}/kit"

    def credentials(self, password: str = PASSWORD) -> Path:
        return _secret_file(self.dir / "smb.toml",
                            f'user = "{self.user}"\npassword = "{password}"\n')

    @property
    def dest(self) -> Path:
        return self.root / "kit"


class S3Server(Server):
    BUCKET = "hoso"
    REGION = "us-east-1"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.moto_port = free_port()
        self.moto: subprocess.Popen[bytes] | None = None
        self.key_id = self.secret = ""

    def command(self) -> list[str]:  # the front the kit talks to
        return ["socat", f"TCP-LISTEN:{self.port},bind=127.0.0.1,reuseaddr,fork",
                f"TCP:127.0.0.1:{self.moto_port}"]

    def start(self) -> None:
        if self.moto is None:
            try:
                self._start_moto()
            except BaseException:
                stop(self.moto)
                self.moto = None
                raise
        super().start()

    def _start_moto(self) -> None:
        with open(self.dir / "moto.log", "ab") as log:
            self.moto = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                 str(self.moto_port)], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: _listening(self.moto_port) or self.moto.poll() is not None, 60,
                   f"moto on port {self.moto_port}")
        import boto3  # moto[server]'s own dependency: only the tests need it

        endpoint = f"http://127.0.0.1:{self.moto_port}"
        anyone = {"endpoint_url": endpoint, "region_name": self.REGION,
                  "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        iam = boto3.client("iam", **anyone)
        iam.create_user(UserName="kit")
        iam.put_user_policy(UserName="kit", PolicyName="s3", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="kit")["AccessKey"]
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        boto3.client("s3", **anyone).create_bucket(Bucket=self.BUCKET)
        urllib.request.urlopen(urllib.request.Request(  # from now on every request is checked
            endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
            headers={"Content-Type": "text/plain"}), timeout=30).read()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        stop(self.moto)
        self.moto = None

    def url(self) -> str:
        return f"s3://{self.BUCKET}/kits"

    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def credentials(self, password: str = "") -> Path:
        """The kit's key, or with `password` the same key id with a wrong secret."""
        return _secret_file(self.dir / "s3.toml", f'access_key_id = "{self.key_id}"\n'
                            f'secret_access_key = "{password or self.secret}"\n')

    def target(self, password: str = "") -> dict[str, str]:
        return {**super().target(password), "endpoint": self.endpoint(), "region": self.REGION}

    def files(self) -> Path:
        """The bucket's objects under kits/, fresh in a local folder (to run sha256sum -c)."""
        import boto3

        mirror = self.dir / "mirror"
        shutil.rmtree(mirror, ignore_errors=True)
        mirror.mkdir()
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.moto_port}",
                          region_name=self.REGION, aws_access_key_id=self.key_id,
                          aws_secret_access_key=self.secret)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.BUCKET,
                                                                 Prefix="kits/"):
            for obj in page.get("Contents", []):
                local = mirror / obj["Key"].removeprefix("kits/")
                local.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(self.BUCKET, obj["Key"], str(local))
        return mirror
