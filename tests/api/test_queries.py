"""Query budgets of the hot API paths: creating a ticket stays a handful of statements, and the list
costs the same whatever the page size (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pledge.accounts.models import User
from tests.api.conftest import ApiClient
from tests.conftest import World

# One create, as the database sees it inside the test's transaction:
#   token lookup (with its user) · the organisation (staff) or the customer's contact with its
#   organisation (customers) · SAVEPOINT · the organisation's contracts · the active SLA policies ·
#   INSERT ticket · INSERT created event · RELEASE SAVEPOINT
# and with an Idempotency-Key: + the key lookup + INSERT key. Outside a test the savepoint pair is
# BEGIN/COMMIT, which Django does not log, so production runs two statements fewer; and the contracts
# and policies come from the per-process reference cache (PLEDGE_REFERENCE_CACHE_SECONDS), two fewer.
# There are no policies here: a ticket with clocks adds one INSERT for them.
CREATE_QUERIES = 8
CREATE_QUERIES_WITH_KEY = 10


def _warm(client: ApiClient) -> None:
    # The first request of a token stamps its last-used time (at most once a minute): not per create.
    assert client.get("/me").status == 200


@pytest.mark.parametrize(
    ("persona", "with_key"),
    [("agent", False), ("agent", True), ("customer_a", False), ("customer_a", True)],
)
def test_create_ticket_query_count(world: World, api_as, persona: str, with_key: bool) -> None:
    user: User = getattr(world, persona)
    client = api_as(user)
    _warm(client)
    body = {"subject": "Hydraulic pressure drops", "kind": "fault", "priority": "P2"}
    if persona == "agent":
        body["organisation_id"] = world.org_a.pk
    headers = {"Idempotency-Key": "retry-1"} if with_key else None
    with CaptureQueriesContext(connection) as queries:
        reply = client.post("/tickets", body, headers=headers)
    assert reply.status == 201, reply.body
    statements = [q["sql"] for q in queries.captured_queries]
    expected = CREATE_QUERIES_WITH_KEY if with_key else CREATE_QUERIES
    assert len(statements) == expected, "\n".join(statements)
    assert len(statements) <= 10


def test_idempotent_replay_is_cheap_too(world: World, api_as) -> None:
    client = api_as(world.agent)
    _warm(client)
    body = {"subject": "x", "organisation_id": world.org_a.pk}
    assert client.post("/tickets", body, headers={"Idempotency-Key": "k"}).status == 201
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/tickets", body, headers={"Idempotency-Key": "k"}).status == 200
    # token · organisation · key · ticket (by the key) · ticket with relations · its tags
    assert len(queries.captured_queries) == 6


@pytest.mark.parametrize("persona", ["agent", "manager", "customer_a"])
def test_ticket_list_query_count_does_not_grow_with_page_size(
    world: World, api_as, django_assert_num_queries, persona: str
) -> None:
    for n in range(60):
        world.ticket(
            subject=f"Ticket {n}",
            team=world.frontline if n % 2 else None,
            assignee=world.agent if n % 3 == 0 else None,
            contact=world.contact_a,
            tags=["pump", f"line-{n % 4}"],
        )
    client = api_as(getattr(world, persona))
    _warm(client)
    with CaptureQueriesContext(connection) as baseline:
        small = client.get("/tickets", {"page_size": 5})
    assert len(small.body["items"]) == 5
    # token · (agents: team memberships, led teams; customers: their organisation) · page · tags
    expected = {"agent": 5, "manager": 3, "customer_a": 4}[persona]
    assert len(baseline.captured_queries) == expected
    with django_assert_num_queries(expected):
        large = client.get("/tickets", {"page_size": 50, "view": "all", "sort": "newest"})
    assert len(large.body["items"]) == 50
    assert all(item["tags"] for item in large.body["items"])


def test_ticket_detail_query_count_does_not_grow_with_the_timeline(world: World, api_as) -> None:
    from pledge.tickets import services

    ticket = world.ticket(team=world.frontline)
    services.ticket_reply(actor=world.agent, ticket=ticket, body="First")
    client = api_as(world.agent)
    _warm(client)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/tickets/{ticket.pk}").status == 200
        return len(queries.captured_queries)

    short = count()
    for n in range(10):
        services.ticket_reply(actor=world.agent, ticket=ticket, body=f"Reply {n}")
        services.ticket_note(actor=world.agent, ticket=ticket, body=f"Note {n}")
    assert count() == short
