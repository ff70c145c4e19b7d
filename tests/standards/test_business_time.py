"""Deadlines through the model layer: calendars from the database, the Chinese statutory holidays with their
make-up workdays, inactive holidays, years without holiday data, and the per-process cache. Every
expected instant is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pledge.core.errors import ValidationFailed
from pledge.standards import selectors, services
from pledge.standards.models import BusinessCalendar
from tests.conftest import World
from tests.standards.helpers import SCHEDULE_2027, local

HOUR = 60


@pytest.fixture
def calendars(world: World) -> dict[str, BusinessCalendar]:
    return {calendar.code: calendar for calendar in services.ensure_builtin_calendars(actor=world.admin)}


def due(calendar: BusinessCalendar, start: datetime, minutes: float) -> selectors.DeadlineAnswer:
    calendar.refresh_from_db()
    return selectors.deadline(selectors.business_time_for(calendar), start, minutes)


def test_spring_festival_2026_with_its_make_up_saturdays(calendars: dict[str, BusinessCalendar]) -> None:
    office = calendars["cn-office"]
    # 16 working hours from Friday 13 Feb 17:00: Friday 17-18 (1 h, 15 left); Saturday 14 Feb is a
    # make-up workday with Monday's hours, 09-12 and 13-18 (8 h, 7 left); 15-23 Feb is the festival;
    # Tuesday 24 Feb 09-12 (3 h, 4 left) and 13-17: due Tuesday 17:00.
    answer = due(office, local(2026, 2, 13, 17), 16 * HOUR)
    assert answer.due == local(2026, 2, 24, 17)
    assert answer.due.isoformat() == "2026-02-24T17:00:00+08:00"
    assert not answer.provisional
    # 35 hours: the 16 above plus Wednesday 25, Thursday 26 (8 h each) and Friday 27 09-11 (2 h).
    assert due(office, local(2026, 2, 13, 17), 35 * HOUR).due.isoformat() == "2026-02-27T11:00:00+08:00"
    # Saturday 28 Feb is the festival's second make-up day: Friday 17-18, then Saturday 09-10.
    assert due(office, local(2026, 2, 27, 17), 2 * HOUR).due == local(2026, 2, 28, 10)
    # Working time across the festival: Friday 13 (8 h) and Saturday 14 (8 h) only.
    business_time = selectors.business_time_for(office)
    assert business_time.elapsed(local(2026, 2, 13, 9), local(2026, 2, 24, 9)) == 16 * HOUR


def test_national_day_2026_with_its_make_up_days(calendars: dict[str, BusinessCalendar]) -> None:
    office = calendars["cn-office"]
    # Sunday 20 Sep is a make-up workday: Friday 18 Sep 17-18, then Sunday 09-10.
    assert due(office, local(2026, 9, 18, 17), 2 * HOUR).due == local(2026, 9, 20, 10)
    # 24 hours from Wednesday 30 Sep 17:00: Wednesday 1 h; 1-7 Oct off; Thursday 8 and Friday 9 Oct
    # 8 h each (17 in all, 7 left); Saturday 10 Oct is a make-up day: 09-12 and 13-17.
    assert due(office, local(2026, 9, 30, 17), 24 * HOUR).due == local(2026, 10, 10, 17)
    # Mid-Autumn Festival, Friday 25 Sep: Thursday 24 Sep 17-18, then Monday 28 Sep 09-10.
    assert due(office, local(2026, 9, 24, 17), 2 * HOUR).due == local(2026, 9, 28, 10)


def test_an_inactive_holiday_is_a_normal_day(world: World, calendars: dict[str, BusinessCalendar]) -> None:
    office = calendars["cn-office"]
    # From Tuesday 6 Oct (a holiday) the first working hour is Thursday 8 Oct 09-10.
    assert due(office, local(2026, 10, 6, 9), HOUR).due == local(2026, 10, 8, 10)
    # The company works on the statutory holiday of Wednesday 7 Oct: kept, but inactive.
    services.calendar_set_holiday(
        calendar=office, day="2026-10-07", name="国庆节 (we work)", is_active=False, actor=world.manager
    )
    assert due(office, local(2026, 10, 6, 9), HOUR).due == local(2026, 10, 7, 10)
    # Active again: the day is off again.
    services.calendar_set_holiday(calendar=office, day="2026-10-07", is_active=True, actor=world.manager)
    assert due(office, local(2026, 10, 6, 9), HOUR).due == local(2026, 10, 8, 10)
    # A company holiday of its own on Thursday 8 Oct moves it to Friday 9 Oct.
    services.calendar_set_holiday(calendar=office, day="2026-10-08", actor=world.manager)
    assert due(office, local(2026, 10, 6, 9), HOUR).due == local(2026, 10, 9, 10)


def test_a_calendars_own_make_up_day_wins_over_its_holiday_set(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    office = calendars["cn-office"]
    # Monday 5 Oct is a statutory holiday; this office works it with Friday's hours.
    services.calendar_set_makeup_day(calendar=office, day="2026-10-05", weekday="fri", actor=world.manager)
    assert due(office, local(2026, 10, 2, 9), HOUR).due == local(2026, 10, 5, 10)


def test_a_deadline_into_a_year_without_holiday_data_is_provisional_until_it_is_imported(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    office = calendars["cn-office"]
    # Thursday 31 Dec 2026 17-18, then Friday 1 Jan 2027: without 2027 data it counts as a working
    # weekday (09-10) and is flagged.
    answer = due(office, local(2026, 12, 31, 17), 2 * HOUR)
    assert answer.due == local(2027, 1, 1, 10)
    assert answer.provisional and answer.uncovered_years == (2027,)
    # A deadline inside 2026 is not flagged.
    assert not due(office, local(2026, 12, 30, 17), 2 * HOUR).provisional
    # With the 2027 schedule, 1 Jan is a holiday and 2-3 Jan a weekend: Monday 4 Jan 09-10.
    services.holiday_year_import(set_code="cn-statutory", document=SCHEDULE_2027, actor=world.admin)
    answer = due(office, local(2026, 12, 31, 17), 2 * HOUR)
    assert answer.due == local(2027, 1, 4, 10)
    assert not answer.provisional and answer.uncovered_years == ()
    # The imported make-up Saturday 20 Feb 2027 works Monday's hours: Friday 19 Feb 17-18, then 09-10.
    assert due(office, local(2027, 2, 19, 17), 2 * HOUR).due == local(2027, 2, 20, 10)


def test_a_night_shift_runs_across_midnight_and_its_holidays(calendars: dict[str, BusinessCalendar]) -> None:
    night = calendars["night-shift"]
    # Friday 6 Mar 23:00 to Saturday 06:00 is 7 h (the Friday shift); no shifts start on the weekend;
    # Monday 9 Mar 22:00-23:00 is the eighth hour.
    assert due(night, local(2026, 3, 6, 23), 8 * HOUR).due == local(2026, 3, 9, 23)
    # The Wednesday 30 Sep shift runs into the holiday of 1 Oct (it belongs to Wednesday): 8 h to
    # Thursday 06:00. The shifts starting 1-7 Oct are holidays; the next starts Thursday 8 Oct 22:00.
    assert due(night, local(2026, 9, 30, 22), 9 * HOUR).due == local(2026, 10, 8, 23)


def test_round_the_clock_counts_every_minute_and_is_never_provisional(
    calendars: dict[str, BusinessCalendar],
) -> None:
    always = calendars["24x7"]
    answer = due(always, local(2030, 1, 1, 23, 30), 90)
    assert answer.due == local(2030, 1, 2, 1)
    assert answer.uncovered_years == ()


def test_a_calendar_abroad_answers_with_its_own_offset_across_daylight_saving(world: World) -> None:
    berlin = services.calendar_import(
        data={
            "code": "berlin",
            "name": "Berlin office",
            "timezone": "Europe/Berlin",
            "weekly": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        },
        actor=world.manager,
    ).calendar
    zone = ZoneInfo("Europe/Berlin")
    # Friday 27 Mar 16-17 CET, then Monday 30 Mar 09-10 CEST (the clocks went forward on the 29th).
    answer = due(berlin, datetime(2026, 3, 27, 16, tzinfo=zone), 2 * HOUR)
    assert answer.due.isoformat() == "2026-03-30T10:00:00+02:00"


def test_questions_the_engine_cannot_answer_are_refused_with_the_field(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    office = calendars["cn-office"]
    with pytest.raises(ValidationFailed) as caught:
        due(office, datetime(1960, 1, 1, tzinfo=ZoneInfo("UTC")), 60)
    assert "start" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        due(office, datetime(2026, 1, 1), 60)  # naive
    assert "start" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        due(office, local(2026, 1, 5, 9), -1)
    assert "minutes" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        due(office, local(2099, 1, 5, 9), 10_000_000)
    assert "minutes" in caught.value.fields
    idle = services.calendar_import(
        data={"code": "idle", "name": "No hours", "timezone": "UTC"}, actor=world.manager
    ).calendar
    with pytest.raises(ValidationFailed) as caught:
        due(idle, local(2026, 1, 5, 9), 60)
    assert "calendar" in caught.value.fields
    assert due(idle, local(2026, 1, 5, 9), 0).due == local(2026, 1, 5, 9)


def test_repeated_questions_reuse_the_compiled_calendar(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    office, always = calendars["cn-office"], calendars["24x7"]
    first = selectors.business_time_for(office)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.business_time_for(office) is first
    assert len(queries.captured_queries) == 1  # the holiday fingerprint, nothing else
    fingerprint = selectors.holiday_fingerprint()
    with CaptureQueriesContext(connection) as queries:
        assert selectors.business_time_for(office, fingerprint=fingerprint) is first
        selectors.business_time_for(always)
        assert selectors.business_time_for(always) is selectors.business_time_for(always)
    assert len(queries.captured_queries) == 2  # 24x7's holidays and make-up days, compiled once
    # A new version of the calendar is compiled anew …
    services.calendar_set_holiday(calendar=office, day="2026-12-24", actor=world.manager)
    office.refresh_from_db()
    second = selectors.business_time_for(office)
    assert second is not first
    # … and so is every calendar using a holiday set whose years were imported since.
    services.holiday_year_import(set_code="cn-statutory", document=SCHEDULE_2027, actor=world.admin)
    assert selectors.business_time_for(office) is not second
    assert 2027 in selectors.business_time_for(office).spec.covered_years


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 6, 1), []),
        (date(2026, 11, 1), []),  # 61 days before 2027
        (date(2026, 11, 2), [("cn-office", 2027), ("night-shift", 2027)]),  # 60 days before
        (date(2026, 12, 31), [("cn-office", 2027), ("night-shift", 2027)]),
        (date(2027, 3, 1), [("cn-office", 2027), ("night-shift", 2027)]),  # the current year
    ],
)
def test_calendars_missing_holiday_data(
    calendars: dict[str, BusinessCalendar], today: date, expected: list[tuple[str, int]]
) -> None:
    missing = selectors.calendars_missing_holiday_data(today)
    assert [(item.calendar.code, item.year) for item in missing] == expected
    for item in missing:
        assert item.set_code == "cn-statutory"
        assert item.message == (
            f"{item.calendar.code} uses cn-statutory, which has no data for {item.year}: "
            "import the official schedule (pledge holidays import FILE)"
        )


def test_importing_next_year_ends_the_warning(world: World, calendars: dict[str, BusinessCalendar]) -> None:
    assert selectors.calendars_missing_holiday_data(date(2026, 11, 15))
    services.holiday_year_import(set_code="cn-statutory", document=SCHEDULE_2027, actor=world.admin)
    assert selectors.calendars_missing_holiday_data(date(2026, 11, 15)) == []
    # … until the year after comes close.
    assert [
        (m.calendar.code, m.year) for m in selectors.calendars_missing_holiday_data(date(2027, 12, 1))
    ] == [
        ("cn-office", 2028),
        ("night-shift", 2028),
    ]
