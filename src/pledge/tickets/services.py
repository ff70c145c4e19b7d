"""Every write to tickets: create, reply, note, transition, assign, prioritise, tag.

Each function is one transaction. Functions that change an existing ticket lock its row
(`SELECT … FOR UPDATE`; SQLite serialises writers with BEGIN IMMEDIATE), refuse a stale
`expected_version` with Conflict, append one TicketEvent per changed field, and enqueue side
effects with `transaction.on_commit`. Authorisation is the caller's job (policies.py); these
functions enforce the domain rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pledge.accounts import policies as account_policies
from pledge.accounts.choices import WORKING_ROLES
from pledge.accounts.models import Team, User
from pledge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pledge.core.models import IdempotencyKey
from pledge.core.uploads import CheckedUpload, UploadLike, check_uploads
from pledge.customers.models import Asset, Contact, Organisation
from pledge.customers.policies import customer_organisation_id
from pledge.standards import selectors as standards_selectors
from pledge.standards.choices import CheckpointKind
from pledge.standards.models import Checkpoint, ServiceType
from pledge.tickets import clocks, steps, tasks
from pledge.tickets.choices import (
    CUSTOMER_TRANSITIONS,
    DONE_STATUSES,
    TRANSITIONS,
    Channel,
    EventKind,
    Kind,
    Priority,
    Status,
    StepState,
)
from pledge.tickets.models import (
    SLA_DUE_FIELDS,
    Attachment,
    CheckpointAnswer,
    Message,
    Tag,
    Ticket,
    TicketEvent,
    TicketStep,
)

SUBJECT_MAX = 200
BODY_MAX = 50_000
TAG_MAX = 50
IDEMPOTENCY_SCOPE = "ticket_create"
# Channels a customer can use themselves (phone and on-site tickets are recorded by staff).
CUSTOMER_CHANNELS = (Channel.PORTAL, Channel.API, Channel.EMAIL)


# How each field is named in messages (the API's error details keep the field's code name).
FIELD_LABELS = {
    "subject": gettext_lazy("subject"),
    "description": gettext_lazy("description"),
    "message": gettext_lazy("message"),
    "reason": gettext_lazy("reason"),
    "idempotency_key": gettext_lazy("idempotency key"),
    "kind": gettext_lazy("kind"),
    "channel": gettext_lazy("channel"),
    "priority": gettext_lazy("priority"),
    "status": gettext_lazy("status"),
    "override_reason": gettext_lazy("reason for the override"),
}


def _label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ValidationFailed(
            _("%(value)s is not a valid %(field)s.") % {"value": value, "field": _label(field)},
            fields={field: _("Choose one of: %(values)s") % {"values": ", ".join(choices.values)}},
        )
    return value


def _text(value: str, field: str, max_length: int, *, required: bool = True) -> str:
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise ValidationFailed(
            _("The %(field)s is required.") % {"field": _label(field)}, fields={field: _("Required.")}
        )
    if len(value) > max_length:
        raise ValidationFailed(
            _("The %(field)s is too long (at most %(n)d characters).")
            % {"field": _label(field), "n": max_length},
            fields={field: _("At most %(n)d characters.") % {"n": max_length}},
        )
    return value


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in tags:
        tag = (raw or "").replace("\x00", "").strip().lower()
        if not tag:
            continue
        if len(tag) > TAG_MAX:
            raise ValidationFailed(
                _("A tag is too long."), fields={"tags": _("At most 50 characters per tag.")}
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > 20:
        raise ValidationFailed(_("Too many tags."), fields={"tags": _("At most 20 tags.")})
    return cleaned


def _tag_objects(names: list[str]) -> list[Tag]:
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    return [existing[name] for name in names]


def _check_assignment(team: Team | None, assignee: User | None) -> None:
    if assignee is not None:
        if not assignee.is_active or assignee.role not in WORKING_ROLES:
            raise ValidationFailed(
                _("%(user)s cannot work on tickets.") % {"user": assignee},
                fields={"assignee": _("Not an active agent.")},
            )
        if (
            team is not None
            and not team.memberships.filter(user_id=assignee.pk).exists()
            and team.lead_id != assignee.pk
        ):
            raise ValidationFailed(
                _("%(user)s is not a member of %(team)s.") % {"user": assignee, "team": team},
                fields={"assignee": _("Not a member of the team.")},
            )
    if team is not None and not team.is_active:
        raise ValidationFailed(_("This team is inactive."), fields={"team": _("Inactive team.")})


def _store_attachments(
    ticket: Ticket, message: Message | None, files: list[CheckedUpload], *, internal: bool = False
) -> list[Attachment]:
    stored = []
    for checked in files:
        attachment = Attachment(
            ticket=ticket,
            message=message,
            is_internal=internal,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
        )
        attachment.file.save(checked.filename, ContentFile(checked.data), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _event(
    ticket: Ticket,
    actor: User | None,
    kind: str,
    at: datetime,
    *,
    field: str = "",
    old: str = "",
    new: str = "",
    message: Message | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    return TicketEvent(
        ticket=ticket,
        actor=actor,
        kind=kind,
        field=field,
        old_value=old[:200],
        new_value=new[:200],
        message=message,
        data=data or {},
        created_at=at,
    )


def _lock(ticket_id: int, expected_version: int | None) -> Ticket:
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    if expected_version is not None and ticket.version != expected_version:
        raise Conflict(
            _(
                "%(number)s was changed by someone else since you loaded it (your version %(yours)d, "
                "now %(now)d). Reload it and try again."
            )
            % {"number": ticket.number, "yours": expected_version, "now": ticket.version},
            fields={"version": _("Stale version.")},
        )
    return ticket


def ticket_create(
    *,
    actor: User,
    organisation: Organisation,
    subject: str,
    description: str = "",
    kind: str | None = None,
    channel: str = Channel.PORTAL,
    priority: str | None = None,
    service_type: ServiceType | None = None,
    contact: Contact | None = None,
    asset: Asset | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    tags: Iterable[str] = (),
    attachments: Sequence[UploadLike] = (),
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> tuple[Ticket, bool]:
    """Create a ticket; returns (ticket, created).

    Kind and priority default to the service type's (or service request, P3). A ticket of a service type
    with an SOP gets the steps of the version in effect today, the first stage started.

    With an `idempotency_key`, a retry by the same user returns the ticket the first call made
    (created=False) — concurrent retries block on the key's unique index until the first commits.
    Raises ValidationFailed for bad fields.
    """
    if idempotency_key is not None:
        idempotency_key = _text(idempotency_key, "idempotency_key", 200)
        existing = _idempotent_ticket(actor, idempotency_key)
        if existing is not None:
            return existing, False
    if service_type is not None:
        service_type = _usable_service_type(service_type, actor)
    kind = kind or (service_type.default_kind if service_type else Kind.REQUEST)
    priority = priority or (service_type.default_priority if service_type else Priority.P3)
    subject = _text(subject, "subject", SUBJECT_MAX)
    description = _text(description, "description", BODY_MAX, required=False)
    _choice(kind, Kind, "kind")
    _choice(channel, Channel, "channel")
    _choice(priority, Priority, "priority")
    tag_names = _clean_tags(tags)
    is_customer = account_policies.is_customer(actor)
    if is_customer:
        if channel not in CUSTOMER_CHANNELS:
            raise ValidationFailed(
                _("Customers submit through the portal, the API or email."),
                fields={"channel": _("Choose one of: %(values)s") % {"values": ", ".join(CUSTOMER_CHANNELS)}},
            )
        if team is not None or assignee is not None:
            raise ValidationFailed(
                _("Customers cannot choose the team or assignee."), fields={"team": _("Not allowed.")}
            )
        if contact is None:
            contact = Contact.objects.filter(user_id=actor.pk).first()
    if contact is not None and contact.organisation_id != organisation.pk:
        raise ValidationFailed(
            _("The contact belongs to another organisation."), fields={"contact": _("Wrong organisation.")}
        )
    if asset is not None and asset.organisation_id != organisation.pk:
        raise ValidationFailed(
            _("The asset belongs to another organisation."), fields={"asset": _("Wrong organisation.")}
        )
    if not organisation.is_active:
        raise ValidationFailed(_("This organisation is inactive."), fields={"organisation": _("Inactive.")})
    _check_assignment(team, assignee)
    files = check_uploads(attachments)
    now = at or timezone.now()
    sop_version = (
        standards_selectors.sop_version_in_effect(service_type.sop_id, standards_selectors.company_day(now))
        if service_type is not None and service_type.sop_id is not None
        else None
    )
    try:
        with transaction.atomic():
            ticket = Ticket(
                kind=kind,
                channel=channel,
                priority=priority,
                status=Status.NEW,
                subject=subject,
                description=description,
                organisation=organisation,
                contact=contact,
                asset=asset,
                team=team,
                assignee=assignee,
                created_by=actor,
                created_at=now,
                updated_at=now,
                service_type=service_type,
                sop_version=sop_version,
            )
            planned = clocks.plan(ticket, now)
            ticket.save(force_insert=True)
            clocks.store(planned)
            if sop_version is not None and service_type is not None:
                steps.instantiate(ticket, sop_version, service_type, now)
                ticket.save(update_fields=["status", "handoff_team", "version", *SLA_DUE_FIELDS])
            if tag_names:
                ticket.tags.set(_tag_objects(tag_names))
            _store_attachments(ticket, None, files)
            TicketEvent.objects.create(
                ticket=ticket,
                actor=actor,
                kind=EventKind.CREATED,
                new_value=Status.NEW,
                created_at=now,
                data={
                    "kind": kind,
                    "priority": priority,
                    "channel": channel,
                    **({"service_type": service_type.code} if service_type else {}),
                    **({"sop_version": sop_version.number} if sop_version else {}),
                },
            )
            if idempotency_key is not None:
                IdempotencyKey.objects.create(
                    user=actor, scope=IDEMPOTENCY_SCOPE, key=idempotency_key, object_id=ticket.pk
                )
            if contact is not None and contact.email:
                transaction.on_commit(lambda: tasks.notify_ticket_created.enqueue(ticket.pk))
    except IntegrityError:
        if idempotency_key is None:
            raise
        existing = _idempotent_ticket(actor, idempotency_key)
        if existing is None:
            raise
        return existing, False
    return ticket, True


def _usable_service_type(service_type: ServiceType, actor: User) -> ServiceType:
    """The service type as stored, if it is active (and offered to customers, for a customer)."""
    stored = ServiceType.objects.select_related("calendar").filter(pk=service_type.pk).first()
    customer = account_policies.is_customer(actor)
    if stored is None or not stored.is_active or (customer and not stored.customer_selectable):
        raise ValidationFailed(
            _("This service type is not available."),
            fields={"service_type": _("Choose another service type.")},
        )
    return stored


def _idempotent_ticket(actor: User, key: str) -> Ticket | None:
    record = IdempotencyKey.objects.filter(user=actor, scope=IDEMPOTENCY_SCOPE, key=key).first()
    if record is None:
        return None
    return Ticket.objects.filter(pk=record.object_id).first()


@transaction.atomic
def _add_message(
    *,
    actor: User,
    ticket_id: int,
    body: str,
    internal: bool,
    attachments: Sequence[UploadLike],
    channel: str | None,
    at: datetime | None,
) -> Message:
    body = _text(body, "message", BODY_MAX)
    files = check_uploads(attachments)
    ticket = _lock(ticket_id, None)
    if ticket.status == Status.CLOSED:
        raise ValidationFailed(
            _("%(number)s is closed.") % {"number": ticket.number}, fields={"body": _("Closed.")}
        )
    now = at or timezone.now()
    from_customer = account_policies.is_customer(actor)
    if internal and from_customer:
        raise ValidationFailed(_("Customers cannot write internal notes."))
    message = Message.objects.create(
        ticket=ticket,
        author=actor,
        body=body,
        is_internal=internal,
        from_customer=from_customer,
        channel=channel or (Channel.PORTAL if from_customer else Channel.API),
        created_at=now,
    )
    stored = _store_attachments(ticket, message, files)
    events = [
        _event(
            ticket,
            actor,
            EventKind.NOTE if internal else EventKind.REPLY,
            now,
            message=message,
            data={"attachments": [a.filename for a in stored]} if stored else None,
        )
    ]
    changed: list[str] = ["updated_at"]
    if not internal:
        old_status = ticket.status
        new_status = _status_after_reply(ticket, from_customer)
        if new_status is not None:
            kind = EventKind.REOPENED if ticket.status == Status.RESOLVED else EventKind.STATUS
            events.append(_event(ticket, actor, kind, now, field="status", old=ticket.status, new=new_status))
            if ticket.status == Status.RESOLVED:
                ticket.resolved_at = None
                changed.append("resolved_at")
            ticket.status = new_status
            ticket.version += 1
            changed += ["status", "version"]
        if not from_customer and ticket.first_response_at is None:
            ticket.first_response_at = now
            changed.append("first_response_at")
        clocks.on_status(ticket, old=old_status, new=ticket.status, at=now)
        clocks.on_public_reply(ticket, from_customer=from_customer, at=now)
        changed.extend(SLA_DUE_FIELDS)
    ticket.updated_at = now
    ticket.save(update_fields=changed)
    TicketEvent.objects.bulk_create(events)
    if not internal:
        transaction.on_commit(lambda: tasks.notify_ticket_reply.enqueue(message.pk))
    return message


def _status_after_reply(ticket: Ticket, from_customer: bool) -> str | None:
    """A customer's reply wakes a ticket waiting on them or reopens a resolved one; an agent's first
    public reply acknowledges a new ticket."""
    if from_customer:
        if ticket.status in (Status.WAITING_CUSTOMER, Status.RESOLVED):
            return Status.IN_PROGRESS
        return None
    if ticket.status == Status.NEW:
        return Status.ACKNOWLEDGED
    return None


def ticket_reply(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    attachments: Sequence[UploadLike] = (),
    channel: str | None = None,
    at: datetime | None = None,
) -> Message:
    """Add a public reply (from an agent or the customer). Raises ValidationFailed on a closed ticket."""
    return _add_message(
        actor=actor,
        ticket_id=ticket.pk,
        body=body,
        internal=False,
        attachments=attachments,
        channel=channel,
        at=at,
    )


def ticket_note(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    attachments: Sequence[UploadLike] = (),
    at: datetime | None = None,
) -> Message:
    """Add an internal note, never shown to the customer."""
    return _add_message(
        actor=actor,
        ticket_id=ticket.pk,
        body=body,
        internal=True,
        attachments=attachments,
        channel=None,
        at=at,
    )


@transaction.atomic
def ticket_transition(
    *,
    actor: User,
    ticket: Ticket,
    to_status: str,
    expected_version: int | None,
    reason: str = "",
    override_reason: str = "",
    at: datetime | None = None,
) -> Ticket:
    """Move a ticket along the workflow (choices.TRANSITIONS; customers: CUSTOMER_TRANSITIONS).

    Resolving a ticket whose SOP has a mandatory checkpoint unanswered or a critical one failed is refused
    (ValidationFailed on `checkpoints`) unless a service manager gives an `override_reason`, which is
    logged with the checkpoints it overrode. Raises Conflict when stale, ValidationFailed when the move is
    not allowed from the current status.
    """
    _choice(to_status, Status, "status")
    reason = _text(reason, "reason", 1000, required=False)
    locked = _lock(ticket.pk, expected_version)
    table = CUSTOMER_TRANSITIONS if account_policies.is_customer(actor) else TRANSITIONS
    if to_status not in table.get(locked.status, ()):
        raise ValidationFailed(
            _("%(number)s cannot move from %(old)s to %(new)s.")
            % {"number": locked.number, "old": Status(locked.status).label, "new": Status(to_status).label},
            fields={"status": _("Not allowed from the current status.")},
        )
    now = at or timezone.now()
    override_event = None
    if to_status == Status.RESOLVED:
        override_event = _resolution_checks(actor, locked, override_reason, now)
    old = locked.status
    reopened = old == Status.RESOLVED and to_status != Status.CLOSED
    locked.status = to_status
    changed = ["status", "version", "updated_at"]
    if to_status == Status.RESOLVED:
        locked.resolved_at = now
        changed.append("resolved_at")
    elif to_status == Status.CLOSED:
        locked.closed_at = now
        changed.append("closed_at")
    elif reopened:
        locked.resolved_at = None
        changed.append("resolved_at")
    locked.version += 1
    locked.updated_at = now
    clocks.on_status(locked, old=old, new=to_status, at=now)
    if locked.sop_version_id is not None:
        if to_status in DONE_STATUSES and old not in DONE_STATUSES:
            steps.stop(locked, now)
        elif reopened:
            steps.restart(locked, now)
    locked.save(update_fields=[*changed, *SLA_DUE_FIELDS, "handoff_team"])
    TicketEvent.objects.create(
        ticket=locked,
        actor=actor,
        kind=EventKind.REOPENED if reopened else EventKind.STATUS,
        field="status",
        old_value=old,
        new_value=to_status,
        created_at=now,
        data={"reason": reason} if reason else {},
    )
    if override_event is not None:
        override_event.save()
    transaction.on_commit(lambda: tasks.notify_ticket_status.enqueue(locked.pk, old, to_status))
    return locked


OVERRIDE_REASON_MAX = 1000


def _resolution_checks(actor: User, ticket: Ticket, override_reason: str, at: datetime) -> TicketEvent | None:
    """Refuse a resolution that the SOP's checkpoints block, unless a service manager overrides with a
    reason; returns the (unsaved) override event to log after the status event."""
    found = steps.blockers(ticket)
    if not found:
        return None
    override_reason = _text(override_reason, "override_reason", OVERRIDE_REASON_MAX, required=False)
    listed = "; ".join(blocker.sentence() for blocker in found[:5])
    if len(found) > 5:
        listed += " …"
    if not override_reason:
        raise ValidationFailed(
            _("%(number)s cannot be resolved yet: %(checkpoints)s.")
            % {"number": ticket.number, "checkpoints": listed},
            fields={"checkpoints": _("Answer the mandatory checkpoints and pass the critical ones first.")},
        )
    if not account_policies.is_service_manager_or_admin(actor):
        raise PermissionDenied(_("Only a service manager can resolve a ticket over its checkpoints."))
    return TicketEvent(
        ticket=ticket,
        actor=actor,
        kind=EventKind.OVERRIDE,
        field="checkpoints",
        new_value=override_reason[:200],
        created_at=at,
        data={
            "reason": override_reason,
            "checkpoints": [
                {"step": blocker.step, "checkpoint": blocker.checkpoint, "problem": blocker.problem}
                for blocker in found
            ],
        },
    )


@transaction.atomic
def ticket_assign(
    *,
    actor: User,
    ticket: Ticket,
    team: Team | None,
    assignee: User | None,
    expected_version: int | None,
    at: datetime | None = None,
) -> Ticket:
    """Set the team and assignee together (None clears). The assignee must be a working member of the team."""
    locked = _lock(ticket.pk, expected_version)
    _check_assignment(team, assignee)
    now = at or timezone.now()
    events = []
    team_id = team.pk if team else None
    assignee_id = assignee.pk if assignee else None
    if locked.team_id != team_id:
        events.append(
            _event(
                locked,
                actor,
                EventKind.TEAM,
                now,
                field="team",
                old=str(locked.team) if locked.team_id else "",
                new=str(team) if team else "",
                data={"old_id": locked.team_id, "new_id": team_id},
            )
        )
    if locked.assignee_id != assignee_id:
        events.append(
            _event(
                locked,
                actor,
                EventKind.ASSIGNED,
                now,
                field="assignee",
                old=str(locked.assignee) if locked.assignee_id else "",
                new=str(assignee) if assignee else "",
                data={"old_id": locked.assignee_id, "new_id": assignee_id},
            )
        )
    if not events:
        return locked
    locked.team, locked.assignee = team, assignee
    locked.version += 1
    locked.updated_at = now
    locked.save(update_fields=["team", "assignee", "version", "updated_at"])
    TicketEvent.objects.bulk_create(events)
    if assignee_id is not None and assignee_id != actor.pk:
        transaction.on_commit(lambda: tasks.notify_ticket_assigned.enqueue(locked.pk))
    return locked


@transaction.atomic
def ticket_update(
    *,
    actor: User,
    ticket: Ticket,
    expected_version: int | None,
    priority: str | None = None,
    subject: str | None = None,
    tags: Iterable[str] | None = None,
    at: datetime | None = None,
) -> Ticket:
    """Change priority, subject and/or tags; fields left None stay as they are."""
    locked = _lock(ticket.pk, expected_version)
    now = at or timezone.now()
    events = []
    changed = []
    if priority is not None and priority != locked.priority:
        _choice(priority, Priority, "priority")
        events.append(
            _event(
                locked, actor, EventKind.PRIORITY, now, field="priority", old=locked.priority, new=priority
            )
        )
        locked.priority = priority
        changed.append("priority")
    if subject is not None:
        subject = _text(subject, "subject", SUBJECT_MAX)
        if subject != locked.subject:
            events.append(
                _event(
                    locked, actor, EventKind.SUBJECT, now, field="subject", old=locked.subject, new=subject
                )
            )
            locked.subject = subject
            changed.append("subject")
    if tags is not None:
        names = _clean_tags(tags)
        current = sorted(locked.tags.values_list("name", flat=True))
        if sorted(names) != current:
            locked.tags.set(_tag_objects(names))
            events.append(
                _event(
                    locked,
                    actor,
                    EventKind.TAGS,
                    now,
                    field="tags",
                    old=", ".join(current),
                    new=", ".join(sorted(names)),
                )
            )
    if not events:
        return locked
    if "priority" in changed:
        events.extend(_reapply_sla(locked, actor, now, rematch=True))
        changed += ["sla_policy", *SLA_DUE_FIELDS]
    locked.version += 1
    locked.updated_at = now
    locked.save(update_fields=[*changed, "version", "updated_at"])
    TicketEvent.objects.bulk_create(events)
    return locked


def _reapply_sla(ticket: Ticket, actor: User | None, at: datetime, *, rematch: bool) -> list[TicketEvent]:
    """Re-match the policy and bring the clocks in line; one SLA event when anything changed."""
    old_policy, changes = clocks.reapply(ticket, at, rematch=rematch)
    if not changes and old_policy == ticket.sla_policy:
        return []
    return [
        _event(
            ticket,
            actor,
            EventKind.SLA,
            at,
            field="sla_policy",
            old=str(old_policy or ""),
            new=str(ticket.sla_policy or ""),
            data=clocks.change_event_data(
                changes,
                old_policy=old_policy.pk if old_policy else None,
                new_policy=ticket.sla_policy_id,
            ),
        )
    ]


@transaction.atomic
def ticket_record_arrival(
    *, actor: User, ticket: Ticket, expected_version: int | None, at: datetime | None = None
) -> Ticket:
    """An engineer records arriving on site for a field visit (achieves the on-site clock).

    Raises ValidationFailed for a ticket that is not an open field visit or already has an arrival."""
    locked = _lock(ticket.pk, expected_version)
    if locked.kind != Kind.FIELD_VISIT:
        raise ValidationFailed(
            _("Only field visits record an arrival on site."), fields={"kind": _("Not a field visit.")}
        )
    if locked.on_site_at is not None:
        raise ValidationFailed(
            _("The arrival on site was already recorded."), fields={"on_site_at": _("Already recorded.")}
        )
    if not locked.is_open:
        raise ValidationFailed(
            _("%(number)s is not open.") % {"number": locked.number}, fields={"status": _("Not open.")}
        )
    now = at or timezone.now()
    locked.on_site_at = now
    clocks.on_arrival(locked, now)
    locked.version += 1
    locked.updated_at = now
    locked.save(update_fields=["on_site_at", *SLA_DUE_FIELDS, "version", "updated_at"])
    TicketEvent.objects.create(
        ticket=locked,
        actor=actor,
        kind=EventKind.ON_SITE,
        field="on_site_at",
        new_value=now.isoformat(),
        created_at=now,
    )
    return locked


@transaction.atomic
def ticket_add_watcher(*, actor: User | None, ticket: Ticket, user: User, at: datetime | None = None) -> bool:
    """Add a staff member to the ticket's watchers (they get its notifications); False if already watching.

    Raises ValidationFailed for a user who is not active staff."""
    if not user.is_active or not account_policies.is_staff_member(user):
        raise ValidationFailed(
            _("%(user)s cannot watch tickets.") % {"user": user}, fields={"user": _("Not active staff.")}
        )
    locked = _lock(ticket.pk, None)
    if locked.watchers.filter(pk=user.pk).exists():
        return False
    now = at or timezone.now()
    locked.watchers.add(user)
    TicketEvent.objects.create(
        ticket=locked,
        actor=actor,
        kind=EventKind.WATCHER,
        field="watchers",
        new_value=str(user),
        data={"user_id": user.pk},
        created_at=now,
    )
    return True


def organisation_for_customer(actor: User) -> Organisation | None:
    org_id = customer_organisation_id(actor)
    return Organisation.objects.filter(pk=org_id).first() if org_id else None


@transaction.atomic
def ticket_remove_watcher(
    *, actor: User | None, ticket: Ticket, user: User, at: datetime | None = None
) -> bool:
    """Take a user off the ticket's watchers; False if they were not watching."""
    locked = _lock(ticket.pk, None)
    if not locked.watchers.filter(pk=user.pk).exists():
        return False
    now = at or timezone.now()
    locked.watchers.remove(user)
    TicketEvent.objects.create(
        ticket=locked,
        actor=actor,
        kind=EventKind.WATCHER,
        field="watchers",
        old_value=str(user),
        data={"user_id": user.pk, "removed": True},
        created_at=now,
    )
    return True


@transaction.atomic
def sop_step_complete(
    *,
    actor: User,
    ticket: Ticket,
    position: int,
    answers: Mapping[str, str] | None = None,
    evidence: Mapping[str, UploadLike] | None = None,
    complete: bool = True,
    at: datetime | None = None,
) -> TicketStep:
    """Answer checkpoints of the ticket's step at `position` (checkpoint key → answer text; file and
    photo checkpoints take `evidence`, key → upload) and, with `complete`, mark the step done, which
    starts the next stage when it was the last of its own. Every answer is kept: answering a checkpoint
    again adds an attempt, so a failed critical checkpoint can be put right after a repair.

    Completing needs every mandatory checkpoint of the step answered (now or before). Refused
    (ValidationFailed naming `answers.<key>`) for unknown keys, unreadable answers and missing mandatory
    ones; a step not yet started cannot be completed (Conflict); a closed ticket changes no more.
    """
    answers = dict(answers or {})
    evidence = dict(evidence or {})
    locked = _lock(ticket.pk, None)
    if locked.status in DONE_STATUSES:
        raise Conflict(
            _("%(number)s is %(status)s: reopen it to work on its steps.")
            % {"number": locked.number, "status": str(Status(locked.status).label).lower()},
            fields={"status": _("Not open.")},
        )
    row = (
        TicketStep.objects.select_for_update(of=("self",))
        .select_related("step")
        .filter(ticket_id=locked.pk, position=position)
        .first()
    )
    if row is None:
        raise NotFound(
            _("%(number)s has no step %(position)s.") % {"number": locked.number, "position": position}
        )
    if complete and row.state != StepState.ACTIVE:
        message = {
            StepState.PENDING: _("The step “%(step)s” has not started yet: earlier steps come first."),
            StepState.DONE: _("The step “%(step)s” is done already."),
            StepState.CANCELLED: _("The step “%(step)s” was cancelled."),
        }.get(StepState(row.state), _("The step “%(step)s” cannot be completed now."))
        raise Conflict(message % {"step": row.step.name}, fields={"position": _("Not under way.")})
    if row.state == StepState.PENDING:
        raise Conflict(
            _("The step “%(step)s” has not started yet: earlier steps come first.") % {"step": row.step.name},
            fields={"position": _("Not started.")},
        )
    checkpoints = {cp.key: cp for cp in Checkpoint.objects.filter(step_id=row.step_id).order_by("position")}
    problems: dict[str, str] = {}
    for key in [*answers, *evidence]:
        if key not in checkpoints:
            problems[f"answers.{key[:50]}"] = _("The step has no checkpoint %(key)s.") % {"key": key[:50]}
    judged: dict[str, steps.Judged] = {}
    for key, checkpoint in checkpoints.items():
        raw = answers.get(key)
        upload = evidence.get(key)
        if checkpoint.kind in (CheckpointKind.FILE, CheckpointKind.PHOTO):
            if upload is None:
                if raw not in (None, ""):
                    problems[f"answers.{key}"] = _("Attach the file this checkpoint asks for.")
                continue
        elif upload is not None:
            problems[f"answers.{key}"] = _("This checkpoint takes an answer, not a file.")
            continue
        elif raw is None or str(raw).strip() == "":
            continue
        try:
            judged[key] = steps.judge(checkpoint, raw or "")
        except ValueError as exc:
            problems[f"answers.{key}"] = str(exc)
    files: dict[str, CheckedUpload] = {}
    for key, upload in evidence.items():
        evidence_checkpoint = checkpoints.get(key)
        if evidence_checkpoint is None or evidence_checkpoint.kind not in (
            CheckpointKind.FILE,
            CheckpointKind.PHOTO,
        ):
            continue
        try:
            checked = check_uploads([upload])[0]
        except ValidationFailed as exc:
            problems[f"answers.{key}"] = exc.message
            continue
        if evidence_checkpoint.kind == CheckpointKind.PHOTO and not checked.content_type.startswith("image/"):
            problems[f"answers.{key}"] = _("%(name)s is not a photo (PNG, JPEG, GIF or WebP).") % {
                "name": checked.filename
            }
            continue
        files[key] = checked
    # How often each checkpoint was answered before (answered at all: a mandatory one need not be again).
    attempts = dict(
        CheckpointAnswer.objects.filter(ticket_step=row)
        .values_list("checkpoint__key")
        .annotate(n=Count("id"))
        .values_list("checkpoint__key", "n")
    )
    if complete:
        for key, checkpoint in checkpoints.items():
            if checkpoint.mandatory and key not in judged and key not in files and key not in attempts:
                problems.setdefault(f"answers.{key}", _("Mandatory: answer it to complete the step."))
    if problems:
        first = next(iter(problems.values()))
        raise ValidationFailed(
            _("The step “%(step)s” was not saved: %(problem)s") % {"step": row.step.name, "problem": first},
            fields=problems,
        )
    if not judged and not files and not complete:
        raise ValidationFailed(
            _("Nothing to save: answer at least one checkpoint."), fields={"answers": _("Required.")}
        )
    now = at or timezone.now()
    stored = _store_attachments(locked, None, list(files.values()), internal=True)  # evidence: staff only
    stored_files = dict(zip(files, stored, strict=True))
    new_answers = []
    for key, checkpoint in checkpoints.items():
        if key not in judged and key not in stored_files:
            continue
        result = judged.get(key) or steps.Judged(answers.get(key, "") or "", None, None)
        new_answers.append(
            CheckpointAnswer(
                ticket_step=row,
                checkpoint=checkpoint,
                attempt=attempts.get(key, 0) + 1,
                value=result.value,
                number=result.number,
                attachment=stored_files.get(key),
                passed=result.passed,
                answered_by=actor,
                answered_at=now,
            )
        )
    CheckpointAnswer.objects.bulk_create(new_answers)
    started: list[TicketStep] = []
    if complete:
        steps.finish(locked, row, actor.pk, now)
        started = steps.advance(locked, now)
    failed = [answer.checkpoint.label for answer in new_answers if answer.passed is False]
    TicketEvent.objects.create(
        ticket=locked,
        actor=actor,
        kind=EventKind.STEP,
        field=row.step.key,
        old_value="",
        new_value=row.state,
        created_at=now,
        data={
            "position": row.position,
            "step": row.step.name,
            "completed": complete,
            "on_time": row.on_time,
            "business_minutes": row.business_minutes,
            "milestone": row.step.milestone_name if complete and row.step.is_milestone else "",
            "answered": [answer.checkpoint.key for answer in new_answers],
            "failed": failed,
            "started": [item.step.name for item in started],
        },
    )
    locked.updated_at = now
    locked.save(update_fields=["updated_at", *SLA_DUE_FIELDS, "status", "handoff_team", "version"])
    return row
