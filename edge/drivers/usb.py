"""USB presence by vendor:product, so "unplugged" means unplugged, not "SANE said I/O error".

A scanner that fell off the bus and a receipt printer whose cable was pulled look the same to
their own drivers as a dozen other failures; the bus itself says which it is.
"""

from __future__ import annotations

from typing import Any

import usb.core

from edge.drivers.device import Device
from edge.drivers.usb_settings import UsbSettings
from edge.errors import DeviceAbsent, DeviceError
from edge.health import Metric, Reading


class PyusbDevice(Device):
    kind = "usb"
    backend: Any = None  # a pyusb backend; None lets pyusb pick libusb

    def __init__(self, cfg: UsbSettings) -> None:
        super().__init__(cfg)
        vid, pid = cfg.id.split(":")
        self.vid, self.pid = int(vid, 16), int(pid, 16)

    def poll(self) -> Reading:
        try:
            dev = usb.core.find(idVendor=self.vid, idProduct=self.pid, backend=self.backend)
        except usb.core.NoBackendError:
            raise DeviceError("USB cannot be read: libusb is missing",
                              vi="Không đọc được cổng USB; hãy báo kỹ thuật viên",
                              hint="apt-get install libusb-1.0-0") from None
        except usb.core.USBError as e:
            raise DeviceError(f"USB cannot be read: {e}") from None
        if dev is None:
            raise DeviceAbsent(
                f"USB device {self.cfg.id} ({self.name}) is not connected",
                vi=f"Không thấy {self.cfg.label or 'thiết bị'} trên cổng USB. Kiểm tra cáp USB và "
                   "công tắc nguồn của thiết bị.")
        return Reading({"usb.present": Metric(True), "usb.bus": Metric(int(dev.bus or 0)),
                        "usb.address": Metric(int(dev.address or 0))})


class SimUsbDevice(Device):
    """Always plugged in (the demo's simulated scanners and printer are always there)."""

    kind = "usb"

    def poll(self) -> Reading:
        return Reading({"usb.present": Metric(True)})
