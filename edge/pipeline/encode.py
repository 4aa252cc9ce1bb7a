"""Encode one processed page into a one-page PDF, the unit the spool keeps on disk.

Bilevel pages become CCITT G4; grey and colour pages become JPEG at the preset quality, after
their paper is cleaned to white. img2pdf embeds them without re-encoding, at the physical size
given by the scan dpi (never its 96 dpi default).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence

import img2pdf
import numpy as np
import pikepdf
from PIL import Image

from edge.pipeline.g4 import g4_tiff
from edge.pipeline.queue import Page
from edge.pipeline.steps import PAPER_PERCENTILE, Kind, ScannedPage, hist_percentile
from edge.pipeline.steps.colour import balanced, chroma_mask

WHITE_SHARE = 0.94  # paper at or above 94 % of its typical brightness becomes white
MIN_DPI = 200
MIN_QUALITY = 30
QUALITY_STEP = 15
PHOTO_FRACTION = 0.2  # colour over a fifth of the page: a photo, left as it was
MASK_MAX_CHROMA = 40  # pixels more coloured than this stay out of the black text layer
SAMPLE_EVERY = 8  # bands of a page encoded to predict its size
BAND_ROWS = 32  # a multiple of JPEG's 16-row blocks (4:2:0 subsampling)
CLEARLY_OVER = 1.5  # a prediction this far over the budget skips the first quality


def encode_page(page: ScannedPage, quality: int, max_bytes: int = 0) -> bytes:
    """A one-page PDF of a processed page, encoded for its kind, at its scan dpi.

    Over `max_bytes`, the JPEG quality steps down, then the page is resampled towards
    MIN_DPI (never below: archives need 200 dpi); what is still over is kept and noted.
    """
    page.kind = page.kind or _kind_of_mode(page.image)
    source = Source(page)
    ladder = Ladder(source)
    if max_bytes and source.jpeg:
        quality = first_quality(page, ladder, quality, max_bytes)
        ladder.release()
    data = source.encode(quality, max_bytes)
    while max_bytes and len(data) > max_bytes:
        if page.kind != "bilevel" and quality > MIN_QUALITY:
            quality = ladder.below(quality, len(data), max_bytes)
            ladder.release()
        elif page.dpi > MIN_DPI:
            _resample(page, MIN_DPI / page.dpi)
            source = Source(page)
            ladder = Ladder(source)
        else:
            page.notes["over_budget"] = len(data)
            break
        data = source.encode(quality, max_bytes)
        page.notes["quality"] = quality
    page.image_sha256 = source.digest()
    return source.pdf(data)


def _resample(page: ScannedPage, scale: float) -> None:
    size = (round(page.image.width * scale), round(page.image.height * scale))
    page.replace_image(page.image.resize(size, Image.Resampling.LANCZOS))  # its copies go too
    page.dpi = MIN_DPI
    if page.colour_box:
        x0, y0, x1, y1 = (round(v * scale) for v in page.colour_box)
        page.colour_box = (x0, y0, x1, y1)


class Source:
    """What is encoded of a page at its present size, prepared once for every quality tried:
    the JPEG's image (cleaned paper) for a grey or colour page, else the page itself."""

    def __init__(self, page: ScannedPage) -> None:
        self.page = page
        self.jpeg: Image.Image | None = None
        self.streams: tuple[bytes, ...] = ()  # the image streams the last encode embeds
        if page.kind == "bilevel" and page.image.mode == "RGB":  # colour no longer needed:
            page.replace_image(page.image.convert("L"))  # 3/4 of the page's memory freed
        if page.kind in ("color", "gray"):
            image = _as(page.image, "RGB" if page.kind == "color" else "L")
            if page.notes.get("colour_fraction", 0.0) < PHOTO_FRACTION:  # a paper, no picture
                image = clean_background(image, page.histogram(image.mode))
            self.jpeg = image

    def encode(self, quality: int, max_bytes: int = 0) -> bytes:
        """The page's PDF; or, when its image alone is over `max_bytes` (so that its PDF would
        be too), the bare image, which `pdf()` wraps if it is kept."""
        page = self.page
        if page.kind == "mixed" and page.colour_box:
            pdf, *streams = mixed_page(page, quality)
            self.streams = tuple(streams)
            return pdf
        if self.jpeg is None:
            image = g4_tiff(white_pixels(page.image), page.dpi)
            self.streams = (tiff_strip(image),)
        else:
            image = saved(self.jpeg, "JPEG", quality=quality, dpi=(page.dpi, page.dpi))
            self.streams = (image,)
        return image if max_bytes and len(image) > max_bytes else self.pdf(image)

    def digest(self) -> str:
        """SHA-256 of the image streams of the last encode, as `page_image_digests` reads them
        back from its PDF (img2pdf embeds a JPEG as it is, a G4 TIFF's strip as it is)."""
        h = hashlib.sha256()
        for stream in self.streams:
            h.update(stream)
        return h.hexdigest()

    def pdf(self, data: bytes) -> bytes:
        """`data` as a one-page PDF at the page's dpi (itself if it is one already)."""
        if data.startswith(b"%PDF"):
            return data
        dpi = (self.page.dpi, self.page.dpi)
        return img2pdf.convert(data, layout_fun=img2pdf.get_fixed_dpi_layout_fun(dpi),
                               engine=img2pdf.Engine.internal)  # half pikepdf's CPU, same streams


def first_quality(page: ScannedPage, ladder: Ladder, quality: int, max_bytes: int) -> int:
    """`quality`, unless the page's sample encoded at it predicts the page well over
    `max_bytes`: then the quality the sample predicts the page fits at, which saves a
    full-size encode (30-45 ms at 300 dpi colour) that would be thrown away. Pages predicted
    near or under the budget are encoded as they were."""
    if not ladder.sampled:
        return quality
    guess = ladder.size(quality) * SAMPLE_EVERY
    if guess <= max_bytes * CLEARLY_OVER:
        return quality
    quality = ladder.below(quality, guess, max_bytes)
    page.notes["quality"] = quality
    return quality


class Ladder:
    """The JPEG sizes, by quality, of a sample of what is encoded of a page (every
    SAMPLE_EVERY-th band of rows of it, or all of it when it is too small to sample), to
    predict the page's size at a quality from its size at another: the sample is the page
    at its own resolution, so its ratios are the page's within 2 % on most pages (9 % on a
    ruled form), where the analysis copy's were off by up to 15 % (a third full-size encode,
    or a quality lower than needed). Each size is one encode of an eighth of the page, made
    when first asked."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._sizes: dict[int, int] = {}
        self._image: Image.Image | None = None

    def size(self, quality: int) -> int:
        if quality not in self._sizes:
            if self._image is None:
                page = self.source.page
                image = self.source.jpeg or _as(page.image,
                                                "RGB" if page.image.mode == "RGB" else "L")
                self._image = bands(image, SAMPLE_EVERY) or image
            self._sizes[quality] = _jpeg_size(self._image, quality)
        return self._sizes[quality]

    def release(self) -> None:
        """Let the sample go (its sizes stay): a page's full-size encode need not hold it."""
        self._image = None

    @property
    def sampled(self) -> bool:
        return self.source.page.image.height // (BAND_ROWS * SAMPLE_EVERY) >= 2

    def below(self, quality: int, size: int, max_bytes: int) -> int:
        """The highest quality of the QUALITY_STEP ladder below `quality` at which a page of
        `size` bytes at `quality` is predicted to fit (MIN_QUALITY if none), by bisection:
        sizes fall with quality, so one or two sample encodes instead of one per step. The
        caller checks the real size."""
        steps = [*range(quality - QUALITY_STEP, MIN_QUALITY, -QUALITY_STEP), MIN_QUALITY]
        lo, hi = 0, len(steps) - 1  # the last step needs no prediction: it is the floor
        while lo < hi:
            mid = (lo + hi) // 2
            if size * self.size(steps[mid]) / self.size(quality) <= max_bytes:
                hi = mid
            else:
                lo = mid + 1
        return steps[lo]


def bands(image: Image.Image, every: int) -> Image.Image | None:
    """Every `every`-th band of BAND_ROWS rows of `image`, stacked (None: too small to sample)."""
    n = image.height // (BAND_ROWS * every)
    if n < 2:
        return None
    out = Image.new(image.mode, (image.width, n * BAND_ROWS))
    for i in range(n):
        y = (i * every + every // 2) * BAND_ROWS
        out.paste(image.crop((0, y, image.width, y + BAND_ROWS)), (0, i * BAND_ROWS))
    return out


def saved(image: Image.Image, fmt: str, **params: object) -> bytes:
    """`image` saved as `fmt`, in memory. Into an anonymous file rather than a BytesIO: Pillow
    holds the interpreter lock while it encodes into a Python buffer, but not into a file, so
    pages encoded in threads then use every core."""
    with open(os.memfd_create("page", os.MFD_CLOEXEC), "w+b") as f:
        image.save(f, fmt, **params)
        f.seek(0)
        return f.read()


def _jpeg_size(image: Image.Image, quality: int) -> int:
    return len(saved(image, "JPEG", quality=quality))


def mixed_page(page: ScannedPage, quality: int) -> tuple[bytes, bytes, bytes]:
    """Text as a CCITT G4 mask over a colour JPEG patch where the seal or signature is: the
    one-page PDF, and its two image streams in the order of their names (/Bg, /Fg).

    A seal page then costs little more than a text page, and the seal keeps its colour at
    the scan's full resolution.
    """
    assert page.colour_box is not None
    rgb = _as(page.image, "RGB")
    x0, y0, x1, y1 = page.colour_box
    patch = rgb.crop(page.colour_box)
    mask = to_bilevel(rgb)
    ink = np.asarray(mask.crop(page.colour_box)) | chroma_mask(balanced(patch), MASK_MAX_CHROMA)
    mask.paste(Image.fromarray(ink), (x0, y0))  # coloured strokes belong to the patch only
    strip = tiff_strip(g4_tiff(mask, page.dpi))
    jpeg = saved(clean_background(patch), "JPEG", quality=quality)

    pdf = pikepdf.new()
    pt = 72.0 / page.dpi
    w, h = rgb.size
    fg = pikepdf.Stream(pdf, strip, Type=pikepdf.Name.XObject,
                        Subtype=pikepdf.Name.Image, Width=w, Height=h, ImageMask=True,
                        BitsPerComponent=1, Filter=pikepdf.Name.CCITTFaxDecode,
                        DecodeParms=pikepdf.Dictionary(K=-1, Columns=w, Rows=h, BlackIs1=True))
    bg = pikepdf.Stream(pdf, jpeg, Type=pikepdf.Name.XObject,
                        Subtype=pikepdf.Name.Image, Width=x1 - x0, Height=y1 - y0,
                        ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8,
                        Filter=pikepdf.Name.DCTDecode)
    draw = (f"q {(x1 - x0) * pt:.3f} 0 0 {(y1 - y0) * pt:.3f} {x0 * pt:.3f} "
            f"{(h - y1) * pt:.3f} cm /Bg Do Q q 0 g {w * pt:.3f} 0 0 {h * pt:.3f} 0 0 cm "
            "/Fg Do Q")
    pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, round(w * pt, 3), round(h * pt, 3)],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Bg=bg, Fg=fg)),
        Contents=pikepdf.Stream(pdf, draw.encode()))))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue(), jpeg, strip


def tiff_strip(tiff: bytes) -> bytes:
    """The G4 data of a one-strip TIFF, as a PDF embeds it."""
    with Image.open(io.BytesIO(tiff)) as t:
        start, length = t.tag_v2[273][0], t.tag_v2[279][0]
    return tiff[start:start + length]


def _as(image: Image.Image, mode: str) -> Image.Image:
    """`image` in `mode`; itself, not Pillow's copy, when it is in that mode already."""
    return image if image.mode == mode else image.convert(mode)


def _kind_of_mode(image: Image.Image) -> Kind:
    return {"1": "bilevel", "L": "gray"}.get(image.mode, "color")  # type: ignore[return-value]


def to_bilevel(image: Image.Image) -> Image.Image:
    """Black text on white at Otsu's threshold (paper tint and scanner noise vanish)."""
    if image.mode == "1":
        return image
    gray = _as(image, "L")
    t = text_threshold(gray)
    return gray.point(lambda v: 255 if v > t else 0, mode="1")


def white_pixels(image: Image.Image) -> Image.Image | np.ndarray:
    """`to_bilevel(image)` as `g4_tiff` takes it, for less: a boolean array (True: white)
    rather than Pillow's 1-bit image, which costs a full pass more to make and to unpack."""
    if image.mode == "1":
        return image
    gray = _as(image, "L")
    return np.asarray(gray) > text_threshold(gray)


def text_threshold(gray: Image.Image) -> int:
    """Otsu's threshold of a grey page, never above 3/4 of the paper: on a nearly empty page
    Otsu would split the paper's noise."""
    hist = np.array(_reduced(gray).histogram())
    return min(otsu(hist), int(hist_percentile(hist, PAPER_PERCENTILE) * 0.75))


def _reduced(image: Image.Image) -> Image.Image:
    """A quarter-size copy to take levels from (the page itself when it is small)."""
    return image.reduce(4) if min(image.size) > 400 else image


def otsu(hist: np.ndarray) -> int:
    """Otsu's threshold of an 8-bit image from its 256-bin histogram."""
    hist = hist.astype(np.float64)
    total = hist.sum()
    levels = np.arange(256)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (m0[-1] * w0 / total - m0) ** 2 / (w0 * w1)
    between = between[:-1]
    return 127 if np.all(np.isnan(between)) else int(np.nanargmax(between))


def clean_background(image: Image.Image, levels: Sequence[int] | None = None) -> Image.Image:
    """Stretch each channel so the paper becomes pure white: scanner noise and paper tint
    on the background cost JPEG most of its bytes, and the ink is untouched.

    The paper's levels are read from `levels`, the histogram of a small copy of the page in its
    mode (the analysis copy's, counted already: no pass over the full page but the stretch),
    else from a quarter-size copy made here."""
    hist = levels or _reduced(image).histogram()  # one Pillow pass for every band
    white = [max(hist_percentile(hist[c:c + 256], PAPER_PERCENTILE) * WHITE_SHARE, 16.0)
             for c in range(0, len(hist), 256)]
    lut: list[int] = []
    for w in white:
        lut += [min(255, round(v * 255.0 / w)) for v in range(256)]
    return image.point(lut)


def page_image_digests(pdf: pikepdf.Pdf) -> list[str]:
    """SHA-256 of each page's image data as stored (raw, still compressed), in page order."""
    digests = []
    for page in pdf.pages:
        h = hashlib.sha256()
        resources = page.obj.get("/Resources", {})
        xobjects = resources.get("/XObject", {})
        for name in sorted(xobjects.keys()):  # images only: a text layer is not the scan
            if xobjects[name].get("/Subtype") == "/Image":
                h.update(xobjects[name].read_raw_bytes())
        digests.append(h.hexdigest())
    return digests


def page_record(idx: int, file: str, data: bytes, *, blank: bool = False,
                kind: str = "", cover: str = "", image_sha: str = "") -> Page:
    """The queue's record of a spooled page: file checksum, image digest and verdicts.

    A page just encoded comes with its kind and image digest (`encode_page` sets them); a page
    adopted after a crash has neither, and its PDF is read for them."""
    if not (kind and image_sha):
        with pikepdf.open(io.BytesIO(data)) as pdf:
            (image_sha,) = page_image_digests(pdf)
            kind = kind or _kind_of_stream(pdf)  # adopted: its encoding tells its kind
    return Page(idx=idx, file=file, sha256=hashlib.sha256(data).hexdigest(),
                image_sha256=image_sha, bytes=len(data), blank=blank, kind=kind,
                cover=cover)


def _kind_of_stream(pdf: pikepdf.Pdf) -> str:
    images = list(pdf.pages[0].Resources.XObject.values())
    if len(images) == 2:
        return "mixed"
    (image,) = images
    if image.get("/BitsPerComponent") == 1:
        return "bilevel"
    return "gray" if image.get("/ColorSpace") == "/DeviceGray" else "color"


def content_digest(page_digests: list[str]) -> str:
    """The digest of a document's images, stored in its metadata; survives file renames."""
    return hashlib.sha256("".join(page_digests).encode()).hexdigest()
