"""Fetching an update bundle from the commune server over HTTPS (`edge update URL` and the update
page's fetch button, which edge-update.service carries out with `edge update --requested`),
against a real TLS server on loopback whose certificate a throwaway CA signed (tests/
commune_https.py). The kit trusts that CA through `[update] ca_file` or the standard
SSL_CERT_FILE; otherwise the server is refused. The full install of a fetched bundle is in
tests/test_release.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge.errors import UpdateError
from edge.release import requests, update
from edge.web.app import create_app

from .commune_https import CommuneServer
from .conftest import sane_adf
from .test_update_page import signed  # noqa: F401 (a fixture: a small signed bundle)
from .web_kit import PASSWORDS, add_web


@pytest.fixture
def server(tmp_path, signed):  # noqa: F811
    www = tmp_path / "www"
    www.mkdir()
    shutil.copy(signed[1], www)
    (www / "big.tar").write_bytes(os.urandom(3 << 20))
    with CommuneServer(www, tmp_path / "certs") as s:
        yield s


def configure(kit, public_key: str, **update: object) -> None:
    settings = {"public_key": public_key, "prefix": str(kit.tmp / "opt"), **update}
    with open(kit.config, "a", encoding="utf-8") as f:
        f.write("\n[update]\n" + "".join(f'{k} = "{v}"\n' for k, v in settings.items()))


def edge(kit, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge", "--config", str(kit.config), *args],
                          capture_output=True, text=True, timeout=600, env=env or os.environ)


def spooled(kit) -> list[str]:
    folder = kit.root / "updates"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_bundle_from_a_trusted_server_is_downloaded_whole_and_verified(
        kit, signed, server):  # noqa: F811
    public_key, _ = signed
    url = f"{server.url}/edge-9.9.9-{{arch}}.tar"  # {arch}: this machine's
    configure(kit, public_key, ca_file=server.ca)
    r = edge(kit, "update", url)
    assert "bundle 9.9.9" in r.stdout and "verified" in r.stdout, r.stdout + r.stderr
    assert "download.tar" not in spooled(kit)  # unpacked: the SD card gets its room back

    # the standard SSL_CERT_FILE works as well, without ca_file
    kit.configure([sane_adf()])
    configure(kit, public_key)
    r = edge(kit, "update", url, env={**os.environ, "SSL_CERT_FILE": str(server.ca)})
    assert "bundle 9.9.9" in r.stdout and "verified" in r.stdout, r.stdout + r.stderr


def test_an_untrusted_server_is_refused_in_english_and_in_vietnamese_on_the_page(
        kit, signed, server):  # noqa: F811
    public_key, _ = signed
    url = f"{server.url}/edge-9.9.9-{{arch}}.tar"
    configure(kit, public_key, url=url)  # no ca_file: the system's CAs do not know this one
    add_web(kit.config)
    r = edge(kit, "update")  # [update] url
    assert r.returncode == 1, r.stdout + r.stderr
    assert "the server's certificate is not trusted" in r.stderr, r.stderr
    assert "[update] ca_file" in r.stderr and "verified" not in r.stdout
    assert not (kit.tmp / "opt").exists() and spooled(kit) == []

    # the technician's fetch button: the request is left for edge-update.service...
    c = create_app(kit.cfg()).test_client()
    token = c.get("/api/csrf").json["csrf_token"]
    token = c.post("/api/login", json={"name": "tech", "password": PASSWORDS["tech"]},
                   headers={"X-CSRF-Token": token}).json["csrf_token"]
    assert 'id="fetch"' in c.get("/update").get_data(as_text=True)
    page = c.post("/update", data={"fetch": "1", "csrf_token": token}).get_data(as_text=True)
    assert "Đã nhận yêu cầu cập nhật" in page
    assert json.loads((kit.root / "updates" / requests.REQUEST).read_text()) == {"source": url}
    # ...which runs `edge update --requested`; the page then says why, in Vietnamese
    r = edge(kit, "update", "--requested")
    assert r.returncode == 1 and "certificate is not trusted" in r.stderr, r.stderr
    page = c.get("/update").get_data(as_text=True)
    assert "chứng chỉ bảo mật của máy chủ không đáng tin cậy" in page
    assert not (kit.tmp / "opt").exists() and spooled(kit) == [requests.STATUS]


def test_http_and_bad_trust_settings_are_refused(kit, signed, tmp_path):  # noqa: F811
    public_key, _ = signed
    configure(kit, public_key)
    r = edge(kit, "update", "http://127.0.0.1:9/edge-9.9.9-amd64.tar")
    assert r.returncode == 1 and "only https:// addresses are fetched" in r.stderr, r.stderr
    assert not (kit.tmp / "opt").exists() and spooled(kit) == []

    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    for key, value, why in (("url", "http://xa.example.gov.vn/edge.tar", "https://"),
                            ("ca_file", not_pem, "not a readable PEM CA certificate"),
                            ("ca_file", tmp_path / "missing.pem", "not a readable PEM")):
        kit.configure([sane_adf()])
        configure(kit, public_key, **{key: value})
        r = edge(kit, "check-config")
        assert r.returncode != 0 and f"update.{key}" in r.stderr and why in r.stderr, r.stderr


def test_a_download_cut_off_or_too_large_is_refused_and_leaves_nothing_in_the_spool(
        kit, signed, server):  # noqa: F811
    public_key, good = signed
    configure(kit, public_key, ca_file=server.ca)
    r = edge(kit, "update", f"{server.url}/cut/{good.name}")
    assert r.returncode == 1, r.stdout + r.stderr
    size = good.stat().st_size
    assert f"the download stopped after {size // 2} of {size} bytes" in r.stderr, r.stderr
    assert not (kit.tmp / "opt").exists() and spooled(kit) == []

    spool = kit.root / "updates"
    for path in ("/big.tar", "/endless"):  # a length over the limit; no length, no end
        with pytest.raises(UpdateError, match="larger than 1 MB, not an update bundle"):
            update.fetch(server.url + path, spool, Path(server.ca), limit=1 << 20)
        assert spooled(kit) == []


def test_a_bundle_in_the_spool_is_removed_once_refused_one_named_by_hand_stays(
        kit, signed, tmp_path):  # noqa: F811
    """The SD card gets back the room of a bundle the web page was handed; a file the
    technician named on the command line is theirs."""
    public_key, good = signed
    configure(kit, public_key)
    spool = requests.spool(kit.cfg())
    damaged = spool / requests.UPLOAD
    damaged.write_bytes(good.read_bytes()[:-4096])  # cut short: refused by its signature
    requests.ask(kit.cfg(), str(damaged))
    assert edge(kit, "update", "--requested").returncode == 1
    assert spooled(kit) == [requests.STATUS]
    mine = tmp_path / "mine.tar"
    mine.write_bytes(good.read_bytes()[:-4096])
    assert edge(kit, "update", str(mine)).returncode == 1 and mine.exists()
