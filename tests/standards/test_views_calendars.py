"""The calendar pages through the Django test client: who sees and changes what, the month view (what the
engine does on each day, in English and Chinese), the day editor and its versions, weekly hours, import,
export, history, holiday data and the missing-data warning."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from pledge.lib import holidays_cn
from pledge.standards import selectors, services
from pledge.standards.models import BusinessCalendar, CalendarHoliday, CalendarMakeupDay, HolidaySetYear
from tests.conftest import World
from tests.standards.helpers import OFFICE_YAML, SCHEDULE_2027

HTMX = {"HTTP_HX_REQUEST": "true"}
DETAIL = "/standards/calendars/cn-office/"
# The 2026 Spring Festival as the State Council published it (chinese_calendar 1.11): 15–23 February off,
# Saturday 14 and Saturday 28 February worked.
SPRING_FESTIVAL_2026 = [date(2026, 2, day) for day in range(15, 24)]
MAKEUP_2026_02 = [date(2026, 2, 14), date(2026, 2, 28)]
CELL = re.compile(r'<td class="st-day ([^"]*)" data-date="(\d{4}-\d{2}-\d{2})">(.*?)</td>', re.S)


@pytest.fixture
def calendars(world: World) -> list[BusinessCalendar]:
    return services.ensure_builtin_calendars()


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def cells(response: Any) -> dict[str, tuple[set[str], str]]:
    """Each day of the month grid: its classes and its inner HTML."""
    assert response.status_code == 200
    return {
        day: (set(classes.split()), body) for classes, day, body in CELL.findall(response.content.decode())
    }


def office() -> BusinessCalendar:
    return BusinessCalendar.objects.get(code="cn-office")


# Who may do what ------------------------------------------------------------------------------------


PAGES = [
    "/standards/",
    DETAIL,
    "/standards/calendars/cn-office/export/",
    "/standards/calendars/cn-office/versions/1/",
    "/standards/holidays/",
    "/standards/policies/",
]


@pytest.mark.parametrize("url", PAGES)
def test_customers_get_404_on_every_standards_page(
    client: Client, world: World, calendars: Any, url: str
) -> None:
    assert signed_in(client, world.customer_a).get(url).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, calendars: Any) -> None:
    response = client.get(DETAIL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
def test_an_agent_reads_every_page(client: Client, world: World, calendars: Any, url: str) -> None:
    assert signed_in(client, world.agent).get(url).status_code == 200


def test_an_agent_sees_no_editor_and_may_not_change_a_calendar(
    client: Client, world: World, calendars: Any
) -> None:
    agent = signed_in(client, world.agent)
    page = agent.get(DETAIL, {"month": "2026-02", "day": "2026-02-16"}).content.decode()
    assert 'name="action"' not in page
    assert "Edit hours and settings" not in page
    assert agent.get(f"{DETAIL}settings/").status_code == 403
    refused = agent.post(f"{DETAIL}days/", {"action": "holiday_off", "date": "2026-02-16"})
    assert refused.status_code == 403
    assert agent.get("/standards/calendar-import/").status_code == 403
    assert agent.post("/standards/holidays/", {"set_code": "cn-statutory", "text": "{}"}).status_code == 403
    assert office().version == 1


def test_the_nav_shows_service_standards_to_staff_only(client: Client, world: World, calendars: Any) -> None:
    assert "Service standards" in signed_in(client, world.agent).get("/agent/").content.decode()
    client.logout()
    assert "Service standards" not in signed_in(client, world.customer_a).get("/portal/").content.decode()


# The month view ---------------------------------------------------------------------------------------


def test_month_view_shows_the_2026_spring_festival_and_its_make_up_workdays(
    client: Client, world: World, calendars: Any
) -> None:
    # The dates come from the built-in data, not from this test's memory.
    assert set(SPRING_FESTIVAL_2026) <= holidays_cn.statutory_holidays()
    assert set(MAKEUP_2026_02) <= holidays_cn.makeup_workdays().keys()
    grid = cells(signed_in(client, world.agent).get(DETAIL, {"month": "2026-02"}))
    for day in SPRING_FESTIVAL_2026:
        classes, body = grid[day.isoformat()]
        assert "st-holiday" in classes, day
        assert "Spring Festival" in body
        assert "st-hours" not in body  # no working time on a holiday
    for day in MAKEUP_2026_02:
        classes, body = grid[day.isoformat()]
        assert "st-makeup" in classes and "st-weekend" in classes, day
        assert "Make-up workday" in body and "Monday's hours" in body
        assert "09:00-12:00, 13:00-18:00" in body
    ordinary, body = grid["2026-02-13"]
    assert "st-workday" in ordinary and "09:00-12:00, 13:00-18:00" in body
    weekend, body = grid["2026-02-07"]
    assert "st-off" in weekend and "st-hours" not in body
    # The grid runs Monday to Sunday: 26 January … 1 March.
    assert min(grid) == "2026-01-26" and max(grid) == "2026-03-01"
    assert "st-outside" in grid["2026-03-01"][0]


def test_month_view_marks_what_the_engine_uses_on_every_day(
    client: Client, world: World, calendars: Any
) -> None:
    spec = selectors.calendar_spec_for(office())
    grid = cells(signed_in(client, world.agent).get(DETAIL, {"month": "2026-10"}))
    for iso, (classes, body) in grid.items():
        hours = spec.hours_on(date.fromisoformat(iso))
        assert ("st-hours" in body) == bool(hours), iso
        assert ("st-holiday" in classes) == (date.fromisoformat(iso) in spec.holidays), iso


def test_month_view_in_chinese_names_the_festival(client: Client, world: World, calendars: Any) -> None:
    agent = signed_in(client, world.agent)
    response = agent.get(DETAIL, {"month": "2026-02"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert "春节" in page
    assert "2026年2月" in page
    classes, body = cells(response)["2026-02-16"]
    assert "st-holiday" in classes and "春节" in body


def test_today_is_highlighted_in_the_calendars_time_zone(
    client: Client, world: World, calendars: Any
) -> None:
    today = selectors.calendar_today(office())
    grid = cells(signed_in(client, world.agent).get(DETAIL))
    highlighted = [day for day, (classes, _body) in grid.items() if "st-today" in classes]
    assert highlighted == [today.isoformat()]


def test_an_inactive_holiday_is_shown_struck_through_as_a_normal_day(
    client: Client, world: World, calendars: Any
) -> None:
    services.calendar_set_holiday(
        calendar=office(), day=date(2026, 2, 16), name="春节 (we work)", is_active=False, actor=world.manager
    )
    grid = cells(signed_in(client, world.agent).get(DETAIL, {"month": "2026-02"}))
    classes, body = grid["2026-02-16"]
    assert "st-workday" in classes and "st-holiday" not in classes
    assert '<s class="st-struck"' in body and "春节 (we work)" in body
    assert "09:00-12:00, 13:00-18:00" in body
    assert "st-holiday" in grid["2026-02-17"][0]  # the rest of the festival is still off


def test_prev_and_next_links_work_without_javascript_and_htmx_gets_the_grid_only(
    client: Client, world: World, calendars: Any
) -> None:
    agent = signed_in(client, world.agent)
    page = agent.get(DETAIL, {"month": "2026-02"}).content.decode()
    assert f'href="{DETAIL}?month=2026-01"' in page and f'href="{DETAIL}?month=2026-03"' in page
    assert 'hx-target="#month-view"' in page
    fragment = agent.get(DETAIL, {"month": "2026-03"}, HTTP_HX_TARGET="month-view", **HTMX)
    text = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in text and "st-grid" in text and 'data-date="2026-03-31"' in text
    assert "HX-Request" in fragment["Vary"]


def test_the_year_strip_counts_holidays_and_make_up_days_per_month(
    client: Client, world: World, calendars: Any
) -> None:
    month = selectors.calendar_month(office(), date(2026, 2, 1))
    february = month.year_strip[1]
    assert february.is_current
    assert february.holidays == 9 and february.makeups == 2
    assert len(month.year_strip) == 12


def test_a_year_without_holiday_data_is_flagged(client: Client, world: World, calendars: Any) -> None:
    page = signed_in(client, world.agent).get(DETAIL, {"month": "2030-05"}).content.decode()
    assert "No holiday data for 2030" in page


def test_clicking_a_day_opens_its_panel(client: Client, world: World, calendars: Any) -> None:
    manager = signed_in(client, world.manager)
    fragment = manager.get(
        DETAIL, {"month": "2026-02", "day": "2026-02-14"}, HTTP_HX_TARGET="day-panel", **HTMX
    )
    text = fragment.content.decode()
    assert "<html" not in text and "st-grid" not in text
    assert "Make-up workday of the holiday set" in text and "Spring Festival" in text
    assert 'value="makeup"' in text and 'value="2026-02-14"' in text
    # Without JavaScript the same link renders the whole page with the panel.
    whole = manager.get(DETAIL, {"month": "2026-02", "day": "2026-02-14"}).content.decode()
    assert "<html" in whole and "Make-up workday of the holiday set" in whole


# The day editor ---------------------------------------------------------------------------------------


def test_making_a_statutory_holiday_a_working_day_records_a_version(
    client: Client, world: World, calendars: Any
) -> None:
    manager = signed_in(client, world.manager)
    response = manager.post(
        f"{DETAIL}days/",
        {
            "action": "holiday_off",
            "date": "2026-02-23",
            "name": "春节",
            "month": "2026-02",
            "reason": "Plant open",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{DETAIL}?month=2026-02&day=2026-02-23#day-panel"
    holiday = CalendarHoliday.objects.get(calendar=office(), date=date(2026, 2, 23))
    assert holiday.is_active is False
    calendar = office()
    assert calendar.version == 2
    version = calendar.versions.get(version=2)
    assert (version.reason, version.created_by) == ("Plant open", world.manager)
    # Toggling it back on is another version.
    manager.post(f"{DETAIL}days/", {"action": "holiday_on", "date": "2026-02-23", "name": "春节"})
    assert CalendarHoliday.objects.get(calendar=office(), date=date(2026, 2, 23)).is_active is True
    assert office().version == 3


def test_an_htmx_day_edit_answers_with_the_panel_the_grid_and_the_history(
    client: Client, world: World, calendars: Any
) -> None:
    response = signed_in(client, world.manager).post(
        f"{DETAIL}days/",
        {"action": "holiday_on", "date": "2026-03-02", "name": "Stocktaking", "month": "2026-03"},
        **HTMX,
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "2026-03-02 is now a holiday." in text
    assert 'hx-swap-oob="innerHTML:#month-view"' in text and 'hx-swap-oob="innerHTML:#versions"' in text
    classes, body = cells(response)["2026-03-02"]
    assert "st-holiday" in classes and "Stocktaking" in body
    assert "<strong>v2</strong>" in text


def test_adding_and_removing_a_make_up_day(client: Client, world: World, calendars: Any) -> None:
    manager = signed_in(client, world.manager)
    manager.post(f"{DETAIL}days/", {"action": "makeup", "date": "2026-03-07", "weekday": "4"})
    makeup = CalendarMakeupDay.objects.get(calendar=office(), date=date(2026, 3, 7))
    assert makeup.weekday == 4
    classes, body = cells(manager.get(DETAIL, {"month": "2026-03"}))["2026-03-07"]
    assert "st-makeup" in classes and "Friday's hours" in body
    manager.post(f"{DETAIL}days/", {"action": "remove_makeup", "date": "2026-03-07"})
    assert not CalendarMakeupDay.objects.filter(calendar=office()).exists()
    assert office().version == 3


def test_a_refused_day_edit_shows_the_error_and_changes_nothing(
    client: Client, world: World, calendars: Any
) -> None:
    manager = signed_in(client, world.manager)
    services.calendar_set_makeup_day(calendar=office(), day="2026-03-07", weekday=0, actor=world.manager)
    response = manager.post(f"{DETAIL}days/", {"action": "holiday_on", "date": "2026-03-07"}, **HTMX)
    assert response.status_code == 422
    assert "A make-up workday." in response.content.decode()
    no_such = manager.post(f"{DETAIL}days/", {"action": "remove_holiday", "date": "2026-03-09"})
    assert no_such.status_code == 422
    assert "Not a holiday of this calendar." in no_such.content.decode()
    bad_date = manager.post(f"{DETAIL}days/", {"action": "holiday_on", "date": "2026-02-30"})
    assert bad_date.status_code == 422
    assert office().version == 2


# Weekly hours and settings ----------------------------------------------------------------------------


def settings_post(**changes: str) -> dict[str, Any]:
    data = {
        "name": "中国标准工作日历",
        "timezone": "Asia/Shanghai",
        "holiday_sets": ["cn-statutory"],
        **{f"weekly_{key}": "09:00-12:00, 13:00-18:00" for key in ("mon", "tue", "wed", "thu", "fri")},
        "weekly_sat": "",
        "weekly_sun": "",
        "reason": "",
    }
    data.update(changes)
    return data


def test_bad_weekly_hours_show_a_field_error_and_change_nothing(
    client: Client, world: World, calendars: Any
) -> None:
    response = signed_in(client, world.manager).post(
        f"{DETAIL}settings/", settings_post(weekly_tue="09:00-12:00, 25:00-26:00", timezone="Asia/Beijing")
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "25:00-26:00" in form.errors["weekly_tue"][0]
    assert "IANA" in form.errors["timezone"][0]
    assert "weekly_mon" not in form.errors
    assert office().version == 1


def test_changing_the_hours_records_a_version_and_the_month_view_follows(
    client: Client, world: World, calendars: Any
) -> None:
    manager = signed_in(client, world.manager)
    response = manager.post(
        f"{DETAIL}settings/", settings_post(weekly_sat="09:00-12:00", reason="Saturday mornings")
    )
    assert response.status_code == 302
    calendar = office()
    assert calendar.version == 2 and calendar.weekly["sat"] == ["09:00-12:00"]
    assert calendar.versions.get(version=2).reason == "Saturday mornings"
    classes, body = cells(manager.get(DETAIL, {"month": "2026-03"}))["2026-03-07"]
    assert "st-workday" in classes and "09:00-12:00" in body
    # Saving the same again records nothing.
    manager.post(f"{DETAIL}settings/", settings_post(weekly_sat="09:00-12:00"))
    assert office().version == 2


def test_the_settings_form_starts_with_the_calendars_values(
    client: Client, world: World, calendars: Any
) -> None:
    form = signed_in(client, world.manager).get(f"{DETAIL}settings/").context["form"]
    assert form.initial["weekly_mon"] == "09:00-12:00, 13:00-18:00"
    assert form.initial["weekly_sat"] == ""
    assert form.initial["holiday_sets"] == ["cn-statutory"]


# Import, export, history ------------------------------------------------------------------------------


def test_importing_a_calendar_file_creates_it(client: Client, world: World, calendars: Any) -> None:
    text = OFFICE_YAML.replace("code: cn-office", "code: shenzhen-office")
    upload = SimpleUploadedFile("office.yaml", text.encode(), content_type="application/yaml")
    response = signed_in(client, world.manager).post(
        "/standards/calendar-import/", {"file": upload, "reason": "New site"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/standards/calendars/shenzhen-office/"
    calendar = BusinessCalendar.objects.get(code="shenzhen-office")
    assert calendar.versions.get().reason == "New site"


def test_a_refused_import_names_the_line_or_the_field(client: Client, world: World, calendars: Any) -> None:
    manager = signed_in(client, world.manager)
    broken = OFFICE_YAML.replace('mon: ["09:00-12:00", "13:00-18:00"]', 'mon: ["09:00-12:00" "13:00-18:00"]')
    response = manager.post(
        "/standards/calendar-import/", {"file": SimpleUploadedFile("o.yaml", broken.encode())}
    )
    assert response.status_code == 422
    assert "line 5, column 23" in response.content.decode()
    wrong = OFFICE_YAML.replace('tue: ["09:00-12:00", "13:00-18:00"]', 'tue: ["09:00-12:00", "25:00-26:00"]')
    response = manager.post(
        "/standards/calendar-import/", {"file": SimpleUploadedFile("o.yaml", wrong.encode())}
    )
    assert response.status_code == 422
    assert "<code>weekly.tue[1]</code>" in response.content.decode()
    assert office().version == 1


@pytest.mark.parametrize(("fmt", "load"), [("yaml", yaml.safe_load), ("json", json.loads)])
def test_export_downloads_the_calendar_file(
    client: Client, world: World, calendars: Any, fmt: str, load: Any
) -> None:
    response = signed_in(client, world.agent).get(f"{DETAIL}export/", {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="cn-office.{fmt}"'
    assert load(response.content.decode()) == selectors.calendar_document(office())


def test_version_history_lists_and_downloads_earlier_versions(
    client: Client, world: World, calendars: Any
) -> None:
    services.calendar_set_holiday(calendar=office(), day="2026-12-31", actor=world.manager, reason="Year end")
    agent = signed_in(client, world.agent)
    page = agent.get(DETAIL).content.decode()
    assert "<strong>v2</strong>" in page and "Year end" in page
    first = yaml.safe_load(agent.get(f"{DETAIL}versions/1/").content.decode())
    assert first == office().versions.get(version=1).snapshot
    assert "2026-12-31" not in json.dumps(first)
    assert "2026-12-31" in agent.get(f"{DETAIL}versions/2/").content.decode()
    assert agent.get(f"{DETAIL}versions/9/").status_code == 404


# Holiday data and the warning -------------------------------------------------------------------------


def test_the_holiday_page_lists_the_years_covered(client: Client, world: World, calendars: Any) -> None:
    page = signed_in(client, world.agent).get("/standards/holidays/").content.decode()
    assert "2004–2026" in page
    assert 'id="import"' not in page  # agents read only


def test_pasting_a_years_schedule_imports_it(client: Client, world: World, calendars: Any) -> None:
    response = signed_in(client, world.manager).post(
        "/standards/holidays/",
        {"set_code": "cn-statutory", "text": json.dumps(SCHEDULE_2027), "source": "gov.cn notice"},
    )
    assert response.status_code == 302
    row = HolidaySetYear.objects.get(year=2027)
    assert (row.source, row.imported_by) == ("gov.cn notice", world.manager)
    assert "2027-02-06" in row.holidays
    assert "2004–2027" in signed_in(client, world.agent).get("/standards/holidays/").content.decode()


def test_uploading_a_yaml_schedule_imports_it(client: Client, world: World, calendars: Any) -> None:
    upload = SimpleUploadedFile("cn_2027.yaml", yaml.safe_dump(SCHEDULE_2027, allow_unicode=True).encode())
    response = signed_in(client, world.manager).post(
        "/standards/holidays/", {"set_code": "cn-statutory", "file": upload}
    )
    assert response.status_code == 302
    assert HolidaySetYear.objects.filter(year=2027).exists()


def test_a_bad_schedule_names_the_field_and_imports_nothing(
    client: Client, world: World, calendars: Any
) -> None:
    manager = signed_in(client, world.manager)
    bad = {"year": 2027, "holidays": ["2027-02-30"], "makeup_workdays": []}
    response = manager.post("/standards/holidays/", {"set_code": "cn-statutory", "text": json.dumps(bad)})
    assert response.status_code == 422
    assert "holidays[0]" in response.context["form"].errors["text"][0]
    empty = manager.post("/standards/holidays/", {"set_code": "cn-statutory", "text": ""})
    assert empty.status_code == 422
    assert "Upload a file or paste the schedule." in empty.context["form"].errors["text"][0]
    assert not HolidaySetYear.objects.exists()


def test_the_warning_partial_lists_each_missing_year_once_with_its_calendars(
    world: World, calendars: Any
) -> None:
    gaps = selectors.holiday_data_gaps(date(2026, 11, 22))  # within 60 days of 2027
    assert [(gap.set_code, gap.year) for gap in gaps] == [("cn-statutory", 2027)]
    assert [calendar.code for calendar in gaps[0].calendars] == ["cn-office", "night-shift"]
    html = render_to_string(
        "standards/_holiday_warning.html", {"holiday_gaps": gaps, "can_manage_calendars": True}
    )
    assert "has no data for 2027" in html and "night-shift" in html
    assert 'href="/standards/holidays/#import"' in html
    assert render_to_string("standards/_holiday_warning.html", {"holiday_gaps": []}).strip() == ""
    assert selectors.holiday_data_gaps(date(2026, 6, 1)) == []


def test_the_overview_warns_until_the_missing_years_are_imported(
    client: Client, world: World, calendars: Any
) -> None:
    manager = signed_in(client, world.manager)
    missing = selectors.years_needing_data(timezone.localdate())
    uncovered = [year for year in missing if year not in selectors.holiday_coverage()["cn-statutory"]]
    page = manager.get("/standards/").content.decode()
    for year in uncovered:
        assert f"has no data for {year}" in page
    for year in uncovered:
        services.holiday_year_import(
            set_code="cn-statutory",
            document={"year": year, "holidays": [f"{year}-01-01"], "makeup_workdays": []},
            actor=world.manager,
        )
    assert "Holiday data is missing" not in manager.get("/standards/").content.decode()
