"""The portal's "Progress": the milestones of the service's procedure a customer has reached and the next
one with when we expect it, in plain words; never the steps, checkpoints or teams behind them; and the
service a customer may choose when submitting a request."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pledge.portal import wording
from pledge.standards import services as standards_services
from pledge.standards.models import BusinessCalendar, ServiceType
from pledge.standards.services import CheckpointData, StepData
from pledge.tickets import selectors, services
from pledge.tickets.models import Ticket, TicketStep
from tests.conftest import World
from tests.sops import repair_service

NEW_URL = reverse("portal:ticket_new")


def ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def portal_page(client: Client, ticket: Ticket) -> str:
    response = client.get(reverse("portal:ticket_detail", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def progress_card(html: str) -> str:
    match = re.search(r'<section class="card milestones-card".*?</section>', html, re.S)
    return words(match.group(0)) if match else ""


@pytest.fixture
def repair(world: World, calendars: dict[str, BusinessCalendar]) -> ServiceType:
    """Diagnose (milestone "Fault diagnosed") → repair ∥ parts → confirm (milestone "Repair confirmed"),
    on the 24x7 calendar so that due instants follow the real now."""
    return repair_service(world.manager, effective=timezone.localdate(), at=timezone.now(), calendar="24x7")


def step_due(ticket: Ticket, position: int) -> datetime:
    clock = TicketStep.objects.select_related("clock").get(ticket=ticket, position=position).clock
    assert clock is not None and clock.due_at is not None
    return clock.due_at


def test_progress_shows_reached_milestones_and_when_the_next_is_expected(
    client: Client, world: World, repair: ServiceType
) -> None:
    ticket = world.ticket(actor=world.customer_a, service_type=repair, at=ago(30))
    client.force_login(world.customer_a)
    # Nothing reached yet: the next milestone is the diagnosis, expected when its step is due.
    card = progress_card(portal_page(client, ticket))
    assert card.startswith("Progress")
    assert f"Next: Fault diagnosed Expected by {wording.promised_time(step_due(ticket, 1))}." in card

    completed = ago(10)
    services.sop_step_complete(
        actor=world.agent, ticket=ticket, position=1, answers={"cause-found": "yes"}, at=completed
    )
    card = progress_card(portal_page(client, ticket))
    assert f"Fault diagnosed Reached {wording.promised_time(completed)}" in card
    # Repair (4 h) and parts (2 h) run side by side before the confirmation: the later of the two counts.
    later = max(step_due(ticket, 2), step_due(ticket, 3))
    assert later == step_due(ticket, 2)
    assert f"Next: Repair confirmed Expected by {wording.promised_time(later)}." in card


def test_progress_never_shows_steps_checkpoints_or_teams(
    client: Client, world: World, repair: ServiceType
) -> None:
    ticket = world.ticket(actor=world.customer_a, service_type=repair, team=None)
    services.sop_step_complete(
        actor=world.agent, ticket=ticket, position=1, answers={"cause-found": "no", "notes": "Seal worn"}
    )
    client.force_login(world.customer_a)
    text = words(portal_page(client, ticket))
    assert "Fault diagnosed" in text
    for internal in (
        "Diagnose the fault",
        "Repair on site",
        "Record parts used",
        "Cause found?",
        "Seal worn",
        "Hydraulic pressure",
        "Fault repair · version",
        "critical",
        "Frontline",
    ):
        assert internal not in text, internal


def test_a_hand_off_never_names_the_back_office_team(
    client: Client, world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    draft = standards_services.sop_create(
        actor=world.manager,
        code="analysis",
        name="Log analysis",
        reason="First version",
        steps=[
            StepData(
                key="analyse",
                name="Analyse the log files",
                owner="back_office",
                team=world.back_office,
                time_standard_minutes=120,
                is_milestone=True,
                milestone_name="Cause found",
                checkpoints=[CheckpointData(key="root-cause", label="Root cause", kind="text")],
            )
        ],
        at=timezone.now(),
    )
    standards_services.sop_version_approve(
        actor=world.manager, version=draft, effective_from=timezone.localdate(), at=timezone.now()
    )
    service = standards_services.service_type_create(
        actor=world.manager,
        code="analysis",
        name="Log analysis",
        category="remote",
        calendar="24x7",
        sop=draft.sop,
    )
    ticket = world.ticket(actor=world.customer_a, service_type=service)
    assert fresh(ticket).handoff_team_id == world.back_office.pk
    client.force_login(world.customer_a)
    html = portal_page(client, ticket)
    text = words(html)
    assert "With our specialists" in text and "Passed to our specialists." in text
    assert "Next: Cause found" in progress_card(html)
    assert "Technical" not in text and "Analyse the log files" not in text and "OLA" not in text


def test_an_overdue_milestone_is_said_kindly(client: Client, world: World, repair: ServiceType) -> None:
    ticket = world.ticket(actor=world.customer_a, service_type=repair, at=ago(300))
    client.force_login(world.customer_a)
    card = progress_card(portal_page(client, ticket))
    when = wording.promised_time(step_due(ticket, 1))
    assert (
        f"Next: Fault diagnosed We expected to get here by {when}. Sorry it is taking longer: we are still on it."
        in card
    )


def test_while_work_waits_for_the_customer_no_time_is_promised(
    client: Client, world: World, repair: ServiceType
) -> None:
    ticket = world.ticket(actor=world.customer_a, service_type=repair, at=ago(10))
    for status in ("in_progress", "waiting_customer"):
        ticket = services.ticket_transition(
            actor=world.agent, ticket=fresh(ticket), to_status=status, expected_version=fresh(ticket).version
        )
    client.force_login(world.customer_a)
    card = progress_card(portal_page(client, ticket))
    assert "Next: Fault diagnosed The time for this waits while work is paused." in card
    assert "Expected by" not in card


def test_a_resolved_request_lists_what_was_reached_and_nothing_next(
    client: Client, world: World, repair: ServiceType
) -> None:
    ticket = world.ticket(actor=world.customer_a, service_type=repair)
    services.sop_step_complete(actor=world.agent, ticket=ticket, position=1, answers={"cause-found": "yes"})
    services.ticket_transition(
        actor=world.manager,
        ticket=fresh(ticket),
        to_status="resolved",
        expected_version=fresh(ticket).version,
        override_reason="Customer fixed it themselves",
    )
    client.force_login(world.customer_a)
    card = progress_card(portal_page(client, ticket))
    assert "Fault diagnosed Reached" in card and "Next:" not in card


def test_no_progress_card_without_milestones(client: Client, world: World) -> None:
    ticket = world.ticket(actor=world.customer_a)
    client.force_login(world.customer_a)
    assert 'id="milestones"' not in portal_page(client, ticket)
    assert not wording.progress(selectors.ticket_steps(ticket, timezone.now()), ticket.status, timezone.now())


def test_customers_of_another_organisation_never_see_it(
    client: Client, world: World, repair: ServiceType
) -> None:
    ticket = world.ticket(actor=world.customer_a, service_type=repair)
    client.force_login(world.customer_b)
    assert client.get(reverse("portal:ticket_detail", args=[ticket.pk])).status_code == 404


def test_the_page_costs_the_same_queries_as_milestones_are_reached(
    client: Client, world: World, repair: ServiceType
) -> None:
    ticket = world.ticket(actor=world.customer_a, service_type=repair, at=ago(60))
    client.force_login(world.customer_a)
    portal_page(client, ticket)  # warm the compiled calendar of this process
    with CaptureQueriesContext(connection) as before:
        portal_page(client, ticket)
    for position, answers in (
        (1, {"cause-found": "yes"}),
        (2, {"pressure": "6"}),
        (3, {"parts-used": "Seal"}),
    ):
        services.sop_step_complete(actor=world.agent, ticket=ticket, position=position, answers=answers)
    with CaptureQueriesContext(connection) as after:
        html = portal_page(client, ticket)
    assert "Next: Repair confirmed" in progress_card(html)
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]


# Choosing the service when submitting ----------------------------------------------------------


def form_data(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "fault",
        "asset": str(world.asset_a.pk),
        "subject": "Hydraulic unit leaks",
        "description": "Oil under the machine.",
        "priority": "P3",
        "form_token": "token-services",
    }
    data.update(overrides)
    return data


@pytest.fixture
def internal_service(world: World, calendars: dict[str, BusinessCalendar]) -> ServiceType:
    return standards_services.service_type_create(
        actor=world.manager,
        code="internal-audit",
        name="Internal audit",
        category="advisory",
        calendar="24x7",
        customer_selectable=False,
    )


def test_the_form_offers_only_the_services_customers_may_choose(
    client: Client, world: World, repair: ServiceType, internal_service: ServiceType
) -> None:
    client.force_login(world.customer_a)
    html = client.get(NEW_URL).content.decode()
    select = re.search(r'<select name="service_type".*?</select>', html, re.S)
    assert select, "no service select"
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(0))
    assert options == [("", "Not sure — our team will choose"), (str(repair.pk), "Fault repair")]


def test_submitting_with_a_service_starts_its_procedure(
    client: Client, world: World, repair: ServiceType
) -> None:
    client.force_login(world.customer_a)
    response = client.post(NEW_URL, form_data(world, service_type=str(repair.pk)))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.service_type_id == repair.pk and ticket.sop_version_id is not None
    assert TicketStep.objects.filter(ticket=ticket).count() == 4
    assert (ticket.kind, ticket.priority) == ("fault", "P3")  # what the customer chose
    assert "Next: Fault diagnosed" in progress_card(portal_page(client, ticket))


def test_a_service_not_offered_to_customers_is_refused_beside_the_field(
    client: Client, world: World, repair: ServiceType, internal_service: ServiceType
) -> None:
    client.force_login(world.customer_a)
    response = client.post(NEW_URL, form_data(world, service_type=str(internal_service.pk)))
    assert response.status_code == 200
    assert response.context["form"].errors["service_type"] == ["Choose one of the services offered."]
    assert not Ticket.objects.exists()


def test_without_services_offered_the_form_has_no_service_field(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.get(NEW_URL)
    assert 'name="service_type"' not in response.content.decode()
    assert client.post(NEW_URL, form_data(world)).status_code == 302
    assert Ticket.objects.get().service_type_id is None
