"""The SLA policy API: list, create, read and replace with nested escalation levels; who may; the JSON
errors of bad bodies, unknown policies and stale versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pledge.accounts.models import User
from pledge.standards import services
from pledge.standards.models import SlaPolicy
from tests.api.conftest import ApiClient
from tests.conftest import World

Api = Callable[[User], ApiClient]


@pytest.fixture
def calendars(world: World) -> Any:
    return services.ensure_builtin_calendars()


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "P1 faults for gold customers",
        "priorities": ["P1"],
        "kinds": ["fault"],
        "tiers": ["gold"],
        "calendar": "24x7",
        "first_response_minutes": 30,
        "resolution_minutes": 480,
        "escalation_levels": [
            {"target": "first_response", "percent": 80, "notify": ["assignee"]},
            {"target": "resolution", "percent": 100, "notify": ["team_lead"], "raise_priority": True},
        ],
    }
    data.update(changes)
    return data


def test_a_manager_creates_a_policy_and_reads_it_back(api_as: Api, world: World, calendars: Any) -> None:
    created = api_as(world.manager).post("/sla/policies", body())
    assert created.status == 201, created.body
    policy = created.body
    assert policy["position"] == 1 and policy["version"] == 1 and policy["is_active"] is True
    assert policy["calendar"] == {"code": "24x7", "name": "全天候 7×24"}
    assert policy["pause_statuses"] == ["waiting_customer", "waiting_parts"]
    assert policy["summary"] == (
        "P1 · Fault · Gold customers: respond within 30 minutes, resolve within 8 hours "
        "(business time on 全天候 7×24)."
    )
    assert [(level["target"], level["percent"]) for level in policy["escalation_levels"]] == [
        ("first_response", 80),
        ("resolution", 100),
    ]
    read = api_as(world.agent).get(f"/sla/policies/{policy['id']}")
    assert read.status == 200 and read.body == policy


def test_get_then_put_round_trips(api_as: Api, world: World, calendars: Any) -> None:
    manager = api_as(world.manager)
    created = manager.post(
        "/sla/policies",
        body(
            escalation_levels=[
                {
                    "target": "resolution",
                    "percent": 150,
                    "reassign_team": world.back_office.pk,
                    "add_watcher": world.lead.pk,
                },
            ]
        ),
    ).body
    editable = {
        key: created[key]
        for key in (
            "name",
            "description",
            "is_active",
            "tiers",
            "kinds",
            "priorities",
            "channels",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "on_site_minutes",
            "pause_statuses",
            "version",
        )
    }
    editable["calendar"] = created["calendar"]["code"]
    editable["contract"] = None
    editable["escalation_levels"] = [
        {
            "target": level["target"],
            "percent": level["percent"],
            "notify": level["notify"],
            "raise_priority": level["raise_priority"],
            "reassign_team": level["reassign_team"]["id"] if level["reassign_team"] else None,
            "add_watcher": level["add_watcher"]["id"] if level["add_watcher"] else None,
        }
        for level in created["escalation_levels"]
    ]
    replaced = manager.send("put", f"/sla/policies/{created['id']}", editable)
    assert replaced.status == 200, replaced.body
    assert replaced.body["version"] == 2
    unchanged = {key: value for key, value in replaced.body.items() if key not in ("version", "updated_at")}
    assert unchanged == {key: value for key, value in created.items() if key not in ("version", "updated_at")}
    assert replaced.body["escalation_levels"][0]["reassign_team"] == {
        "id": world.back_office.pk,
        "name": "Technical",
    }


def test_put_replaces_the_whole_policy(api_as: Api, world: World, calendars: Any) -> None:
    manager = api_as(world.manager)
    created = manager.post("/sla/policies", body()).body
    replaced = manager.send(
        "put",
        f"/sla/policies/{created['id']}",
        {"name": "Everything", "calendar": "cn-office", "resolution_minutes": 960, "version": 1},
    )
    assert replaced.status == 200, replaced.body
    policy = replaced.body
    assert (policy["priorities"], policy["first_response_minutes"], policy["escalation_levels"]) == (
        [],
        None,
        [],
    )
    assert policy["summary"].startswith("All tickets: resolve within 16 hours")


def test_a_stale_version_is_refused_with_409(api_as: Api, world: World, calendars: Any) -> None:
    manager = api_as(world.manager)
    created = manager.post("/sla/policies", body()).body
    manager.send("put", f"/sla/policies/{created['id']}", body(name="First edit", version=1))
    stale = manager.send("put", f"/sla/policies/{created['id']}", body(name="Second edit", version=1))
    assert stale.status == 409
    assert "version 2, yours 1" in stale.body["message"]
    assert SlaPolicy.objects.get().name == "First edit"


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"calendar": "mars-office"}, "calendar", "There is no calendar mars-office."),
        (
            {"first_response_minutes": None, "resolution_minutes": None, "escalation_levels": []},
            "first_response_minutes",
            "at least one",
        ),
        ({"pause_statuses": ["closed"]}, "pause_statuses", "closed cannot pause the clock"),
        ({"contract": "C-404"}, "contract", "There is no contract numbered C-404."),
        (
            {"escalation_levels": [{"target": "on_site", "percent": 100, "notify": ["assignee"]}]},
            "escalation_levels.0.target",
            "promises no On-site arrival target",
        ),
        (
            {"escalation_levels": [{"target": "resolution", "percent": 100}]},
            "escalation_levels.0.notify",
            "A level must do something",
        ),
        (
            {
                "escalation_levels": [
                    {"target": "resolution", "percent": 90, "notify": ["assignee"]},
                    {"target": "resolution", "percent": 90, "raise_priority": True},
                ]
            },
            "escalation_levels.1.percent",
            "already",
        ),
    ],
)
def test_domain_errors_name_the_field(
    api_as: Api, world: World, calendars: Any, changes: dict[str, Any], field: str, text: str
) -> None:
    reply = api_as(world.manager).post("/sla/policies", body(**changes))
    assert reply.status == 422, reply.body
    assert text in reply.field_errors()[field]
    assert reply.body["message"]
    assert not SlaPolicy.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tiers": ["diamond"]}, "tiers.0"),
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"resolution_minutes": 525_601}, "resolution_minutes"),
        ({"resolution_minutes": "480"}, "resolution_minutes"),
        (
            {"escalation_levels": [{"target": "resolution", "percent": 1001, "notify": []}]},
            "escalation_levels.0.percent",
        ),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_malformed_bodies_are_422_with_the_field(
    api_as: Api, world: World, calendars: Any, changes: dict[str, Any], field: str
) -> None:
    reply = api_as(world.manager).post("/sla/policies", body(**changes))
    assert reply.status == 422
    assert field in reply.field_errors()


def test_who_may_use_the_policy_api(api_as: Api, anonymous: ApiClient, world: World, calendars: Any) -> None:
    created = api_as(world.admin).post("/sla/policies", body())
    assert created.status == 201
    pk = created.body["id"]
    assert api_as(world.agent).get("/sla/policies").status == 200
    assert api_as(world.inspector).get(f"/sla/policies/{pk}").status == 200
    refused = api_as(world.agent).post("/sla/policies", body())
    assert refused.status == 403
    assert refused.body == {
        "message": "Only service managers and administrators can change SLA policies.",
        "errors": [],
    }
    assert api_as(world.lead).send("put", f"/sla/policies/{pk}", body()).status == 403
    assert api_as(world.customer_a).get("/sla/policies").status == 403
    assert api_as(world.customer_a).get(f"/sla/policies/{pk}").status == 403
    assert anonymous.get("/sla/policies").status == 401


def test_unknown_policies_are_404(api_as: Api, world: World, calendars: Any) -> None:
    manager = api_as(world.manager)
    assert manager.get("/sla/policies/424242").status == 404
    missing = manager.send("put", "/sla/policies/424242", body())
    assert missing.status == 404
    assert missing.body["message"] == "There is no SLA policy 424242."


def test_the_list_is_paged_in_order(api_as: Api, world: World, calendars: Any) -> None:
    manager = api_as(world.manager)
    for name in ("First", "Second", "Third"):
        manager.post("/sla/policies", body(name=name))
    page = manager.get("/sla/policies", {"page_size": 2}).body
    assert [item["name"] for item in page["items"]] == ["First", "Second"]
    assert page["has_next"] is True
    rest = manager.get("/sla/policies", {"page_size": 2, "page": 2}).body
    assert [item["name"] for item in rest["items"]] == ["Third"] and rest["has_next"] is False
