"""Business time: worked examples, daylight saving, holidays, arrays, and a minute-by-minute oracle."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pledge.lib import holidays_cn
from pledge.lib.businesstime import (
    BusinessTime,
    CalendarSpec,
    CompiledCalendar,
    NoWorkingTime,
    OutOfRange,
    compile_calendar,
    format_intervals,
    parse_interval,
    parse_intervals,
    parse_weekly,
    wall_to_epoch,
    weekly_from,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE_HOURS = "09:00-12:00, 13:00-18:00"
OFFICE = CalendarSpec("Asia/Shanghai", weekly_from(range(5), OFFICE_HOURS))
CN_OFFICE = holidays_cn.attach(OFFICE, holidays_cn.builtin())

# Deterministic and database-free, so CI runs the same examples every time.
PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def examples(count: int) -> settings:
    return settings(PROPERTY, max_examples=count)


def at(
    zone: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    fold: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone, fold=fold)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return at(SHANGHAI, year, month, day, hour, minute, second)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def compiled(
    spec: CalendarSpec, first: date = date(2025, 12, 1), last: date = date(2027, 1, 31)
) -> CompiledCalendar:
    return compile_calendar(spec, first, last)


def worked_on(calendar: CompiledCalendar | BusinessTime, zone: ZoneInfo, day: date) -> float:
    after = day + timedelta(days=1)
    return calendar.elapsed(
        at(zone, day.year, day.month, day.day), at(zone, after.year, after.month, after.day)
    )


# ---------------------------------------------------------------------------------------------------
# Parsing and the spec


def test_parse_interval_reads_minutes_of_the_day() -> None:
    assert parse_interval("09:00-12:00") == (540, 720)
    assert parse_interval(" 22:00 - 06:00 ") == (1320, 360)
    assert parse_interval("00:00-24:00") == (0, 1440)
    assert parse_interval("9:30～17:45") == (570, 1065)
    assert parse_intervals("09:00-12:00, 13:00-18:00") == ((540, 720), (780, 1080))
    assert parse_intervals("  ") == ()
    assert format_intervals(parse_intervals(OFFICE_HOURS)) == OFFICE_HOURS


@pytest.mark.parametrize(
    "text", ["9-12", "09:00-25:00", "24:00-02:00", "09:60-10:00", "09:00-24:30", "", "09:00_12:00"]
)
def test_parse_interval_names_the_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="bad working interval") as caught:
        parse_interval(text)
    assert repr(text) in str(caught.value)


def test_parse_weekly_names_the_weekday() -> None:
    assert parse_weekly({0: OFFICE_HOURS, 6: ""}) == {0: ((540, 720), (780, 1080)), 6: ()}
    with pytest.raises(ValueError, match=r"weekday 2: bad working interval '13:00-1800'"):
        parse_weekly({2: "09:00-12:00, 13:00-1800"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"weekly": {7: ((540, 600),)}}, "weekly: weekday must be an integer 0-6"),
        ({"weekly": {0: ((540, 1441),)}}, r"weekly\[0\]: bad interval \(540, 1441\)"),
        ({"weekly": {0: ((1440, 60),)}}, r"weekly\[0\]: bad interval"),
        ({"makeup_workdays": {date(2026, 2, 14): 9}}, r"makeup_workdays\[2026-02-14\]"),
        ({"holidays": frozenset({"2026-10-01"})}, "holidays: expected dates"),
    ],
)
def test_spec_rejects_bad_fields(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"tz": "Asia/Shanghai", "weekly": {0: ((540, 600),)}} | kwargs
    with pytest.raises(ValueError, match=message):
        CalendarSpec(**fields)  # type: ignore[arg-type]


def test_spec_is_immutable_and_hashable() -> None:
    weekly = weekly_from(range(5), OFFICE_HOURS)
    spec = CalendarSpec("Asia/Shanghai", weekly)
    weekly[5] = parse_intervals("09:00-10:00")
    assert 5 not in spec.weekly
    assert spec == OFFICE
    assert hash(spec) == hash(OFFICE)
    assert len({spec, OFFICE, CN_OFFICE}) == 2


# ---------------------------------------------------------------------------------------------------
# An office with a lunch break


def test_four_hours_from_eleven_skip_lunch_and_are_due_at_sixteen() -> None:
    office = compiled(OFFICE)
    assert office.due(sh(2026, 5, 6, 11, 0), 240) == sh(2026, 5, 6, 16, 0)


def test_target_running_out_at_closing_time_is_due_at_closing_time() -> None:
    office = compiled(OFFICE)
    assert office.due(sh(2026, 5, 6, 9, 0), 480) == sh(2026, 5, 6, 18, 0)
    assert office.due(sh(2026, 5, 6, 17, 0), 60) == sh(2026, 5, 6, 18, 0)
    assert office.due(sh(2026, 5, 6, 11, 0), 60) == sh(2026, 5, 6, 12, 0)
    assert office.due(sh(2026, 5, 6, 18, 0), 1) == sh(2026, 5, 7, 9, 1)


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (sh(2026, 5, 6, 12, 30), 30, sh(2026, 5, 6, 13, 30)),  # in the lunch break
        (sh(2026, 5, 6, 7, 0), 60, sh(2026, 5, 6, 10, 0)),  # before opening
        (sh(2026, 5, 6, 19, 0), 60, sh(2026, 5, 7, 10, 0)),  # after closing
        (sh(2026, 5, 16, 10, 0), 60, sh(2026, 5, 18, 10, 0)),  # Saturday
        (sh(2026, 5, 6, 10, 0), 60, sh(2026, 5, 6, 11, 0)),  # inside working time
        (sh(2026, 5, 8, 17, 30), 90, sh(2026, 5, 11, 10, 0)),  # over a weekend
    ],
)
def test_start_inside_and_outside_working_time(start: datetime, minutes: int, expected: datetime) -> None:
    assert compiled(OFFICE).due(start, minutes) == expected


def test_zero_minutes_is_due_at_the_start_itself() -> None:
    office = compiled(OFFICE)
    saturday = sh(2026, 5, 16, 10, 0)
    assert office.due(saturday, 0) == saturday
    assert office.due(sh(2026, 5, 6, 10, 0), 0.0) == sh(2026, 5, 6, 10, 0)


def test_fractional_minutes_and_seconds() -> None:
    office = compiled(OFFICE)
    assert office.due(sh(2026, 5, 6, 9, 0), 0.5) == sh(2026, 5, 6, 9, 0, 30)
    assert office.due(sh(2026, 5, 6, 9, 0), 1 / 3) == sh(2026, 5, 6, 9, 0, 20)
    assert office.due(sh(2026, 5, 6, 11, 59, 30), 1.25) == sh(2026, 5, 6, 13, 0, 45)
    start = datetime(2026, 5, 6, 10, 0, 0, 250_000, tzinfo=SHANGHAI)
    assert office.due(start, 0.001) == datetime(2026, 5, 6, 10, 0, 0, 310_000, tzinfo=SHANGHAI)
    assert office.elapsed(sh(2026, 5, 6, 11, 59, 30), sh(2026, 5, 6, 13, 0, 45)) == pytest.approx(1.25)


def test_results_are_aware_utc() -> None:
    result = compiled(OFFICE).due(sh(2026, 5, 6, 11, 0), 240)
    assert result.tzinfo is UTC
    assert result == utc(2026, 5, 6, 8, 0)


@pytest.mark.parametrize("minutes", [-1, -0.001, math.nan, math.inf])
def test_negative_or_non_finite_minutes_are_refused(minutes: float) -> None:
    with pytest.raises(ValueError, match="minutes must be finite and >= 0"):
        compiled(OFFICE).due(sh(2026, 5, 6, 11, 0), minutes)


def test_naive_datetimes_are_refused() -> None:
    office = compiled(OFFICE)
    naive = datetime(2026, 5, 6, 11, 0)
    with pytest.raises(ValueError, match="naive datetime"):
        office.due(naive, 60)
    with pytest.raises(ValueError, match="naive datetime"):
        office.elapsed(sh(2026, 5, 6, 11, 0), naive)
    with pytest.raises(ValueError, match="naive datetime"):
        BusinessTime(OFFICE).due(naive, 60)


def test_elapsed_skips_lunch_and_weekends_and_is_negative_backwards() -> None:
    office = compiled(OFFICE)
    assert office.elapsed(sh(2026, 5, 6, 11, 0), sh(2026, 5, 6, 14, 0)) == 120
    assert office.elapsed(sh(2026, 5, 8, 17, 0), sh(2026, 5, 11, 10, 0)) == 120
    assert office.elapsed(sh(2026, 5, 11, 10, 0), sh(2026, 5, 8, 17, 0)) == -120
    assert office.elapsed(sh(2026, 5, 16, 0, 0), sh(2026, 5, 17, 23, 0)) == 0


# ---------------------------------------------------------------------------------------------------
# A night shift across midnight

NIGHT = CalendarSpec("Asia/Shanghai", {0: parse_intervals("22:00-06:00")})


def test_night_shift_runs_into_the_next_morning() -> None:
    night = compiled(NIGHT)
    # 2026-03-09 is a Monday.
    assert night.elapsed(sh(2026, 3, 9, 0, 0), sh(2026, 3, 11, 0, 0)) == 480
    assert night.elapsed(sh(2026, 3, 9, 22, 0), sh(2026, 3, 10, 6, 0)) == 480
    assert night.due(sh(2026, 3, 10, 5, 0), 60) == sh(2026, 3, 10, 6, 0)
    assert night.due(sh(2026, 3, 10, 5, 30), 60) == sh(2026, 3, 16, 22, 30)


def test_sunday_night_before_a_monday_shift_is_not_worked() -> None:
    night = compiled(NIGHT)
    assert night.due(sh(2026, 3, 8, 23, 0), 60) == sh(2026, 3, 9, 23, 0)
    assert night.elapsed(sh(2026, 3, 8, 0, 0), sh(2026, 3, 9, 0, 0)) == 0


def test_sunday_night_shift_reaches_into_a_window_that_starts_on_monday() -> None:
    sunday_night = CalendarSpec("Asia/Shanghai", {6: parse_intervals("22:00-06:00")})
    window = compile_calendar(sunday_night, date(2026, 3, 9), date(2026, 3, 13))
    assert window.elapsed(sh(2026, 3, 9, 0, 0), sh(2026, 3, 9, 12, 0)) == 360
    assert window.due(sh(2026, 3, 9, 0, 0), 360) == sh(2026, 3, 9, 6, 0)


def test_holiday_on_the_start_day_removes_the_whole_shift() -> None:
    monday_off = compiled(CalendarSpec("Asia/Shanghai", NIGHT.weekly, holidays=frozenset({date(2026, 3, 9)})))
    assert monday_off.elapsed(sh(2026, 3, 9, 0, 0), sh(2026, 3, 11, 0, 0)) == 0
    assert monday_off.due(sh(2026, 3, 9, 21, 0), 60) == sh(2026, 3, 16, 23, 0)
    tuesday_off = compiled(
        CalendarSpec("Asia/Shanghai", NIGHT.weekly, holidays=frozenset({date(2026, 3, 10)}))
    )
    assert tuesday_off.elapsed(sh(2026, 3, 9, 0, 0), sh(2026, 3, 11, 0, 0)) == 480


def test_overlapping_and_touching_intervals_are_merged() -> None:
    spec = CalendarSpec("Asia/Shanghai", parse_weekly({0: "22:00-06:00", 1: "06:00-09:00, 05:00-07:00"}))
    cal = compiled(spec)
    assert cal.elapsed(sh(2026, 3, 9, 0, 0), sh(2026, 3, 11, 0, 0)) == 11 * 60
    monday = wall_to_epoch(SHANGHAI, datetime(2026, 3, 9, 22, 0))
    index = int(np.searchsorted(cal.starts, monday))
    assert (cal.starts[index], cal.ends[index]) == (monday, monday + 11 * 3600)


# ---------------------------------------------------------------------------------------------------
# Daylight saving in Berlin (2026-03-29 spring forward, 2026-10-25 fall back, both Sundays)

BERLIN_DAYS = CalendarSpec("Europe/Berlin", weekly_from(range(7), "09:00-17:00"))
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)


@pytest.mark.parametrize("day", [SPRING, AUTUMN])
def test_wall_clock_hours_hold_on_both_change_days(day: date) -> None:
    berlin = compiled(BERLIN_DAYS)
    assert worked_on(berlin, BERLIN, day) == 480
    start = at(BERLIN, day.year, day.month, day.day)
    assert berlin.due(start, 480) == at(BERLIN, day.year, day.month, day.day, 17)
    assert berlin.due(start, 1) == at(BERLIN, day.year, day.month, day.day, 9, 1)


def test_nine_o_clock_moves_in_utc_across_the_change() -> None:
    berlin = compiled(BERLIN_DAYS)
    assert berlin.due(at(BERLIN, 2026, 3, 28), 0.5) == utc(2026, 3, 28, 8, 0, 30)
    assert berlin.due(at(BERLIN, 2026, 3, 29), 0.5) == utc(2026, 3, 29, 7, 0, 30)
    assert berlin.due(at(BERLIN, 2026, 10, 25), 0.5) == utc(2026, 10, 25, 8, 0, 30)


def test_elapsed_across_the_change() -> None:
    berlin = compiled(BERLIN_DAYS)
    assert berlin.elapsed(at(BERLIN, 2026, 3, 28, 16), at(BERLIN, 2026, 3, 29, 10)) == 120
    assert berlin.elapsed(at(BERLIN, 2026, 10, 24, 16), at(BERLIN, 2026, 10, 25, 10)) == 120
    assert berlin.elapsed(at(BERLIN, 2026, 3, 27, 9), at(BERLIN, 2026, 3, 31, 17)) == 5 * 480
    around_the_clock = compiled(CalendarSpec("Europe/Berlin", weekly_from(range(7), "00:00-24:00")))
    assert worked_on(around_the_clock, BERLIN, SPRING) == 23 * 60
    assert worked_on(around_the_clock, BERLIN, AUTUMN) == 25 * 60


def test_night_shift_over_the_change_is_shorter_or_longer_in_real_time() -> None:
    night = compiled(CalendarSpec("Europe/Berlin", {5: parse_intervals("22:00-06:00")}))
    assert night.elapsed(at(BERLIN, 2026, 3, 28), at(BERLIN, 2026, 3, 30)) == 7 * 60
    assert night.elapsed(at(BERLIN, 2026, 10, 24), at(BERLIN, 2026, 10, 26)) == 9 * 60
    assert night.due(at(BERLIN, 2026, 10, 24, 22), 9 * 60) == at(BERLIN, 2026, 10, 25, 6)


def test_boundary_in_the_gap_moves_forward_to_the_jump() -> None:
    assert wall_to_epoch(BERLIN, datetime(2026, 3, 29, 2, 30)) == utc(2026, 3, 29, 1, 0).timestamp()
    sunday = compiled(CalendarSpec("Europe/Berlin", {6: parse_intervals("02:30-04:00")}))
    assert worked_on(sunday, BERLIN, SPRING) == 60
    assert sunday.due(at(BERLIN, 2026, 3, 29), 1) == at(BERLIN, 2026, 3, 29, 3, 1)
    inside_the_gap = compiled(CalendarSpec("Europe/Berlin", {6: parse_intervals("02:00-02:45")}))
    assert worked_on(inside_the_gap, BERLIN, SPRING) == 0
    assert worked_on(inside_the_gap, BERLIN, date(2026, 3, 22)) == 45


def test_boundary_in_the_fold_takes_the_first_occurrence() -> None:
    assert wall_to_epoch(BERLIN, datetime(2026, 10, 25, 2, 30)) == utc(2026, 10, 25, 0, 30).timestamp()
    sunday = compiled(CalendarSpec("Europe/Berlin", {6: parse_intervals("02:30-03:30")}))
    assert worked_on(sunday, BERLIN, AUTUMN) == 120
    # Compared in UTC: Python never calls a time in a fold equal to one in another zone.
    assert sunday.due(at(BERLIN, 2026, 10, 25), 60) == at(BERLIN, 2026, 10, 25, 2, 30, fold=1).astimezone(UTC)
    repeated = compiled(CalendarSpec("Europe/Berlin", {6: parse_intervals("02:00-02:30")}))
    assert worked_on(repeated, BERLIN, AUTUMN) == 30
    assert repeated.due(at(BERLIN, 2026, 10, 25), 30) == utc(2026, 10, 25, 0, 30)


def test_instants_in_the_second_pass_of_the_fold_are_read_correctly() -> None:
    around_the_clock = compiled(CalendarSpec("Europe/Berlin", weekly_from(range(7), "00:00-24:00")))
    first = at(BERLIN, 2026, 10, 25, 2, 15)
    second = at(BERLIN, 2026, 10, 25, 2, 15, fold=1)
    assert around_the_clock.elapsed(first, second) == 60


# ---------------------------------------------------------------------------------------------------
# Chinese statutory holidays on a cn-office calendar


@pytest.mark.parametrize(
    ("day", "minutes"),
    [
        (date(2026, 2, 13), 480),  # Friday before the Spring Festival
        (date(2026, 2, 14), 480),  # Saturday, make-up workday
        *[(date(2026, 2, d), 0) for d in range(15, 24)],  # 2月15日–23日 off
        (date(2026, 2, 24), 480),
        (date(2026, 2, 28), 480),  # Saturday, make-up workday
        (date(2026, 3, 1), 0),
        (date(2026, 9, 19), 0),
        (date(2026, 9, 20), 480),  # Sunday, make-up workday
        *[(date(2026, 10, d), 0) for d in range(1, 8)],  # 10月1日–7日 off
        (date(2026, 10, 8), 480),
        (date(2026, 10, 10), 480),  # Saturday, make-up workday
        (date(2026, 10, 11), 0),
    ],
)
def test_spring_festival_and_national_day_2026(day: date, minutes: int) -> None:
    assert worked_on(compiled(CN_OFFICE), SHANGHAI, day) == minutes


def test_deadlines_jump_the_spring_festival_and_national_day() -> None:
    cn = compiled(CN_OFFICE)
    assert cn.due(sh(2026, 2, 13, 17, 0), 120) == sh(2026, 2, 14, 10, 0)
    assert cn.due(sh(2026, 2, 14, 17, 0), 120) == sh(2026, 2, 24, 10, 0)
    assert cn.elapsed(sh(2026, 2, 14, 18, 0), sh(2026, 2, 24, 9, 0)) == 0
    assert cn.due(sh(2026, 9, 30, 17, 0), 120) == sh(2026, 10, 8, 10, 0)
    assert cn.due(sh(2026, 10, 9, 17, 0), 120) == sh(2026, 10, 10, 10, 0)


def test_an_inactive_holiday_is_a_normal_day() -> None:
    cal = compiled(holidays_cn.attach(OFFICE, holidays_cn.builtin(), inactive={date(2026, 10, 1)}))
    assert worked_on(cal, SHANGHAI, date(2026, 10, 1)) == 480
    assert worked_on(cal, SHANGHAI, date(2026, 10, 2)) == 0


def test_make_up_day_can_work_another_weekdays_hours() -> None:
    short_friday = CalendarSpec(
        "Asia/Shanghai", weekly_from(range(4), OFFICE_HOURS) | {4: parse_intervals("09:00-15:00")}
    )
    as_friday = compiled(holidays_cn.attach(short_friday, holidays_cn.builtin(makeup_weekday=4)))
    assert worked_on(as_friday, SHANGHAI, date(2026, 2, 14)) == 360
    as_monday = compiled(holidays_cn.attach(short_friday, holidays_cn.builtin()))
    assert worked_on(as_monday, SHANGHAI, date(2026, 2, 14)) == 480


def test_a_company_holiday_on_a_make_up_day_wins() -> None:
    spec = holidays_cn.attach(
        CalendarSpec("Asia/Shanghai", OFFICE.weekly, holidays=frozenset({date(2026, 2, 14)})),
        holidays_cn.builtin(),
    )
    assert worked_on(compiled(spec), SHANGHAI, date(2026, 2, 14)) == 0


def test_deadline_reaching_into_a_year_without_data_is_flagged() -> None:
    next_year = max(holidays_cn.covered_years()) + 1  # 2027 with chinesecalendar 1.11
    cn = BusinessTime(CN_OFFICE)
    start = sh(next_year - 1, 12, 30, 9, 0)
    deadline = cn.deadline(start, 5 * 480)
    assert deadline.at.astimezone(SHANGHAI).year == next_year
    assert deadline.uncovered_years == (next_year,)
    assert deadline.provisional
    assert cn.uncovered_years(start, deadline.at) == (next_year,)
    assert cn.uncovered_years(sh(next_year - 1, 6, 1), sh(next_year - 1, 12, 31, 23, 59)) == ()
    assert not cn.deadline(sh(next_year - 1, 6, 1, 9), 60).provisional
    assert cn.uncovered_years(sh(2003, 12, 1), sh(2004, 1, 5)) == (2003,)
    # Without a holiday set there is nothing to miss.
    assert BusinessTime(OFFICE).deadline(start, 5 * 480).uncovered_years == ()


def test_uncovered_many_agrees_with_uncovered_years() -> None:
    cn = compiled(CN_OFFICE, date(2025, 1, 1), date(2028, 12, 31))
    points = [sh(2026, 6, 1), sh(2026, 12, 31, 23, 59), sh(2027, 1, 1), sh(2027, 7, 1), sh(2028, 3, 3)]
    a = np.array([p.timestamp() for p in points for _ in points])
    b = np.array([q.timestamp() for _ in points for q in points])
    expected = [bool(cn.uncovered_years(p, q)) for p in points for q in points]
    assert cn.uncovered_many(a, b).tolist() == expected
    assert not compiled(OFFICE).uncovered_many(b[:3], b[:3]).any()


# ---------------------------------------------------------------------------------------------------
# Windows, errors and the lazy wrapper


def test_compiled_calendar_refuses_instants_and_answers_outside_its_window() -> None:
    week = compile_calendar(OFFICE, date(2026, 5, 4), date(2026, 5, 8))
    with pytest.raises(OutOfRange, match="outside the compiled window"):
        week.due(sh(2026, 5, 3, 23, 0), 60)
    with pytest.raises(OutOfRange, match="run past the compiled window"):
        week.due(sh(2026, 5, 8, 17, 0), 61)
    assert week.due(sh(2026, 5, 8, 17, 0), 60) == sh(2026, 5, 8, 18, 0)
    assert week.due(sh(2026, 5, 9, 0, 0), 0) == sh(2026, 5, 9, 0, 0)
    with pytest.raises(OutOfRange):
        week.elapsed(sh(2026, 5, 4, 9, 0), sh(2026, 5, 9, 0, 1))
    with pytest.raises(OutOfRange):
        week.due_many([sh(2026, 5, 8, 17, 0).timestamp()], [3660])
    with pytest.raises(ValueError, match="before start_date"):
        compile_calendar(OFFICE, date(2026, 5, 8), date(2026, 5, 4))


def test_a_calendar_without_working_time_raises_instead_of_looping() -> None:
    nothing = CalendarSpec("Asia/Shanghai", {})
    with pytest.raises(NoWorkingTime, match="no working hours"):
        compiled(nothing).due(sh(2026, 5, 6), 1)
    with pytest.raises(NoWorkingTime):
        BusinessTime(nothing).due(sh(2026, 5, 6), 1)
    with pytest.raises(NoWorkingTime):
        BusinessTime(nothing).due_many([sh(2026, 5, 6).timestamp()], [60])
    assert BusinessTime(nothing).due(sh(2026, 5, 6), 0) == sh(2026, 5, 6)
    assert BusinessTime(nothing).elapsed(sh(2026, 5, 6), sh(2026, 6, 6)) == 0


def test_business_time_compiles_lazily_and_grows_its_window() -> None:
    cal = BusinessTime(OFFICE)
    assert cal.compiled is None
    assert cal.due(sh(2026, 5, 6, 11, 0), 240) == sh(2026, 5, 6, 16, 0)
    assert cal.compiled is not None
    assert (cal.compiled.start_date, cal.compiled.end_date) == (date(2025, 1, 1), date(2027, 12, 31))
    # About five years of office hours: the answer runs past the window, which doubles forward.
    far = cal.due(sh(2026, 5, 6, 11, 0), 5 * 250 * 480)
    assert far.year == 2031
    assert cal.compiled.end_date.year >= 2031
    assert cal.elapsed(sh(2004, 1, 5, 9, 0), sh(2004, 1, 5, 10, 0)) == 60
    assert cal.compiled.start_date == date(2004, 1, 1)
    assert cal.due(sh(2100, 12, 31, 17, 0), 60) == sh(2100, 12, 31, 18, 0)
    with pytest.raises(OutOfRange, match="beyond the last supported year 2100"):
        cal.due(sh(2100, 12, 31, 17, 0), 61)
    with pytest.raises(OutOfRange, match="outside the supported years"):
        cal.due(sh(2101, 1, 3, 9, 0), 1)


def test_business_time_arrays_grow_the_window_too() -> None:
    cal = BusinessTime(OFFICE)
    starts = np.array([sh(2026, 5, 6, 11, 0).timestamp(), sh(2040, 5, 7, 11, 0).timestamp()])
    due = cal.due_many(starts, [4 * 3600, 600 * 3600])
    assert due[0] == sh(2026, 5, 6, 16, 0).timestamp()
    assert cal.elapsed_many(starts, due).tolist() == [4 * 3600, 600 * 3600]
    assert cal.due_many(np.array([]), np.array([])).shape == (0,)


def test_arrays_agree_with_single_calls() -> None:
    cal = BusinessTime(CN_OFFICE)
    rng = np.random.default_rng(20260215)
    low, high = sh(2026, 1, 1).timestamp(), sh(2026, 12, 1).timestamp()
    starts = np.round(rng.uniform(low, high, 400), 3)
    seconds = rng.choice([0.0, 1.0, 90.5, 3600.0, 8 * 3600.0, 40 * 3600.0], 400) + rng.uniform(0, 60, 400) * (
        rng.random(400) < 0.5
    )
    seconds[::7] = 0.0
    due = cal.due_many(starts, seconds)
    for start, amount, answer in zip(starts, seconds, due, strict=True):
        single = cal.due(datetime.fromtimestamp(start, SHANGHAI), amount / 60)
        assert single.timestamp() == pytest.approx(answer, abs=2e-6)
    assert cal.elapsed_many(starts, due) == pytest.approx(seconds, abs=1e-5)
    ends = starts + rng.uniform(-20 * 86400, 20 * 86400, 400)
    elapsed = cal.elapsed_many(starts, ends)
    for start, end, worked in zip(starts, ends, elapsed, strict=True):
        minutes = cal.elapsed(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        assert minutes * 60 == pytest.approx(worked, abs=1e-5)


def test_arrays_refuse_negative_seconds() -> None:
    with pytest.raises(ValueError, match="seconds must be finite"):
        BusinessTime(OFFICE).due_many([sh(2026, 5, 6).timestamp()], [-1.0])


# ---------------------------------------------------------------------------------------------------
# Properties


@examples(300)
@given(
    start=st.integers(int(sh(2026, 1, 1).timestamp()), int(sh(2026, 12, 1).timestamp())),
    micros=st.integers(0, 999_999),
    minutes=st.one_of(st.integers(0, 5000), st.floats(0, 5000, allow_nan=False)),
    spec=st.sampled_from([CN_OFFICE, NIGHT, BERLIN_DAYS]),
)
def test_elapsed_inverts_due(start: int, micros: int, minutes: float, spec: CalendarSpec) -> None:
    cal = _business_time(spec)
    moment = datetime.fromtimestamp(start, UTC) + timedelta(microseconds=micros)
    due = cal.due(moment, minutes)
    assert due >= moment
    assert cal.elapsed(moment, due) == pytest.approx(minutes, abs=1e-7)
    # Nothing earlier would do: a microsecond before the answer the target is not yet met.
    if minutes > 1e-6:
        assert cal.elapsed(moment, due - timedelta(microseconds=2)) < minutes
    # The other way round: the working time up to any later instant is due no later than it.
    later = moment + timedelta(minutes=minutes)
    assert cal.due(moment, cal.elapsed(moment, later)) <= later + timedelta(microseconds=1)


@examples(300)
@given(
    start=st.integers(int(sh(2015, 1, 1).timestamp()), int(sh(2030, 12, 1).timestamp())),
    micros=st.integers(0, 999_999),
    minutes=st.one_of(st.integers(1, 20_000), st.floats(1e-3, 20_000, allow_nan=False)),
    later=st.integers(0, 400 * 86_400),
    spec=st.sampled_from([CN_OFFICE, NIGHT, BERLIN_DAYS]),
)
def test_positions_are_working_time_from_a_fixed_epoch(
    start: int, micros: int, minutes: float, later: int, spec: CalendarSpec
) -> None:
    cal = _business_time(spec)
    moment = datetime.fromtimestamp(start, UTC) + timedelta(microseconds=micros)
    position = cal.position(moment)
    # A deadline is the instant of the start's position plus the target.
    assert cal.instant(position + minutes * 60.0).timestamp() == pytest.approx(
        cal.due(moment, minutes).timestamp(), abs=1e-5
    )
    # Differences of positions are elapsed working time, so positions only grow.
    other = moment + timedelta(seconds=later)
    assert cal.position(other) - position == pytest.approx(cal.elapsed(moment, other) * 60.0, abs=1e-5)
    # A fresh calendar, whose window starts elsewhere, gives the same position: the epoch is fixed.
    assert BusinessTime(spec).position(moment) == pytest.approx(position, abs=1e-6)
    # Arrays agree with single calls.
    assert cal.positions_many([moment.timestamp()])[0] == pytest.approx(position, abs=1e-6)
    assert cal.instants_many([position + 60.0 * minutes])[0] == pytest.approx(
        cal.instant(position + 60.0 * minutes).timestamp(), abs=1e-6
    )


def test_positions_count_from_midnight_starting_the_epoch_year() -> None:
    cal = BusinessTime(OFFICE)
    assert cal.position(sh(2020, 1, 1)) == 0.0
    # 2020-01-01 is a Wednesday: 8 working hours on each of its three weekdays to Friday night.
    assert cal.position(sh(2020, 1, 4)) == 3 * 8 * 3600.0
    assert cal.position(sh(2019, 12, 31, 18, 0)) == 0.0  # closing time before the epoch
    assert cal.position(sh(2019, 12, 31, 13, 0)) == -5 * 3600.0
    # A position at the end of a working day is its closing time, not the next opening.
    assert cal.instant(8 * 3600.0) == sh(2020, 1, 1, 18, 0)
    assert cal.instant(8 * 3600.0 + 1) == sh(2020, 1, 2, 9, 0, 1)


def test_a_holiday_moves_only_the_positions_after_it() -> None:
    before = BusinessTime(CN_OFFICE)
    after = BusinessTime(replace(CN_OFFICE, holidays=CN_OFFICE.holidays | {date(2026, 11, 24)}))
    monday = sh(2026, 11, 23, 10, 0)
    assert after.position(monday) == before.position(monday)
    wednesday = sh(2026, 11, 25, 10, 0)
    assert before.position(wednesday) - after.position(wednesday) == 8 * 3600.0
    # So a deadline kept as a position stays valid; its instant moves by the day off.
    due = before.position(monday) + 16 * 3600.0
    assert (before.instant(due), after.instant(due)) == (sh(2026, 11, 25, 10, 0), sh(2026, 11, 26, 10, 0))


def test_instants_compile_only_the_years_they_need() -> None:
    cal = BusinessTime(OFFICE)
    assert cal.instant(8 * 3600.0) == sh(2020, 1, 1, 18, 0)
    assert cal.compiled is not None and cal.compiled.start_date.year >= 2019  # not back to 1970
    # Before the epoch: one window back; -5 h is reached at the morning's closing time (lunch follows).
    assert cal.instant(-5 * 3600.0) == sh(2019, 12, 31, 12, 0)
    assert cal.compiled.start_date.year >= 2017
    assert cal.instants_many([]).size == 0


def test_positions_outside_the_supported_years_are_refused() -> None:
    cal = BusinessTime(OFFICE, first_year=2019, last_year=2021)
    with pytest.raises(OutOfRange):
        cal.instant(-(10.0**12))
    with pytest.raises(OutOfRange):
        cal.instant(10.0**12)
    with pytest.raises(ValueError, match="finite"):
        cal.instants_many([math.inf])
    with pytest.raises(NoWorkingTime):
        BusinessTime(CalendarSpec("UTC", {})).instant(1.0)


@cache
def _business_time(spec: CalendarSpec) -> BusinessTime:
    return BusinessTime(spec)


# ---------------------------------------------------------------------------------------------------
# The brute-force oracle. It is written from the definitions, sharing nothing with the module:
# each day's hours come from its own rule, each boundary is found by scanning UTC minutes for the
# first one whose wall clock shows that time or later, and work is walked one minute at a time.

EPOCH = datetime(1970, 1, 1)


def _minutes_of(text: str) -> list[tuple[int, int]]:
    result = []
    for part in text.split(","):
        if part.strip():
            first, last = part.strip().split("-")
            start = int(first[:2]) * 60 + int(first[3:])
            end = int(last[:2]) * 60 + int(last[3:])
            result.append((start, end if end > start else end + 1440))
    return result


@cache
def _offset_range(zone_name: str) -> tuple[int, int]:
    zone = ZoneInfo(zone_name)
    base = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    offsets = set()
    for hour in range(0, 3 * 366 * 24):
        offset = datetime.fromtimestamp(base + hour * 3600, zone).utcoffset()
        assert offset is not None
        offsets.add(int(offset.total_seconds()) // 60)
    return min(offsets), max(offsets)


@dataclass
class Oracle:
    """Working UTC minutes of the days first..last, clipped to their local midnights."""

    zone_name: str
    hours_for: Callable[[date], list[tuple[int, int]]]
    first: date
    last: date

    def __post_init__(self) -> None:
        self.zone = ZoneInfo(self.zone_name)
        self.low_offset, self.high_offset = _offset_range(self.zone_name)
        self.begin = self.first_minute_showing(datetime.combine(self.first, datetime.min.time()))
        self.end = self.first_minute_showing(
            datetime.combine(self.last + timedelta(days=1), datetime.min.time())
        )
        self.work = bytearray(self.end - self.begin)
        day = self.first - timedelta(days=1)
        while day <= self.last:
            midnight = datetime.combine(day, datetime.min.time())
            for start, end in self.hours_for(day):
                a = max(self.first_minute_showing(midnight + timedelta(minutes=start)), self.begin)
                b = min(self.first_minute_showing(midnight + timedelta(minutes=end)), self.end)
                for minute in range(a, b):
                    self.work[minute - self.begin] = 1
            day += timedelta(days=1)

    def first_minute_showing(self, wall: datetime) -> int:
        naive = int((wall - EPOCH).total_seconds()) // 60
        for minute in range(naive - self.high_offset, naive - self.low_offset + 1):
            if datetime.fromtimestamp(minute * 60, self.zone).replace(tzinfo=None) >= wall:
                return minute
        raise AssertionError(f"no instant shows {wall}")

    def due(self, start: int, minutes: int) -> int | None:
        """The minute index at which `minutes` working minutes have passed, None past the end."""
        if minutes == 0:
            return start
        counted = 0
        for minute in range(start, self.end):
            counted += self.work[minute - self.begin]
            if counted == minutes:
                return minute + 1
        return None

    def elapsed(self, a: int, b: int) -> int:
        low, high = min(a, b), max(a, b)
        worked = sum(self.work[low - self.begin : high - self.begin])
        return worked if b >= a else -worked


def _weekly_rule(
    weekly: dict[int, str], holidays: frozenset[date] = frozenset(), makeups: dict[date, int] | None = None
) -> Callable[[date], list[tuple[int, int]]]:
    makeups = makeups or {}

    def hours_for(day: date) -> list[tuple[int, int]]:
        if day in holidays:
            return []
        return _minutes_of(weekly.get(makeups.get(day, day.weekday()), ""))

    return hours_for


def _cn_rule(day: date) -> list[tuple[int, int]]:
    # Straight from chinese_calendar: a working day works Monday-to-Friday office hours.
    if day.year not in range(2004, 2027) or not chinese_calendar.is_workday(day):
        return []
    return _minutes_of(OFFICE_HOURS)


BERLIN_PLANT = {
    0: "06:00-14:00, 22:00-06:00",
    1: "06:00-14:00, 22:00-06:00",
    2: "06:00-14:00, 22:00-06:00",
    3: "06:00-14:00, 22:00-06:00",
    4: "06:00-14:00",
    5: "08:00-12:00, 22:00-02:30",
    6: "01:30-03:30, 02:15-02:45, 23:00-01:00",
}
BERLIN_HOLIDAYS = frozenset({date(2026, 4, 3), date(2026, 4, 6), date(2026, 12, 25), date(2026, 10, 24)})
BERLIN_MAKEUPS = {date(2026, 3, 28): 0, date(2026, 11, 1): 4}
NEW_YORK = {
    0: "09:00-17:00",
    1: "09:00-17:00",
    2: "00:00-24:00",
    3: "23:30-01:15",
    4: "12:00-12:01, 13:00-13:30",
    5: "20:00-02:30",
    6: "01:00-02:00, 03:15-04:00, 12:00-13:00",
}
NEW_YORK_HOLIDAYS = frozenset({date(2026, 7, 3), date(2026, 11, 26), date(2026, 3, 7)})
LORD_HOWE = dict.fromkeys(range(7), "01:45-02:15, 09:00-17:00")

ORACLE_CASES = {
    "cn-office": (CN_OFFICE, "Asia/Shanghai", _cn_rule),
    "berlin-plant": (
        CalendarSpec("Europe/Berlin", parse_weekly(BERLIN_PLANT), BERLIN_HOLIDAYS, BERLIN_MAKEUPS),
        "Europe/Berlin",
        _weekly_rule(BERLIN_PLANT, BERLIN_HOLIDAYS, BERLIN_MAKEUPS),
    ),
    "new-york": (
        CalendarSpec("America/New_York", parse_weekly(NEW_YORK), NEW_YORK_HOLIDAYS),
        "America/New_York",
        _weekly_rule(NEW_YORK, NEW_YORK_HOLIDAYS),
    ),
    "lord-howe": (
        CalendarSpec("Australia/Lord_Howe", parse_weekly(LORD_HOWE)),
        "Australia/Lord_Howe",
        _weekly_rule(LORD_HOWE),
    ),
}


@cache
def _oracle(name: str) -> Oracle:
    _, zone_name, rule = ORACLE_CASES[name]
    return Oracle(zone_name, rule, date(2026, 1, 1), date(2026, 12, 31))


def _instant(minute: int, zone: ZoneInfo) -> datetime:
    # Local, so the fold attribute of repeated wall times is exercised on the way in.
    return datetime.fromtimestamp(minute * 60, zone)


@pytest.mark.parametrize("name", sorted(ORACLE_CASES))
def test_against_the_minute_by_minute_oracle(name: str) -> None:
    spec = ORACLE_CASES[name][0]
    oracle = _oracle(name)
    cal = BusinessTime(spec)
    last_start = oracle.end - 40 * 1440
    runs: list[int] = []

    @examples(500)
    @given(
        start=st.integers(oracle.begin, last_start),
        minutes=st.integers(0, 4000),
        span=st.integers(-20 * 1440, 20 * 1440),
    )
    def check(start: int, minutes: int, span: int) -> None:
        expected = oracle.due(start, minutes)
        assert expected is not None
        moment = _instant(start, oracle.zone)
        assert cal.due(moment, minutes) == datetime.fromtimestamp(expected * 60, UTC)
        other = min(max(start + span, oracle.begin), oracle.end)
        assert cal.elapsed(moment, _instant(other, oracle.zone)) == oracle.elapsed(start, other)
        runs.append(minutes)

    check()
    assert len(runs) >= 500


# Random calendars in short windows around a daylight-saving change, compiled directly, so the
# window's edges (OutOfRange) are checked against the oracle too.
ZONES_AND_CHANGES = [
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),
    ("Asia/Shanghai", date(2026, 2, 15)),
]


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


interval_texts = st.builds(
    lambda start, end: f"{_clock(start)}-{_clock(end)}",
    st.integers(0, 95).map(lambda q: q * 15),
    st.integers(0, 96).map(lambda q: q * 15),
)


@st.composite
def random_calendars(
    draw: st.DrawFn,
) -> tuple[str, date, date, dict[int, str], frozenset[date], dict[date, int]]:
    zone_name, change = draw(st.sampled_from(ZONES_AND_CHANGES))
    first = change - timedelta(days=draw(st.integers(0, 6)))
    last = change + timedelta(days=draw(st.integers(0, 6)))
    weekly = draw(
        st.dictionaries(st.integers(0, 6), st.lists(interval_texts, max_size=3).map(", ".join), max_size=7)
    )
    days = [first + timedelta(days=offset) for offset in range(-1, (last - first).days + 1)]
    holidays = frozenset(draw(st.lists(st.sampled_from(days), max_size=4)))
    makeups = draw(st.dictionaries(st.sampled_from(days), st.integers(0, 6), max_size=2))
    return zone_name, first, last, weekly, holidays, makeups


@examples(400)
@given(calendar=random_calendars(), data=st.data())
def test_random_calendars_around_dst_changes_against_the_oracle(
    calendar: tuple[str, date, date, dict[int, str], frozenset[date], dict[date, int]], data: st.DataObject
) -> None:
    zone_name, first, last, weekly, holidays, makeups = calendar
    spec = CalendarSpec(zone_name, parse_weekly(weekly), holidays, makeups)
    cal = compile_calendar(spec, first, last)
    oracle = Oracle(zone_name, _weekly_rule(weekly, holidays, makeups), first, last)
    assert (cal.window_start, cal.window_end) == (oracle.begin * 60, oracle.end * 60)
    start = data.draw(st.integers(oracle.begin, oracle.end), label="start")
    minutes = data.draw(st.integers(0, 3000), label="minutes")
    other = data.draw(st.integers(oracle.begin, oracle.end), label="other")
    moment = _instant(start, oracle.zone)
    expected = oracle.due(start, minutes)
    if expected is None:
        error = NoWorkingTime if not any(_minutes_of(text) for text in weekly.values()) else OutOfRange
        with pytest.raises(error):
            cal.due(moment, minutes)
    else:
        assert cal.due(moment, minutes) == datetime.fromtimestamp(expected * 60, UTC)
        assert cal.due_many(np.array([start * 60.0]), np.array([minutes * 60.0])).tolist() == [
            expected * 60.0
        ]
    assert cal.elapsed(moment, _instant(other, oracle.zone)) == oracle.elapsed(start, other)
