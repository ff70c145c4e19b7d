"""Every role against every kind of ticket it must or must not see or change."""

from __future__ import annotations

import pytest

from pledge.tickets import policies, selectors
from pledge.tickets.selectors import TicketFilters
from tests.conftest import World

# (persona, ticket) → (can view, can work)
CASES = {
    ("customer_a", "a_frontline"): (True, False),
    ("customer_a", "b_unrouted"): (False, False),
    ("customer_b", "a_frontline"): (False, False),
    ("agent", "a_frontline"): (True, True),
    ("agent", "a_field"): (False, False),
    ("agent", "b_unrouted"): (True, True),
    ("agent", "a_field_assigned_to_agent"): (True, True),
    ("field_agent", "a_frontline"): (False, False),
    ("field_agent", "a_field"): (True, True),
    ("lead", "a_frontline"): (True, True),
    ("lead", "a_field"): (False, False),
    ("manager", "a_field"): (True, True),
    ("manager", "a_frontline"): (True, True),
    ("inspector", "a_field"): (True, False),
    ("inspector", "b_unrouted"): (True, False),
    ("admin", "a_field"): (True, True),
}


@pytest.fixture
def tickets(world: World):
    return {
        "a_frontline": world.ticket(team=world.frontline),
        "a_field": world.ticket(team=world.field),
        "a_field_assigned_to_agent": world.ticket(team=world.field, assignee=world.field_agent),
        "b_unrouted": world.ticket(org=world.org_b),
    }


@pytest.mark.parametrize(("persona", "ticket_name"), sorted(CASES))
def test_ticket_visibility_matrix(world: World, tickets, persona: str, ticket_name: str) -> None:
    if ticket_name == "a_field_assigned_to_agent":
        # reassign to the frontline agent outside the field team
        from pledge.tickets import services

        t = tickets[ticket_name]
        world.field.memberships.create(user=world.agent)
        services.ticket_assign(
            actor=world.manager, ticket=t, team=world.field, assignee=world.agent, expected_version=t.version
        )
        world.field.memberships.filter(user=world.agent).delete()
    user = getattr(world, persona)
    ticket = type(tickets[ticket_name]).objects.get(pk=tickets[ticket_name].pk)
    can_view, can_work = CASES[(persona, ticket_name)]
    assert policies.can_view_ticket(user, ticket) is can_view
    assert policies.can_work_ticket(user, ticket) is can_work
    listed = {t.pk for t in selectors.ticket_list_for(user, TicketFilters(), page_size=100).items}
    assert (ticket.pk in listed) is can_view


def test_customer_never_sees_internal(world: World) -> None:
    assert not policies.can_view_internal(world.customer_a)
    assert policies.can_view_internal(world.inspector)


def test_inactive_user_sees_nothing(world: World, tickets) -> None:
    world.manager.is_active = False
    assert not policies.can_view_ticket(world.manager, tickets["a_field"])
