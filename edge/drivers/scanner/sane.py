"""SANE scanners through python-sane (fujitsu, epsonds, canon_dr, airscan, test, pnm...).

Backends name the same thing differently (`ADF Duplex`, `Duplex`, `Automatic Document Feeder`;
`Color`, `24bit Color`): settings are mapped from the values the device itself reports, and a
setting the device cannot do fails with the list of what it can.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import sane
from PIL import Image

from edge.drivers.scanner import buffers, sane_read
from edge.drivers.scanner.backend_threads import BackendThreads
from edge.drivers.scanner.base import Acquisition, Scanner, scan_error
from edge.drivers.scanner.settings import SaneSettings
from edge.errors import ConfigError, ScannerError

_init_lock = threading.Lock()
_initialised = False

# sane_strstatus() texts, as python-sane raises them, -> our status names
_STATUS_BY_TEXT = {
    "Document feeder out of documents": "NO_DOCS",
    "Document feeder jammed": "JAMMED",
    "Scanner cover is open": "COVER_OPEN",
    "Device busy": "DEVICE_BUSY",
    "Error during device I/O": "IO_ERROR",
    "Operation was cancelled": "CANCELLED",
    "Access to resource has been denied": "ABSENT",
    "Invalid argument": "ERROR",
}

_SOURCE_PATTERNS: dict[str, tuple[str, str]] = {
    # logical source -> (must match, must not match)
    "flatbed": (r"flatbed|normal|document table|platen", r"^$"),
    "adf-duplex": (r"duplex", r"^$"),
    "adf": (r"adf|feeder|automatic", r"duplex|back|rear"),
}
_MODE_PATTERNS = {
    "color": r"colou?r",
    "gray": r"gr[ae]y",
    "lineart": r"line ?art|binary|black|mono",
}


def ensure_init() -> None:
    global _initialised
    with _init_lock:
        if not _initialised:
            sane.init()
            _initialised = True


def status_of(error: Exception) -> str:
    return _STATUS_BY_TEXT.get(str(error), "ERROR")


def map_source(want: str, values: Sequence[str]) -> str:
    """The device's value for a logical source; ConfigError listing what the device offers."""
    found = _match_source(want, values)
    if found is None:
        offered = [s for s in _SOURCE_PATTERNS if _match_source(s, values)]
        raise ConfigError(
            f"source {want!r} is not offered by this scanner; it reports "
            f"{', '.join(values)} (valid settings: {', '.join(offered) or 'none'})",
            vi="Máy quét không hỗ trợ nguồn giấy đã chọn",
        )
    return found


def _match_source(want: str, values: Sequence[str]) -> str | None:
    yes, no = _SOURCE_PATTERNS[want]
    hits = [v for v in values if re.search(yes, v, re.I) and not re.search(no, v, re.I)]
    hits.sort(key=lambda v: "front" not in v.lower())
    return hits[0] if hits else None


def map_mode(want: str, values: Sequence[str], depths: Sequence[int]) -> tuple[str, int | None]:
    """The device's mode value (and a depth, for backends whose lineart is Gray at 1 bit)."""
    for v in values:
        if re.search(_MODE_PATTERNS[want], v, re.I) and not re.search("halftone", v, re.I):
            return v, None
    if want == "lineart" and 1 in depths:
        return map_mode("gray", values, depths)[0], 1
    raise ConfigError(
        f"mode {want!r} is not offered by this scanner; it reports {', '.join(values)}",
        vi="Máy quét không hỗ trợ chế độ màu đã chọn",
    )


def check_dpi(dpi: int, constraint: Any) -> None:
    if isinstance(constraint, tuple):
        low, high, _ = constraint
        if low <= dpi <= high:
            return
        valid = f"{low:g}..{high:g}"
    elif isinstance(constraint, list):
        if dpi in constraint:
            return
        valid = ", ".join(f"{v:g}" for v in constraint)
    else:
        return
    raise ConfigError(f"dpi {dpi} is not offered by this scanner (valid: {valid})",
                      vi="Máy quét không hỗ trợ độ phân giải đã chọn")


class SaneScanner(Scanner):
    """A scanner reached through libsane; the device is held only while a job runs."""

    def __init__(self, cfg: SaneSettings) -> None:
        super().__init__(cfg)
        self.dev: sane.SaneDev | None = None
        self.flatbed = False
        self.threads = BackendThreads()

    def present(self) -> bool:
        try:
            with self:
                self._open_device()
        except ScannerError:
            return False
        return True

    def open(self, settings: Acquisition) -> None:
        self._open_device()
        try:
            self._apply(settings)
        except ConfigError as e:
            self.close()
            raise ConfigError(f"scanner {self.name} ({self.cfg.device}): {e.message}",
                              vi=e.vi, hint="fix the [[scanner]] entry in the config") from None

    def _open_device(self) -> None:
        ensure_init()
        try:
            self.dev = sane.open(self.cfg.device)
        except (sane._sane.error, RuntimeError) as e:
            status = status_of(e) if isinstance(e, sane._sane.error) else "ABSENT"
            raise scan_error("ABSENT" if status == "ERROR" else status, self.name,
                             f"{self.cfg.device}: {e}") from None

    def _apply(self, s: Acquisition) -> None:
        assert self.dev is not None
        opts = {o[1]: o for o in self.dev.get_options() if o[1]}
        if "source" in opts:
            value = map_source(s.source, opts["source"][8])
            self._set("source", value)
        elif s.source != "flatbed":
            raise ConfigError(f"source {s.source!r} is not offered: this scanner has no feeder "
                              "(valid settings: flatbed)")
        self.flatbed = s.source == "flatbed"
        if "mode" in opts:
            depths = opts["depth"][8] if "depth" in opts else []
            mode, depth = map_mode(s.mode, opts["mode"][8], depths or [])
            self._set("mode", mode)
            if depth is not None:
                self._set("depth", depth)
            elif s.mode != "lineart":
                self._eight_bit()
        if "resolution" in opts:
            check_dpi(s.dpi, opts["resolution"][8])
            self._set("resolution", s.dpi)
        self._set_geometry(opts)
        for name, value in s.options.items():
            if name not in opts:
                raise ConfigError(f"option {name!r} does not exist on this scanner "
                                  f"(see `scanimage -d {self.cfg.device} --help`)")
            self._set(name, value)

    def _eight_bit(self) -> None:
        """8 bits a sample for colour and grey, where the mode set lets the depth be chosen: a
        backend may keep the last scan's depth from one open to the next (the `test` backend
        does: colour after a lineart scan came out 1-bit). A device that refuses it scans at
        the depth it has, as before."""
        assert self.dev is not None
        opt = self.dev.opt.get("depth")
        if opt is None or not (opt.is_active() and opt.is_settable()):
            return
        c = opt.constraint
        if (isinstance(c, list) and 8 in c) or (isinstance(c, tuple) and c[0] <= 8 <= c[1]):
            with contextlib.suppress(AttributeError, sane._sane.error):
                self.dev.depth = 8

    def _set_geometry(self, opts: dict[str, Any]) -> None:
        for name, size in (("br-x", self.cfg.page_width_mm), ("br-y", self.cfg.page_height_mm)):
            if name in opts and isinstance(opts[name][8], tuple):
                low, high, _ = opts[name][8]
                self._set(name, max(low, min(high, size)))

    def _set(self, name: str, value: Any) -> None:
        try:
            setattr(self.dev, name.replace("-", "_"), value)
        except (AttributeError, sane._sane.error) as e:
            raise ConfigError(f"cannot set option {name}={value!r}: {e}") from None

    def pages(self) -> Iterator[Image.Image]:
        assert self.dev is not None, "open() first"
        n = 0
        while True:
            try:
                with self.threads.starting():
                    self.dev.start()
                page = _snap(self.dev, self.threads)
            except sane._sane.error as e:
                status = status_of(e)
                _cancel(self.dev, self.threads)
                if status == "NO_DOCS" and n > 0:
                    return
                raise scan_error(status, self.name) from None
            except RuntimeError as e:  # "Scanner returned no data"
                _cancel(self.dev, self.threads)
                raise scan_error("IO_ERROR", self.name, str(e)) from None
            n += 1
            box = [page]
            del page  # held here, a page would stay in memory until the next one is read
            yield box.pop()
            if self.flatbed:
                _cancel(self.dev, self.threads)
                return

    def close(self) -> None:
        dev, self.dev = self.dev, None
        if dev is not None:
            _cancel(dev, self.threads)
            dev.close()


def _snap(dev: sane.SaneDev, threads: BackendThreads) -> Image.Image:
    """The page being scanned, as SaneDev.snap(no_cancel=True) gives it, with the backend's
    reader thread settled before the read that ends the page (backend_threads.py). A page of
    8-bit samples is read in large blocks (sane_read.py), others by python-sane; either way its
    pixels go into one of the page images kept for reuse (buffers.py)."""
    params, pool = dev.get_parameters(), buffers.shared()
    n, h = sane_read.samples(params), sane_read.handle(dev)
    if n and h is not None:
        block = pool.block(sane_read.page_bytes(params))
        try:
            block, size = sane_read.read(h, params, threads.before_page_end, block)
            return _image(pool, n, params[2][0], block, size, params[4])
        finally:
            pool.give_back_block(block)
    data, width, _, n, _ = dev.dev.snap(True, False, threads.before_last_line)
    return _image(pool, n, width, data, len(data), width * n)


def _image(pool: buffers.PageBuffers, samples: int, width: int, data: bytearray, size: int,
           stride: int) -> Image.Image:
    """The first `size` bytes of `data`, lines `stride` bytes apart, as a grey or RGB page image
    from `pool`; nothing points into `data` after, even on an error (it may be read into next)."""
    if not size:
        raise RuntimeError("Scanner returned no data")
    with memoryview(data)[:size] as lines:
        return pool.image("RGB" if samples == 3 else "L", (width, size // stride), lines, stride)


def _cancel(dev: sane.SaneDev, threads: BackendThreads) -> None:
    """sane_cancel(), once the backend's reader thread has settled (backend_threads.py): after
    an error right after sane_start the reader is still starting up, inside malloc."""
    threads.settle()
    with contextlib.suppress(sane._sane.error):
        dev.cancel()
