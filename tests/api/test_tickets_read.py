"""Reading tickets through the API: who sees what, filters, sorting, pages, the detail and its timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from pledge.tickets import services
from pledge.tickets.models import Ticket
from tests.conftest import World


@pytest.fixture
def tickets(world: World) -> dict[str, Ticket]:
    return {
        "a_frontline": world.ticket(team=world.frontline, subject="Coolant leak"),
        "a_field": world.ticket(team=world.field, subject="Site visit for pump"),
        "b_unrouted": world.ticket(org=world.org_b, subject="Valve noise"),
    }


# persona → tickets it must see (and, by omission, the ones it must not)
VISIBLE = {
    "customer_a": {"a_frontline", "a_field"},
    "customer_b": {"b_unrouted"},
    "agent": {"a_frontline", "b_unrouted"},
    "field_agent": {"a_field", "b_unrouted"},
    "lead": {"a_frontline", "b_unrouted"},
    "manager": {"a_frontline", "a_field", "b_unrouted"},
    "inspector": {"a_frontline", "a_field", "b_unrouted"},
    "admin": {"a_frontline", "a_field", "b_unrouted"},
}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_each_role_sees_exactly_its_tickets_in_list_and_detail(
    world: World, tickets: dict[str, Ticket], api_as, persona: str
) -> None:
    client = api_as(getattr(world, persona))
    listed = {item["id"] for item in client.get("/tickets", {"page_size": 100}).body["items"]}
    assert listed == {tickets[name].pk for name in VISIBLE[persona]}
    for name, ticket in tickets.items():
        reply = client.get(f"/tickets/{ticket.pk}")
        expected = 200 if name in VISIBLE[persona] else 404
        assert reply.status == expected, (persona, name)


def test_customer_of_a_gets_404_for_a_ticket_of_b_like_for_a_missing_one(
    world: World, tickets: dict[str, Ticket], api_as
) -> None:
    client = api_as(world.customer_a)
    hidden = client.get(f"/tickets/{tickets['b_unrouted'].pk}")
    missing = client.get("/tickets/987654321")
    assert hidden.status == missing.status == 404
    assert hidden.body == missing.body


def test_agent_outside_the_team_gets_404_but_the_assignee_sees_it(
    world: World, tickets: dict[str, Ticket], api_as
) -> None:
    ticket = tickets["a_field"]
    assert api_as(world.agent).get(f"/tickets/{ticket.pk}").status == 404
    services.ticket_assign(
        actor=world.manager, ticket=ticket, team=world.field, assignee=world.field_agent, expected_version=1
    )
    assert api_as(world.field_agent).get(f"/tickets/{ticket.pk}").status == 200
    assert api_as(world.agent).get(f"/tickets/{ticket.pk}").status == 404


def test_list_item_shape(world: World, api_as) -> None:
    ticket = world.ticket(
        team=world.frontline,
        assignee=world.agent,
        contact=world.contact_a,
        asset=world.asset_a,
        tags=["Hydraulics", "urgent"],
        priority="P1",
    )
    item = api_as(world.manager).get("/tickets").body["items"][0]
    assert item["id"] == ticket.pk
    assert item["number"] == f"SR-{ticket.pk:06d}"
    assert item["organisation"] == {"id": world.org_a.pk, "name": "Org A Machining"}
    assert item["contact"] == {"id": world.contact_a.pk, "name": "Alice A"}
    assert item["asset_id"] == world.asset_a.pk
    assert item["team"] == {"id": world.frontline.pk, "name": "Frontline"}
    assert item["assignee"] == {"id": world.agent.pk, "name": "Agent"}
    assert item["tags"] == ["hydraulics", "urgent"]
    assert (item["priority"], item["status"], item["kind"], item["version"]) == ("P1", "new", "fault", 1)
    assert item["first_response_at"] is None


def test_filters(world: World, api_as) -> None:
    long_ago = timezone.now() - timedelta(days=30)
    p1 = world.ticket(priority="P1", team=world.frontline, assignee=world.agent, tags=["pump"])
    old = world.ticket(kind="complaint", channel="email", asset=world.asset_a, at=long_ago)
    other = world.ticket(org=world.org_b, subject="Dosing pump stalls", team=world.back_office)
    services.ticket_transition(actor=world.agent, ticket=old, to_status="acknowledged", expected_version=1)
    client = api_as(world.manager)

    def ids(**params: object) -> set[int]:
        reply = client.get("/tickets", params)
        assert reply.status == 200, reply.body
        return {item["id"] for item in reply.body["items"]}

    assert ids(status=["new", "acknowledged"]) == {p1.pk, old.pk, other.pk}
    assert ids(status="acknowledged") == {old.pk}
    assert ids(priority="P1") == {p1.pk}
    assert ids(kind="complaint") == {old.pk}
    assert ids(channel="email") == {old.pk}
    assert ids(team_id=world.back_office.pk) == {other.pk}
    assert ids(assignee_id=world.agent.pk) == {p1.pk}
    assert ids(organisation_id=world.org_b.pk) == {other.pk}
    assert ids(asset_id=world.asset_a.pk) == {old.pk}
    assert ids(tag="PUMP") == {p1.pk}
    assert ids(q="dosing") == {other.pk}
    assert ids(q=p1.number) == {p1.pk}
    assert ids(q=str(p1.pk)) == {p1.pk}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(created_after=since) == {p1.pk, other.pk}
    assert ids(created_before=since) == {old.pk}
    assert ids(view="unassigned") == {old.pk, other.pk}
    assert api_as(world.agent).get("/tickets", {"view": "mine"}).body["items"][0]["id"] == p1.pk
    assert {i["id"] for i in api_as(world.agent).get("/tickets", {"view": "team"}).body["items"]} == {p1.pk}


def test_views_leave_out_closed_tickets(world: World, api_as) -> None:
    done = world.ticket()
    services.ticket_transition(actor=world.agent, ticket=done, to_status="resolved", expected_version=1)
    services.ticket_transition(actor=world.agent, ticket=done, to_status="closed", expected_version=2)
    open_ticket = world.ticket()
    client = api_as(world.manager)
    assert [i["id"] for i in client.get("/tickets", {"view": "open"}).body["items"]] == [open_ticket.pk]
    assert {i["id"] for i in client.get("/tickets", {"view": "all"}).body["items"]} == {
        done.pk,
        open_ticket.pk,
    }


def test_sorting(world: World, api_as) -> None:
    now = timezone.now()
    first = world.ticket(priority="P3", at=now - timedelta(hours=3))
    second = world.ticket(priority="P1", at=now - timedelta(hours=2))
    third = world.ticket(priority="P3", at=now - timedelta(hours=1))
    services.ticket_update(actor=world.agent, ticket=first, expected_version=1, subject="Touched last")
    client = api_as(world.manager)

    def order(sort: str) -> list[int]:
        return [item["id"] for item in client.get("/tickets", {"sort": sort}).body["items"]]

    assert order("urgency") == [second.pk, first.pk, third.pk]
    assert order("newest") == [third.pk, second.pk, first.pk]
    assert order("oldest") == [first.pk, second.pk, third.pk]
    assert order("updated")[0] == first.pk


def test_pages_say_whether_another_follows(world: World, api_as) -> None:
    made = [world.ticket(subject=f"Ticket {n}") for n in range(5)]
    client = api_as(world.manager)
    pages = [client.get("/tickets", {"sort": "oldest", "page": n, "page_size": 2}).body for n in (1, 2, 3)]
    assert [p["has_next"] for p in pages] == [True, True, False]
    assert [i["id"] for p in pages for i in p["items"]] == [t.pk for t in made]
    assert pages[2]["page"] == 3 and pages[2]["page_size"] == 2
    beyond = client.get("/tickets", {"page": 100000, "page_size": 100})
    assert beyond.status == 200 and beyond.body["items"] == [] and not beyond.body["has_next"]


def test_detail_timeline_hides_internal_notes_and_events_from_customers(world: World, api_as) -> None:
    ticket = world.ticket(team=world.frontline, contact=world.contact_a, description="It smokes.")
    services.ticket_reply(actor=world.agent, ticket=ticket, body="We will call you.")
    services.ticket_note(actor=world.agent, ticket=ticket, body="Secret: warranty expired.")
    services.ticket_update(actor=world.agent, ticket=ticket, expected_version=2, priority="P1")
    services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status="resolved", expected_version=3, reason="Fan replaced"
    )

    staff = api_as(world.inspector).get(f"/tickets/{ticket.pk}").body
    customer = api_as(world.customer_a).get(f"/tickets/{ticket.pk}").body

    def bodies(detail: dict) -> list[str]:
        return [e["message"]["body"] for e in detail["timeline"] if e["type"] == "message"]

    def events(detail: dict) -> list[str]:
        return [e["event"]["kind"] for e in detail["timeline"] if e["type"] == "event"]

    assert bodies(staff) == ["We will call you.", "Secret: warranty expired."]
    assert bodies(customer) == ["We will call you."]
    assert "priority" in events(staff)
    assert "priority" not in events(customer)
    assert "Secret" not in str(customer)
    resolved = [
        e["event"] for e in staff["timeline"] if e["type"] == "event" and e["event"]["kind"] == "status"
    ]
    assert resolved[-1]["reason"] == "Fan replaced"
    assert all(e["event"]["reason"] == "" for e in customer["timeline"] if e["type"] == "event")
    assert customer["description"] == "It smokes."
    assert customer["allowed_transitions"] == ["closed", "in_progress"]
    assert staff["allowed_transitions"] == []  # inspectors only read
    assert (customer["can_reply"], customer["can_note"], customer["can_edit"]) == (True, False, False)
    assert (staff["can_reply"], staff["can_note"], staff["can_edit"]) == (False, False, False)
    agent = api_as(world.agent).get(f"/tickets/{ticket.pk}").body
    assert (agent["can_reply"], agent["can_note"], agent["can_edit"]) == (True, True, True)
    assert agent["allowed_transitions"] == ["closed", "in_progress"]


def test_detail_lists_attachments_with_download_urls(world: World, api_as) -> None:
    ticket = world.ticket(
        attachments=[SimpleUploadedFile("photo.txt", b"motor plate: 400 V")], asset=world.asset_a
    )
    message = services.ticket_reply(
        actor=world.agent, ticket=ticket, body="See log", attachments=[SimpleUploadedFile("log.txt", b"ok")]
    )
    detail = api_as(world.customer_a).get(f"/tickets/{ticket.pk}").body
    assert detail["asset"] == {"id": world.asset_a.pk, "model": "CNC-500", "serial_number": "A-0001"}
    assert [a["filename"] for a in detail["attachments"]] == ["photo.txt"]
    assert detail["attachments"][0]["message_id"] is None
    [reply] = [e["message"] for e in detail["timeline"] if e["type"] == "message"]
    assert reply["id"] == message.pk
    [log] = reply["attachments"]
    assert (log["filename"], log["content_type"], log["size"]) == ("log.txt", "text/plain", 2)
    assert log["url"] == f"/api/v1/tickets/{ticket.pk}/attachments/{log['id']}"
    download = api_as(world.customer_a).get(log["url"].removeprefix("/api/v1"))
    assert download.status == 200
    assert b"".join(download.body.streaming_content) == b"ok"
    assert download.headers["Content-Disposition"].startswith("attachment")
