"""One exception tree, so every layer can show a user-facing message without guessing.

Each error carries an English message (logs, CLI) and a Vietnamese one (web UI), plus the fix.
"""


class EdgeError(Exception):
    """Root of every error the service reports to a person."""

    def __init__(self, message: str, *, vi: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.vi = vi or message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(EdgeError):
    """The configuration file is missing, malformed or inconsistent."""


class ScannerError(EdgeError):
    """A scanner is absent, busy, jammed or otherwise failed a scan."""

    def __init__(self, status: str, message: str, *, vi: str = "", hint: str = "") -> None:
        super().__init__(message, vi=vi, hint=hint)
        self.status = status


class JobError(EdgeError):
    """A job request is invalid (bad dossier code, missing document type...)."""


class NotFound(JobError):
    """The job, or the file or page of a job, asked for does not exist."""


class StateConflict(JobError):
    """The job is not in a state that allows the action (resume a job that is not paused...)."""


class StorageError(EdgeError):
    """The storage area cannot be written (full disk, permissions, corruption)."""


class DeviceError(EdgeError):
    """A monitored device (UPS, modem, printer, USB) cannot be read or refused a command."""


class DeviceAbsent(DeviceError):
    """The device is not connected or does not answer at its address."""


class PowerError(EdgeError):
    """New work is refused because the kit is about to lose power."""


class UpdateError(EdgeError):
    """A release bundle was refused (signature, manifest, version) or its update failed."""
