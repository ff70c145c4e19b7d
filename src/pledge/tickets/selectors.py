"""Reads of tickets, always filtered through policies.visible_q. Joins are stated, lists are paginated
without COUNT(*) so the first page stays fast at millions of tickets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from pledge.core.errors import NotFound
from pledge.tickets import policies
from pledge.tickets.choices import CUSTOMER_VISIBLE_EVENTS, OPEN_STATUSES
from pledge.tickets.models import Attachment, Message, Ticket, TicketEvent, parse_number

SORTS: dict[str, tuple[str, ...]] = {
    "urgency": ("priority", "created_at", "id"),
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "updated": ("-updated_at", "-id"),
}
VIEWS = ("mine", "team", "unassigned", "open", "all")
MAX_PAGE_SIZE = 100


@dataclass
class TicketFilters:
    view: str = "all"
    status: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    team_id: int | None = None
    assignee_id: int | None = None
    organisation_id: int | None = None
    asset_id: int | None = None
    tag: str | None = None
    q: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass
class Page:
    items: list[Ticket]
    page: int
    page_size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def ticket_queryset_for(user: Any) -> QuerySet[Ticket]:
    qs = Ticket.objects.all()
    scope = policies.visible_q(user)
    return qs if scope is None else qs.filter(scope)


def _apply_filters(qs: QuerySet[Ticket], user: Any, f: TicketFilters) -> QuerySet[Ticket]:
    if f.view == "mine":
        qs = qs.filter(assignee_id=user.pk, status__in=OPEN_STATUSES)
    elif f.view == "team":
        qs = qs.filter(team_id__in=policies.team_ids(user), status__in=OPEN_STATUSES)
    elif f.view == "unassigned":
        qs = qs.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    elif f.view == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.priority:
        qs = qs.filter(priority__in=f.priority)
    if f.kind:
        qs = qs.filter(kind__in=f.kind)
    if f.channel:
        qs = qs.filter(channel__in=f.channel)
    if f.team_id is not None:
        qs = qs.filter(team_id=f.team_id)
    if f.assignee_id is not None:
        qs = qs.filter(assignee_id=f.assignee_id)
    if f.organisation_id is not None:
        qs = qs.filter(organisation_id=f.organisation_id)
    if f.asset_id is not None:
        qs = qs.filter(asset_id=f.asset_id)
    if f.tag:
        qs = qs.filter(tags__name=f.tag.strip().lower())
    if f.created_after is not None:
        qs = qs.filter(created_at__gte=f.created_after)
    if f.created_before is not None:
        qs = qs.filter(created_at__lt=f.created_before)
    text = f.q.replace("\x00", "").strip()
    if text:
        number = parse_number(text)
        qs = (
            qs.filter(Q(pk=number) | Q(subject__icontains=text))
            if number
            else qs.filter(subject__icontains=text)
        )
    return qs


def ticket_list_for(
    user: Any,
    filters: TicketFilters,
    *,
    sort: str = "urgency",
    page: int = 1,
    page_size: int = 25,
    with_tags: bool = False,
) -> Page:
    """One page of the tickets `user` may see. Queries: the page (with organisation, team, assignee
    and contact joined) plus one for tags when `with_tags`; the count never grows with the page size."""
    page = max(1, page)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    qs = _apply_filters(ticket_queryset_for(user), user, filters)
    qs = qs.select_related("organisation", "team", "assignee", "contact", "asset").order_by(
        *SORTS.get(sort, SORTS["urgency"])
    )
    if with_tags:
        qs = qs.prefetch_related("tags")
    offset = (page - 1) * page_size
    rows = list(qs[offset : offset + page_size + 1])
    return Page(items=rows[:page_size], page=page, page_size=page_size, has_next=len(rows) > page_size)


def ticket_get_for(user: Any, ticket_id: int) -> Ticket:
    """The ticket if `user` may see it; NotFound otherwise (never reveal that it exists)."""
    ticket = (
        Ticket.objects.select_related("organisation", "contact", "asset", "team", "assignee", "created_by")
        .prefetch_related("tags")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None or not policies.can_view_ticket(user, ticket):
        raise NotFound(_("Ticket not found."))
    return ticket


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "message" or "event"
    message: Message | None = None
    event: TicketEvent | None = None


def ticket_timeline(ticket: Ticket, *, include_internal: bool) -> list[TimelineEntry]:
    """Messages and events of one ticket in time order: three queries whatever the length."""
    messages = (
        Message.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    )
    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor")
    if not include_internal:
        messages = messages.filter(is_internal=False)
        events = events.filter(kind__in=CUSTOMER_VISIBLE_EVENTS)
    entries = [TimelineEntry(at=m.created_at, kind="message", message=m) for m in messages]
    # Reply/note events duplicate their message in the timeline; keep the message only.
    entries += [
        TimelineEntry(at=e.created_at, kind="event", event=e)
        for e in events
        if e.kind not in ("reply", "note")
    ]
    entries.sort(key=lambda entry: (entry.at, 0 if entry.kind == "event" else 1))
    return entries


def ticket_creation_attachments(ticket: Ticket) -> list[Attachment]:
    return list(Attachment.objects.filter(ticket=ticket, message__isnull=True).order_by("id"))


def attachment_get_for(user: Any, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.select_related("ticket", "message").filter(pk=attachment_id).first()
    if attachment is None or not policies.can_view_ticket(user, attachment.ticket):
        raise NotFound(_("Attachment not found."))
    if (
        attachment.message is not None
        and attachment.message.is_internal
        and not policies.can_view_internal(user)
    ):
        raise NotFound(_("Attachment not found."))
    return attachment
