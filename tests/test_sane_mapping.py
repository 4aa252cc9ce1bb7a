"""Option mapping across SANE backends, with the values real backends report."""

from types import SimpleNamespace

import pytest

from edge.drivers.scanner.sane import SaneScanner, check_dpi, map_mode, map_source
from edge.drivers.scanner.settings import SaneSettings
from edge.errors import ConfigError

FUJITSU = ["Flatbed", "ADF Front", "ADF Back", "ADF Duplex"]
EPSONDS = ["Flatbed", "ADF Front", "ADF Duplex"]
TEST = ["Flatbed", "Automatic Document Feeder"]
AIRSCAN = ["Flatbed", "ADF", "ADF Duplex"]
AVISION = ["Normal", "ADF Front", "ADF Back", "ADF Duplex"]


@pytest.mark.parametrize("values, want, got", [
    (FUJITSU, "adf", "ADF Front"), (FUJITSU, "adf-duplex", "ADF Duplex"),
    (FUJITSU, "flatbed", "Flatbed"), (EPSONDS, "adf", "ADF Front"),
    (TEST, "adf", "Automatic Document Feeder"), (AIRSCAN, "adf", "ADF"),
    (AIRSCAN, "adf-duplex", "ADF Duplex"), (AVISION, "flatbed", "Normal"),
])
def test_source_mapping(values, want, got):
    assert map_source(want, values) == got


def test_missing_source_lists_values():
    with pytest.raises(ConfigError) as e:
        map_source("adf-duplex", TEST)
    assert "reports Flatbed, Automatic Document Feeder (valid settings: flatbed, adf)" in str(
        e.value)


@pytest.mark.parametrize("values, want, depths, got", [
    (["Lineart", "Halftone", "Gray", "Color"], "lineart", [], ("Lineart", None)),
    (["Gray", "Color"], "lineart", [1, 8, 16], ("Gray", 1)),
    (["Binary", "True Gray", "24bit Color"], "color", [], ("24bit Color", None)),
    (["Binary", "True Gray", "24bit Color"], "gray", [], ("True Gray", None)),
])
def test_mode_mapping(values, want, depths, got):
    assert map_mode(want, values, depths) == got


def test_missing_mode():
    with pytest.raises(ConfigError, match="reports Gray, Color"):
        map_mode("lineart", ["Gray", "Color"], [8])


def test_dpi_constraints():
    check_dpi(200, (50.0, 600.0, 1.0))
    check_dpi(300, [150, 300, 600])
    with pytest.raises(ConfigError, match=r"valid: 150, 300, 600"):
        check_dpi(200, [150, 300, 600])
    with pytest.raises(ConfigError, match=r"valid: 50..600"):
        check_dpi(1200, (50.0, 600.0, 1.0))


class DepthDevice:
    """A device's `depth` option as python-sane shows it, and the depth it was set to."""

    def __init__(self, constraint, active=True, refuses=False):
        self.opt = {"depth": SimpleNamespace(constraint=constraint, is_active=lambda: active,
                                             is_settable=lambda: True)}
        self.refuses, self.set_to = refuses, None

    def __setattr__(self, name, value):
        if name == "depth":
            if self.refuses:
                raise AttributeError("Inactive option: depth")
            name = "set_to"
        object.__setattr__(self, name, value)


@pytest.mark.parametrize("device, depth", [
    (DepthDevice([1, 8, 16]), 8),
    (DepthDevice((1, 16, 1)), 8),  # a range
    (DepthDevice([1, 16]), None),  # 8 not offered: the device's own
    (DepthDevice([1, 8, 16], active=False), None),
    (DepthDevice([1, 8, 16], refuses=True), None),  # refused: scanned at the depth it has
])
def test_colour_and_grey_are_set_to_8_bits_where_the_device_lets_them(device, depth):
    scanner = SaneScanner(SaneSettings(name="adf", device="x"))
    scanner.dev = device
    scanner._eight_bit()
    assert device.set_to == depth
