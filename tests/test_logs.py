"""Log lines: one logfmt event per line, journal priorities under systemd, no personal data."""

import json
import logging
import os
import re
import subprocess
import sys

from edge import logs

PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)(?: |$)')
DOSSIER = "000.00.04.H40-230414-0002"


def parse(line: str) -> dict[str, str]:
    """A logfmt line back into its fields; fails on anything that is not key=value pairs."""
    fields, pos = {}, 0
    while pos < len(line):
        m = PAIR.match(line, pos)
        assert m, f"not logfmt at {line[pos:]!r} in {line!r}"
        raw = m.group(2)
        fields[m.group(1)] = json.loads(raw) if raw.startswith('"') else raw
        pos = m.end()
    return fields


def record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            exc_info = sys.exc_info()
    r = logging.LogRecord("edge.pipeline.worker", logging.ERROR if exc else logging.INFO,
                          __file__, 1, msg, args, exc_info)
    r.__dict__.update(extra)
    return r


def test_an_event_is_one_line_of_fields_with_its_extras():
    line = logs.LogfmtFormatter(journal=False).format(
        record('job %d %s -> %s: "quoted" text', 12, "PL01-0012", "paused", job=12,
               state="paused", event="job.state"))
    assert "\n" not in line
    f = parse(line)
    assert f["level"] == "info" and f["logger"] == "edge.pipeline.worker"
    assert f["msg"] == 'job 12 PL01-0012 -> paused: "quoted" text'
    assert (f["event"], f["job"], f["state"]) == ("job.state", "12", "paused")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", f["ts"])


def test_a_traceback_stays_on_the_line_and_the_journal_gets_a_priority():
    line = logs.LogfmtFormatter(journal=True).format(record("worker error", exc=True))
    assert line.startswith("<3>") and "\n" not in line and "ts=" not in line
    f = parse(line[3:])
    assert f["level"] == "error" and "Traceback" in f["exc"]
    assert "ValueError: bad\nthing" in f["exc"]


def test_the_service_logs_to_the_journal_without_personal_data(kit, tmp_path):
    err = tmp_path / "journal"
    with err.open("w") as stream:
        st = os.fstat(stream.fileno())
        env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        r = subprocess.run([sys.executable, "-m", "edge", "--config", str(kit.config), "scan",
                            "--scanner", "adf", "--doc", "Giấy khai sinh", "--dossier", DOSSIER],
                           stdout=subprocess.PIPE, stderr=stream, text=True, env=env, timeout=120)
    assert r.returncode == 0, err.read_text()
    lines = err.read_text().splitlines()
    events = [parse(line[3:]) for line in lines if line.startswith("<6>")]
    assert len(events) == len(lines)  # every line is an event with a priority
    ready = [e for e in events if e.get("event") == "job.ready"]
    assert len(ready) == 1 and ready[0]["pages"] == "10" and ready[0]["files"] == "1"
    states = [e["state"] for e in events if e.get("event") == "job.state"]
    assert states == ["scanning", "assembling"]
    text = err.read_text()
    assert DOSSIER not in text and "khai sinh" not in text and "khai-sinh" not in text
