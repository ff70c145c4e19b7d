"""Chinese statutory holidays: the built-in set, official-schedule loading, and the 2026 notice."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from pledge.lib import holidays_cn
from pledge.lib.businesstime import CalendarSpec, compile_calendar, weekly_from
from pledge.lib.holidays_cn import HolidaySet, ScheduleError, attach, combine, load_schedule, parse_schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
MON_FRI = CalendarSpec("Asia/Shanghai", weekly_from(range(5), "09:00-17:00"))
MAKEUPS_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


def days_of(year: int) -> list[date]:
    return [
        date(year, 1, 1) + timedelta(days=n) for n in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)
    ]


def worked_days(spec: CalendarSpec, year: int) -> dict[date, bool]:
    cal = compile_calendar(spec, date(year, 1, 1), date(year, 12, 31))
    result = {}
    for day in days_of(year):
        start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
        result[day] = cal.elapsed(start, start + timedelta(days=1)) > 0
    return result


# ---------------------------------------------------------------------------------------------------
# The built-in set


def test_built_in_set_covers_2004_to_2026() -> None:
    years = holidays_cn.covered_years()
    assert set(range(2004, 2027)) <= years
    assert years == frozenset(range(min(years), max(years) + 1))


def test_built_in_2026_holidays_and_make_up_days() -> None:
    holidays = holidays_cn.statutory_holidays()
    assert {date(2026, 2, d) for d in range(15, 24)} <= holidays
    assert {date(2026, 10, d) for d in range(1, 8)} <= holidays
    assert len([d for d in holidays if d.year == 2026]) == 33
    makeups = holidays_cn.makeup_workdays()
    assert sorted(d for d in makeups if d.year == 2026) == MAKEUPS_2026
    assert set(makeups.values()) == {holidays_cn.DEFAULT_MAKEUP_WEEKDAY}
    assert set(holidays_cn.makeup_workdays(4).values()) == {4}
    assert all(d.weekday() >= 5 for d in makeups)
    assert not holidays & makeups.keys()


def test_built_in_set_agrees_with_chinese_calendar_on_every_covered_day() -> None:
    spec = attach(MON_FRI, holidays_cn.builtin())
    for year in sorted(holidays_cn.covered_years()):
        for day in days_of(year):
            assert bool(spec.hours_on(day)) == chinese_calendar.is_workday(day), day


# ---------------------------------------------------------------------------------------------------
# Combining and attaching


def test_a_later_set_replaces_the_years_it_covers() -> None:
    corrected = parse_schedule(
        {"year": 2026, "holidays": ["2026-10-01/2026-10-03"], "makeup_workdays": {"2025-12-27": 2}}
    )
    merged = combine(holidays_cn.builtin(), corrected)
    assert date(2026, 10, 1) in merged.holidays
    assert date(2026, 10, 4) not in merged.holidays  # only the later 2026 data counts
    assert date(2026, 2, 14) not in merged.makeup_workdays
    assert merged.makeup_workdays[date(2025, 12, 27)] == 2  # a neighbouring year's day is added
    assert date(2025, 10, 1) in merged.holidays
    assert merged.covered_years == holidays_cn.covered_years()


def test_attach_keeps_the_calendars_own_days_and_skips_inactive_holidays() -> None:
    own = CalendarSpec(
        "Asia/Shanghai",
        MON_FRI.weekly,
        holidays=frozenset({date(2026, 3, 2)}),
        makeup_workdays={date(2026, 2, 14): 4},
        covered_years=frozenset({1999}),
    )
    spec = attach(own, holidays_cn.builtin(), inactive=[date(2026, 10, 1)])
    assert date(2026, 3, 2) in spec.holidays
    assert date(2026, 10, 1) not in spec.holidays
    assert date(2026, 10, 2) in spec.holidays
    assert spec.makeup_workdays[date(2026, 2, 14)] == 4
    assert spec.makeup_workdays[date(2026, 2, 28)] == 0
    assert spec.covered_years == holidays_cn.covered_years() | {1999}


# ---------------------------------------------------------------------------------------------------
# Loading official schedules

DROP = object()
SIMPLE_2027 = {
    "year": 2027,
    "holidays": ["2027-01-01", "2027-02-06/2027-02-14", "2027-10-01/2027-10-07"],
    "makeup_workdays": {"2027-02-20": "春节(周六)", "2027-09-26": 3},
}


def test_simple_schedule_is_read() -> None:
    schedule = parse_schedule(SIMPLE_2027)
    assert schedule.covered_years == frozenset({2027})
    assert len(schedule.holidays) == 1 + 9 + 7
    assert dict(schedule.makeup_workdays) == {date(2027, 2, 20): 0, date(2027, 9, 26): 3}
    as_list = parse_schedule(SIMPLE_2027 | {"makeup_workdays": ["2027-02-20"]}, makeup_weekday=2)
    assert dict(as_list.makeup_workdays) == {date(2027, 2, 20): 2}
    assert parse_schedule(SIMPLE_2027 | {"makeup_workdays": []}).makeup_workdays == {}


def test_schedule_year_comes_from_the_title_when_absent() -> None:
    data = {k: v for k, v in SIMPLE_2027.items() if k != "year"} | {
        "title": "国务院办公厅关于2027年部分节假日安排的通知"
    }
    assert parse_schedule(data).covered_years == frozenset({2027})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"year": "2027"}, "year: expected a year"),
        ({"year": DROP, "title": "通知"}, "year: missing"),
        ({"holidays": None}, "holidays: expected a list"),
        ({"holidays": []}, "holidays: empty"),
        ({"holidays": ["2027-1-1"]}, r"holidays\[0\]: expected a date YYYY-MM-DD, got '2027-1-1'"),
        ({"holidays": ["2027-01-01", "2027-02-30"]}, r"holidays\[1\]: '2027-02-30' is not a calendar date"),
        ({"holidays": ["2030-01-01"]}, r"holidays\[0\]: 2030-01-01 is not in 2027 or next to it"),
        ({"holidays": ["2027-02-14/2027-02-06"]}, r"holidays\[0\]: 2027-02-06 is before 2027-02-14"),
        ({"holidays": ["2027-02-01/2027-04-01"]}, r"holidays\[0\]: 60 days"),
        ({"holiday_ranges": {"春节": ["2027-02-06"]}}, r"holiday_ranges\['春节'\]: expected \[first, last\]"),
        ({"holiday_ranges": []}, "holiday_ranges: expected an object"),
        ({"makeup_workdays": None}, "makeup_workdays: expected a list or an object"),
        ({"makeup_workdays": {"2027-02-20": 7}}, r"makeup_workdays\['2027-02-20'\]: expected a weekday 0-6"),
        ({"makeup_workdays": {"2027-02-22": 0}}, r"makeup_workdays\['2027-02-22'\]: 2027-02-22 is a weekday"),
        ({"makeup_workdays": ["2027-02-13"]}, "makeup_workdays: 2027-02-13 is also a holiday"),
    ],
)
def test_schedule_errors_name_the_field(change: dict[str, object], message: str) -> None:
    """Each message starts with the field at fault, so an admin knows where to look."""
    data = {k: v for k, v in (SIMPLE_2027 | change).items() if v is not DROP}
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "schedule: expected a JSON object"),
        ({"year": 2027, "makeup_workdays": []}, "holidays: missing"),
        ({"year": 2027, "holidays": ["2027-01-01"]}, "makeup_workdays: missing"),
    ],
)
def test_schedule_missing_fields(data: object, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(data)


def test_load_schedule_reads_a_file_and_refuses_bad_json(tmp_path: Path) -> None:
    good = tmp_path / "cn_2027.json"
    good.write_text(json.dumps(SIMPLE_2027, ensure_ascii=False), encoding="utf-8")
    assert load_schedule(good) == parse_schedule(SIMPLE_2027)
    bad = tmp_path / "broken.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ScheduleError, match=r"broken.json: not valid JSON"):
        load_schedule(bad)


def test_an_imported_year_is_covered_and_used() -> None:
    full = combine(holidays_cn.builtin(), parse_schedule(SIMPLE_2027))
    spec = attach(MON_FRI, full)
    assert 2027 in spec.covered_years  # type: ignore[operator]
    days = worked_days(spec, 2027)
    assert not days[date(2027, 1, 1)]
    assert days[date(2027, 2, 20)]  # Saturday, make-up workday
    assert not days[date(2027, 10, 4)]


# ---------------------------------------------------------------------------------------------------
# The real 2026 notice


def expected_2026(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / "holidays_cn" / "cn_2026_expected_days.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.realdata
def test_built_in_2026_matches_the_expected_days(shared_data: Path) -> None:
    rows = expected_2026(shared_data)
    assert len(rows) == 365
    worked = worked_days(attach(MON_FRI, holidays_cn.builtin()), 2026)
    makeups = holidays_cn.makeup_workdays()
    for row in rows:
        day = date.fromisoformat(row["date"])
        assert worked[day] == (row["status"] == "workday"), row
        assert (day in makeups) == (row["kind"] == "makeup"), row
        assert (day in holidays_cn.statutory_holidays()) == (row["kind"] == "statutory_or_bridge"), row


@pytest.mark.realdata
def test_official_schedule_file_reads_to_the_same_days(shared_data: Path) -> None:
    schedule = load_schedule(shared_data / "holidays_cn" / "cn_2026_official_schedule.json")
    assert schedule.covered_years == frozenset({2026})
    assert schedule.holidays == {d for d in holidays_cn.statutory_holidays() if d.year == 2026}
    assert dict(schedule.makeup_workdays) == {d: 0 for d in MAKEUPS_2026}
    worked = worked_days(attach(MON_FRI, schedule), 2026)
    for row in expected_2026(shared_data):
        assert worked[date.fromisoformat(row["date"])] == (row["status"] == "workday"), row


def test_holiday_set_is_immutable() -> None:
    source = {date(2026, 2, 14): 0}
    held = HolidaySet(frozenset(), source, frozenset({2026}))
    source[date(2026, 2, 28)] = 0
    assert date(2026, 2, 28) not in held.makeup_workdays
    with pytest.raises(TypeError):
        held.makeup_workdays[date(2026, 2, 28)] = 0  # type: ignore[index]
