"""SLA clocks through the API: the ticket detail's `sla` for staff and (redacted) for customers, the list's
`sla_due_at` and `sort=sla`, recording arrival on site (422, 409, 403, 404), watching, and each user's
own notifications; with the query budgets of the list and the detail when clocks are present."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pledge.accounts.models import Notification, User
from pledge.standards import services as standards_services
from pledge.standards.models import SlaPolicy
from pledge.tickets import clocks, services
from pledge.tickets.models import Ticket
from tests.api.conftest import ApiClient
from tests.conftest import World

Api = Callable[[User], ApiClient]


def ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


@pytest.fixture
def policy(db: object) -> SlaPolicy:
    calendars = {c.code: c for c in standards_services.ensure_builtin_calendars()}
    policy = SlaPolicy.objects.create(
        name="Gold 24x7",
        calendar=calendars["24x7"],
        first_response_minutes=120,
        next_response_minutes=60,
        resolution_minutes=960,
        on_site_minutes=240,
    )
    clocks.forget_cached_policies()
    return policy


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_detail_gives_staff_the_whole_sla(world: World, api_as: Api, policy: SlaPolicy) -> None:
    ticket = world.ticket(at=ago(30), team=world.frontline, contact=world.contact_a)
    services.ticket_reply(actor=world.agent, ticket=ticket, body="On it", at=ago(25))
    services.ticket_reply(actor=world.customer_a, ticket=ticket, body="Thanks, one more thing", at=ago(20))
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Sure", at=ago(15))
    services.ticket_reply(actor=world.customer_a, ticket=ticket, body="And another", at=ago(10))
    services.ticket_add_watcher(actor=world.lead, ticket=ticket, user=world.lead)
    reply = api_as(world.agent).get(f"/tickets/{ticket.pk}")
    assert reply.status == 200
    sla = reply.body["sla"]
    assert sla["policy"] == {"id": policy.pk, "name": "Gold 24x7"}
    assert sla["contract"] is None
    by_target = {clock["target"]: clock for clock in sla["clocks"]}
    assert list(by_target) == ["first_response", "next_response", "resolution"]
    first = by_target["first_response"]
    assert set(first) == {
        "target",
        "cycle",
        "state",
        "due_at",
        "target_minutes",
        "used_minutes",
        "paused_minutes",
        "remaining_minutes",
        "percent_used",
        "paused",
        "provisional_years",
        "achieved_at",
        "met",
    }
    assert first["state"] == "achieved" and first["met"] is True
    assert first["used_minutes"] == pytest.approx(5, abs=0.1)
    assert first["achieved_at"] is not None
    nxt = by_target["next_response"]
    assert nxt["cycle"] == 1 and nxt["state"] == "running" and nxt["met"] is None
    assert nxt["remaining_minutes"] == pytest.approx(50, abs=0.5)
    assert nxt["due_at"] is not None and nxt["provisional_years"] == []
    resolution = by_target["resolution"]
    assert resolution["used_minutes"] == pytest.approx(30, abs=0.5)
    assert resolution["percent_used"] == pytest.approx(3.1, abs=0.1)
    assert [(c["target"], c["cycle"], c["state"]) for c in sla["history"]] == [
        ("next_response", 0, "achieved")
    ]
    assert reply.body["watchers"] == [{"id": world.lead.pk, "name": "Lead"}]
    assert datetime.fromisoformat(reply.body["sla_due_at"]) == datetime.fromisoformat(nxt["due_at"])


def test_detail_shows_paused_and_overdue_clocks(world: World, api_as: Api, policy: SlaPolicy) -> None:
    overdue = world.ticket(at=ago(150), team=world.frontline)
    paused = world.ticket(at=ago(30), team=world.frontline)
    paused = services.ticket_transition(
        actor=world.agent, ticket=paused, to_status="in_progress", expected_version=paused.version, at=ago(20)
    )
    services.ticket_transition(
        actor=world.agent,
        ticket=paused,
        to_status="waiting_customer",
        expected_version=paused.version,
        at=ago(20),
    )
    client = api_as(world.agent)
    first = client.get(f"/tickets/{overdue.pk}").body["sla"]["clocks"][0]
    assert first["state"] == "breached"  # before the sweep marked it
    assert first["remaining_minutes"] == pytest.approx(-30, abs=0.5)
    first = client.get(f"/tickets/{paused.pk}").body["sla"]["clocks"][0]
    assert first["state"] == "paused" and first["paused"] is True and first["due_at"] is None
    assert first["used_minutes"] == pytest.approx(10, abs=0.5)
    assert first["paused_minutes"] == pytest.approx(20, abs=0.5)


def test_customers_get_only_the_promised_times(world: World, api_as: Api, policy: SlaPolicy) -> None:
    ticket = world.ticket(actor=world.customer_a, at=ago(30))
    services.ticket_add_watcher(actor=world.lead, ticket=ticket, user=world.lead)
    reply = api_as(world.customer_a).get(f"/tickets/{ticket.pk}")
    assert reply.status == 200
    sla = reply.body["sla"]
    assert set(sla) == {"clocks"}
    assert [set(clock) for clock in sla["clocks"]] == [{"target", "state", "due_at", "achieved_at"}] * 2
    assert [clock["target"] for clock in sla["clocks"]] == ["first_response", "resolution"]
    assert reply.body["watchers"] is None
    assert "Gold 24x7" not in str(reply.body)
    # Another organisation's customer sees nothing at all.
    assert api_as(world.customer_b).get(f"/tickets/{ticket.pk}").status == 404


def test_ticket_without_a_policy_has_an_empty_sla(world: World, api_as: Api) -> None:
    ticket = world.ticket(team=world.frontline)
    body = api_as(world.agent).get(f"/tickets/{ticket.pk}").body
    assert body["sla"] == {"policy": None, "contract": None, "clocks": [], "history": []}
    assert body["sla_due_at"] is None and body["on_site_at"] is None


def test_list_items_carry_sla_due_and_sort_by_it(world: World, api_as: Api, policy: SlaPolicy) -> None:
    late = world.ticket(subject="late", at=ago(100))
    soon = world.ticket(subject="soon", at=ago(50))
    paused = world.ticket(subject="paused", at=ago(10))
    paused = services.ticket_transition(
        actor=world.agent, ticket=paused, to_status="in_progress", expected_version=paused.version
    )
    services.ticket_transition(
        actor=world.agent, ticket=paused, to_status="waiting_parts", expected_version=paused.version
    )
    reply = api_as(world.manager).get("/tickets", {"view": "open", "sort": "sla"})
    assert reply.status == 200
    items = reply.body["items"]
    assert [item["subject"] for item in items] == ["late", "soon", "paused"]
    assert items[0]["sla_due_at"] is not None and items[2]["sla_due_at"] is None
    due = fresh(late).sla_due_at
    assert due is not None
    assert abs(datetime.fromisoformat(items[0]["sla_due_at"]) - due) < timedelta(milliseconds=1)
    assert soon.pk == items[1]["id"]
    bad = api_as(world.manager).get("/tickets", {"sort": "sideways"})
    assert bad.status == 422 and "sort" in bad.field_errors()


def test_list_query_count_is_the_same_with_clocks(
    world: World, api_as: Api, policy: SlaPolicy, django_assert_num_queries: Any
) -> None:
    for n in range(30):
        ticket = world.ticket(subject=f"Ticket {n}", at=ago(n), contact=world.contact_a, tags=["pump"])
        if n % 3 == 0:
            services.ticket_reply(actor=world.customer_a, ticket=ticket, body="More")
    client = api_as(world.agent)
    assert client.get("/me").status == 200
    assert client.get("/tickets", {"page_size": 5, "sort": "sla"}).status == 200  # compile the calendars
    # token · team memberships · led teams · the calendars and the holiday fingerprint (the business
    # time left on each calendar) · page · tags: the clocks are not read for a list.
    with django_assert_num_queries(7):
        large = client.get("/tickets", {"page_size": 25, "sort": "sla"})
    assert len(large.body["items"]) == 25
    assert all(item["sla_due_at"] for item in large.body["items"])


def test_detail_query_count_does_not_grow_with_the_clocks(
    world: World, api_as: Api, policy: SlaPolicy
) -> None:
    ticket = world.ticket(at=ago(60), team=world.frontline, contact=world.contact_a)
    services.ticket_reply(actor=world.agent, ticket=ticket, body="First")
    client = api_as(world.agent)
    assert client.get(f"/tickets/{ticket.pk}").status == 200

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/tickets/{ticket.pk}").status == 200
        return len(queries.captured_queries)

    short = count()
    for n in range(5):
        services.ticket_reply(actor=world.customer_a, ticket=ticket, body=f"Question {n}")
        services.ticket_reply(actor=world.agent, ticket=ticket, body=f"Answer {n}")
    assert len(client.get(f"/tickets/{ticket.pk}").body["sla"]["history"]) == 4
    assert count() == short


# Arrival on site --------------------------------------------------------------------------------


@pytest.fixture
def visit(world: World, policy: SlaPolicy) -> Ticket:
    return world.ticket(kind="field_visit", at=ago(30), team=world.field, assignee=world.field_agent)


def test_arrival_achieves_the_on_site_clock(world: World, api_as: Api, visit: Ticket) -> None:
    client = api_as(world.field_agent)
    reply = client.post(f"/tickets/{visit.pk}/arrival", {"version": visit.version})
    assert reply.status == 200, reply.body
    assert reply.body["on_site_at"] is not None
    assert reply.body["version"] == visit.version + 1
    clocks_now = {c["target"]: c for c in client.get(f"/tickets/{visit.pk}").body["sla"]["clocks"]}
    assert clocks_now["on_site"]["state"] == "achieved" and clocks_now["on_site"]["met"] is True
    timeline = client.get(f"/tickets/{visit.pk}").body["timeline"]
    assert any(entry["type"] == "event" and entry["event"]["kind"] == "on_site" for entry in timeline)


def test_arrival_errors(world: World, api_as: Api, visit: Ticket, policy: SlaPolicy) -> None:
    client = api_as(world.field_agent)
    stale = client.post(f"/tickets/{visit.pk}/arrival", {"version": visit.version + 7})
    assert stale.status == 409
    assert "changed by someone else" in stale.body["message"]
    assert stale.field_errors() == {"version": "Stale version."}

    fault = world.ticket(team=world.field)
    not_visit = client.post(f"/tickets/{fault.pk}/arrival", {"version": fault.version})
    assert not_visit.status == 422
    assert not_visit.body["message"] == "Only field visits record an arrival on site."
    assert not_visit.field_errors() == {"kind": "Not a field visit."}

    assert client.post(f"/tickets/{visit.pk}/arrival", {"version": visit.version}).status == 200
    twice = client.post(f"/tickets/{visit.pk}/arrival", {"version": visit.version + 1})
    assert twice.status == 422
    assert twice.body["message"] == "The arrival on site was already recorded."

    missing = client.post(f"/tickets/{visit.pk}/arrival", {})
    assert missing.status == 422 and "version" in missing.field_errors()
    assert client.post("/tickets/999999/arrival", {"version": 1}).status == 404


def test_arrival_and_watching_are_for_staff_working_the_ticket(
    world: World, api_as: Api, visit: Ticket
) -> None:
    own = world.ticket(kind="field_visit", team=world.field)  # in the customer's organisation
    for persona, ticket, status in [
        ("customer_a", own, 403),
        ("customer_b", own, 404),
        ("inspector", visit, 403),
        ("agent", visit, 404),  # not in the field team
    ]:
        client = api_as(getattr(world, persona))
        assert client.post(f"/tickets/{ticket.pk}/arrival", {"version": ticket.version}).status == status
        assert client.post(f"/tickets/{ticket.pk}/watchers").status == status
    assert fresh(own).on_site_at is None and fresh(visit).on_site_at is None
    assert not fresh(visit).watchers.exists() and not fresh(own).watchers.exists()


def test_watch_adds_me_once(world: World, api_as: Api, visit: Ticket) -> None:
    client = api_as(world.field_agent)
    first = client.post(f"/tickets/{visit.pk}/watchers")
    assert first.status == 201
    assert first.body == {"added": True, "watchers": [{"id": world.field_agent.pk, "name": "Field Agent"}]}
    again = client.post(f"/tickets/{visit.pk}/watchers")
    assert again.status == 200 and again.body["added"] is False
    assert list(fresh(visit).watchers.all()) == [world.field_agent]
    gone = client.delete(f"/tickets/{visit.pk}/watchers")
    assert gone.status == 200
    assert gone.body == {"added": False, "watchers": []}
    assert list(fresh(visit).watchers.all()) == []


# Notifications ----------------------------------------------------------------------------------


def notify(
    user: User, title: str, minutes_ago: int, *, read: bool = False, ticket: Ticket | None = None
) -> Notification:
    at = ago(minutes_ago)
    return Notification.objects.create(
        user=user, ticket=ticket, title=title, created_at=at, read_at=at if read else None
    )


def test_notifications_are_mine_unread_first_and_paged(world: World, api_as: Api) -> None:
    ticket = world.ticket(team=world.frontline)
    notify(world.agent, "old unread", 30, ticket=ticket)
    notify(world.agent, "newest but read", 1, read=True)
    notify(world.agent, "new unread", 5)
    notify(world.lead, "the lead's", 2)
    client = api_as(world.agent)
    reply = client.get("/notifications", {"page_size": 2})
    assert reply.status == 200
    assert [item["title"] for item in reply.body["items"]] == ["new unread", "old unread"]
    assert reply.body["has_next"] is True and reply.body["unread"] == 2
    assert reply.body["items"][1]["ticket"] == {"id": ticket.pk, "number": ticket.number}
    assert reply.body["items"][0]["ticket"] is None and reply.body["items"][0]["read_at"] is None
    second = client.get("/notifications", {"page_size": 2, "page": 2})
    assert [item["title"] for item in second.body["items"]] == ["newest but read"]
    assert second.body["has_next"] is False
    assert client.get("/notifications", {"page_size": 0}).status == 422
    assert api_as(world.customer_a).get("/notifications").body == {
        "items": [],
        "page": 1,
        "page_size": 25,
        "has_next": False,
        "unread": 0,
    }


def test_marking_notifications_read(world: World, api_as: Api) -> None:
    mine = notify(world.agent, "mine", 5)
    notify(world.agent, "also mine", 6)
    theirs = notify(world.lead, "the lead's", 2)
    client = api_as(world.agent)
    reply = client.post(f"/notifications/{mine.pk}/read")
    assert reply.status == 200 and reply.body["read_at"] is not None
    first_read = reply.body["read_at"]
    assert client.post(f"/notifications/{mine.pk}/read").body["read_at"] == first_read
    missing = client.post(f"/notifications/{theirs.pk}/read")
    assert missing.status == 404 and missing.body["message"] == "No such notification."
    assert client.post("/notifications/read-all").body == {"marked": 1}
    assert client.post("/notifications/read-all").body == {"marked": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.get("/notifications").body["unread"] == 0


def test_recounts_are_listed_and_shown_in_the_timelines_they_touched(
    world: World, api_as: Api, policy: SlaPolicy
) -> None:
    ticket = world.ticket(at=ago(30), team=world.frontline, contact=world.contact_a)
    standards_services.sla_policy_update(
        policy=policy, actor=world.manager, resolution_minutes=480, reason="Faster fixes"
    )
    listing = api_as(world.agent).get("/sla/recounts")
    assert listing.status == 200
    [recount] = listing.body["items"]
    assert recount["policy"] == {"id": policy.pk, "name": "Gold 24x7"}
    assert (recount["calendar"], recount["reason"], recount["actor"]["id"]) == (
        "24x7",
        "Faster fixes",
        world.manager.pk,
    )
    assert (recount["clocks"], recount["tickets"]) == (2, 1)  # first response and resolution, one ticket
    assert api_as(world.agent).get("/sla/recounts", {"policy": policy.pk}).body["items"] == [recount]
    assert api_as(world.agent).get("/sla/recounts", {"calendar": "cn-office"}).body["items"] == []
    refused = api_as(world.agent).get("/sla/recounts", {"calendar": "No such code!"})
    assert refused.status == 422 and "calendar" in str(refused.body)
    assert api_as(world.customer_a).get("/sla/recounts").status == 403
    # The ticket's timeline has the recount as an SLA event (staff only), pointing to the listed recount.
    timeline = api_as(world.agent).get(f"/tickets/{ticket.pk}").body["timeline"]
    [event] = [e["event"] for e in timeline if e["type"] == "event" and e["event"]["kind"] == "sla"]
    assert (event["id"], event["recount"], event["reason"]) == (None, recount["id"], "Faster fixes")
    customer_timeline = api_as(world.customer_a).get(f"/tickets/{ticket.pk}").body["timeline"]
    assert not [e for e in customer_timeline if e["type"] == "event" and e["event"]["kind"] == "sla"]
