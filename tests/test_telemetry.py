"""Telemetry over MQTT against a real Mosquitto: retained status and states, the last will, the
durable outbox through broker outages and kit restarts, `edge fleet`, login and TLS failures, and
every payload checked against its JSON Schema (docs/schemas)."""

from __future__ import annotations

import json
import logging
import time

import pytest

from edge import config
from edge.errors import ConfigError
from edge.health import Health, Metric, Problem, Reading, State
from edge.pipeline.job import Job, PdfFile
from edge.pipeline.job import State as JobState
from edge.telemetry import counts
from edge.telemetry.fleetdb import FleetDB
from edge.telemetry.outbox import Outbox
from edge.telemetry.service import Telemetry
from edge.telemetry.store import Store
from edge.telemetry.topics import Topics

from .peers import wait_until
from .telemetry_broker import PASSWORD, USER, Mosquitto, Subscriber
from .telemetry_kit import (
    configure,
    fleet_events,
    outbox_rows,
    start_edge,
    start_fleet,
    validate,
)

pytestmark = pytest.mark.timeout(240)

BASE = "dvc/phu-lac/PL01"
DEVICES = [("system", "pi"), ("ups", "ups"), ("modem", "4g")]
DOSSIER = "000.00.04.H40-230414-0002"
DOC = "Giấy khai sinh Nguyễn Văn An"


@pytest.fixture
def broker(tmp_path):
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.stop()


def ups_health(charge: float, status: str = "OL") -> Health:
    return Health.of("ups", "ups", "sim", Reading({"battery.charge": Metric(charge, "%"),
                                                   "ups.status": Metric(status)}))


def job(state: JobState = JobState.READY, job_id: int = 1, pages: int = 3, dossier: str | None
        = DOSSIER) -> Job:
    files = (PdfFile("outbox/x.pdf", "ab" * 32, 1000),) if state == JobState.READY else ()
    return Job(job_id, f"PL01-261122-{job_id:03d}", dossier, DOC, "sim", "khai-sinh", state,
               "", "", pages, 1, files, time.time(), time.time(), None, None)


def scan(kit, doc: str = DOC) -> dict:
    r = kit.edge("scan", "--scanner", "sim", "--doc", doc, "--dossier", DOSSIER, "--json",
                 timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def started(kit, cleanup, port: int, **mqtt) -> Telemetry:
    configure(kit, port, **mqtt)
    tel = Telemetry(kit.cfg(), DEVICES)
    tel.start()
    cleanup(tel)
    return tel


# --- configuration -------------------------------------------------------------------------------

def test_mqtt_config_defaults_topics_and_validation(kit, tmp_path):
    configure(kit, 1883)
    cfg = kit.cfg()
    assert cfg.mqtt.enabled and cfg.mqtt.broker_port == 1883 and not cfg.mqtt.use_tls
    assert cfg.mqtt.discovery and not cfg.mqtt.allow_dossier_codes
    topics = Topics.of(cfg)
    assert topics.base == BASE  # "Phú Lạc" -> phu-lac
    assert topics.state("ups-ups") == f"{BASE}/state/ups-ups"
    assert topics.counts("2026-11-22") == f"{BASE}/counts/2026-11-22"
    assert config.Mqtt(ca_file=tmp_path).broker_port == 8883
    for bad, key in (('base_topic = "dvc/#"', "mqtt.base_topic"),
                     ('base_topic = "dvc/{commune}"', "mqtt.base_topic"),
                     ('ca_file = "/no/such/ca.crt"', "mqtt.ca_file"),
                     ("state_every = 1.0", "mqtt.state_every"),
                     ("colour = 1", "unknown key 'colour'")):
        configure(kit, 1883)
        with open(kit.config, "a") as f:
            f.write(bad + "\n")
        with pytest.raises(ConfigError) as e:
            kit.cfg()
        assert key in str(e.value)
    kit.configure([])  # no [mqtt] at all: telemetry off
    assert not kit.cfg().mqtt.enabled


# --- outbox, counts, payloads (no broker) --------------------------------------------------------

def test_outbox_is_bounded_dropping_metrics_first_and_events_last(tmp_path):
    store = Store(tmp_path / "telemetry.db")
    box = Outbox(store, max_messages=100)
    with store.write() as conn:
        for i in range(60):
            box.put(conn, "event", "t/event", f"e{i}".encode())
            box.put(conn, "metrics", "t/metrics", f"m{i}".encode())
    assert box.stats()["dropped"] == {"metrics": 20, "counts": 0, "event": 0}
    with store.write() as conn:
        for i in range(60, 130):
            box.put(conn, "event", "t/event", f"e{i}".encode())
    stats = box.stats()
    assert stats["dropped"] == {"metrics": 60, "counts": 0, "event": 30}
    assert stats["pending"] == {"metrics": 0, "counts": 0, "event": 100}
    assert [m.payload for m in box.after(0, 1000)] == [f"e{i}".encode() for i in range(30, 130)]
    assert (tmp_path / "telemetry.db").stat().st_mode & 0o777 == 0o600


def test_job_events_carry_no_personal_data_unless_allowed(kit):
    configure(kit, 1883)
    tel = Telemetry(kit.cfg(), DEVICES)
    tel.on_job(job(JobState.READY))
    tel.on_job(job(JobState.FAILED, job_id=2, pages=0))
    tel.on_job(job(JobState.SCANNING, job_id=3))  # not an event
    events = [validate(topic, p) for kind, topic, p in outbox_rows(kit) if kind == "event"]
    assert [e["type"] for e in events] == ["job/ready", "job/failed"]
    assert [e["seq"] for e in events] == [1, 2]
    assert events[0]["data"] == {"job": 1, "scanner": "sim", "state": "ready", "pages": 3,
                                 "blank_pages": 1, "files": 1, "bytes": 1000}
    for _, _, p in outbox_rows(kit):
        text = p.decode()
        for secret in (DOSSIER, "PL01-261122", "khai", "Nguyễn", "An\"", "outbox/x.pdf"):
            assert secret not in text, text

    configure(kit, 1883, allow_dossier_codes=True)
    Telemetry(kit.cfg(), DEVICES).on_job(job(JobState.READY, job_id=4))
    last = validate(f"{BASE}/event", [p for k, _, p in outbox_rows(kit) if k == "event"][-1])
    assert last["seq"] == 3 and last["data"]["dossier"] == DOSSIER
    assert last["data"]["ticket"] == "PL01-261122-004" and "Nguyễn" not in json.dumps(last)


def test_a_cli_scan_without_the_service_records_its_event_for_later(kit):
    configure(kit, 1883)  # nothing listens there: the next `edge run` delivers
    job_id = scan(kit)["job_id"]
    rows = [(k, validate(t, p)) for k, t, p in outbox_rows(kit)]
    assert [(k, d.get("type")) for k, d in rows] == [("event", "job/ready"), ("counts", None)]
    assert rows[0][1]["data"]["job"] == job_id and rows[1][1]["jobs"] == 1


def test_daily_counts_persist_and_count_a_job_once(kit):
    configure(kit, 1883)
    first = Telemetry(kit.cfg(), DEVICES)
    first.on_job(job(JobState.READY, job_id=1, pages=3))
    first.on_job(job(JobState.FAILED, job_id=2, pages=0))
    first.add_count("receipts", 2)
    again = Telemetry(kit.cfg(), DEVICES)  # a restart
    again.on_job(job(JobState.READY, job_id=1, pages=5))  # re-assembled with a page restored
    again.on_job(job(JobState.READY, job_id=3, pages=2))
    rows = [(t, p) for k, t, p in outbox_rows(kit) if k == "counts"]
    assert len(rows) == 1  # coalesced: only the day's latest figure waits
    topic, body = rows[0]
    day = counts.today()
    assert topic == f"{BASE}/counts/{day}"
    data = validate(topic, body)
    assert {k: data[k] for k in ("jobs", "jobs_failed", "pages", "blank_pages", "receipts",
                                 "bytes")} == {"jobs": 2, "jobs_failed": 1, "pages": 7,
                                               "blank_pages": 2, "receipts": 2, "bytes": 2000}


def test_device_lost_and_found_events_and_metrics(kit):
    configure(kit, 1883)
    tel = Telemetry(kit.cfg(), DEVICES)
    placeholder = Health.lost("ups", "ups", "sim", State.UNKNOWN,
                              Problem("not-read-yet", "not read yet", "..."))
    ok = ups_health(80.0)
    gone = Health.lost("ups", "ups", "sim", State.ABSENT,
                       Problem("absent", "ups ups: no answer", "...", State.FAULT))
    tel.on_health(placeholder, ok)  # the first reading: not an event
    tel.on_health(ok, gone)
    tel.on_health(gone, gone)
    tel.on_health(gone, ok)
    tel.on_health(None, Health.of("system", "pi", "sim", Reading(
        {"system.clock_synced": Metric(True), "system.cpu_temp": Metric(51.0, "°C")})))
    tel.put_metrics(tel.outbox)
    rows = [(k, validate(t, p)) for k, t, p in outbox_rows(kit)]
    events = [d for k, d in rows if k == "event"]
    assert [(e["type"], e["data"]["state"]) for e in events] == [("device/lost", "absent"),
                                                                ("device/found", "ok")]
    assert events[0]["data"]["problems"] == ["absent"]
    (metrics,) = [d for k, d in rows if k == "metrics"]
    assert metrics["clock_synced"] is True
    assert metrics["devices"]["ups-ups"] == {"state": "ok", "battery.charge": 80.0,
                                             "ups.status": "OL"}
    assert metrics["devices"]["system-pi"]["system.cpu_temp"] == 51.0
    assert metrics["outbox"]["pending"] == {"metrics": 0, "counts": 0, "event": 2}


def test_fleet_db_stores_a_redelivered_event_once(fleet_db):
    db = FleetDB(fleet_db)
    body = json.dumps({"v": 1, "ts": 1.0, "kit": "PL01", "site": "phu-lac", "clock_synced": None,
                       "stream": "00aa11bb22cc", "seq": 7, "type": "service/started",
                       "data": {}}).encode()
    assert db.store(f"{BASE}/event", body) == "event"
    assert db.store(f"{BASE}/event", body) == "duplicate"
    assert db.store(f"{BASE}/event", b"not json") == "ignored"
    assert db.store("elsewhere/topic", body) == "ignored"
    assert [e["seq"] for e in db.events()] == [7]


# --- against a real broker, in process -----------------------------------------------------------

def test_states_are_coalesced_while_the_broker_is_away(kit, tmp_path, cleanup):
    b = Mosquitto(tmp_path / "broker")  # its port reserved, not started yet
    tel = started(kit, cleanup, b.port)
    tel.on_health(None, ups_health(100.0))
    for charge in range(99, 49, -1):
        tel.on_health(None, ups_health(float(charge), "OB DISCHRG"))
    kinds = [k for k, _, _ in outbox_rows(kit)]
    assert "state" not in kinds and kinds.count("event") == 1  # service/started only
    b.start()
    cleanup(b)
    live = Subscriber(b, f"{BASE}/state/#")
    cleanup(live)
    wait_until(lambda: any(validate(t, p)["metrics"]["battery.charge"]["value"] == 50.0
                           for t, p, _ in live.on("state/ups-ups")), 20, "the latest state")
    fresh = Subscriber(b, f"{BASE}/state/ups-ups")
    cleanup(fresh)
    (topic, body, retained), *_ = fresh.wait("state/ups-ups")
    data = validate(topic, body)
    assert retained and data["metrics"]["battery.charge"]["value"] == 50.0
    assert len(live.on("state/ups-ups")) <= 2  # the latest, not fifty stale ones


def test_home_assistant_discovery_republished_when_it_comes_online(kit, broker, cleanup):
    sub = Subscriber(broker, "homeassistant/device/+/config")
    cleanup(sub)
    started(kit, cleanup, broker.port)
    (topic, body, _), = sub.wait("/config")
    data = validate(topic, body)
    assert topic == "homeassistant/device/edge_phu_lac_PL01/config"
    names = {c["name"] for c in data["components"].values()}
    assert {"Battery", "Battery runtime", "On battery", "4G signal", "Disk free",
            "CPU temperature"} <= names
    assert data["availability"][0]["topic"] == f"{BASE}/status"
    sub.publish("homeassistant/status", "online")
    sub.wait("/config", n=2)


def test_wrong_password_is_a_clear_error_without_a_crash_loop(kit, tmp_path, cleanup):
    b = Mosquitto(tmp_path / "broker", password=True).start()
    cleanup(b)
    configure(kit, b.port, username=USER, password="wrong", reconnect_max=300.0)
    edge = start_edge(kit, tmp_path / "edge.log")
    cleanup(edge)
    edge.wait_log(f"MQTT broker 127.0.0.1:{b.port} refused the login (bad username or "
                  "password): fix [mqtt] username/password")
    time.sleep(3)
    assert edge.alive()
    attempts = b.log_text().count("disconnected, not authorised")
    assert attempts == 1, b.log_text()  # waits reconnect_max before trying again
    assert scan(kit)["state"] == "ready"  # the kit works on
    assert edge.terminate() == 0
    assert "Traceback" not in edge.log()

    configure(kit, b.port, username=USER, password=PASSWORD)  # the right one: connects
    tel = Telemetry(kit.cfg(), DEVICES)
    tel.start()
    cleanup(tel)
    sub = Subscriber(b, f"{BASE}/status", auth=True)
    cleanup(sub)
    wait_until(lambda: any(validate(t, p)["status"] == "online" for t, p, _ in sub.on("status")),
               20, "online")


def test_tls_with_a_test_ca_and_a_client_certificate(kit, tmp_path, cleanup, caplog):
    b = Mosquitto(tmp_path / "broker", tls=True).start()
    cleanup(b)
    certs = b.certs
    sub = Subscriber(b, f"{BASE}/#", port=b.tls_port, tls=certs)
    cleanup(sub)
    tel = started(kit, cleanup, b.tls_port, ca_file=str(certs["ca.crt"]))
    tel.on_health(None, ups_health(88.0))
    sub.wait("/status")
    (topic, body, _), *_ = sub.wait("state/ups-ups")
    assert validate(topic, body)["metrics"]["battery.charge"]["value"] == 88.0
    tel.close()
    wait_until(lambda: validate(*sub.on("/status")[-1][:2])["reason"] == "stopped", 10,
               "offline")

    # a listener that requires a client certificate
    tel = started(kit, cleanup, b.mtls_port, ca_file=str(certs["ca.crt"]),
                  cert_file=str(certs["client.crt"]), key_file=str(certs["client.key"]))
    wait_until(lambda: validate(*sub.on("/status")[-1][:2])["status"] == "online", 20,
               "online through the client-certificate listener")
    tel.close()

    caplog.set_level(logging.WARNING, logger="edge.telemetry")
    started(kit, cleanup, b.tls_port, ca_file=str(certs["other-ca.crt"]))
    wait_until(lambda: "TLS certificate is not trusted" in caplog.text, 20, "a TLS error")
    assert "check [mqtt] ca_file" in caplog.text
    caplog.clear()
    started(kit, cleanup, b.mtls_port, ca_file=str(certs["ca.crt"]))  # no client certificate
    wait_until(lambda: "client certificate (cert_file, key_file)" in caplog.text, 20,
               "the client-certificate hint")


# --- `edge run` and `edge fleet` as real processes -----------------------------------------------

def test_retained_status_and_states_seen_by_a_fresh_subscriber(kit, broker, tmp_path, cleanup):
    configure(kit, broker.port, outage_after=2.0)  # the sim UPS loses mains after 2 s
    watch = Subscriber(broker, f"{BASE}/#")
    cleanup(watch)
    edge = start_edge(kit, tmp_path / "edge.log")
    cleanup(edge)
    for suffix in ("/status", "state/ups-ups", "state/system-pi", "state/modem-4g"):
        watch.wait(suffix)
    fresh = Subscriber(broker, f"{BASE}/#", "homeassistant/#")
    cleanup(fresh)
    for suffix in ("/status", "state/ups-ups", "state/system-pi", "state/modem-4g", "/config"):
        (topic, body, retained), *_ = fresh.wait(suffix)
        assert retained, topic
        validate(topic, body)
    assert validate(*fresh.on("/status")[0][:2])["status"] == "online"
    wait_until(lambda: any(e["type"] == "power/on_battery" for e in watch.json("/event")), 30,
               "the power event")
    wait_until(lambda: any("on-battery" in [p["code"] for p in s["problems"]]
                           for s in watch.json("state/ups-ups")), 30, "the on-battery state")
    assert edge.terminate() == 0
    for topic, body, _ in watch.messages:
        validate(topic, body)
    assert watch.json("/status")[-1] == {**watch.json("/status")[-1], "status": "offline",
                                          "reason": "stopped"}
    types = [e["type"] for e in watch.json("/event")]
    assert types[0] == "service/started" and types[-1] == "service/stopped"


def test_last_will_published_when_the_kit_is_killed(kit, broker, tmp_path, cleanup):
    configure(kit, broker.port)
    watch = Subscriber(broker, f"{BASE}/status")
    cleanup(watch)
    edge = start_edge(kit, tmp_path / "edge.log")
    cleanup(edge)
    wait_until(lambda: any(s["status"] == "online" for s in watch.json("/status")), 30, "online")
    edge.kill()  # SIGKILL: no goodbye, the broker speaks the last will
    fresh_sees = []

    def offline() -> bool:
        sub = Subscriber(broker, f"{BASE}/status")
        try:
            time.sleep(0.3)
            fresh_sees[:] = sub.on("/status")
        finally:
            sub.close()
        return bool(fresh_sees) and validate(*fresh_sees[0][:2])["status"] == "offline"

    wait_until(offline, 30, "the last will")
    topic, body, retained = fresh_sees[0]
    assert retained and validate(topic, body)["reason"] == "lost"


def test_events_during_a_broker_outage_reach_fleet_once_and_in_order(kit, broker, tmp_path,
                                                                      cleanup, fleet_db):
    configure(kit, broker.port)
    db = fleet_db
    fleet = start_fleet(tmp_path, broker.port, db)
    cleanup(fleet)
    edge = start_edge(kit, tmp_path / "edge.log")
    cleanup(edge)
    scan(kit)
    wait_until(lambda: "job/ready" in [e["type"] for e in fleet_events(db)], 30, "job 1 at fleet")
    broker.stop()
    t0 = time.monotonic()
    for _ in range(3):  # work goes on while the broker is away
        scan(kit)
    assert time.monotonic() - t0 < 60
    waiting = [validate(t, p) for k, t, p in outbox_rows(kit) if k == "event"]
    assert [e["type"] for e in waiting] == ["job/ready"] * 3  # durable, in order
    time.sleep(2)
    broker.start()
    wait_until(lambda: len(fleet_events(db)) >= 5, 60, "every event at fleet")
    time.sleep(2)  # a duplicate, if any, would arrive now
    events = fleet_events(db)
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(events) + 1)), seqs  # once each, in order
    assert [e["type"] for e in events] == ["service/started"] + ["job/ready"] * 4
    assert all(DOSSIER not in json.dumps(e) and "khai" not in json.dumps(e) for e in events)
    assert not [p for k, _, p in outbox_rows(kit) if k == "event"]  # acknowledged, deleted

    r = kit.edge("fleet", "--db", db, "--table", "--json")
    (row,) = json.loads(r.stdout)
    assert row["kit"] == "PL01" and row["site"] == "phu-lac" and row["status"] == "online"
    assert row["today"]["jobs"] == 4 and row["today"]["pages"] == 8
    assert row["battery"] == 100.0 and row["last_event"] == "job/ready"
    text = kit.edge("fleet", "--db", db, "--table").stdout
    assert "PL01" in text and "4 jobs, 8 pages" in text
    assert edge.terminate() == 0 and fleet.terminate() == 0


def test_undelivered_events_are_delivered_after_a_kit_restart(kit, tmp_path, cleanup, fleet_db):
    b = Mosquitto(tmp_path / "broker")  # not running yet: the kit cannot deliver
    configure(kit, b.port)
    edge = start_edge(kit, tmp_path / "edge.log")
    cleanup(edge)
    scan(kit)
    scan(kit)
    edge.kill()  # like a power cut
    waiting = [validate(t, p) for k, t, p in outbox_rows(kit) if k == "event"]
    assert [e["type"] for e in waiting] == ["service/started", "job/ready", "job/ready"]
    b.start()
    cleanup(b)
    db = fleet_db
    fleet = start_fleet(tmp_path, b.port, db)
    cleanup(fleet)
    edge = start_edge(kit, tmp_path / "edge2.log")
    cleanup(edge)
    wait_until(lambda: len(fleet_events(db)) >= 4, 60, "the old events at fleet")
    events = fleet_events(db)
    assert [e["type"] for e in events] == ["service/started", "job/ready", "job/ready",
                                           "service/started"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    time.sleep(2)  # a duplicate, if any, would arrive now
    assert len(fleet_events(db)) == 4


def test_printed_receipts_are_counted(kit):
    from edge.receipts.queue import count_printed

    configure(kit, 1883)
    count_printed(kit.cfg())
    count_printed(kit.cfg())
    (body,) = [b for k, t, b in outbox_rows(kit) if k == "counts"]
    assert validate(f"{BASE}/counts/{counts.today()}", body)["receipts"] == 2


def test_a_process_without_the_service_builds_one_sink_for_all_its_slips(kit, monkeypatch):
    from edge.receipts.queue import count_printed
    from edge.telemetry import service

    configure(kit, 1883)
    built = []
    real = service.Telemetry
    monkeypatch.setattr(service, "Telemetry", lambda *args: built.append(args) or real(*args))
    for _ in range(3):  # the web UI printing three slips
        count_printed(kit.cfg())
    assert len(built) == 1
    (body,) = [b for k, t, b in outbox_rows(kit) if k == "counts"]
    assert validate(f"{BASE}/counts/{counts.today()}", body)["receipts"] == 3
