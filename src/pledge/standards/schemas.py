"""API schemas of business calendars (the file format as JSON), the deadline question and SLA policies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, Strict

from pledge.core.schemas import BodyId, Day, Instant, PageQuery, QueryId, Ref, Text, Version
from pledge.customers.choices import Tier
from pledge.standards.calendar_files import MAX_DATES, MAX_INTERVALS_PER_DAY, OWNER_MAX
from pledge.standards.choices import (
    CheckpointKind,
    EscalationRecipient,
    HolidaySetCode,
    ServiceCategory,
    SlaTarget,
    SopVersionStatus,
    StepOwner,
)
from pledge.standards.models import CODE_MAX, NAME_MAX, SITE_MAX, TIMEZONE_MAX, default_pause_statuses
from pledge.standards.selectors import VersionState
from pledge.standards.services import (
    DESCRIPTION_MAX,
    GUIDANCE_MAX,
    LABEL_MAX,
    MAX_CHECKPOINTS,
    MAX_ESCALATION_LEVELS,
    MAX_PERCENT,
    MAX_SKILLS,
    MAX_STEPS,
    MAX_TARGET_MINUTES,
    MIN_PERCENT,
    REASON_TEXT_MAX,
    SKILL_MAX,
    UNIT_MAX,
)
from pledge.tickets.choices import Channel, Kind, Priority, Status

# About 2 years of round-the-clock time, 8 of office hours: far beyond any service target.
MAX_MINUTES = 1_000_000

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
CalendarCode = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=CODE_MAX,
        pattern=CODE_PATTERN,
        description="Lower-case letters, digits, - and _, e.g. `cn-office`.",
    ),
]
# The code of a service type or an SOP, the key of a step or a checkpoint: the same shape.
Code = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=CODE_MAX,
        pattern=CODE_PATTERN,
        description="Lower-case letters, digits, - and _, e.g. `fault-repair`.",
    ),
]


def _no_default(schema: dict[str, Any]) -> None:
    """For a field that may be left out but not sent as null: the document shows no `null` default."""
    schema.pop("default", None)


def omittable(description: str = "") -> Any:
    """The default of a field that keeps its value when left out and may not be null (`null` is a 422:
    pydantic validates a value sent, never the default). Read the body with `exclude_unset`."""
    return Field(None, description=description or None, json_schema_extra=_no_default)


WeekdayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TimeRange = Annotated[Text, Field(max_length=32, description='"HH:MM-HH:MM"; "00:00-24:00" is a whole day.')]
DayHours = Annotated[list[TimeRange], Field(max_length=MAX_INTERVALS_PER_DAY)]
DateText = Annotated[Text, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]


class HolidayEntry(Schema):
    """A holiday with a name, or an inactive one (kept, but the day is a normal day)."""

    model_config = ConfigDict(extra="forbid")

    date: DateText
    name: Annotated[Text, Field(max_length=NAME_MAX)] = ""
    active: Annotated[bool, Strict()] = True


class CalendarFields(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(max_length=NAME_MAX)]
    timezone: Annotated[Text, Field(max_length=TIMEZONE_MAX, description="An IANA time zone.")]
    weekly: dict[WeekdayName, DayHours] = Field(
        default_factory=dict,
        description='Working hours by weekday, e.g. {"mon": ["09:00-12:00", "13:00-18:00"]}; a weekday '
        "not listed has no working time. An interval whose end is at or before its start crosses "
        "midnight and belongs to the day it starts.",
    )
    holiday_sets: Annotated[list[HolidaySetCode], Field(max_length=10)] = Field(default_factory=list)
    holidays: Annotated[list[DateText | HolidayEntry], Field(max_length=MAX_DATES)] = Field(
        default_factory=list, description="Extra dates off: a date, or {date, name, active}."
    )
    makeup_workdays: dict[DateText, WeekdayName] = Field(
        default_factory=dict, description="Dates that work, each with the hours of the weekday named."
    )
    team: Annotated[Text, Field(max_length=OWNER_MAX, description="The owning team's name.")] = ""
    contract: Annotated[Text, Field(max_length=OWNER_MAX, description="The owning contract's number.")] = ""
    site: Annotated[Text, Field(max_length=SITE_MAX, description="The site it belongs to.")] = ""


class CalendarIn(CalendarFields):
    code: CalendarCode | None = Field(None, description="Optional; must equal the code in the path.")


class CalendarOut(CalendarFields):
    code: CalendarCode


class CalendarPutQuery(Schema):
    reason: Annotated[Text, Field(max_length=500, description="Recorded with the new version.")] = ""


class CalendarSummary(Schema):
    code: str
    name: str
    timezone: str
    holiday_sets: list[str]
    team: Ref | None
    contract: Ref | None
    site: str
    version: int
    updated_at: datetime


class CalendarPage(Schema):
    items: list[CalendarSummary]
    page: int
    page_size: int
    has_next: bool


class CalendarListQuery(PageQuery):
    pass


class SlaRecountListQuery(PageQuery):
    calendar: CalendarCode | None = Field(default=None, description="Only recounts of this calendar.")
    policy: QueryId | None = Field(
        default=None, description="Only recounts after changes to this SLA policy."
    )


class SlaRecountOut(Schema):
    id: int
    created_at: datetime
    actor: Ref | None = Field(description="Who made the change (null for the system).")
    reason: str
    calendar: str | None = Field(description="The code of the calendar whose running clocks were recounted.")
    calendar_version: int | None
    policy: Ref | None = Field(description="Set when a policy change caused the recount.")
    policy_version: int | None
    clocks: int = Field(description="Running clocks recounted.")
    moved: int = Field(description="Clocks whose due instant moved.")
    tickets: int = Field(description="Tickets that got the recount as an event in their history.")


class SlaRecountPage(Schema):
    items: list[SlaRecountOut]
    page: int
    page_size: int
    has_next: bool


class SlaDueIn(Schema):
    calendar: CalendarCode
    start: Instant
    minutes: Annotated[float, Strict(), Field(ge=0, le=MAX_MINUTES, allow_inf_nan=False)] = Field(
        description="Working minutes (a whole or decimal number)."
    )


class SlaDueOut(Schema):
    due: datetime = Field(description="The due instant, with the calendar's UTC offset.")
    provisional: bool = Field(
        description="True when the span reaches a year without holiday data: the deadline counted every "
        "weekday of that year as worked and will change once the official schedule is imported."
    )
    uncovered_years: list[int]


# ---------------------------------------------------------------------------------------------------
# SLA policies

TargetMinutes = Annotated[
    int,
    Strict(),
    Field(ge=1, le=MAX_TARGET_MINUTES, description="Business minutes on the policy's calendar."),
]
Percent = Annotated[int, Strict(), Field(ge=MIN_PERCENT, le=MAX_PERCENT)]


class EscalationLevelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    target: SlaTarget
    percent: Percent = Field(description="Share of the target used: 100 = at breach, 150 = half again after.")
    notify: Annotated[list[EscalationRecipient], Field(max_length=10)] = Field(default_factory=list)
    raise_priority: Annotated[bool, Strict()] = False
    reassign_team: BodyId | None = Field(None, description="Hand the ticket to this team (its id).")
    add_watcher: BodyId | None = Field(None, description="Add this staff member as a watcher (user id).")


class EscalationLevelOut(Schema):
    target: str
    percent: int
    notify: list[str]
    raise_priority: bool
    reassign_team: Ref | None
    add_watcher: Ref | None


class SlaPolicyIn(Schema):
    """A whole policy. Conditions left empty match anything; targets left out are not promised."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(min_length=1, max_length=NAME_MAX)]
    description: Annotated[Text, Field(max_length=DESCRIPTION_MAX)] = ""
    is_active: Annotated[bool, Strict()] = True
    contract: Annotated[Text, Field(max_length=60)] | None = Field(
        None, description="A contract number: the contract's own policy, tried before the general ones."
    )
    tiers: Annotated[list[Tier], Field(max_length=10)] = Field(default_factory=list)
    kinds: Annotated[list[Kind], Field(max_length=10)] = Field(default_factory=list)
    priorities: Annotated[list[Priority], Field(max_length=10)] = Field(default_factory=list)
    channels: Annotated[list[Channel], Field(max_length=10)] = Field(default_factory=list)
    service_types: Annotated[list[Code], Field(max_length=50)] = Field(
        default_factory=list, description="Codes of service types (see `/service-types`)."
    )
    calendar: CalendarCode = Field(description="The code of the business calendar the targets count on.")
    first_response_minutes: TargetMinutes | None = None
    next_response_minutes: TargetMinutes | None = None
    resolution_minutes: TargetMinutes | None = None
    on_site_minutes: TargetMinutes | None = None
    pause_statuses: Annotated[list[Status], Field(max_length=10)] = Field(
        default_factory=lambda: [Status(value) for value in default_pause_statuses()],
        description="Open statuses in which the clocks stand still.",
    )
    escalation_levels: Annotated[list[EscalationLevelIn], Field(max_length=MAX_ESCALATION_LEVELS)] = Field(
        default_factory=list
    )


class SlaPolicyPut(SlaPolicyIn):
    version: Version | None = Field(
        None, description="The version you loaded; a different current version is refused with 409."
    )


class SlaPolicyCalendar(Schema):
    code: str
    name: str


class SlaPolicyOut(Schema):
    id: int
    name: str
    description: str
    position: int = Field(description="Where the policy is tried, 1 = first (a contract's own come first).")
    is_active: bool
    contract: Ref | None
    tiers: list[str]
    kinds: list[str]
    priorities: list[str]
    channels: list[str]
    service_types: list[str]
    calendar: SlaPolicyCalendar
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    on_site_minutes: int | None
    pause_statuses: list[str]
    escalation_levels: list[EscalationLevelOut]
    summary: str = Field(description="The policy in one sentence, in the caller's language.")
    version: int
    updated_at: datetime


class SlaPolicyPage(Schema):
    items: list[SlaPolicyOut]
    page: int
    page_size: int
    has_next: bool


class SlaPolicyListQuery(PageQuery):
    pass


class SlaPolicyQuery(Schema):
    reason: Annotated[Text, Field(max_length=500, description="Recorded with the clocks' recount.")] = ""


# ---------------------------------------------------------------------------------------------------
# The service catalogue

Name = Annotated[Text, Field(min_length=1, max_length=NAME_MAX)]
Description = Annotated[Text, Field(max_length=DESCRIPTION_MAX)]
Skill = Annotated[Text, Field(min_length=1, max_length=SKILL_MAX)]
Skills = Annotated[list[Skill], Field(max_length=MAX_SKILLS)]
Flag = Annotated[bool, Strict()]


class ServiceTypeIn(Schema):
    """A new service type. Targets left out are not overridden: the matching SLA policy's apply."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    description: Description = ""
    category: ServiceCategory
    calendar: CalendarCode = Field(
        description="The business calendar that times SOP steps of tickets no SLA policy covers."
    )
    default_kind: Kind = Kind.REQUEST
    default_priority: Priority = Priority.P3
    skills: Skills = Field(default_factory=list, description="Skills an engineer needs.")
    sop: Code | None = Field(None, description="The code of the SOP its tickets follow.")
    first_response_minutes: TargetMinutes | None = None
    next_response_minutes: TargetMinutes | None = None
    resolution_minutes: TargetMinutes | None = None
    on_site_minutes: TargetMinutes | None = None
    customer_selectable: Flag = Field(True, description="Offered to customers (portal and API).")
    is_active: Flag = True


class ServiceTypePatch(Schema):
    """Fields to change; fields left out keep their value. `sop` and the targets take `null` to clear
    them; the other fields may not be null."""

    model_config = ConfigDict(extra="forbid")

    name: Name = omittable()
    description: Description = omittable()
    category: ServiceCategory = omittable()
    calendar: CalendarCode = omittable()
    default_kind: Kind = omittable()
    default_priority: Priority = omittable()
    skills: Skills = omittable()
    sop: Code | None = None
    first_response_minutes: TargetMinutes | None = None
    next_response_minutes: TargetMinutes | None = None
    resolution_minutes: TargetMinutes | None = None
    on_site_minutes: TargetMinutes | None = None
    customer_selectable: Flag = omittable()
    is_active: Flag = omittable()
    version: Version | None = Field(
        None, description="The version you loaded; a different current version is refused with 409."
    )


class CodeRef(Schema):
    """An object named by its code (service type, SOP, calendar)."""

    code: str
    name: str


class ServiceTypeBriefOut(Schema):
    """A service type as customers see it: what they may ask for."""

    code: str
    name: str
    description: str
    category: ServiceCategory


class ServiceTypeOut(ServiceTypeBriefOut):
    """A service type as staff see it."""

    default_kind: Kind
    default_priority: Priority
    skills: list[str]
    sop: CodeRef | None
    sop_version: int | None = Field(description="The number of the SOP version in effect today.")
    calendar: CodeRef
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    on_site_minutes: int | None
    customer_selectable: bool
    is_active: bool
    position: int = Field(description="Its place in the catalogue, 1 = first.")
    version: int
    updated_at: datetime


AnyServiceTypeOut = Annotated[
    ServiceTypeOut | ServiceTypeBriefOut,
    Field(
        union_mode="left_to_right",
        description="Staff get every field; customers only code, name, description and category.",
    ),
]


class ServiceTypePage(Schema):
    items: list[AnyServiceTypeOut]
    page: int
    page_size: int
    has_next: bool


class ServiceTypeListQuery(PageQuery):
    pass


# ---------------------------------------------------------------------------------------------------
# SOPs

Limit = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
GroupName = Annotated[
    Text,
    Field(
        max_length=CODE_MAX,
        pattern=r"^([a-z0-9][a-z0-9_-]*)?$",
        description="Consecutive steps with the same group run side by side; empty: on its own.",
    ),
]
Reason = Annotated[Text, Field(min_length=1, max_length=REASON_TEXT_MAX)]
VersionNumber = Annotated[int, Field(ge=1, le=2**31 - 1)]


class CheckpointIn(Schema):
    model_config = ConfigDict(extra="forbid")

    key: Code = Field(description="Unique within the step; answers name it.")
    label: Annotated[Text, Field(min_length=1, max_length=LABEL_MAX)] = Field(description="The question.")
    kind: CheckpointKind
    mandatory: Flag = Field(True, description="Must be answered before the ticket is resolved.")
    critical: Flag = Field(
        False, description="Must also pass (yes, or a number within limits): yes/no and number only."
    )
    min_value: Limit | None = Field(None, description="Lowest passing value (number checkpoints).")
    max_value: Limit | None = Field(None, description="Highest passing value (number checkpoints).")
    unit: Annotated[Text, Field(max_length=UNIT_MAX)] = ""


class StepIn(Schema):
    model_config = ConfigDict(extra="forbid")

    key: Code = Field(description="Stable across versions: diffs and statistics follow a step by it.")
    name: Name
    owner: StepOwner
    time_standard_minutes: TargetMinutes = Field(description="Business minutes the step should take.")
    team: BodyId | None = Field(
        None, description="A team id; required for back-office steps (the team the ticket is handed to)."
    )
    parallel_group: GroupName = ""
    is_milestone: Flag = Field(False, description="Shown to the customer when done.")
    milestone_name: Annotated[Text, Field(max_length=NAME_MAX)] = Field(
        "", description="What the customer sees; the step's name when empty."
    )
    guidance: Annotated[Text, Field(max_length=GUIDANCE_MAX)] = Field("", description="Markdown.")
    checkpoints: Annotated[list[CheckpointIn], Field(max_length=MAX_CHECKPOINTS)] = Field(
        default_factory=list
    )


Steps = Annotated[list[StepIn], Field(max_length=MAX_STEPS, description="In order; at least one.")]


class SopIn(Schema):
    """A new SOP; its first version is a draft until a service manager approves it."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    description: Description = ""
    reason: Annotated[Text, Field(max_length=REASON_TEXT_MAX)] = Field(
        "", description="Why the version exists; “First version” when empty."
    )
    steps: Steps


class SopDraftIn(Schema):
    """The whole draft: its steps and checkpoints are replaced at once."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why this version is needed.")
    steps: Steps
    name: Name | None = Field(None, description="A new name for the SOP; left out or null: kept.")
    description: Description | None = Field(None, description="A new description; left out or null: kept.")
    revision: Version | None = Field(
        None, description="The draft's revision you loaded; a different current one is refused with 409."
    )


class SopDraftStartIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why a new version is needed.")


class SopApproveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    effective_from: Day = Field(
        description="The day it takes effect (ISO 8601): today or later, after the latest approved version's."
    )


class CheckpointOut(Schema):
    key: str
    label: str
    kind: CheckpointKind
    mandatory: bool
    critical: bool
    min_value: float | None
    max_value: float | None
    unit: str


class StepOut(Schema):
    position: int
    key: str
    name: str
    owner: StepOwner
    team: Ref | None
    time_standard_minutes: int
    parallel_group: str
    is_milestone: bool
    milestone_name: str
    guidance: str
    checkpoints: list[CheckpointOut]


class SopVersionSummary(Schema):
    number: int
    status: SopVersionStatus
    state: VersionState = Field(
        description="draft; scheduled (approved, takes effect later); in_effect (today); superseded."
    )
    reason: str
    effective_from: date | None
    revision: int = Field(description="Grows with every save of a draft; send it back to detect conflicts.")
    created_by: Ref | None
    created_at: datetime
    approved_by: Ref | None
    approved_at: datetime | None


class SopVersionOut(SopVersionSummary):
    sop: CodeRef
    steps: list[StepOut]


class SopOut(Schema):
    code: str
    name: str
    description: str
    created_at: datetime
    in_effect: int | None = Field(description="The number of the version in effect today.")
    draft: int | None = Field(description="The number of the draft, if there is one.")
    versions: list[SopVersionSummary] = Field(description="Newest first.")


class SopPage(Schema):
    items: list[SopOut]
    page: int
    page_size: int
    has_next: bool


class SopListQuery(PageQuery):
    pass


class SopDiffQuery(Schema):
    from_: VersionNumber | None = Field(
        None, alias="from", description="The older version; the one before `to` when left out."
    )
    to: VersionNumber | None = Field(None, description="The newer version; the latest when left out.")


class FieldChangeOut(Schema):
    field: str
    label: str = Field(description="The field's name in the caller's language.")
    old: str
    new: str


class CheckpointDiffOut(Schema):
    label: str
    change: Literal["added", "removed", "changed"]
    fields: list[FieldChangeOut]


class StepDiffOut(Schema):
    key: str
    name: str
    change: Literal["added", "removed", "changed", "same"]
    fields: list[FieldChangeOut]
    checkpoints: list[CheckpointDiffOut]


class SopDiffOut(Schema):
    sop: CodeRef
    from_version: int
    to_version: int
    steps: list[StepDiffOut] = Field(description="In the newer version's order; removed steps last.")
