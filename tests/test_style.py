import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_test_modules_take_the_browser_through_the_plugin():
    """Importing web_browser's session fixtures into a module makes a second session Chromium
    whose Playwright loop stays open, and every later browser test fails at setup."""
    fixtures = {"browser", "page_for", "stack"}
    wrong = [p.name for p in (ROOT / "tests").glob("test_*.py")
             for node in ast.walk(ast.parse(p.read_text()))
             if isinstance(node, ast.ImportFrom) and node.module == "web_browser"
             and fixtures & {a.name for a in node.names}]
    assert not wrong, f"use pytest_plugins = ['tests.web_browser'] in {wrong}"
