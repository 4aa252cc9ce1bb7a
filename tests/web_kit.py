"""Helpers for the web tests: a kit config with [web] users, and a logged-in test client."""

from __future__ import annotations

from pathlib import Path

from werkzeug.security import generate_password_hash

from .conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
WIDTHS = (360, 1280)
PASSWORDS = {"staff": "staff-pass", "tech": "tech-pass", "vol": "vol-pass"}
ROLES = {"staff": "staff", "tech": "technician", "vol": "volunteer"}
# pbkdf2 with few rounds: fast tests (production hashes use scrypt via `edge user hash`)
_HASHES = {n: generate_password_hash(p, method="pbkdf2:sha256:1000") for n, p in PASSWORDS.items()}


def web_section(port: int = 8080, extra: str = "") -> str:
    lines = ["", "[web]", f"port = {port}", "sample_seconds = 1.0", extra]
    for name, role in ROLES.items():
        lines += ["[[web.users]]", f'name = "{name}"', f'role = "{role}"',
                  f'password_hash = "{_HASHES[name]}"']
    return "\n".join(lines) + "\n"


def add_web(config: Path, port: int = 8080, extra: str = "") -> None:
    with open(config, "a", encoding="utf-8") as f:
        f.write(web_section(port, extra))


def screenshots(page, name: str) -> None:
    """The page at phone and laptop widths, into test-artifacts/ (checked by eye)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for w in WIDTHS:
        page.set_viewport_size({"width": w, "height": 900})
        page.wait_for_timeout(200)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{w}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
