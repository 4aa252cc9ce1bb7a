"""Edge service for the mobile public-service kit: scanners, queue, PDFs, devices, telemetry."""

import os

# numpy's OpenBLAS starts a worker thread per core when numpy is first imported, before the
# service can block SIGTERM for its threads; a SIGTERM landing on that thread would kill the
# process instead of pausing scans cleanly. Our arrays are small: one thread is all we need.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

try:  # written by setuptools-scm from the git tag when the package is built or installed
    from edge._version import __version__
except ImportError:  # a bare source tree, never built
    __version__ = "0.0.0+unknown"
