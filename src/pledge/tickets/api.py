"""API of tickets: list, create (idempotent, optionally of a service type), get with timeline and SLA
clocks, reply, note, transition (with the checkpoint override), assign, update, record arrival on site,
watch, attachment download, and the ticket's SOP steps (read, answer checkpoints, complete). Handlers
parse, authorise through policies, call selectors and services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pydantic
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import HeaderEx, P, Query, Router
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.responses import Status as WithStatus

from pledge.accounts import policies as account_policies
from pledge.accounts import selectors as account_selectors
from pledge.accounts.models import Team, User
from pledge.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from pledge.core.schemas import QueryId, error_responses
from pledge.core.uploads import ALLOWED_TYPES, clean_filename
from pledge.customers import policies as customer_policies
from pledge.customers import selectors as customer_selectors
from pledge.customers.models import Asset, Contact, Organisation
from pledge.standards import selectors as standards_selectors
from pledge.standards.models import ServiceType
from pledge.tickets import policies, selectors, services
from pledge.tickets.choices import Channel, Status
from pledge.tickets.models import Attachment, CheckpointAnswer, Message, Ticket, TicketEvent
from pledge.tickets.schemas import (
    ArrivalIn,
    AssignIn,
    IdempotencyKey,
    MessageIn,
    MessageOut,
    StepCompleteIn,
    StepPosition,
    TicketDetailOut,
    TicketIn,
    TicketListQuery,
    TicketOut,
    TicketPage,
    TicketPatch,
    TicketStepsOut,
    TransitionIn,
    WatchersOut,
)
from pledge.tickets.selectors import ClockView, StepView, TicketFilters, TicketSteps
from pledge.tickets.steps import ANSWER_MAX

router = Router(tags=["tickets"])

# Services name the domain field; the API names the request field.
_REQUEST_FIELDS = {
    "organisation": "organisation_id",
    "contact": "contact_id",
    "asset": "asset_id",
    "team": "team_id",
    "assignee": "assignee_id",
    "message": "body",
}

# Stored files keep their cleaned name, and filesystems refuse names over 255 bytes (UTF-8).
FILENAME_MAX_BYTES = 200

_MESSAGE_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": MessageIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "body": MessageIn.model_json_schema()["properties"]["body"],
                        "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                    "required": ["body"],
                }
            },
        },
    }
}

_FILE_DOC = {
    "responses": {
        200: {
            "description": "The file, as an attachment.",
            "content": {
                content_type: {"schema": {"type": "string", "format": "binary"}}
                for content_type in sorted(set(ALLOWED_TYPES.values()))
            },
        }
    }
}


@contextmanager
def _request_field_names() -> Iterator[None]:
    try:
        yield
    except DomainError as exc:
        exc.fields = {_REQUEST_FIELDS.get(key, key): value for key, value in exc.fields.items()}
        raise


def _ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj)}


def _ticket_out(ticket: Ticket, user: Any, *, tags: list[str] | None = None) -> dict[str, Any]:
    """The list item of a ticket. Lists load its relations with the page (select_related, prefetched
    tags); after a write the few that the service did not set are read lazily.
    Customers see the service type but not the SOP version or the back-office team behind it."""
    internal = policies.can_view_internal(user)
    service_type = ticket.service_type if ticket.service_type_id is not None else None
    sop_version = ticket.sop_version if internal and ticket.sop_version_id is not None else None
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "kind": ticket.kind,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "status": ticket.status,
        "organisation": _ref(ticket.organisation),
        "contact": _ref(ticket.contact),
        "asset_id": ticket.asset_id,
        "team": _ref(ticket.team),
        "assignee": _ref(ticket.assignee),
        "tags": tags if tags is not None else [tag.name for tag in ticket.tags.all()],
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "sla_due_at": ticket.sla_due_at,
        "on_site_at": ticket.on_site_at,
        "service_type": None
        if service_type is None
        else {"code": service_type.code, "name": service_type.name},
        "sop_version": None if sop_version is None else sop_version.number,
        "handoff_team": _ref(ticket.handoff_team)
        if internal and ticket.handoff_team_id is not None
        else None,
        "version": ticket.version,
    }


def _clock_out(view: ClockView) -> dict[str, Any]:
    return {
        "target": view.target,
        "cycle": view.cycle,
        "state": view.state,
        "due_at": view.due_at,
        "target_minutes": view.target_minutes,
        "used_minutes": round(view.used_minutes, 2),
        "paused_minutes": round(view.paused_minutes, 2),
        "remaining_minutes": round(view.remaining_minutes, 2),
        "percent_used": round(view.percent_used, 1),
        "paused": view.is_paused,
        "provisional_years": list(view.provisional_years),
        "achieved_at": view.achieved_at,
        "met": view.met,
    }


def _sla_out(user: Any, ticket: Ticket) -> dict[str, Any]:
    """Staff get the policy and the business minutes; customers only the promised and achieved times."""
    sla = selectors.ticket_clocks(ticket, timezone.now())
    if not policies.can_view_sla_details(user):
        return {
            "clocks": [
                {"target": v.target, "state": v.state, "due_at": v.due_at, "achieved_at": v.achieved_at}
                for v in sla.clocks
            ]
        }
    contract = sla.contract
    return {
        "policy": _ref(sla.policy),
        "contract": None if contract is None else {"id": contract.pk, "name": contract.number},
        "clocks": [_clock_out(view) for view in sla.clocks],
        "history": [_clock_out(view) for view in sla.history],
    }


def _attachment_out(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "message_id": attachment.message_id,
        "created_at": attachment.created_at,
        "url": reverse(
            "api:ticket_attachment",
            kwargs={"ticket_id": attachment.ticket_id, "attachment_id": attachment.pk},
        ),
    }


def _message_out(message: Message, attachments: list[Attachment]) -> dict[str, Any]:
    return {
        "id": message.pk,
        "author": _ref(message.author),
        "body": message.body,
        "is_internal": message.is_internal,
        "from_customer": message.from_customer,
        "channel": message.channel,
        "created_at": message.created_at,
        "attachments": [_attachment_out(a) for a in attachments],
    }


def _event_out(event: TicketEvent, *, internal: bool) -> dict[str, Any]:
    data = event.data if isinstance(event.data, dict) else {}
    return {
        "id": event.pk,
        "recount": data.get("recount") if event.pk is None else None,
        "kind": event.kind,
        "actor": _ref(event.actor),
        "field": event.field,
        "old_value": event.old_value,
        "new_value": event.new_value,
        "reason": str(data.get("reason", "")) if internal else "",
        "created_at": event.created_at,
    }


def _visible_ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    return selectors.ticket_get_for(request.user, ticket_id)


def _require_worker(request: HttpRequest, ticket: Ticket) -> None:
    if not policies.can_work_ticket(request.user, ticket):
        raise PermissionDenied(_("You may read %(number)s but not change it.") % {"number": ticket.number})


def _unknown(field: str, message: str) -> ValidationFailed:
    # The same answer whether the object does not exist or the user may not see it.
    return ValidationFailed(message, fields={field: _("Not found.")})


def _organisation(request: HttpRequest, organisation_id: int) -> Organisation:
    try:
        return customer_selectors.organisation_get_recent_for(request.user, organisation_id)
    except NotFound:
        raise _unknown("organisation_id", _("Unknown organisation.")) from None


def _contact(request: HttpRequest, contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    try:
        return customer_selectors.contact_get_for(request.user, contact_id)
    except NotFound:
        raise _unknown("contact_id", _("Unknown contact.")) from None


def _asset(request: HttpRequest, asset_id: int | None) -> Asset | None:
    if asset_id is None:
        return None
    try:
        return customer_selectors.asset_get_for(request.user, asset_id)
    except NotFound:
        raise _unknown("asset_id", _("Unknown asset.")) from None


def _team(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = account_selectors.team_get(team_id)
    if team is None:
        raise _unknown("team_id", _("Unknown team."))
    return team


def _assignee(assignee_id: int | None) -> User | None:
    if assignee_id is None:
        return None
    user = account_selectors.active_user_get(assignee_id)
    if user is None:
        raise _unknown("assignee_id", _("Unknown assignee."))
    return user


def _service_type(user: User, code: str | None) -> ServiceType | None:
    """The service type a new ticket asks for: staff may name any (the service refuses inactive ones),
    customers only those offered to them; any other code is a 422 on `service_type`, worded the same
    whether it does not exist or is not offered."""
    if code is None:
        return None
    if account_policies.is_customer(user):
        found = standards_selectors.service_type_list(customer_only=True).filter(code=code).first()
        if found is not None:
            return found
    else:
        try:
            return standards_selectors.service_type_by_code(code)
        except NotFound:
            pass
    raise ValidationFailed(
        _("There is no service type %(code)s to choose.") % {"code": code},
        fields={"service_type": _("Not found.")},
    )


def _message_input(request: HttpRequest) -> tuple[str, list[UploadedFile]]:
    """The body of a reply or note, as JSON `{"body": …}` or multipart with `body` and `attachments`."""
    files: list[UploadedFile] = []
    if request.content_type == "multipart/form-data":
        if "attachments" in request.POST:
            raise ValidationFailed(
                _("Attachments must be sent as files."), fields={"attachments": _("Not a file.")}
            )
        data: Any = {key: request.POST[key] for key in ("body",) if key in request.POST}
        files = request.FILES.getlist("attachments")
        for upload in files:
            if len(clean_filename(upload.name or "").encode()) > FILENAME_MAX_BYTES:
                raise ValidationFailed(
                    _("The name of %(name)s… is too long.") % {"name": (upload.name or "")[:20]},
                    fields={"attachments": _("File name too long.")},
                )
    else:
        try:
            data = json.loads(request.body or b"null")
        except ValueError:
            raise HttpError(400, _("The request body is not valid JSON.")) from None
    try:
        payload = MessageIn.model_validate(data)
    except pydantic.ValidationError as exc:
        raise NinjaValidationError(
            [{**error, "loc": ("body", "payload", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None
    return payload.body, files


@router.get("", response={200: TicketPage, **error_responses(422)}, summary="List tickets")
def ticket_list(request: HttpRequest, query: Query[TicketListQuery]) -> dict[str, Any]:
    """Tickets you may see, filtered and sorted, one page at a time (`has_next` says whether another
    follows; there is no total count, which keeps the first page fast on millions of tickets)."""
    filters = TicketFilters(
        view=query.view,
        status=[str(value) for value in query.status],
        priority=[str(value) for value in query.priority],
        kind=[str(value) for value in query.kind],
        channel=[str(value) for value in query.channel],
        team_id=query.team_id,
        assignee_id=query.assignee_id,
        organisation_id=query.organisation_id,
        asset_id=query.asset_id,
        tag=query.tag,
        q=query.q,
        created_after=query.created_after,
        created_before=query.created_before,
    )
    page = selectors.ticket_list_for(
        request.user, filters, sort=query.sort, page=query.page, page_size=query.page_size, with_tags=True
    )
    return {
        "items": [_ticket_out(ticket, request.user) for ticket in page.items],
        "page": page.page,
        "page_size": page.page_size,
        "has_next": page.has_next,
    }


@router.post(
    "",
    response={201: TicketOut, 200: TicketOut, **error_responses(400, 403, 422)},
    summary="Create a ticket",
)
def ticket_create(
    request: HttpRequest,
    payload: TicketIn,
    idempotency_key: HeaderEx[
        IdempotencyKey | None,
        P(
            alias="Idempotency-Key",
            description="Retries with the same key return the ticket the first request made (200).",
        ),
    ] = None,
) -> WithStatus[dict[str, Any]]:
    """Creates a ticket (201). With an `Idempotency-Key`, a retry of the same request returns the
    ticket the first one created (200) however often and however concurrently it is sent."""
    user = request.user
    assert isinstance(user, User)
    contact: Contact | None
    if account_policies.is_customer(user):
        if payload.team_id is not None or payload.assignee_id is not None:
            raise ValidationFailed(
                _("Customers cannot choose the team or assignee."),
                fields={"team_id" if payload.team_id is not None else "assignee_id": _("Not allowed.")},
            )
        # One query gives the customer's contact and organisation.
        own: Contact | None = customer_policies.customer_contact(user)
        if own is None:
            raise PermissionDenied(_("Your login is not linked to a customer organisation."))
        organisation = own.organisation
        if payload.organisation_id not in (None, organisation.pk):
            raise _unknown("organisation_id", _("Unknown organisation."))
        contact = own if payload.contact_id in (None, own.pk) else _contact(request, payload.contact_id)
    else:
        if payload.organisation_id is None:
            raise ValidationFailed(_("Choose the organisation."), fields={"organisation_id": _("Required.")})
        if not policies.can_create_ticket_for(user, payload.organisation_id):
            raise PermissionDenied(_("Your role cannot create tickets."))
        organisation = _organisation(request, payload.organisation_id)
        contact = _contact(request, payload.contact_id)
    with _request_field_names():
        ticket, created = services.ticket_create(
            actor=user,
            organisation=organisation,
            subject=payload.subject,
            description=payload.description,
            service_type=_service_type(user, payload.service_type),
            kind=payload.kind,
            channel=payload.channel,
            priority=payload.priority,
            contact=contact,
            asset=_asset(request, payload.asset_id),
            team=_team(payload.team_id),
            assignee=_assignee(payload.assignee_id),
            tags=payload.tags,
            idempotency_key=idempotency_key,
        )
    if not created:
        return WithStatus(200, _ticket_out(selectors.ticket_get_for(user, ticket.pk), user))
    return WithStatus(201, _ticket_out(ticket, user, tags=None if payload.tags else []))


@router.get(
    "/{ticket_id}",
    response={200: TicketDetailOut, **error_responses(404, 422)},
    summary="Get a ticket with its timeline",
)
def ticket_get(request: HttpRequest, ticket_id: QueryId) -> dict[str, Any]:
    user = request.user
    ticket = _visible_ticket(request, ticket_id)
    internal = policies.can_view_internal(user)
    timeline = []
    for entry in selectors.ticket_timeline(ticket, include_internal=internal):
        if entry.message is not None:
            message = entry.message
            timeline.append(
                {
                    "type": "message",
                    "at": entry.at,
                    "message": _message_out(message, list(message.attachments.all())),
                }
            )
        elif entry.event is not None:
            timeline.append(
                {"type": "event", "at": entry.at, "event": _event_out(entry.event, internal=internal)}
            )
    asset = ticket.asset
    can_work = policies.can_work_ticket(user, ticket)
    return {
        **_ticket_out(ticket, user),
        "description": ticket.description,
        "asset": None
        if asset is None
        else {"id": asset.pk, "model": asset.model, "serial_number": asset.serial_number},
        "created_by": _ref(ticket.created_by),
        "attachments": [_attachment_out(a) for a in selectors.ticket_creation_attachments(ticket)],
        "timeline": timeline,
        "allowed_transitions": list(policies.allowed_transitions(user, ticket)),
        "can_reply": policies.can_reply(user, ticket),
        "can_note": can_work,
        "can_edit": can_work,
        "sla": _sla_out(user, ticket),
        "watchers": [_ref(person) for person in selectors.ticket_watchers(ticket)] if internal else None,
    }


@router.post(
    "/{ticket_id}/replies",
    response={201: MessageOut, **error_responses(400, 403, 404, 422)},
    summary="Reply to the customer (public)",
    openapi_extra=_MESSAGE_BODY_DOC,
)
def ticket_reply(request: HttpRequest, ticket_id: QueryId) -> WithStatus[dict[str, Any]]:
    """A public reply, from the customer or from staff working the ticket. Send JSON `{"body": …}`, or
    multipart with `body` and up to five `attachments`."""
    user = request.user
    assert isinstance(user, User)
    ticket = _visible_ticket(request, ticket_id)
    if not policies.can_reply(user, ticket):
        if account_policies.is_customer(user) and ticket.status == Status.CLOSED:
            raise PermissionDenied(
                _("%(number)s is closed: please open a new request.") % {"number": ticket.number}
            )
        raise PermissionDenied(_("You may read %(number)s but not reply to it.") % {"number": ticket.number})
    body, files = _message_input(request)
    with _request_field_names():
        message = services.ticket_reply(
            actor=user, ticket=ticket, body=body, attachments=files, channel=Channel.API
        )
    return WithStatus(201, _message_out(message, list(message.attachments.order_by("id"))))


@router.post(
    "/{ticket_id}/notes",
    response={201: MessageOut, **error_responses(400, 403, 404, 422)},
    summary="Add an internal note (staff)",
    openapi_extra=_MESSAGE_BODY_DOC,
)
def ticket_note(request: HttpRequest, ticket_id: QueryId) -> WithStatus[dict[str, Any]]:
    """An internal note, never shown to the customer. Same body as a reply."""
    user = request.user
    assert isinstance(user, User)
    ticket = _visible_ticket(request, ticket_id)
    _require_worker(request, ticket)
    body, files = _message_input(request)
    with _request_field_names():
        message = services.ticket_note(actor=user, ticket=ticket, body=body, attachments=files)
    return WithStatus(201, _message_out(message, list(message.attachments.order_by("id"))))


@router.get(
    "/{ticket_id}/attachments/{attachment_id}",
    response={200: None, **error_responses(404, 422)},
    summary="Download an attachment",
    url_name="ticket_attachment",
    openapi_extra=_FILE_DOC,
)
def attachment_download(request: HttpRequest, ticket_id: QueryId, attachment_id: QueryId) -> FileResponse:
    attachment = selectors.attachment_get_for(request.user, attachment_id)
    if attachment.ticket_id != ticket_id:
        raise NotFound(_("Attachment not found."))
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise NotFound(_("The file of this attachment is missing from storage.")) from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type
    )
    response["Content-Security-Policy"] = "sandbox"
    return response


@router.post(
    "/{ticket_id}/transition",
    response={200: TicketOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Change the status",
)
def ticket_transition(request: HttpRequest, ticket_id: QueryId, payload: TransitionIn) -> dict[str, Any]:
    """Move the ticket along the workflow (see `allowed_transitions` on the ticket). Customers may close
    or reopen a resolved ticket. A stale `version` is refused with 409. Resolving a ticket whose SOP
    checkpoints are not all answered and passed is a 422 on `checkpoints` naming them, unless a service
    manager sends an `override_reason` (anyone else: 403)."""
    user = request.user
    assert isinstance(user, User)
    ticket = _visible_ticket(request, ticket_id)
    if not (policies.can_work_ticket(user, ticket) or account_policies.is_customer(user)):
        raise PermissionDenied(_("You may read %(number)s but not change it.") % {"number": ticket.number})
    with _request_field_names():
        changed = services.ticket_transition(
            actor=user,
            ticket=ticket,
            to_status=payload.status,
            expected_version=payload.version,
            reason=payload.reason,
            override_reason=payload.override_reason,
        )
    return _ticket_out(changed, user)


@router.post(
    "/{ticket_id}/assign",
    response={200: TicketOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Set the team and assignee",
)
def ticket_assign(request: HttpRequest, ticket_id: QueryId, payload: AssignIn) -> dict[str, Any]:
    """Set both together; null clears. The assignee must be a member of the team."""
    user = request.user
    assert isinstance(user, User)
    ticket = _visible_ticket(request, ticket_id)
    _require_worker(request, ticket)
    with _request_field_names():
        changed = services.ticket_assign(
            actor=user,
            ticket=ticket,
            team=_team(payload.team_id),
            assignee=_assignee(payload.assignee_id),
            expected_version=payload.version,
        )
    return _ticket_out(changed, user)


@router.patch(
    "/{ticket_id}",
    response={200: TicketOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Change priority, subject or tags",
)
def ticket_update(request: HttpRequest, ticket_id: QueryId, payload: TicketPatch) -> dict[str, Any]:
    """Fields left out (or null) stay as they are; `tags` replaces the whole list."""
    user = request.user
    assert isinstance(user, User)
    ticket = _visible_ticket(request, ticket_id)
    _require_worker(request, ticket)
    with _request_field_names():
        changed = services.ticket_update(
            actor=user,
            ticket=ticket,
            expected_version=payload.version,
            priority=payload.priority,
            subject=payload.subject,
            tags=payload.tags,
        )
    return _ticket_out(changed, user)


@router.post(
    "/{ticket_id}/arrival",
    response={200: TicketOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Record arrival on site (field visits)",
)
def ticket_arrival(request: HttpRequest, ticket_id: QueryId, payload: ArrivalIn) -> dict[str, Any]:
    """The engineer arrived on site now: achieves the on-site clock. Staff working the ticket only;
    422 when the ticket is not an open field visit or the arrival was already recorded; a stale
    `version` is refused with 409."""
    user = request.user
    assert isinstance(user, User)
    ticket = _visible_ticket(request, ticket_id)
    if not policies.can_record_arrival(user, ticket):
        raise PermissionDenied(_("You may read %(number)s but not change it.") % {"number": ticket.number})
    with _request_field_names():
        changed = services.ticket_record_arrival(actor=user, ticket=ticket, expected_version=payload.version)
    return _ticket_out(changed, user)


@router.post(
    "/{ticket_id}/watchers",
    response={200: WatchersOut, 201: WatchersOut, **error_responses(403, 404, 422)},
    summary="Watch a ticket (add yourself to its watchers)",
)
def ticket_watch(request: HttpRequest, ticket_id: QueryId) -> WithStatus[dict[str, Any]]:
    """Staff working the ticket add themselves to its watchers, who are told about its escalations:
    201 when added, 200 when already watching. No request body."""
    user = request.user
    assert isinstance(user, User)
    ticket = _visible_ticket(request, ticket_id)
    if not policies.can_watch(user, ticket):
        raise PermissionDenied(_("You may read %(number)s but not watch it.") % {"number": ticket.number})
    added = services.ticket_add_watcher(actor=user, ticket=ticket, user=user)
    watchers = [_ref(person) for person in selectors.ticket_watchers(ticket)]
    return WithStatus(201 if added else 200, {"added": added, "watchers": watchers})


@router.delete(
    "/{ticket_id}/watchers",
    response={200: WatchersOut, **error_responses(403, 404, 422)},
    summary="Stop watching a ticket (remove yourself from its watchers)",
)
def ticket_unwatch(request: HttpRequest, ticket_id: QueryId) -> dict[str, Any]:
    """Remove yourself from the ticket's watchers; `added` is false. Answers 200 also when you were not
    watching. No request body."""
    user = request.user
    assert isinstance(user, User)
    ticket = _visible_ticket(request, ticket_id)
    if not policies.can_watch(user, ticket):
        raise PermissionDenied(_("You may read %(number)s but not watch it.") % {"number": ticket.number})
    services.ticket_remove_watcher(actor=user, ticket=ticket, user=user)
    watchers = [_ref(person) for person in selectors.ticket_watchers(ticket)]
    return {"added": False, "watchers": watchers}


# ---------------------------------------------------------------------------------------------------
# SOP steps

ANSWER_FIELD = "answers."
EVIDENCE_FIELD = "evidence."

_STEP_BODY_DOC = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {"schema": StepCompleteIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "description": "`answers.<key>`: the answer to checkpoint <key> as text; "
                    "`evidence.<key>`: the file or photo for checkpoint <key>; `complete`: true (default) "
                    "or false.",
                    "properties": {"complete": {"type": "string", "enum": ["true", "false"]}},
                    "patternProperties": {
                        r"^answers\.[^.]+$": {"type": "string", "maxLength": ANSWER_MAX},
                        r"^evidence\.[^.]+$": {"type": "string", "format": "binary"},
                    },
                    "additionalProperties": False,
                }
            },
        },
    }
}


def _require_step_reader(request: HttpRequest) -> None:
    """Steps, checkpoints and their clocks are internal: customers follow the milestones in the portal,
    and for them the steps of a ticket do not exist (404)."""
    if not policies.can_view_internal(request.user):
        raise NotFound(_("Ticket not found."))


def _answer_out(answer: CheckpointAnswer) -> dict[str, Any]:
    return {
        "value": answer.value,
        "number": answer.number,
        "passed": answer.passed,
        "attempt": answer.attempt,
        "answered_by": _ref(answer.answered_by),
        "answered_at": answer.answered_at,
        "attachment": None if answer.attachment is None else _attachment_out(answer.attachment),
    }


def _step_out(view: StepView, user: Any, ticket: Ticket) -> dict[str, Any]:
    row, step, clock = view.row, view.step, view.clock
    return {
        "position": row.position,
        "key": step.key,
        "name": step.name,
        "stage": row.stage + 1,
        "state": row.state,
        "owner": step.owner,
        "team": _ref(step.team),
        "time_standard_minutes": step.time_standard_minutes,
        "parallel_group": step.parallel_group,
        "is_milestone": step.is_milestone,
        "milestone_name": step.milestone_name,
        "guidance": step.guidance,
        "started_at": row.started_at,
        "completed_at": row.completed_at,
        "completed_by": _ref(row.completed_by),
        "due_at": None if clock is None else clock.due_at,
        "used_minutes": None if clock is None else round(clock.used_minutes, 2),
        "remaining_minutes": None if clock is None else round(clock.remaining_minutes, 2),
        "paused": clock is not None and clock.is_paused,
        "business_minutes": None if row.business_minutes is None else round(row.business_minutes, 2),
        "on_time": row.on_time,
        "can_do": policies.can_do_step(user, ticket, step),
        "checkpoints": [
            {
                "key": cp.checkpoint.key,
                "label": cp.checkpoint.label,
                "kind": cp.checkpoint.kind,
                "mandatory": cp.checkpoint.mandatory,
                "critical": cp.checkpoint.critical,
                "min_value": cp.checkpoint.min_value,
                "max_value": cp.checkpoint.max_value,
                "unit": cp.checkpoint.unit,
                "answer": None if cp.answer is None else _answer_out(cp.answer),
                "attempts": cp.attempts,
                "blocking": cp.blocking,
            }
            for cp in view.checkpoints
        ],
    }


def _steps_out(user: Any, ticket: Ticket, steps: TicketSteps) -> dict[str, Any]:
    version = steps.version
    return {
        "ticket_id": ticket.pk,
        "number": ticket.number,
        "status": ticket.status,
        "version": ticket.version,
        "handoff_team": _ref(ticket.handoff_team) if ticket.handoff_team_id is not None else None,
        "sop": None if version is None else {"code": version.sop.code, "name": version.sop.name},
        "sop_version": None if version is None else version.number,
        "steps": [_step_out(view, user, ticket) for view in steps.steps],
        "blockers": [
            {
                "position": view.row.position,
                "step": view.step.name,
                "checkpoint": cp.checkpoint.key,
                "label": cp.checkpoint.label,
                "problem": cp.blocking,
            }
            for view, cp in steps.blockers
        ],
        "can_override": policies.can_override_checkpoints(user, ticket),
    }


def _one_value(name: str, values: list[Any]) -> Any:
    if len(values) != 1:
        raise ValidationFailed(
            _("Send %(field)s once.") % {"field": name[:60]}, fields={name[:60]: _("Repeated.")}
        )
    return values[0]


def _step_form(request: HttpRequest) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """A multipart step body: `answers.<key>` text fields, `evidence.<key>` files and `complete`."""
    data: dict[str, Any] = {"answers": {}}
    for name in request.POST:
        value = _one_value(name, request.POST.getlist(name))
        if name == "complete":
            flag = str(value).strip().lower()
            if flag not in ("true", "false"):
                raise ValidationFailed(
                    _("complete is true or false."), fields={"complete": _("Send true or false.")}
                )
            data["complete"] = flag == "true"
        elif name.startswith(ANSWER_FIELD) and len(name) > len(ANSWER_FIELD):
            data["answers"][name.removeprefix(ANSWER_FIELD)] = value
        elif name.startswith(EVIDENCE_FIELD):
            raise ValidationFailed(
                _("Evidence must be sent as a file."), fields={name[:60]: _("Not a file.")}
            )
        else:
            raise ValidationFailed(
                _("Unknown field %(field)s: send answers.<key>, evidence.<key> and complete.")
                % {"field": name[:60]},
                fields={name[:60]: _("Unknown field.")},
            )
    evidence: dict[str, UploadedFile] = {}
    for name in request.FILES:
        upload = _one_value(name, request.FILES.getlist(name))
        key = name.removeprefix(EVIDENCE_FIELD)
        if not name.startswith(EVIDENCE_FIELD) or not key:
            raise ValidationFailed(
                _("Unknown file field %(field)s: send files as evidence.<key>.") % {"field": name[:60]},
                fields={name[:60]: _("Unknown field.")},
            )
        if len(key) > 50:
            raise ValidationFailed(_("Unknown checkpoint."), fields={name[:60]: _("Too long.")})
        if len(clean_filename(upload.name or "").encode()) > FILENAME_MAX_BYTES:
            raise ValidationFailed(
                _("The name of %(name)s… is too long.") % {"name": (upload.name or "")[:20]},
                fields={name: _("File name too long.")},
            )
        evidence[key] = upload
    return data, evidence


def _step_input(request: HttpRequest) -> tuple[dict[str, str], dict[str, UploadedFile], bool]:
    """The answers, evidence files and `complete` of a step body, JSON or multipart (_STEP_BODY_DOC)."""
    evidence: dict[str, UploadedFile] = {}
    if request.content_type == "multipart/form-data":
        data, evidence = _step_form(request)
    else:
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):
            raise HttpError(400, _("The request body is not valid JSON.")) from None
    try:
        payload = StepCompleteIn.model_validate(data)
    except pydantic.ValidationError as exc:
        # ("body", "answers", "<key>") names `answers.<key>`; a body that is no object names `request`.
        raise NinjaValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None
    return dict(payload.answers), evidence, payload.complete


@contextmanager
def _evidence_field_names(evidence: dict[str, UploadedFile]) -> Iterator[None]:
    """The service names every checkpoint `answers.<key>`; a file was sent as `evidence.<key>`."""
    try:
        yield
    except DomainError as exc:
        renamed = {}
        for field, message in exc.fields.items():
            key = field.removeprefix(ANSWER_FIELD)
            renamed[EVIDENCE_FIELD + key if field.startswith(ANSWER_FIELD) and key in evidence else field] = (
                message
            )
        exc.fields = renamed
        raise


@router.get(
    "/{ticket_id}/steps",
    response={200: TicketStepsOut, **error_responses(404, 422)},
    summary="The ticket's SOP steps with their clocks and checkpoints (staff)",
)
def ticket_steps(request: HttpRequest, ticket_id: QueryId) -> dict[str, Any]:
    """The steps of the SOP version the ticket follows, in order: state, owner, time standard, started and
    completed, the step clock (due, business minutes used and left), whether it was on time, each
    checkpoint with its latest answer and attempts, and what blocks the resolution. Customers: 404 (they
    follow the milestones in the portal). A ticket without an SOP has no steps."""
    ticket = _visible_ticket(request, ticket_id)
    _require_step_reader(request)
    return _steps_out(request.user, ticket, selectors.ticket_steps(ticket, timezone.now()))


@router.post(
    "/{ticket_id}/steps/{position}",
    response={200: TicketStepsOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Answer a step's checkpoints and complete it (staff working the step)",
    openapi_extra=_STEP_BODY_DOC,
)
def ticket_step_complete(request: HttpRequest, ticket_id: QueryId, position: StepPosition) -> dict[str, Any]:
    """JSON `{"answers": {"<checkpoint key>": answer, …}, "complete": true}`, or multipart with
    `answers.<key>` fields, `evidence.<key>` files (file and photo checkpoints) and `complete`. With
    `complete` (the default) the step is done and the next stage starts when it was the last of its own;
    false only records the answers (answering again adds an attempt). Answers the ticket's steps as
    `GET …/steps` does. A back-office step belongs to its team (and service managers); other steps to
    the staff working the ticket. 409 when the step has not started or is done already."""
    user = request.user
    assert isinstance(user, User)
    ticket = _visible_ticket(request, ticket_id)
    _require_step_reader(request)
    view = next(
        (v for v in selectors.ticket_steps(ticket, timezone.now()).steps if v.row.position == position), None
    )
    if view is None:
        raise NotFound(
            _("%(number)s has no step %(position)s.") % {"number": ticket.number, "position": position}
        )
    if not policies.can_do_step(user, ticket, view.step):
        if policies.can_work_ticket(user, ticket) and view.step.team is not None:
            raise PermissionDenied(
                _("The step “%(step)s” belongs to %(team)s.")
                % {"step": view.step.name, "team": view.step.team}
            )
        raise PermissionDenied(_("You may read %(number)s but not change it.") % {"number": ticket.number})
    answers, evidence, complete = _step_input(request)
    with _evidence_field_names(evidence):
        services.sop_step_complete(
            actor=user,
            ticket=ticket,
            position=position,
            answers=answers,
            evidence=evidence,
            complete=complete,
        )
    # Not ticket_get_for: a back-office member who completes the hand-off may no longer see the ticket.
    ticket.refresh_from_db(fields=["status", "version", "handoff_team"])
    return _steps_out(user, ticket, selectors.ticket_steps(ticket, timezone.now()))
