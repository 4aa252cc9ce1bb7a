"""The systemd unit, the udev rules and install.sh, checked with the real tools."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_units_pass_systemd_analyze_verify(tmp_path):
    edge = Path(shutil.which("edge") or ROOT / ".venv/bin/edge")
    for name, command in (("edge.service", "run"), ("edge-web.service", "web"),
                          ("edge-update.service", "update --requested")):
        unit = (ROOT / "systemd" / name).read_text()
        assert f"ExecStart=/opt/edge/venv/bin/edge {command}" in unit
        (tmp_path / name).write_text(unit.replace("/opt/edge/venv/bin/edge", str(edge)))
    shutil.copy(ROOT / "systemd/edge-update.path", tmp_path)
    r = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "edge.service"),
                        str(tmp_path / "edge-web.service"), str(tmp_path / "edge-update.service"),
                        str(tmp_path / "edge-update.path")], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    unit = (ROOT / "systemd/edge.service").read_text()
    for needed in ("Type=notify", "WatchdogSec=", "DevicePolicy=closed",
                   "DeviceAllow=char-usb_device rw", "ProtectSystem=strict",
                   "StateDirectory=edge", "NoNewPrivileges=yes"):
        assert needed in unit
    assert "\nPrivateDevices=" not in unit  # it would hide the scanners


def test_install_script_is_valid_bash_and_refuses_non_root():
    subprocess.run(["bash", "-n", str(ROOT / "install.sh")], check=True)
    # the script on stdin: the checkout may sit in /root, which nobody else can read
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "bash", "-s"], input=(ROOT / "install.sh").read_text(),
                       capture_output=True, text=True, cwd="/")
    assert r.returncode == 1 and "run as root" in r.stderr


def test_udev_rules_name_groups_that_the_installer_creates():
    rules = (ROOT / "systemd/61-edge.rules").read_text()
    install = (ROOT / "install.sh").read_text()
    for group in ("scanner", "dialout", "lp"):
        assert f'GROUP="{group}"' in rules and group in install
    assert 'ENV{libsane_matched}=="yes"' in rules


# --- The udev rules through udev's own rules engine ---------------------------------------------
# `udevadm test` loads every rules file of /etc/udev/rules.d, /run/udev/rules.d and
# /usr/lib/udev/rules.d (in the lexical order of their names, across the three folders), logs
# what it cannot parse, then runs the whole set on one device as for a real uevent: builtins
# (usb_id, hwdb with libsane's scanner list, path_id) included, then sets the node's group and mode
# and makes the symlinks. systemd 252 has no `udevadm verify` (253+) and no other rules folder, so
# each run happens in a private mount namespace: our file, under the name install.sh gives it, in a
# fresh /run/udev/rules.d; /etc/udev/rules.d emptied; /sys replaced by a fake sysfs tree (the kit's
# USB devices, laid out as the kernel does); a scratch /dev holding their nodes; an /etc/group
# with the groups the installer creates. Nothing of it reaches the machine.

INSTALL_RULES = re.compile(
    r"^install -m 0644 (systemd/\S+\.rules) /etc/udev/rules\.d/(\S+\.rules)$", re.MULTILINE)


def installed_rules() -> tuple[Path, str]:
    """The rules file in the checkout and its name in /etc/udev/rules.d: that name decides which
    of the distribution's rules (libsane's, usb_id's import in 60-serial.rules) run before ours."""
    m = INSTALL_RULES.search((ROOT / "install.sh").read_text())
    assert m, "install.sh no longer installs the udev rules with `install -m 0644 systemd/...`"
    return ROOT / m[1], m[2]


class FakeSysfs:
    """Devices as the kernel shows them in sysfs: a folder under devices/ with a uevent file,
    attribute files and a `subsystem` link, and its link in bus/*/devices/ or class/*/."""

    def __init__(self, root: Path):
        self.root = root
        self.nodes: dict[str, str] = {}  # syspath -> "DEVNAME MAJOR MINOR", for mknod in /dev
        self._usb = 0

    def add(self, devpath: str, subsystem: str, uevent: dict | None = None,
            attrs: dict | None = None, *, cls: bool = False) -> str:
        d = self.root / "devices" / devpath
        d.mkdir(parents=True)
        uevent = uevent or {}
        (d / "uevent").write_text("".join(f"{k}={v}\n" for k, v in uevent.items()))
        for name, value in (attrs or {}).items():
            (d / name).write_text(f"{value}\n")
        home = self.root / ("class" if cls else "bus") / subsystem
        link = home / d.name if cls else home / "devices" / d.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(d, link.parent))
        (d / "subsystem").symlink_to(os.path.relpath(home, d))
        syspath = "/sys/devices/" + devpath
        if "DEVNAME" in uevent:
            self.nodes[syspath] = f"/dev/{uevent['DEVNAME']} {uevent['MAJOR']} {uevent['MINOR']}"
        return syspath

    def usb(self, vid: str, pid: str, product: str, interfaces: tuple = ("ff0000",)) -> str:
        """A device on the Pi's USB bus with interfaces of these class+subclass+protocol (hex);
        returns its devpath under devices/."""
        self._usb += 1
        dev = self._usb + 1  # 1 is the root hub
        path = f"platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb1/1-{self._usb}"
        v, p = int(vid, 16), int(pid, 16)
        # what usb_id reads for ID_USB_INTERFACES: the device's descriptors as it sent them
        # (device, configuration, then each interface with its bulk-in endpoint)
        descriptors = bytes([18, 1, 0, 2, 0, 0, 0, 64, v & 255, v >> 8, p & 255, p >> 8, 0, 1,
                             1, 2, 0, 1,
                             9, 2, 9 + 16 * len(interfaces), 0, len(interfaces), 1, 0, 0x80, 50])
        for n, c in enumerate(interfaces):
            descriptors += bytes([9, 4, n, 0, 1, *bytes.fromhex(c), 0, 7, 5, 0x81 + n, 2, 64, 0, 0])
        self.add(path, "usb", {
            "MAJOR": 189, "MINOR": dev - 1, "DEVNAME": f"bus/usb/001/{dev:03}",
            "DEVTYPE": "usb_device", "PRODUCT": f"{v:x}/{p:x}/100", "TYPE": "0/0/0",
            "BUSNUM": "001", "DEVNUM": f"{dev:03}"},
            {"idVendor": vid, "idProduct": pid, "bcdDevice": "0100", "bDeviceClass": "00",
             "bNumInterfaces": f"{len(interfaces):2}", "busnum": 1, "devnum": dev,
             "manufacturer": product.split()[0], "product": product})
        (self.root / "devices" / path / "descriptors").write_bytes(descriptors)
        for n, c in enumerate(interfaces):
            cls, sub, proto = bytes.fromhex(c)
            self.add(f"{path}/1-{self._usb}:1.{n}", "usb", {
                "DEVTYPE": "usb_interface", "PRODUCT": f"{v:x}/{p:x}/100", "TYPE": "0/0/0",
                "INTERFACE": f"{cls}/{sub}/{proto}",
                "MODALIAS": f"usb:v{v:04X}p{p:04X}d0100dc00dsc00dp00ic{cls:02X}isc{sub:02X}"
                            f"ip{proto:02X}in{n:02X}"},
                {"bInterfaceNumber": f"{n:02x}", "bInterfaceClass": f"{cls:02x}",
                 "bInterfaceSubClass": f"{sub:02x}", "bInterfaceProtocol": f"{proto:02x}"})
        return path

    def usb_serial(self, vid: str, pid: str, product: str, ports: dict[int, int]) -> dict[int, str]:
        """A USB-serial adapter or modem: {interface number: n of its /dev/ttyUSBn} -> the tty
        devices' syspaths."""
        usb = self.usb(vid, pid, product, ("ff0000",) * (max(ports) + 1))
        ttys = {}
        for number, n in ports.items():
            port = self.add(f"{usb}/{usb.rsplit('/', 1)[1]}:1.{number}/ttyUSB{n}", "usb-serial",
                            {}, {"port_number": 0})
            ttys[number] = self.add(f"{port.removeprefix('/sys/devices/')}/tty/ttyUSB{n}", "tty",
                                    {"MAJOR": 188, "MINOR": n, "DEVNAME": f"ttyUSB{n}"}, cls=True)
        return ttys

    def scsi_scanner(self) -> str:
        """A SCSI scanner (device type 6) through its generic node /dev/sg0."""
        host = "platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/host0"
        self.add(host, "scsi", {"DEVTYPE": "scsi_host"})
        self.add(f"{host}/target0:0:0", "scsi", {"DEVTYPE": "scsi_target"})
        lun = self.add(f"{host}/target0:0:0/0:0:0:0", "scsi",
                       {"DEVTYPE": "scsi_device", "MODALIAS": "scsi:t-0x06"},
                       {"type": 6, "vendor": "HP      ", "model": "C6270A          "})
        return self.add(f"{lun.removeprefix('/sys/devices/')}/scsi_generic/sg0", "scsi_generic",
                        {"MAJOR": 21, "MINOR": 0, "DEVNAME": "sg0"}, cls=True)


def kit_sysfs(root: Path) -> tuple[FakeSysfs, dict[str, str]]:
    """What a kit can have plugged in, by name -> syspath of the device the rules act on."""
    fs = FakeSysfs(root)
    d = {
        "UPS cable PL2303": fs.usb_serial("067b", "2303", "USB-Serial Controller", {0: 0})[0],
        "UPS cable CH340": fs.usb_serial("1a86", "7523", "USB Serial", {0: 1})[0],
        "UPS cable FT232": fs.usb_serial("0403", "6001", "FT232R USB UART", {0: 2})[0],
        "other USB-serial (CP2102)": fs.usb_serial("10c4", "ea60", "CP2102 Bridge", {0: 3})[0],
    }
    # modems with their serial interfaces (the rest are network ones): AT commands on 02
    ec25 = fs.usb_serial("2c7c", "0125", "Quectel EG25-G", {0: 4, 1: 5, 2: 6, 3: 7})
    d["modem EC25 interface 02"], d["modem EC25 interface 03"] = ec25[2], ec25[3]
    d["modem SIM7600 interface 02"] = fs.usb_serial("1e0e", "9001", "SimTech SIM7600",
                                                     {0: 8, 1: 9, 2: 10, 3: 11})[2]
    d["modem Huawei interface 02"] = fs.usb_serial("12d1", "1001", "Huawei Mobile",
                                                    {0: 12, 1: 13, 2: 14})[2]
    # a scanner in libsane's list (hwdb.d/20-sane.hwdb): Canon CanoScan LiDE 220
    d["USB scanner"] = "/sys/devices/" + fs.usb("04a9", "190f", "Canon CanoScan")
    d["SCSI scanner"] = fs.scsi_scanner()
    # receipt printers: a USB printer-class interface (which Debian's rules already give lp), and
    # one that only talks its vendor's protocol
    d["receipt printer Xprinter"] = "/sys/devices/" + fs.usb("0416", "5011", "Xprinter",
                                                            ("070102",))
    d["receipt printer Epson TM-T20"] = "/sys/devices/" + fs.usb("04b8", "0e15", "EPSON TM-T20")
    d["other USB device"] = "/sys/devices/" + fs.usb("046d", "c077", "Logitech Mouse",
                                                    ("030102",))
    return fs, d


UDEV_RUN = r"""
work=$1 syspath=$2
mount --bind "$work/group" /etc/group
if [ -d /etc/udev/rules.d ]; then mount -t tmpfs tmpfs /etc/udev/rules.d; fi
mount -t tmpfs tmpfs /run
mkdir -p /run/udev/rules.d
cp "$work"/rules/* /run/udev/rules.d/
mount --bind "$work/sys" /sys
mount -t tmpfs tmpfs /dev
mknod -m 0666 /dev/null c 1 3
while read -r name major minor; do
    mkdir -p "${name%/*}"
    mknod -m 0600 "$name" c "$major" "$minor"
done <"$work/nodes"
# the fake tree is on tmpfs, not sysfs: tell sd-device not to refuse it (as systemd's own tests do)
SYSTEMD_DEVICE_VERIFY_SYSFS=0 udevadm test --action=add "$syspath"
echo "--- /dev"
find /dev -mindepth 1 -printf '%p\t%y\t%g\t%m\t%l\n'
"""


class Udev:
    """One `udevadm test` run: its log, the device's properties, then what /dev holds."""

    def __init__(self, stdout: str, stderr: str, rules_name: str, devname: str):
        self.devname = devname  # the device's node, as the fake sysfs gives it
        props, _, dev = stdout.partition("\n--- /dev\n")
        self.log = stderr
        self.props = dict(line.split("=", 1) for line in props.splitlines()
                          if re.match(r"[\w.]+=", line))
        self.dev = {f[0]: f[1:] for f in (line.split("\t") for line in dev.splitlines())}
        self.rules_path = f"/run/udev/rules.d/{rules_name}"

    def complaints(self) -> list[str]:
        """What udev said about our file other than "reading it" and the actions it took: parse
        errors (logged as FILE:LINE ...) and failures while applying a rule (DEVICE: FILE:LINE)."""
        return [line for line in self.log.splitlines()
                if self.rules_path in line and not line.startswith("Reading rules file")
                and (line.startswith(self.rules_path)
                     or re.search(r"invalid|unknown|fail|ignor|error|warn", line, re.IGNORECASE))]

    def trace(self) -> str:
        """The rules that acted on the device, and what udev did with the node and its links."""
        return "\n".join(line for line in self.log.splitlines() if re.match(r"\S+: ", line))

    def node(self, name: str) -> tuple[str, str]:
        """(group, octal mode) of a device node."""
        kind, group, mode, _ = self.dev[name]
        assert kind == "c", (name, self.dev[name])
        return group, mode

    def edge_links(self) -> dict[str, str]:
        """/dev/edge-* symlinks -> their targets."""
        return {name: target for name, (kind, _, _, target) in self.dev.items()
                if name.startswith("/dev/edge-") and kind == "l"}


@pytest.fixture(scope="module")
def mount_namespace():
    if shutil.which("udevadm") is None or shutil.which("unshare") is None:
        pytest.skip("needs udevadm and unshare (Debian: udev, util-linux)")
    r = subprocess.run(["unshare", "--mount", "--propagation", "private",
                        "mount", "-t", "tmpfs", "tmpfs", "/tmp"], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"needs root with CAP_SYS_ADMIN for a private mount namespace: {r.stderr}")


@pytest.fixture
def udev(tmp_path, mount_namespace):
    """udev(name of a kit device, rules text=our file) -> Udev: the device plugged in (an "add"
    event: the udev database knows nothing of it yet) with the rules under their installed name."""
    fs, devices = kit_sysfs(tmp_path / "sys")
    (tmp_path / "nodes").write_text("".join(f"{n}\n" for n in fs.nodes.values()))
    groups = Path("/etc/group").read_text()
    names = {line.split(":", 1)[0] for line in groups.splitlines()}
    gid = 60000
    for g in ("scanner", "lp", "dialout"):  # as install.sh makes sure
        if g not in names:
            groups += f"{g}:x:{gid}:\n"
            gid += 1
    (tmp_path / "group").write_text(groups)
    source, name = installed_rules()

    def run(device: str, rules: str | None = None) -> Udev:
        shutil.rmtree(tmp_path / "rules", ignore_errors=True)
        (tmp_path / "rules").mkdir()
        (tmp_path / "rules" / name).write_text(source.read_text() if rules is None else rules)
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-euc",
                            UDEV_RUN, "udev", str(tmp_path), devices[device]],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        out = Udev(r.stdout, r.stderr, name, fs.nodes[devices[device]].split()[0])
        assert f"Reading rules file: {out.rules_path}" in out.log, out.log
        return out

    return run


# a change a careless edit could make -> (text replaced in our file, the replacement)
BREAKAGES = {
    "as it is": None,
    "misspelt key": ('SUBSYSTEM=="tty"', 'SUBSYTEM=="tty"'),
    "comparison for an assignment": ('GROUP="scanner"', 'GROUP=="scanner"'),
    "assignment for a comparison": ('ATTRS{idVendor}=="067b"', 'ATTRS{idVendor}="067b"'),
    "unclosed quote": ('ENV{libsane_matched}=="yes"', 'ENV{libsane_matched}=="yes'),
    "misspelt group": ('GROUP="dialout"', 'GROUP="dailout"'),
    "bad mode": ('SYMLINK+="edge-ups", GROUP="dialout", MODE="0660"',
                 'SYMLINK+="edge-ups", GROUP="dialout", MODE="06x0"'),
    "unknown substitution": ('SYMLINK+="edge-ups"', 'SYMLINK+="edge-ups-$attr{serial"'),
    "goto without label": ('SUBSYSTEM=="tty", ATTRS{idVendor}=="067b"',
                           'SUBSYSTEM=="tty", GOTO="edge_end"\nSUBSYSTEM=="tty", '
                           'ATTRS{idVendor}=="067b"'),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_udev_parses_the_rules_without_a_complaint(udev, breakage):
    rules = installed_rules()[0].read_text()
    if BREAKAGES[breakage]:
        old, new = BREAKAGES[breakage]
        assert old in rules
        rules = rules.replace(old, new, 1)
    complaints = udev("UPS cable PL2303", rules).complaints()
    if BREAKAGES[breakage]:
        assert complaints, f"udev took a rules file with a {breakage} without a word"
    else:
        assert complaints == []


# device -> (group, mode of its node, /dev/edge-* links to it)
KIT = {
    "UPS cable PL2303": ("dialout", "660", {"/dev/edge-ups"}),
    "UPS cable CH340": ("dialout", "660", {"/dev/edge-ups"}),
    "UPS cable FT232": ("dialout", "660", {"/dev/edge-ups"}),
    "other USB-serial (CP2102)": ("dialout", "660", set()),
    "modem EC25 interface 02": ("dialout", "660", {"/dev/edge-modem"}),
    "modem EC25 interface 03": ("dialout", "660", set()),
    "modem SIM7600 interface 02": ("dialout", "660", {"/dev/edge-modem"}),
    "modem Huawei interface 02": ("dialout", "660", {"/dev/edge-modem"}),
    "USB scanner": ("scanner", "660", set()),
    "SCSI scanner": ("scanner", "660", set()),
    "receipt printer Xprinter": ("lp", "660", set()),
    "receipt printer Epson TM-T20": ("lp", "660", set()),
    "other USB device": ("root", "664", set()),
}


# libsane marks SCSI scanners in 60-libsane1.rules and usb_id runs in 60-serial.rules: rules
# installed under a name sorting before those would miss the SCSI scanner and the modem ports
@pytest.mark.parametrize("device", KIT)
def test_udev_rules_give_each_kit_device_its_group_and_name(udev, device):
    group, mode, links = KIT[device]
    out = udev(device)
    assert out.complaints() == []
    node = out.devname
    assert out.props["DEVNAME"] == node
    assert out.node(node) == (group, mode), out.trace()
    assert out.edge_links() == {link: os.path.relpath(node, "/dev") for link in links}, out.trace()
