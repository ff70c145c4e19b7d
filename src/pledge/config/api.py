"""The single NinjaAPI at /api/v1: token auth, JSON errors with per-field details, the app routers.

Every error is `{"message": str, "errors": [{"field": str, "message": str}]}` (accounts.schemas.ErrorOut)
and every operation documents the error statuses it can answer with.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation
from ninja.security import HttpBearer

from pledge.accounts.api import router as accounts_router
from pledge.accounts.services import api_token_authenticate
from pledge.core.errors import DomainError
from pledge.customers.api import router as customers_router
from pledge.quality.api import router as quality_router
from pledge.standards.api import router as standards_router
from pledge.tickets.api import router as tickets_router

# Longer than any token we issue; a longer value is not looked up at all.
TOKEN_MAX_LENGTH = 200


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if len(token) > TOKEN_MAX_LENGTH or not token.isprintable():
            return None
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
            # Messages in the user's language, unless the client asks for one (Accept-Language).
            if user.language and "HTTP_ACCEPT_LANGUAGE" not in request.META:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
        return user


class PledgeAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # `ticket_create` rather than `pledge_tickets_api_ticket_create`: handler names are unique.
        return operation.view_func.__name__


api = PledgeAPI(
    title="Pledge API",
    version="1",
    description=(
        "REST API of Pledge, the service assurance system. "
        "Authenticate with `Authorization: Bearer <token>` (create a token on your preferences page). "
        'Errors are `{"message": …, "errors": [{"field": …, "message": …}]}`. '
        "Lists are paged with `page` and `page_size` and say `has_next`. "
        "Changes to a ticket carry its `version`; a stale one is refused with 409. "
        "See docs/api.md."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
)


def _error(
    request: HttpRequest, status: int, message: str, fields: dict[str, str] | None = None
) -> HttpResponse:
    body: dict[str, Any] = {
        "message": message,
        "errors": [{"field": k, "message": v} for k, v in (fields or {}).items()],
    }
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message, exc.fields)


# Where ninja says a value came from, and the names handlers give their body and query schemas.
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}
_PARAM_NAMES = {"payload", "query"}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "payload", "tags", 2)` → `tags.2`; `("header", "Idempotency-Key")` → `Idempotency-Key`."""
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in _PARAM_NAMES:
        parts = parts[1:]
    return ".".join(str(part) for part in parts) or "request"


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for err in exc.errors:
        fields.setdefault(_field_name(err.get("loc", ())), str(err.get("msg", "invalid")))
    return _error(request, 422, _("The request has invalid fields."), fields)


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request, 401, _("Authentication required: send a valid API token as `Authorization: Bearer …`.")
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        # ninja's words for a body that is not JSON
        return _error(request, 400, _("The request body is not valid JSON."))
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("Not found."))


@api.exception_handler(MultiPartParserError)
def unreadable_form(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return _error(request, 400, _("The multipart form could not be read."))


@api.exception_handler(SuspiciousOperation)
def suspicious_request(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Too large a form, too many fields or files: Django refuses to read it.
    return _error(request, 400, _("The request is too large or malformed."))


api.add_router("", accounts_router)
api.add_router("/tickets", tickets_router)
api.add_router("", customers_router)
api.add_router("", standards_router)
api.add_router("", quality_router)
