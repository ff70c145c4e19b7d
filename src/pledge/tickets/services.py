"""Every write to tickets: create, reply, note, transition, assign, prioritise, tag.

Each function is one transaction. Functions that change an existing ticket lock its row
(`SELECT … FOR UPDATE`; SQLite serialises writers with BEGIN IMMEDIATE), refuse a stale
`expected_version` with Conflict, append one TicketEvent per changed field, and enqueue side
effects with `transaction.on_commit`. Authorisation is the caller's job (policies.py); these
functions enforce the domain rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pledge.accounts import policies as account_policies
from pledge.accounts.choices import WORKING_ROLES
from pledge.accounts.models import Team, User
from pledge.core.errors import Conflict, NotFound, ValidationFailed
from pledge.core.models import IdempotencyKey
from pledge.core.uploads import CheckedUpload, UploadLike, check_uploads
from pledge.customers.models import Asset, Contact, Organisation
from pledge.customers.policies import customer_organisation_id
from pledge.tickets import clocks, tasks
from pledge.tickets.choices import (
    CUSTOMER_TRANSITIONS,
    TRANSITIONS,
    Channel,
    EventKind,
    Kind,
    Priority,
    Status,
)
from pledge.tickets.models import Attachment, Message, Tag, Ticket, TicketEvent

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
    ticket: Ticket, message: Message | None, files: list[CheckedUpload]
) -> list[Attachment]:
    stored = []
    for checked in files:
        attachment = Attachment(
            ticket=ticket,
            message=message,
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
    kind: str = Kind.REQUEST,
    channel: str = Channel.PORTAL,
    priority: str = Priority.P3,
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

    With an `idempotency_key`, a retry by the same user returns the ticket the first call made
    (created=False) — concurrent retries block on the key's unique index until the first commits.
    Raises ValidationFailed for bad fields.
    """
    if idempotency_key is not None:
        idempotency_key = _text(idempotency_key, "idempotency_key", 200)
        existing = _idempotent_ticket(actor, idempotency_key)
        if existing is not None:
            return existing, False
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
            )
            planned = clocks.plan(ticket, now)
            ticket.save(force_insert=True)
            clocks.store(planned)
            if tag_names:
                ticket.tags.set(_tag_objects(tag_names))
            _store_attachments(ticket, None, files)
            TicketEvent.objects.create(
                ticket=ticket,
                actor=actor,
                kind=EventKind.CREATED,
                new_value=Status.NEW,
                created_at=now,
                data={"kind": kind, "priority": priority, "channel": channel},
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
        changed.append("sla_due_at")
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
    at: datetime | None = None,
) -> Ticket:
    """Move a ticket along the workflow (choices.TRANSITIONS; customers: CUSTOMER_TRANSITIONS).

    Raises Conflict when stale, ValidationFailed when the move is not allowed from the current status.
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
    locked.save(update_fields=[*changed, "sla_due_at"])
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
    transaction.on_commit(lambda: tasks.notify_ticket_status.enqueue(locked.pk, old, to_status))
    return locked


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
        changed += ["sla_policy", "sla_due_at"]
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
    locked.save(update_fields=["on_site_at", "sla_due_at", "version", "updated_at"])
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
