"""Cheaper page encoding gives the same bytes: G4 through libtiff with ctypes (no interpreter
lock) as Pillow's, JPEG into an anonymous file as into a BytesIO, and a page well over its
byte budget encoded once at full size instead of twice."""

import io

import pytest
from PIL import Image

from edge.pipeline import encode, g4
from edge.pipeline.steps import ScannedPage

from .pages import DPI, sample_set

NAMES = sorted(sample_set())


def pillow_g4(bw: Image.Image, dpi: int) -> bytes:
    buf = io.BytesIO()
    bw.save(buf, "TIFF", compression="group4", dpi=(dpi, dpi), strip_size=1 << 30)
    return buf.getvalue()


def strip_and_tags(tiff: bytes) -> tuple[bytes, dict]:
    with Image.open(io.BytesIO(tiff)) as im:
        tags = dict(im.tag_v2)
    start, length = tags.pop(273)[0], tags[279][0]
    return tiff[start:start + length], tags


@pytest.mark.parametrize("name", NAMES)
def test_g4_through_ctypes_is_pillows_g4(name):
    image, _ = sample_set()[name]
    bw = encode.to_bilevel(image)
    pillows = strip_and_tags(pillow_g4(bw, DPI))
    assert strip_and_tags(g4.g4_tiff(bw, DPI)) == pillows
    assert strip_and_tags(g4.g4_tiff(encode.white_pixels(image), DPI)) == pillows


@pytest.mark.parametrize("size", [(1, 1), (17, 5), (9, 300)])
def test_g4_rows_that_do_not_fill_their_last_byte(size):
    bw = Image.effect_noise(size, 120).point(lambda v: 255 if v > 128 else 0, mode="1")
    assert g4.packed(bw) == bw.tobytes()
    assert strip_and_tags(g4.g4_tiff(bw, 300)) == strip_and_tags(pillow_g4(bw, 300))


def test_jpeg_into_an_anonymous_file_is_the_bytesio_jpeg():
    image, _ = sample_set()["colour-photo"]
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=75, dpi=(DPI, DPI))
    assert encode.saved(image, "JPEG", quality=75, dpi=(DPI, DPI)) == buf.getvalue()


def noisy_page() -> ScannedPage:
    """A 300 dpi colour page that JPEG cannot shrink: far over a 1 MB budget at quality 75."""
    image = Image.merge("RGB", [Image.effect_noise((2000, 2400), 60) for _ in range(3)])
    return ScannedPage(image, 300, kind="color")


def test_a_page_well_over_its_budget_is_encoded_once_at_full_size(monkeypatch):
    full_size = []
    real = encode.saved

    def spy(image, fmt, **params):
        if image.size == (2000, 2400):
            full_size.append(params["quality"])
        return real(image, fmt, **params)

    monkeypatch.setattr(encode, "saved", spy)
    page = noisy_page()
    data = encode.encode_page(page, 75, max_bytes=1024 * 1024)
    assert len(data) <= 1024 * 1024
    assert full_size == [page.notes["quality"]] and full_size[0] < 75


def test_a_page_under_its_budget_keeps_its_quality():
    page = noisy_page()
    encode.encode_page(page, 75, max_bytes=50 * 1024 * 1024)
    assert "quality" not in page.notes


@pytest.mark.parametrize("name", ["text", "red-seal", "colour-photo", "grey-photo"])
def test_the_digest_of_a_page_just_encoded_is_the_one_read_back_from_its_pdf(name):
    """page_record takes the image digest encode_page made instead of parsing the PDF again:
    it must be the digest verify and the content digest read back from the file."""
    from edge.pipeline.steps import StepSettings, chain

    image, _ = sample_set()[name]
    page = chain.run(ScannedPage(image, DPI), StepSettings())
    data = encode.encode_page(page, 75, max_bytes=30 * 1024 if name == "colour-photo" else 0)
    given = encode.page_record(1, "p.pdf", data, kind=str(page.kind),
                               image_sha=page.image_sha256)
    read = encode.page_record(1, "p.pdf", data)  # an adopted page: everything from the PDF
    assert page.image_sha256 and given == read


@pytest.mark.parametrize("name", ["id-card", "table-form"])
def test_paper_is_cleaned_to_white_with_levels_from_the_analysis_copy(name):
    """clean_background takes the paper's levels from the analysis copy the steps made (no
    extra pass over the full page): the paper of a tinted, noisy scan still becomes white
    and the ink stays dark."""
    import numpy as np

    from edge.pipeline.steps import StepSettings, chain

    image, _ = sample_set()[name]
    page = chain.run(ScannedPage(image, DPI), StepSettings())
    cleaned = np.asarray(encode.Source(page).jpeg)
    assert np.percentile(cleaned, 90) == 255  # the paper
    assert cleaned.min() < 60  # the ink
    assert encode.Source(page).jpeg.tobytes() == encode.clean_background(
        encode._as(page.image, page.image.mode if page.kind == "color" else "L"),
        page.small_image("RGB" if page.kind == "color" else "L").histogram()).tobytes()


def full_size_encodes(monkeypatch, size: tuple[int, int]) -> list[int]:
    """The qualities `encode.saved` is asked for at `size` (the page's full size), in order."""
    qualities: list[int] = []
    real = encode.saved

    def spy(image, fmt, **params):
        if image.size == size:
            qualities.append(params["quality"])
        return real(image, fmt, **params)

    monkeypatch.setattr(encode, "saved", spy)
    return qualities


@pytest.mark.parametrize("name", ["id-card", "colour-photo", "grey-photo", "table-form"])
@pytest.mark.parametrize("share", [0.9, 0.8, 0.7])
def test_a_page_over_its_budget_is_encoded_again_once_near_the_highest_quality_that_fits(
        monkeypatch, name, share):
    """A page a little over its budget at full quality is encoded at most once more, at the highest
    quality of the ladder at which it fits or one step below (a prediction): its sizes at
    the lower qualities are predicted from a sample of the page at its own resolution; a
    reduced copy's predictions were off enough for a third full-size encode."""
    from edge.pipeline.steps import StepSettings, chain

    image, _ = sample_set()[name]
    big = image.resize((image.width * 3 // 2, image.height * 3 // 2))  # as scanned at 300 dpi
    page = chain.run(ScannedPage(big, 300), StepSettings())
    jpeg = encode.Source(page).jpeg
    sizes = {q: len(encode.saved(jpeg, "JPEG", quality=q)) for q in (75, 60, 45, 30)}
    budget = int(sizes[75] * share)
    fits = max([q for q in (60, 45) if sizes[q] <= budget] or [30])
    asked = full_size_encodes(monkeypatch, big.size)
    data = encode.encode_page(page, 75, max_bytes=budget + 2048)  # the PDF around the JPEG
    assert len(data) <= budget + 2048
    assert len(asked) <= 2 and fits - encode.QUALITY_STEP <= asked[-1] <= fits
