"""`edge user`: accounts edited in the config file itself, everything else in it kept."""

import os
import subprocess
import sys

from edge import config
from edge.web import auth

COMMENTED = '''
# volunteers from the youth union
[[web.users]]
name = "mai"   # the team leader
role = "volunteer"
password_hash = "pbkdf2:sha256:1$salt$00"

# keep this comment
'''


def user(kit, *args: str, password: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge", "--config", str(kit.config), "user",
                           *args], input=password + "\n", capture_output=True, text=True,
                          timeout=60, env=os.environ)


def accounts(kit) -> dict[str, str]:
    return {u.name: u.role for u in config.load(kit.config).web.users}


def test_add_passwd_remove_keep_the_rest_of_the_file(kit):
    with kit.config.open("a", encoding="utf-8") as f:
        f.write(COMMENTED)
    os.chmod(kit.config, 0o640)
    before = kit.config.read_text(encoding="utf-8")

    r = user(kit, "add", "lan", "--role", "staff", password="123456")
    assert r.returncode == 0, r.stderr
    assert "at once" in r.stdout and accounts(kit) == {"mai": "volunteer", "lan": "staff"}
    assert kit.config.read_text(encoding="utf-8").startswith(before)  # appended, nothing lost
    assert kit.config.stat().st_mode & 0o777 == 0o640
    assert auth.verify(config.load(kit.config), "lan", "123456").role == "staff"

    assert user(kit, "add", "hung", "--role", "technician", password="kỹ thuật").returncode == 0
    assert user(kit, "passwd", "mai", password="new-pin").returncode == 0
    cfg = config.load(kit.config)
    assert accounts(kit) == {"mai": "volunteer", "lan": "staff", "hung": "technician"}
    assert auth.verify(cfg, "mai", "new-pin") and auth.verify(cfg, "hung", "kỹ thuật")
    assert auth.verify(cfg, "lan", "123456")  # untouched
    text = kit.config.read_text(encoding="utf-8")
    assert "# volunteers from the youth union" in text and "# keep this comment" in text

    assert user(kit, "passwd", "mai", "--role", "admin", password="new-pin").returncode == 0
    assert user(kit, "remove", "lan").returncode == 0
    assert accounts(kit) == {"mai": "admin", "hung": "technician"}
    r = user(kit, "list")
    assert r.returncode == 0 and r.stdout.split("\n")[:2] == ["mai\tadmin", "hung\ttechnician"]
    assert "# keep this comment" in kit.config.read_text(encoding="utf-8")
    assert not [p for p in kit.config.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_mistakes_are_refused_and_change_nothing(kit):
    assert user(kit, "add", "lan", password="123456").returncode == 0
    before = kit.config.read_bytes()
    for args, password, message in [
        (("add", "lan"), "567890", "exists: `edge user passwd lan`"),
        (("passwd", "nobody"), "567890", "no user 'nobody'"),
        (("remove", "nobody"), "", "(users: lan)"),
        (("add", "../etc"), "567890", "use 1-32 letters"),
        (("add", "hoa"), "12345", "at least 6 characters"),
        (("add",), "567890", "needs a user name"),
    ]:
        r = user(kit, *args, password=password)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
    assert kit.config.read_bytes() == before


def test_accounts_written_inline_are_left_for_hand_editing(kit):
    h = auth.make_hash("1234")
    with kit.config.open("a", encoding="utf-8") as f:
        f.write(f'\n[web]\nusers = [{{ name = "lan", role = "staff", password_hash = "{h}" }}]\n')
    before = kit.config.read_bytes()
    r = user(kit, "add", "hoa", password="567890")
    assert r.returncode == 2 and "edit the file by hand" in r.stderr
    assert kit.config.read_bytes() == before


def test_hash_prints_an_entry_for_hand_editing(kit):
    r = user(kit, "hash", "hoa", "--role", "volunteer", password="567890")
    assert r.returncode == 0 and r.stdout.startswith('[[web.users]]\nname = "hoa"\n')
    assert 'role = "volunteer"' in r.stdout and "password_hash = " in r.stdout
