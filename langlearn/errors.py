"""The errors every app raises for a request it refuses.

Each carries the HTTP status the API answers with and a stable ``code``;
``langlearn.api.exception_handler`` renders them as ``{"detail": ...}``, and
management commands turn them into a ``CommandError``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, detail: Any, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code


class InvalidInput(DomainError):
    """Bad input; ``detail`` is a message or a ``{field: [messages]}`` dict."""


class NotFound(DomainError):
    """Missing, or not the caller's: the API never tells the two apart."""

    status_code = 404
    default_code = "not_found"


class ConflictError(DomainError):
    """The request is valid but the resource's state does not allow it."""

    status_code = 409
    default_code = "conflict"


class Unauthenticated(DomainError):
    """Credentials (a password, a token) that are wrong, expired or revoked."""

    status_code = 401
    default_code = "not_authenticated"
