"""`make release`: one signed bundle per architecture from this checkout (python -m
edge.release.build --key KEY [--arch amd64 --arch arm64] [--out dist]).

Wheels for another architecture come from PyPI with pip's --platform (binary wheels only); a
package without one (python-sane) travels as its source with setuptools and is built by install.sh
on the kit (gcc and libsane-dev are among its packages; scripts/arm64-check.sh proves it under
emulation). For the machine's own architecture every wheel is built or fetched here.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from edge.release import bundle

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = {"amd64": "x86_64", "arm64": "aarch64"}
ARCH_OF_MACHINE = {m: a for a, m in PLATFORMS.items()}.get(platform.machine(), "")
SOURCE_ONLY = ("python-sane",)  # no binary wheels on PyPI
BUILD_TOOLS = ("setuptools==80.9.0", "wheel==0.45.1")  # to build those offline on the kit
PAYLOAD = ("install.sh", "systemd/edge.service", "systemd/edge-web.service",
           "systemd/edge-update.service", "systemd/edge-update.path", "systemd/61-edge.rules",
           "config/edge.example.toml")


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args],
                   check=True)


def edge_wheel(out: Path, root: Path = ROOT) -> Path:
    pip("wheel", "--no-deps", "--wheel-dir", str(out), str(root))
    return next(out.glob("edge-*.whl"))


def dependencies() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def gather(arch: str, wheels: Path) -> None:
    """Every dependency of the package as files pip can install from with --no-index."""
    deps = dependencies()
    binary = [d for d in deps if d.split("==")[0].split("[")[0] not in SOURCE_ONLY]
    source = [d for d in deps if d not in binary]
    machine = PLATFORMS[arch]
    if machine == platform.machine():
        pip("wheel", "--wheel-dir", str(wheels), *deps)
        return
    pip("download", "--dest", str(wheels), "--only-binary=:all:", "--python-version", "3.11",
        "--implementation", "cp", "--abi", "cp311", "--platform", f"manylinux2014_{machine}",
        "--platform", f"manylinux_2_28_{machine}", "--platform", f"manylinux_2_34_{machine}",
        "--platform", "any", *binary)
    pip("download", "--dest", str(wheels), "--no-deps", "--no-binary=:all:", *source)
    pip("download", "--dest", str(wheels), "--no-deps", "--only-binary=:all:", *BUILD_TOOLS)


def build(arch: str, key: Path, out: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        wheels = Path(tmp, "wheels")
        own = edge_wheel(wheels)
        version = own.name.split("-")[1]
        gather(arch, wheels)
        files = {name: ROOT / name for name in PAYLOAD}
        files.update({f"wheels/{w.name}": w for w in sorted(wheels.iterdir())})
        out.mkdir(parents=True, exist_ok=True)
        return bundle.write(out / bundle.name_of(version, arch), version, arch, files, key)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--key", type=Path, required=True, help="minisign secret key (minisign -G -W)")
    p.add_argument("--arch", action="append", choices=sorted(PLATFORMS))
    p.add_argument("--out", type=Path, default=ROOT / "dist")
    args = p.parse_args(argv)
    if shutil.which("minisign") is None:
        p.error("minisign is missing: apt-get install minisign")
    for arch in args.arch or sorted(PLATFORMS):
        print(build(arch, args.key, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
