"""Visits and the citizens' queue (edge/field/visits.py, edge/field/queue.py) on a real field.db:
numbers of a day, calling order, states, visits closed at midnight or after a power cut, jobs
attached, counts, the `[[places]]` config."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from edge import config
from edge.errors import ConfigError, StateConflict
from edge.field import db, queue, visits

DAY = dt.datetime(2026, 12, 3, 8, 0).timestamp()
MIN = 60.0


def test_no_number_without_an_open_visit(tmp_path):
    with pytest.raises(StateConflict, match="no visit is open") as e:
        queue.issue(tmp_path, "reception", now=DAY)
    assert "buổi lưu động" in e.value.vi


def test_a_visit_starts_and_ends_once(tmp_path):
    v = visits.start(tmp_path, "  Thôn   Đông ", "Nhà văn hóa thôn Đông", now=DAY)
    assert (v.place, v.day, v.ended) == ("Thôn Đông", "2026-12-03", None)
    with pytest.raises(StateConflict, match="still open"):
        visits.start(tmp_path, "Thôn Tây", now=DAY + MIN)
    assert visits.current(tmp_path, DAY + MIN) == v
    waiting = queue.issue(tmp_path, "support", now=DAY + 2 * MIN)
    ended = visits.end(tmp_path, now=DAY + 60 * MIN)
    assert (ended.ended, ended.end_reason) == (DAY + 60 * MIN, "ended")
    left = queue.get(tmp_path, waiting.id)  # not served before the end: left
    assert (left.state, left.finished) == ("left", DAY + 60 * MIN)
    assert visits.current(tmp_path, DAY + 61 * MIN) is None
    with pytest.raises(StateConflict, match="no visit is open"):
        visits.end(tmp_path, now=DAY + 62 * MIN)
    with pytest.raises(visits.VisitError, match="needs a place"):
        visits.start(tmp_path, "   ", now=DAY)
    with pytest.raises(visits.VisitError, match="at most 80"):
        visits.start(tmp_path, "x" * 81, now=DAY)


def test_numbers_count_up_through_the_day_priority_first(tmp_path):
    visits.start(tmp_path, "Thôn Đông", now=DAY)
    issued = [queue.issue(tmp_path, "digitise", p, now=DAY + i)
              for i, p in enumerate([None, None, "elderly", None, "disability"])]
    assert [e.n for e in issued] == [1, 2, 3, 4, 5]
    other = queue.issue(tmp_path, "support", now=DAY + 10)
    assert other.n == 6
    assert [e.n for e in queue.waiting(tmp_path, "digitise", DAY)] == [3, 5, 1, 2, 4]
    calls = [queue.call_next(tmp_path, "digitise", DAY + 20 + i) for i in range(5)]
    assert [c.n for c in calls if c] == [3, 5, 1, 2, 4]
    assert queue.call_next(tmp_path, "digitise", DAY + 30) is None
    assert [e.n for e in queue.called(tmp_path, "digitise", DAY)] == [4, 2, 1, 5, 3]
    assert queue.call_next(tmp_path, "support", DAY + 31).n == 6


def test_called_numbers_are_recalled_served_or_left(tmp_path):
    visits.start(tmp_path, "Thôn Đông", now=DAY)
    a, b, c = (queue.issue(tmp_path, "reception", now=DAY + i) for i in range(3))
    queue.call_next(tmp_path, "reception", DAY + 10)
    assert queue.recall(tmp_path, a.id, DAY + 20).last_called == DAY + 20
    with pytest.raises(StateConflict, match="only a called number"):
        queue.done(tmp_path, b.id, DAY + 21)
    served = queue.done(tmp_path, a.id, DAY + 30)
    assert (served.state, served.called, served.finished) == ("done", DAY + 10, DAY + 30)
    assert queue.left(tmp_path, b.id, DAY + 31).state == "left"  # waiting, then gone
    queue.call_next(tmp_path, "reception", DAY + 40)
    assert queue.left(tmp_path, c.id, DAY + 41).state == "left"  # called, never came
    with pytest.raises(StateConflict, match="finished already"):
        queue.left(tmp_path, a.id, DAY + 42)
    assert queue.waiting(tmp_path, now=DAY) == []


def test_bad_area_or_priority_is_refused(tmp_path):
    visits.start(tmp_path, "Thôn Đông", now=DAY)
    with pytest.raises(visits.VisitError, match="area 'kitchen'"):
        queue.issue(tmp_path, "kitchen", now=DAY)
    with pytest.raises(visits.VisitError, match="priority 'vip'"):
        queue.issue(tmp_path, "reception", "vip", now=DAY)


def test_numbers_restart_each_day_and_are_never_reused(tmp_path):
    visits.start(tmp_path, "Thôn Đông", now=DAY)
    first = queue.issue(tmp_path, "reception", now=DAY)
    conn = db.connect(tmp_path)  # an entry lost (say, deleted by hand): its number stays used
    conn.execute("DELETE FROM queue WHERE id = ?", (first.id,))
    conn.close()
    assert queue.issue(tmp_path, "reception", now=DAY + 1).n == 2
    tomorrow = DAY + 24 * 3600
    assert visits.current(tmp_path, tomorrow) is None  # closed at midnight
    visits.start(tmp_path, "Thôn Tây", now=tomorrow)
    assert queue.issue(tmp_path, "reception", now=tomorrow).n == 1


def test_a_visit_left_open_is_closed_at_midnight_or_at_its_last_activity(tmp_path):
    v = visits.start(tmp_path, "Thôn Đông", now=DAY)
    e = queue.issue(tmp_path, "reception", now=DAY + 5 * MIN)
    queue.call_next(tmp_path, "reception", DAY + 9 * MIN)
    queue.done(tmp_path, e.id, DAY + 15 * MIN)
    assert visits.current(tmp_path, DAY + 24 * 3600, stale="power") is None
    closed = visits.get(tmp_path, v.id)
    assert (closed.ended, closed.end_reason) == (DAY + 15 * MIN, "power")
    v2 = visits.start(tmp_path, "Thôn Tây", now=DAY + 24 * 3600)
    assert visits.current(tmp_path, DAY + 48 * 3600) is None  # the service saw midnight
    closed = visits.get(tmp_path, v2.id)
    assert closed.end_reason == "midnight"
    assert dt.datetime.fromtimestamp(closed.ended) == dt.datetime(2026, 12, 4, 23, 59, 59)


def test_jobs_and_counts_belong_to_the_open_visit(tmp_path):
    assert visits.attach_job(tmp_path, 1, DAY - MIN) is None
    v = visits.start(tmp_path, "Thôn Đông", now=DAY)
    assert visits.attach_job(tmp_path, 2, DAY + MIN) == v.id
    visits.count(tmp_path, "slips", now=DAY + MIN)
    visits.count(tmp_path, "slips", 2, now=DAY + 2 * MIN)
    visits.end(tmp_path, now=DAY + 60 * MIN)
    visits.count(tmp_path, "slips", now=DAY + 61 * MIN)  # no visit: not counted
    assert visits.counts(tmp_path, v.id) == {"slips": 3}
    # a crash between making job 3 and attaching it: recovery attaches it by its time
    assert visits.attach_missed(tmp_path, [(1, DAY - MIN), (2, DAY + MIN), (3, DAY + 30 * MIN),
                                           (4, DAY + 90 * MIN)]) == 1
    conn = db.connect(tmp_path)
    rows = conn.execute("SELECT job_id, visit FROM visit_jobs ORDER BY job_id").fetchall()
    conn.close()
    assert [tuple(r) for r in rows] == [(2, v.id), (3, v.id)]


def test_a_ticket_links_a_number_to_its_dossier(tmp_path):
    visits.start(tmp_path, "Thôn Đông", now=DAY)
    e = queue.issue(tmp_path, "digitise", now=DAY)
    queue.link_ticket(tmp_path, e.id, "PL01-261203-001")
    assert queue.number_of(tmp_path, "PL01-261203-001") == e.n
    assert queue.find(tmp_path, e.n, DAY).ticket == "PL01-261203-001"


def test_a_version_1_database_gains_last_called(tmp_path):
    conn = sqlite3.connect(tmp_path / db.FILE)
    conn.executescript(db.SCHEMA.replace("    last_called REAL,", "").replace(
        "-- the latest call (a recall shows the number again)\n", ""))
    conn.execute("INSERT INTO meta VALUES ('version', '1')")
    conn.commit()
    conn.close()
    conn = db.connect(tmp_path)
    cols = {r[1] for r in conn.execute("PRAGMA table_info(queue)")}
    assert "last_called" in cols
    assert conn.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0] == "2"
    conn.close()


def test_places_config_is_checked_and_typed_places_are_remembered(tmp_path):
    base = f'[kit]\nid = "PL01"\n[storage]\nroot = "{tmp_path}"\n'
    cfg = config.loads(base + '[[places]]\nname = "Thôn Đông"\nvenue = "Nhà văn hóa thôn Đông"'
                       '\n[[places]]\nname = "Tổ dân phố 3"\nkind = "tổ dân phố"\n',
                       tmp_path / "edge.toml")
    assert [(p.name, p.kind) for p in cfg.places] == [("Thôn Đông", "thôn"),
                                                      ("Tổ dân phố 3", "tổ dân phố")]
    for bad, expected in [('name = "Thôn Đông"\n[[places]]\nname = "thôn đông"', "duplicate"),
                          ('name = ""', "places\\[0\\].name: must be 1-80"),
                          ('name = "A"\nkind = "village"', "places\\[0\\].kind"),
                          ('name = "A"\nhamlet = 1', "unknown key 'hamlet'")]:
        with pytest.raises(ConfigError, match=expected):
            config.loads(base + "[[places]]\n" + bad + "\n", tmp_path / "edge.toml")
    visits.start(tmp_path, "Thôn Mới", "Sân đình", now=DAY)
    visits.end(tmp_path, now=DAY + MIN)
    visits.start(tmp_path, "Thôn Đông", now=DAY + 2 * MIN)
    assert [p.name for p in visits.places(cfg)] == ["Thôn Đông", "Tổ dân phố 3", "Thôn Mới"]


# ------------------------------------------------------------------ the command line


def cli_kit(kit, tmp_path):
    kit.configure([])
    kit.config.write_text(kit.config.read_text() + f"""
[[receipt_printer]]
name = "slip"
transport = "file"
path = "{tmp_path / 'printer.bin'}"

[[places]]
name = "Thôn Đông"
venue = "Nhà văn hóa thôn Đông"
""", encoding="utf-8")


def test_cli_visit_and_queue(kit, tmp_path):
    import json

    from PIL import Image

    cli_kit(kit, tmp_path)
    r = kit.edge("queue", "issue", "--area", "digitise")
    assert r.returncode == 1 and "no visit is open" in r.stderr
    r = kit.edge("visit", "start", "--place", "Thôn Đông", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["venue"] == "Nhà văn hóa thôn Đông"
    assert kit.edge("visit", "start", "--place", "Thôn Tây").returncode == 1
    r = kit.edge("queue", "issue", "--area", "digitise", "--json")
    assert json.loads(r.stdout)["n"] == 1 and json.loads(r.stdout)["slip"] == "printed"
    assert (tmp_path / "printer.bin").stat().st_size > 1000
    r = kit.edge("queue", "issue", "--area", "digitise", "--priority", "elderly")
    assert r.stdout.strip() == "number 2 issued for digitise (priority: elderly); slip printed"
    r = kit.edge("queue", "next", "--area", "digitise", "--json")
    assert json.loads(r.stdout)["n"] == 2
    assert kit.edge("queue", "done", "2").stdout.strip() == "number 2: done"
    assert kit.edge("queue", "left", "1").stdout.strip() == "number 1: left"
    r = kit.edge("queue", "done", "1")
    assert r.returncode == 1 and "number 1 is left" in r.stderr
    r = kit.edge("queue", "next")  # --area missing: argparse says so
    assert r.returncode == 2 and "--area" in r.stderr
    assert json.loads(kit.edge("queue", "list", "--json").stdout) == {"queue": []}
    Image.new("RGB", (400, 600), "white").save(tmp_path / "page.png", dpi=(200, 200))
    assert kit.edge("import", str(tmp_path / "page.png"), "--doc", "CCCD").returncode == 0
    show = json.loads(kit.edge("visit", "show", "--json").stdout)
    assert show["queue"] == {"waiting": 0, "called": 0, "done": 1, "left": 1}
    conn = db.connect(kit.root)
    assert conn.execute("SELECT COUNT(*) FROM visit_jobs WHERE visit = ?",
                        (show["id"],)).fetchone()[0] == 1
    conn.close()
    r = kit.edge("visit", "end")
    assert r.returncode == 0 and r.stdout.startswith(f"visit {show['id']} at Thôn Đông ended")
    assert "no visit is open" in kit.edge("visit", "show").stdout


def test_visit_events_go_to_telemetry_without_tickets(kit, tmp_path):
    """`edge visit start|end` with no service running: the events wait in the outbox, valid
    against docs/schemas/event.schema.json, with the place and the counts, never a ticket."""
    import json

    from edge.telemetry.outbox import Outbox
    from edge.telemetry.store import Store

    from .peers import free_port
    from .telemetry_kit import validate

    cli_kit(kit, tmp_path)
    with open(kit.config, "a", encoding="utf-8") as f:
        f.write(f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {free_port()}\n')
    assert kit.edge("visit", "start", "--place", "Thôn Đông").returncode == 0
    for priority in ("elderly", None):
        kit.edge("queue", "issue", "--area", "support",
                 *(["--priority", priority] if priority else []))
    kit.edge("queue", "next", "--area", "support")
    kit.edge("queue", "done", "1")
    assert kit.edge("visit", "end").returncode == 0
    messages = Outbox(Store(kit.root / "telemetry.db"), 1000).after(0, 1000)
    events = [validate(m.topic, m.payload) for m in messages if m.topic.endswith("/event")]
    visit = [(e["type"], e["data"]) for e in events if e["type"].startswith("visit/")]
    assert visit == [("visit/started", {"visit": 1, "place": "Thôn Đông"}),
                     ("visit/ended", {"visit": 1, "place": "Thôn Đông", "reason": "ended",
                                      "issued": 2, "served": 1, "served_priority": 1,
                                      "left": 1, "slips": 0})]
    assert "PL01-" not in json.dumps(events)
