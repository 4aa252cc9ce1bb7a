#!/usr/bin/env bash
# Install what the service (and, with "test", its test suite) needs, idempotently:
# Debian packages, a virtualenv in .venv and the package itself (pip install -e).
# Usage: scripts/setup.sh [run|test|release]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-run}

packages=(python3 python3-venv python3-dev gcc libsane1 libsane-dev sane-utils libusb-1.0-0
          qpdf libjpeg-dev zlib1g-dev fonts-dejavu-core fonts-dejavu-extra rclone iproute2)
if [ "$what" = test ]; then
    # pdftoppm renders PDFs back in the tests; tesseract reads them back in bench/;
    # chromium runs the web UI's end-to-end tests (Playwright, never `playwright install`)
    # systemd: `systemd-analyze verify` checks the units; udev: `udevadm test` runs the udev rules
    # openssh (sshd, ssh-keygen) and samba (smbd, smbpasswd): the delivery tests' real servers
    packages+=(procps poppler-utils tesseract-ocr tesseract-ocr-vie nut-server nut-client socat
               cups-ipp-utils dbus libzbar0 mosquitto openssl chromium systemd udev
               openssh-server openssh-client samba)
    packages+=(minisign)  # release bundles are signed and checked with it (tests/test_release.py)
fi
if [ "$what" = release ]; then
    # make release signs with minisign; scripts/arm64-check.sh runs an arm64 tree under qemu
    packages+=(minisign debootstrap qemu-user-static)
fi
# postgresql: the fleet tests run `edge fleet --db postgresql://` on a throwaway cluster (initdb)
[ "$what" = test ] && packages+=(postgresql)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's own Python 3.11, whatever else is first on PATH.
[ -x .venv/bin/python ] || /usr/bin/python3 -m venv .venv
extra=""
[ "$what" = test ] && extra="[test]"
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-$what"
if [ ! -f "$stamp" ]; then
    echo "setup: installing the edge package and its pinned dependencies into .venv" >&2
    .venv/bin/pip install -q --disable-pip-version-check -e ".$extra"
    touch "$stamp"
fi
