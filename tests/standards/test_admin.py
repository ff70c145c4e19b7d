"""The admin edits calendars with their holidays and make-up days inline; every save is a recorded version,
and hours are checked as an import checks them."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from pledge.standards import services
from pledge.standards.models import BusinessCalendar, CalendarVersion
from tests.conftest import World
from tests.standards.helpers import OFFICE


def _form(calendar: BusinessCalendar | None = None, **fields: Any) -> dict[str, Any]:
    data = {
        "code": "cn-office",
        "name": "中国标准工作日历",
        "timezone": "Asia/Shanghai",
        "weekly": json.dumps(OFFICE["weekly"]),
        "holiday_sets": json.dumps(["cn-statutory"]),
        "team": "",
        "contract": "",
        "site": "",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
        "makeup_days-TOTAL_FORMS": "0",
        "makeup_days-INITIAL_FORMS": "0",
    }
    if calendar is not None:
        holidays = list(calendar.holidays.all())
        data["holidays-TOTAL_FORMS"] = data["holidays-INITIAL_FORMS"] = str(len(holidays))
        for index, holiday in enumerate(holidays):
            data |= {
                f"holidays-{index}-id": str(holiday.pk),
                f"holidays-{index}-calendar": str(calendar.pk),
                f"holidays-{index}-date": holiday.date.isoformat(),
                f"holidays-{index}-name": holiday.name,
                f"holidays-{index}-is_active": "on" if holiday.is_active else "",
            }
        makeups = list(calendar.makeup_days.all())
        data["makeup_days-TOTAL_FORMS"] = data["makeup_days-INITIAL_FORMS"] = str(len(makeups))
        for index, makeup in enumerate(makeups):
            data |= {
                f"makeup_days-{index}-id": str(makeup.pk),
                f"makeup_days-{index}-calendar": str(calendar.pk),
                f"makeup_days-{index}-date": makeup.date.isoformat(),
                f"makeup_days-{index}-weekday": str(makeup.weekday),
            }
    data.update(fields)
    return {key: value for key, value in data.items() if not (key.endswith("is_active") and value == "")}


def _admin(world: World) -> Client:
    client = Client()
    client.force_login(world.admin)
    return client


def test_the_admin_lists_and_shows_calendars(world: World) -> None:
    services.ensure_builtin_calendars()
    client = _admin(world)
    listed = client.get("/admin/standards/businesscalendar/")
    assert listed.status_code == 200
    assert "night-shift" in listed.content.decode()
    calendar = BusinessCalendar.objects.get(code="cn-office")
    assert client.get(f"/admin/standards/businesscalendar/{calendar.pk}/change/").status_code == 200
    assert client.get("/admin/standards/calendarversion/").status_code == 200
    assert client.get("/admin/standards/holidaysetyear/").status_code == 200


def test_an_admin_edit_with_an_inline_holiday_is_a_recorded_version(world: World) -> None:
    calendar = services.calendar_import(data=OFFICE, actor=world.manager).calendar
    form = _form(calendar, name="Shanghai office")
    form |= {
        "holidays-TOTAL_FORMS": "2",
        "holidays-1-date": "2026-12-24",
        "holidays-1-name": "Christmas Eve",
        "holidays-1-is_active": "on",
    }
    response = _admin(world).post(f"/admin/standards/businesscalendar/{calendar.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar.refresh_from_db()
    assert (calendar.name, calendar.version) == ("Shanghai office", 2)
    version = calendar.versions.get(version=2)
    assert (version.created_by, version.reason) == (world.admin, "Edited in the admin")
    assert version.snapshot["holidays"] == [{"date": "2026-12-24", "name": "Christmas Eve"}, "2026-12-31"]


def test_an_admin_form_with_bad_hours_is_refused_and_changes_nothing(world: World) -> None:
    calendar = services.calendar_import(data=OFFICE, actor=world.manager).calendar
    form = _form(calendar, weekly=json.dumps({"tue": ["09:00-12:00", "25:00-26:00"]}))
    response = _admin(world).post(f"/admin/standards/businesscalendar/{calendar.pk}/change/", form)
    assert response.status_code == 200
    assert "weekly.tue[1]: &quot;25:00-26:00&quot; is not a time range" in response.content.decode()
    calendar.refresh_from_db()
    assert calendar.version == 1 and calendar.weekly == OFFICE["weekly"]


def test_a_calendar_added_in_the_admin_is_version_1(world: World) -> None:
    form = _form(code="hk-office", timezone="Asia/Hong_Kong", weekly=json.dumps({"mon": "9:00-17:00"}))
    response = _admin(world).post("/admin/standards/businesscalendar/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar = BusinessCalendar.objects.get(code="hk-office")
    assert calendar.version == 1
    assert calendar.weekly == {"mon": ["09:00-17:00"]}  # stored in the canonical form
    assert CalendarVersion.objects.get(calendar=calendar).snapshot["weekly"] == {"mon": ["09:00-17:00"]}
