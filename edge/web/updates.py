"""The technician's update page: the running version, the last update's result, and a bundle to
upload (from the USB stick, through the phone or laptop) or fetch from the commune server. The
web UI only checks the bundle and asks; edge-update.service (root) installs it (see
edge.release.requests)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from flask import Blueprint, render_template, request

from edge import __version__
from edge.errors import UpdateError
from edge.release import bundle, requests, update
from edge.web import auth
from edge.web.context import kit
from edge.web.i18n import lang

bp = Blueprint("updates", __name__)
MAX_BUNDLE = 1 << 30


@bp.get("/update")
@auth.require("technician")
def page() -> str:
    return _render()


@bp.post("/update")
@auth.require("technician")
def ask() -> str:
    cfg = kit().cfg
    request.max_content_length = MAX_BUNDLE  # this form only: a bundle is tens of MB
    try:
        if not cfg.update.public_key:
            raise UpdateError("[update] public_key is not set in the config",
                              vi="Bộ máy chưa có khóa để kiểm tra gói cập nhật: nhờ cán bộ kỹ "
                                 "thuật của tỉnh thêm khóa vào tệp cấu hình.")
        if "fetch" in request.form:
            if not cfg.update.url:
                raise UpdateError("[update] url is not set", vi="Chưa cấu hình địa chỉ máy chủ "
                                  "của xã để tải gói cập nhật.")
            requests.ask(cfg, cfg.update.url)
            return _render(asked="")
        version = _receive()
    except UpdateError as e:
        return _render(error=e.vi if lang() == "vi" else e.message)
    return _render(asked=version)


def _receive() -> str:
    """The uploaded bundle, checked whole before it is kept; its version."""
    upload = request.files.get("bundle")
    if upload is None or not upload.filename:
        raise UpdateError("choose a bundle file first", vi="Hãy chọn tệp gói cập nhật trước.")
    folder = requests.spool(kit().cfg)
    part = folder / (requests.UPLOAD + ".part")
    upload.save(part)
    try:
        manifest = bundle.verify(part, kit().cfg.update.public_key)
        update.check_target(manifest, update.current_version(kit().cfg.update.prefix))
    except UpdateError:
        part.unlink(missing_ok=True)
        raise
    target = folder / requests.UPLOAD
    os.replace(part, target)
    requests.ask(kit().cfg, str(target), manifest.version)
    return manifest.version


def _render(asked: str | None = None, error: str = "") -> str:
    cfg = kit().cfg
    prefix: Path = cfg.update.prefix
    releases = sorted((p.name for p in (prefix / "releases").glob("[0-9]*")), reverse=True) \
        if (prefix / "releases").is_dir() else []
    return render_template("update.html", version=__version__, status=requests.status(cfg),
                           releases=releases, asked=asked, error=error,
                           can_fetch=bool(cfg.update.url),
                           arch=update.ARCH.get(platform.machine(), platform.machine()))
