"""SOP execution through the API: tickets of a service type (what customers and staff may choose, what
each sees), a ticket's steps (staff only, scoped like the ticket), answering checkpoints as JSON or
multipart with evidence, who may do a step (back-office steps belong to their team), the resolution
refused over blocking checkpoints and the service manager's override, and the query budgets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pledge.accounts import services as account_services
from pledge.accounts.choices import Role
from pledge.accounts.models import User
from pledge.standards import services as standards_services
from pledge.standards.models import ServiceType
from pledge.tickets import services as ticket_services
from pledge.tickets.choices import EventKind, StepState
from pledge.tickets.models import CheckpointAnswer, Ticket, TicketEvent, TicketStep
from tests.api.conftest import ApiClient
from tests.conftest import World, make_user

Api = Callable[[User], ApiClient]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def new_ticket(world: World, repair: ServiceType, **kwargs: Any) -> Ticket:
    kwargs.setdefault("team", world.frontline)
    return world.ticket(service_type=repair, kind=None, **kwargs)


def states(reply: Any) -> list[tuple[str, str]]:
    return [(step["key"], step["state"]) for step in reply.body["steps"]]


# ---------------------------------------------------------------------------------------------------
# Tickets of a service type


def test_a_customer_asks_for_a_service_and_gets_its_defaults(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    reply = api_as(world.customer_a).post(
        "/tickets", {"subject": "Press leaks oil", "service_type": "fault-repair"}
    )
    assert reply.status == 201, reply.body
    assert reply.body["service_type"] == {"code": "fault-repair", "name": "Fault repair"}
    assert (reply.body["kind"], reply.body["priority"]) == ("fault", "P2")  # the service type's
    # Customers are not shown the SOP behind it; staff are.
    assert reply.body["sop_version"] is None and reply.body["handoff_team"] is None
    staff = api_as(world.agent).get(f"/tickets/{reply.body['id']}")
    assert staff.body["sop_version"] == 1 and staff.body["service_type"]["code"] == "fault-repair"
    listed = api_as(world.customer_a).get("/tickets").body["items"][0]
    assert listed["service_type"]["code"] == "fault-repair" and listed["sop_version"] is None
    # Staff may set kind and priority themselves; left out, a ticket without a service type is a P3 request.
    chosen = api_as(world.agent).post(
        "/tickets",
        {"organisation_id": world.org_a.pk, "subject": "x", "service_type": "fault-repair", "priority": "P1"},
    )
    assert (chosen.body["kind"], chosen.body["priority"]) == ("fault", "P1")
    plain = api_as(world.agent).post("/tickets", {"organisation_id": world.org_a.pk, "subject": "x"})
    assert (plain.body["kind"], plain.body["priority"], plain.body["service_type"]) == ("request", "P3", None)


def test_service_types_that_cannot_be_chosen_are_refused_on_the_field(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    for code, unchoosable in (
        ("internal", {"customer_selectable": False}),
        ("retired", {"is_active": False}),
    ):
        standards_services.service_type_create(
            actor=world.manager,
            code=code,
            name=code.title(),
            category="remote",
            calendar="cn-office",
            **unchoosable,
        )
    customer = api_as(world.customer_a)
    for code in ("internal", "retired", "nonexistent"):
        reply = customer.post("/tickets", {"subject": "x", "service_type": code})
        assert reply.status == 422, code
        assert "service_type" in reply.field_errors()
    staff = api_as(world.agent)
    body = {"organisation_id": world.org_a.pk, "subject": "x"}
    assert staff.post("/tickets", {**body, "service_type": "internal"}).status == 201
    for code, bad in (("retired", 422), ("nonexistent", 422), ("Not A Code", 422), (None, 201)):
        reply = staff.post("/tickets", {**body, "service_type": code})
        assert reply.status == bad, code
        if bad == 422:
            assert "service_type" in reply.field_errors()
    assert staff.post("/tickets", {**body, "kind": None}).status == 422  # left out, not null
    assert Ticket.objects.filter(service_type__code="retired").count() == 0


# ---------------------------------------------------------------------------------------------------
# Reading the steps


def test_staff_read_the_steps_with_clocks_checkpoints_and_blockers(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    ticket = new_ticket(world, repair)
    reply = api_as(world.agent).get(f"/tickets/{ticket.pk}/steps")
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["ticket_id"], body["number"], body["status"]) == (ticket.pk, ticket.number, "new")
    assert body["sop"] == {"code": "repair", "name": "Fault repair"} and body["sop_version"] == 1
    assert states(reply) == [
        ("diagnose", "active"),
        ("repair", "pending"),
        ("parts", "pending"),
        ("confirm", "pending"),
    ]
    assert [step["stage"] for step in body["steps"]] == [1, 2, 2, 3]
    diagnose = body["steps"][0]
    assert diagnose["time_standard_minutes"] == 60 and diagnose["owner"] == "frontline"
    assert diagnose["is_milestone"] is True and diagnose["milestone_name"] == "Fault diagnosed"
    assert diagnose["started_at"] is not None and diagnose["due_at"] is not None
    assert diagnose["remaining_minutes"] == pytest.approx(60 - diagnose["used_minutes"])
    assert diagnose["can_do"] is True and diagnose["on_time"] is None
    pending = body["steps"][1]
    assert pending["started_at"] is None and pending["due_at"] is None and pending["used_minutes"] is None
    cause = diagnose["checkpoints"][0]
    assert (
        cause["key"],
        cause["kind"],
        cause["critical"],
        cause["answer"],
        cause["attempts"],
        cause["blocking"],
    ) == (
        "cause-found",
        "yes_no",
        True,
        None,
        0,
        "unanswered",
    )
    assert diagnose["checkpoints"][1]["blocking"] == ""  # not mandatory
    assert {(b["position"], b["checkpoint"], b["problem"]) for b in body["blockers"]} == {
        (1, "cause-found", "unanswered"),
        (2, "pressure", "unanswered"),
        (3, "parts-used", "unanswered"),
        (4, "customer-ok", "unanswered"),
    }
    assert body["can_override"] is False
    manager = api_as(world.manager).get(f"/tickets/{ticket.pk}/steps")
    assert manager.body["can_override"] is True
    inspector = api_as(world.inspector).get(f"/tickets/{ticket.pk}/steps")
    assert inspector.status == 200 and inspector.body["steps"][0]["can_do"] is False


def test_steps_are_hidden_from_customers_and_from_staff_who_cannot_see_the_ticket(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    ticket = new_ticket(world, repair, team=world.field)
    for persona in ("customer_a", "customer_b", "agent"):  # the agent is not in the field team
        client = api_as(getattr(world, persona))
        assert client.get(f"/tickets/{ticket.pk}/steps").status == 404, persona
        refused = client.post(f"/tickets/{ticket.pk}/steps/1", {"answers": {"cause-found": "yes"}})
        assert refused.status == 404, persona
    assert api_as(world.field_agent).get(f"/tickets/{ticket.pk}/steps").status == 200
    assert api_as(world.agent).get("/tickets/999999/steps").status == 404
    plain = world.ticket(team=world.frontline)
    empty = api_as(world.agent).get(f"/tickets/{plain.pk}/steps")
    assert empty.status == 200 and empty.body["steps"] == [] and empty.body["sop"] is None
    assert api_as(world.agent).post(f"/tickets/{plain.pk}/steps/1", {}).status == 404
    assert not CheckpointAnswer.objects.exists()


# ---------------------------------------------------------------------------------------------------
# Doing the steps


def test_answering_and_completing_a_step_as_json_starts_the_next_stage(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    ticket = new_ticket(world, repair)
    client = api_as(world.agent)
    reply = client.post(
        f"/tickets/{ticket.pk}/steps/1",
        {"answers": {"cause-found": True, "notes": "Seal worn"}, "complete": True},
    )
    assert reply.status == 200, reply.body
    assert states(reply) == [
        ("diagnose", "done"),
        ("repair", "active"),
        ("parts", "active"),
        ("confirm", "pending"),
    ]
    diagnose = reply.body["steps"][0]
    assert diagnose["completed_by"] == {"id": world.agent.pk, "name": "Agent"}
    assert diagnose["business_minutes"] is not None and diagnose["completed_at"] is not None
    answer = diagnose["checkpoints"][0]["answer"]
    assert (answer["value"], answer["passed"], answer["attempt"]) == ("yes", True, 1)
    assert answer["answered_by"]["id"] == world.agent.pk and answer["attachment"] is None
    assert reply.body["version"] == Ticket.objects.get(pk=ticket.pk).version
    # Answers without completing: a number given as a number is judged against the limits.
    recorded = client.post(f"/tickets/{ticket.pk}/steps/2", {"answers": {"pressure": 9.5}, "complete": False})
    assert recorded.status == 200, recorded.body
    repair_step = recorded.body["steps"][1]
    assert repair_step["state"] == "active"
    pressure = repair_step["checkpoints"][0]
    assert (pressure["answer"]["number"], pressure["answer"]["passed"], pressure["blocking"]) == (
        9.5,
        False,
        "failed",
    )
    again = client.post(f"/tickets/{ticket.pk}/steps/2", {"answers": {"pressure": "7,2"}, "complete": False})
    pressure = again.body["steps"][1]["checkpoints"][0]
    assert (pressure["attempts"], pressure["answer"]["number"], pressure["blocking"]) == (2, 7.2, "")
    step_events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STEP).count()
    assert step_events == 3


@pytest.mark.parametrize(
    ("position", "body", "status", "field"),
    [
        (1, {"answers": {"notes": "x"}}, 422, "answers.cause-found"),  # mandatory, missing
        (1, {"answers": {"cause-found": "perhaps"}}, 422, "answers.cause-found"),
        (1, {"answers": {"cause-found": "yes", "bogus": "1"}}, 422, "answers.bogus"),
        (1, {"answers": {}, "complete": False}, 422, "answers"),
        (1, {"answers": {"cause-found": "yes\x00"}}, 422, "answers.cause-found"),
        (1, {"answers": {"cause-found": ["yes"]}}, 422, "answers.cause-found"),
        (1, {"answers": {"cause-found": "yes"}, "complete": "yes"}, 422, "complete"),
        (1, {"answers": {"cause-found": "yes"}, "evidence": {}}, 422, "evidence"),
        (1, {"answers": "yes"}, 422, "answers"),
        (1, ["yes"], 422, "request"),
        (2, {"answers": {"pressure": "6"}}, 409, "position"),  # not started yet
        (9, {"answers": {"x": "y"}}, 404, None),
        (0, {}, 422, "position"),
        (40000, {}, 422, "position"),
    ],
)
def test_bad_step_requests_are_refused_and_change_nothing(
    world: World, api_as: Api, repair: ServiceType, position: int, body: Any, status: int, field: str | None
) -> None:
    ticket = new_ticket(world, repair)
    reply = api_as(world.agent).post(f"/tickets/{ticket.pk}/steps/{position}", body)
    assert reply.status == status, reply.body
    assert reply.body["message"]
    if field is not None:
        assert field in reply.field_errors(), reply.body
    assert not CheckpointAnswer.objects.exists()
    assert TicketStep.objects.get(ticket=ticket, position=1).state == StepState.ACTIVE


def test_a_step_body_that_is_not_json_is_a_400(world: World, api_as: Api, repair: ServiceType) -> None:
    ticket = new_ticket(world, repair)
    reply = api_as(world.agent).post(f"/tickets/{ticket.pk}/steps/1", raw=b"{answers")
    assert reply.status == 400 and reply.body["message"] == "The request body is not valid JSON."
    deep = api_as(world.agent).post(f"/tickets/{ticket.pk}/steps/1", raw=b"[" * 100_000)
    assert deep.status == 400


def test_evidence_is_sent_as_multipart_files(world: World, api_as: Api, repair: ServiceType) -> None:
    ticket = new_ticket(world, repair)
    client = api_as(world.agent)
    assert client.post(f"/tickets/{ticket.pk}/steps/1", {"answers": {"cause-found": "yes"}}).status == 200
    not_a_photo = client.multipart(
        f"/tickets/{ticket.pk}/steps/2",
        {"answers.pressure": "6.5", "evidence.photo": SimpleUploadedFile("report.txt", b"not a photo")},
    )
    assert not_a_photo.status == 422
    assert "not a photo" in not_a_photo.field_errors()["evidence.photo"]
    as_text = client.multipart(
        f"/tickets/{ticket.pk}/steps/2", {"answers.pressure": "6.5", "evidence.photo": "x"}
    )
    assert as_text.status == 422 and "evidence.photo" in as_text.field_errors()
    unknown = client.multipart(f"/tickets/{ticket.pk}/steps/2", {"pressure": "6.5"})
    assert unknown.status == 422 and "pressure" in unknown.field_errors()
    bad_flag = client.multipart(
        f"/tickets/{ticket.pk}/steps/2", {"answers.pressure": "6.5", "complete": "maybe"}
    )
    assert bad_flag.status == 422 and "complete" in bad_flag.field_errors()
    assert not CheckpointAnswer.objects.filter(checkpoint__key="pressure").exists()
    reply = client.multipart(
        f"/tickets/{ticket.pk}/steps/2",
        {
            "answers.pressure": "6.5",
            "evidence.photo": SimpleUploadedFile("unit.png", PNG),
            "complete": "true",
        },
    )
    assert reply.status == 200, reply.body
    repair_step = reply.body["steps"][1]
    assert repair_step["state"] == "done"
    photo = repair_step["checkpoints"][1]["answer"]
    assert (
        photo["attachment"]["filename"] == "unit.png" and photo["attachment"]["content_type"] == "image/png"
    )
    download = client.get(photo["attachment"]["url"].removeprefix("/api/v1"))
    assert download.status == 200
    assert b"".join(download.body.streaming_content) == PNG


def test_a_qa_inspector_reads_but_does_no_step(world: World, api_as: Api, repair: ServiceType) -> None:
    ticket = new_ticket(world, repair)
    reply = api_as(world.inspector).post(f"/tickets/{ticket.pk}/steps/1", {"answers": {"cause-found": "yes"}})
    assert reply.status == 403
    assert reply.body["message"] == f"You may read {ticket.number} but not change it."
    assert not CheckpointAnswer.objects.exists()


def test_a_back_office_step_belongs_to_its_team(world: World, api_as: Api, calendars: object) -> None:
    """Built, approved and offered through the API, then carried out through it."""
    manager = api_as(world.manager)
    steps = [
        {
            "key": "triage",
            "name": "Triage",
            "owner": "frontline",
            "time_standard_minutes": 30,
            "checkpoints": [{"key": "logs", "label": "Logs collected?", "kind": "yes_no"}],
        },
        {
            "key": "analyse",
            "name": "Analyse the logs",
            "owner": "back_office",
            "team": world.back_office.pk,
            "time_standard_minutes": 120,
            "checkpoints": [{"key": "root-cause", "label": "Root cause", "kind": "text"}],
        },
        {"key": "fix", "name": "Apply the fix", "owner": "frontline", "time_standard_minutes": 60},
    ]
    assert manager.post("/sops", {"code": "remote-fix", "name": "Remote fix", "steps": steps}).status == 201
    approved = manager.post(
        "/sops/remote-fix/versions/1/approve", {"effective_from": timezone.localdate().isoformat()}
    )
    assert approved.status == 200, approved.body
    created = manager.post(
        "/service-types",
        {
            "code": "remote",
            "name": "Remote fix",
            "category": "remote",
            "calendar": "24x7",
            "sop": "remote-fix",
        },
    )
    assert created.status == 201, created.body
    ticket = (
        api_as(world.customer_a).post("/tickets", {"subject": "PLC faults", "service_type": "remote"}).body
    )
    assert (
        api_as(world.agent)
        .post(
            "/tickets/{}/assign".format(ticket["id"]),
            {"team_id": world.frontline.pk, "assignee_id": world.agent.pk, "version": ticket["version"]},
        )
        .status
        == 200
    )
    agent = api_as(world.agent)
    handed = agent.post(f"/tickets/{ticket['id']}/steps/1", {"answers": {"logs": "yes"}})
    assert handed.status == 200, handed.body
    assert handed.body["status"] == "waiting_back_office"
    assert handed.body["handoff_team"] == {"id": world.back_office.pk, "name": "Technical"}
    analyse = handed.body["steps"][1]
    assert analyse["team"]["id"] == world.back_office.pk and analyse["can_do"] is False
    detail = agent.get(f"/tickets/{ticket['id']}").body
    assert detail["handoff_team"]["id"] == world.back_office.pk
    refused = agent.post(f"/tickets/{ticket['id']}/steps/2", {"answers": {"root-cause": "Firmware"}})
    assert refused.status == 403
    assert refused.body["message"] == "The step “Analyse the logs” belongs to Technical."
    engineer = make_user("backoffice_engineer", Role.AGENT)
    account_services.team_add_member(team=world.back_office, user=engineer)
    returned = api_as(engineer).post(
        f"/tickets/{ticket['id']}/steps/2", {"answers": {"root-cause": "Firmware 2.1"}}
    )
    assert returned.status == 200, returned.body
    # The ticket went back to the frontline (the engineer's answer still shows what happened).
    assert returned.body["status"] == "in_progress" and returned.body["handoff_team"] is None
    assert [s["state"] for s in returned.body["steps"]] == ["done", "done", "active"]
    assert api_as(engineer).get(f"/tickets/{ticket['id']}/steps").status == 404  # no longer theirs


# ---------------------------------------------------------------------------------------------------
# Resolving over the checkpoints


def test_resolution_is_refused_over_checkpoints_until_a_manager_overrides(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    ticket = new_ticket(world, repair)
    agent = api_as(world.agent)
    assert agent.post(f"/tickets/{ticket.pk}/steps/1", {"answers": {"cause-found": False}}).status == 200
    version = Ticket.objects.get(pk=ticket.pk).version
    refused = agent.post(f"/tickets/{ticket.pk}/transition", {"status": "resolved", "version": version})
    assert refused.status == 422
    assert "checkpoints" in refused.field_errors()
    message = refused.body["message"]
    assert message.startswith(f"{ticket.number} cannot be resolved yet:")
    assert "“Cause found?” (step Diagnose the fault) failed" in message
    assert "“Hydraulic pressure after repair” (step Repair on site) is unanswered" in message
    body = {"status": "resolved", "version": version, "override_reason": "Unit replaced under warranty"}
    assert agent.post(f"/tickets/{ticket.pk}/transition", body).status == 403
    too_long = api_as(world.manager).post(
        f"/tickets/{ticket.pk}/transition", {**body, "override_reason": "x" * 1001}
    )
    assert too_long.status == 422 and "override_reason" in too_long.field_errors()
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    resolved = api_as(world.manager).post(f"/tickets/{ticket.pk}/transition", body)
    assert resolved.status == 200, resolved.body
    assert resolved.body["status"] == "resolved" and resolved.body["version"] == version + 1
    override = TicketEvent.objects.get(ticket=ticket, kind=EventKind.OVERRIDE)
    assert override.actor == world.manager and override.data["reason"] == "Unit replaced under warranty"
    # Resolved: the steps stopped; nothing more is answered until the ticket is reopened.
    late = api_as(world.agent).post(f"/tickets/{ticket.pk}/steps/2", {"answers": {"pressure": "6"}})
    assert late.status == 409 and "reopen" in late.body["message"]


def test_resolution_passes_once_every_checkpoint_is_answered(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    ticket = new_ticket(world, repair)
    agent = api_as(world.agent)
    for position, answers in (
        (1, {"cause-found": "yes"}),
        (2, {"pressure": 6}),
        (3, {"parts-used": "Seal kit"}),
        (4, {"customer-ok": True}),
    ):
        assert agent.post(f"/tickets/{ticket.pk}/steps/{position}", {"answers": answers}).status == 200
    steps = agent.get(f"/tickets/{ticket.pk}/steps").body
    assert steps["blockers"] == [] and all(step["state"] == "done" for step in steps["steps"])
    version = Ticket.objects.get(pk=ticket.pk).version
    reply = agent.post(f"/tickets/{ticket.pk}/transition", {"status": "resolved", "version": version})
    assert reply.status == 200, reply.body


# ---------------------------------------------------------------------------------------------------
# Query budgets


def test_steps_query_count_does_not_grow_with_answers(world: World, api_as: Api, repair: ServiceType) -> None:
    ticket = new_ticket(world, repair)
    client = api_as(world.agent)
    client.get("/me")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/tickets/{ticket.pk}/steps").status == 200
        return len(queries.captured_queries)

    before = count()
    ticket_services.sop_step_complete(
        actor=world.agent, ticket=ticket, position=1, answers={"cause-found": "no"}
    )
    ticket_services.sop_step_complete(
        actor=world.agent,
        ticket=ticket,
        position=1,
        answers={"cause-found": "yes", "notes": "x"},
        complete=False,
    )
    ticket_services.sop_step_complete(
        actor=world.agent, ticket=ticket, position=3, answers={"parts-used": "x"}
    )
    # token · the ticket · its tags · team memberships · led teams · steps with their SOP step, team,
    # clock and calendar · checkpoints · answers · the holiday fingerprint (cn-office uses a holiday set)
    assert count() == before == 9


def test_ticket_list_query_count_with_service_types_does_not_grow_with_the_page(
    world: World, api_as: Api, repair: ServiceType
) -> None:
    for n in range(12):
        new_ticket(world, repair, subject=f"Repair {n}")
    client = api_as(world.agent)
    client.get("/me")

    def count(page_size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            reply = client.get("/tickets", {"page_size": page_size})
        assert len(reply.body["items"]) == page_size
        assert all(item["service_type"]["code"] == "fault-repair" for item in reply.body["items"])
        assert all(item["sop_version"] == 1 for item in reply.body["items"])
        return len(queries.captured_queries)

    # The list's five (tests/api/test_queries.py): service types and SOP versions come with the tickets
    assert count(2) == count(12) == 5
