"""API schemas of tickets: list filters, the list item, the detail with its timeline and SLA clocks, the
writes (arrival on site and watchers included), and the ticket's SOP steps with their checkpoints."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema
from pydantic_core import PydanticCustomError

from pledge.core.schemas import BodyId, Instant, PageQuery, QueryId, Ref, Text, Version
from pledge.standards.choices import CheckpointKind, SlaTarget, StepOwner
from pledge.standards.schemas import Code, CodeRef, omittable
from pledge.standards.services import MAX_CHECKPOINTS
from pledge.tickets.choices import Channel, ClockState, EventKind, Kind, Priority, Status, StepState
from pledge.tickets.services import BODY_MAX, OVERRIDE_REASON_MAX, SUBJECT_MAX, TAG_MAX
from pledge.tickets.steps import ANSWER_MAX

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
    service_type: CodeRef | None = Field(description="The service asked for (see `/service-types`).")
    sop_version: int | None = Field(
        description="The number of the SOP version the ticket follows (staff only; null for customers)."
    )
    handoff_team: Ref | None = Field(
        description="The back-office team holding the ticket during an SOP hand-off (staff only)."
    )
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
    service_type: Code | None = Field(
        None,
        description="The code of a service type (see `/service-types`): the ticket follows its SOP, and "
        "kind and priority default to its own.",
    )
    kind: Kind = omittable("Default: the service type's, else `request`.")
    priority: Priority = omittable("Default: the service type's, else `P3`.")
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
    override_reason: Annotated[Text, Field(max_length=OVERRIDE_REASON_MAX)] = Field(
        "",
        description="Service managers only: resolve although mandatory checkpoints are unanswered or "
        "critical ones failed, and say why (logged with the checkpoints overridden).",
    )


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
    id: int | None = Field(description="Null for an SLA recount, which is shared by the tickets it touched.")
    recount: int | None = Field(
        default=None, description="For an SLA recount after a calendar or policy change: the recount's id."
    )
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


# SOP steps ------------------------------------------------------------------------------------------

# Steps are numbered from 1; the column is a small integer.
StepPosition = Annotated[int, Field(ge=1, le=32767)]
AnswerKey = Annotated[Text, Field(min_length=1, max_length=50)]
AnswerText = Annotated[Text, Field(max_length=ANSWER_MAX)]


def _answer(value: object) -> object:
    """JSON answers as the service reads them: true/false as yes/no, numbers as their digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("finite_number", _("Enter a finite number."))
    if isinstance(value, int | float):
        return str(value)
    return value


Answer = Annotated[
    AnswerText,
    BeforeValidator(_answer),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": ANSWER_MAX},
                {"type": "number"},
                {"type": "boolean"},
            ]
        }
    ),
]


class StepCompleteIn(Schema):
    """Answers to a step's checkpoints, by checkpoint key, and whether the step is done."""

    model_config = ConfigDict(extra="forbid")

    answers: Annotated[dict[AnswerKey, Answer], Field(max_length=MAX_CHECKPOINTS)] = Field(
        default_factory=dict,
        description='Checkpoint key → answer: yes/no as true/false or "yes"/"no", numbers as numbers or '
        "text, text as text. Files and photos need multipart (`evidence.<key>`).",
    )
    complete: Annotated[bool, Strict()] = Field(
        True,
        description="Mark the step done (every mandatory checkpoint answered, now or before); false only "
        "records the answers (e.g. to put a failed checkpoint right).",
    )


class StepAnswerOut(Schema):
    value: str = Field(description="The answer as recorded (yes/no normalised, numbers as read).")
    number: float | None
    passed: bool | None = Field(description="Null for answers that cannot fail (text, files).")
    attempt: int
    answered_by: Ref | None
    answered_at: datetime
    attachment: AttachmentOut | None = Field(description="The evidence of a file or photo checkpoint.")


class StepCheckpointOut(Schema):
    key: str
    label: str
    kind: CheckpointKind
    mandatory: bool
    critical: bool
    min_value: float | None
    max_value: float | None
    unit: str
    answer: StepAnswerOut | None = Field(description="The latest answer (every attempt is kept).")
    attempts: int
    blocking: Literal["", "unanswered", "failed"] = Field(
        description="Why it stands in the way of resolving the ticket; empty when it does not."
    )


class TicketStepOut(Schema):
    position: int
    key: str
    name: str
    stage: int = Field(description="Steps of one stage run side by side; stage 1 first.")
    state: StepState
    owner: StepOwner
    team: Ref | None = Field(description="The team a back-office step hands the ticket to.")
    time_standard_minutes: int = Field(description="Business minutes the step should take.")
    parallel_group: str
    is_milestone: bool = Field(description="The customer sees it (as `milestone_name`) once done.")
    milestone_name: str
    guidance: str = Field(description="Markdown.")
    started_at: datetime | None
    completed_at: datetime | None
    completed_by: Ref | None
    due_at: datetime | None = Field(description="When the time standard runs out (null while paused).")
    used_minutes: float | None = Field(description="Business minutes used so far (null before it starts).")
    remaining_minutes: float | None = Field(description="Negative: over its time standard by that much.")
    paused: bool
    business_minutes: float | None = Field(description="Business minutes it took (once done).")
    on_time: bool | None = Field(description="Done within its time standard (null until done).")
    can_do: bool = Field(description="Whether you may answer its checkpoints and complete it.")
    checkpoints: list[StepCheckpointOut]


class StepBlockerOut(Schema):
    position: int
    step: str
    checkpoint: str = Field(description="The checkpoint's key.")
    label: str
    problem: Literal["unanswered", "failed"]


class TicketStepsOut(Schema):
    """A ticket's SOP steps as staff see them; a ticket without an SOP has none."""

    ticket_id: int
    number: str
    status: Status
    version: int
    handoff_team: Ref | None
    sop: CodeRef | None
    sop_version: int | None
    steps: list[TicketStepOut]
    blockers: list[StepBlockerOut] = Field(
        description="What stands in the way of resolving the ticket (mandatory checkpoints unanswered, "
        "critical ones failed)."
    )
    can_override: bool = Field(description="You may resolve over the blockers with an `override_reason`.")
