"""Cover sheets split a scanned stack into named documents (issue 21)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from edge.pipeline import split
from edge.pipeline.cover import CoverMark, detect_page
from edge.pipeline.queue import Page
from edge.pipeline.steps import ScannedPage
from tests.cover_stack import FOREIGN, MARKS, covers, documents
from tests.test_outbox import sha_ok
from tests.test_web import assert_error, client, web  # noqa: F401 (web: the fixture)


def test_a_cover_payload_reads_back_and_nothing_else_is_a_cover():
    for mark in MARKS:
        assert CoverMark.parse(mark.payload()) == mark
    assert MARKS[1].payload() == "DVC1|PL01-261203-001|2|4|Gi%E1%BA%A5y%20ch%E1%BB%A9ng%20sinh"
    assert MARKS[3].payload().startswith("DVC1||||Gi%E1%BA%A5y%20")  # reusable
    for text in (FOREIGN, "https://dichvucong.gov.vn/?ma=DVC1", "DVC2|x|1|2|abc",
                 "DVC1|x|1|2", "DVC1|x|a|2|abc", "DVC1|x|3|2|abc", "DVC1|||| ", "dvc1||||abc",
                 "DVC1||||%FF"):
        assert CoverMark.parse(text) is None, text


@pytest.mark.parametrize("sheet", covers(), ids=lambda s: s.label)
def test_every_cover_variant_is_recognised(sheet):
    assert detect_page(ScannedPage(sheet.image, sheet.dpi)) == sheet.cover


@pytest.mark.parametrize("sheet", documents(), ids=lambda s: s.label)
def test_no_other_page_is_a_cover(sheet):
    assert detect_page(ScannedPage(sheet.image, sheet.dpi)) is None


def page(idx: int, *, blank: bool = False, cover: CoverMark | None = None) -> Page:
    return Page(idx, f"p{idx}", "", "", 1, blank=blank or cover is not None,
                cover=cover.payload() if cover else "")


def test_a_stack_without_covers_is_left_as_it_is():
    assert split.plan([page(1), page(2, blank=True), page(3)], duplex=True) is None


def test_duplex_cover_backs_are_set_aside_and_empty_covers_join_the_next_document():
    a, b = MARKS[0], MARKS[1]
    # cover a (front 1), its back printed on by mistake (2), content 3-4; cover b with a blank
    # back, then cover a again with nothing after it but a blank page: it starts no document
    pages = [page(1, cover=a), page(2), page(3), page(4), page(5, cover=b),
             page(6, blank=True), page(7), page(8, cover=a), page(9, blank=True)]
    plan = split.plan(pages, duplex=True)
    assert plan == split.Plan(a.doc, [(b.doc, [5, 6, 7, 8, 9], b.ref)], [2], a.ref)
    assert split.plan(pages, duplex=False) == split.Plan(
        a.doc, [(b.doc, [5, 6, 7, 8, 9], b.ref)], [], a.ref)


def stack_files(tmp: Path) -> list[Path]:
    """The generated stack as image files, in feeding order: a page before the first cover,
    then four documents behind covers of every kind (see tests/cover_stack.py)."""
    docs = {s.label: s for s in documents()}
    c = covers()
    order = [docs["text"], c[0], docs["table-form"], docs["text-skewed-4"], c[1],
             docs["foreign QR"], c[2], docs["id-card"], docs["blank-back"], c[3],
             docs["red-seal"]]
    files = []
    for n, sheet in enumerate(order, 1):
        path = tmp / f"{n:02d}.png"
        sheet.image.save(path, dpi=(sheet.dpi, sheet.dpi))
        files.append(path)
    return files


def test_an_imported_stack_splits_into_named_documents(kit, tmp_path):
    r = kit.edge("import", "--doc", "Giấy tờ khác", "--json", *map(str, stack_files(tmp_path)))
    assert r.returncode == 0, r.stderr
    ticket = json.loads(r.stdout)["ticket"]
    dossier = json.loads(kit.edge("dossier", "show", ticket, "--json").stdout)
    got = [(d["seq"], d["doc"], d["pages"], d["state"]) for d in dossier["documents"]]
    assert got == [(1, "Giấy tờ khác", 1, "ready"), (2, "Tờ khai đăng ký khai sinh", 2, "ready"),
                   (3, "Giấy chứng sinh", 1, "ready"), (4, "CCCD của cha/mẹ", 1, "ready"),
                   (5, "Giấy chứng nhận kết hôn", 1, "ready")]
    names = [Path(d["files"][0]["path"]).name for d in dossier["documents"]]
    assert names == [f"{ticket}_01_giay-to-khac.pdf", f"{ticket}_02_to-khai-dang-ky-khai-sinh.pdf",
                     f"{ticket}_03_giay-chung-sinh.pdf", f"{ticket}_04_cccd-cua-cha-me.pdf",
                     f"{ticket}_05_giay-chung-nhan-ket-hon.pdf"]
    for d in dossier["documents"]:
        path = Path(d["files"][0]["path"])
        sha_ok(path)
        with pikepdf.open(path) as pdf:
            assert len(pdf.pages) == d["pages"]
    # covers (and the blank back) stay in the jobs, set aside
    assert [d["blank_pages"] for d in dossier["documents"]] == [0, 1, 1, 2, 1]
    assert kit.edge("verify").returncode == 0


def import_stack(kit, tmp: Path, sheets: list[tuple[CoverMark | None, str]]) -> str:
    """Import a stack of cover sheets (a mark, rasterised at 200 dpi) and document pages (a
    label of tests/cover_stack.documents()): the ticket of the job, once settled."""
    from tests.cover_stack import rasterised

    docs = {s.label: s for s in documents()}
    files = []
    for n, (mark, label) in enumerate(sheets, 1):
        image = rasterised(mark, 200, "gray") if mark else docs[label].image
        files.append(tmp / f"{n:02d}.png")
        image.save(files[-1], dpi=(200, 200))
    r = kit.edge("import", "--doc", "Giấy tờ khác", "--json", *map(str, files))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["ticket"]


def documents_of(kit, ticket: str) -> list[tuple[int, str, int, str]]:
    dossier = json.loads(kit.edge("dossier", "show", ticket, "--json").stdout)
    for d in dossier["documents"]:
        if d["files"]:
            assert Path(d["files"][0]["path"]).name.startswith(f"{ticket}_{d['seq']:02d}_")
    return [(d["seq"], d["doc"], d["pages"], d["message"]) for d in dossier["documents"]]


def test_covers_naming_other_dossiers_send_their_documents_there(kit, tmp_path):
    a = import_stack(kit, tmp_path, [(None, "text")])
    b = import_stack(kit, tmp_path, [(None, "table-form")])
    birth, card, book = "Giấy chứng sinh", "CCCD của cha/mẹ", "Sổ hộ khẩu"
    c = import_stack(kit, tmp_path, [
        (None, "text"), (CoverMark(birth, a, 2, 3), ""), (None, "id-card"),
        (CoverMark(card), ""), (None, "red-seal"), (None, "text-skewed-4"),  # still dossier a
        (CoverMark(book, b), ""), (None, "table-form"), (None, "text")])  # then b
    assert c not in (a, b)
    assert documents_of(kit, c) == [(1, "Giấy tờ khác", 1, "")]
    assert documents_of(kit, a) == [(1, "Giấy tờ khác", 1, ""), (2, birth, 1, ""),
                                    (3, card, 2, "")]
    assert documents_of(kit, b) == [(1, "Giấy tờ khác", 1, ""), (2, book, 2, "")]
    from edge.pipeline import regroup
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage

    storage = Storage(kit.cfg().storage.root)
    with Queue(storage.db) as queue:  # no document before it in dossier a to join it to
        first_in_a = queue.dossier(a)[1]
        assert regroup_refused(lambda: regroup.unsplit(storage, queue, first_in_a.id, "test"))
        assert regroup_refused(lambda: regroup.move(queue, first_in_a.id, 1, "test"))
        second_in_a = queue.dossier(a)[2]
        assert regroup.unsplit(storage, queue, second_in_a.id, "test").id == first_in_a.id
    _assemble(kit)
    assert documents_of(kit, a) == [(1, "Giấy tờ khác", 1, ""), (2, birth, 3, "")]
    # a stack whose first page is a cover for dossier a: the whole job goes there
    moved = import_stack(kit, tmp_path, [(CoverMark(book, a), ""), (None, "text")])
    assert moved == a
    assert documents_of(kit, a)[-1] == (3, book, 1, "")
    assert kit.edge("verify").returncode == 0


def test_a_cover_naming_an_unknown_or_uploaded_dossier_moves_no_page(kit, tmp_path):
    done = import_stack(kit, tmp_path, [(None, "text")])
    assert kit.edge("uploaded", done).returncode == 0
    unknown = "PL01-991231-042"
    birth, card, book = "Giấy chứng sinh", "CCCD của cha/mẹ", "Sổ hộ khẩu"
    ticket = import_stack(kit, tmp_path, [
        (None, "text"), (CoverMark(birth, unknown), ""), (None, "id-card"),
        (CoverMark(card, done), ""), (None, "red-seal"), (CoverMark(book), ""),
        (None, "table-form")])
    got = documents_of(kit, ticket)
    assert [g[:3] for g in got] == [(1, "Giấy tờ khác", 1), (2, birth, 1), (3, card, 1),
                                    (4, book, 1)]
    assert got[0][3] == got[3][3] == ""
    assert got[1][3] == (f"the cover sheet names dossier {unknown}, which this kit does not "
                         f"have: its pages were kept in dossier {ticket}; move them if they "
                         "belong elsewhere")
    assert f"names dossier {done}, which is already uploaded: its pages were kept" in got[2][3]
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage

    with Queue(Storage(kit.cfg().storage.root).db) as queue:
        vi = [j.message_vi for j in queue.dossier(ticket)]
    assert vi[1] == (f"Tờ phân cách ghi hồ sơ {unknown} nhưng máy này không có hồ sơ đó, nên "
                     f"các trang được giữ trong hồ sơ {ticket}. Hãy chuyển nếu cần.")
    assert "nhưng hồ sơ đó đã nộp xong" in vi[2]
    assert len(documents_of(kit, done)) == 1
    assert kit.edge("verify").returncode == 0


def test_a_split_is_moved_then_undone_and_the_files_are_rebuilt(kit, tmp_path):
    from edge.pipeline import regroup
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage

    r = kit.edge("import", "--doc", "Giấy tờ khác", "--json", *map(str, stack_files(tmp_path)))
    ticket = json.loads(r.stdout)["ticket"]
    storage = Storage(kit.cfg().storage.root)
    with Queue(storage.db) as queue:
        docs = queue.dossier(ticket)
        assert regroup_refused(lambda: regroup.unsplit(storage, queue, docs[0].id, "test"))
        old = {j.seq: j.files[0] for j in docs}
        # the cover of document 2 was put one page too early: its first page belongs before it
        moved = regroup.move(queue, docs[1].id, 1, "test")
        assert moved.state == "assembling"
        assert queue.get(docs[0].id).state == "assembling"
        assert regroup_refused(lambda: regroup.move(queue, docs[1].id, -1, "test"))
    _assemble(kit)
    with Queue(storage.db) as queue:
        docs = queue.dossier(ticket)
        assert [(j.seq, j.pages) for j in docs] == [(1, 2), (2, 1), (3, 1), (4, 1), (5, 1)]
        assert docs[1].files[0].sha256 != old[2].sha256
        assert regroup_refused(lambda: regroup.move(queue, docs[1].id, 1, "test"))
        joined = regroup.unsplit(storage, queue, docs[2].id, "test")  # Giấy chứng sinh
        assert joined.id == docs[1].id
    _assemble(kit)
    dossier = json.loads(kit.edge("dossier", "show", ticket, "--json").stdout)
    got = [(d["seq"], d["doc"], d["pages"], d["state"]) for d in dossier["documents"]]
    assert got == [(1, "Giấy tờ khác", 2, "ready"), (2, "Tờ khai đăng ký khai sinh", 2, "ready"),
                   (3, "CCCD của cha/mẹ", 1, "ready"), (4, "Giấy chứng nhận kết hôn", 1, "ready")]
    names = sorted(p.name for p in kit.outbox_files() if p.suffix == ".pdf")
    assert names == sorted([f"{ticket}_01_giay-to-khac.pdf",
                            f"{ticket}_02_to-khai-dang-ky-khai-sinh.pdf",
                            f"{ticket}_03_cccd-cua-cha-me.pdf",
                            f"{ticket}_04_giay-chung-nhan-ket-hon.pdf"])
    assert kit.edge("verify").returncode == 0


def test_a_power_cut_while_a_split_is_undone_leaves_no_file_unrecorded(kit, tmp_path,
                                                                        monkeypatch):
    """The cut lands after the transaction, as the undone document's files are removed: they
    belong to the document it joined, and go when that one is rebuilt."""
    from edge.pipeline import outbox, regroup
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage

    r = kit.edge("import", "--doc", "Giấy tờ khác", "--json", *map(str, stack_files(tmp_path)))
    ticket = json.loads(r.stdout)["ticket"]
    storage = Storage(kit.cfg().storage.root)
    with Queue(storage.db) as queue:
        undone = queue.dossier(ticket)[2]
        gone = [Path(f.path) for f in undone.files]

        def cut(pdf):
            raise SystemExit("power cut")

        with monkeypatch.context() as m:
            m.setattr(outbox, "remove", cut)
            with pytest.raises(SystemExit):
                regroup.unsplit(storage, queue, undone.id, "test")
        assert all(p.exists() for p in gone)
        joined = queue.dossier(ticket)[1]
        assert set(gone) <= {Path(f.path) for f in joined.files}  # recorded, as its own
    _assemble(kit)  # the service, started again, rebuilds the documents
    assert not any(p.exists() for p in gone)
    assert kit.edge("verify").returncode == 0, kit.edge("verify").stdout


def regroup_refused(call) -> bool:
    from edge.errors import EdgeError

    try:
        call()
    except EdgeError as e:
        return bool(e.vi)
    return False


def _assemble(kit) -> None:
    """Let the worker assemble the regrouped documents again, as the service would."""
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage
    from edge.pipeline.worker import Worker

    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    with Queue(storage.db) as queue:
        worker = Worker(cfg, storage, queue, cfg.importer())
        while (job := queue.next_for(cfg.importer().name)) is not None:
            worker.run(job)


@pytest.mark.parametrize(("table", "key", "why"), [
    ('name = "A"\ndocuments = []', "procedures[0].documents", "list 1-30 document types"),
    ('name = ""\ndocuments = ["x"]', "procedures[0].name", "must be 1-120 characters"),
    ('name = "A"\ndocuments = ["Giấy chứng sinh", "giấy chứng sinh"]',
     "procedures[0].documents[1]", "listed twice"),
    ('name = "A"\ndocs = ["x"]', "procedures[0]", "unknown key 'docs'"),
])
def test_a_bad_procedure_is_refused_naming_the_key(kit, table, key, why):
    with kit.config.open("a", encoding="utf-8") as f:
        f.write(f"\n[[procedures]]\n{table}\n")
    r = kit.edge("check-config")
    assert r.returncode == 2 and f"{key}: " in r.stderr and why in r.stderr, r.stderr


def test_cover_sheets_of_a_procedure_are_written_and_read_back(kit, tmp_path):
    out = tmp_path / "covers.pdf"
    r = kit.edge("cover", "--procedure", "đăng ký khai sinh", "--pdf", str(out))
    assert r.returncode == 0, r.stderr
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 4
        width, height = (float(v) for v in pdf.pages[0].mediabox[2:])
        assert round(width / 72 * 25.4) == 210 and round(height / 72 * 25.4) == 297
    subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", "-f", "2", "-l", "2", str(out),
                    str(tmp_path / "p")], check=True)
    (png,) = tmp_path.glob("p*.png")
    assert detect_page(ScannedPage(Image.open(png).convert("L"), 200)) == CoverMark(
        "Giấy chứng sinh")
    r = kit.edge("cover", "--dossier", "PL01-261203-999", "--doc", "A", "--pdf", str(out))
    assert r.returncode != 0 and "no job or dossier" in r.stderr
    r = kit.edge("cover", "--procedure", "Không có", "--pdf", str(out))
    assert r.returncode != 0 and "no procedure" in r.stderr


def test_an_mfp_pdf_in_the_hot_folder_splits_the_same_way(kit, tmp_path):
    """A multi-function printer's scan-to-folder: one 300 dpi PDF of the whole stack."""
    import img2pdf

    from edge.pipeline.hotfolder import HotFolder
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage
    from edge.pipeline.worker import Worker
    from tests.test_import import hot_setup

    inbox, cfg, storage = hot_setup(kit, tmp_path)
    c, docs = covers(), {s.label: s for s in documents()}
    order = [c[4], docs["text"], docs["foreign QR"], c[5], docs["table-form"]]  # 300 dpi covers
    pngs = []
    for n, sheet in enumerate(order):
        path = tmp_path / f"{n}.png"
        sheet.image.convert("L").save(path, dpi=(sheet.dpi, sheet.dpi))
        pngs.append(str(path))
    (inbox / "scan0001.pdf").write_bytes(img2pdf.convert(pngs))
    storage = Storage(cfg.storage.root)
    with Queue(storage.db) as queue:
        hot = HotFolder(cfg, storage, queue)
        assert hot.poll(now=0) == []
        (job,) = hot.poll(now=10)
        Worker(cfg, storage, queue, cfg.importer()).run(job)
        got = [(j.seq, j.doc, j.pages, str(j.state)) for j in queue.dossier(job.ticket)]
    assert got == [(1, MARKS[0].doc, 2, "ready"), (2, MARKS[1].doc, 1, "ready")]
    assert kit.edge("verify").returncode == 0


def test_the_cover_api_refuses_bad_requests_in_both_languages(web):  # noqa: F811
    c = client(web, "staff")
    r = c.get("/api/procedures")
    assert r.status_code == 200 and r.json["procedures"][0]["name"] == "Đăng ký khai sinh"
    r = c.get("/api/covers.pdf?doc=Gi%E1%BA%A5y%20ch%E1%BB%A9ng%20sinh&doc=CCCD")
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    for body, status, vi in (({"docs": []}, 400, "Hãy chọn thủ tục"),
                             ({"docs": "Giấy chứng sinh"}, 400, "Danh sách giấy tờ"),
                             ({"docs": ["x" * 121]}, 400, "Danh sách giấy tờ"),
                             ({"docs": ["A"], "ticket": "../etc"}, 404, "Số phiếu"),
                             ({"docs": ["A"], "ticket": "PL01-261203-999"}, 404, "Không tìm thấy"),
                             ({"docs": ["A"]}, 400, "Chưa cấu hình máy in")):
        r = c.post("/api/covers", body)
        assert_error(r, status)
        assert vi in r.json["error_vi"], (body, r.json)
    for path, body, status in (("/api/splits/1/move", {"pages": 2}, 400),
                               ("/api/splits/1/move", {"pages": True}, 400),
                               ("/api/splits/x/undo", {}, 404),
                               ("/api/splits/77/undo", {}, 404)):
        assert_error(c.post(path, body), status)
    assert_error(client(web, "vol").get("/api/procedures"), 403)


def test_a_job_resumed_after_its_split_splits_its_new_pages_only(kit, tmp_path):
    """The card filled up while the split stack was assembled: the job paused; staff freed
    space, refilled the feeder and resumed. The new pages continue the last document until a
    new cover; what was split stays as it was, and no page is read twice."""
    from edge.pipeline import actions, imports
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage
    from edge.pipeline.worker import Worker
    from tests.cover_stack import rasterised

    docs = {s.label: s for s in documents()}
    birth, card = "Giấy chứng sinh", "CCCD của cha/mẹ"

    def write(folder: Path, first: int, sheets) -> list[Path]:
        out = []
        for n, sheet in enumerate(sheets, first):
            out.append(folder / f"{n:04d}.png")
            image = rasterised(sheet, 200, "gray") if isinstance(sheet, CoverMark) else sheet
            image.save(out[-1], dpi=(200, 200))
        return out

    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    first = write(tmp_path, 1, [docs["text"].image, CoverMark(birth), docs["id-card"].image])

    def full_once_split(job) -> None:  # the card fills up as the split documents are written
        if job.batch is not None and job.state == "assembling":
            storage.min_free = 1 << 62

    with Queue(storage.db) as queue:
        with imports.sort_out(first, 200) as checked:
            job = imports.queue_import(cfg, storage, queue, checked.good, doc="Giấy tờ khác",
                                       dossier=None)
        worker = Worker(cfg, storage, queue, cfg.importer(), on_change=full_once_split)
        assert worker.run(job).state == "paused"
        assert [(j.doc, j.pages, str(j.state)) for j in queue.dossier(job.ticket)] == [
            ("Giấy tờ khác", 1, "paused"), (birth, 1, "paused")]
        storage.min_free = 0
        worker.on_change = lambda job: None
        write(storage.job_spool(job.id) / "inputs", 4,
              [docs["red-seal"].image, CoverMark(card), docs["table-form"].image])
        job = actions.resume(cfg, storage, queue, job.id, "test")
        assert worker.run(job).state == "ready"
        while (other := queue.next_for(cfg.importer().name)) is not None:
            worker.run(other)
        got = [(j.seq, j.doc, j.pages, str(j.state)) for j in queue.dossier(job.ticket)]
    assert got == [(1, "Giấy tờ khác", 1, "ready"), (2, birth, 2, "ready"),
                   (3, card, 1, "ready")]
    assert kit.edge("verify").returncode == 0
