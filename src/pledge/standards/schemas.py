"""API schemas of business calendars (the file format as JSON), the deadline question and SLA policies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, Strict

from pledge.core.schemas import BodyId, Instant, PageQuery, Ref, Text, Version
from pledge.customers.choices import Tier
from pledge.standards.calendar_files import MAX_DATES, MAX_INTERVALS_PER_DAY, OWNER_MAX
from pledge.standards.choices import EscalationRecipient, HolidaySetCode, SlaTarget
from pledge.standards.models import CODE_MAX, NAME_MAX, SITE_MAX, TIMEZONE_MAX, default_pause_statuses
from pledge.standards.services import (
    DESCRIPTION_MAX,
    MAX_ESCALATION_LEVELS,
    MAX_PERCENT,
    MAX_TARGET_MINUTES,
    MIN_PERCENT,
)
from pledge.tickets.choices import Channel, Kind, Priority, Status

# About 2 years of round-the-clock time, 8 of office hours: far beyond any service target.
MAX_MINUTES = 1_000_000

CalendarCode = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=CODE_MAX,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Lower-case letters, digits, - and _, e.g. `cn-office`.",
    ),
]
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
