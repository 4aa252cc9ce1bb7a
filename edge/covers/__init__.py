"""Cover sheets the kit prints to separate the documents of one scanned stack (issue 21).

`sheet` draws them (A4, Vietnamese text and the QR `edge.pipeline.cover` recognises), `service`
prints them on the multifunction printer; the scan pipeline splits a job at each one it sees.
"""
