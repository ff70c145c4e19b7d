"""Domain errors raised by services and selectors; the API and views turn them into responses."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise


class DomainError(Exception):
    """A request that cannot be carried out, with a message for the user and optional field errors."""

    status_code = 400

    def __init__(self, message: str | Promise, *, fields: Mapping[str, str | Promise] | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.fields = {key: str(value) for key, value in (fields or {}).items()}


class ValidationFailed(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class PermissionDenied(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The object changed since the caller loaded it (a stale update), or a duplicate was refused."""

    status_code = 409
