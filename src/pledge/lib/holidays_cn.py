"""Chinese statutory holidays and make-up workdays: the built-in set and official schedules for new years."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from types import MappingProxyType

import chinese_calendar

from pledge.lib.businesstime import CalendarSpec

# The State Council notice names the dates worked, not whose hours they work; an office with the
# same hours Monday to Friday does not care, and Monday is the documented default for the others.
DEFAULT_MAKEUP_WEEKDAY = 0
# A statutory holiday period is at most nine days; a longer range in a file is a typo.
LONGEST_HOLIDAY_DAYS = 31

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TITLE_YEAR_RE = re.compile(r"(\d{4})\s*年")


class ScheduleError(ValueError):
    """An official schedule is malformed; the message starts with the field at fault."""


@dataclass(frozen=True)
class HolidaySet:
    """Holidays, make-up workdays (date → weekday whose hours they work) and the years they cover."""

    holidays: frozenset[date]
    makeup_workdays: Mapping[date, int]
    covered_years: frozenset[int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "makeup_workdays", MappingProxyType(dict(self.makeup_workdays)))

    def __hash__(self) -> int:
        return hash((self.holidays, tuple(sorted(self.makeup_workdays.items())), self.covered_years))


# ---------------------------------------------------------------------------------------------------
# The built-in set


@cache
def _builtin_dates() -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    holidays = frozenset(chinese_calendar.holidays)
    # `workdays` lists only the make-up days (always weekend days); ordinary weekdays are implied.
    makeups = frozenset(day for day in chinese_calendar.workdays if day.weekday() >= 5)
    # The library's own rule: every year from its first holiday to its last is complete.
    first, last = min(holidays).year, max(holidays).year
    return holidays, makeups, frozenset(range(first, last + 1))


def statutory_holidays() -> frozenset[date]:
    """Every statutory holiday date of the built-in set (2004–2026 with chinesecalendar 1.11).

    Includes the weekend days inside holiday periods: removing them is harmless on a Monday–Friday
    calendar and right on a seven-day one.
    """
    return _builtin_dates()[0]


def makeup_workdays(weekday: int = DEFAULT_MAKEUP_WEEKDAY) -> dict[date, int]:
    """The built-in make-up workdays (调休上班, weekend dates), each working the hours of `weekday`."""
    return dict.fromkeys(sorted(_builtin_dates()[1]), weekday)


def covered_years() -> frozenset[int]:
    """The years the built-in set knows completely; later years must be imported."""
    return _builtin_dates()[2]


def builtin(makeup_weekday: int = DEFAULT_MAKEUP_WEEKDAY) -> HolidaySet:
    """The built-in statutory set as one HolidaySet."""
    return HolidaySet(statutory_holidays(), makeup_workdays(makeup_weekday), covered_years())


@dataclass(frozen=True)
class FestivalName:
    """The festival a statutory holiday or make-up workday belongs to, in English and in Chinese."""

    english: str
    chinese: str


def builtin_name(day: date) -> FestivalName | None:
    """The festival of a built-in holiday or make-up workday (Spring Festival / 春节), else None.
    Only the built-in years have names: imported schedules list dates."""
    name = chinese_calendar.holidays.get(day) or chinese_calendar.workdays.get(day)
    if not isinstance(name, str) or not name:
        return None
    try:
        chinese = str(chinese_calendar.Holiday(name).chinese)
    except ValueError:
        chinese = name
    return FestivalName(name, chinese)


def combine(*sets: HolidaySet) -> HolidaySet:
    """Merge holiday sets in order; a later set replaces what earlier ones say about the years it covers.

    So an imported official schedule for a year corrects the built-in data for that year, while its
    dates in a neighbouring year (a make-up day in late December) are added to that year.
    """
    holidays: set[date] = set()
    makeups: dict[date, int] = {}
    covered: set[int] = set()
    for one in sets:
        holidays = {day for day in holidays if day.year not in one.covered_years}
        makeups = {day: wd for day, wd in makeups.items() if day.year not in one.covered_years}
        for day in one.holidays:
            makeups.pop(day, None)
            holidays.add(day)
        for day, weekday in one.makeup_workdays.items():
            holidays.discard(day)
            makeups[day] = weekday
        covered |= one.covered_years
    return HolidaySet(frozenset(holidays), makeups, frozenset(covered))


def attach(spec: CalendarSpec, holiday_set: HolidaySet, *, inactive: Iterable[date] = ()) -> CalendarSpec:
    """`spec` with `holiday_set` added: its holidays (except `inactive` ones, which stay normal days),
    its make-up days (the calendar's own make-up days win) and its covered years.
    """
    removed = frozenset(inactive)
    covered = holiday_set.covered_years | (spec.covered_years or frozenset())
    return replace(
        spec,
        holidays=spec.holidays | (holiday_set.holidays - removed),
        makeup_workdays={**holiday_set.makeup_workdays, **spec.makeup_workdays},
        covered_years=covered,
    )


# ---------------------------------------------------------------------------------------------------
# Official schedules for new years


def load_schedule(path: str | Path, *, makeup_weekday: int = DEFAULT_MAKEUP_WEEKDAY) -> HolidaySet:
    """Read an official schedule file (JSON, UTF-8); see parse_schedule for the shapes and errors.

    Raises ScheduleError for unreadable JSON as well; OSError when the file cannot be opened.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScheduleError(f"{Path(path).name}: not valid JSON ({error})") from None
    return parse_schedule(data, makeup_weekday=makeup_weekday)


def parse_schedule(data: object, *, makeup_weekday: int = DEFAULT_MAKEUP_WEEKDAY) -> HolidaySet:
    """Turn one year's official schedule into a HolidaySet covering that year.

    Two shapes are read. The simple one:
    {"year": 2027, "holidays": ["2027-01-01", "2027-02-05/2027-02-13", ...],
     "makeup_workdays": ["2027-02-14", ...] or {"2027-02-14": 0 (weekday) or "春节(周六)" (label)}}.
    The notice shape (see shared/data/holidays_cn/cn_2026_official_schedule.json): "holiday_ranges"
    {name: [first, last]}, "makeup_workdays" {date: label}, and the year from "year" or the title
    ("…2026年…"). Dates are YYYY-MM-DD in the year or next to it (a late-December make-up day).
    "makeup_workdays" must be present (empty when the year has none) so a forgotten field is caught.
    Raises ScheduleError whose message starts with the field at fault.
    """
    if not isinstance(data, Mapping):
        raise ScheduleError("schedule: expected a JSON object")
    year = _schedule_year(data)
    holidays: set[date] = set()
    if "holidays" in data:
        holidays |= _holiday_list(data["holidays"], year)
    if "holiday_ranges" in data:
        holidays |= _holiday_ranges(data["holiday_ranges"], year)
    if "holidays" not in data and "holiday_ranges" not in data:
        raise ScheduleError("holidays: missing; give 'holidays' (a list of dates) or 'holiday_ranges'")
    if not holidays:
        raise ScheduleError("holidays: empty; every year has statutory holidays")
    if "makeup_workdays" not in data:
        raise ScheduleError("makeup_workdays: missing; use [] when the year has none")
    makeups = _makeup_days(data["makeup_workdays"], year, makeup_weekday)
    both = sorted(holidays & makeups.keys())
    if both:
        raise ScheduleError(f"makeup_workdays: {both[0].isoformat()} is also a holiday")
    return HolidaySet(frozenset(holidays), makeups, frozenset({year}))


def _schedule_year(data: Mapping[str, object]) -> int:
    if "year" in data:
        year = data["year"]
        if type(year) is not int or not 1900 <= year <= 2200:
            raise ScheduleError(f"year: expected a year such as 2027, got {year!r}")
        return year
    title = data.get("title")
    match = _TITLE_YEAR_RE.search(title) if isinstance(title, str) else None
    if match is None:
        raise ScheduleError("year: missing, and the title names no year (…2027年…)")
    return int(match.group(1))


def _date(value: object, where: str, year: int) -> date:
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ScheduleError(f"{where}: expected a date YYYY-MM-DD, got {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ScheduleError(f"{where}: {value!r} is not a calendar date") from None
    if abs(day.year - year) > 1:
        raise ScheduleError(f"{where}: {value} is not in {year} or next to it")
    return day


def _span(first: date, last: date, where: str) -> set[date]:
    if last < first:
        raise ScheduleError(f"{where}: {last.isoformat()} is before {first.isoformat()}")
    length = (last - first).days + 1
    if length > LONGEST_HOLIDAY_DAYS:
        raise ScheduleError(f"{where}: {length} days; a statutory holiday is at most {LONGEST_HOLIDAY_DAYS}")
    return {first + timedelta(days=offset) for offset in range(length)}


def _holiday_list(value: object, year: int) -> set[date]:
    if not isinstance(value, list):
        raise ScheduleError(f"holidays: expected a list of dates, got {type(value).__name__}")
    days: set[date] = set()
    for index, item in enumerate(value):
        where = f"holidays[{index}]"
        if isinstance(item, str) and "/" in item:
            first, _, last = item.partition("/")
            days |= _span(_date(first, where, year), _date(last, where, year), where)
        else:
            days.add(_date(item, where, year))
    return days


def _holiday_ranges(value: object, year: int) -> set[date]:
    if not isinstance(value, Mapping) or not value:
        raise ScheduleError("holiday_ranges: expected an object {name: [first, last]}")
    days: set[date] = set()
    for name, bounds in value.items():
        where = f"holiday_ranges[{name!r}]"
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise ScheduleError(f"{where}: expected [first, last] dates, got {bounds!r}")
        days |= _span(_date(bounds[0], where, year), _date(bounds[1], where, year), where)
    return days


def _makeup_days(value: object, year: int, default_weekday: int) -> dict[date, int]:
    items: list[tuple[object, object]]
    if isinstance(value, list):
        items = [(item, default_weekday) for item in value]
    elif isinstance(value, Mapping):
        items = list(value.items())
    else:
        raise ScheduleError(f"makeup_workdays: expected a list or an object, got {type(value).__name__}")
    days: dict[date, int] = {}
    for key, meaning in items:
        where = f"makeup_workdays[{key!r}]"
        day = _date(key, where, year)
        if day.weekday() < 5:
            raise ScheduleError(f"{where}: {day.isoformat()} is a weekday; make-up workdays are weekend days")
        if isinstance(meaning, str):
            weekday = default_weekday  # a label such as "春节(周六)": the notice names no weekday
        elif type(meaning) is int and 0 <= meaning <= 6:
            weekday = meaning
        else:
            raise ScheduleError(f"{where}: expected a weekday 0-6 (Monday = 0) or a label, got {meaning!r}")
        days[day] = weekday
    return days
