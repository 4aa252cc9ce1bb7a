"""USB presence through the real pyusb, over a fake bus (no USB devices exist here).

The fake is pyusb's own backend interface (what libusb answers), so pyusb's matching runs as is.
"""

from types import SimpleNamespace

import pytest
import usb.backend

from edge.drivers import usb as usb_driver
from edge.drivers import usb_settings as config
from edge.drivers.registry import make
from edge.errors import DeviceAbsent


class FakeBus(usb.backend.IBackend):
    def __init__(self):
        self.devices = []

    def plug(self, vid, pid, bus=1, address=4):
        self.devices.append(SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x200, bDeviceClass=0, bDeviceSubClass=0,
            bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=vid, idProduct=pid, bcdDevice=0x100,
            iManufacturer=1, iProduct=2, iSerialNumber=3, bNumConfigurations=1, address=address,
            bus=bus, port_number=1, port_numbers=(1,), speed=3))

    def enumerate_devices(self):
        return iter(self.devices)

    def get_device_descriptor(self, dev):
        return dev


@pytest.fixture
def bus(monkeypatch):
    fake = FakeBus()
    monkeypatch.setattr(usb_driver.PyusbDevice, "backend", fake)
    return fake


def test_plugged_unplugged_and_back(bus):
    dev = make("usb", config.Usb(name="fi7160", id="04c5:132e"))
    bus.plug(0x04B8, 0x0202)  # another device on the bus
    with pytest.raises(DeviceAbsent) as e:
        dev.poll()
    assert "04c5:132e (fi7160) is not connected" in e.value.message and "USB" in e.value.vi
    bus.plug(0x04C5, 0x132E, bus=2, address=7)
    m = dev.poll().metrics
    assert m["usb.present"].value is True and (m["usb.bus"].value, m["usb.address"].value) == (2, 7)
    bus.devices.clear()
    with pytest.raises(DeviceAbsent):
        dev.poll()


def test_bad_id_is_a_config_error(kit):
    kit.configure([])
    with open(kit.config, "a") as f:
        f.write('\n[[usb]]\nname = "fi7160"\nid = "fi-7160"\n')
    r = kit.edge("check-config")
    assert r.returncode == 2 and "usb[0].id" in r.stderr and "04c5:132e" in r.stderr


@pytest.mark.parametrize("plugged", [False, True])
def test_a_scanner_off_the_bus_is_reported_unplugged(kit, bus, plugged):
    from edge.pipeline.queue import Queue
    from edge.pipeline.storage import Storage
    from edge.pipeline.worker import Worker

    from .conftest import sane_adf

    kit.configure([sane_adf(name="fi7160", device="test:9", usb_id="04c5:132e")])
    if plugged:
        bus.plug(0x04C5, 0x132E)
    cfg = kit.cfg()
    storage = Storage(cfg.storage.root)
    storage.prepare()
    with Queue(storage.db) as queue:
        job = queue.create(kit="PL01", doc="Tờ khai", scanner="fi7160", preset="")
        job = Worker(cfg, storage, queue, cfg.scanner[0]).run(job)
    assert job.state == "failed"
    unplugged = "not on the USB bus" in job.message and "rút cáp USB" in job.message_vi
    assert unplugged is not plugged  # on the bus: what SANE said stands
