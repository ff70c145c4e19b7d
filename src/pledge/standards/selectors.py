"""Reads of business calendars: lookups, the file form, the compiled BusinessTime (cached per process),
the calendars whose holiday data runs out, the month view of the editor; and of SLA policies."""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext
from django.utils.translation import gettext as _

from pledge.core.errors import NotFound, ValidationFailed
from pledge.customers.choices import Tier
from pledge.lib import holidays_cn
from pledge.lib.businesstime import (
    FIRST_YEAR,
    LAST_YEAR,
    BusinessTime,
    BusinessTimeError,
    CalendarSpec,
    DayHours,
    NoWorkingTime,
    OutOfRange,
    format_intervals,
    parse_interval,
)
from pledge.standards.calendar_files import HolidayEntry, document_data
from pledge.standards.choices import (
    WEEKDAY_KEYS,
    CheckpointKind,
    HolidaySetCode,
    SopVersionStatus,
    StepOwner,
    Weekday,
)
from pledge.standards.models import (
    BusinessCalendar,
    CalendarHoliday,
    CalendarVersion,
    Checkpoint,
    EscalationLevel,
    HolidaySetYear,
    ServiceType,
    SlaPolicy,
    Sop,
    SopStep,
    SopVersion,
)
from pledge.tickets.choices import Channel, Kind

# Warn about next year's holiday data this many days before it starts.
NEXT_YEAR_WARNING_DAYS = 60

# What identifies the imported holiday data: every row's id, year and import time. Re-importing a year
# changes its time, so a cached calendar built on the old data is not used again.
Fingerprint = tuple[tuple[int, str, int, datetime], ...]


def calendar_list() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.select_related("team", "contract").order_by("code")


def calendar_get_by_code(code: str) -> BusinessCalendar:
    """The calendar with this code, with its owner. Raises NotFound."""
    calendar = calendar_list().filter(code=code).first()
    if calendar is None:
        raise NotFound(_("There is no calendar %(code)s.") % {"code": code}, fields={"code": _("Not found.")})
    return calendar


def calendar_document(calendar: BusinessCalendar) -> dict[str, object]:
    """The calendar in the file format (what `pledge calendars export` writes and the versions keep).
    Reads its holidays and make-up days (two queries, none when prefetched)."""
    return document_data(
        code=calendar.code,
        name=calendar.name,
        timezone=calendar.timezone,
        weekly=calendar.weekly,
        holiday_sets=list(calendar.holiday_sets),
        holidays=[HolidayEntry(row.date, row.name, row.is_active) for row in calendar.holidays.all()],
        makeup_workdays={row.date: row.weekday for row in calendar.makeup_days.all()},
        team=calendar.team.name if calendar.team else "",
        contract=calendar.contract.number if calendar.contract else "",
        site=calendar.site,
    )


# ---------------------------------------------------------------------------------------------------
# Holiday sets


def holiday_fingerprint() -> Fingerprint:
    """A cheap summary of the imported holiday years (one small query)."""
    rows = HolidaySetYear.objects.order_by("id").values_list("id", "set_code", "year", "imported_at")
    return tuple(rows)


def _builtin(set_code: str) -> holidays_cn.HolidaySet:
    if set_code == HolidaySetCode.CN_STATUTORY:
        return holidays_cn.builtin()
    raise ValueError(f"unknown holiday set {set_code!r}")


def holiday_set_from_row(row: HolidaySetYear) -> holidays_cn.HolidaySet:
    return holidays_cn.HolidaySet(
        holidays=frozenset(date.fromisoformat(day) for day in row.holidays),
        makeup_workdays={
            date.fromisoformat(day): int(weekday) for day, weekday in row.makeup_workdays.items()
        },
        covered_years=frozenset({row.year}),
    )


_SETS: dict[str, tuple[Fingerprint, holidays_cn.HolidaySet]] = {}
_CALENDARS: dict[int, tuple[tuple[int, datetime, Fingerprint | None], BusinessTime]] = {}
_LOCK = threading.Lock()


def holiday_set(set_code: str, fingerprint: Fingerprint | None = None) -> holidays_cn.HolidaySet:
    """The built-in data of a set combined with its imported years (an imported year replaces the
    built-in one). Cached per process until the imported data changes."""
    fingerprint = holiday_fingerprint() if fingerprint is None else fingerprint
    cached = _SETS.get(set_code)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    rows = HolidaySetYear.objects.filter(set_code=set_code).order_by("year")
    combined = holidays_cn.combine(_builtin(set_code), *(holiday_set_from_row(row) for row in rows))
    with _LOCK:
        _SETS[set_code] = (fingerprint, combined)
    return combined


def holiday_coverage(fingerprint: Fingerprint | None = None) -> dict[str, frozenset[int]]:
    """For each holiday set, the years it has data for (built-in and imported)."""
    fingerprint = holiday_fingerprint() if fingerprint is None else fingerprint
    return {code: holiday_set(code, fingerprint).covered_years for code in HolidaySetCode.values}


# ---------------------------------------------------------------------------------------------------
# Business time


def weekly_hours(weekly: dict[str, list[str]]) -> dict[int, DayHours]:
    """The stored {"mon": ["09:00-12:00"]} as {0: ((540, 720),)} (stored data was checked on write)."""
    return {
        WEEKDAY_KEYS.index(key): tuple(parse_interval(text) for text in texts)
        for key, texts in weekly.items()
        if key in WEEKDAY_KEYS
    }


def calendar_spec_for(calendar: BusinessCalendar, fingerprint: Fingerprint | None = None) -> CalendarSpec:
    """The calendar as business time sees it: its hours, its own holidays and make-up days, and its
    holiday sets, where the calendar's own days win (an inactive holiday or an own make-up day makes a
    set's holiday a working day). Reads the holidays and make-up days (none when prefetched)."""
    holiday_rows = list(calendar.holidays.all())
    makeups = {row.date: row.weekday for row in calendar.makeup_days.all()}
    spec = CalendarSpec(
        tz=calendar.timezone,
        weekly=weekly_hours(calendar.weekly),
        holidays=frozenset(row.date for row in holiday_rows if row.is_active),
        makeup_workdays=makeups,
    )
    if calendar.holiday_sets:
        fingerprint = holiday_fingerprint() if fingerprint is None else fingerprint
        overridden = {row.date for row in holiday_rows if not row.is_active} | makeups.keys()
        for set_code in calendar.holiday_sets:
            spec = holidays_cn.attach(spec, holiday_set(set_code, fingerprint), inactive=overridden)
    return spec


def business_time_for(calendar: BusinessCalendar, *, fingerprint: Fingerprint | None = None) -> BusinessTime:
    """The calendar compiled for `due`/`elapsed`/`deadline`, cached per process by (calendar id, version,
    change time, imported holiday data). A repeated question costs one small query (the holiday
    fingerprint; none for a calendar without holiday sets, or when the caller passes `fingerprint`) and
    no compiling.
    """
    if calendar.holiday_sets and fingerprint is None:
        fingerprint = holiday_fingerprint()
    # The change time tells apart a calendar re-created under a reused id (SQLite reuses the ids of
    # rolled-back rows) from the one cached.
    key = (calendar.version, calendar.updated_at, fingerprint if calendar.holiday_sets else None)
    cached = _CALENDARS.get(calendar.pk)
    if cached is not None and cached[0] == key:
        return cached[1]
    business_time = BusinessTime(calendar_spec_for(calendar, fingerprint))
    with _LOCK:
        _CALENDARS[calendar.pk] = (key, business_time)
    return business_time


# Calendar id → (the calendar compiled, an instant as a position on it): see calendar_positions.
CalendarPositions = dict[int, tuple[BusinessTime, float]]


def calendar_positions(at: datetime) -> CalendarPositions:
    """Every calendar compiled, with `at` as a position on it (calendar id → (business time, position)):
    deadlines stored as positions are due once the calendar's position reaches theirs. Two queries (the
    calendars and the holiday fingerprint, when a calendar uses a holiday set); calendars that cannot
    answer are left out."""
    calendars = list(BusinessCalendar.objects.all())
    fingerprint = holiday_fingerprint() if any(c.holiday_sets for c in calendars) else None
    result: CalendarPositions = {}
    for calendar in calendars:
        try:
            business_time = business_time_for(calendar, fingerprint=fingerprint)
            result[calendar.pk] = (business_time, business_time.position(at))
        except (BusinessTimeError, ValueError):
            continue
    return result


@dataclass(frozen=True)
class DeadlineAnswer:
    """A due instant in the calendar's time zone and the years without holiday data it was computed over."""

    due: datetime
    uncovered_years: tuple[int, ...]

    @property
    def provisional(self) -> bool:
        return bool(self.uncovered_years)


def deadline(business_time: BusinessTime, start: datetime, minutes: float) -> DeadlineAnswer:
    """When `minutes` of working time from `start` (aware) are used up, in the calendar's zone.

    Raises ValidationFailed (field `start`, `minutes` or `calendar`) for a start outside the years
    business time supports, an answer beyond them, negative or infinite minutes, or a calendar without
    any working hours.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValidationFailed(
            _("start: give the time zone offset, e.g. +08:00 or Z."),
            fields={"start": _("Give the time zone offset, e.g. +08:00 or Z.")},
        )
    try:
        local_year = start.astimezone(business_time.zone).year
    except OverflowError:
        local_year = FIRST_YEAR - 1
    if not FIRST_YEAR <= local_year <= LAST_YEAR:
        problem = _("must lie between %(first)d and %(last)d") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        raise ValidationFailed(f"start: {problem}", fields={"start": problem})
    if not 0 <= minutes < float("inf"):
        problem = _("must be a number of minutes, 0 or more")
        raise ValidationFailed(f"minutes: {problem}", fields={"minutes": problem})
    try:
        answer = business_time.deadline(start, minutes)
    except NoWorkingTime:
        problem = _("the calendar has no working hours on any weekday")
        raise ValidationFailed(f"calendar: {problem}", fields={"calendar": problem}) from None
    except OutOfRange:
        problem = _("the deadline would fall after %(last)d") % {"last": LAST_YEAR}
        raise ValidationFailed(f"minutes: {problem}", fields={"minutes": problem}) from None
    return DeadlineAnswer(answer.at.astimezone(business_time.zone), answer.uncovered_years)


def clear_cache() -> None:
    """Forget every compiled calendar and combined holiday set (tests; never needed for correctness)."""
    with _LOCK:
        _SETS.clear()
        _CALENDARS.clear()


# ---------------------------------------------------------------------------------------------------
# Missing holiday data


@dataclass(frozen=True)
class MissingHolidayData:
    calendar: BusinessCalendar
    set_code: str
    year: int

    @property
    def message(self) -> str:
        return _(
            "%(calendar)s uses %(set)s, which has no data for %(year)d: import the official schedule "
            "(pledge holidays import FILE)"
        ) % {"calendar": self.calendar.code, "set": self.set_code, "year": self.year}


def years_needing_data(today: date) -> tuple[int, ...]:
    """The current year, and the next one when it starts within NEXT_YEAR_WARNING_DAYS."""
    next_year = today.year + 1
    if (date(next_year, 1, 1) - today).days <= NEXT_YEAR_WARNING_DAYS:
        return (today.year, next_year)
    return (today.year,)


def calendars_missing_holiday_data(
    today: date, calendars: Iterable[BusinessCalendar] | None = None
) -> list[MissingHolidayData]:
    """Calendars that use a holiday set without data for the current year, or for the next year when
    today is within 60 days of its start: one entry per calendar, set and year. Two to four small
    queries (the calendars, the holiday fingerprint, and the imported years when they changed)."""
    years = years_needing_data(today)
    coverage: dict[str, frozenset[int]] | None = None
    missing: list[MissingHolidayData] = []
    rows: Sequence[BusinessCalendar] = list(calendar_list() if calendars is None else calendars)
    for calendar in rows:
        for set_code in calendar.holiday_sets:
            if coverage is None:
                coverage = holiday_coverage()
            covered = coverage.get(set_code, frozenset())
            missing.extend(
                MissingHolidayData(calendar, set_code, year) for year in years if year not in covered
            )
    return missing


@dataclass(frozen=True)
class HolidayDataGap:
    """One holiday set without data for one year, and the calendars that use it."""

    set_code: str
    year: int
    calendars: tuple[BusinessCalendar, ...]

    @property
    def set_label(self) -> str:
        return str(HolidaySetCode(self.set_code).label) if self.set_code in HolidaySetCode.values else ""


def holiday_data_gaps(today: date | None = None) -> list[HolidayDataGap]:
    """calendars_missing_holiday_data(today) grouped by holiday set and year, for the warning that the
    standards pages and the managers' home show (templates/standards/_holiday_warning.html). `today`
    defaults to the current local date."""
    today = timezone.localdate() if today is None else today
    grouped: dict[tuple[str, int], list[BusinessCalendar]] = {}
    for entry in calendars_missing_holiday_data(today):
        grouped.setdefault((entry.set_code, entry.year), []).append(entry.calendar)
    return [
        HolidayDataGap(set_code, year, tuple(calendars))
        for (set_code, year), calendars in sorted(grouped.items())
    ]


def compress_years(years: Iterable[int]) -> str:
    """{2004, 2005, 2006, 2027} → "2004–2006, 2027"."""
    ranges: list[list[int]] = []
    for year in sorted(set(years)):
        if ranges and year == ranges[-1][1] + 1:
            ranges[-1][1] = year
        else:
            ranges.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in ranges)


@dataclass(frozen=True)
class HolidaySetCoverage:
    set_code: str
    label: str
    years: str
    imported: tuple[HolidaySetYear, ...]
    builtin_years: str


def holiday_set_coverage() -> list[HolidaySetCoverage]:
    """For the holiday data page: each set's years (built-in and imported) and its imported years."""
    fingerprint = holiday_fingerprint()
    coverage = holiday_coverage(fingerprint)
    imported = list(HolidaySetYear.objects.select_related("imported_by").order_by("set_code", "year"))
    return [
        HolidaySetCoverage(
            set_code=code,
            label=str(label),
            years=compress_years(coverage.get(code, frozenset())),
            imported=tuple(row for row in imported if row.set_code == code),
            builtin_years=compress_years(_builtin(code).covered_years),
        )
        for code, label in HolidaySetCode.choices
    ]


def calendar_versions(calendar: BusinessCalendar, *, limit: int = 20) -> list[CalendarVersion]:
    """The calendar's latest versions, newest first, with who recorded them (snapshots not loaded) and,
    as `recount`, what recounting the running SLA clocks on the new version did (None when there were
    none): two queries."""
    from pledge.tickets.models import SlaRecount  # the tickets app imports this one

    versions = list(
        calendar.versions.select_related("created_by").defer("snapshot").order_by("-version")[:limit]
    )
    recounts = {
        row.calendar_version: row
        for row in SlaRecount.objects.filter(
            calendar=calendar, policy__isnull=True, calendar_version__in=[v.version for v in versions]
        ).order_by("-id")  # the first recount on a version wins (a holiday-data import reuses it)
    }
    for version in versions:
        version.recount = recounts.get(version.version)  # type: ignore[attr-defined]
    return versions


def sla_recount_list(*, calendar_code: str | None = None, policy_id: int | None = None) -> QuerySet[Any]:
    """The recorded SLA recounts, newest first, with who made the change, the calendar and the policy
    (one query per page)."""
    from pledge.tickets.models import SlaRecount  # the tickets app imports this one

    rows = SlaRecount.objects.select_related("actor", "calendar", "policy").order_by("-created_at", "-id")
    if calendar_code is not None:
        rows = rows.filter(calendar__code=calendar_code)
    if policy_id is not None:
        rows = rows.filter(policy_id=policy_id)
    return rows


def calendar_version_get(calendar: BusinessCalendar, version: int) -> CalendarVersion:
    row = calendar.versions.filter(version=version).first()
    if row is None:
        raise NotFound(
            _("Calendar %(code)s has no version %(version)d.") % {"code": calendar.code, "version": version}
        )
    return row


# ---------------------------------------------------------------------------------------------------
# The month view of a calendar: what business time does on each day


# Names of the statutory festivals, for languages other than Chinese (Chinese uses the official names).
FESTIVAL_NAMES: dict[str, Promise] = {
    "New Year's Day": gettext_lazy("New Year's Day"),
    "Spring Festival": gettext_lazy("Spring Festival"),
    "Tomb-sweeping Day": gettext_lazy("Tomb-sweeping Day"),
    "Labour Day": gettext_lazy("Labour Day"),
    "Dragon Boat Festival": gettext_lazy("Dragon Boat Festival"),
    "National Day": gettext_lazy("National Day"),
    "Mid-autumn Festival": gettext_lazy("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": gettext_lazy("Anti-Fascist 70th Day"),
}


def festival_name(day: date) -> str:
    """The festival a built-in statutory holiday or make-up day belongs to, in the active language."""
    name = holidays_cn.builtin_name(day)
    if name is None:
        return ""
    if (get_language() or "").lower().startswith("zh"):
        return name.chinese
    return str(FESTIVAL_NAMES.get(name.english, name.english))


class DayKind(enum.StrEnum):
    WORKDAY = "workday"
    OFF = "off"  # a weekday without working hours (the weekend)
    HOLIDAY = "holiday"
    MAKEUP = "makeup"


@dataclass(frozen=True)
class CalendarDay:
    """One day as the engine sees it (CalendarSpec.hours_on) and why."""

    day: date
    in_month: bool
    is_today: bool
    kind: DayKind
    hours: DayHours
    # Holiday: its name and whether it is the calendar's own ("own") or from a holiday set ("set").
    holiday_name: str = ""
    source: str = ""
    # Make-up workday: the weekday whose hours apply.
    makeup_weekday: int | None = None
    # The calendar's own inactive holiday on this date (kept, but the day is a normal day).
    inactive_name: str | None = None
    # A holiday of the set that this calendar works (an inactive holiday or its own make-up day).
    set_holiday_worked: bool = False
    covered: bool = True

    @property
    def hours_text(self) -> str:
        return format_intervals(self.hours)

    @property
    def iso(self) -> str:
        return self.day.isoformat()

    @property
    def weekday_label(self) -> str:
        return str(Weekday(self.day.weekday()).label)

    @property
    def makeup_label(self) -> str:
        return "" if self.makeup_weekday is None else str(Weekday(self.makeup_weekday).label)

    @property
    def is_weekend(self) -> bool:
        return self.day.weekday() >= 5

    @property
    def has_own_holiday(self) -> bool:
        return (self.source == "own" and self.kind == DayKind.HOLIDAY) or self.inactive_name is not None

    @property
    def struck_name(self) -> str:
        """For a worked day the calendar would otherwise have off: the holiday's name, shown struck
        through (the calendar's inactive holiday, or the set's holiday it works). Else ""."""
        if self.kind == DayKind.HOLIDAY or (self.inactive_name is None and not self.set_holiday_worked):
            return ""
        return self.inactive_name or festival_name(self.day) or _("Holiday")

    @property
    def has_own_makeup(self) -> bool:
        return self.source == "own" and self.kind == DayKind.MAKEUP


@dataclass(frozen=True)
class MonthSummary:
    month: date
    holidays: int
    makeups: int
    is_current: bool


@dataclass(frozen=True)
class _DayFacts:
    """What describing a day needs: the engine's spec, the calendar's own rows and the sets' days off."""

    spec: CalendarSpec
    own_holidays: dict[date, CalendarHoliday]
    own_makeups: dict[date, int]
    set_off: frozenset[date]
    today: date


@dataclass(frozen=True)
class CalendarMonth:
    calendar: BusinessCalendar
    month: date  # the first of the month
    weeks: list[list[CalendarDay]]
    year_strip: list[MonthSummary]
    uncovered_years: tuple[int, ...]
    facts: _DayFacts = field(repr=False)

    @property
    def today(self) -> date:
        """Today in the calendar's time zone."""
        return self.facts.today

    @property
    def previous(self) -> date | None:
        first = (self.month - timedelta(days=1)).replace(day=1)
        return first if first.year >= FIRST_YEAR else None

    @property
    def next(self) -> date | None:
        following = (self.month + timedelta(days=31)).replace(day=1)
        return following if following.year <= LAST_YEAR else None

    @property
    def previous_year(self) -> date | None:
        return self.month.replace(year=self.month.year - 1) if self.month.year > FIRST_YEAR else None

    @property
    def next_year(self) -> date | None:
        return self.month.replace(year=self.month.year + 1) if self.month.year < LAST_YEAR else None

    @property
    def weekday_headers(self) -> list[str]:
        return [str(label) for label in Weekday.labels]

    def day(self, day: date) -> CalendarDay:
        """Any date (also outside this month) described the same way."""
        return _describe_day(self.facts, day, self.month)


def calendar_today(calendar: BusinessCalendar) -> date:
    """Today in the calendar's own time zone."""
    return datetime.now(ZoneInfo(calendar.timezone)).date()


def _describe_day(facts: _DayFacts, day: date, month: date) -> CalendarDay:
    spec = facts.spec
    hours = spec.hours_on(day)
    own = facts.own_holidays.get(day)
    set_off = day in facts.set_off
    common: dict[str, Any] = {
        "day": day,
        "in_month": (day.year, day.month) == (month.year, month.month),
        "is_today": day == facts.today,
        "hours": hours,
        "covered": spec.covered_years is None or day.year in spec.covered_years,
        "inactive_name": own.name if own is not None and not own.is_active else None,
    }
    if day in spec.holidays:
        if own is not None and own.is_active:
            return CalendarDay(kind=DayKind.HOLIDAY, holiday_name=own.name, source="own", **common)
        return CalendarDay(kind=DayKind.HOLIDAY, holiday_name=festival_name(day), source="set", **common)
    if day in spec.makeup_workdays:
        source = "own" if day in facts.own_makeups else "set"
        return CalendarDay(
            kind=DayKind.MAKEUP,
            makeup_weekday=spec.makeup_workdays[day],
            holiday_name=festival_name(day) if source == "set" else "",
            source=source,
            set_holiday_worked=set_off,
            **common,
        )
    kind = DayKind.WORKDAY if hours else DayKind.OFF
    return CalendarDay(kind=kind, set_holiday_worked=set_off, **common)


def calendar_month(calendar: BusinessCalendar, month: date, *, today: date | None = None) -> CalendarMonth:
    """The month of `month` as a Monday-to-Sunday grid of CalendarDay, with a strip of the year's months
    (holidays and make-up days each). The days come from calendar_spec_for, so the view shows exactly
    what deadlines use. Reads the calendar's holidays and make-up days (two queries, none when
    prefetched) and the holiday data (one small query when cached)."""
    first = month.replace(day=1)
    fingerprint = holiday_fingerprint() if calendar.holiday_sets else None
    spec = calendar_spec_for(calendar, fingerprint)
    set_off: frozenset[date] = frozenset()
    for set_code in calendar.holiday_sets:
        set_off |= holiday_set(set_code, fingerprint).holidays
    facts = _DayFacts(
        spec=spec,
        own_holidays={row.date: row for row in calendar.holidays.all()},
        own_makeups={row.date: row.weekday for row in calendar.makeup_days.all()},
        set_off=set_off,
        today=calendar_today(calendar) if today is None else today,
    )
    start = first - timedelta(days=first.weekday())
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    end = last + timedelta(days=6 - last.weekday())
    days = [
        _describe_day(facts, start + timedelta(days=offset), first)
        for offset in range((end - start).days + 1)
    ]
    weeks = [days[index : index + 7] for index in range(0, len(days), 7)]
    strip = []
    for number in range(1, 13):
        month_start = date(first.year, number, 1)
        month_end = (month_start + timedelta(days=31)).replace(day=1)
        strip.append(
            MonthSummary(
                month=month_start,
                holidays=sum(1 for day in spec.holidays if month_start <= day < month_end),
                makeups=sum(1 for day in spec.makeup_workdays if month_start <= day < month_end),
                is_current=number == first.month,
            )
        )
    uncovered: tuple[int, ...] = ()
    if spec.covered_years is not None:
        uncovered = tuple(sorted({first.year, start.year, end.year} - spec.covered_years))
    return CalendarMonth(calendar, first, weeks, strip, uncovered, facts)


# ---------------------------------------------------------------------------------------------------
# SLA policies


def sla_policy_list() -> QuerySet[SlaPolicy]:
    """Every policy in the order they are tried, with calendar, contract and escalation levels (three
    queries whatever the number of policies)."""
    levels = EscalationLevel.objects.select_related("reassign_team", "add_watcher").order_by(
        "target", "percent"
    )
    return (
        SlaPolicy.objects.select_related("calendar", "contract")
        .prefetch_related(Prefetch("escalation_levels", queryset=levels))
        .order_by("position", "id")
    )


def sla_policy_get(pk: int) -> SlaPolicy:
    """The policy with its calendar, contract and levels. Raises NotFound."""
    policy = sla_policy_list().filter(pk=pk).first()
    if policy is None:
        raise NotFound(_("There is no SLA policy %(id)s.") % {"id": pk}, fields={"id": _("Not found.")})
    return policy


def format_minutes(minutes: int) -> str:
    """Business minutes for people: "30 minutes", "8 hours", "1 hour 30 minutes"."""
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(hours)s and %(minutes)s") % {
            "hours": ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours},
            "minutes": ngettext("%(n)d minute", "%(n)d minutes", rest) % {"n": rest},
        }
    if hours:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", rest) % {"n": rest}


def format_minutes_short(minutes: int | None) -> str:
    """For tables: "30 min", "8 h", "1 h 30 min"; "—" when not promised."""
    if minutes is None:
        return "—"
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": rest}


def _labels(choices: Any, values: Iterable[str]) -> list[str]:
    labels = []
    for value in values:
        try:
            labels.append(str(choices(value).label))
        except ValueError:
            labels.append(value)
    return labels


def sla_policy_scope(policy: SlaPolicy) -> str:
    """Which tickets the policy is for: "P1 · Fault · Gold customers · via Phone", or "All tickets"."""
    parts = [str(value) for value in policy.priorities]
    parts += _labels(Kind, policy.kinds)
    if policy.tiers:
        parts.append(_("%(tiers)s customers") % {"tiers": " / ".join(_labels(Tier, policy.tiers))})
    if policy.channels:
        parts.append(_("via %(channels)s") % {"channels": " / ".join(_labels(Channel, policy.channels))})
    if policy.service_types:
        parts.append(_("service types %(codes)s") % {"codes": " / ".join(policy.service_types)})
    if policy.contract_id is not None and policy.contract is not None:
        parts.append(_("contract %(number)s") % {"number": policy.contract.number})
    return " · ".join(parts) if parts else _("All tickets")


def sla_policy_summary(policy: SlaPolicy) -> str:
    """The policy in one sentence: "P1 · Fault · Gold customers: respond within 30 minutes, resolve within
    8 hours (business time on 全天候 7×24)." Reads nothing when calendar and contract are loaded."""
    promises = []
    if policy.first_response_minutes is not None:
        promises.append(
            _("respond within %(time)s") % {"time": format_minutes(policy.first_response_minutes)}
        )
    if policy.next_response_minutes is not None:
        promises.append(
            _("answer each customer message within %(time)s")
            % {"time": format_minutes(policy.next_response_minutes)}
        )
    if policy.resolution_minutes is not None:
        promises.append(_("resolve within %(time)s") % {"time": format_minutes(policy.resolution_minutes)})
    if policy.on_site_minutes is not None:
        promises.append(_("be on site within %(time)s") % {"time": format_minutes(policy.on_site_minutes)})
    calendar = policy.calendar.name if policy.calendar_id is not None else "?"
    if not promises:
        return _("%(scope)s: no promise yet.") % {"scope": sla_policy_scope(policy)}
    return _("%(scope)s: %(promises)s (business time on %(calendar)s).") % {
        "scope": sla_policy_scope(policy),
        "promises": pgettext("list separator", ", ").join(promises),
        "calendar": calendar,
    }


# ---------------------------------------------------------------------------------------------------
# The service catalogue and SOPs


def service_type_list(*, active_only: bool = False, customer_only: bool = False) -> QuerySet[ServiceType]:
    """Service types in catalogue order with their SOP and calendar (one query)."""
    rows = ServiceType.objects.select_related("sop", "calendar").order_by("position", "id")
    if active_only or customer_only:
        rows = rows.filter(is_active=True)
    if customer_only:
        rows = rows.filter(customer_selectable=True)
    return rows


def service_type_get(pk: int) -> ServiceType:
    """One service type with its SOP and calendar. Raises NotFound."""
    row = service_type_list().filter(pk=pk).first()
    if row is None:
        raise NotFound(_("There is no service type %(id)s.") % {"id": pk}, fields={"id": _("Not found.")})
    return row


def service_type_by_code(code: str) -> ServiceType:
    row = service_type_list().filter(code=str(code).strip()).first()
    if row is None:
        raise NotFound(
            _("There is no service type %(code)s.") % {"code": str(code)[:50]},
            fields={"service_type": _("Not found.")},
        )
    return row


def sop_list() -> QuerySet[Sop]:
    """Every SOP by code with its versions, newest first (two queries)."""
    versions = SopVersion.objects.select_related("approved_by", "created_by").order_by("-number")
    return Sop.objects.prefetch_related(Prefetch("versions", queryset=versions)).order_by("code")


def sop_get(pk: int) -> Sop:
    sop = sop_list().filter(pk=pk).first()
    if sop is None:
        raise NotFound(_("There is no SOP %(id)s.") % {"id": pk}, fields={"id": _("Not found.")})
    return sop


def sop_get_by_code(code: str) -> Sop:
    sop = sop_list().filter(code=str(code).strip()).first()
    if sop is None:
        raise NotFound(
            _("There is no SOP %(code)s.") % {"code": str(code)[:50]}, fields={"code": _("Not found.")}
        )
    return sop


def sop_version_get(sop: Sop, number: int) -> SopVersion:
    """One version with its steps, their teams and checkpoints (three queries). Raises NotFound."""
    version = (
        SopVersion.objects.select_related("sop", "approved_by", "created_by")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=SopStep.objects.select_related("team")
                .prefetch_related(Prefetch("checkpoints", queryset=Checkpoint.objects.order_by("position")))
                .order_by("position"),
            )
        )
        .filter(sop_id=sop.pk, number=number)
        .first()
    )
    if version is None:
        raise NotFound(
            _("%(sop)s has no version %(number)s.") % {"sop": sop.code, "number": number},
            fields={"version": _("Not found.")},
        )
    return version


def company_day(at: datetime | None = None) -> date:
    """The day an instant falls on in the company's time zone (PLEDGE_TIME_ZONE): SOP versions take effect
    on company days, whoever creates the ticket and wherever they are."""
    return timezone.localdate(at or timezone.now(), ZoneInfo(settings.TIME_ZONE))


def sop_version_in_effect(sop_id: int, day: date) -> SopVersion | None:
    """The approved version with the latest effective date on or before `day` (None: none yet)."""
    return (
        SopVersion.objects.filter(sop_id=sop_id, status=SopVersionStatus.APPROVED, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )


class VersionState(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    IN_EFFECT = "in_effect"
    SUPERSEDED = "superseded"


VERSION_STATE_LABELS = {
    VersionState.DRAFT: gettext_lazy("Draft"),
    VersionState.SCHEDULED: gettext_lazy("Approved, not yet in effect"),
    VersionState.IN_EFFECT: gettext_lazy("In effect"),
    VersionState.SUPERSEDED: gettext_lazy("Superseded"),
}


def sop_version_states(versions: Iterable[SopVersion], day: date) -> dict[int, VersionState]:
    """Each version's state on `day`, by id: a draft; approved but taking effect later (scheduled); the
    one in effect; or superseded by a later one in effect."""
    rows = list(versions)
    current = max(
        (
            v
            for v in rows
            if v.status == SopVersionStatus.APPROVED
            and v.effective_from is not None
            and v.effective_from <= day
        ),
        key=lambda v: v.effective_from or date.min,
        default=None,
    )
    states: dict[int, VersionState] = {}
    for version in rows:
        if version.status == SopVersionStatus.DRAFT:
            states[version.pk] = VersionState.DRAFT
        elif current is not None and version.pk == current.pk:
            states[version.pk] = VersionState.IN_EFFECT
        elif version.effective_from is not None and version.effective_from > day:
            states[version.pk] = VersionState.SCHEDULED
        else:
            states[version.pk] = VersionState.SUPERSEDED
    return states


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class StepDiff:
    """How one step (matched by key) differs between two versions: added, removed, changed or same."""

    key: str
    name: str
    change: str  # "added", "removed", "changed", "same"
    fields: tuple[FieldChange, ...] = ()
    checkpoints: tuple[tuple[str, str, tuple[FieldChange, ...]], ...] = ()  # (label, change, fields)


def _step_facts(step: SopStep) -> dict[str, tuple[str, str]]:
    """field → (label, shown value)."""
    return {
        "position": (str(gettext_lazy("order")), str(step.position)),
        "name": (str(gettext_lazy("name")), step.name),
        "owner": (str(gettext_lazy("owner")), str(StepOwner(step.owner).label)),
        "team": (str(gettext_lazy("team")), step.team.name if step.team_id and step.team else ""),
        "time_standard_minutes": (
            str(gettext_lazy("time standard")),
            format_minutes(step.time_standard_minutes),
        ),
        "parallel_group": (str(gettext_lazy("parallel group")), step.parallel_group),
        "milestone": (
            str(gettext_lazy("customer-visible milestone")),
            step.milestone_name if step.is_milestone else "—",
        ),
        "guidance": (str(gettext_lazy("guidance")), step.guidance),
    }


def _checkpoint_facts(checkpoint: Checkpoint) -> dict[str, tuple[str, str]]:
    limits = ""
    if checkpoint.min_value is not None or checkpoint.max_value is not None:
        low = "" if checkpoint.min_value is None else f"{checkpoint.min_value:g}"
        high = "" if checkpoint.max_value is None else f"{checkpoint.max_value:g}"
        limits = f"{low}–{high} {checkpoint.unit}".strip()
    return {
        "label": (str(gettext_lazy("question")), checkpoint.label),
        "kind": (str(gettext_lazy("answer")), str(CheckpointKind(checkpoint.kind).label)),
        "mandatory": (str(gettext_lazy("mandatory")), _("yes") if checkpoint.mandatory else _("no")),
        "critical": (str(gettext_lazy("critical")), _("yes") if checkpoint.critical else _("no")),
        "limits": (str(gettext_lazy("passing values")), limits),
    }


def _changes(old: dict[str, tuple[str, str]], new: dict[str, tuple[str, str]]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(field, new[field][0], old[field][1], new[field][1])
        for field in new
        if old[field][1] != new[field][1]
    )


def sop_version_diff(old: SopVersion, new: SopVersion) -> list[StepDiff]:
    """What changed from `old` to `new`, step by step in the new order (removed steps last); steps and
    checkpoints are matched by key. Load both with sop_version_get (no further queries)."""
    old_steps = {step.key: step for step in old.steps.all()}
    new_steps = {step.key: step for step in new.steps.all()}
    result: list[StepDiff] = []
    for key, step in new_steps.items():
        before = old_steps.get(key)
        if before is None:
            result.append(
                StepDiff(
                    key,
                    step.name,
                    "added",
                    checkpoints=tuple((cp.label, "added", ()) for cp in step.checkpoints.all()),
                )
            )
            continue
        fields = _changes(_step_facts(before), _step_facts(step))
        old_cps = {cp.key: cp for cp in before.checkpoints.all()}
        new_cps = {cp.key: cp for cp in step.checkpoints.all()}
        checkpoints: list[tuple[str, str, tuple[FieldChange, ...]]] = []
        for cp_key, checkpoint in new_cps.items():
            if cp_key not in old_cps:
                checkpoints.append((checkpoint.label, "added", ()))
            else:
                cp_changes = _changes(_checkpoint_facts(old_cps[cp_key]), _checkpoint_facts(checkpoint))
                if cp_changes:
                    checkpoints.append((checkpoint.label, "changed", cp_changes))
        checkpoints += [(cp.label, "removed", ()) for cp_key, cp in old_cps.items() if cp_key not in new_cps]
        change = "changed" if fields or checkpoints else "same"
        result.append(StepDiff(key, step.name, change, fields, tuple(checkpoints)))
    result += [StepDiff(key, step.name, "removed") for key, step in old_steps.items() if key not in new_steps]
    return result
