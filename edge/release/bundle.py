"""A release bundle, `edge-<version>-<arch>.tar`: wheels, install.sh, units, udev rules and
`manifest.json` (SHA-256 and size of every other file), signed with minisign.

Why minisign: one Debian package (minisign), Ed25519, a public key that is one line of base64 a
province can print in a config file, signatures whose key id names the wrong key when it is the
wrong one, and a signed "trusted comment" (the version). GPG would bring keyrings, expiry and trust
models for a commune technician to manage; signify-openbsd has the same crypto but no key ids in
its messages. The bundle is checked whole (signature, then every member against the manifest,
reading the tar without writing a byte) before anything is unpacked; unpacking checks again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from edge.errors import UpdateError

MANIFEST, SIGNATURE = "manifest.json", "manifest.json.minisig"
FORMAT = 1
VERSION = re.compile(r"^[0-9][0-9A-Za-z.+_-]{0,63}$")
ARCHES = ("amd64", "arm64")
CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    version: str
    arch: str
    files: dict[str, dict[str, object]]  # name -> {"sha256", "size", "mode"}


def name_of(version: str, arch: str) -> str:
    return f"edge-{version}-{arch}.tar"


def write(out: Path, version: str, arch: str, files: dict[str, Path], secret_key: Path) -> Path:
    """Make the bundle `out` from {name in the bundle: file}, signed with minisign's secret key
    (one made with `minisign -G -W`: no password, for a build machine that holds it)."""
    entries = {name: {"sha256": _sha256(path), "size": path.stat().st_size,
                      "mode": 0o755 if os.access(path, os.X_OK) else 0o644}
               for name, path in sorted(files.items())}
    manifest = json.dumps({"format": FORMAT, "version": version, "arch": arch,
                           "files": entries}, indent=1, sort_keys=True).encode()
    with tempfile.TemporaryDirectory() as tmp:
        m = Path(tmp, MANIFEST)
        m.write_bytes(manifest)
        _run(["minisign", "-S", "-s", str(secret_key), "-m", str(m), "-x", str(m) + ".minisig",
              "-t", f"edge {version} {arch}"], "cannot sign the manifest")
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
            for name in (MANIFEST, SIGNATURE):
                _add(tar, name, Path(tmp, name).read_bytes(), 0o644)
            for name, path in sorted(files.items()):
                tar.add(path, name, recursive=False, filter=_plain)
    return out


def verify(bundle: Path, public_key: str) -> Manifest:
    """The bundle's manifest once its signature and every member are checked; nothing is
    written anywhere but a private temporary folder holding the manifest and its signature."""
    try:
        with tarfile.open(bundle, "r:") as tar:
            members = {m.name: m for m in tar.getmembers()}
            for special in (MANIFEST, SIGNATURE):
                if special not in members or not members[special].isfile():
                    raise _refused(f"it has no {special}", "thiếu bản kê hoặc chữ ký")
            text = tar.extractfile(members[MANIFEST]).read()  # type: ignore[union-attr]
            _check_signature(text, tar.extractfile(members[SIGNATURE]).read(),  # type: ignore[union-attr]
                             public_key)
            manifest = _parse(text)
            _check_members(tar, members, manifest)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise _refused(f"it is not a readable tar file ({e})", "tệp không đọc được") from None
    return manifest


def extract(bundle: Path, manifest: Manifest, dest: Path) -> None:
    """Unpack a verified bundle into the new folder `dest`, checking each file again as it is
    written (the bundle could have changed since `verify`); on any mismatch `dest` is removed."""
    dest.mkdir(mode=0o755)
    try:
        with tarfile.open(bundle, "r:") as tar:
            for member in tar.getmembers():
                if member.name in (MANIFEST, SIGNATURE):
                    continue
                entry = manifest.files[member.name]
                target = dest / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             int(entry["mode"]))  # type: ignore[call-overload]
                with os.fdopen(fd, "wb") as f:
                    digest = hashlib.sha256()
                    for chunk in _chunks(tar, member):
                        digest.update(chunk)
                        f.write(chunk)
                if digest.hexdigest() != entry["sha256"]:
                    raise _refused(f"{member.name} changed while it was unpacked",
                                   "tệp bị thay đổi trong khi giải nén")
            (dest / MANIFEST).write_bytes(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
    except BaseException:
        _remove(dest)
        raise


def _check_signature(manifest: bytes, signature: bytes, public_key: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        m, s = Path(tmp, MANIFEST), Path(tmp, SIGNATURE)
        m.write_bytes(manifest)
        s.write_bytes(signature)
        r = subprocess.run(["minisign", "-V", "-q", "-P", public_key, "-m", str(m), "-x", str(s)],
                           capture_output=True, text=True)
    if r.returncode != 0:
        why = (r.stderr or r.stdout).strip().splitlines()
        detail = why[-1] if why else "minisign refused it"
        if "key id" in detail:
            raise _refused(f"it is signed with another key than [update] public_key ({detail})",
                           "gói được ký bằng khóa khác với khóa của tỉnh/xã")
        raise _refused(f"its signature does not match its manifest ({detail})",
                       "chữ ký không khớp: gói đã bị sửa hoặc hỏng")


def _parse(text: bytes) -> Manifest:
    try:
        data = json.loads(text)
        assert data["format"] == FORMAT and VERSION.match(data["version"])
        assert data["arch"] in ARCHES and isinstance(data["files"], dict)
        return Manifest(data["version"], data["arch"], data["files"])
    except (ValueError, KeyError, TypeError, AssertionError):
        raise _refused("its manifest is not one this version understands",
                       "bản kê của gói không đúng định dạng") from None


def _check_members(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo],
                   manifest: Manifest) -> None:
    listed = set(manifest.files) | {MANIFEST, SIGNATURE}
    if len(members) != len(tar.getmembers()) or set(members) != listed:
        extra = sorted(set(members) ^ listed)[:3]
        raise _refused(f"its files do not match its manifest ({', '.join(extra)})",
                       "các tệp trong gói không khớp bản kê")
    for name in manifest.files:
        member = members[name]
        path = PurePosixPath(name)
        if not member.isfile() or path.is_absolute() or ".." in path.parts:
            raise _refused(f"{name} is not a plain file inside the bundle",
                           "gói chứa một mục không phải tệp thường")
        digest = hashlib.sha256()
        for chunk in _chunks(tar, member):
            digest.update(chunk)
        entry = manifest.files[name]
        if member.size != entry["size"] or digest.hexdigest() != entry["sha256"]:
            raise _refused(f"{name} does not match its SHA-256 in the manifest",
                           "một tệp trong gói đã bị sửa hoặc hỏng")


def _chunks(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Iterator[bytes]:
    f = tar.extractfile(member)
    assert f is not None
    while chunk := f.read(CHUNK):
        yield chunk


def _refused(why: str, vi_why: str) -> UpdateError:
    return UpdateError(f"the update bundle was refused: {why}; nothing was installed. Use a "
                       "bundle from the province or commune server, copied again",
                       vi=f"Gói cập nhật bị từ chối ({vi_why}); chưa cài gì. Hãy chép lại gói "
                          "từ máy chủ của xã hoặc tỉnh.")


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    return info


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _run(argv: list[str], what: str) -> None:
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise UpdateError(f"{what}: {r.stderr.strip()}")


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
