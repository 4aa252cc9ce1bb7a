"""Each page-processing step's decision on generated pages with known answers."""

import pytest
from PIL import Image

from edge.pipeline.steps import ScannedPage, StepSettings, blank, colour, deskew, run

from .pages import DPI, sample_set

NAMES = sorted(sample_set())


@pytest.mark.parametrize("name", NAMES)
def test_verdicts(name):
    image, expected = sample_set()[name]
    page = run(ScannedPage(image, DPI), StepSettings())
    verdict = "blank" if page.blank else page.kind
    assert verdict == expected, page.notes


@pytest.mark.parametrize("angle", [-9.0, -2.5, 1.2, 6.0])
def test_deskew_straightens(angle):
    image, _ = sample_set()["text"]
    page = ScannedPage(image.rotate(angle, resample=Image.Resampling.BICUBIC,
                                    fillcolor=(246, 246, 242)), DPI)
    deskew.run(page)
    assert abs(page.angle - angle) < 0.2
    residual, _ = deskew.detect(__import__("numpy").asarray(page.image.convert("L")
                                                            .reduce(2)))
    assert abs(residual) < 0.3


@pytest.mark.parametrize("name", ["text", "table-form", "id-card", "colour-photo", "red-seal",
                                  "page-number-only"])
def test_straight_pages_are_never_rotated(name):
    image, _ = sample_set()[name]
    page = ScannedPage(image, DPI)
    deskew.run(page)
    assert page.angle == 0.0 and page.image is image


def test_seal_is_found_on_a_page_that_is_99_percent_text():
    image, _ = sample_set()["red-seal"]
    page = ScannedPage(image, DPI)
    colour.run(page)
    assert page.kind == "color"
    assert page.notes["colour_fraction"] < 0.01  # the seal is a tiny part of the page


def test_gray_scan_is_never_colour():
    image, _ = sample_set()["red-seal"]
    page = ScannedPage(image.convert("L"), DPI)
    colour.run(page)
    assert page.kind == "bilevel"


def test_blank_step_alone():
    page = ScannedPage(sample_set()["bleed-through-back"][0], DPI)
    blank.run(page)
    assert page.blank
    page = ScannedPage(sample_set()["page-number-only"][0], DPI)
    blank.run(page)
    assert not page.blank and page.notes["inked_cells"] >= blank.MIN_CELLS


def test_steps_can_be_turned_off():
    image, _ = sample_set()["blank-back"]
    page = run(ScannedPage(image, DPI), StepSettings(deskew=False, blank=False, classify=False))
    assert not page.blank and page.kind is None
