"""Delivery as staff and technicians see it, end to end in headless chromium against real
`edge run` and `edge web` processes: a dossier delivered to a USB disk and failing to reach the
office PC, shown on the staff's dossier card per target ("Đã gửi về xã" / the reason it fails),
and on the technician's page with what waits, why, the next try and "try again now"."""

from __future__ import annotations

import json
import time

from .test_delivery import sim
from .test_staff_day_e2e import LAPTOP, PHONE, assert_in_view, shot
from .web_kit import screenshots

pytest_plugins = ["tests.web_browser"]  # fixtures: stack, browser, page_for


def delivered(kit, target: str) -> bool:
    out = kit.edge("delivery", "status", "--json").stdout
    rows = {t["name"]: t for t in json.loads(out)["targets"]} if out else {}
    return target in rows and rows[target]["sent_today_files"] == 3


def setup(kit, tmp_path):
    creds = tmp_path / "office.toml"
    creds.write_text('user = "kit01"\npassword = "not-used"\n')
    creds.chmod(0o600)
    kit.configure([sim()])
    with kit.config.open("a") as f:
        f.write(f'\n[[delivery]]\nname = "usb"\nlabel = "Ổ đĩa USB"\n'
                f'url = "file://{tmp_path / "usb"}"\n\n[[delivery]]\nname = "office"\n'
                f'label = "Máy tính một cửa"\nurl = "webdav://127.0.0.1:1/hoso"\n'
                f'credentials = "{creds}"\nretry_min_seconds = 300.0\n')


def test_staff_and_technicians_see_where_each_dossier_went(kit, tmp_path, stack, page_for):
    setup(kit, tmp_path)
    stack.start()
    assert kit.edge("scan", "--scanner", "sim", "--doc", "Giấy khai sinh").returncode == 0
    deadline = time.monotonic() + 60
    while not delivered(kit, "usb"):
        assert time.monotonic() < deadline, "not delivered to the USB disk"
        time.sleep(0.5)

    page = page_for(stack, "staff")
    page.set_viewport_size(PHONE)
    page.goto("/dossiers")
    usb = page.locator(".dossier .delivery [data-target=usb]")
    usb.wait_for()
    assert usb.text_content() == "Ổ đĩa USB: Đã gửi về xã"
    office = page.locator(".dossier .delivery [data-target=office]")
    assert office.get_attribute("data-state") == "failing"
    assert office.text_content() == ("Máy tính một cửa: Chưa gửi được về xã (chưa kết nối "
                                     "được, sẽ tự gửi lại)")
    office.scroll_into_view_if_needed()
    assert_in_view(office)
    shot(page, "delivery-dossier")
    page.set_viewport_size(LAPTOP)
    shot(page, "delivery-dossier")

    tech = page_for(stack, "tech")
    tech.set_viewport_size(PHONE)
    tech.goto("/devices")
    card = tech.locator("#delivery [data-target=office]")
    card.wait_for()
    assert card.get_attribute("data-state") == "failing"
    text = card.text_content()
    assert "Lỗi gửi" in text and "Chờ gửi: 3 tệp" in text and "Sẽ tự thử lại lúc" in text
    assert "Đã gửi hết" in tech.locator("#delivery [data-target=usb]").text_content()
    tech.locator("#delivery-retry").scroll_into_view_if_needed()
    tech.click("#delivery-retry")
    assert_in_view(tech.locator("#delivery-done"))
    assert tech.locator("#delivery-done").text_content() == "Sẽ thử gửi lại trong vài giây."
    screenshots(tech, "delivery-devices")

    tech.click("button[name=lang]")  # English: the same section in English
    tech.locator("#delivery [data-target=office]").wait_for()
    assert tech.locator("h2", has_text="Sending to the commune office").count() == 1
    assert "All sent" in tech.locator("#delivery [data-target=usb]").text_content()
    assert "Sent today: 3 file(s)" in tech.locator("#delivery [data-target=usb]").text_content()
    screenshots(tech, "delivery-devices-en")
    page.click("button[name=lang]")
    page.locator(".dossier .delivery [data-target=usb]").wait_for()
    assert (page.locator(".dossier .delivery [data-target=usb]").text_content()
            == "Ổ đĩa USB: Sent to the commune office")
