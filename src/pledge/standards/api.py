"""API of business calendars and deadlines: ask when something is due, list, read and replace calendars.
Handlers parse, authorise through policies, call selectors and services."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from pledge.accounts.models import User
from pledge.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from pledge.core.schemas import error_responses
from pledge.standards import policies, selectors, services
from pledge.standards.models import BusinessCalendar
from pledge.standards.schemas import (
    CalendarCode,
    CalendarIn,
    CalendarListQuery,
    CalendarOut,
    CalendarPage,
    CalendarPutQuery,
    SlaDueIn,
    SlaDueOut,
)

router = Router(tags=["calendars"])

_INDEX = re.compile(r"\[(\d+)\]")


@contextmanager
def _request_field_names() -> Iterator[None]:
    """Services name fields as files do (`weekly.tue[1]`), the API as requests do (`weekly.tue.1`)."""
    try:
        yield
    except DomainError as exc:
        exc.fields = {_INDEX.sub(r".\1", key): value for key, value in exc.fields.items()}
        raise


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the token authenticated a user
    return request.user


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _ref(obj: Any, name: str) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": name}


def _summary(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "code": calendar.code,
        "name": calendar.name,
        "timezone": calendar.timezone,
        "holiday_sets": list(calendar.holiday_sets),
        "team": _ref(calendar.team, calendar.team.name if calendar.team else ""),
        "contract": _ref(calendar.contract, calendar.contract.number if calendar.contract else ""),
        "site": calendar.site,
        "version": calendar.version,
        "updated_at": calendar.updated_at,
    }


@router.post(
    "/sla/due",
    response={200: SlaDueOut, **error_responses(400, 403, 422)},
    summary="When is it due? (staff)",
    description="The earliest instant at which `minutes` of the calendar's working time have elapsed "
    "since `start`. `provisional` flags a deadline that reaches a year without holiday data.",
)
def sla_due(request: HttpRequest, payload: SlaDueIn) -> dict[str, Any]:
    _require(policies.can_compute_deadlines(request.user), _("Only staff can ask for deadlines."))
    try:
        calendar = selectors.calendar_get_by_code(payload.calendar)
    except NotFound:
        raise ValidationFailed(
            _("Unknown calendar %(code)s.") % {"code": payload.calendar}, fields={"calendar": _("Not found.")}
        ) from None
    answer = selectors.deadline(selectors.business_time_for(calendar), payload.start, payload.minutes)
    return {
        "due": answer.due,
        "provisional": answer.provisional,
        "uncovered_years": list(answer.uncovered_years),
    }


@router.get(
    "/calendars",
    response={200: CalendarPage, **error_responses(403, 422)},
    summary="List business calendars (staff)",
)
def calendar_list(request: HttpRequest, query: Query[CalendarListQuery]) -> dict[str, Any]:
    _require(policies.can_view_calendars(request.user), _("Only staff can see business calendars."))
    offset = (query.page - 1) * query.page_size
    rows = list(selectors.calendar_list()[offset : offset + query.page_size + 1])
    return {
        "items": [_summary(calendar) for calendar in rows[: query.page_size]],
        "page": query.page,
        "page_size": query.page_size,
        "has_next": len(rows) > query.page_size,
    }


@router.get(
    "/calendars/{code}",
    response={200: CalendarOut, **error_responses(403, 404, 422)},
    summary="Get a business calendar in the file format (staff)",
)
def calendar_get(request: HttpRequest, code: CalendarCode) -> dict[str, Any]:
    _require(policies.can_view_calendars(request.user), _("Only staff can see business calendars."))
    return selectors.calendar_document(selectors.calendar_get_by_code(code))


@router.put(
    "/calendars/{code}",
    response={200: CalendarOut, 201: CalendarOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Create or replace a business calendar (service managers, administrators)",
    description="The body is the calendar file format as JSON. Replacing records a new version; a body "
    "equal to the stored calendar changes nothing. 201 when the calendar is new.",
)
def calendar_put(
    request: HttpRequest, code: CalendarCode, payload: CalendarIn, query: Query[CalendarPutQuery]
) -> Status[dict[str, Any]]:
    _require(
        policies.can_manage_calendars(request.user),
        _("Only service managers and administrators can change calendars."),
    )
    if payload.code is not None and payload.code != code:
        raise ValidationFailed(
            _("The code in the body differs from the code in the path."),
            fields={"code": _("Must be %(code)s.") % {"code": code}},
        )
    data = payload.model_dump(mode="json")
    data["code"] = code
    with _request_field_names():
        result = services.calendar_import(data=data, actor=_user(request), reason=query.reason)
    return Status(201 if result.created else 200, selectors.calendar_document(result.calendar))
