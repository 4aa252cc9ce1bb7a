"""What people read: devices by their config labels (never a config id), the volunteers' print
result and form, the language kept across login and logout, the UPS card at low battery."""

from __future__ import annotations

import pytest

from edge.web.app import create_app
from edge.web.labels import label

from .test_one_language import session
from .web_kit import PASSWORDS, add_web, screenshots

pytest_plugins = ["tests.web_browser"]  # fixtures: stack, browser, page_for
FULL = {"ticket": "PL01-261203-007", "citizen": "Nguyễn Thị Phượng",
        "procedure": "Đăng ký khai sinh"}


def configure(kit, tmp_path, receipt_label: str = "Máy in phiếu bàn 1", extra: str = ""):
    kit.configure([{"name": "sim-adf", "driver": "sim", "label": "Máy quét Fujitsu bàn 1",
                    "sim": {"sheets": 1, "page_delay": 0.05}},
                   {"name": "sim-flat", "driver": "sim", "source": "flatbed"},
                   {"name": "sim-b", "driver": "sim"}])
    with open(kit.config, "a", encoding="utf-8") as f:
        f.write(f'\n[system]\ndriver = "sim"\n[[receipt_printer]]\nname = "receipt"\n'
                f'transport = "file"\npath = "{tmp_path / "slip.bin"}"\n'
                + (f'label = "{receipt_label}"\n' if receipt_label else "") + extra)


@pytest.fixture
def app(kit, tmp_path):
    configure(kit, tmp_path)
    add_web(kit.config)
    return create_app(kit.cfg())


@pytest.mark.parametrize("lang, second, third", [("vi", "Máy quét 2", "Máy quét 3"),
                                                 ("en", "Scanner 2", "Scanner 3")])
def test_scanners_carry_their_label_or_a_numbered_word(app, lang, second, third):
    c, _ = session(app, "staff", lang)
    scanners = c.get("/api/scanners").json["scanners"]
    assert [(s["name"], s["label"]) for s in scanners] == [
        ("sim-adf", "Máy quét Fujitsu bàn 1"), ("sim-flat", second), ("sim-b", third)]


def test_every_device_kind_has_a_word_never_its_id(app):
    cfg = app.extensions["edge_kit"].cfg
    with app.test_request_context():
        assert label(cfg, "system", "pi", "vi") == "Máy tính"
        assert label(cfg, "receipt", "receipt", "vi") == "Máy in phiếu bàn 1"
        assert label(cfg, "usb", "sim-adf", "vi") == "Máy quét Fujitsu bàn 1"  # its USB presence
        assert label(cfg, "scanner", "import", "en") == "Imported files"
        assert label(cfg, "printer", "gone", "en") == "Printer"  # no longer configured


def test_a_printed_slip_is_said_with_the_printers_label(app):
    c, token = session(app, "vol", "vi")
    r = c.post("/api/receipts/print", json={"template": "reception", "fields": FULL},
               headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.json
    assert r.json["state"] == "printed"
    assert r.json["message_vi"] == "Đã in phiếu PL01-261203-007 trên Máy in phiếu bàn 1."
    assert r.json["message"] == "Slip PL01-261203-007 printed on Máy in phiếu bàn 1."
    assert "receipt" not in r.json["message_vi"]


def test_an_unlabelled_slip_printer_is_called_by_its_kind(kit, tmp_path):
    configure(kit, tmp_path, receipt_label="")
    add_web(kit.config)
    c, token = session(create_app(kit.cfg()), "vol", "en")
    r = c.post("/api/receipts/print", json={"template": "note", "fields": {"text": "Xin chào"}},
               headers={"X-CSRF-Token": token})
    assert r.json["message"] == "Slip printed on Slip printer."
    assert r.json["message_vi"] == "Đã in phiếu trên Máy in phiếu."


def test_the_form_opens_on_the_reception_slip_and_names_every_empty_field(app):
    c, token = session(app, "vol", "vi")
    assert c.get("/api/receipts/templates").json["templates"][0]["name"] == "reception"
    r = c.post("/api/receipts/print", json={"template": "reception", "fields": {}},
               headers={"X-CSRF-Token": token})
    assert r.status_code == 400
    assert r.json["fields"] == ["ticket", "citizen", "procedure"]
    assert r.json["error_vi"] == "Thiếu thông tin bắt buộc: Số phiếu, Người nộp, Thủ tục."
    assert r.json["error"] == "Fill in: Số phiếu, Người nộp, Thủ tục."


def test_the_language_survives_login_and_logout(app):
    c, token = session(app, "staff", "en")
    assert '<html lang="en">' in c.get("/scan").text
    c.post("/logout", data={"csrf_token": token})
    page = c.get("/login").text
    assert '<html lang="en">' in page and "Log in" in page


def test_the_language_switch_keeps_where_the_login_goes_next(app):
    c = app.test_client()
    page = c.get("/login?next=/receipts").text
    assert 'name="next" value="/login?next=/receipts"' in page


# ------------------------------------------------------------------ in the browser


def test_volunteer_prints_then_the_form_is_ready_for_the_next_citizen(kit, stack, page_for,
                                                                      tmp_path):
    configure(kit, tmp_path)
    stack.start()
    for lang, printed in (("vi", "Đã in phiếu PL01-261203-007 trên Máy in phiếu bàn 1."),
                          ("en", "Slip PL01-261203-007 printed on Máy in phiếu bàn 1.")):
        for width in (360, 1280):
            page = page_for(stack, "vol", width)
            page.set_viewport_size({"width": width, "height": 780})
            if lang == "en":
                page.click("button[name=lang]")
            page.wait_for_selector("#slip-form input[name=citizen]")
            assert page.input_value("#template") == "reception"
            page.fill("input[name=address]", "Thôn Đông")
            page.click("#print")  # three required fields empty: each named, each marked
            page.wait_for_selector("#print-result.error")
            result = page.locator("#print-result")
            for field in ("ticket", "citizen", "procedure"):
                box = page.locator(f"label[data-field={field}]")
                assert box.locator("[aria-invalid=true]").count() == 1
                assert box.locator(".field-error").is_visible()
            assert page.locator(".field-error").count() == 3
            if lang == "vi":
                assert result.text_content() == ("Thiếu thông tin bắt buộc: Số phiếu, Người nộp, "
                                                 "Thủ tục.")
            assert_in_view(page, result)
            screenshots_at(page, f"receipts-refused-{lang}", width)
            for name, value in FULL.items():
                page.fill(f"input[name={name}]", value)
            page.fill("input[name=staff]", "Trần Văn Bình")
            page.click("#print")
            page.wait_for_selector("#print-result.printed")
            assert result.text_content().startswith(printed), result.text_content()
            assert_in_view(page, result)
            assert page.locator(".field-error").count() == 0
            assert [page.input_value(f"input[name={n}]") for n in (*FULL, "address")] == [""] * 4
            assert page.input_value("#template") == "reception"
            assert page.input_value("input[name=staff]") == "Trần Văn Bình"  # same all day
            screenshots_at(page, f"receipts-printed-{lang}", width)


def assert_in_view(page, locator) -> None:
    box, view = locator.bounding_box(), page.viewport_size
    assert box and box["y"] >= -1 and box["y"] + box["height"] <= view["height"] + 1, (box, view)


def screenshots_at(page, name: str, width: int) -> None:
    from .web_kit import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"))


def test_the_ups_card_at_low_battery_is_a_power_alarm_not_a_broken_device(kit, stack, page_for,
                                                                           tmp_path):
    configure(kit, tmp_path, extra='[[ups]]\nname = "ups"\ndriver = "sim"\nlabel = "UPS Santak"\n'
                                   'interval = 0.5\nsim = { outage_after = 0.5, '
                                   'outage_seconds = 100000.0, runtime = 2.0 }\n')
    stack.start()
    page = page_for(stack, "tech")
    card = page.locator("[data-device=ups-ups]")
    page.wait_for_selector("[data-device=ups-ups].fault")
    assert card.locator("h2").text_content().startswith("UPS Santak")
    assert card.locator(".state").text_content() == "Báo động nguồn điện"
    assert "hỏng" not in page.locator("main").inner_text()
    assert "Pin bộ lưu điện sắp hết" in card.inner_text()
    assert page.locator("[data-device=receipt-receipt] h2").text_content().startswith(
        "Máy in phiếu bàn 1")
    assert page.locator("[data-device=system-pi] h2").text_content().startswith("Máy tính")
    screenshots(page, "devices-low-battery")
    page.click("button[name=lang]")
    page.wait_for_selector("[data-device=ups-ups].fault")
    assert card.locator(".state").text_content() == "Power alarm"
    screenshots(page, "devices-low-battery-en")


def test_the_404_page_is_the_kits_own_in_the_language_chosen(kit, stack, browser):
    stack.start()
    ctx = browser.new_context(viewport={"width": 360, "height": 780}, base_url=stack.url)
    page = ctx.new_page()
    page.goto("/login")
    page.click("button[name=lang]")
    page.fill("#name", "staff")
    page.fill("#password", PASSWORDS["staff"])
    page.click("#login")
    page.wait_for_load_state()
    r = page.goto("/nowhere")
    assert r.status == 404
    assert page.locator("h1").text_content() == "Page not found"
    assert "Not Found" not in page.content()
    page.click("#home")
    page.wait_for_load_state()
    home = page.url
    page.goto("/")
    assert page.url == home  # the staff's start page, wherever "/" leads
    ctx.close()
