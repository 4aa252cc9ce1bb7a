"""An update asked for from the technician's page. The web UI runs as the `edge` user in a
read-only system and cannot install anything: it checks the bundle (so the technician hears at
once about a wrong file), leaves it with `request.json` in <storage.root>/updates/, and systemd's
edge-update.path starts edge-update.service (root), which runs `edge update --requested`. That
run writes `status.json` at each step; the page shows it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from edge import config
from edge.errors import UpdateError

REQUEST, STATUS, UPLOAD = "request.json", "status.json", "upload.tar"
# what status.json's `state` may say (the page words them)
STATES = ("requested", "verified", "waiting", "installed", "rolled_back", "refused", "failed")


def spool(cfg: config.Config) -> Path:
    folder = cfg.storage.root / "updates"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def ask(cfg: config.Config, source: str, version: str = "") -> None:
    """Leave the request for edge-update.service (and say so in the status)."""
    _write(spool(cfg) / REQUEST, {"source": source})
    set_status(cfg, "requested", version)


def take(cfg: config.Config) -> str:
    """The requested source, once: the request is removed as it is taken."""
    path = spool(cfg) / REQUEST
    try:
        source = str(json.loads(path.read_text())["source"])
    except (OSError, ValueError, KeyError) as e:
        raise UpdateError(f"no update was requested from the web page ({path}: {e})") from None
    path.unlink()
    return source


def set_status(cfg: config.Config, state: str, version: str = "", detail: str = "",
               detail_vi: str = "") -> None:
    assert state in STATES
    _write(spool(cfg) / STATUS, {"state": state, "version": version, "detail": detail,
                                 "detail_vi": detail_vi, "ts": time.time()})


def status(cfg: config.Config) -> dict[str, object] | None:
    try:
        return json.loads((cfg.storage.root / "updates" / STATUS).read_text())
    except (OSError, ValueError):
        return None


def _write(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(data, ensure_ascii=False))
    os.chmod(tmp, 0o644)  # the web UI (user edge) reads what root wrote
    os.replace(tmp, path)
