"""Edge service for the mobile public-service kit: scanners, queue, PDFs, devices, telemetry."""

__version__ = "0.1.0"
