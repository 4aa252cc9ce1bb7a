"""Thermal ESC/POS receipt printers: their health, and delivering a slip's bytes to them.

`ReceiptDevice` (in `device`) is one configured `[[receipt_printer]]`, whatever its transport;
`transports` builds python-escpos's printer class for it and asks the printer for its status;
`status` turns the status bytes into metrics and problems; `sim` is the simulated printer of the
demo. `library` comes first: it prepares python-escpos before anything imports it.
"""

from edge.drivers.receipt import library
from edge.drivers.receipt.device import ReceiptDevice, check, lpstat_reading

__all__ = ["ReceiptDevice", "check", "library", "lpstat_reading"]
