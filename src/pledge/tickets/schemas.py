"""API schemas of tickets: list filters, the list item, the detail with its timeline and SLA clocks, and
the writes (arrival on site and watchers included)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from pledge.core.schemas import BodyId, Instant, PageQuery, QueryId, Ref, Text, Version
from pledge.standards.choices import SlaTarget
from pledge.tickets.choices import Channel, ClockState, EventKind, Kind, Priority, Status
from pledge.tickets.services import BODY_MAX, SUBJECT_MAX, TAG_MAX

Tag = Annotated[Text, Field(max_length=TAG_MAX)]
Tags = Annotated[list[Tag], Field(max_length=20)]
IdempotencyKey = Annotated[Text, Field(min_length=1, max_length=200)]


class TicketListQuery(PageQuery):
    view: Literal["mine", "team", "unassigned", "open", "all"] = Field(
        "all",
        description="mine: open and assigned to me; team: open in my teams; unassigned: open without "
        "an assignee; open: every open ticket; all: everything I may see.",
    )
    status: list[Status] = Field(default_factory=list, description="Repeat to match any of several.")
    priority: list[Priority] = Field(default_factory=list)
    kind: list[Kind] = Field(default_factory=list)
    channel: list[Channel] = Field(default_factory=list)
    team_id: QueryId | None = None
    assignee_id: QueryId | None = None
    organisation_id: QueryId | None = None
    asset_id: QueryId | None = None
    tag: Tag | None = None
    q: Annotated[Text, Field(max_length=200)] = Field(
        "", description="A ticket number (`SR-000123`, `123`) or text in the subject."
    )
    created_after: Instant | None = Field(None, description="Created at or after (ISO 8601 with offset).")
    created_before: Instant | None = Field(None, description="Created before (ISO 8601 with offset).")
    sort: Literal["urgency", "sla", "newest", "oldest", "updated"] = Field(
        "urgency",
        description="urgency: priority, then oldest first; sla: the most urgent running SLA clock first "
        "(tickets without one last); newest, oldest: by creation; updated: latest change first.",
    )


class TicketOut(Schema):
    id: int
    number: str
    subject: str
    kind: Kind
    channel: Channel
    priority: Priority
    status: Status
    organisation: Ref
    contact: Ref | None
    asset_id: int | None
    team: Ref | None
    assignee: Ref | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_due_at: datetime | None = Field(
        description="When the most urgent running SLA clock is due; null when no clock runs."
    )
    on_site_at: datetime | None = Field(description="When the engineer arrived on site (field visits).")
    version: int = Field(description="Send it back with every change; a stale one is refused with 409.")


class TicketPage(Schema):
    items: list[TicketOut]
    page: int
    page_size: int
    has_next: bool


class TicketIn(Schema):
    organisation_id: BodyId | None = Field(
        None, description="Required for staff; customers default to their own."
    )
    subject: Annotated[Text, Field(min_length=1, max_length=SUBJECT_MAX)]
    description: Annotated[Text, Field(max_length=BODY_MAX)] = ""
    kind: Kind = Kind.REQUEST
    priority: Priority = Priority.P3
    channel: Channel = Channel.API
    contact_id: BodyId | None = None
    asset_id: BodyId | None = None
    team_id: BodyId | None = Field(None, description="Staff only.")
    assignee_id: BodyId | None = Field(None, description="Staff only.")
    tags: Tags = Field(default_factory=list)


class MessageIn(Schema):
    body: Annotated[Text, Field(min_length=1, max_length=BODY_MAX)]


class TransitionIn(Schema):
    status: Status
    version: Version
    reason: Annotated[Text, Field(max_length=1000)] = ""


class AssignIn(Schema):
    team_id: BodyId | None = Field(description="null clears the team.")
    assignee_id: BodyId | None = Field(description="null clears the assignee.")
    version: Version


class TicketPatch(Schema):
    version: Version
    priority: Priority | None = None
    subject: Annotated[Text, Field(min_length=1, max_length=SUBJECT_MAX)] | None = None
    tags: Tags | None = None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    message_id: int | None
    created_at: datetime
    url: str = Field(description="Download it with the same token.")


class MessageOut(Schema):
    id: int
    author: Ref | None
    body: str
    is_internal: bool
    from_customer: bool
    channel: Channel
    created_at: datetime
    attachments: list[AttachmentOut]


class EventOut(Schema):
    id: int
    kind: EventKind
    actor: Ref | None
    field: str
    old_value: str
    new_value: str
    reason: str = Field(description="Why the status changed, when someone said so (staff only).")
    created_at: datetime


class TimelineEntryOut(Schema):
    type: Literal["message", "event"]
    at: datetime
    message: MessageOut | None = None
    event: EventOut | None = None


class AssetRef(Schema):
    id: int
    model: str
    serial_number: str


class SlaClockOut(Schema):
    """One SLA clock as staff see it; minutes are business minutes on the clock's calendar."""

    target: SlaTarget
    cycle: int = Field(description="Next-response clocks repeat: 0, 1, 2 … per customer message.")
    state: ClockState = Field(
        description="A running clock whose due instant has passed is already `breached` here."
    )
    due_at: datetime | None = Field(description="Null while paused (unless breached) and when finished.")
    target_minutes: int
    used_minutes: float
    paused_minutes: float = Field(description="Time spent paused, including the current pause so far.")
    remaining_minutes: float = Field(description="Negative: overdue by that many minutes.")
    percent_used: float
    paused: bool
    provisional_years: list[int] = Field(
        description="Years without holiday data the due instant was computed over: it may still move."
    )
    achieved_at: datetime | None
    met: bool | None = Field(description="Achieved by its due instant; null while not achieved.")


class SlaOut(Schema):
    """The SLA of a ticket as staff see it."""

    policy: Ref | None
    contract: Ref | None = Field(description="The contract that covers the ticket, by number.")
    clocks: list[SlaClockOut] = Field(description="The current clock of each target (latest cycle).")
    history: list[SlaClockOut] = Field(description="Earlier next-response cycles, oldest first.")


class CustomerClockOut(Schema):
    target: SlaTarget
    state: ClockState
    due_at: datetime | None
    achieved_at: datetime | None


class CustomerSlaOut(Schema):
    """The SLA of a ticket as customers see it: the promised times only."""

    clocks: list[CustomerClockOut]


class TicketDetailOut(TicketOut):
    description: str
    asset: AssetRef | None
    created_by: Ref | None
    attachments: list[AttachmentOut] = Field(description="Files attached when the ticket was created.")
    timeline: list[TimelineEntryOut]
    allowed_transitions: list[Status] = Field(description="Statuses you may move this ticket to.")
    can_reply: bool
    can_note: bool
    can_edit: bool = Field(description="Change priority, subject, tags, team and assignee.")
    sla: SlaOut | CustomerSlaOut = Field(
        union_mode="left_to_right",
        description="The SLA clocks: staff get the policy and the business minutes; customers only "
        "the promised and achieved times.",
    )
    watchers: list[Ref] | None = Field(description="Staff who watch the ticket; null for customers.")


class ArrivalIn(Schema):
    version: Version


class WatchersOut(Schema):
    added: bool = Field(description="False when you were already watching.")
    watchers: list[Ref]
