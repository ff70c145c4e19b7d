"""API of business calendars, deadlines and SLA policies: ask when something is due, list, read and replace
calendars, list, create, read and replace policies. Handlers parse, authorise through policies, call
selectors and services."""

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
from pledge.core.schemas import QueryId, error_responses
from pledge.standards import policies, selectors, services
from pledge.standards.models import BusinessCalendar, SlaPolicy
from pledge.standards.schemas import (
    CalendarCode,
    CalendarIn,
    CalendarListQuery,
    CalendarOut,
    CalendarPage,
    CalendarPutQuery,
    SlaDueIn,
    SlaDueOut,
    SlaPolicyIn,
    SlaPolicyListQuery,
    SlaPolicyOut,
    SlaPolicyPage,
    SlaPolicyPut,
    SlaPolicyQuery,
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


# ---------------------------------------------------------------------------------------------------
# SLA policies


def _policy_out(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "id": policy.pk,
        "name": policy.name,
        "description": policy.description,
        "position": policy.position + 1,
        "is_active": policy.is_active,
        "contract": _ref(policy.contract, policy.contract.number if policy.contract else ""),
        "tiers": list(policy.tiers),
        "kinds": list(policy.kinds),
        "priorities": list(policy.priorities),
        "channels": list(policy.channels),
        "calendar": {"code": policy.calendar.code, "name": policy.calendar.name},
        "first_response_minutes": policy.first_response_minutes,
        "next_response_minutes": policy.next_response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "on_site_minutes": policy.on_site_minutes,
        "pause_statuses": list(policy.pause_statuses),
        "escalation_levels": [
            {
                "target": level.target,
                "percent": level.percent,
                "notify": list(level.notify),
                "raise_priority": level.raise_priority,
                "reassign_team": _ref(
                    level.reassign_team, level.reassign_team.name if level.reassign_team else ""
                ),
                "add_watcher": _ref(level.add_watcher, str(level.add_watcher) if level.add_watcher else ""),
            }
            for level in policy.escalation_levels.all()
        ],
        "summary": selectors.sla_policy_summary(policy),
        "version": policy.version,
        "updated_at": policy.updated_at,
    }


def _policy_arguments(payload: SlaPolicyIn) -> dict[str, Any]:
    data = payload.model_dump(mode="json", exclude={"escalation_levels", "version"})
    data["escalation_levels"] = [
        services.EscalationLevelData(**level.model_dump(mode="json")) for level in payload.escalation_levels
    ]
    return data


@router.get(
    "/sla/policies",
    response={200: SlaPolicyPage, **error_responses(403, 422)},
    summary="List SLA policies in the order they are tried (staff)",
    tags=["sla"],
)
def sla_policy_list(request: HttpRequest, query: Query[SlaPolicyListQuery]) -> dict[str, Any]:
    _require(policies.can_view_sla_policies(request.user), _("Only staff can see SLA policies."))
    offset = (query.page - 1) * query.page_size
    rows = list(selectors.sla_policy_list()[offset : offset + query.page_size + 1])
    return {
        "items": [_policy_out(policy) for policy in rows[: query.page_size]],
        "page": query.page,
        "page_size": query.page_size,
        "has_next": len(rows) > query.page_size,
    }


@router.post(
    "/sla/policies",
    response={201: SlaPolicyOut, **error_responses(400, 403, 422)},
    summary="Create an SLA policy (service managers, administrators)",
    description="The new policy is tried last. Escalation levels are given with it; "
    "errors name the field, e.g. `escalation_levels.0.percent`.",
    tags=["sla"],
)
def sla_policy_create(
    request: HttpRequest, payload: SlaPolicyIn, query: Query[SlaPolicyQuery]
) -> Status[dict[str, Any]]:
    _require(
        policies.can_manage_sla_policies(request.user),
        _("Only service managers and administrators can change SLA policies."),
    )
    with _request_field_names():
        policy = services.sla_policy_create(
            actor=_user(request), reason=query.reason, **_policy_arguments(payload)
        )
    return Status(201, _policy_out(selectors.sla_policy_get(policy.pk)))


@router.get(
    "/sla/policies/{policy_id}",
    response={200: SlaPolicyOut, **error_responses(403, 404, 422)},
    summary="Get an SLA policy with its escalation levels (staff)",
    tags=["sla"],
)
def sla_policy_get(request: HttpRequest, policy_id: QueryId) -> dict[str, Any]:
    _require(policies.can_view_sla_policies(request.user), _("Only staff can see SLA policies."))
    return _policy_out(selectors.sla_policy_get(policy_id))


@router.put(
    "/sla/policies/{policy_id}",
    response={200: SlaPolicyOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Replace an SLA policy and its escalation levels (service managers, administrators)",
    description="The body is the whole policy (fields left out take their defaults). Send the `version` "
    "you loaded to be refused with 409 when someone changed it since. The open tickets under the policy "
    "have their clocks recomputed.",
    tags=["sla"],
)
def sla_policy_put(
    request: HttpRequest, policy_id: QueryId, payload: SlaPolicyPut, query: Query[SlaPolicyQuery]
) -> dict[str, Any]:
    _require(
        policies.can_manage_sla_policies(request.user),
        _("Only service managers and administrators can change SLA policies."),
    )
    policy = selectors.sla_policy_get(policy_id)
    with _request_field_names():
        services.sla_policy_update(
            policy=policy,
            actor=_user(request),
            expected_version=payload.version,
            reason=query.reason,
            **_policy_arguments(payload),
        )
    return _policy_out(selectors.sla_policy_get(policy_id))
