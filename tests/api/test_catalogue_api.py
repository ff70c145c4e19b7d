"""The service catalogue and SOPs through the API: who reads and who changes service types, SOPs and their
drafts; customers see only what they may ask for; partial updates with 409 on a stale version or
revision; approval by service managers only; errors naming nested fields; diffs; the query budgets of
the lists; and service types as an SLA policy condition."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pledge.accounts.models import User
from pledge.standards import services as standards_services
from pledge.standards.models import ServiceType, Sop, SopVersion
from tests.api.conftest import ApiClient
from tests.conftest import World
from tests.sops import repair_steps

Api = Callable[[User], ApiClient]


def add_service_type(world: World, code: str, **values: Any) -> ServiceType:
    """A service type named after its code (`audit` → Audit), remote, on the office calendar."""
    values = {"name": code.title(), "category": "remote", "calendar": "cn-office", **values}
    return standards_services.service_type_create(actor=world.manager, code=code, **values)


def today() -> str:
    return timezone.localdate().isoformat()


def step_body(**changes: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "key": "inspect",
        "name": "Inspect the unit",
        "owner": "field",
        "time_standard_minutes": 90,
        "checkpoints": [
            {"key": "leak", "label": "Leak found?", "kind": "yes_no", "critical": True},
            {
                "key": "pressure",
                "label": "Pressure",
                "kind": "number",
                "min_value": 5,
                "max_value": 8.5,
                "unit": "bar",
            },
        ],
    }
    step.update(changes)
    return step


def sop_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "inspection",
        "name": "Annual inspection",
        "description": "Once a year, on site.",
        "reason": "First version",
        "steps": [
            {
                "key": "book",
                "name": "Book the visit",
                "owner": "frontline",
                "time_standard_minutes": 30,
                "is_milestone": True,
                "milestone_name": "Visit booked",
            },
            step_body(),
        ],
    }
    body.update(changes)
    return body


def service_type_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "inspection",
        "name": "Annual inspection",
        "description": "We check the unit once a year.",
        "category": "field",
        "calendar": "cn-office",
        "default_kind": "field_visit",
        "default_priority": "P3",
        "skills": ["hydraulics"],
        "resolution_minutes": 960,
    }
    body.update(changes)
    return body


# ---------------------------------------------------------------------------------------------------
# Service types


def test_staff_list_every_service_type_with_its_sop_version_in_effect(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    add_service_type(world, "audit", category="advisory", is_active=False)
    reply = api_as(world.agent).get("/service-types")
    assert reply.status == 200, reply.body
    assert reply.body["has_next"] is False
    by_code = {item["code"]: item for item in reply.body["items"]}
    assert list(by_code) == ["fault-repair", "audit"]  # catalogue order
    item = by_code["fault-repair"]
    assert item["sop"] == {"code": "repair", "name": "Fault repair"}
    assert item["sop_version"] == 1
    assert item["calendar"]["code"] == "cn-office"
    assert (item["default_kind"], item["default_priority"], item["skills"]) == ("fault", "P2", ["hydraulics"])
    assert item["position"] == 1 and item["version"] == 1
    assert by_code["audit"]["is_active"] is False and by_code["audit"]["sop"] is None
    assert by_code["audit"]["sop_version"] is None


def test_customers_see_only_what_they_may_ask_for(world: World, api_as: Api, repair: ServiceType) -> None:
    add_service_type(world, "internal", customer_selectable=False)
    add_service_type(world, "retired", is_active=False)
    client = api_as(world.customer_a)
    reply = client.get("/service-types")
    assert reply.status == 200
    assert reply.body["items"] == [
        {"code": "fault-repair", "name": "Fault repair", "description": "", "category": "field"}
    ]
    assert client.get("/service-types/fault-repair").body == reply.body["items"][0]
    for hidden in ("internal", "retired", "nonexistent"):
        refused = client.get(f"/service-types/{hidden}")
        assert refused.status == 404, hidden
        assert refused.body["message"] == f"There is no service type {hidden}."
    # Staff read them all, with every field.
    staff = api_as(world.inspector).get("/service-types/internal")
    assert staff.status == 200 and staff.body["customer_selectable"] is False


def test_service_managers_add_service_types(world: World, api_as: Api, repair: ServiceType) -> None:
    reply = api_as(world.manager).post("/service-types", service_type_body(sop="repair"))
    assert reply.status == 201, reply.body
    assert reply.body["code"] == "inspection" and reply.body["position"] == 2
    assert reply.body["sop"] == {"code": "repair", "name": "Fault repair"} and reply.body["sop_version"] == 1
    assert reply.body["resolution_minutes"] == 960 and reply.body["first_response_minutes"] is None
    assert ServiceType.objects.get(code="inspection").default_kind == "field_visit"
    for persona in ("agent", "lead", "inspector", "customer_a"):
        refused = api_as(getattr(world, persona)).post("/service-types", service_type_body(code="other"))
        assert refused.status == 403, persona
    assert not ServiceType.objects.filter(code="other").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "fault-repair"}, "code"),  # taken
        ({"code": "Bad Code"}, "code"),
        ({"calendar": "moon"}, "calendar"),
        ({"sop": "nonexistent"}, "sop"),
        ({"category": "magic"}, "category"),
        ({"resolution_minutes": 0}, "resolution_minutes"),
        ({"resolution_minutes": "60"}, "resolution_minutes"),
        ({"customer_selectable": "yes"}, "customer_selectable"),
        ({"skills": ["x" * 51]}, "skills.0"),
        ({"name": "a\x00b"}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_service_types_are_refused_naming_the_field(
    world: World, api_as: Api, repair: ServiceType, changes: dict[str, Any], field: str
) -> None:
    reply = api_as(world.manager).post("/service-types", service_type_body(**changes))
    assert reply.status == 422, reply.body
    assert field in reply.field_errors(), reply.body
    assert ServiceType.objects.count() == 1


def test_service_types_change_partially_and_refuse_stale_versions(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    client = api_as(world.manager)
    reply = client.send(
        "put", "/service-types/fault-repair", {"name": "Fault repair (on site)", "version": 1}
    )
    assert reply.status == 200, reply.body
    assert reply.body["name"] == "Fault repair (on site)" and reply.body["version"] == 2
    assert reply.body["sop"]["code"] == "repair" and reply.body["default_priority"] == "P2"  # kept
    stale = client.send("put", "/service-types/fault-repair", {"description": "Lost update", "version": 1})
    assert stale.status == 409
    assert "version" in stale.field_errors()
    assert ServiceType.objects.get(pk=repair.pk).description == ""
    # null clears what may be empty, and is refused where a value is required.
    cleared = client.send("put", "/service-types/fault-repair", {"sop": None, "resolution_minutes": None})
    assert cleared.status == 200 and cleared.body["sop"] is None and cleared.body["sop_version"] is None
    for body, field in (({"name": None}, "name"), ({"category": None}, "category"), ({"code": "x"}, "code")):
        refused = client.send("put", "/service-types/fault-repair", body)
        assert refused.status == 422 and field in refused.field_errors(), body
    assert client.send("put", "/service-types/nonexistent", {"name": "x"}).status == 404
    for persona in ("agent", "inspector", "customer_a"):
        assert (
            api_as(getattr(world, persona)).send("put", "/service-types/fault-repair", {"name": "x"}).status
            == 403
        )


def test_service_type_list_query_count_does_not_grow_with_the_page(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    other = standards_services.sop_create(
        actor=world.manager, code="other", name="Other", steps=repair_steps(), at=timezone.now()
    )
    standards_services.sop_version_approve(
        actor=world.manager, version=other, effective_from=timezone.localdate()
    )
    for n in range(8):
        add_service_type(world, f"service-{n}", name=f"Service {n}", sop="other" if n % 2 else "repair")

    def count(client: ApiClient, page_size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            reply = client.get("/service-types", {"page_size": page_size})
        assert reply.status == 200 and len(reply.body["items"]) == page_size
        return len(queries.captured_queries)

    staff = api_as(world.agent)
    staff.get("/me")  # the token's first use stamps it
    # token · service types with SOP and calendar · the SOPs · their versions
    assert count(staff, 2) == count(staff, 9) == 4
    customer = api_as(world.customer_a)
    customer.get("/me")
    # token · service types
    assert count(customer, 2) == count(customer, 9) == 2


# ---------------------------------------------------------------------------------------------------
# SOPs


def test_a_service_manager_creates_an_sop_as_a_draft(world: World, api_as: Api) -> None:
    client = api_as(world.manager)
    reply = client.post("/sops", sop_body())
    assert reply.status == 201, reply.body
    draft = reply.body
    assert draft["sop"] == {"code": "inspection", "name": "Annual inspection"}
    assert (draft["number"], draft["status"], draft["state"], draft["revision"]) == (1, "draft", "draft", 1)
    assert draft["created_by"] == {"id": world.manager.pk, "name": "Manager"}
    assert draft["approved_by"] is None and draft["effective_from"] is None
    book, inspect = draft["steps"]
    assert (book["position"], book["milestone_name"], book["checkpoints"]) == (1, "Visit booked", [])
    assert inspect["checkpoints"][1] == {
        "key": "pressure",
        "label": "Pressure",
        "kind": "number",
        "mandatory": True,
        "critical": False,
        "min_value": 5.0,
        "max_value": 8.5,
        "unit": "bar",
    }
    sop = client.get("/sops/inspection").body
    assert (sop["in_effect"], sop["draft"]) == (None, 1)
    assert [(v["number"], v["state"]) for v in sop["versions"]] == [(1, "draft")]
    assert client.get("/sops/inspection/versions/1").body == draft
    assert client.post("/sops", sop_body()).status == 422  # the code is taken


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        # The service's checks, named as the request names them.
        (
            [
                step_body(
                    checkpoints=[{"key": "p", "label": "P", "kind": "number", "min_value": 9, "max_value": 1}]
                )
            ],
            "steps.0.checkpoints.0.max_value",
        ),
        (
            [
                step_body(),
                step_body(
                    key="other", checkpoints=[{"key": "t", "label": "T", "kind": "text", "critical": True}]
                ),
            ],
            "steps.1.checkpoints.0.critical",
        ),
        (
            [
                step_body(),
                step_body(
                    key="other", checkpoints=[{"key": "y", "label": "Y", "kind": "yes_no", "min_value": 1}]
                ),
            ],
            "steps.1.checkpoints.0.min_value",
        ),
        ([step_body(), step_body()], "steps.1.key"),
        ([step_body(owner="back_office")], "steps.0.team"),
        ([step_body(team=999_999)], "steps.0.team"),
        ([], "steps"),
        # The schema's, named the same way.
        ([step_body(time_standard_minutes="60")], "steps.0.time_standard_minutes"),
        ([step_body(time_standard_minutes=600_000)], "steps.0.time_standard_minutes"),
        (
            [step_body(checkpoints=[{"key": "p", "label": "P", "kind": "number", "min_value": "low"}])],
            "steps.0.checkpoints.0.min_value",
        ),
        (
            [step_body(checkpoints=[{"key": "p", "label": "P", "kind": "essay"}])],
            "steps.0.checkpoints.0.kind",
        ),
        ([step_body(owner="robot")], "steps.0.owner"),
        ([step_body(parallel_group="Not A Slug")], "steps.0.parallel_group"),
    ],
)
def test_sop_errors_name_the_step_and_checkpoint(
    world: World, api_as: Api, steps: list[Any], field: str
) -> None:
    reply = api_as(world.manager).post("/sops", sop_body(steps=steps))
    assert reply.status == 422, reply.body
    assert field in reply.field_errors(), reply.body
    assert not Sop.objects.exists()


def test_a_draft_is_replaced_whole_and_stale_revisions_are_refused(world: World, api_as: Api) -> None:
    client = api_as(world.manager)
    assert client.post("/sops", sop_body()).status == 201
    body = {
        "reason": "Shorter booking",
        "name": "Yearly inspection",
        "revision": 1,
        "steps": [{"key": "book", "name": "Book it", "owner": "frontline", "time_standard_minutes": 15}],
    }
    reply = client.send("put", "/sops/inspection/versions/1", body)
    assert reply.status == 200, reply.body
    assert reply.body["revision"] == 2 and reply.body["reason"] == "Shorter booking"
    assert reply.body["sop"]["name"] == "Yearly inspection"
    assert [step["key"] for step in reply.body["steps"]] == ["book"]
    stale = client.send("put", "/sops/inspection/versions/1", {**body, "reason": "Lost update"})
    assert stale.status == 409
    assert "revision" in stale.field_errors()
    assert SopVersion.objects.get().reason == "Shorter booking"
    bad = client.send(
        "put", "/sops/inspection/versions/1", {**body, "revision": 2, "steps": [step_body(owner="x")]}
    )
    assert bad.status == 422 and "steps.0.owner" in bad.field_errors()
    assert client.send("put", "/sops/inspection/versions/7", {**body, "revision": None}).status == 404
    assert client.send("put", "/sops/nonexistent/versions/1", body).status == 404
    for persona in ("agent", "inspector"):
        assert api_as(getattr(world, persona)).send("put", "/sops/inspection/versions/1", body).status == 403


def test_only_service_managers_approve_and_approved_versions_are_frozen(world: World, api_as: Api) -> None:
    manager = api_as(world.manager)
    assert manager.post("/sops", sop_body()).status == 201
    for persona in ("agent", "lead", "inspector", "customer_a"):
        refused = api_as(getattr(world, persona)).post(
            "/sops/inspection/versions/1/approve", {"effective_from": today()}
        )
        assert refused.status == 403, persona
    assert refused.body["message"]
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    past = manager.post("/sops/inspection/versions/1/approve", {"effective_from": yesterday})
    assert past.status == 422 and "effective_from" in past.field_errors()
    not_a_day = manager.post("/sops/inspection/versions/1/approve", {"effective_from": 20261124})
    assert not_a_day.status == 422 and "effective_from" in not_a_day.field_errors()
    reply = manager.post("/sops/inspection/versions/1/approve", {"effective_from": today()})
    assert reply.status == 200, reply.body
    assert (reply.body["status"], reply.body["state"], reply.body["effective_from"]) == (
        "approved",
        "in_effect",
        today(),
    )
    assert reply.body["approved_by"] == {"id": world.manager.pk, "name": "Manager"}
    assert manager.get("/sops/inspection").body["in_effect"] == 1
    again = manager.post("/sops/inspection/versions/1/approve", {"effective_from": today()})
    assert again.status == 409
    frozen = manager.send("put", "/sops/inspection/versions/1", {"reason": "x", "steps": sop_body()["steps"]})
    assert frozen.status == 409 and "approved" in frozen.body["message"]
    assert manager.delete("/sops/inspection/versions/1").status == 409


def test_new_drafts_diffs_and_discarding(world: World, api_as: Api, repair: ServiceType) -> None:
    client = api_as(world.manager)
    started = client.post("/sops/repair/drafts", {"reason": "Faster diagnosis"})
    assert started.status == 201, started.body
    assert (started.body["number"], started.body["state"]) == (2, "draft")
    steps = [
        {k: v for k, v in step.items() if k != "position"} | {"team": None} for step in started.body["steps"]
    ]
    assert [s["key"] for s in steps] == ["diagnose", "repair", "parts", "confirm"]
    again = client.post("/sops/repair/drafts", {"reason": "Another"})
    assert again.status == 409 and "draft" in again.body["message"]
    steps[0]["time_standard_minutes"] = 45
    steps[0]["checkpoints"][1]["mandatory"] = True
    del steps[2]  # parts
    saved = client.send("put", "/sops/repair/versions/2", {"reason": "Faster diagnosis", "steps": steps})
    assert saved.status == 200, saved.body
    diff = client.get("/sops/repair/diff")
    assert diff.status == 200, diff.body
    assert (diff.body["from_version"], diff.body["to_version"]) == (1, 2)
    changes = {step["key"]: step for step in diff.body["steps"]}
    assert {key: step["change"] for key, step in changes.items()} == {
        "diagnose": "changed",
        "repair": "same",
        "confirm": "changed",  # moved up one place
        "parts": "removed",
    }
    fields = {f["field"]: (f["old"], f["new"]) for f in changes["diagnose"]["fields"]}
    assert fields == {"time_standard_minutes": ("1 hour", "45 minutes")}
    (notes,) = changes["diagnose"]["checkpoints"]
    assert notes["label"] == "Diagnosis notes" and notes["change"] == "changed"
    assert notes["fields"][0]["field"] == "mandatory"
    backwards = client.get("/sops/repair/diff", {"from": 2, "to": 1}).body["steps"]
    assert [(step["key"], step["change"]) for step in backwards][2] == ("parts", "added")
    assert client.delete("/sops/repair/versions/2").status == 204
    assert client.get("/sops/repair/versions/2").status == 404
    assert client.delete("/sops/repair/versions/2").status == 404
    assert api_as(world.agent).delete("/sops/repair/versions/1").status == 403


def test_diff_needs_two_versions_that_exist(world: World, api_as: Api, repair: ServiceType) -> None:
    client = api_as(world.agent)
    only = client.get("/sops/repair/diff")
    assert only.status == 422 and "from" in only.field_errors()
    missing = client.get("/sops/repair/diff", {"from": 1, "to": 9})
    assert missing.status == 422 and "to" in missing.field_errors()
    assert client.get("/sops/repair/diff", {"from": 0}).status == 422
    assert client.get("/sops/nonexistent/diff").status == 404


def test_sops_are_for_staff(world: World, api_as: Api, repair: ServiceType) -> None:
    for path in ("/sops", "/sops/repair", "/sops/repair/versions/1", "/sops/repair/diff?from=1&to=1"):
        assert api_as(world.customer_a).get(path).status == 403, path
        assert api_as(world.inspector).get(path).status == 200, path
    assert api_as(world.inspector).post("/sops", sop_body()).status == 403
    assert api_as(world.agent).post("/sops/repair/drafts", {"reason": "x"}).status == 403
    assert api_as(world.customer_a).post("/sops", sop_body()).status == 403


def test_sop_list_query_count_does_not_grow_with_the_page(world: World, api_as: Api) -> None:
    for n in range(6):
        draft = standards_services.sop_create(
            actor=world.manager, code=f"sop-{n}", name=f"SOP {n}", steps=repair_steps(), at=timezone.now()
        )
        if n % 2:
            standards_services.sop_version_approve(
                actor=world.manager, version=draft, effective_from=timezone.localdate()
            )
            standards_services.sop_draft_start(actor=world.manager, sop=draft.sop, reason="Next")
    client = api_as(world.agent)
    client.get("/me")

    def count(page_size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            reply = client.get("/sops", {"page_size": page_size})
        assert reply.status == 200 and len(reply.body["items"]) == page_size
        return len(queries.captured_queries)

    # token · SOPs · their versions with their authors
    assert count(1) == count(6) == 3
    listed = {item["code"]: item for item in client.get("/sops").body["items"]}
    assert (listed["sop-1"]["in_effect"], listed["sop-1"]["draft"]) == (1, 2)
    assert (listed["sop-0"]["in_effect"], listed["sop-0"]["draft"]) == (None, 1)


def test_sla_policies_take_service_types_as_a_condition(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    client = api_as(world.manager)
    body = {
        "name": "Repairs",
        "calendar": "cn-office",
        "resolution_minutes": 480,
        "service_types": ["fault-repair"],
    }
    reply = client.post("/sla/policies", body)
    assert reply.status == 201, reply.body
    assert reply.body["service_types"] == ["fault-repair"]
    unknown = client.post("/sla/policies", {**body, "service_types": ["nonexistent"]})
    assert unknown.status == 422 and "service_types" in unknown.field_errors()
