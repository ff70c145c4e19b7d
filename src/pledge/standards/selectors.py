"""Reads of business calendars: lookups, the file form, the compiled BusinessTime (cached per process),
and the calendars whose holiday data runs out."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from pledge.core.errors import NotFound, ValidationFailed
from pledge.lib import holidays_cn
from pledge.lib.businesstime import (
    FIRST_YEAR,
    LAST_YEAR,
    BusinessTime,
    CalendarSpec,
    DayHours,
    NoWorkingTime,
    OutOfRange,
    parse_interval,
)
from pledge.standards.calendar_files import HolidayEntry, document_data
from pledge.standards.choices import WEEKDAY_KEYS, HolidaySetCode
from pledge.standards.models import BusinessCalendar, HolidaySetYear

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
