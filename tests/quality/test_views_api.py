"""The process execution page and API: who may read them, what they show, bad input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pledge.quality.selectors import ProcessFilter, process_execution
from pledge.standards.models import ServiceType
from tests.conftest import World
from tests.quality.test_process_execution import SH, _play, repair  # noqa: F401  (fixture)

QUERY = {"start": "2026-10-01", "end": "2026-11-30", "group_by": "step"}


@pytest.fixture
def history(world: World, repair: ServiceType) -> None:  # noqa: F811
    _play(world, repair, seed=5, count=12, start=datetime(2026, 10, 1, 9, tzinfo=SH))


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_kpi_readers_see_the_page(world: World, history: None) -> None:
    for user in (world.agent, world.customer_a):
        assert _client(user).get("/quality/process/", QUERY).status_code == 404
    for user in (world.manager, world.lead, world.inspector, world.admin):
        assert _client(user).get("/quality/process/", QUERY).status_code == 200
    assert Client().get("/quality/process/").status_code == 302  # to sign in


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/quality/process/", QUERY).status_code == 200
    return len(queries.captured_queries)


def test_the_page_costs_the_same_whatever_the_history(world: World, repair: ServiceType) -> None:  # noqa: F811
    client = _client(world.manager)
    _play(world, repair, seed=5, count=6, start=datetime(2026, 10, 1, 9, tzinfo=SH))  # some late steps
    small = _queries(client)
    _play(world, repair, seed=6, count=20, start=datetime(2026, 10, 5, 9, tzinfo=SH))
    # session, user, nav count; filter choices (SOPs, service types, teams, agents); per group and in
    # total, steps and checkpoints and the labels; bottlenecks and their names
    assert _queries(client) == small <= 15


def test_the_page_shows_the_rate_and_bottlenecks(world: World, history: None) -> None:
    client = _client(world.manager)
    page = client.get("/quality/process/", QUERY)
    html = page.content.decode()
    flt = ProcessFilter(start=datetime(2026, 10, 1, tzinfo=SH), end=datetime(2026, 12, 1, tzinfo=SH))
    total = process_execution(flt)[0]
    assert f"{total.on_time_rate:.1f} %" in html
    assert f"{total.steps_completed} steps completed, {total.steps_late} late" in html
    assert "Fault repair · Record parts used" in html  # grouped by step
    assert "Most often late" in html and "Largest median overrun" in html
    assert 'href="/quality/process/"' in html  # the nav link for KPI readers


def test_bad_filters_are_field_errors(world: World) -> None:
    page = _client(world.manager).get("/quality/process/", {"start": "2026-11-30", "end": "2026-10-01"})
    assert page.status_code == 422
    assert "The end comes before the start." in page.content.decode()
    page = _client(world.manager).get("/quality/process/", {"start": "yesterday", "end": "2026-10-01"})
    assert page.status_code == 422 and "Enter a valid date." in page.content.decode()


def test_the_api_gives_the_same_figures(world: World, history: None, api_as: Any) -> None:
    reply = api_as(world.manager).get("/kpis/process-execution", QUERY)
    assert reply.status == 200, reply.body
    flt = ProcessFilter(start=datetime(2026, 10, 1, tzinfo=SH), end=datetime(2026, 12, 1, tzinfo=SH))
    total = process_execution(flt)[0]
    assert reply.body["total"]["steps_completed"] == total.steps_completed
    assert reply.body["total"]["on_time_rate"] == pytest.approx(total.on_time_rate)
    assert {row["key"] for row in reply.body["rows"]} == {
        "repair/diagnose",
        "repair/repair",
        "repair/parts",
        "repair/confirm",
    }
    bottlenecks = api_as(world.lead).get("/kpis/process-execution/bottlenecks", QUERY)
    assert bottlenecks.status == 200
    assert bottlenecks.body["most_often_late"][0]["step"] == "parts"


def test_the_api_refuses_bad_queries_and_outsiders(world: World, api_as: Any) -> None:
    assert api_as(world.agent).get("/kpis/process-execution", QUERY).status == 403
    assert api_as(world.customer_a).get("/kpis/process-execution", QUERY).status == 403
    backwards = api_as(world.manager).get(
        "/kpis/process-execution", {"start": "2026-11-30", "end": "2026-10-01"}
    )
    assert backwards.status == 422 and "end" in backwards.field_errors()
    zone = api_as(world.manager).get("/kpis/process-execution", {**QUERY, "zone": "Mars/Olympus"})
    assert zone.status == 422 and "zone" in zone.field_errors()
    group = api_as(world.manager).get("/kpis/process-execution", {**QUERY, "group_by": "planet"})
    assert group.status == 422
    empty = api_as(world.manager).get("/kpis/process-execution", {"start": "2030-01-01", "end": "2030-01-31"})
    assert empty.status == 200 and empty.body["total"] is None and empty.body["rows"] == []


def test_days_out_of_range_are_refused_not_crashed(world: World, api_as: Any) -> None:
    for start, end in (("0001-01-01", "0001-01-02"), ("2026-01-01", "9999-12-31")):
        reply = api_as(world.manager).get("/kpis/process-execution/bottlenecks", {"start": start, "end": end})
        assert reply.status == 422, reply.body
        page = _client(world.manager).get("/quality/process/", {"start": start, "end": end})
        assert page.status_code == 422
