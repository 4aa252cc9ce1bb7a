"""Thermal ESC/POS receipt printers: their settings, their health, and delivering a slip's bytes.

One module per transport (`usb`, `serial`, `network`, `cups`, `file`, `sim`), each a settings
class built from `[[receipt_printer]]` that knows how to reach its printer; they are imported here
so `settings.of` knows them all, and import nothing heavy until a printer is opened.
`ReceiptDevice` (in `device`) is one configured printer, whatever its transport; `printers` holds
the python-escpos classes the transports open; `status` turns status bytes into metrics and
problems. `library` prepares python-escpos before anything imports it (import it first).
"""

from edge.drivers.receipt import usb, serial, network, cups, file, sim  # noqa: I001 (this order)

__all__ = ["cups", "file", "network", "serial", "sim", "usb"]
