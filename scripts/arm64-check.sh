#!/bin/bash
# Prove that the kit installs and scans on arm64 (Raspberry Pi OS / Debian 12) before a Pi does:
# a Debian bookworm arm64 tree (debootstrap), run under qemu-user-static through binfmt_misc,
# install.sh in it, then `edge check-config`, `edge doctor` and one scan from the SANE test backend
# to a PDF that `qpdf --check` accepts. Slow (tens of minutes): not part of CI; its summary goes
# to docs/operations.md ("arm64 check").
#
#   sudo scripts/arm64-check.sh                        install.sh from this checkout (PyPI)
#   sudo scripts/arm64-check.sh --bundle edge-V-arm64.tar   the release bundle instead (offline)
#   options: --work DIR (default /var/tmp/edge-arm64; the pristine tree is kept there and reused)
#            --mirror URL (default http://deb.debian.org/debian)
#
# Needs root, debootstrap and qemu-user-static (scripts/setup.sh release installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD

work=/var/tmp/edge-arm64 mirror=http://deb.debian.org/debian bundle=""
while [ $# -gt 0 ]; do
    case "$1" in
        --work) work=$(realpath -m "${2:?--work needs a folder}"); shift ;;
        --mirror) mirror=${2:?--mirror needs a URL}; shift ;;
        --bundle) bundle=$(realpath "${2:?--bundle needs a file}"); shift ;;
        *) echo "arm64-check: unknown option $1 (see the top of $0)" >&2; exit 2 ;;
    esac
    shift
done

start=$(date +%s) last=$start
step() {  # step NAME: print how long the previous step took, then the new step's name
    local now; now=$(date +%s)
    echo "arm64-check: [$((now - start))s, +$((now - last))s] $*"
    last=$now
}
die() { echo "arm64-check: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and binfmt_misc need it)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
[ -x /usr/bin/qemu-aarch64-static ] || die "qemu-user-static is missing: apt-get install qemu-user-static"

# binfmt_misc: with the F flag the kernel opens the interpreter now, so it works inside the chroot
# without a copy of qemu there (Debian's own rule, as systemd-binfmt would register it)
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
fi
grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
    || die "qemu-aarch64 is registered without the F flag: echo -1 >/proc/sys/fs/binfmt_misc/qemu-aarch64, then run again"

base=$work/base root=$work/root
mkdir -p "$work"
if [ ! -e "$base/.complete" ]; then
    step "debootstrap --arch arm64 bookworm into $base (once; reused next time)"
    rm -rf "$base"
    debootstrap --arch arm64 --variant=minbase bookworm "$base" "$mirror" >"$work/debootstrap.log" 2>&1 \
        || die "debootstrap failed: see $work/debootstrap.log"
    touch "$base/.complete"
fi

step "fresh copy of the tree"
umount_all() {
    for m in dev/pts dev sys proc; do mountpoint -q "$root/$m" && umount -l "$root/$m"; done
    return 0
}
umount_all
rm -rf "$root"
cp -a "$base" "$root"
trap umount_all EXIT
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# a clean environment (variables of the host's pip break its build isolation); the host's CA
# bundle for pip, for networks whose HTTPS proxy has its own CA (not needed with --bundle)
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/host-ca.crt"
in_tree() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        PIP_CERT=/etc/host-ca.crt "$@"
}
[ "$(in_tree uname -m)" = aarch64 ] || die "the tree does not run as aarch64"

if [ -n "$bundle" ]; then
    step "install.sh from the bundle $(basename "$bundle")"
    cp "$bundle" "$root/root/"
    mkdir -p "$root/root/edge"
    tar -xf "$bundle" -C "$root/root/edge"
    install_args=(--wheelhouse /root/edge/wheels)
else
    step "install.sh from the checkout $(git -C "$checkout" describe --tags --always --dirty 2>/dev/null)"
    mkdir -p "$root/root/edge"
    git -C "$checkout" ls-files -z --cached --others --exclude-standard \
        | tar --null -T - -cf - | tar -xf - -C "$root/root/edge"
    install_args=()
fi
in_tree /bin/bash -c "cd /root/edge && ./install.sh ${install_args[*]}" 2>&1 | sed 's/^/  | /'
[ "${PIPESTATUS[0]}" = 0 ] || die "install.sh failed"

step "config with the SANE test backend"
mkdir -p "$root/etc/edge/sane"
echo test >"$root/etc/edge/sane/dll.conf"
cat >"$root/etc/edge/arm64-check.toml" <<'EOF'
[kit]
id = "ARM64"
commune = "Kiểm tra arm64"

[storage]
root = "/var/lib/edge"

[[scanner]]
name = "adf"
driver = "sane"
device = "test:0"
source = "adf"
mode = "color"
dpi = 200
options = { "test-picture" = "Color pattern" }
EOF
edge() { in_tree SANE_CONFIG_DIR=/etc/edge/sane /opt/edge/venv/bin/edge --config /etc/edge/arm64-check.toml "$@"; }

step "edge --version"
edge --version
step "edge check-config"
edge check-config
step "edge doctor"
edge doctor || echo "arm64-check: doctor reported problems (above): expected for what a chroot lacks"
step "edge scan (SANE test backend, 10 sheets)"
edge scan --scanner adf --doc "Kiểm tra" --json >"$work/scan.json"
pdf=$(in_tree /opt/edge/venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["pdf"])' <"$work/scan.json")
step "qpdf --check $pdf"
in_tree qpdf --check "$pdf" | tail -2

step "summary"
echo "  arch: $(in_tree uname -m), $(in_tree sh -c '. /etc/os-release; echo $PRETTY_NAME')"
echo "  python: $(in_tree /opt/edge/venv/bin/python -V), libsane: $(in_tree dpkg-query -W -f='${Version}' libsane1)"
echo "  pages: $(in_tree /opt/edge/venv/bin/python -c 'import json,sys; j=json.load(sys.stdin); print(j.get("pages"))' <"$work/scan.json")"
echo "  built from source here (wheel tag linux_aarch64, not manylinux):"
for w in "$root"/opt/edge/venv/lib/python3*/site-packages/*.dist-info/WHEEL; do
    grep -q '^Tag: .*-linux_aarch64$' "$w" && echo "    $(basename "$(dirname "$w")" .dist-info)"
done
echo "  binary wheels (aarch64):"
for w in "$root"/opt/edge/venv/lib/python3*/site-packages/*.dist-info/WHEEL; do
    grep -q '^Tag: .*manylinux.*aarch64' "$w" && echo "    $(basename "$(dirname "$w")" .dist-info)"
done
echo "arm64-check: PASSED in $(($(date +%s) - start))s"
