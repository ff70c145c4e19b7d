"""API of business calendars, deadlines, SLA policies, the service catalogue and SOPs: ask when something is
due; list, read and replace calendars; list, create, read and replace policies; list, create, read and
change service types; list, create and read SOPs, edit, discard and approve their drafts, compare
versions. Handlers parse, authorise through policies, call selectors and services."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from pledge.accounts.models import User
from pledge.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from pledge.core.schemas import PageQuery, QueryId, error_responses
from pledge.standards import policies, selectors, services
from pledge.standards.choices import SopVersionStatus
from pledge.standards.models import BusinessCalendar, ServiceType, SlaPolicy, Sop, SopStep, SopVersion
from pledge.standards.schemas import (
    AnyServiceTypeOut,
    CalendarCode,
    CalendarIn,
    CalendarListQuery,
    CalendarOut,
    CalendarPage,
    CalendarPutQuery,
    Code,
    ServiceTypeIn,
    ServiceTypeListQuery,
    ServiceTypeOut,
    ServiceTypePage,
    ServiceTypePatch,
    SlaDueIn,
    SlaDueOut,
    SlaPolicyIn,
    SlaPolicyListQuery,
    SlaPolicyOut,
    SlaPolicyPage,
    SlaPolicyPut,
    SlaPolicyQuery,
    SlaRecountListQuery,
    SlaRecountPage,
    SopApproveIn,
    SopDiffOut,
    SopDiffQuery,
    SopDraftIn,
    SopDraftStartIn,
    SopIn,
    SopListQuery,
    SopOut,
    SopPage,
    SopVersionOut,
    StepIn,
    VersionNumber,
)

router = Router(tags=["calendars"])

_INDEX = re.compile(r"\[(\d+)\]")
_Row = TypeVar("_Row", bound=Model)


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


def _page(
    query: PageQuery, rows: QuerySet[_Row], items: Callable[[list[_Row]], list[dict[str, Any]]]
) -> dict[str, Any]:
    """The page of `rows` that `query` asks for, in the list envelope; one extra row is read to tell
    whether a next page exists (no COUNT)."""
    offset = (query.page - 1) * query.page_size
    found = list(rows[offset : offset + query.page_size + 1])
    return {
        "items": items(found[: query.page_size]),
        "page": query.page,
        "page_size": query.page_size,
        "has_next": len(found) > query.page_size,
    }


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
    "/sla/recounts",
    response={200: SlaRecountPage, **error_responses(403, 422)},
    summary="List SLA recounts after calendar and policy changes (staff)",
    description="Each change to a calendar, its holiday data or an SLA policy recounts the running clocks "
    "on it; each recount is listed here, newest first, with what it did. The tickets it moved show it in "
    "their timeline (an event with `recount` set to its id).",
)
def sla_recount_list(request: HttpRequest, query: Query[SlaRecountListQuery]) -> dict[str, Any]:
    _require(policies.can_view_sla_recounts(request.user), _("Only staff can see SLA recounts."))
    rows = selectors.sla_recount_list(calendar_code=query.calendar, policy_id=query.policy)
    return _page(query, rows, lambda found: [_recount_out(row) for row in found])


def _recount_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.pk,
        "created_at": row.created_at,
        "actor": _person(row.actor),
        "reason": row.reason,
        "calendar": row.calendar.code if row.calendar is not None else None,
        "calendar_version": row.calendar_version,
        "policy": _ref(row.policy, row.policy.name if row.policy else ""),
        "policy_version": row.policy_version,
        "clocks": row.clocks,
        "moved": row.moved,
        "tickets": row.tickets,
    }


@router.get(
    "/calendars",
    response={200: CalendarPage, **error_responses(403, 422)},
    summary="List business calendars (staff)",
)
def calendar_list(request: HttpRequest, query: Query[CalendarListQuery]) -> dict[str, Any]:
    _require(policies.can_view_calendars(request.user), _("Only staff can see business calendars."))
    return _page(query, selectors.calendar_list(), lambda rows: [_summary(row) for row in rows])


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


def _require_policy_manager(request: HttpRequest) -> None:
    _require(
        policies.can_manage_sla_policies(request.user),
        _("Only service managers and administrators can change SLA policies."),
    )


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
        "service_types": list(policy.service_types),
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
    return _page(query, selectors.sla_policy_list(), lambda rows: [_policy_out(row) for row in rows])


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
    _require_policy_manager(request)
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
    _require_policy_manager(request)
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


# ---------------------------------------------------------------------------------------------------
# The service catalogue


def _require_catalogue_manager(request: HttpRequest) -> None:
    _require(
        policies.can_manage_catalogue(request.user),
        _("Only service managers and administrators can change the service catalogue and SOPs."),
    )


def _versions_in_effect(sop_ids: set[int]) -> dict[int, int]:
    """SOP id → the number of its version in effect today (two queries: the SOPs and their versions)."""
    if not sop_ids:
        return {}
    today = selectors.company_day()
    found: dict[int, int] = {}
    for sop in selectors.sop_list().filter(pk__in=sop_ids):
        versions = list(sop.versions.all())
        states = selectors.sop_version_states(versions, today)
        current = next((v for v in versions if states[v.pk] == selectors.VersionState.IN_EFFECT), None)
        if current is not None:
            found[sop.pk] = current.number
    return found


def _service_type_brief(row: ServiceType) -> dict[str, Any]:
    """What a customer sees of a service type: nothing of its SOP, targets or internals."""
    return {"code": row.code, "name": row.name, "description": row.description, "category": row.category}


def _service_type_out(row: ServiceType, in_effect: dict[int, int]) -> dict[str, Any]:
    """A service type as staff see it; `row` comes with its SOP and calendar (service_type_list)."""
    sop = row.sop
    return {
        **_service_type_brief(row),
        "default_kind": row.default_kind,
        "default_priority": row.default_priority,
        "skills": list(row.skills),
        "sop": None if sop is None else {"code": sop.code, "name": sop.name},
        "sop_version": None if row.sop_id is None else in_effect.get(row.sop_id),
        "calendar": {"code": row.calendar.code, "name": row.calendar.name},
        "first_response_minutes": row.first_response_minutes,
        "next_response_minutes": row.next_response_minutes,
        "resolution_minutes": row.resolution_minutes,
        "on_site_minutes": row.on_site_minutes,
        "customer_selectable": row.customer_selectable,
        "is_active": row.is_active,
        "position": row.position + 1,
        "version": row.version,
        "updated_at": row.updated_at,
    }


def _service_type_detail(row: ServiceType) -> dict[str, Any]:
    return _service_type_out(row, _versions_in_effect({row.sop_id} if row.sop_id else set()))


def _service_type_for(user: Any, code: str) -> ServiceType:
    """Staff find every service type; customers only those offered to them (the others are 404, worded as
    for a code that does not exist)."""
    if policies.can_view_catalogue(user):
        return selectors.service_type_by_code(code)
    row = selectors.service_type_list(customer_only=True).filter(code=code).first()
    if row is None:
        raise NotFound(
            _("There is no service type %(code)s.") % {"code": code}, fields={"code": _("Not found.")}
        )
    return row


@router.get(
    "/service-types",
    response={200: ServiceTypePage, **error_responses(403, 422)},
    summary="List the service catalogue",
    description="In catalogue order. Staff get every service type with its SOP (and the number of the "
    "version in effect today), calendar and SLA targets; customers get the active ones offered to them, "
    "with only code, name, description and category.",
    tags=["catalogue"],
)
def service_type_list(request: HttpRequest, query: Query[ServiceTypeListQuery]) -> dict[str, Any]:
    user = request.user
    staff = policies.can_view_catalogue(user)
    if not staff:
        _require(policies.can_choose_service_type(user), _("You cannot see the service catalogue."))

    def items(shown: list[ServiceType]) -> list[dict[str, Any]]:
        if not staff:
            return [_service_type_brief(row) for row in shown]
        in_effect = _versions_in_effect({row.sop_id for row in shown if row.sop_id is not None})
        return [_service_type_out(row, in_effect) for row in shown]

    return _page(query, selectors.service_type_list(customer_only=not staff), items)


@router.post(
    "/service-types",
    response={201: ServiceTypeOut, **error_responses(400, 403, 409, 422)},
    summary="Add a service type to the catalogue (service managers, administrators)",
    description="It goes last in the catalogue. `sop` and `calendar` are codes. Target minutes, when "
    "given, replace the matching SLA policy's for tickets of this type.",
    tags=["catalogue"],
)
def service_type_create(request: HttpRequest, payload: ServiceTypeIn) -> Status[dict[str, Any]]:
    _require_catalogue_manager(request)
    row = services.service_type_create(actor=_user(request), **payload.model_dump(mode="json"))
    return Status(201, _service_type_detail(selectors.service_type_get(row.pk)))


@router.get(
    "/service-types/{code}",
    response={200: AnyServiceTypeOut, **error_responses(404, 422)},
    summary="Get a service type",
    description="Staff get every field; customers only code, name, description and category, and only "
    "of the active service types offered to them (404 for the others).",
    tags=["catalogue"],
)
def service_type_get(request: HttpRequest, code: Code) -> dict[str, Any]:
    row = _service_type_for(request.user, code)
    if not policies.can_view_catalogue(request.user):
        return _service_type_brief(row)
    return _service_type_detail(row)


@router.put(
    "/service-types/{code}",
    response={200: ServiceTypeOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Change a service type (service managers, administrators)",
    description="Only the fields sent change; `sop` and the target minutes take null to clear them. Send "
    "the `version` you loaded to be refused with 409 when someone changed it since. Changed targets are "
    "re-applied to the open tickets of this type.",
    tags=["catalogue"],
)
def service_type_put(request: HttpRequest, code: Code, payload: ServiceTypePatch) -> dict[str, Any]:
    _require_catalogue_manager(request)
    row = selectors.service_type_by_code(code)
    changes = payload.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    services.service_type_update(
        service_type=row, actor=_user(request), expected_version=payload.version, **changes
    )
    return _service_type_detail(selectors.service_type_get(row.pk))


# ---------------------------------------------------------------------------------------------------
# SOPs and their versions


def _require_sop_viewer(request: HttpRequest) -> None:
    _require(policies.can_view_catalogue(request.user), _("Only staff can see SOPs."))


def _person(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": str(user)}


def _states(sop: Sop) -> dict[int, selectors.VersionState]:
    """The state today of each version of `sop` (its versions prefetched by sop_list)."""
    return selectors.sop_version_states(sop.versions.all(), selectors.company_day())


def _version_summary(version: SopVersion, states: dict[int, selectors.VersionState]) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "state": states[version.pk],
        "reason": version.reason,
        "effective_from": version.effective_from,
        "revision": version.revision,
        "created_by": _person(version.created_by),
        "created_at": version.created_at,
        "approved_by": _person(version.approved_by),
        "approved_at": version.approved_at,
    }


def _sop_out(sop: Sop) -> dict[str, Any]:
    versions = list(sop.versions.all())  # newest first
    states = _states(sop)
    return {
        "code": sop.code,
        "name": sop.name,
        "description": sop.description,
        "created_at": sop.created_at,
        "in_effect": next(
            (v.number for v in versions if states[v.pk] == selectors.VersionState.IN_EFFECT), None
        ),
        "draft": next((v.number for v in versions if v.status == SopVersionStatus.DRAFT), None),
        "versions": [_version_summary(version, states) for version in versions],
    }


def _step_out(step: SopStep) -> dict[str, Any]:
    return {
        "position": step.position,
        "key": step.key,
        "name": step.name,
        "owner": step.owner,
        "team": _ref(step.team, step.team.name if step.team else ""),
        "time_standard_minutes": step.time_standard_minutes,
        "parallel_group": step.parallel_group,
        "is_milestone": step.is_milestone,
        "milestone_name": step.milestone_name,
        "guidance": step.guidance,
        "checkpoints": [
            {
                "key": cp.key,
                "label": cp.label,
                "kind": cp.kind,
                "mandatory": cp.mandatory,
                "critical": cp.critical,
                "min_value": cp.min_value,
                "max_value": cp.max_value,
                "unit": cp.unit,
            }
            for cp in step.checkpoints.all()
        ],
    }


def _version_out(code: str, number: int) -> dict[str, Any]:
    """One version with its steps and checkpoints, read afresh (five queries)."""
    sop = selectors.sop_get_by_code(code)
    version = selectors.sop_version_get(sop, number)
    return {
        **_version_summary(version, _states(sop)),
        "sop": {"code": sop.code, "name": sop.name},
        "steps": [_step_out(step) for step in version.steps.all()],
    }


def _step_data(steps: list[StepIn]) -> list[services.StepData]:
    return [
        services.StepData(
            **step.model_dump(mode="json", exclude={"checkpoints"}),
            checkpoints=[services.CheckpointData(**cp.model_dump(mode="json")) for cp in step.checkpoints],
        )
        for step in steps
    ]


def _draft_of(code: str, number: int) -> SopVersion:
    return selectors.sop_version_get(selectors.sop_get_by_code(code), number)


@router.get(
    "/sops",
    response={200: SopPage, **error_responses(403, 422)},
    summary="List SOPs with their versions (staff)",
    tags=["sops"],
)
def sop_list(request: HttpRequest, query: Query[SopListQuery]) -> dict[str, Any]:
    _require_sop_viewer(request)
    return _page(query, selectors.sop_list(), lambda rows: [_sop_out(row) for row in rows])


@router.post(
    "/sops",
    response={201: SopVersionOut, **error_responses(400, 403, 409, 422)},
    summary="Create an SOP; its first version is a draft (service managers, administrators)",
    description="Answers 201 with the draft. Errors name the field, also inside steps and checkpoints: "
    "`steps.1.checkpoints.0.min_value`.",
    tags=["sops"],
)
def sop_create(request: HttpRequest, payload: SopIn) -> Status[dict[str, Any]]:
    _require_catalogue_manager(request)
    with _request_field_names():
        draft = services.sop_create(
            actor=_user(request),
            code=payload.code,
            name=payload.name,
            description=payload.description,
            reason=payload.reason,
            steps=_step_data(payload.steps),
        )
    return Status(201, _version_out(draft.sop.code, draft.number))


@router.get(
    "/sops/{code}",
    response={200: SopOut, **error_responses(403, 404, 422)},
    summary="Get an SOP with its versions and their states (staff)",
    tags=["sops"],
)
def sop_get(request: HttpRequest, code: Code) -> dict[str, Any]:
    _require_sop_viewer(request)
    return _sop_out(selectors.sop_get_by_code(code))


@router.get(
    "/sops/{code}/diff",
    response={200: SopDiffOut, **error_responses(403, 404, 422)},
    summary="Compare two versions of an SOP (staff)",
    description="Step by step, matched by key: added, removed, changed (with each field's old and new "
    "value, in the caller's language) or the same. `to` defaults to the latest version, `from` to the "
    "one before `to`.",
    tags=["sops"],
)
def sop_diff(request: HttpRequest, code: Code, query: Query[SopDiffQuery]) -> dict[str, Any]:
    _require_sop_viewer(request)
    sop = selectors.sop_get_by_code(code)
    numbers = sorted(version.number for version in sop.versions.all())
    newer = query.to if query.to is not None else (numbers[-1] if numbers else None)
    if newer is None:
        raise NotFound(_("%(sop)s has no versions.") % {"sop": sop.code})
    older = query.from_ if query.from_ is not None else max((n for n in numbers if n < newer), default=None)
    if older is None:
        raise ValidationFailed(
            _("Version %(number)d is the first: there is no earlier version to compare it with.")
            % {"number": newer},
            fields={"from": _("Name the version to compare with.")},
        )
    found: dict[str, SopVersion] = {}
    for field, number in (("from", older), ("to", newer)):
        try:
            found[field] = selectors.sop_version_get(sop, number)
        except NotFound as exc:
            raise ValidationFailed(exc.message, fields={field: _("Not found.")}) from None
    old, new = found["from"], found["to"]
    return {
        "sop": {"code": sop.code, "name": sop.name},
        "from_version": old.number,
        "to_version": new.number,
        "steps": [
            {
                "key": diff.key,
                "name": diff.name,
                "change": diff.change,
                "fields": [asdict(change) for change in diff.fields],
                "checkpoints": [
                    {"label": label, "change": change, "fields": [asdict(item) for item in fields]}
                    for label, change, fields in diff.checkpoints
                ],
            }
            for diff in selectors.sop_version_diff(old, new)
        ],
    }


@router.get(
    "/sops/{code}/versions/{number}",
    response={200: SopVersionOut, **error_responses(403, 404, 422)},
    summary="Get one version of an SOP with its steps and checkpoints (staff)",
    tags=["sops"],
)
def sop_version_get(request: HttpRequest, code: Code, number: VersionNumber) -> dict[str, Any]:
    _require_sop_viewer(request)
    return _version_out(code, number)


@router.put(
    "/sops/{code}/versions/{number}",
    response={200: SopVersionOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Replace a draft's steps and checkpoints (service managers, administrators)",
    description="Drafts only (an approved version is frozen: 409). The steps replace the draft's as a "
    "whole. Send the `revision` you loaded to be refused with 409 when someone saved the draft since.",
    tags=["sops"],
)
def sop_draft_put(
    request: HttpRequest, code: Code, number: VersionNumber, payload: SopDraftIn
) -> dict[str, Any]:
    _require_catalogue_manager(request)
    version = _draft_of(code, number)
    with _request_field_names():
        services.sop_draft_save(
            actor=_user(request),
            version=version,
            steps=_step_data(payload.steps),
            reason=payload.reason,
            name=payload.name,
            description=payload.description,
            expected_revision=payload.revision,
        )
    return _version_out(code, number)


@router.delete(
    "/sops/{code}/versions/{number}",
    response={204: None, **error_responses(403, 404, 409, 422)},
    summary="Discard a draft (service managers, administrators)",
    description="Approved versions stay for ever: 409.",
    tags=["sops"],
)
def sop_draft_discard(request: HttpRequest, code: Code, number: VersionNumber) -> HttpResponse:
    _require_catalogue_manager(request)
    services.sop_draft_discard(actor=_user(request), version=_draft_of(code, number))
    response = HttpResponse(status=204)
    del response["Content-Type"]  # no content, so no content type (ninja would say JSON)
    return response


@router.post(
    "/sops/{code}/drafts",
    response={201: SopVersionOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Start a new draft from the latest version (service managers, administrators)",
    description="409 while a draft exists: change that one, or discard it first.",
    tags=["sops"],
)
def sop_draft_start(request: HttpRequest, code: Code, payload: SopDraftStartIn) -> Status[dict[str, Any]]:
    _require_catalogue_manager(request)
    sop = selectors.sop_get_by_code(code)
    draft = services.sop_draft_start(actor=_user(request), sop=sop, reason=payload.reason)
    return Status(201, _version_out(sop.code, draft.number))


@router.post(
    "/sops/{code}/versions/{number}/approve",
    response={200: SopVersionOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Approve a draft to take effect on a day (service managers, administrators)",
    description="Recorded with your name and the time. New tickets of the SOP's service types follow the "
    "version in effect on the day they are created. `effective_from` is today or later, and after the "
    "latest approved version's day.",
    tags=["sops"],
)
def sop_version_approve(
    request: HttpRequest, code: Code, number: VersionNumber, payload: SopApproveIn
) -> dict[str, Any]:
    _require(policies.can_approve_sops(request.user), _("Only a service manager approves an SOP version."))
    version = _draft_of(code, number)
    services.sop_version_approve(actor=_user(request), version=version, effective_from=payload.effective_from)
    return _version_out(code, number)
