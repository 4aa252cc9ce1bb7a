#!/bin/bash
# Install or upgrade the edge service on Raspberry Pi OS / Debian 12 (bookworm), idempotently.
#
#   sudo ./install.sh                       install or upgrade (from PyPI)
#   sudo ./install.sh --wheelhouse DIR      the same without internet for Python packages
#                                           (DIR made by `make wheelhouse`, see README)
#   sudo ./install.sh --uninstall [--purge] remove the service; --purge also deletes the
#                                           config (/etc/edge) and all data (/var/lib/edge)
#   ./install.sh --stage [--prefix DIR]     only make the release folder (what `edge update` asks
#                                           of a bundle's install.sh), print its version
#
# Run from a release bundle (edge-<version>-<arch>.tar, unpacked: `edge update` does it, see
# README) it installs the bundle's wheels, without internet. Run from a checkout it builds the
# package first (PyPI, or --wheelhouse).
#
# Program in /opt/edge/releases/<version> (a virtualenv each), /opt/edge/current links to the
# running one (/opt/edge/venv to current/venv), config in /etc/edge/edge.toml (written once,
# never overwritten), data in /var/lib/edge, system user `edge`, unit and udev rules enabled.
set -euo pipefail
shopt -s inherit_errexit  # an error inside $(...) stops the script too
cd "$(dirname "$0")"

PREFIX=/opt/edge
CONFIG=/etc/edge/edge.toml
DATA=/var/lib/edge
GROUPS_=(scanner lp lpadmin dialout plugdev)
PACKAGES=(python3 python3-venv python3-dev gcc libsane1 libsane-dev sane-utils libusb-1.0-0
          minisign qpdf libjpeg-dev zlib1g-dev fonts-dejavu-core fonts-dejavu-extra acl nut-client
          cups-ipp-utils tesseract-ocr tesseract-ocr-vie poppler-utils rclone iproute2)

say() { echo "install: $*"; }
die() { echo "install: $*" >&2; exit 1; }
running_systemd() { [ -d /run/systemd/system ]; }

[ "$(id -u)" = 0 ] || die "run as root: sudo $0 $*"

wheelhouse="" uninstall="" purge="" stage=""
while [ $# -gt 0 ]; do
    case "$1" in
        --wheelhouse) wheelhouse="$(realpath "${2:?--wheelhouse needs a folder}")"; shift ;;
        --uninstall) uninstall=1 ;;
        --purge) purge=1 ;;
        --stage) stage=1 ;;
        --prefix) PREFIX="$(realpath -m "${2:?--prefix needs a folder}")"; shift ;;
        *) die "unknown option $1 (see the top of $0)" ;;
    esac
    shift
done

if [ -n "$uninstall" ]; then
    if running_systemd; then
        systemctl disable --now edge-web.service edge.service 2>/dev/null || true
    fi
    systemctl disable --now edge-update.path 2>/dev/null || true
    rm -f /etc/systemd/system/edge.service /etc/systemd/system/edge-web.service \
        /etc/systemd/system/edge-update.service /etc/systemd/system/edge-update.path \
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

# The release folder $PREFIX/releases/<version>: a virtualenv with the package and its pinned
# dependencies, made beside the running one (never in place); prints the version.
stage_release() {
    local wheels=() version tmp
    tmp=$(mktemp -d)
    if [ -f manifest.json ]; then  # a release bundle: its wheels, nothing from the internet
        wheelhouse=$PWD/wheels
        wheels=("$wheelhouse"/edge-*.whl)
    else  # a checkout: build the package's wheel (its version from the git tag)
        /usr/bin/python3 -m venv "$tmp/build" >&2
        local pip=("$tmp/build/bin/pip" install -q --disable-pip-version-check)
        [ -n "$wheelhouse" ] && pip+=(--no-index --find-links "$wheelhouse")
        "${pip[@]}" setuptools setuptools-scm==9.2.2 wheel >&2
        "$tmp/build/bin/pip" wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
            --wheel-dir "$tmp" . >&2
        wheels=("$tmp"/edge-*.whl)
    fi
    [ ${#wheels[@]} = 1 ] && [ -f "${wheels[0]}" ] || die "expected one edge-*.whl, found: ${wheels[*]}"
    version=$(basename "${wheels[0]}" | cut -d- -f2)
    local release=$PREFIX/releases/$version
    if [ ! -x "$release/venv/bin/edge" ]; then
        say "installing release $version in $release" >&2
        rm -rf "$release"
        install -d -m 0755 "$release"
        /usr/bin/python3 -m venv "$release/venv"
        local pip=("$release/venv/bin/pip" install -q --disable-pip-version-check)
        [ -n "$wheelhouse" ] && pip+=(--no-index --find-links "$wheelhouse")
        "${pip[@]}" "${wheels[0]}" >&2 || { rm -rf "$release"; die "pip could not install $version"; }
        tar --exclude=./wheels --exclude=./.venv --exclude=./.git --exclude=./wheelhouse \
            --exclude='*.pyc' -cf - . | tar -xf - -C "$release"  # its units, rules, install.sh
    fi
    rm -rf "$tmp"
    echo "$version"
}

# Point $PREFIX/current at a release: a new link renamed over the old one, in one step.
activate() {
    ln -sfn "releases/$1" "$PREFIX/current.new"
    mv -T "$PREFIX/current.new" "$PREFIX/current"
    # before releases the program was in $PREFIX/venv and $PREFIX/src
    [ -L "$PREFIX/venv" ] || rm -rf "$PREFIX/venv" "$PREFIX/src"
    ln -sfn current/venv "$PREFIX/venv"
    say "release $1 is current ($PREFIX/current)"
}

if [ -n "$stage" ]; then
    install -d -m 0755 "$PREFIX/releases"
    stage_release
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

install -d -m 0755 "$PREFIX/releases"
version=$(stage_release)
activate "$version"
install -d -m 0750 -o root -g edge /etc/edge
if [ ! -e "$CONFIG" ]; then
    install -m 0640 -o root -g edge config/edge.example.toml "$CONFIG"
    say "wrote $CONFIG from the example: edit it (scanners, UPS, modem), then: systemctl restart edge"
else
    say "kept the existing $CONFIG"
fi
install -d -m 0700 -o edge -g edge "$DATA"

install -m 0644 systemd/edge.service systemd/edge-web.service systemd/edge-update.service \
    systemd/edge-update.path /etc/systemd/system/
# 61: after 60-libsane1.rules (SCSI scanners) and 60-serial.rules; 60-edge.rules was the old name
rm -f /etc/udev/rules.d/60-edge.rules
install -m 0644 systemd/61-edge.rules /etc/udev/rules.d/61-edge.rules
if running_systemd; then
    udevadm control --reload && udevadm trigger --subsystem-match=usb --subsystem-match=tty \
        --subsystem-match=scsi_generic
    systemctl daemon-reload
    systemctl enable edge.service edge-web.service edge-update.path
    systemctl restart edge.service edge-web.service \
        || say "the service did not start: journalctl -u edge -u edge-web"
elif command -v systemctl >/dev/null; then
    systemctl enable edge.service edge-web.service edge-update.path  # links only: they start at next boot
    say "systemd is not running here: the service starts at the next boot"
else
    say "systemd is not installed here (a container?): start the service with" \
        "EDGE_CONFIG=$CONFIG $PREFIX/venv/bin/edge run"
fi
if ! EDGE_CONFIG="$CONFIG" "$PREFIX/venv/bin/edge" check-config; then
    say "the config needs fixing before the service can run: $CONFIG"
fi
say "done; check the kit with: sudo -u edge $PREFIX/venv/bin/edge --config $CONFIG doctor"
