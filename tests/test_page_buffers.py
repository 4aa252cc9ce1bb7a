"""Page images kept for reuse (edge/drivers/scanner/buffers.py): filled again only once their page
is processed, never more than the pages in flight, gone when scanning stops; and a real SANE
scan through the Worker reuses them with pages unchanged."""

import time

import pikepdf

from edge.drivers.scanner import buffers
from edge.drivers.scanner.buffers import PageBuffers
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.pipeline.worker import Worker

from .conftest import sane_adf

SIZE = (40, 30)


def pixels(value: int) -> bytes:
    return bytes([value]) * (SIZE[0] * SIZE[1] * 3)


def test_an_image_given_back_is_filled_again_with_the_next_page():
    pool = PageBuffers(limit=3)
    with pool.scanning():
        first = pool.image("RGB", SIZE, pixels(10))
        assert pool.lends(first) and first.getpixel((0, 0)) == (10, 10, 10)
        pool.give_back(first)
        second = pool.image("RGB", SIZE, pixels(200))
    assert second is first and pool.reused == 1
    assert second.getpixel((5, 5)) == (200, 200, 200)


def test_an_image_lent_is_never_handed_out_again_and_the_pool_stays_bounded():
    pool = PageBuffers(limit=2)
    with pool.scanning():
        lent = [pool.image("RGB", SIZE, pixels(n)) for n in (1, 2, 3)]
        assert len({id(i) for i in lent}) == 3
        assert [pool.lends(i) for i in lent] == [True, True, False]  # the third is its own
        assert [i.getpixel((0, 0))[0] for i in lent] == [1, 2, 3]
        pool.give_back(lent[2])  # not kept: nothing to give back
        assert pool.kept == 2 and pool.reused == 0
        pool.give_back(lent[1])
        assert pool.image("RGB", SIZE, pixels(9)) is lent[1]
        assert lent[0].getpixel((0, 0))[0] == 1  # still its page's


def test_an_image_of_another_size_makes_room():
    pool = PageBuffers(limit=1)
    with pool.scanning():
        small = pool.image("RGB", SIZE, pixels(1))
        pool.give_back(small)
        big = pool.image("RGB", (80, 60), bytes(80 * 60 * 3))
        assert big is not small and pool.lends(big) and pool.kept == 1


def test_kept_images_go_when_scanning_has_stopped_for_a_while():
    pool = PageBuffers(limit=2, keep_seconds=0.05)
    with pool.scanning():
        done = pool.image("RGB", SIZE, pixels(1))
        dropped = pool.image("RGB", SIZE, pixels(2))  # its scan stops before it is given back
        pool.give_back(done)
    assert pool.kept == 1
    with pool.scanning():  # a scan soon after keeps what was there
        time.sleep(0.1)
        assert pool.kept == 1
        pool.give_back(dropped)  # no longer kept: freed by its holder
        assert pool.kept == 1
    time.sleep(0.3)
    assert pool.kept == 0


def test_sane_scans_through_the_worker_reuse_page_images_with_the_same_pages(kit):
    """Two jobs from the real test backend, pages processed in parallel: the second job's colour
    pages are read into the first one's images, and its page streams are the first one's."""
    kit.configure([sane_adf(options={"test-picture": "Color pattern"})])
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    pool = buffers.shared()
    before = pool.reused
    streams = []
    with Queue(storage.db) as queue:
        for _ in range(2):
            job = queue.create(kit="PL01", doc="Giấy khai sinh", scanner="adf", preset="")
            job = Worker(cfg, storage, queue, cfg.scanner[0]).run(job)
            assert job.state == "ready" and job.pages == 10
            with pikepdf.open(job.pdf) as pdf:
                streams.append([img.read_raw_bytes() for page in pdf.pages
                                for img in page.Resources.XObject.values()])
    assert pool.reused - before >= 10  # each page of the second job, at least
    assert streams[0] == streams[1]


def test_a_page_read_outside_a_scan_is_not_kept():
    """Nothing gives back an image read when no scan runs (a driver used on its own): it is
    an image of its own, and the pool's room is left for scans."""
    pool = PageBuffers(limit=2)
    images = [pool.image("RGB", SIZE, pixels(n)) for n in (1, 2, 3)]
    assert pool.kept == 0 and not any(pool.lends(i) for i in images)
    with pool.scanning():
        assert pool.lends(pool.image("RGB", SIZE, pixels(4)))


def test_read_buffers_are_reused_while_scanning_smallest_first_and_the_oldest_make_room():
    pool = PageBuffers(limit=2)
    with pool.scanning():
        small = pool.block(100)
        pool.give_back_block(small)
        assert pool.block(50) is small  # large enough
        pool.give_back_block(small)
        big = pool.block(1000)  # too large for it: a new one
        assert big is not small and len(big) == 1000
        pool.give_back_block(big)
        other = bytearray(10)
        pool.give_back_block(other)
        assert pool.kept_blocks == 2 and pool.block(10) is other  # `small` made room
        pool.give_back_block(other)
        assert pool.block(5) is other and pool.block(5) is big  # the smallest that fits first
    outside = pool.block(10)
    pool.give_back_block(outside)
    assert pool.block(10) is not outside  # not kept when no scan runs
