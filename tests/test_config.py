import os
import subprocess
import sys

import pytest

from edge import config
from edge.errors import ConfigError

from .conftest import ROOT, sane_adf
from .peers import free_port


def test_example_and_demo_configs_are_valid():
    for name in ("edge.example.toml", "demo.toml"):
        cfg = config.load(ROOT / "config" / name)
        assert cfg.kit.id and cfg.scanner


def test_defaults(kit):
    cfg = kit.cfg()
    assert cfg.storage.retention_days == 7
    assert cfg.storage.name_template == "{ref}_{seq:02d}_{doc}.pdf"
    assert cfg.scanner[0].dpi == 200


@pytest.mark.parametrize("text, where", [
    ('[kit]\nid = "PL01"\ncolour = 1\n[storage]\nroot = "/x"\n', "kit: unknown key 'colour'"),
    ('[kit]\nid = "PL01"\n[storage]\nroot = "/x"\nretention_days = "7"\n',
     "storage.retention_days: expected int, got str"),
    ('[kit]\nid = "PL01"\n', "storage: required key is missing"),
    ('[kit]\nid = "PL01"\n[storage]\nroot = "/x"\n[[scanner]]\nname = "a"\ndriver = "twain"\n',
     "scanner[0].driver: 'twain' is not one of 'sane', 'sim'"),
    ('[kit]\nid = "PL01"\n[storage]\nroot = "/x"\n[[scanner]]\nname = "a"\ndriver = "sane"\n',
     "scanner[0].device: required for driver 'sane'"),
    ('[kit]\nid = "PL01"\n[storage]\nroot = "/x"\n[[scanner]]\nname = "a"\ndriver = "sim"\n'
     '[scanner.presets.p]\ndpi = 20\n', "scanner[0].presets.p.dpi: 20 is outside"),
    ('[kit]\nid = "pl 01"\n[storage]\nroot = "/x"\n', "kit.id: must be 2-8 capital"),
    ('[kit]\nid = "PL01"\n[storage]\nroot = "/x"\nname_template = "{ref}/{x}.pdf"\n',
     "storage.name_template"),
    ('[kit]\nid = "PL01"\n[storage\n', "not valid TOML"),
])
def test_bad_config_names_key_and_file(tmp_path, text, where):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        config.load(path)
    assert where in str(e.value)
    assert str(path) in str(e.value)


def test_relative_storage_root_is_relative_to_config_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[kit]\nid = "PL01"\n[storage]\nroot = "data"\n')
    assert config.load(path).storage.root == tmp_path / "data"


def test_cli_check_config_exit_codes(kit, tmp_path):
    ok = kit.edge("check-config")
    assert ok.returncode == 0, ok.stderr
    kit.config.write_text(kit.config.read_text() + "bogus = 1\n")
    bad = kit.edge("check-config")
    assert bad.returncode == 2
    assert "unknown key 'bogus'" in bad.stderr and str(kit.config) in bad.stderr


@pytest.mark.parametrize("table, refusal, allowed", [
    ('[[ups]]\nname = "u"\ndriver = "megatec"\ndevice = "/dev/ttyUSB0"\nhost = "10.0.0.2"\n',
     "ups[0]: unknown key 'host' for driver 'megatec'",
     "battery_cells, baudrate, cell_empty_volts, cell_full_volts, device, driver, interval, label, "
     "name, timeout"),
    ('[[modem]]\nname = "m"\ndriver = "at"\ndevice = "/dev/ttyUSB2"\nurl = "http://x/"\n',
     "modem[0]: unknown key 'url' for driver 'at'",
     "baudrate, device, driver, interval, label, name, reconnect_after, timeout"),
])
def test_check_config_refuses_a_key_the_driver_does_not_take(kit, table, refusal, allowed):
    kit.config.write_text(kit.config.read_text() + table)
    r = kit.edge("check-config")
    assert r.returncode == 2
    assert refusal in r.stderr and f"(allowed: {allowed})" in r.stderr


def test_missing_file_and_env_variable(tmp_path, kit):
    missing = tmp_path / "nope.toml"
    r = subprocess.run([sys.executable, "-m", "edge", "--config", str(missing), "check-config"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "config file not found" in r.stderr and str(missing) in r.stderr
    env = {**os.environ, "EDGE_CONFIG": str(kit.config)}
    r = subprocess.run([sys.executable, "-m", "edge", "check-config"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0 and str(kit.config) in r.stdout


def test_unknown_scanner_and_preset(kit):
    kit.configure([sane_adf(presets={"ks": {"doc": "Giấy khai sinh"}})])
    r = kit.edge("scan", "--scanner", "nope", "--doc", "x")
    assert r.returncode == 2 and "unknown scanner 'nope' (configured: adf, import)" in r.stderr
    r = kit.edge("scan", "--scanner", "adf", "--preset", "zz", "--doc", "x")
    assert r.returncode == 2 and "no preset 'zz' (presets: ks)" in r.stderr


@pytest.mark.parametrize("template", [
    "{seq:0300d}.pdf",  # 300 digits: no file system takes that name
    "{ref}_{seq:,d}.pdf",  # fine for seq 1, "1,000" from the thousandth document on
    "{doc:>60}.pdf",  # padding with spaces
    "{ticket!r}.pdf",  # quotes
    "{seq:x}{doc:x}.pdf",  # a format the field's type does not have
])
def test_name_template_that_cannot_make_a_file_name_is_refused(tmp_path, template):
    path = tmp_path / "c.toml"
    path.write_text(f'[kit]\nid = "PL01"\n[storage]\nroot = "/x"\nname_template = "{template}"\n')
    with pytest.raises(ConfigError) as e:
        config.load(path)
    assert "storage.name_template" in str(e.value)


MQTT = '[kit]\nid = "PL01"\n[storage]\nroot = "/x"\n[mqtt]\nenabled = true\nhost = "h"\n'


@pytest.mark.parametrize("line, key", [
    ('base_topic = "dvc/{kit.__class__}"', "mqtt.base_topic"),
    ('base_topic = "dvc/{kit[0]}"', "mqtt.base_topic"),
    ('base_topic = "dvc/{kit!r}"', "mqtt.base_topic"),
    ('base_topic = "dvc/{kit:>30}"', "mqtt.base_topic"),
    ('base_topic = "dvc/\\u0000/{kit}"', "mqtt.base_topic"),
    ('discovery_prefix = "home/+"', "mqtt.discovery_prefix"),
    ('discovery_prefix = "#"', "mqtt.discovery_prefix"),
    ('discovery_prefix = "ha\\u0000"', "mqtt.discovery_prefix"),
    ('discovery_prefix = "{kit}"', "mqtt.discovery_prefix"),
    ('discovery_prefix = ""', "mqtt.discovery_prefix"),
])
def test_mqtt_topics_with_wildcards_nul_or_format_tricks_are_refused(tmp_path, line, key):
    path = tmp_path / "c.toml"
    path.write_text(MQTT + line + "\n")
    with pytest.raises(ConfigError) as e:
        config.load(path)
    assert key in str(e.value)


def test_ten_thousand_deep_toml_is_a_config_error_not_a_crash(kit):
    kit.config.write_text("x = " + "[" * 10000 + "]" * 10000 + "\n")
    r = kit.edge("check-config")
    assert r.returncode == 2, r.stderr
    assert "internal error" not in r.stderr and "not valid TOML" in r.stderr


def test_config_with_secrets_readable_by_others_is_warned_about(kit):
    text = kit.config.read_text()
    kit.config.write_text(text + '\n[[web.users]]\nname = "an"\nrole = "staff"\n'
                          'password_hash = "scrypt:32768:8:1$x$y"\n')
    kit.config.chmod(0o644)
    r = kit.edge("check-config")
    assert r.returncode == 0, r.stderr
    assert "readable by every user" in r.stderr and f"chmod 640 {kit.config}" in r.stderr
    doctor = kit.edge("doctor")
    assert f"chmod 640 {kit.config}" in doctor.stdout
    service = kit.popen("run")
    try:
        line = service.stderr.readline()  # the warning comes before anything else starts
    finally:
        service.terminate()
        service.communicate(timeout=60)
    assert "level=warning" in line and f"chmod 640 {kit.config}" in line
    web = kit.popen("web", "--port", str(free_port()))
    try:
        lines = iter(web.stderr.readline, "")
        said = next(x for x in lines if "chmod 640" in x or "web UI on" in x)
    finally:
        web.terminate()
        web.communicate(timeout=60)
    assert f"chmod 640 {kit.config}" in said
    kit.config.chmod(0o640)
    assert "chmod" not in kit.edge("check-config").stderr
    kit.config.write_text(text)  # no secrets in it: nothing to say
    kit.config.chmod(0o644)
    assert "chmod" not in kit.edge("check-config").stderr


LABELLED = {"scanner": '[[scanner]]\nname = "s2"\ndriver = "sim"\n',
            "ups": '[[ups]]\nname = "u"\ndriver = "sim"\n',
            "printer": '[[printer]]\nname = "p"\ndriver = "sim"\n',
            "modem": '[[modem]]\nname = "m"\ndriver = "sim"\n',
            "usb": '[[usb]]\nname = "b"\nid = "04c5:132e"\ndriver = "sim"\n',
            "receipt_printer": '[[receipt_printer]]\nname = "r"\ntransport = "sim"\n',
            "system": '[system]\ndriver = "sim"\n'}


@pytest.mark.parametrize("section", sorted(LABELLED))
def test_every_device_may_carry_a_label(kit, section):
    kit.config.write_text(kit.config.read_text() + LABELLED[section]
                          + 'label = "Máy Fujitsu bàn 1"\n')
    cfg = kit.cfg()
    devices = [cfg.system] if section == "system" else getattr(cfg, section)
    (device,) = [d for d in devices if getattr(d, "name", "") in ("", "s2", "u", "p", "m", "b", "r")
                 or section == "system"]
    assert device.label == "Máy Fujitsu bàn 1"


@pytest.mark.parametrize("label, why", [
    ("x" * 41, "1-40 printable characters"), (" bàn 1", "without leading or trailing spaces"),
    ("bàn\\u001b[31m", "printable"), ("", None)])
@pytest.mark.parametrize("section", ["scanner", "receipt_printer", "system", "ups"])
def test_a_label_is_checked_like_every_other_key(kit, section, label, why):
    kit.config.write_text(kit.config.read_text() + LABELLED[section] + f'label = "{label}"\n')
    if why is None:
        kit.cfg()
        return
    with pytest.raises(ConfigError, match="label") as e:
        kit.cfg()
    assert why in e.value.message and str(kit.config) in e.value.message
