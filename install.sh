#!/bin/bash
# Install or upgrade the edge service on Raspberry Pi OS / Debian 12 (bookworm), idempotently.
#
#   sudo ./install.sh                       install or upgrade (from PyPI)
#   sudo ./install.sh --wheelhouse DIR      the same without internet for Python packages
#                                           (DIR made by `make wheelhouse`, see README)
#   sudo ./install.sh --uninstall [--purge] remove the service; --purge also deletes the
#                                           config (/etc/edge) and all data (/var/lib/edge)
#
# Program in /opt/edge (source and virtualenv), config in /etc/edge/edge.toml (written once,
# never overwritten), data in /var/lib/edge, system user `edge`, unit and udev rules enabled.
set -euo pipefail
cd "$(dirname "$0")"

PREFIX=/opt/edge
CONFIG=/etc/edge/edge.toml
DATA=/var/lib/edge
GROUPS_=(scanner lp lpadmin dialout plugdev)
PACKAGES=(python3 python3-venv python3-dev gcc libsane1 libsane-dev sane-utils libusb-1.0-0
          qpdf libjpeg-dev zlib1g-dev fonts-dejavu-core fonts-dejavu-extra acl nut-client
          cups-ipp-utils tesseract-ocr tesseract-ocr-vie poppler-utils rclone iproute2)

say() { echo "install: $*"; }
die() { echo "install: $*" >&2; exit 1; }
running_systemd() { [ -d /run/systemd/system ]; }

[ "$(id -u)" = 0 ] || die "run as root: sudo $0 $*"

wheelhouse="" uninstall="" purge=""
while [ $# -gt 0 ]; do
    case "$1" in
        --wheelhouse) wheelhouse="$(realpath "${2:?--wheelhouse needs a folder}")"; shift ;;
        --uninstall) uninstall=1 ;;
        --purge) purge=1 ;;
        *) die "unknown option $1 (see the top of $0)" ;;
    esac
    shift
done

if [ -n "$uninstall" ]; then
    if running_systemd; then
        systemctl disable --now edge-web.service edge.service 2>/dev/null || true
    fi
    rm -f /etc/systemd/system/edge.service /etc/systemd/system/edge-web.service \
        /etc/udev/rules.d/61-edge.rules /etc/udev/rules.d/60-edge.rules
    running_systemd && systemctl daemon-reload
    rm -rf "$PREFIX"
    if [ -n "$purge" ]; then
        rm -rf /etc/edge "$DATA"
        userdel edge 2>/dev/null || true
        say "removed, with config and data"
    else
        say "removed; config ($CONFIG) and data ($DATA) kept (--purge deletes them)"
    fi
    exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

for g in "${GROUPS_[@]}"; do getent group "$g" >/dev/null || groupadd --system "$g"; done
if ! id edge >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$DATA" --no-create-home \
        --shell /usr/sbin/nologin --comment "edge service" edge
fi
usermod -a -G "$(IFS=,; echo "${GROUPS_[*]}")" edge

say "installing the program in $PREFIX"
install -d -m 0755 "$PREFIX" "$PREFIX/src"
tar --exclude=./.venv --exclude=./.git --exclude=./wheelhouse --exclude='*.pyc' -cf - . \
    | tar -xf - -C "$PREFIX/src"
[ -x "$PREFIX/venv/bin/python" ] || /usr/bin/python3 -m venv "$PREFIX/venv"
pip=("$PREFIX/venv/bin/pip" install -q --disable-pip-version-check)
[ -n "$wheelhouse" ] && pip+=(--no-index --find-links "$wheelhouse")
"${pip[@]}" --upgrade "$PREFIX/src"

install -d -m 0750 -o root -g edge /etc/edge
if [ ! -e "$CONFIG" ]; then
    install -m 0640 -o root -g edge config/edge.example.toml "$CONFIG"
    say "wrote $CONFIG from the example: edit it (scanners, UPS, modem), then: systemctl restart edge"
else
    say "kept the existing $CONFIG"
fi
install -d -m 0700 -o edge -g edge "$DATA"

install -m 0644 systemd/edge.service systemd/edge-web.service /etc/systemd/system/
# 61: after 60-libsane1.rules (SCSI scanners) and 60-serial.rules; 60-edge.rules was the old name
rm -f /etc/udev/rules.d/60-edge.rules
install -m 0644 systemd/61-edge.rules /etc/udev/rules.d/61-edge.rules
if running_systemd; then
    udevadm control --reload && udevadm trigger --subsystem-match=usb --subsystem-match=tty \
        --subsystem-match=scsi_generic
    systemctl daemon-reload
    systemctl enable edge.service edge-web.service
    systemctl restart edge.service edge-web.service \
        || say "the service did not start: journalctl -u edge -u edge-web"
elif command -v systemctl >/dev/null; then
    systemctl enable edge.service edge-web.service  # links only: they start at next boot
    say "systemd is not running here: the service starts at the next boot"
else
    say "systemd is not installed here (a container?): start the service with" \
        "EDGE_CONFIG=$CONFIG $PREFIX/venv/bin/edge run"
fi
if ! EDGE_CONFIG="$CONFIG" "$PREFIX/venv/bin/edge" check-config; then
    say "the config needs fixing before the service can run: $CONFIG"
fi
say "done; check the kit with: sudo -u edge $PREFIX/venv/bin/edge --config $CONFIG doctor"
