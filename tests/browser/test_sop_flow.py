"""Service standards II in a real browser: a customer asks for a service in the portal; an agent answers
checkpoints and completes steps in the procedure panel; resolving with a mandatory checkpoint unanswered
is refused with a clear message; a service manager resolves anyway with a reason, which the timeline
logs; the customer sees the milestone reached."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from pledge.standards import services as standards_services
from pledge.tickets.choices import EventKind, Status, StepState
from pledge.tickets.models import CheckpointAnswer, Ticket, TicketEvent, TicketStep
from tests.browser.helpers import sign_in
from tests.conftest import World
from tests.sops import repair_service


def try_to_resolve(page: Any) -> None:
    page.select_option("#ctl-status", "resolved")
    page.locator("#controls button[type=submit]", has_text="Change status").click()
    page.locator("#resolution-blocked").wait_for()


@pytest.mark.django_db(transaction=True)
def test_agent_completes_steps_resolution_is_guarded_manager_overrides_customer_sees_milestone(
    live_server: Any, new_page: Any, world: World, tmp_path: Any
) -> None:
    base = live_server.url
    standards_services.ensure_builtin_calendars()
    repair = repair_service(world.manager, effective=timezone.localdate(), at=timezone.now(), calendar="24x7")

    # The customer asks for the repair service in the portal.
    customer = new_page()
    sign_in(customer, base, "customer_a")
    customer.goto(f"{base}/portal/new/")
    customer.locator("input[name=kind][value=fault]").check()
    customer.select_option("#id_service_type", str(repair.pk))
    customer.select_option("#id_asset", str(world.asset_a.pk))
    customer.fill("#id_subject", "Hydraulic unit loses pressure")
    customer.locator("form.portal-form button[type=submit]").click()
    customer.wait_for_url(re.compile(r"/portal/tickets/\d+/"))
    ticket = Ticket.objects.get(subject="Hydraulic unit loses pressure")
    assert ticket.service_type_id == repair.pk
    assert "Next: Fault diagnosed" in customer.locator("#milestones").inner_text()

    # The agent answers the diagnosis checkpoints and completes the step.
    agent = new_page()
    sign_in(agent, base, "agent")
    agent.goto(f"{base}/agent/tickets/{ticket.pk}/")
    panel = agent.locator("#procedure")
    assert "Fault repair · version 1" in panel.inner_text()
    diagnose = agent.locator("#step-1")
    assert "alarm code" in diagnose.locator(".proc-guidance strong").inner_text()
    diagnose.locator("input[name=answer-cause-found][value=yes]").check()
    diagnose.locator("textarea[name=answer-notes]").fill("Worn seal on the main cylinder")
    diagnose.locator("button", has_text="Save answers").click()
    agent.locator("#step-1 .ws-ok", has_text="saved").wait_for()
    assert "Saved answer: Yes" in agent.locator("#step-1").inner_text()
    agent.locator("#step-1 button", has_text="Complete step").click()
    agent.locator("#step-1[data-state=done]").wait_for()
    agent.locator("#step-2[data-state=active]").wait_for()
    assert agent.locator("#step-3").get_attribute("data-state") == "active"
    assert "on time" in agent.locator("#step-1").inner_text()
    # The parts step of the parallel stage: a text checkpoint, then complete.
    agent.locator("#step-3 textarea[name=answer-parts-used]").fill("Seal kit SK-40")
    agent.locator("#step-3 button", has_text="Complete step").click()
    agent.locator("#step-3[data-state=done]").wait_for()
    # Completing the repair step without its mandatory pressure reading is refused beside it.
    agent.locator("#step-2 button", has_text="Complete step").click()
    agent.locator("#step-2 .proc-cp.has-error[data-checkpoint=pressure]").wait_for()
    assert "Mandatory: answer it to complete the step." in agent.locator("#step-2").inner_text()
    agent.wait_for_load_state("networkidle")
    timeline = agent.locator("#timeline").inner_text()
    assert "Agent completed the step “Diagnose the fault” on time." in timeline
    assert "Milestone reached: Fault diagnosed." in timeline
    agent.screenshot(path=str(tmp_path / "agent-procedure.png"), full_page=True)
    assert [row.state for row in TicketStep.objects.filter(ticket=ticket).order_by("position")] == [
        StepState.DONE,
        StepState.ACTIVE,
        StepState.DONE,
        StepState.PENDING,
    ]
    assert CheckpointAnswer.objects.filter(ticket_step__ticket=ticket).count() == 3

    # Resolving is refused with a message naming the open checkpoints; an agent cannot override.
    try_to_resolve(agent)
    blocked = agent.locator("#resolution-blocked").inner_text()
    assert f"{ticket.number} cannot be resolved yet" in blocked
    assert "“Hydraulic pressure after repair” (step Repair on site) is unanswered" in blocked
    assert "“Customer satisfied?” (step Confirm with the customer) is unanswered" in blocked
    assert agent.locator("#resolution-blocked form.ws-override").count() == 0
    agent.screenshot(path=str(tmp_path / "agent-resolution-refused.png"), full_page=True)
    assert Ticket.objects.get(pk=ticket.pk).status != Status.RESOLVED

    # The service manager resolves anyway, with a reason; the timeline logs the override.
    manager = new_page()
    sign_in(manager, base, "manager")
    manager.goto(f"{base}/agent/tickets/{ticket.pk}/")
    try_to_resolve(manager)
    manager.locator("#ctl-override-reason").fill("Pressure checked by the customer's own technician")
    manager.locator("#resolution-blocked button", has_text="Resolve anyway").click()
    manager.locator("#controls .ws-ok").wait_for()
    manager.wait_for_load_state("networkidle")
    assert "Resolved" in manager.locator("#ticket-header").inner_text()
    timeline = manager.locator("#timeline").inner_text()
    assert "Manager resolved the ticket over its open checkpoints." in timeline
    assert "Reason: Pressure checked by the customer's own technician" in timeline
    assert "“Hydraulic pressure after repair” (Repair on site) was unanswered" in timeline
    manager.screenshot(path=str(tmp_path / "manager-override.png"), full_page=True)
    override = TicketEvent.objects.get(ticket=ticket, kind=EventKind.OVERRIDE)
    assert override.actor_id == world.manager.pk
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED

    # The customer sees the milestone reached, and nothing of the steps behind it.
    customer.reload()
    progress = customer.locator("#milestones").inner_text()
    assert "Fault diagnosed" in progress and "Reached" in progress
    assert "Next:" not in progress  # resolved: nothing more to expect
    body = customer.locator("body").inner_text()
    assert "Diagnose the fault" not in body and "Hydraulic pressure after repair" not in body
    customer.screenshot(path=str(tmp_path / "portal-milestone.png"), full_page=True)
