"""The daily counts gain `visits` (docs/telemetry.md): each visit of the day with its numbers,
times and survey tallies, checked against docs/schemas, stored by the collector; no ticket."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage
from edge.telemetry import counts
from edge.telemetry.fleetdb import FleetDB
from edge.telemetry.service import Telemetry

from .field_day import EXPECTED, write_day
from .telemetry_kit import configure, outbox_rows, validate

DEVICES = [("system", "pi")]


def test_counts_carry_the_days_visits(kit, tmp_path):
    configure(kit, 1883)
    today = dt.date.fromisoformat(counts.today())
    v1, _ = write_day(kit.root, today)
    tel = Telemetry(kit.cfg(), DEVICES)
    with Queue(Storage(kit.root).db) as queue:
        jobs = queue.jobs()
    for j in jobs:  # as the workers report them: each finished job once ready
        tel.on_job(dataclasses.replace(j, state=State.READY) if j.state == State.UPLOADED else j)
    tel.counts_changed()
    (topic, body), = [(t, p) for k, t, p in outbox_rows(kit) if k == "counts"]
    data = validate(topic, body)
    (visit,) = data["visits"]  # the other visit is a week later
    assert visit == {
        "visit": v1, "place": "Thôn Đông", "started": visit["started"], "ended": visit["ended"],
        "served": 4, "served_priority": 2, "left": 2, "jobs": 3, "pages": 7, "slips": 5,
        "waiting_median_s": 360, "waiting_p90_s": 1230, "service_median_s": 300,
        "service_p90_s": 900, "survey_answers": EXPECTED["survey_answers"],
        "survey_satisfied": 3, "survey_scores": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 2}}
    text = body.decode()
    assert all(j.ticket not in text for j in jobs)
    fleet = FleetDB(tmp_path / "fleet.db")  # a collector stores it as it is
    assert fleet.store(topic, body) == "counts"
    assert fleet.counts("PL01", today.isoformat())["visits"][0]["visit"] == v1


def test_counts_without_visits_have_no_visits_key(kit):
    configure(kit, 1883)
    tel = Telemetry(kit.cfg(), DEVICES)
    tel.counts_changed()
    (topic, body), = [(t, p) for k, t, p in outbox_rows(kit) if k == "counts"]
    assert "visits" not in validate(topic, body)
    assert not (kit.root / "field.db").exists()
    assert json.loads(body)["jobs"] == 0
