"""Every refusal the web UI and API give: an HTTP status with English and Vietnamese text."""

from __future__ import annotations

from flask import Response, jsonify

from edge.errors import EdgeError, NotFound, PowerError, StateConflict, StorageError


class WebError(EdgeError):
    """A request the web layer refuses (bad input, wrong role, missing CSRF token...)."""

    def __init__(self, status: int, message: str, vi: str) -> None:
        super().__init__(message, vi=vi)
        self.status = status


STATUS: dict[type[EdgeError], int] = {NotFound: 404, StateConflict: 409, PowerError: 503,
                                      StorageError: 503}


def status_of(e: EdgeError) -> int:
    """The HTTP status of an edge error: 404 not found, 409 wrong state, 503 power/storage,
    400 anything else the request asked for (bad input)."""
    if isinstance(e, WebError):
        return e.status
    return next((status for kind, status in STATUS.items() if isinstance(e, kind)), 400)


def as_json(e: EdgeError) -> tuple[Response, int]:
    status = status_of(e)
    fields = getattr(e, "fields", None)  # the inputs a form should mark (slips)
    resp = jsonify(error=e.message, error_vi=e.vi, **({"fields": fields} if fields else {}))
    if retry := getattr(e, "retry_after", None):
        resp.headers["Retry-After"] = str(retry)
    return resp, status


def bad(message: str, vi: str, status: int = 400) -> WebError:
    return WebError(status, message, vi)
