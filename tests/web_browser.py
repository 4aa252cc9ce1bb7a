"""Browser fixtures for the end-to-end tests: `edge run` + `edge web` as real processes, and
Debian's chromium driven by Playwright (never `playwright install`: no downloads here)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from .peers import free_port
from .web_kit import PASSWORDS, add_web

CHROMIUM = "/usr/bin/chromium"


def wait_port(port: int, proc, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"edge web did not listen on {port}")


class Stack:
    """The service and the web UI for one kit config."""

    def __init__(self, kit) -> None:
        self.kit = kit
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list = []

    def start(self, extra_web: str = "") -> Stack:
        add_web(self.kit.config, self.port, extra_web)
        run = self.kit.popen("run")
        self.procs.append(run)
        deadline = time.monotonic() + 30
        while not (self.kit.root / "locks" / "worker.lock").exists():
            assert run.poll() is None and time.monotonic() < deadline, run.stderr.read()
            time.sleep(0.05)
        web = self.kit.popen("web")
        self.procs.append(web)
        wait_port(self.port, web)
        return self

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=15)
                except Exception:
                    p.kill()
                    p.wait()


@pytest.fixture
def stack(kit):
    s = Stack(kit)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/setup.sh test)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page_for(browser):
    contexts = []

    def make(stack: Stack, user: str, width: int = 1280):
        ctx = browser.new_context(viewport={"width": width, "height": 900},
                                  accept_downloads=True, base_url=stack.url,
                                  bypass_csp=True)  # lets wait_for_function evaluate
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        page.goto("/login")
        page.fill("#name", user)
        page.fill("#password", PASSWORDS[user])
        page.click("#login")
        page.wait_for_load_state()
        return page

    yield make
    for c in contexts:
        c.close()

