"""The storage area on the SD card: atomic, durable, private file writes and the outbox layout.

Power is cut without warning, so every file is written to a temporary name, fsynced, renamed (or
hard-linked, to never overwrite) into place and its directory fsynced. Scans are personal data:
every file is 0600 and every directory 0700.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from edge.errors import StorageError

FILE_MODE = 0o600
DIR_MODE = 0o700


class Storage:
    """Paths under the storage root: `queue.db`, `spool/<job>/`, `outbox/<date>/`, `tmp/`."""

    def __init__(self, root: Path, min_free_mb: int = 100) -> None:
        self.root = root
        self.min_free = min_free_mb * 1024 * 1024
        self.db = root / "queue.db"
        self.spool = root / "spool"
        self.outbox = root / "outbox"
        self.tmp = root / "tmp"
        self.locks = root / "locks"

    def prepare(self) -> None:
        """Create the layout, private to the service; fail clearly if impossible."""
        try:
            os.umask(0o077)
            for d in (self.root, self.spool, self.outbox, self.tmp, self.locks):
                d.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(
                f"storage root {self.root} is not usable: {e.strerror}",
                vi="Không ghi được vào thư mục lưu trữ",
                hint="check storage.root in the config, its owner and permissions",
            ) from None

    def clear_tmp(self) -> None:
        """Remove temporaries left by a crash (only while holding the worker lock)."""
        for leftover in self.tmp.iterdir():
            leftover.unlink(missing_ok=True)

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def make_dirs(self, path: Path) -> None:
        """Create missing folders durably: each new entry is fsynced in its parent."""
        if path.is_dir():
            return
        self.make_dirs(path.parent)
        path.mkdir(mode=DIR_MODE, exist_ok=True)
        fsync_dir(path.parent)

    def job_spool(self, job_id: int) -> Path:
        return self.spool / f"{job_id:06d}"

    def check_free(self) -> None:
        """Refuse to start writing when the card is nearly full, before a page is half-written."""
        free = shutil.disk_usage(self.root).free
        if free < self.min_free:
            raise disk_full(self.root, free)

    def explain(self, e: Exception) -> StorageError:
        """The user-facing error for a failed write (qpdf's errors carry no errno)."""
        if isinstance(e, OSError):
            return storage_error(e, self.root)
        free = shutil.disk_usage(self.root).free
        if free < max(self.min_free, 1 << 20):
            return disk_full(self.root, free)
        return StorageError(f"cannot write the PDF: {e}",
                            vi="Không tạo được tệp PDF, hãy báo kỹ thuật viên",
                            hint="check the SD card (kernel log), then `edge finish JOB`")

    def write_sidecar(self, pdf: Path, sha256: str) -> None:
        """The PDF's `.sha256` file, atomically."""
        self.write_atomic(sidecar_path(pdf), sidecar_text(pdf, sha256))

    @contextlib.contextmanager
    def temp_file(self, suffix: str = "") -> Iterator[tuple[BinaryIO, Path]]:
        """A private temporary file under tmp/ (same filesystem as the outbox); removed on error."""
        fd, name = tempfile.mkstemp(dir=self.tmp, suffix=suffix)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as f:
                yield f, path
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def write_atomic(self, target: Path, data: bytes | BinaryIO) -> None:
        """Write bytes, or stream an open file in bounded memory, to `target` so that it is
        either absent or complete after a power cut."""
        try:
            with self.temp_file() as (f, tmp):
                if isinstance(data, bytes):
                    f.write(data)
                else:
                    data.seek(0)
                    shutil.copyfileobj(data, f, 1 << 20)
                f.flush()
                os.fsync(f.fileno())
            self.make_dirs(target.parent)
            os.replace(tmp, target)
            fsync_dir(target.parent)
        except OSError as e:
            raise storage_error(e, target) from None


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sidecar_path(pdf: Path) -> Path:
    return pdf.with_name(pdf.name + ".sha256")


def sidecar_text(pdf: Path, sha256: str) -> bytes:
    """`sha256sum -c` format, relative to the PDF's own directory."""
    return f"{sha256}  {pdf.name}\n".encode()


def disk_full(root: Path, free: int) -> StorageError:
    return StorageError(
        f"storage {root} is full ({free // (1024 * 1024)} MB free)",
        vi="Thẻ nhớ đã đầy. Hãy đánh dấu các hồ sơ đã nộp lên cổng để giải phóng chỗ, "
        "hoặc báo kỹ thuật viên.",
        hint="mark uploaded jobs (`edge uploaded`), run `edge purge`, or free space",
    )


def storage_error(e: OSError, path: Path) -> StorageError:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(path, 0)
    return StorageError(
        f"cannot write {path}: {e.strerror}",
        vi="Không ghi được tệp vào thẻ nhớ",
        hint="check the storage permissions and the SD card (kernel log)",
    )
