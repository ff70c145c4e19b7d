"""Calendar writes on the real database: import and export, versions, refusals that change nothing, the
editor's changes, holiday years and the built-in calendars."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from pledge.core.errors import NotFound, ValidationFailed
from pledge.customers import services as customer_services
from pledge.standards import calendar_files, selectors, services
from pledge.standards.models import (
    BusinessCalendar,
    CalendarHoliday,
    CalendarMakeupDay,
    CalendarVersion,
    HolidaySetYear,
)
from tests.conftest import SHARED_DATA, World
from tests.standards.helpers import OFFICE, OFFICE_YAML, SCHEDULE_2027, office


def _state() -> tuple[Any, ...]:
    """Everything calendar imports write, to show that a refusal wrote nothing."""
    return (
        list(BusinessCalendar.objects.values_list("code", "name", "timezone", "weekly", "version", "site")),
        list(CalendarHoliday.objects.values_list("calendar__code", "date", "name", "is_active")),
        list(CalendarMakeupDay.objects.values_list("calendar__code", "date", "weekday")),
        list(CalendarVersion.objects.values_list("calendar__code", "version")),
    )


def test_import_then_export_gives_the_same_document(world: World) -> None:
    result = services.calendar_import(data=OFFICE, actor=world.manager, reason="first")
    assert result.created and result.changed
    calendar = result.calendar
    assert calendar.version == 1
    assert services.calendar_export("cn-office") == OFFICE
    version = calendar.versions.get()
    assert (version.version, version.reason, version.created_by) == (1, "first", world.manager)
    assert version.snapshot == OFFICE


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_file_round_trips_through_the_database(world: World, fmt: calendar_files.Format) -> None:
    data = office(
        holidays=[{"date": "2026-10-07", "name": "国庆节 (we work)", "active": False}, "2026-12-31"],
        team=world.frontline.name,
    )
    text = calendar_files.dumps(data, fmt=fmt)
    services.calendar_import(data=calendar_files.loads(text, fmt=fmt), actor=None)
    exported = calendar_files.dumps(services.calendar_export("cn-office"), fmt=fmt)
    assert exported == text  # dates in order, as export writes them: the same text
    calendar = BusinessCalendar.objects.get(code="cn-office")
    assert calendar.team == world.frontline
    assert CalendarHoliday.objects.get(calendar=calendar, date=date(2026, 10, 7)).is_active is False


def test_the_issue_yaml_imports_as_written(world: World) -> None:
    data = calendar_files.loads(OFFICE_YAML, fmt="yaml")
    services.calendar_import(data=data, actor=world.admin)
    assert services.calendar_export("cn-office") == OFFICE


def test_importing_an_existing_code_replaces_it_as_a_new_recorded_version(world: World) -> None:
    services.calendar_import(data=OFFICE, actor=world.manager)
    changed = office(
        name="Shanghai office",
        weekly={"mon": ["08:30-17:30"], "sat": ["09:00-12:00"]},
        holidays=["2026-12-24"],
        makeup_workdays={},
    )
    result = services.calendar_import(data=changed, actor=world.admin, reason="winter hours")
    assert not result.created and result.changed
    calendar = BusinessCalendar.objects.get(code="cn-office")
    assert calendar.version == 2
    assert services.calendar_export("cn-office") == changed
    assert list(calendar.holidays.values_list("date", flat=True)) == [date(2026, 12, 24)]
    assert not calendar.makeup_days.exists()
    versions = {v.version: v for v in calendar.versions.all()}
    assert set(versions) == {1, 2}
    assert versions[1].snapshot == OFFICE  # the old calendar is kept as it was
    assert versions[2].snapshot == changed
    assert (versions[2].reason, versions[2].created_by) == ("winter hours", world.admin)


def test_importing_the_same_document_again_changes_nothing(world: World) -> None:
    services.calendar_import(data=OFFICE, actor=world.manager)
    again = services.calendar_import(data=json.loads(json.dumps(OFFICE)), actor=world.manager)
    assert not again.created and not again.changed
    assert again.calendar.version == 1
    assert CalendarVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weekly": {"tue": ["09:00-12:00", "25:00-26:00"]}}, "weekly.tue[1]"),
        ({"timezone": "Asia/Beijing"}, "timezone"),
        ({"holiday_sets": ["cn-statutory", "jp-national"]}, "holiday_sets[1]"),
        ({"holidays": ["2026-12-31", "31.12.2026"]}, "holidays[1]"),
        ({"makeup_workdays": {"2026-10-10": "someday"}}, "makeup_workdays.2026-10-10"),
        ({"team": "No such team"}, "team"),
        ({"contract": "C-404"}, "contract"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_document_is_refused_with_its_field_and_changes_nothing(
    world: World, change: dict[str, Any], field: str
) -> None:
    services.calendar_import(data=OFFICE, actor=world.manager)
    before = _state()
    bad = office(name="Should not be written", holidays=["2026-12-24"])
    bad.update(change)
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_import(data=bad, actor=world.manager)
    assert field in caught.value.fields
    assert caught.value.message.startswith(f"{field}: ")
    assert _state() == before


def test_a_bad_new_calendar_is_not_created(world: World) -> None:
    with pytest.raises(ValidationFailed):
        services.calendar_import(data=office(code="new-one", timezone="UTC+8"), actor=world.manager)
    assert _state() == ([], [], [], [])


def test_a_calendar_belongs_to_a_team_a_contract_or_a_site(world: World) -> None:
    contract = customer_services.contract_create(
        organisation=world.org_a,
        number="C-2026-001",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
    )
    for owner in ({"team": "Field"}, {"contract": "C-2026-001"}, {"site": "苏州工厂"}, {}):
        services.calendar_import(data=office(**owner), actor=world.manager)
        assert {k: v for k, v in services.calendar_export("cn-office").items() if k in owner} == owner
    calendar = BusinessCalendar.objects.get(code="cn-office")
    assert (calendar.team, calendar.contract, calendar.site) == (None, None, "")
    services.calendar_import(data=office(contract="C-2026-001"), actor=world.manager)
    assert contract.calendars.get() == calendar


def test_editor_changes_each_record_a_version(world: World) -> None:
    calendar = services.calendar_import(data=OFFICE, actor=world.manager).calendar
    services.calendar_set_holiday(
        calendar=calendar, day="2026-12-24", name="Christmas Eve", actor=world.manager
    )
    services.calendar_set_holiday(
        calendar=calendar, day=date(2026, 12, 24), is_active=False, actor=world.admin
    )
    services.calendar_set_makeup_day(calendar=calendar, day="2026-12-26", weekday="fri", actor=world.manager)
    services.calendar_remove_makeup_day(calendar=calendar, day="2026-10-10", actor=world.manager)
    services.calendar_remove_holiday(
        calendar=calendar, day="2026-12-31", actor=world.manager, reason="we work"
    )
    calendar.refresh_from_db()
    assert calendar.version == 6
    assert list(calendar.versions.order_by("version").values_list("version", flat=True)) == [1, 2, 3, 4, 5, 6]
    last = calendar.versions.get(version=6)
    assert last.reason == "we work"
    assert last.snapshot["holidays"] == [{"date": "2026-12-24", "active": False}]
    assert last.snapshot["makeup_workdays"] == {"2026-12-26": "fri"}
    assert calendar.versions.get(version=2).snapshot["holidays"] == [
        {"date": "2026-12-24", "name": "Christmas Eve"},
        "2026-12-31",
    ]


def test_editor_refusals_change_nothing(world: World) -> None:
    calendar = services.calendar_import(data=OFFICE, actor=world.manager).calendar
    before = _state()
    with pytest.raises(ValidationFailed):
        # A make-up day of the calendar cannot be an active holiday too.
        services.calendar_set_holiday(calendar=calendar, day="2026-10-10", actor=world.manager)
    with pytest.raises(ValidationFailed):
        services.calendar_set_makeup_day(
            calendar=calendar, day="2026-12-31", weekday="mon", actor=world.manager
        )
    with pytest.raises(ValidationFailed):
        services.calendar_set_makeup_day(calendar=calendar, day="2026-12-26", weekday="someday", actor=None)
    with pytest.raises(ValidationFailed):
        services.calendar_set_holiday(calendar=calendar, day="26.12.2026", actor=None)
    with pytest.raises(NotFound):
        services.calendar_remove_holiday(calendar=calendar, day="2026-01-02", actor=None)
    with pytest.raises(NotFound):
        services.calendar_remove_makeup_day(calendar=calendar, day="2026-01-03", actor=None)
    assert _state() == before


def test_export_of_an_unknown_calendar_is_not_found(db: Any) -> None:
    with pytest.raises(NotFound):
        services.calendar_export("nope")


def test_a_new_years_schedule_is_imported_and_replaced(world: World) -> None:
    row, created = services.holiday_year_import(
        set_code="cn-statutory", document=SCHEDULE_2027, actor=world.admin, source="notice.json"
    )
    assert created and (row.year, row.source, row.imported_by) == (2027, "notice.json", world.admin)
    assert len(row.holidays) == 10
    assert row.makeup_workdays == {"2027-02-20": 0}  # the notice names no weekday: Monday's hours
    assert 2027 in selectors.holiday_coverage()["cn-statutory"]
    corrected = {**SCHEDULE_2027, "makeup_workdays": {"2027-02-20": 4}}
    again, created = services.holiday_year_import(set_code="cn-statutory", document=corrected, actor=None)
    assert not created and again.pk == row.pk
    assert again.makeup_workdays == {"2027-02-20": 4}
    assert HolidaySetYear.objects.count() == 1


def test_the_official_notice_shape_is_imported(world: World) -> None:
    path = SHARED_DATA / "holidays_cn" / "cn_2026_official_schedule.json"
    if not path.exists():
        pytest.skip("../shared/data is absent")
    row, _created = services.holiday_year_import(
        set_code="cn-statutory", document=json.loads(path.read_text(encoding="utf-8")), actor=world.admin
    )
    assert row.year == 2026
    assert "2026-02-15" in row.holidays and "2026-10-07" in row.holidays
    assert set(row.makeup_workdays) == {
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    }


@pytest.mark.parametrize(
    ("set_code", "document", "field"),
    [
        ("jp-national", SCHEDULE_2027, "set"),
        ("cn-statutory", {**SCHEDULE_2027, "holidays": ["2027-02-30"]}, "holidays[0]"),
        ("cn-statutory", {"year": 2027, "holidays": ["2027-01-01"]}, "makeup_workdays"),
        ("cn-statutory", ["2027-01-01"], "schedule"),
    ],
)
def test_a_bad_schedule_is_refused_with_its_field(
    world: World, set_code: str, document: object, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.holiday_year_import(set_code=set_code, document=document, actor=world.admin)
    assert field in caught.value.fields
    assert not HolidaySetYear.objects.exists()


def test_builtin_calendars_are_created_once_and_never_overwritten(world: World) -> None:
    first = services.ensure_builtin_calendars()
    assert [c.code for c in first] == ["cn-office", "24x7", "night-shift"]
    office_export = services.calendar_export("cn-office")
    assert office_export["name"] == "中国标准工作日历"
    assert office_export["weekly"] == {
        day: ["09:00-12:00", "13:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")
    }
    assert office_export["holiday_sets"] == ["cn-statutory"]
    assert services.calendar_export("24x7")["weekly"] == {
        day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    assert services.calendar_export("24x7")["holiday_sets"] == []
    night = services.calendar_export("night-shift")
    assert night["weekly"]["mon"] == ["22:00-06:00"] and "sat" not in night["weekly"]
    assert night["timezone"] == "Asia/Shanghai" and night["holiday_sets"] == ["cn-statutory"]
    services.calendar_set_holiday(calendar=first[0], day="2026-12-24", actor=world.manager)
    again = services.ensure_builtin_calendars()
    assert [c.pk for c in again] == [c.pk for c in first]
    assert BusinessCalendar.objects.count() == 3
    assert BusinessCalendar.objects.get(code="cn-office").holidays.filter(date=date(2026, 12, 24)).exists()
