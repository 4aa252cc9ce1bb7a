"""Encode one processed page into a one-page PDF, the unit the spool keeps on disk.

Bilevel pages become CCITT G4; grey and colour pages become JPEG at the preset quality, after
their paper is cleaned to white. img2pdf embeds them without re-encoding, at the physical size
given by the scan dpi (never its 96 dpi default).
"""

from __future__ import annotations

import hashlib
import io

import img2pdf
import numpy as np
import pikepdf
from PIL import Image

from edge.pipeline.queue import Page
from edge.pipeline.steps import PAPER_PERCENTILE, Kind, ScannedPage, hist_percentile
from edge.pipeline.steps.colour import balanced, chroma_mask

WHITE_SHARE = 0.94  # paper at or above 94 % of its typical brightness becomes white
MIN_DPI = 200
MIN_QUALITY = 30
QUALITY_STEP = 15
PHOTO_FRACTION = 0.2  # colour over a fifth of the page: a photo, left as it was
MASK_MAX_CHROMA = 40  # pixels more coloured than this stay out of the black text layer


def encode_page(page: ScannedPage, quality: int, max_bytes: int = 0) -> bytes:
    """A one-page PDF of a processed page, encoded for its kind, at its scan dpi.

    Over `max_bytes`, the JPEG quality steps down, then the page is resampled towards
    MIN_DPI (never below: archives need 200 dpi); what is still over is kept and noted.
    """
    data = _encode(page, quality)
    while max_bytes and len(data) > max_bytes:
        if page.kind != "bilevel" and quality > MIN_QUALITY:
            quality = next_quality(page, quality, len(data), max_bytes)
        elif page.dpi > MIN_DPI:
            scale = MIN_DPI / page.dpi
            size = (round(page.image.width * scale), round(page.image.height * scale))
            page.image = page.image.resize(size, Image.Resampling.LANCZOS)
            page.dpi = MIN_DPI
            if page.colour_box:
                x0, y0, x1, y1 = (round(v * scale) for v in page.colour_box)
                page.colour_box = (x0, y0, x1, y1)
        else:
            page.notes["over_budget"] = len(data)
            break
        data = _encode(page, quality)
        page.notes["quality"] = quality
    return data


def next_quality(page: ScannedPage, quality: int, size: int, max_bytes: int) -> int:
    """The highest quality of the QUALITY_STEP ladder below `quality` at which the page is
    predicted to fit: each step costs a full-size encode (45 ms at 300 dpi colour), the
    prediction a few encodes of the small analysis copy. The caller checks the real size."""
    ladder = [*range(quality - QUALITY_STEP, MIN_QUALITY, -QUALITY_STEP), MIN_QUALITY]
    small = Image.fromarray(page.small("RGB" if page.image.mode == "RGB" else "L"))
    ref = _jpeg_size(small, quality)
    for q in ladder[:-1]:
        if size * _jpeg_size(small, q) / ref <= max_bytes:
            return q
    return ladder[-1]


def _jpeg_size(image: Image.Image, quality: int) -> int:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.tell()


def _encode(page: ScannedPage, quality: int) -> bytes:
    kind = page.kind = page.kind or _kind_of_mode(page.image)
    buf = io.BytesIO()
    dpi = (page.dpi, page.dpi)
    if kind == "mixed" and page.colour_box:
        return mixed_page(page, quality)
    if kind in ("bilevel", "mixed"):
        buf.write(g4_tiff(to_bilevel(page.image), page.dpi))
    else:
        image = _as(page.image, "RGB" if kind == "color" else "L")
        if page.notes.get("colour_fraction", 0.0) < PHOTO_FRACTION:  # a paper, not a picture
            image = clean_background(image)
        image.save(buf, "JPEG", quality=quality, dpi=dpi)
    return img2pdf.convert(buf.getvalue(), layout_fun=img2pdf.get_fixed_dpi_layout_fun(dpi))


def g4_tiff(bw: Image.Image, dpi: int) -> bytes:
    """CCITT G4 in a one-strip TIFF: img2pdf then copies the data as it is (no transcoding)."""
    buf = io.BytesIO()
    bw.save(buf, "TIFF", compression="group4", dpi=(dpi, dpi), strip_size=1 << 30)
    return buf.getvalue()


def mixed_page(page: ScannedPage, quality: int) -> bytes:
    """Text as a CCITT G4 mask over a colour JPEG patch where the seal or signature is.

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
    tiff = g4_tiff(mask, page.dpi)
    with Image.open(io.BytesIO(tiff)) as t:
        start, length = t.tag_v2[273][0], t.tag_v2[279][0]
    jpeg = io.BytesIO()
    clean_background(patch).save(jpeg, "JPEG", quality=quality)

    pdf = pikepdf.new()
    pt = 72.0 / page.dpi
    w, h = rgb.size
    fg = pikepdf.Stream(pdf, tiff[start:start + length], Type=pikepdf.Name.XObject,
                        Subtype=pikepdf.Name.Image, Width=w, Height=h, ImageMask=True,
                        BitsPerComponent=1, Filter=pikepdf.Name.CCITTFaxDecode,
                        DecodeParms=pikepdf.Dictionary(K=-1, Columns=w, Rows=h, BlackIs1=True))
    bg = pikepdf.Stream(pdf, jpeg.getvalue(), Type=pikepdf.Name.XObject,
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
    return out.getvalue()


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
    hist = np.array(_reduced(gray).histogram())
    # never above 3/4 of the paper: on a nearly empty page Otsu would split the paper's noise
    t = min(otsu(hist), int(hist_percentile(hist, PAPER_PERCENTILE) * 0.75))
    return gray.point(lambda v: 255 if v > t else 0, mode="1")


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


def clean_background(image: Image.Image) -> Image.Image:
    """Stretch each channel so the paper becomes pure white: scanner noise and paper tint
    on the background cost JPEG most of its bytes, and the ink is untouched."""
    hist = _reduced(image).histogram()  # one Pillow pass for every band, no numpy copies
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
                kind: str = "", cover: str = "") -> Page:
    """The queue's record of a spooled page: file checksum, image digest and verdicts."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        (image_sha,) = page_image_digests(pdf)
        if not kind:  # a page adopted after a crash: its encoding tells its kind
            kind = _kind_of_stream(pdf)
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
