"""The technician's update page in headless chromium against real `edge run` and `edge web`: a
bundle with a flipped byte is refused at once, in Vietnamese, and nothing is kept; a good one is
kept with the request edge-update.service acts on, as is a fetch from the commune server; the
last update's result is shown."""

from __future__ import annotations

import json
import platform
import subprocess

import pytest

from edge.release import bundle, requests
from edge.release.update import ARCH

from .conftest import ROOT
from .test_release import flip
from .web_kit import screenshots

pytest_plugins = ["tests.web_browser"]  # fixtures: stack, browser, page_for


@pytest.fixture
def signed(tmp_path):
    """(public key, a small signed bundle of version 9.9.9 for this machine)."""
    pub, key = tmp_path / "k.pub", tmp_path / "k.key"
    subprocess.run(["minisign", "-G", "-W", "-p", str(pub), "-s", str(key)], check=True,
                   capture_output=True)
    files = {name: ROOT / name for name in ("install.sh", "systemd/edge.service")}
    arch = ARCH[platform.machine()]
    out = bundle.write(tmp_path / bundle.name_of("9.9.9", arch), "9.9.9", arch, files, key)
    return pub.read_text().splitlines()[1], out


def test_technician_uploads_a_bundle_and_a_damaged_one_is_refused(kit, stack, page_for, signed,
                                                                  tmp_path):
    public_key, good = signed
    with open(kit.config, "a", encoding="utf-8") as f:
        f.write(f'\n[update]\npublic_key = "{public_key}"\nprefix = "{tmp_path / "opt"}"\n'
                'url = "https://127.0.0.1:9/edge-{arch}.tar"\n')  # a server that is not there
    stack.start()
    page = page_for(stack, "tech")
    page.click("a[href='/update']")
    assert page.text_content("h1") == "Cập nhật phần mềm"
    screenshots(page, "update-page")

    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(good.read_bytes())
    flip(damaged, "install.sh")
    page.set_input_files("#bundle", str(damaged))
    page.click("#send")
    page.wait_for_load_state()
    assert "Gói cập nhật bị từ chối" in page.text_content(".notice.error")
    spool = kit.root / "updates"
    assert not (spool / requests.REQUEST).exists() and not (spool / requests.UPLOAD).exists()
    assert not list(spool.glob("*.part"))
    screenshots(page, "update-refused")

    page.set_input_files("#bundle", str(good))
    assert page.text_content("#chosen") == good.name
    page.click("#send")
    page.wait_for_load_state()
    assert "Đã nhận yêu cầu cập nhật" in page.text_content(".notice.printed")
    assert "9.9.9" in page.text_content(".notice.printed")
    assert json.loads((spool / requests.REQUEST).read_text()) == \
        {"source": str(spool / requests.UPLOAD)}
    assert (spool / requests.UPLOAD).read_bytes() == good.read_bytes()
    screenshots(page, "update-asked")

    # what edge-update.service leaves after a release that did not come up
    requests.set_status(kit.cfg(), "rolled_back", "9.9.9", "did not start",
                        "Phiên bản 9.9.9 không chạy được; bộ máy đã tự quay lại phiên bản 0.1.0.")
    page.goto("/update")
    assert page.text_content("#last-update") == \
        "Phiên bản 9.9.9 không chạy được; bộ máy đã tự quay lại phiên bản 0.1.0."
    requests.set_status(kit.cfg(), "installed", "9.9.9")
    page.goto("/update")
    assert page.text_content("#last-update") == "Lần cập nhật gần nhất thành công: 9.9.9"
    screenshots(page, "update-rolled-back")

    # the fetch button: the request for edge-update.service, whose refusal the page then shows
    page.click("#fetch")
    page.wait_for_load_state()
    assert "Đã nhận yêu cầu cập nhật" in page.text_content(".notice.printed")
    assert json.loads((spool / requests.REQUEST).read_text()) == \
        {"source": "https://127.0.0.1:9/edge-{arch}.tar"}
    assert kit.edge("update", "--requested").returncode == 1
    page.goto("/update")
    assert page.text_content("#last-update") == \
        "Không tải được gói cập nhật từ máy chủ của xã: hãy kiểm tra mạng rồi thử lại."
    screenshots(page, "update-fetch-refused")
