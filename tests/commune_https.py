"""A commune server on loopback for update fetches: Python's http.server behind TLS, its
certificate signed by a throwaway CA that `openssl` makes for the test (the kit trusts that CA
through `[update] ca_file`, or not at all). `/<name>` serves a file of the folder; `/cut/<name>`
promises the whole file and hangs up halfway; `/endless` streams without a length."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from pathlib import Path

SAN = "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" \
      "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"


def make_ca(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1, server key), made by openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / f"{name}-ca.pem", folder / f"{name}-ca.key"
    cert, key, csr = folder / f"{name}.pem", folder / f"{name}.key", folder / f"{name}.csr"
    (folder / "san.ext").write_text(SAN)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for argv in (["req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
                  "-subj", f"/CN=Test {name} CA"],
                 ["req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
                 ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                  "-out", cert, "-days", "2", "-extfile", folder / "san.ext"]):
        subprocess.run(["openssl", *map(str, argv)], check=True, capture_output=True)
    return ca, cert, key


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/cut/"):
            self._cut(Path(self.directory) / self.path.removeprefix("/cut/"))
        elif self.path == "/endless":
            self._endless()
        else:
            super().do_GET()

    def _cut(self, path: Path) -> None:
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.close_connection = True

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        block = b"\0" * (1 << 16)
        try:
            while True:
                self.wfile.write(block)
        except OSError:
            pass  # the kit hung up: what it should do

    def log_message(self, format: str, *args: object) -> None:
        pass


class CommuneServer:
    """`with CommuneServer(folder, tmp) as s:` serves `folder` at s.url over HTTPS; s.ca is the
    certificate of the CA that signed it."""

    def __init__(self, folder: Path, tmp: Path, name: str = "commune"):
        self.ca, cert, key = make_ca(tmp, name)
        handler = lambda *a: Handler(*a, directory=str(folder))  # noqa: E731
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> CommuneServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(30)

