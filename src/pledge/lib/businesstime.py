"""Business time: compile working-hour calendars into UTC intervals and answer `due` and `elapsed` fast."""

from __future__ import annotations

import math
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

MINUTES_PER_DAY = 1440
# The range BusinessTime will compile into; asking beyond it is OutOfRange, so a calendar whose
# working time never comes cannot make the wrapper compile forever.
FIRST_YEAR = 1970
LAST_YEAR = 2100
# Positions (working seconds on a calendar's own timeline) count from local midnight starting this year:
# near the years in use, so that the offset of any compiled window is cheap to compute.
EPOCH_YEAR = 2020

Interval = tuple[int, int]
DayHours = tuple[Interval, ...]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class BusinessTimeError(ValueError):
    """Base of the errors this module raises on top of plain ValueError for bad input."""


class OutOfRange(BusinessTimeError):
    """An instant, or the answer to a question, lies outside the compiled window."""


class NoWorkingTime(BusinessTimeError):
    """The calendar has no working hours on any weekday, so no positive target can ever be met."""


# ---------------------------------------------------------------------------------------------------
# Parsing "HH:MM-HH:MM"

_INTERVAL_RE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*[-–—~～]\s*(\d{1,2}):(\d{2})\s*")
_LIST_SEPARATORS = re.compile(r"[,;，；]")


def parse_interval(text: str) -> Interval:
    """Parse "HH:MM-HH:MM" into (start, end) minutes of the day.

    "24:00" is allowed as an end only. An end at or before the start means the interval crosses
    midnight ("22:00-06:00"); "00:00-24:00" is a whole day. Raises ValueError naming the text.
    """
    match = _INTERVAL_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"bad working interval {text!r}: expected HH:MM-HH:MM, e.g. 09:00-12:00")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m != 0):
        raise ValueError(
            f"bad working interval {text!r}: hours run 00-23 (24:00 only as an end), minutes 00-59"
        )
    return start_h * 60 + start_m, end_h * 60 + end_m


def parse_intervals(text: str) -> DayHours:
    """Parse a comma- or semicolon-separated list such as "09:00-12:00, 13:00-18:00".

    Blank text is a day without working hours. Raises ValueError naming the first bad interval.
    """
    return tuple(parse_interval(part.strip()) for part in _LIST_SEPARATORS.split(text) if part.strip())


def parse_weekly(days: Mapping[int, str]) -> dict[int, DayHours]:
    """Parse {weekday: "HH:MM-HH:MM, ..."} (Monday = 0) into the `CalendarSpec.weekly` shape.

    Raises ValueError naming the weekday and the bad text.
    """
    weekly: dict[int, DayHours] = {}
    for weekday, text in days.items():
        try:
            weekly[weekday] = parse_intervals(text)
        except ValueError as error:
            raise ValueError(f"weekday {weekday}: {error}") from None
    return weekly


def weekly_from(days: Iterable[int], hours: DayHours | str) -> dict[int, DayHours]:
    """The same hours on each of `days`, e.g. weekly_from(range(5), "09:00-12:00, 13:00-18:00")."""
    parsed = parse_intervals(hours) if isinstance(hours, str) else tuple(hours)
    return {day: parsed for day in days}


def format_intervals(hours: DayHours) -> str:
    """Inverse of parse_intervals, for forms and error messages."""
    return ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in hours)


# ---------------------------------------------------------------------------------------------------
# The calendar as data


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: expected an IANA name such as Asia/Shanghai") from None


def _check_weekday(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= 6:
        raise ValueError(f"{what}: weekday must be an integer 0-6 (Monday = 0), got {value!r}")
    return value


@dataclass(frozen=True)
class CalendarSpec:
    """A working-hours calendar in local wall-clock time.

    `weekly` maps weekday (Monday = 0) to (start, end) minutes of the day, 0-1440; an end at or
    before its start crosses midnight and belongs to the day it starts. `holidays` are dates whose
    own intervals (those that start on that date) are removed. `makeup_workdays` are dates that work
    with the hours of the named weekday; a date that is both a holiday and a make-up day is a holiday.
    `covered_years` are the years whose holiday data is known; None means no holiday set is attached,
    so every year counts as covered. Construction normalises the containers to immutable ones and
    raises ValueError naming the bad field.
    """

    tz: str
    weekly: Mapping[int, DayHours]
    holidays: frozenset[date] = frozenset()
    makeup_workdays: Mapping[date, int] = field(default_factory=dict)
    covered_years: frozenset[int] | None = None

    def __post_init__(self) -> None:
        _zone(self.tz)
        weekly: dict[int, DayHours] = {}
        for weekday, hours in self.weekly.items():
            _check_weekday(weekday, "weekly")
            checked: list[Interval] = []
            for interval in hours:
                if (
                    len(interval) != 2
                    or not all(type(v) is int for v in interval)
                    or not 0 <= interval[0] < MINUTES_PER_DAY
                    or not 0 <= interval[1] <= MINUTES_PER_DAY
                ):
                    raise ValueError(
                        f"weekly[{weekday}]: bad interval {interval!r}: expected (start, end) minutes of "
                        "the day, start 0-1439, end 0-1440"
                    )
                checked.append((interval[0], interval[1]))
            if checked:
                weekly[weekday] = tuple(sorted(checked))
        makeups: dict[date, int] = {}
        for day, weekday in self.makeup_workdays.items():
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"makeup_workdays: expected dates as keys, got {day!r}")
            makeups[day] = _check_weekday(weekday, f"makeup_workdays[{day.isoformat()}]")
        holidays = frozenset(self.holidays)
        for day in holidays:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"holidays: expected dates, got {day!r}")
        covered = None if self.covered_years is None else frozenset(self.covered_years)
        object.__setattr__(self, "weekly", MappingProxyType(dict(sorted(weekly.items()))))
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "makeup_workdays", MappingProxyType(makeups))
        object.__setattr__(self, "covered_years", covered)

    def __hash__(self) -> int:
        # Hashable so compiled calendars can be cached by spec; the mappings are read-only proxies.
        return hash(
            (
                self.tz,
                tuple(self.weekly.items()),
                self.holidays,
                tuple(sorted(self.makeup_workdays.items())),
                self.covered_years,
            )
        )

    @property
    def has_working_time(self) -> bool:
        return bool(self.weekly)

    def hours_on(self, day: date) -> DayHours:
        """The intervals that start on `day`: none on a holiday, the named weekday's on a make-up day."""
        if day in self.holidays:
            return ()
        return self.weekly.get(self.makeup_workdays.get(day, day.weekday()), ())

    def uncovered_years(self, a: datetime, b: datetime) -> tuple[int, ...]:
        """Years between the local years of `a` and `b` (either order) that have no holiday data.

        A deadline or measurement that touches one of them was computed without that year's holidays
        and must be flagged. Raises ValueError for naive datetimes.
        """
        if self.covered_years is None:
            return ()
        zone = _zone(self.tz)
        first, last = sorted((_aware(a).astimezone(zone).year, _aware(b).astimezone(zone).year))
        return tuple(year for year in range(first, last + 1) if year not in self.covered_years)


def spec_to_data(spec: CalendarSpec) -> dict[str, object]:
    """The spec as JSON-ready data (see `spec_from_data`)."""
    return {
        "tz": spec.tz,
        "weekly": {str(day): [list(interval) for interval in hours] for day, hours in spec.weekly.items()},
        "holidays": sorted(day.isoformat() for day in spec.holidays),
        "makeup_workdays": {
            day.isoformat(): weekday for day, weekday in sorted(spec.makeup_workdays.items())
        },
        "covered_years": None if spec.covered_years is None else sorted(spec.covered_years),
    }


def spec_from_data(data: Mapping[str, object] | None) -> CalendarSpec | None:
    """The spec `spec_to_data` wrote; None for no or unreadable data."""
    if not data:
        return None
    try:
        weekly = data["weekly"]
        makeups = data["makeup_workdays"]
        covered = data["covered_years"]
        if not isinstance(weekly, Mapping) or not isinstance(makeups, Mapping):
            return None
        return CalendarSpec(
            tz=str(data["tz"]),
            weekly={int(day): tuple((int(a), int(b)) for a, b in hours) for day, hours in weekly.items()},
            holidays=frozenset(date.fromisoformat(day) for day in data["holidays"]),  # type: ignore[attr-defined]
            makeup_workdays={date.fromisoformat(day): int(weekday) for day, weekday in makeups.items()},
            covered_years=None if covered is None else frozenset(int(y) for y in covered),  # type: ignore[attr-defined]
        )
    except (KeyError, TypeError, ValueError):
        return None


class ChangedDays(NamedTuple):
    """Where two specs with the same time zone and weekly hours differ: the first and last local day whose
    own working intervals differ, and the day from whose local midnight on every instant has the same
    position in both again (the changed days hold as much working time in both), or None (every position
    after the first changed day moves)."""

    first: date
    last: date
    realigned: date | None


EVERYTHING = "everything"


def changed_days(old: CalendarSpec | None, new: CalendarSpec) -> ChangedDays | str | None:
    """None when the two specs give every day the same hours; EVERYTHING when they are not comparable
    day by day (no old spec, another time zone or other weekly hours); else the ChangedDays. Holiday
    data coverage (`covered_years`) does not count: it changes flags, not hours."""
    if old is None or old.tz != new.tz or dict(old.weekly) != dict(new.weekly):
        return EVERYTHING
    candidates = set(old.holidays ^ new.holidays)
    candidates.update(
        day
        for day in old.makeup_workdays.keys() | new.makeup_workdays.keys()
        if old.makeup_workdays.get(day) != new.makeup_workdays.get(day)
    )
    days = sorted(day for day in candidates if old.hours_on(day) != new.hours_on(day))
    if not days:
        return None
    first, last = days[0], days[-1]
    after = last + timedelta(days=1)
    # Realigned at the midnight ending the last changed day when the working time up to it is the same
    # and the last day's hours run past it the same way (a night shift); else at the next midnight when
    # the working time up to it is (no changed day's hours reach past it).
    ahead = [compile_calendar(spec, first, last) for spec in (old, new)]
    spill = [compile_calendar(spec, after, after) for spec in (old, new)]
    if (
        ahead[0].cumulative[-1] == ahead[1].cumulative[-1]
        and np.array_equal(spill[0].starts, spill[1].starts)
        and np.array_equal(spill[0].ends, spill[1].ends)
    ):
        return ChangedDays(first, last, after)
    if ahead[0].cumulative[-1] + spill[0].cumulative[-1] == ahead[1].cumulative[-1] + spill[1].cumulative[-1]:
        return ChangedDays(first, last, after + timedelta(days=1))
    return ChangedDays(first, last, None)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: business time needs aware datetimes")
    return moment


# ---------------------------------------------------------------------------------------------------
# Compiling


def wall_to_epoch(zone: ZoneInfo, wall: datetime) -> int:
    """The epoch second of the earliest instant at which the clock in `zone` shows `wall` or later.

    `wall` is naive local time. In a daylight-saving gap (a time that never shows) that is the
    instant the clock jumps; in a fold (a time that shows twice) it is the first occurrence. This
    rule keeps boundaries in order, so an interval can shrink to nothing but never turn inside out.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    epoch = int(first.timestamp())
    if datetime.fromtimestamp(epoch, zone).replace(tzinfo=None) == wall:
        return epoch
    # A gap: fold=0 read the wall time with the offset from before the jump (an instant after it)
    # and fold=1 with the offset from after (an instant before it); the jump lies between them, and
    # below it the clock shows less than `wall`, above it more.
    low, high = int(wall.replace(tzinfo=zone, fold=1).timestamp()), epoch
    while low < high:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle + 1
    return low


def compile_calendar(spec: CalendarSpec, start_date: date, end_date: date) -> CompiledCalendar:
    """Expand every local day from `start_date` to `end_date` (inclusive) into UTC working intervals.

    The window runs from local midnight starting `start_date` to local midnight ending `end_date`;
    intervals of the day before that cross midnight into the window are included, everything is
    clipped to the window, and overlapping or touching intervals are merged. Cost is linear in the
    number of days. Raises ValueError when `end_date` is before `start_date`.
    """
    if end_date < start_date:
        raise ValueError(f"end_date {end_date} is before start_date {start_date}")
    zone = _zone(spec.tz)
    window_start = wall_to_epoch(zone, datetime(start_date.year, start_date.month, start_date.day))
    after = end_date + timedelta(days=1)
    window_end = wall_to_epoch(zone, datetime(after.year, after.month, after.day))
    raw: list[tuple[int, int]] = []
    day = start_date - timedelta(days=1)
    while day <= end_date:
        midnight = datetime(day.year, day.month, day.day)
        for start, end in spec.hours_on(day):
            stop = end if end > start else end + MINUTES_PER_DAY
            lo = max(wall_to_epoch(zone, midnight + timedelta(minutes=start)), window_start)
            hi = min(wall_to_epoch(zone, midnight + timedelta(minutes=stop)), window_end)
            if lo < hi:
                raw.append((lo, hi))
        day += timedelta(days=1)
    raw.sort()
    merged: list[list[int]] = []
    for lo, hi in raw:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    bounds = np.array(merged, dtype=np.int64).reshape(-1, 2)
    return CompiledCalendar(
        spec, start_date, end_date, window_start, window_end, bounds[:, 0].copy(), bounds[:, 1].copy()
    )


class Deadline(NamedTuple):
    """A due instant and the years without holiday data between the start and it."""

    at: datetime
    uncovered_years: tuple[int, ...]

    @property
    def provisional(self) -> bool:
        """True when the deadline was computed without some year's holidays and must be flagged."""
        return bool(self.uncovered_years)


class CompiledCalendar:
    """A calendar expanded into sorted, disjoint UTC working intervals over a window of local days.

    `starts`/`ends` are int64 epoch seconds; `cumulative[i]` is the working seconds before interval
    i, and `cumulative[-1]` the window's total. Every query is O(log n) in the number of intervals.
    Instances are immutable and safe to share between threads.
    """

    __slots__ = (
        "_cum",
        "_cum_end",
        "_cum_end_f",
        "_cum_f",
        "_ends",
        "_ends_f",
        "_hi",
        "_lo",
        "_n",
        "_starts",
        "_starts_f",
        "_starts_pad_f",
        "_uncovered_hi",
        "_uncovered_lo",
        "cumulative",
        "end_date",
        "ends",
        "spec",
        "start_date",
        "starts",
        "window_end",
        "window_start",
        "zone",
    )

    def __init__(
        self,
        spec: CalendarSpec,
        start_date: date,
        end_date: date,
        window_start: int,
        window_end: int,
        starts: IntArray,
        ends: IntArray,
    ) -> None:
        """Precondition: starts/ends sorted, disjoint, non-empty intervals inside the window."""
        self.spec = spec
        self.zone = _zone(spec.tz)
        self.start_date = start_date
        self.end_date = end_date
        self.window_start = window_start
        self.window_end = window_end
        self.starts = starts
        self.ends = ends
        self.cumulative = np.concatenate(([0], np.cumsum(ends - starts))).astype(np.int64)
        for array in (starts, ends, self.cumulative):
            array.flags.writeable = False
        self._n = len(starts)
        # Python lists of floats for single queries: bisect on a list beats numpy for one value,
        # and float-to-float comparisons are the cheapest the interpreter has.
        self._starts = starts.astype(np.float64).tolist()
        self._ends = ends.astype(np.float64).tolist()
        self._cum = self.cumulative.astype(np.float64).tolist()
        self._cum_end = self._cum[1:]
        self._lo = float(window_start)
        self._hi = float(window_end)
        self._starts_f = starts.astype(np.float64)
        self._starts_pad_f = np.append(self._starts_f, math.inf)
        self._ends_f = ends.astype(np.float64)
        self._cum_f = self.cumulative.astype(np.float64)
        self._cum_end_f = self._cum_f[1:]
        self._uncovered_lo, self._uncovered_hi = _uncovered_ranges(
            spec, self.zone, start_date.year, end_date.year
        )

    def __repr__(self) -> str:
        return (
            f"<CompiledCalendar {self.spec.tz} {self.start_date}..{self.end_date}, {self._n} intervals, "
            f"{self._cum[-1] / 3600:.1f} working hours>"
        )

    def covers(self, moment: datetime) -> bool:
        """Whether `moment` lies inside the window (boundaries included)."""
        return self._lo <= _aware(moment).timestamp() <= self._hi

    def _epoch(self, moment: datetime) -> float:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"naive datetime {moment!r}: business time needs aware datetimes")
        epoch = moment.timestamp()
        if not self._lo <= epoch <= self._hi:
            raise OutOfRange(
                f"{moment.isoformat()} is outside the compiled window {self.start_date}..{self.end_date}"
            )
        return epoch

    def _worked_before(self, epoch: float) -> float:
        i = bisect_right(self._ends, epoch)
        if i < self._n and self._starts[i] < epoch:
            return self._cum[i] + (epoch - self._starts[i])
        return self._cum[i]

    def due(self, start: datetime, minutes: float) -> datetime:
        """The earliest instant at which `minutes` of working time have elapsed since `start`, in UTC.

        A target that runs out exactly at closing time is due at closing time; zero minutes is due
        at `start` itself, even outside working hours. Preconditions: `start` aware, `minutes`
        finite and ≥ 0 (else ValueError). Raises NoWorkingTime when the calendar has no hours at all,
        OutOfRange when `start` or the answer lies outside the window.
        """
        seconds = minutes * 60.0
        if not 0.0 <= seconds < math.inf:
            raise ValueError(f"minutes must be finite and >= 0, got {minutes!r}")
        epoch = self._epoch(start)
        if seconds == 0.0:
            return datetime.fromtimestamp(epoch, UTC)
        i = bisect_right(self._ends, epoch)
        if i < self._n and self._starts[i] < epoch:
            target = self._cum[i] + (epoch - self._starts[i]) + seconds
        else:
            target = self._cum[i] + seconds
        j = bisect_left(self._cum_end, target, i)
        if j == self._n:
            self._raise_beyond(start, minutes)
        answer = self._starts[j] + (target - self._cum[j])
        # Rounding must never put the answer before the start.
        return datetime.fromtimestamp(answer if answer > epoch else epoch, UTC)

    def _raise_beyond(self, start: datetime, minutes: float) -> None:
        if not self.spec.has_working_time:
            raise NoWorkingTime(f"calendar in {self.spec.tz} has no working hours on any weekday")
        raise OutOfRange(
            f"{minutes} working minutes from {start.isoformat()} run past the compiled window "
            f"{self.start_date}..{self.end_date}"
        )

    def elapsed(self, a: datetime, b: datetime) -> float:
        """Working minutes from `a` to `b`; negative when `b` is before `a` (elapsed(b, a) == -elapsed(a, b)).

        Raises ValueError for naive datetimes and OutOfRange for instants outside the window.
        """
        return (self._worked_before(self._epoch(b)) - self._worked_before(self._epoch(a))) / 60.0

    def deadline(self, start: datetime, minutes: float) -> Deadline:
        """`due` together with the years without holiday data that the span touches; errors as `due`."""
        at = self.due(start, minutes)
        return Deadline(at, self.spec.uncovered_years(start, at))

    def uncovered_years(self, a: datetime, b: datetime) -> tuple[int, ...]:
        """See CalendarSpec.uncovered_years."""
        return self.spec.uncovered_years(a, b)

    # -- arrays -------------------------------------------------------------------------------------

    def _epochs(self, values: npt.ArrayLike, name: str) -> FloatArray:
        epochs = np.asarray(values, dtype=np.float64)
        inside = (epochs >= self._lo) & (epochs <= self._hi)
        if not inside.all():
            raise OutOfRange(
                f"{name}: {int((~inside).sum())} instants are outside the compiled window "
                f"{self.start_date}..{self.end_date} (or not finite)"
            )
        return epochs

    def _worked_before_many(self, epochs: FloatArray) -> FloatArray:
        i = np.searchsorted(self._ends_f, epochs, side="right")
        starts = self._starts_pad_f[i]
        # Past the last interval the padded start is +inf, so `within` is False there.
        return self._cum_f[i] + np.where(starts < epochs, epochs - starts, 0.0)

    def due_many(self, starts: npt.ArrayLike, seconds: npt.ArrayLike) -> FloatArray:
        """Vectorised `due`: epoch-second starts and working seconds in, epoch-second answers out.

        The arrays broadcast against each other. Raises ValueError when a `seconds` value is negative
        or not finite, OutOfRange when any start or answer lies outside the window, NoWorkingTime as
        `due`.
        """
        epochs = self._epochs(starts, "starts")
        amounts = np.asarray(seconds, dtype=np.float64)
        if not ((amounts >= 0.0) & (amounts < math.inf)).all():
            raise ValueError("seconds must be finite and >= 0")
        epochs, amounts = np.broadcast_arrays(epochs, amounts)
        positive = amounts > 0.0
        if self._n == 0:
            if positive.any():
                self._raise_beyond(datetime.fromtimestamp(float(epochs[positive][0]), UTC), 0.0)
            return epochs.copy()
        target = self._worked_before_many(epochs) + amounts
        j = np.searchsorted(self._cum_end_f, target, side="left")
        beyond = positive & (j == self._n)
        if beyond.any():
            first = int(np.argmax(beyond))
            self._raise_beyond(
                datetime.fromtimestamp(float(epochs[first]), UTC), float(amounts[first]) / 60.0
            )
        j = np.minimum(j, self._n - 1)
        answers = np.maximum(self._starts_f[j] + (target - self._cum_f[j]), epochs)
        return np.where(positive, answers, epochs)

    def elapsed_many(self, a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
        """Vectorised `elapsed` on epoch seconds, returning working SECONDS (negative when b < a).

        Raises OutOfRange when any instant lies outside the window.
        """
        return self._worked_before_many(self._epochs(b, "b")) - self._worked_before_many(self._epochs(a, "a"))

    def uncovered_many(self, a: npt.ArrayLike, b: npt.ArrayLike) -> BoolArray:
        """Vectorised flag: does the span between epoch seconds `a` and `b` touch a year without data?

        Raises OutOfRange when any instant lies outside the window.
        """
        first = self._epochs(a, "a")
        last = self._epochs(b, "b")
        low, high = np.minimum(first, last), np.maximum(first, last)
        if len(self._uncovered_lo) == 0:
            return np.zeros(np.broadcast(low, high).shape, dtype=np.bool_)
        # The uncovered years form disjoint half-open ranges; the first range ending after `low`
        # is the only one that can meet the span.
        k = np.searchsorted(self._uncovered_hi, low, side="right")
        hit = self._uncovered_lo[np.minimum(k, len(self._uncovered_lo) - 1)] <= high
        return (k < len(self._uncovered_lo)) & hit


def _uncovered_ranges(
    spec: CalendarSpec, zone: ZoneInfo, first_year: int, last_year: int
) -> tuple[FloatArray, FloatArray]:
    ranges: list[list[float]] = []
    if spec.covered_years is not None:
        for year in range(first_year, last_year + 1):
            if year in spec.covered_years:
                continue
            lo = float(wall_to_epoch(zone, datetime(year, 1, 1)))
            hi = float(wall_to_epoch(zone, datetime(year + 1, 1, 1)))
            if ranges and ranges[-1][1] == lo:
                ranges[-1][1] = hi
            else:
                ranges.append([lo, hi])
    table = np.array(ranges, dtype=np.float64).reshape(-1, 2)
    return table[:, 0].copy(), table[:, 1].copy()


# ---------------------------------------------------------------------------------------------------
# The wrapper callers use


class BusinessTime:
    """A calendar that compiles itself lazily, by whole local years, as questions reach further.

    Callers may ask about any instant from `first_year` to `last_year` without thinking about
    windows. The first question compiles the year before its own to the year after; a question
    outside the window widens it to cover that year, and an answer that runs past the end doubles
    the window forward. Each widening recompiles the whole window (linear in its days; about 4 ms a
    year), so a long-lived instance settles quickly. Safe to share between threads: the compiled
    calendar is immutable and replaced under a lock.
    """

    def __init__(
        self, spec: CalendarSpec, *, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR
    ) -> None:
        """Raises ValueError when first_year > last_year."""
        if first_year > last_year:
            raise ValueError(f"first_year {first_year} is after last_year {last_year}")
        self.spec = spec
        self.zone = _zone(spec.tz)
        self.first_year = first_year
        self.last_year = last_year
        self._lowest = float(wall_to_epoch(self.zone, datetime(first_year, 1, 1)))
        self._highest = float(wall_to_epoch(self.zone, datetime(last_year + 1, 1, 1)))
        self._compiled: CompiledCalendar | None = None
        self._lock = threading.Lock()
        self.epoch_year = min(max(EPOCH_YEAR, first_year), last_year)
        self._offsets: dict[int, float] = {}  # window start year → working seconds from the epoch to it

    @property
    def compiled(self) -> CompiledCalendar | None:
        """The current window, or None before the first question."""
        return self._compiled

    def _year_of(self, epoch: float) -> int:
        if not self._lowest <= epoch <= self._highest:
            raise OutOfRange(
                f"epoch {epoch} is outside the supported years {self.first_year}..{self.last_year}"
            )
        return min(datetime.fromtimestamp(epoch, self.zone).year, self.last_year)

    def _cover(self, first_epoch: float, last_epoch: float) -> CompiledCalendar:
        first, last = self._year_of(first_epoch), self._year_of(last_epoch)
        with self._lock:
            current = self._compiled
            if current is None:
                low, high = max(first - 1, self.first_year), min(last + 1, self.last_year)
            else:
                low = min(current.start_date.year, first)
                high = max(current.end_date.year, last)
                if (low, high) == (current.start_date.year, current.end_date.year):
                    return current
            return self._compile(low, high)

    def _grow_forward(self, stale: CompiledCalendar) -> CompiledCalendar:
        with self._lock:
            current = self._compiled
            assert current is not None
            if current is not stale:  # another thread already grew it
                return current
            low, high = current.start_date.year, current.end_date.year
            if high >= self.last_year:
                raise OutOfRange(f"the answer lies beyond the last supported year {self.last_year}")
            return self._compile(low, min(high + (high - low + 1), self.last_year))

    def _compile(self, low: int, high: int) -> CompiledCalendar:
        compiled = compile_calendar(self.spec, date(low, 1, 1), date(high, 12, 31))
        self._compiled = compiled
        return compiled

    def due(self, start: datetime, minutes: float) -> datetime:
        """See CompiledCalendar.due; raises OutOfRange only beyond the supported years."""
        compiled = self._compiled
        if compiled is not None:
            try:
                return compiled.due(start, minutes)
            except OutOfRange:
                pass
        epoch = _aware(start).timestamp()
        compiled = self._cover(epoch, epoch)
        while True:
            try:
                return compiled.due(start, minutes)
            except OutOfRange:
                compiled = self._grow_forward(compiled)

    def elapsed(self, a: datetime, b: datetime) -> float:
        """See CompiledCalendar.elapsed; raises OutOfRange only beyond the supported years."""
        compiled = self._compiled
        if compiled is not None:
            try:
                return compiled.elapsed(a, b)
            except OutOfRange:
                pass
        epochs = (_aware(a).timestamp(), _aware(b).timestamp())
        return self._cover(min(epochs), max(epochs)).elapsed(a, b)

    def deadline(self, start: datetime, minutes: float) -> Deadline:
        """`due` together with the years without holiday data that the span touches."""
        at = self.due(start, minutes)
        return Deadline(at, self.spec.uncovered_years(start, at))

    def uncovered_years(self, a: datetime, b: datetime) -> tuple[int, ...]:
        """See CalendarSpec.uncovered_years."""
        return self.spec.uncovered_years(a, b)

    # -- positions ----------------------------------------------------------------------------------
    #
    # A position is the working time, in seconds, from local midnight starting `epoch_year` (2020, or
    # the first supported year if that is later) to an instant (negative before it). It is fixed for a
    # given calendar: however the window grows; and a change to the calendar moves only the positions
    # of instants after the first day it changes.
    # So `due(start, minutes) == instant(position(start) + 60 * minutes)` for minutes > 0, and a
    # deadline stored as a position survives changes to the days after its start.

    def _offset(self, compiled: CompiledCalendar) -> float:
        """Working seconds from the epoch to the start of `compiled`'s window (negative before it)."""
        year = compiled.start_date.year
        cached = self._offsets.get(year)
        if cached is not None:
            return cached
        if year == self.epoch_year:
            offset = 0.0
        elif year > self.epoch_year:
            prefix = compile_calendar(self.spec, date(self.epoch_year, 1, 1), date(year - 1, 12, 31))
            offset = float(prefix.cumulative[-1])
        else:
            prefix = compile_calendar(self.spec, date(year, 1, 1), date(self.epoch_year - 1, 12, 31))
            offset = -float(prefix.cumulative[-1])
        self._offsets[year] = offset  # the same value whichever thread computes it
        return offset

    def position(self, moment: datetime) -> float:
        """The working seconds from the epoch to `moment`; raises OutOfRange beyond the supported years."""
        epoch = _aware(moment).timestamp()
        compiled = self._cover(epoch, epoch)
        return self._offset(compiled) + compiled._worked_before(compiled._epoch(moment))

    def positions_many(self, epochs: npt.ArrayLike) -> FloatArray:
        """Vectorised `position` on epoch seconds."""
        values = np.asarray(epochs, dtype=np.float64)
        compiled = self._cover_arrays(values)
        return self._offset(compiled) + compiled._worked_before_many(compiled._epochs(values, "epochs"))

    def _window_for(self, positions: FloatArray) -> tuple[CompiledCalendar, FloatArray]:
        """A window holding every position, and the positions as working seconds into it."""
        if not np.isfinite(positions).all():
            raise ValueError("positions must be finite")
        epoch = float(wall_to_epoch(self.zone, datetime(self.epoch_year, 1, 1)))
        compiled = self._compiled or self._cover(epoch, epoch)
        # Back a window's length at a time (at least a year) until the smallest position is inside.
        while float(positions.min()) <= self._offset(compiled) and compiled.start_date.year > self.first_year:
            span = compiled.end_date.year - compiled.start_date.year + 1
            back = max(compiled.start_date.year - span, self.first_year)
            earlier = float(wall_to_epoch(self.zone, datetime(back, 1, 1)))
            compiled = self._cover(earlier, float(compiled.window_end) - 1.0)
        while float(positions.max()) - self._offset(compiled) > compiled._cum[-1]:
            compiled = self._grow_forward(compiled)
        local = positions - self._offset(compiled)
        if float(local.min()) < 0.0:
            raise OutOfRange(f"a position lies before the first supported year {self.first_year}")
        return compiled, local

    def instant(self, position: float) -> datetime:
        """The earliest instant at which `position` working seconds have elapsed since the epoch, in UTC:
        a position at the end of a working interval is its closing time (not the next opening). Raises
        ValueError for a non-finite position, OutOfRange beyond the supported years, NoWorkingTime
        when the calendar has no hours."""
        return datetime.fromtimestamp(float(self.instants_many(np.array([position]))[0]), UTC)

    def instants_many(self, positions: npt.ArrayLike) -> FloatArray:
        """Vectorised `instant`: positions in, epoch seconds out."""
        values = np.asarray(positions, dtype=np.float64)
        if values.size == 0:
            return values.copy()
        if not self.spec.has_working_time:
            raise NoWorkingTime(f"calendar in {self.spec.tz} has no working hours on any weekday")
        compiled, local = self._window_for(values)
        if compiled._n == 0:
            raise OutOfRange("no working time in the supported years")
        j = np.minimum(np.searchsorted(compiled._cum_end_f, local, side="left"), compiled._n - 1)
        return compiled._starts_f[j] + (local - compiled._cum_f[j])

    def _cover_arrays(self, *arrays: FloatArray) -> CompiledCalendar:
        if not all(array.size for array in arrays):
            now = datetime.now(UTC).timestamp()
            return self._compiled or self._cover(now, now)
        if not all(np.isfinite(array).all() for array in arrays):
            raise OutOfRange("instants must be finite epoch seconds")
        low = min(float(array.min()) for array in arrays)
        high = max(float(array.max()) for array in arrays)
        return self._cover(low, high)

    def due_many(self, starts: npt.ArrayLike, seconds: npt.ArrayLike) -> FloatArray:
        """See CompiledCalendar.due_many; raises OutOfRange only beyond the supported years."""
        epochs = np.asarray(starts, dtype=np.float64)
        compiled = self._cover_arrays(epochs)
        while True:
            try:
                return compiled.due_many(epochs, seconds)
            except OutOfRange:
                compiled = self._grow_forward(compiled)

    def elapsed_many(self, a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
        """See CompiledCalendar.elapsed_many (working seconds); OutOfRange beyond the supported years."""
        first, last = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return self._cover_arrays(first, last).elapsed_many(first, last)

    def uncovered_many(self, a: npt.ArrayLike, b: npt.ArrayLike) -> BoolArray:
        """See CompiledCalendar.uncovered_many."""
        first, last = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return self._cover_arrays(first, last).uncovered_many(first, last)


__all__: Sequence[str] = (
    "EVERYTHING",
    "FIRST_YEAR",
    "LAST_YEAR",
    "BusinessTime",
    "BusinessTimeError",
    "CalendarSpec",
    "ChangedDays",
    "CompiledCalendar",
    "Deadline",
    "NoWorkingTime",
    "OutOfRange",
    "changed_days",
    "compile_calendar",
    "format_intervals",
    "parse_interval",
    "parse_intervals",
    "parse_weekly",
    "spec_from_data",
    "spec_to_data",
    "wall_to_epoch",
    "weekly_from",
)
