import os
import subprocess
import sys

import pytest

from edge import config
from edge.errors import ConfigError

from .conftest import ROOT, sane_adf


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
