"""Citizens' slips on thermal ESC/POS printers, correct in Vietnamese.

A volunteer hands each citizen a slip: what was received, the ticket number and (when known) the
dossier code, the procedure, the appointment or how the result comes back, the staff member and
QR codes to look the dossier up and to answer the satisfaction survey. Cheap printers print
Vietnamese tone marks wrongly, so by default the whole slip is drawn here (Pillow + a
Vietnamese-capable TTF) and sent as a raster image; printers whose profile has a Vietnamese code
page may print text themselves (`text_mode = "codepage"`).

The pieces, each in its own module: `template` (the editable TOML templates and the checks on
what fills them), `layout` (word wrapping), `raster` (drawing the slip), `codepage` (Vietnamese
in TCVN-3 / CP1258), `qr`, `stream` (the ESC/POS bytes), `queue` (the durable spool and its
retries) and `command` (`edge receipt`).
"""

import edge.drivers.receipt.library  # noqa: F401  (prepares python-escpos before any use)
