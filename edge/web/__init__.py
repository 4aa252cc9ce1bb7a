"""The local web UI (`edge web`): staff scan, technicians watch devices, volunteers print slips.

It runs as its own process and talks to `edge run` only through the SQLite queue, the device
snapshot file and the storage outbox, so a crash here never stops a scan.
"""
