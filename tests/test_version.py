"""The running release's version, from the git tag, where people and the commune server see it:
`edge --version`, the web UI's footer, the telemetry status payload."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

from edge import __version__
from edge.telemetry import payload
from edge.web.app import create_app

from .web_kit import add_web


def test_version_is_the_installed_packages_from_setuptools_scm():
    # an editable install wrote edge/_version.py from git: the same as the package's metadata
    assert __version__ == metadata.version("edge")
    assert __version__ != "0.0.0+unknown"
    r = subprocess.run([sys.executable, "-m", "edge", "--version"], capture_output=True,
                       text=True, check=True)
    assert r.stdout.strip() == f"edge {__version__}"


def test_footer_and_status_payload_carry_the_version(kit):
    add_web(kit.config)
    app = create_app(kit.cfg())
    page = app.test_client().get("/login").get_data(as_text=True)
    assert f'<footer class="version">Phiên bản {__version__}</footer>' in page
    src = payload.Source(kit="PL01", site="phu-lac")
    for online, reason in ((True, "connected"), (False, "lost")):
        assert payload.status(src, online, reason)["version"] == __version__
