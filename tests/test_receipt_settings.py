"""Receipt printer settings: each transport takes only its own keys and checks them when the
config is loaded, so `edge check-config` refuses them naming the transport and the file."""

from __future__ import annotations

import pytest

from edge.errors import ConfigError

FILE_KEYS = ("font, interval, label, name, paper_mm, path, profile, qr, retry_seconds, text_mode, "
             "timeout, transport")


def add_printer(kit, text: str) -> None:
    kit.configure([])
    with kit.config.open("a", encoding="utf-8") as f:
        f.write(f'\n[[receipt_printer]]\nname = "slip"\n{text}')


@pytest.mark.parametrize("transport, key", [("network", "host"), ("usb", "usb_id")])
def test_a_transport_without_its_required_key_is_refused_at_load(kit, transport, key):
    add_printer(kit, f'transport = "{transport}"\n')
    expected = f"{kit.config}: receipt_printer 'slip': {key} is required for transport " \
               f"'{transport}'"
    with pytest.raises(ConfigError) as e:
        kit.cfg()
    assert str(e.value) == expected
    r = kit.edge("check-config")
    assert r.returncode == 2 and expected in r.stderr, r.stderr


def test_a_key_of_another_transport_is_refused_listing_only_this_transports_keys(kit):
    add_printer(kit, f'transport = "file"\npath = "{kit.tmp / "slip.bin"}"\nhost = "10.0.0.9"\n')
    r = kit.edge("check-config")
    assert r.returncode == 2
    assert (f"{kit.config}: receipt_printer[0]: unknown key 'host' for transport 'file' "
            f"(allowed: {FILE_KEYS})") in r.stderr, r.stderr
