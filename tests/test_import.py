"""`edge import`: files take the same steps, names and checksums as scans."""

import json
import subprocess
from pathlib import Path

import img2pdf
import pikepdf

from .pages import sample_set

A4_PT = (595.3, 841.9)


def test_import_photos_pdfs_and_scans_refusing_garbage(kit, tmp_path):
    text, _ = sample_set()["text"]
    seal, _ = sample_set()["red-seal"]
    photo = tmp_path / "zalo photo.JPG"  # a phone photo: no meaningful dpi
    text.resize((1240, 1754)).save(photo, quality=90)
    scan = tmp_path / "mfp.tif"  # a scan-to-folder TIFF at 300 dpi, half an A4 high
    seal.crop((0, 1169, 1654, 2339)).resize((2481, 1755)).save(scan, dpi=(300, 300))
    pdf = tmp_path / "ho-so.pdf"
    pages = []
    for name in ("yellowed-text", "id-card"):
        path = tmp_path / f"{name}.jpg"
        sample_set()[name][0].save(path, dpi=(200, 200))
        pages.append(str(path))
    pdf.write_bytes(img2pdf.convert(pages))
    junk = tmp_path / "notes.docx"
    junk.write_bytes(b"PK\x03\x04 not an image")
    r = kit.edge("import", "--doc", "Giấy khai sinh", "--json", str(photo), str(junk), str(pdf),
                 str(scan))
    assert r.returncode == 1  # something was refused...
    assert "refused" in r.stderr and "notes.docx: not a readable image or PDF" in r.stderr
    job = json.loads(r.stdout)  # ...but everything else is in the PDF
    assert job["state"] == "ready" and job["pages"] == 4 and job["scanner"] == "import"
    out = Path(job["pdf"])
    assert out.name == f"{job['ticket']}_01_giay-khai-sinh.pdf"
    subprocess.run(["sha256sum", "-c", out.name + ".sha256"], cwd=out.parent, check=True,
                   capture_output=True)
    with pikepdf.open(out) as doc:
        sizes = [tuple(round(float(v), 1) for v in p.mediabox[2:]) for p in doc.pages]
    assert abs(sizes[0][0] - A4_PT[0]) < 2 and abs(sizes[0][1] - A4_PT[1]) < 2  # photo -> A4
    assert all(abs(w - A4_PT[0]) < 2 and abs(h - A4_PT[1]) < 2 for w, h in sizes[1:3])  # PDF
    assert abs(sizes[3][0] - A4_PT[0]) < 2 and abs(sizes[3][1] - A4_PT[1] / 2) < 2  # its dpi
    (listed,) = json.loads(kit.edge("jobs", "--json").stdout)
    kinds = [p["kind"] for p in listed["page_list"]]
    assert kinds == ["bilevel", "bilevel", "color", "mixed"]


def test_import_of_nothing_readable_makes_no_job(kit, tmp_path):
    junk = tmp_path / "a.png"
    junk.write_bytes(b"\x89PNG broken")
    r = kit.edge("import", "--doc", "Tờ khai", str(junk), str(tmp_path / "missing.jpg"))
    assert r.returncode == 1 and "nothing to import" in r.stderr
    assert "missing.jpg" in r.stderr
    assert kit.edge("jobs", "--json").stdout.strip() == "[]"
