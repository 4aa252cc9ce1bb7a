"""`edge doctor` on a kit with a real SANE scanner, a missing one, simulated devices."""

from edge import doctor

from .conftest import sane_adf


def verdicts(checks):
    return {c.what.split(" ")[0] + " " + c.what.split(" ")[1]: c for c in checks}


def test_a_kit_with_a_missing_scanner_and_ups(kit):
    kit.configure([sane_adf(name="fi7160"), sane_adf(name="gone", device="test:9")])
    with open(kit.config, "a") as f:
        f.write('\n[system]\ndriver = "sim"\n\n[[ups]]\nname = "ups"\ndriver = "nut"\n'
                'port = 1\n')
    checks = doctor.run(kit.cfg())
    lines = [c.line() for c in checks]
    by = verdicts(checks)
    assert by["config " + str(kit.config)].verdict == "ok"
    assert by["storage " + str(kit.root)].verdict == "ok"
    assert by["queue database"].verdict == "ok"
    assert by["scanner fi7160"].verdict == "ok"
    assert by["scanner gone"].verdict == "FAIL" and "scanimage -L" in by["scanner gone"].fix
    assert by["ups ups"].verdict == "FAIL" and "upsc" in by["ups ups"].fix
    assert by["system pi"].verdict in ("ok", "WARN")
    assert any(line.startswith(("ok   the clock", "WARN the clock")) for line in lines)


def test_sd_card_errors_in_the_kernel_log(kit):
    log = "[  12.1] mmc0: error -110 whilst initialising SD card\n[  13.0] usb 1-1: new device\n"
    (check,) = doctor._sd_card(kit.cfg(), lambda: log)
    assert check.verdict == "FAIL" and "1 storage error" in check.what
    assert "replace the card" in check.fix
    (check,) = doctor._sd_card(kit.cfg(), lambda: "[ 1.0] all quiet\n")
    assert check.verdict == "ok"


def test_a_damaged_queue_database_is_a_failure_with_the_recovery_path(kit):
    kit.configure([])
    kit.root.mkdir(parents=True, exist_ok=True)
    (kit.root / "queue.db").write_bytes(b"this is not a database" * 100)
    (check,) = list(doctor._queue(kit.cfg()))
    assert check.verdict == "FAIL" and "The queue is damaged" in check.fix


def test_doctor_command_prints_one_line_per_check_and_fails_on_a_failure(kit):
    kit.configure([{"name": "sim", "driver": "sim"}])
    r = kit.edge("doctor")
    assert r.stdout.startswith("ok   config ")
    assert "ok   scanner sim is simulated" in r.stdout
    assert "ok   0 receipt printer(s), 4 slip template(s)" in r.stdout
    assert r.stdout.rstrip().endswith("failed")
    failed = int(r.stdout.rstrip().split()[-2])
    assert r.returncode == (1 if failed else 0)


def test_a_broken_receipt_printer_setting_is_a_failure_with_the_key(kit):
    with kit.config.open("a", encoding="utf-8") as f:
        f.write('\n[[receipt_printer]]\nname = "slip"\ntransport = "sim"\nprofile = "nope"\n')
    r = kit.edge("doctor")
    assert r.returncode == 1
    assert "FAIL receipt_printer.profile: unknown profile 'nope'" in r.stdout
