"""The commune/province server: the fleet store on SQLite and on a real PostgreSQL 15 (schema
versions, payloads it cannot read, time series, retention, two writers), two `edge fleet`
collectors on one shared subscription, and the shipped Mosquitto ACL and bridge configs on real
Mosquitto instances."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time

import pytest

from edge.telemetry import TelemetryError
from edge.telemetry.fleetdb import FleetDB
from edge.telemetry.fleetsql import MIGRATIONS

from .conftest import ROOT
from .peers import wait_until
from .telemetry_broker import Mosquitto, Subscriber
from .telemetry_kit import fleet_events, start_fleet

pytestmark = pytest.mark.timeout(240)

BASE = "dvc/phu-lac/PL01"
DOCS = ROOT / "docs" / "mosquitto"
DAY = 86400.0


def body(**fields: object) -> bytes:
    return json.dumps({"v": 1, "ts": 1000.0, "kit": "PL01", "site": "phu-lac",
                       "clock_synced": True, **fields}).encode()


def event(seq: int, kind: str = "job/ready", ts: float = 1000.0, kit: str = "PL01",
          **data: object) -> bytes:
    return json.dumps({"v": 1, "ts": ts, "kit": kit, "site": "phu-lac", "clock_synced": True,
                       "stream": "00aa11bb22cc", "seq": seq, "type": kind,
                       "data": data}).encode()


def metrics(ts: float, charge: float, rsrp: float, **extra: object) -> bytes:
    devices = {"ups-ups": {"state": "ok", "battery.charge": charge, "battery.runtime": 900},
               "modem-4g": {"state": "ok", "signal.rsrp": rsrp},
               "system-pi": {"state": "ok", "system.disk_free": 5e9}}
    return body(ts=ts, uptime=10.0, devices=devices,
                outbox={"pending": {"metrics": 0, "counts": 0, "event": 0},
                        "dropped": {"metrics": 0, "counts": 0, "event": 0}}, **extra)


def visit(n: int, place: str, served: int, satisfied: int) -> dict:
    return {"visit": n, "place": place, "started": 1.0, "ended": None, "served": served,
            "served_priority": 1, "left": 0, "jobs": served, "pages": 2 * served, "slips": 1,
            "waiting_median_s": 60, "waiting_p90_s": 120, "service_median_s": 300,
            "service_p90_s": 600, "survey_answers": served, "survey_satisfied": satisfied,
            "survey_scores": {"5": satisfied}}


@pytest.fixture
def store(fleet_db):
    db = FleetDB(fleet_db)
    yield db
    db.close()


# --- the store, on both engines -------------------------------------------------------------

def test_a_newer_payload_version_is_kept_raw_with_a_warning(store, caplog):
    caplog.set_level(logging.WARNING)
    newer = json.loads(event(1))
    newer["v"] = 2
    assert store.store(f"{BASE}/event", json.dumps(newer).encode()) == "unread"
    assert store.store(f"{BASE}/metrics", body(ts="soon")) == "unread"  # not a number
    assert store.store(f"{BASE}/counts/2026-12-01", body(day="2026-12-01")) == "counts"
    assert store.store(f"{BASE}/event", event(1)) == "event"  # the collector goes on
    assert [e["v"] for e in store.events()] == [1]
    rows = store.db.execute("SELECT topic, why FROM unread ORDER BY id").fetchall()
    assert [t for t, _ in rows] == [f"{BASE}/event", f"{BASE}/metrics"]
    assert "payload version 2 is newer" in rows[0][1]
    assert "payload version 2 is newer than this collector reads (1)" in caplog.text
    assert store.kits()[0]["last_event"] == "job/ready"


def test_a_burst_is_stored_together_and_one_bad_message_spoils_nothing(store):
    newer = json.loads(event(3))
    newer["v"] = 2
    burst = [(f"{BASE}/event", event(1)), (f"{BASE}/event", event(2)),
             (f"{BASE}/event", json.dumps(newer).encode()), (f"{BASE}/event", event(1)),
             ("not/ours", b"{}")]
    assert store.store_many(burst) == ["event", "event", "unread", "duplicate", "ignored"]
    assert [e["seq"] for e in store.events()] == [1, 2]
    assert store.store_many([(f"{BASE}/event", event(s)) for s in (2, 3, 4)]) == \
        ["duplicate", "event", "event"]


def test_metrics_become_samples_and_counts_keep_the_newest(store):
    for i in range(3):
        store.store(f"{BASE}/metrics", metrics(1000.0 + 300 * i, 90 - i, -95 - i,
                                               oldest_undelivered_seconds=120))
    rows = store.samples("PL01", 1300.0)
    assert [(r["ts"], r["battery"], r["signal"], r["runtime"]) for r in rows] == \
        [(1300.0, 89.0, -96.0, 900.0), (1600.0, 88.0, -97.0, 900.0)]
    assert rows[0]["disk_free"] == 5e9 and rows[0]["waiting"] == 120.0
    (kit,) = store.kits()
    assert kit["waiting_since"] == 1600.0 - 120
    day = "2026-12-01"
    new = body(ts=2000.0, day=day, jobs=5, visits=[visit(1, "Thôn Đông", 5, 4)])
    old = body(ts=1500.0, day=day, jobs=3, visits=[visit(1, "Thôn Đông", 3, 3)])
    store.store(f"{BASE}/counts/{day}", new)
    store.store(f"{BASE}/counts/{day}", old)  # an older figure arriving late changes nothing
    assert store.counts("PL01", day)["jobs"] == 5
    (place,) = store.month_visits("2026-12-01", "2026-12-31")
    assert place == {"site": "phu-lac", "place": "Thôn Đông", "visits": 1, "served": 5,
                     "served_priority": 1, "left": 0, "jobs": 5, "pages": 10, "slips": 1,
                     "survey_answers": 5, "survey_satisfied": 4}


def test_retention_forgets_what_is_older_than_keep_days(store):
    now = time.time()
    old_day = time.strftime("%Y-%m-%d", time.localtime(now - 40 * DAY))
    new_day = time.strftime("%Y-%m-%d", time.localtime(now - DAY))
    store.store(f"{BASE}/metrics", metrics(now - 40 * DAY, 80, -90), now=now - 40 * DAY)
    store.store(f"{BASE}/metrics", metrics(now - DAY, 81, -90), now=now - DAY)
    store.store(f"{BASE}/event", event(1, ts=now - 40 * DAY), now=now - 40 * DAY)
    store.store(f"{BASE}/event", event(2, ts=now - DAY), now=now - DAY)
    for day in (old_day, new_day):
        store.store(f"{BASE}/counts/{day}", body(ts=now, day=day, visits=[visit(1, "A", 1, 1)]))
    store.prune(30, now)
    assert [r["battery"] for r in store.samples("PL01", 0)] == [81.0]
    assert [e["seq"] for e in store.events()] == [2]
    assert store.counts("PL01", old_day) is None and store.counts("PL01", new_day)
    assert [v["visits"] for v in store.month_visits("0000", "9999")] == [1]
    store.prune(0, now + 1000 * DAY)  # 0 keeps everything
    assert store.counts("PL01", new_day)


def state(device: str, problems: list | None = None, **values: object) -> bytes:
    return body(device=device, kind=device.split("-")[0], name="x", driver="sim", state="ok",
                problems=problems or [], updated=1.0,
                metrics={k: {"value": v} for k, v in values.items()})


def status(kit: str, what: str, ts: float, **extra: object) -> tuple[str, bytes]:
    return f"dvc/phu-lac/{kit}/status", json.dumps({
        "v": 1, "ts": ts, "kit": kit, "site": "phu-lac", "status": what, **extra}).encode()


BURSTS = [  # two kits; status runs, late and duplicate events, waiting files, counts, states
    [status("PL01", "online", 10.0, version="1.0"),
     (f"{BASE}/metrics", metrics(110.0, 80, -95, oldest_undelivered_seconds=50)),
     (f"{BASE}/state/ups-ups", state("ups-ups", [{"code": "ups.on_battery"}],
                                     **{"ups.status": "OB DISCHRG", "battery.charge": 25})),
     (f"{BASE}/state/modem-4g", state("modem-4g", **{"signal.rsrp": -115})),
     (f"{BASE}/event", event(1, ts=120.0)),
     (f"{BASE}/event", event(3, "delivery/failed", ts=115.0, oldest_waiting_seconds=10)),
     (f"{BASE}/event", event(1, ts=120.0)),
     status("PL02", "online", 40.0),
     ("dvc/phu-lac/PL02/event", event(1, ts=50.0, kit="PL02")),
     ("dvc/phu-lac/PL02/metrics", metrics(60.0, 90, -90, clock_synced=False)),
     (f"{BASE}/counts/2026-12-01", body(ts=130.0, day="2026-12-01", jobs=3,
                                         visits=[visit(1, "A", 3, 2)])),
     (f"{BASE}/counts/2026-12-01", body(ts=125.0, day="2026-12-01", jobs=2,
                                         visits=[visit(1, "B", 2, 2)]))],
    [status("PL01", "online", 200.0, version="1.1"),  # still online: since 10 stays
     status("PL02", "offline", 210.0, reason="lost"),
     status("PL02", "online", 220.0),
     (f"{BASE}/event", event(3, "delivery/failed", ts=115.0, oldest_waiting_seconds=99)),
     (f"{BASE}/event", event(4, "job/ready", ts=100.0)),  # older than the last event
     (f"{BASE}/metrics", metrics(300.0, 70, -100)),
     (f"{BASE}/state/ups-ups", state("ups-ups", **{"ups.status": "OL"}))],
]


def contents(db: FleetDB) -> dict[str, list]:
    return {table: db.db.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            for table, order in (("kits", "kit"), ("states", "kit, device"),
                                 ("events", "kit, stream, seq"), ("samples", "kit, ts"),
                                 ("counts", "kit, day"), ("visits", "kit, day, visit"))}


@pytest.fixture
def other_db(fleet_db, tmp_path, request) -> str:
    """A second, empty store on the same engine."""
    if fleet_db.startswith("postgresql"):
        return request.getfixturevalue("postgres").new_database()
    return str(tmp_path / "other.db")


def test_a_burst_stores_what_the_messages_one_by_one_store(store, other_db):
    from edge.web.fleetview import fleet_rows

    single = FleetDB(other_db)
    try:
        for n, burst in enumerate(BURSTS):
            now = 1000.0 + n
            together = store.store_many(burst, now=now)
            assert together == [single.store(t, b, now=now) for t, b in burst]
            assert contents(store) == contents(single)
            assert fleet_rows(store, 2000.0, "2026-12-01") == \
                fleet_rows(single, 2000.0, "2026-12-01")
        (pl01,) = [r for r in fleet_rows(store, 2000.0, "2026-12-01") if r["kit"] == "PL01"]
    finally:
        single.close()
    assert (pl01["status_since"], pl01["version"], pl01["last_event"]) == \
        (10.0, "1.1", "job/ready")
    assert (pl01["battery"], pl01["signal"], pl01["on_battery"]) == (70.0, -115.0, False)
    assert pl01["waiting"] == 2000.0 - 105.0  # the duplicate delivery event changed nothing
    assert pl01["today"]["jobs"] == 3 and pl01["problems"] == ["signal_weak"]


def test_a_burst_upserts_each_kit_once(tmp_path):
    db = FleetDB(tmp_path / "fleet.db")
    statements: list[str] = []
    db.db.conn.set_trace_callback(statements.append)  # type: ignore[attr-defined]
    burst = [(f"dvc/phu-lac/{kit}/event", event(seq, kit=kit)) for seq in range(1, 31)
             for kit in ("PL01", "PL02")]
    burst += [(f"dvc/phu-lac/{kit}/metrics", metrics(1000.0 + i, 80, -90)) for i in range(10)
              for kit in ("PL01", "PL02")]
    assert set(db.store_many(burst)) == {"event", "metrics"}
    db.close()
    assert sum(s.startswith("INSERT INTO kits") for s in statements) == 2


def test_the_page_figures_are_filled_from_a_database_stored_before_them(fleet_db, monkeypatch):
    from edge.telemetry import fleetsql
    from edge.web.fleetview import fleet_rows

    monkeypatch.setattr(fleetsql, "MIGRATIONS", MIGRATIONS[:2])  # the schema before the columns
    old = FleetDB(fleet_db)
    old.db.execute("INSERT INTO kits (kit, site, base, status, last_seen, metrics) VALUES "
                   "('PL01', 'phu-lac', ?, 'online', 1.0, ?)",
                   (BASE, metrics(1.0, 90, -100, clock_synced=False).decode()))
    old.db.execute("INSERT INTO states (kit, device, payload, received) VALUES "
                   "('PL01', 'ups-ups', ?, 1.0)",
                   (state("ups-ups", [{"code": "x"}], **{"battery.charge": 20}).decode(),))
    old.close()
    monkeypatch.undo()
    db = FleetDB(fleet_db)
    (row,) = fleet_rows(db, 2.0, "2026-12-01")
    db.close()
    assert (row["battery"], row["signal"], row["clock_synced"]) == (20.0, -100.0, False)
    assert row["device_problems"] == [{"code": "x"}]
    assert row["problems"] == ["battery_low", "clock"]


def test_two_writers_store_each_event_once(fleet_db):
    """Two collectors that both got the same events (no shared subscription): one row each."""
    dbs = [FleetDB(fleet_db), FleetDB(fleet_db)]
    outcomes: list[str] = []

    def write(db: FleetDB) -> None:
        outcomes.extend(db.store(f"{BASE}/event", event(seq)) for seq in range(1, 51))

    threads = [threading.Thread(target=write, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(e["seq"] for e in dbs[0].events()) == list(range(1, 51))
    assert outcomes.count("event") == 50 and outcomes.count("duplicate") == 50
    for db in dbs:
        db.close()


def test_an_old_sqlite_file_is_migrated_and_a_newer_one_refused(tmp_path):
    path = tmp_path / "fleet.db"
    with sqlite3.connect(path) as conn:  # what `edge fleet` wrote before schema versions
        conn.executescript("\n".join(s.format(id="INTEGER PRIMARY KEY AUTOINCREMENT",
                                              float="REAL") + ";" for s in MIGRATIONS[0]))
        conn.execute("INSERT INTO events (kit, stream, seq, type, ts, payload, received) "
                     "VALUES ('PL01', '00aa11bb22cc', 1, 'service/started', 1, ?, 1)",
                     (event(1, "service/started").decode(),))
    db = FleetDB(path)
    assert db.store(f"{BASE}/event", event(1, "service/started")) == "duplicate"
    assert db.store(f"{BASE}/metrics", metrics(1.0, 50, -100)) == "metrics"
    (version,) = db.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    assert version == len(MIGRATIONS)
    db.db.execute("INSERT INTO schema_version VALUES (99)")
    db.close()
    with pytest.raises(TelemetryError, match="schema version 99 is newer than this edge"):
        FleetDB(path)


def test_collectors_starting_together_migrate_once(postgres):
    url = postgres.new_database()
    opened: list[FleetDB] = []
    threads = [threading.Thread(target=lambda: opened.append(FleetDB(url))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(opened) == 4
    rows = opened[0].db.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [v for (v,) in rows] == list(range(1, len(MIGRATIONS) + 1))
    for db in opened:
        db.close()


def test_a_bad_database_url_is_a_clear_error(postgres):
    with pytest.raises(TelemetryError, match="give a SQLite file's path or a postgresql://"):
        FleetDB("mysql://x@y/z")
    with pytest.raises(TelemetryError, match=r"postgresql://127.0.0.1:\d+/nosuch: cannot "
                                             r"connect: .*nosuch"):
        FleetDB(postgres.url("nosuch").replace("postgres@", "postgres:hunter2@"))


# --- collectors and brokers -------------------------------------------------------------------

def sends(broker: Mosquitto, client: str) -> int:
    return len(re.findall(rf"Sending PUBLISH to {client} .*'{BASE}/event'",
                          broker.log_text()))


def test_two_collectors_on_a_shared_subscription_record_each_event_once(postgres, tmp_path,
                                                                          cleanup):
    broker = Mosquitto(tmp_path / "broker").start()
    cleanup(broker)
    url = postgres.new_database()
    collectors = [start_fleet(tmp_path, broker.port, url, "--share", "fleet",
                              client_id=f"fleet-{n}") for n in "ab"]
    for c in collectors:
        cleanup(c)
    kit = Subscriber(broker, "nothing/here")
    cleanup(kit)
    for seq in range(1, 201):
        kit.publish(f"{BASE}/event", event(seq).decode())
    wait_until(lambda: len(fleet_events(url)) >= 200, 90, "200 events in PostgreSQL")
    time.sleep(1)  # a duplicate, if any, would arrive now
    assert sorted(e["seq"] for e in fleet_events(url)) == list(range(1, 201))
    a, b = sends(broker, "fleet-a"), sends(broker, "fleet-b")
    assert a + b == 200 and a > 0 and b > 0  # the broker split them: each went to one
    assert all(c.terminate() == 0 for c in collectors)


def acl_broker(tmp_path) -> Mosquitto:
    """The commune broker as docs/mosquitto/commune.conf sets it up: accounts and the ACL."""
    acl = tmp_path / "edge.acl"
    acl.write_text((DOCS / "edge.acl").read_text())
    return Mosquitto(tmp_path / "broker", password=True, extra=(f"acl_file {acl}",),
                     users={"PL01": "kit-one-pass", "PL02": "kit-two-pass",
                            "fleet": "fleet-pass"}).start()


def test_the_acl_lets_a_kit_publish_only_under_its_own_topic(tmp_path, cleanup):
    broker = acl_broker(tmp_path)
    cleanup(broker)
    fleet = Subscriber(broker, "dvc/#", auth=("fleet", "fleet-pass"))
    cleanup(fleet)
    kit = Subscriber(broker, "homeassistant/status", auth=("PL01", "kit-one-pass"))
    cleanup(kit)
    kit.publish("dvc/phu-lac/PL02/event", event(1, kit="PL02").decode())  # another kit's topic
    kit.publish(f"{BASE}/event", event(1).decode())
    fleet.wait(f"{BASE}/event")
    assert [t for t, _, _ in fleet.messages] == [f"{BASE}/event"]
    assert "Denied PUBLISH" in broker.log_text()
    fleet.publish("homeassistant/status", "online")  # the fleet account writes nothing
    kit.publish("homeassistant/status", "online")  # nor does a kit here
    time.sleep(0.5)
    assert not kit.on("homeassistant/status")


def test_a_collector_on_a_shared_subscription_passes_the_acl(tmp_path, postgres, cleanup):
    broker = acl_broker(tmp_path)
    cleanup(broker)
    url = postgres.new_database()
    (tmp_path / "password").write_text("fleet-pass\n")
    fleet = start_fleet(tmp_path, broker.port, url, "--share", "fleet", "--username", "fleet",
                        "--password-file", str(tmp_path / "password"), client_id="fleet-a")
    cleanup(fleet)
    kit = Subscriber(broker, "homeassistant/status", auth=("PL01", "kit-one-pass"))
    cleanup(kit)
    kit.publish(f"{BASE}/event", event(1).decode())
    wait_until(lambda: len(fleet_events(url)) == 1, 30, "the event in PostgreSQL")


def test_the_shipped_bridge_carries_a_commune_to_the_province(tmp_path, cleanup):
    """Two real brokers: the province's (TLS, an account per commune, the ACL) and the
    commune's with docs/mosquitto/bridge-to-province.conf."""
    acl = tmp_path / "province.acl"
    acl.write_text("user phu-lac\ntopic write dvc/phu-lac/#\nuser fleet\ntopic read dvc/#\n")
    province = Mosquitto(tmp_path / "province", password=True, tls=True,
                         users={"phu-lac": "bridge-pass", "fleet": "fleet-pass"},
                         extra=(f"acl_file {acl}",)).start()
    cleanup(province)
    conf = (DOCS / "bridge-to-province.conf").read_text()
    conf = conf.replace("province.example.vn:8883", f"127.0.0.1:{province.tls_port}") \
        .replace("/etc/mosquitto/certs/province-ca.crt", str(province.certs["ca.crt"])) \
        .replace("CHANGE-ME", "bridge-pass")
    commune = Mosquitto(tmp_path / "commune", extra=tuple(conf.splitlines())).start()
    cleanup(commune)
    watch = Subscriber(province, "dvc/#", auth=("fleet", "fleet-pass"))
    cleanup(watch)
    kit = Subscriber(commune, "nothing/here")
    cleanup(kit)
    wait_until(lambda: "Received CONNACK on connection local.bridge-phu-lac" in
               commune.log_text(), 30, "the bridge")
    kit.publish("dvc/other-site/XX01/event", event(1, kit="XX01").decode())  # not phu-lac's
    for seq in (1, 2):
        kit.publish(f"{BASE}/event", event(seq).decode())
    watch.wait(f"{BASE}/event", 30, n=2)
    assert [json.loads(p)["seq"] for t, p, _ in watch.messages] == [1, 2]
