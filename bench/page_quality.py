"""Benchmark: what page processing does to size, legibility, seals and CPU, against a baseline.

On the generated set of tests/pages.py (200 dpi: text, skewed text, yellowed paper, red seal,
blue signature, ID card, colour and grey photos, a shaded form, a blank back, bleed-through,
near-blank pages), for each page and in total:
- bytes per page: our steps + encoding vs the baseline, img2pdf of JPEG q75 at the same dpi;
- character error rate of `tesseract -l vie` on the text pages rendered back from our PDF page;
- share of red seal pixels still red in our output;
- CPU per page of all our steps and encoding vs the baseline's JPEG + img2pdf.
Targets (issue 3): text pages <= 80 KB with CER <= 1.5 %; the set <= 0.3x the baseline's bytes;
seal colour kept; blank back dropped, near-blank kept; CPU <= 2x the baseline.
Cover sheets (issue 21, tests/cover_stack.py): the detector's CPU per page that is not a cover,
from the shared analysis copy (target <= 3 ms at 200 dpi), and its detection rate on the
generated covers (target 100 %) with no page of the set taken for a cover (0 false splits).

Run: .venv/bin/python bench/page_quality.py
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import img2pdf
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.pipeline.cover import detect_page
from edge.pipeline.encode import encode_page
from edge.pipeline.steps import ScannedPage, StepSettings, blank, chain, colour, deskew
from tests.cover_stack import covers, documents
from tests.pages import DPI, TEXT_PAGES, sample_set, truth

QUALITY = 75
REPEAT = 3


def ours(image: Image.Image) -> tuple[bytes, ScannedPage]:
    page = chain.run(ScannedPage(image, DPI), StepSettings())
    return encode_page(page, QUALITY), page


def baseline(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=QUALITY, dpi=(DPI, DPI))
    return img2pdf.convert(buf.getvalue(), layout_fun=img2pdf.get_fixed_dpi_layout_fun((DPI,) * 2))


def breakdown(image: Image.Image) -> dict[str, float]:
    """CPU seconds of each step and of the encoding, for one page (what dominates)."""
    page = ScannedPage(image, DPI)
    out = {}
    start = time.process_time()
    page.small("L")  # the analysis copies every step shares
    out["analysis copy"] = time.process_time() - start
    for name, step in (("deskew", deskew.run), ("blank", blank.run), ("colour", colour.run)):
        start = time.process_time()
        if not page.blank:
            step(page)
        out[name] = time.process_time() - start
    if not page.blank:
        start = time.process_time()
        encode_page(page, QUALITY)
        out[f"encode ({page.kind})"] = time.process_time() - start
    return out


def cpu(f, *args) -> float:
    start = time.process_time()
    for _ in range(REPEAT):
        f(*args)
    return (time.process_time() - start) / REPEAT


def image_of(pdf_bytes: bytes) -> Image.Image:
    """The page as a reader shows it: rendered back from the PDF by poppler at the scan dpi."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "p.pdf").write_bytes(pdf_bytes)
        subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-singlefile", f"{tmp}/p.pdf",
                        f"{tmp}/p"], check=True)
        return Image.open(f"{tmp}/p.png").convert("RGB")


def ocr(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.convert("L").save(buf, "PNG", dpi=(DPI, DPI))
    out = subprocess.run(["tesseract", "-", "-", "-l", "vie", "--psm", "6"], input=buf.getvalue(),
                         capture_output=True, check=True)
    return out.stdout.decode()


def cer(got: str, want: str) -> float:
    """Character error rate: edit distance over the truth's length (whitespace normalised)."""
    a, b = " ".join(got.split()), " ".join(want.split())
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(len(b), 1)


def red_share(image: Image.Image) -> int:
    a = np.asarray(image.convert("RGB")).astype(np.int16)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    return int(((r - np.maximum(g, b)) > 80).sum())


def main() -> None:
    rows = []
    total_ours = total_base = 0
    cpu_ours = cpu_base = 0.0
    parts: dict[str, float] = {}
    for name, (image, expected) in sample_set().items():
        data, page = ours(image)
        base = baseline(image)
        verdict = "blank" if page.blank else page.kind
        in_pdf = not page.blank
        total_ours += len(data) if in_pdf else 0
        total_base += len(base)
        cpu_ours += cpu(ours, image)
        cpu_base += cpu(baseline, image)
        for part, seconds in breakdown(image).items():
            parts[part] = parts.get(part, 0.0) + seconds
        extra = ""
        if name in TEXT_PAGES:
            extra = f"CER {cer(ocr(image_of(data)), truth(name)):.2%}"
        if name == "red-seal":
            extra = f"red kept {red_share(image_of(data)) / red_share(image):.0%}"
        rows.append((name, expected, verdict, len(data) if in_pdf else 0, len(base), extra))
    print(f"{'page':<20}{'expected':>9}{'verdict':>9}{'ours KB':>9}{'base KB':>9}"
          f"{'ratio':>7}  notes")
    for name, expected, verdict, size, base, extra in rows:
        flag = "" if expected == verdict else "  <-- WRONG"
        print(f"{name:<20}{expected:>9}{verdict:>9}{size / 1024:>9.0f}{base / 1024:>9.0f}"
              f"{size / base:>7.2f}  {extra}{flag}")
    n = len(rows)
    print(f"{'whole set':<38}{total_ours / 1024:>9.0f}{total_base / 1024:>9.0f}"
          f"{total_ours / total_base:>7.2f}  (target <= 0.30)")
    print(f"CPU per page: ours {cpu_ours / n * 1000:.0f} ms, baseline {cpu_base / n * 1000:.0f} ms,"
          f" ratio {cpu_ours / cpu_base:.2f} (target <= 2.00)")
    print("where our CPU goes (ms per page of the set, largest first):")
    for part, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {part:<24}{seconds / n * 1000:>6.1f}")


def cover_detector() -> None:
    """Detection rate on the generated covers, false splits and CPU on the other pages."""
    found = sum(detect_page(ScannedPage(s.image, s.dpi)) == s.cover for s in covers())
    others = documents()
    false = [s.label for s in others if detect_page(ScannedPage(s.image, s.dpi)) is not None]
    spent = 0.0
    for s in others:
        page = ScannedPage(s.image, s.dpi)
        page.small()  # made for blank detection anyway: not the detector's cost
        spent += cpu(detect_page, page)
    print(f"cover sheets: {found}/{len(covers())} detected (target all), "
          f"{len(false)} false split(s) {false or ''} (target 0)")
    print(f"cover detector CPU per non-cover page at {DPI} dpi: "
          f"{spent / len(others) * 1000:.2f} ms (target <= 3 ms)")


if __name__ == "__main__":
    main()
    cover_detector()
