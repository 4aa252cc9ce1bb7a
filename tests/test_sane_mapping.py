"""Option mapping across SANE backends, with the values real backends report."""

import pytest

from edge.drivers.scanner.sane import check_dpi, map_mode, map_source
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
    (["Gray", "Color"], "color", [1, 8, 16], ("Color", 8)),  # not the 1 bit a lineart scan left
    (["Gray", "Color"], "gray", [1, 16], ("Gray", None)),
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
