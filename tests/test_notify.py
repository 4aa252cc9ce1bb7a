"""systemd's notify protocol, received on a real datagram socket from a real `edge run`."""

import contextlib
import signal
import socket

import pytest


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(30)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")  # ping every second
    yield s
    s.close()


def test_ready_then_watchdog_then_stopping(kit, notify_socket):
    kit.configure([{"name": "sim", "driver": "sim"}])
    proc = kit.popen("run")
    try:
        got = [notify_socket.recv(64).decode() for _ in range(3)]
        assert got[0] == "READY=1" and got[1:] == ["WATCHDOG=1", "WATCHDOG=1"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        notify_socket.settimeout(1)
        rest = []
        with contextlib.suppress(TimeoutError):
            while True:
                rest.append(notify_socket.recv(64).decode())
        assert rest[-1] == "STOPPING=1" and set(rest[:-1]) <= {"WATCHDOG=1"}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_outside_systemd_nothing_is_sent(monkeypatch):
    from edge.notify import notify, watchdog_interval

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert notify("READY=1") is False and watchdog_interval() is None
