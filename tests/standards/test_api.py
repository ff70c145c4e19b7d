"""The calendar API with every role: ask when something is due, list, read and replace calendars."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pledge.accounts.models import User
from pledge.standards import services
from pledge.standards.models import BusinessCalendar, CalendarVersion
from tests.api.conftest import ApiClient
from tests.conftest import World
from tests.standards.helpers import OFFICE, SCHEDULE_2027, office

ApiAs = Callable[[User], ApiClient]
STAFF = ["agent", "lead", "manager", "inspector", "admin"]


@pytest.fixture
def builtin(world: World) -> None:
    services.ensure_builtin_calendars()


@pytest.mark.parametrize("persona", STAFF)
def test_staff_ask_when_it_is_due(world: World, builtin: None, api_as: ApiAs, persona: str) -> None:
    reply = api_as(getattr(world, persona)).post(
        "/sla/due", {"calendar": "cn-office", "start": "2026-02-13T17:00:00+08:00", "minutes": 960}
    )
    assert reply.status == 200, reply.body
    assert reply.body == {"due": "2026-02-24T17:00:00+08:00", "provisional": False, "uncovered_years": []}


def test_the_start_may_have_any_offset_and_the_answer_has_the_calendars(
    world: World, builtin: None, api_as: ApiAs
) -> None:
    # 09:00 UTC is 17:00 in Shanghai; 1.5 minutes are 90 seconds.
    reply = api_as(world.agent).post(
        "/sla/due", {"calendar": "cn-office", "start": "2026-02-13T09:00:00Z", "minutes": 1.5}
    )
    assert reply.body["due"] == "2026-02-13T17:01:30+08:00"


def test_a_deadline_into_a_year_without_data_is_flagged_until_it_is_imported(
    world: World, builtin: None, api_as: ApiAs
) -> None:
    body = {"calendar": "cn-office", "start": "2026-12-31T17:00:00+08:00", "minutes": 120}
    reply = api_as(world.agent).post("/sla/due", body)
    assert reply.body == {"due": "2027-01-01T10:00:00+08:00", "provisional": True, "uncovered_years": [2027]}
    services.holiday_year_import(set_code="cn-statutory", document=SCHEDULE_2027, actor=world.admin)
    reply = api_as(world.agent).post("/sla/due", body)
    assert reply.body == {"due": "2027-01-04T10:00:00+08:00", "provisional": False, "uncovered_years": []}


@pytest.mark.parametrize("persona", ["customer_a", "customer_b"])
def test_customers_may_not_ask_or_see_calendars(
    world: World, builtin: None, api_as: ApiAs, persona: str
) -> None:
    client = api_as(getattr(world, persona))
    body = {"calendar": "cn-office", "start": "2026-02-13T17:00:00+08:00", "minutes": 60}
    assert client.post("/sla/due", body).status == 403
    assert client.get("/calendars").status == 403
    assert client.get("/calendars/cn-office").status == 403
    assert client.send("put", "/calendars/cn-office", OFFICE).status == 403


def test_without_a_token_nothing_is_answered(builtin: None, anonymous: ApiClient) -> None:
    body = {"calendar": "cn-office", "start": "2026-02-13T17:00:00+08:00", "minutes": 60}
    assert anonymous.post("/sla/due", body).status == 401
    assert anonymous.get("/calendars").status == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"calendar": "nope"}, "calendar"),
        ({"calendar": "Not A Code"}, "calendar"),
        ({"start": "2026-02-13T17:00:00"}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"start": "1900-01-01T00:00:00Z"}, "start"),
        ({"minutes": -1}, "minutes"),
        ({"minutes": "60"}, "minutes"),
        ({"minutes": True}, "minutes"),
        ({"minutes": 10**7}, "minutes"),
    ],
)
def test_a_bad_question_is_a_422_on_its_field(
    world: World, builtin: None, api_as: ApiAs, change: dict[str, Any], field: str
) -> None:
    body = {"calendar": "cn-office", "start": "2026-02-13T17:00:00+08:00", "minutes": 60, **change}
    reply = api_as(world.agent).post("/sla/due", body)
    assert reply.status == 422, reply.body
    assert field in reply.field_errors()


def test_a_deadline_beyond_the_supported_years_is_a_422(world: World, builtin: None, api_as: ApiAs) -> None:
    body = {"calendar": "cn-office", "start": "2100-12-01T09:00:00+08:00", "minutes": 500_000}
    reply = api_as(world.agent).post("/sla/due", body)
    assert reply.status == 422
    assert "minutes" in reply.field_errors()


def test_staff_list_calendars_in_a_few_queries(world: World, builtin: None, api_as: ApiAs) -> None:
    services.calendar_import(data=office(code="field-team", team="Field"), actor=world.manager)
    client = api_as(world.agent)
    client.get("/me")  # the token's first use stamps it
    with CaptureQueriesContext(connection) as queries:
        reply = client.get("/calendars", {"page_size": 2})
    assert reply.status == 200
    assert len(queries.captured_queries) == 2  # the token with its user · one page with owners
    assert [item["code"] for item in reply.body["items"]] == ["24x7", "cn-office"]
    assert reply.body["has_next"] is True
    page2 = client.get("/calendars", {"page": 2, "page_size": 2}).body
    assert [item["code"] for item in page2["items"]] == ["field-team", "night-shift"]
    field_team = page2["items"][0]
    assert field_team["team"] == {"id": world.field.pk, "name": "Field"}
    assert (field_team["version"], field_team["holiday_sets"], field_team["site"]) == (
        1,
        ["cn-statutory"],
        "",
    )


def test_a_calendar_reads_in_the_file_format(world: World, api_as: ApiAs) -> None:
    services.calendar_import(data=OFFICE, actor=world.manager)
    reply = api_as(world.inspector).get("/calendars/cn-office")
    assert reply.status == 200
    assert reply.body == {**OFFICE, "team": "", "contract": "", "site": ""}
    assert api_as(world.inspector).get("/calendars/nope").status == 404
    assert api_as(world.inspector).get("/calendars/NOPE!").status == 422


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_managers_create_and_replace_calendars(world: World, api_as: ApiAs, persona: str) -> None:
    user = getattr(world, persona)
    client = api_as(user)
    created = client.send("put", "/calendars/cn-office", {k: v for k, v in OFFICE.items() if k != "code"})
    assert created.status == 201, created.body
    assert created.body["weekly"] == OFFICE["weekly"]
    changed = office(
        name="Shanghai office", holidays=[{"date": "2026-10-07", "name": "we work", "active": False}]
    )
    replaced = client.send("put", "/calendars/cn-office?reason=we+work+on+7+October", changed)
    assert replaced.status == 200, replaced.body
    assert replaced.body["holidays"] == [{"date": "2026-10-07", "name": "we work", "active": False}]
    version = CalendarVersion.objects.get(calendar__code="cn-office", version=2)
    assert (version.reason, version.created_by) == ("we work on 7 October", user)
    # The same body again changes nothing.
    assert client.send("put", "/calendars/cn-office", changed).status == 200
    assert BusinessCalendar.objects.get(code="cn-office").version == 2


@pytest.mark.parametrize("persona", ["agent", "lead", "inspector"])
def test_other_staff_may_not_change_calendars(world: World, api_as: ApiAs, persona: str) -> None:
    reply = api_as(getattr(world, persona)).send("put", "/calendars/cn-office", OFFICE)
    assert reply.status == 403
    assert not BusinessCalendar.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weekly": {"tue": ["09:00-12:00", "25:00-26:00"]}}, "weekly.tue.1"),
        ({"weekly": {"funday": []}}, "weekly.funday.[key]"),
        ({"timezone": "Asia/Beijing"}, "timezone"),
        ({"holiday_sets": ["jp-national"]}, "holiday_sets.0"),
        ({"holidays": ["2026-02-30"]}, "holidays.0"),
        ({"makeup_workdays": {"2026-10-10": "someday"}}, "makeup_workdays.2026-10-10"),
        ({"team": "Nobody"}, "team"),
        ({"code": "other"}, "code"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_calendar_is_a_422_on_its_field_and_changes_nothing(
    world: World, api_as: ApiAs, change: dict[str, Any], field: str
) -> None:
    services.calendar_import(data=OFFICE, actor=world.manager)
    body = office(name="Not written")
    body.update(change)
    reply = api_as(world.manager).send("put", "/calendars/cn-office", body)
    assert reply.status == 422, reply.body
    assert field in reply.field_errors(), reply.field_errors()
    calendar = BusinessCalendar.objects.get(code="cn-office")
    assert (calendar.name, calendar.version) == (OFFICE["name"], 1)
