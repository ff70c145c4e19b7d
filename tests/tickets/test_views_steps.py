"""SOP steps in the agent workspace: the procedure panel (steps by stage, clocks, guidance, checkpoint
inputs, answers), answering and completing steps over htmx and without JavaScript, errors beside their
checkpoints, permissions per role, the resolution guard with the service manager's override, hand-offs
(the header, the back-office queue and its OLA, a back-office member completing the step) and query
counts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pledge.accounts import services as account_services
from pledge.accounts.choices import Role
from pledge.accounts.models import User
from pledge.standards import services as standards_services
from pledge.standards.models import BusinessCalendar, ServiceType
from pledge.standards.services import CheckpointData, StepData
from pledge.tickets import services
from pledge.tickets.choices import EventKind, Status, StepState
from pledge.tickets.models import CheckpointAnswer, Ticket, TicketEvent, TicketStep
from tests.conftest import World, make_user
from tests.sops import repair_service

HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def detail_url(ticket: Ticket) -> str:
    return f"/agent/tickets/{ticket.pk}/"


def step_url(ticket: Ticket, position: int) -> str:
    return f"/agent/tickets/{ticket.pk}/steps/{position}/"


def page(client: Client, ticket: Ticket) -> str:
    response = client.get(detail_url(ticket))
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def procedure(html: str) -> str:
    match = re.search(r'<section id="procedure".*?</section>', html, re.S)
    assert match, "no procedure panel"
    return match.group(0)


def step_block(html: str, position: int) -> str:
    match = re.search(rf'<article id="step-{position}".*?</article>', html, re.S)
    assert match, f"no step {position}"
    return match.group(0)


def timeline(html: str) -> str:
    match = re.search(r'<div id="timeline".*?</ol>', html, re.S)
    assert match, "no timeline"
    return text(match.group(0))


@pytest.fixture
def repair(world: World, calendars: dict[str, BusinessCalendar]) -> ServiceType:
    """The repair SOP of tests/sops.py on the 24x7 calendar, so that step clocks count wall-clock minutes
    and tests can place tickets relative to the real now."""
    return repair_service(world.manager, effective=timezone.localdate(), at=timezone.now(), calendar="24x7")


@pytest.fixture
def repair_ticket(world: World, repair: ServiceType) -> Ticket:
    return world.ticket(service_type=repair, team=world.frontline, at=ago(30))


@pytest.fixture
def engineer(world: World) -> User:
    person = make_user("engineer", Role.AGENT)
    account_services.team_add_member(team=world.back_office, user=person)
    return person


@pytest.fixture
def analysis(world: World, calendars: dict[str, BusinessCalendar]) -> ServiceType:
    """Diagnose (frontline) → analyse the logs (the back-office team, a 120-minute OLA) → confirm."""
    draft = standards_services.sop_create(
        actor=world.manager,
        code="log-analysis",
        name="Log analysis",
        reason="First version",
        steps=[
            StepData(
                key="diagnose",
                name="Diagnose the fault",
                owner="frontline",
                time_standard_minutes=60,
                checkpoints=[CheckpointData(key="cause-found", label="Cause found?", kind="yes_no")],
            ),
            StepData(
                key="analyse",
                name="Analyse the log files",
                owner="back_office",
                team=world.back_office,
                time_standard_minutes=120,
                guidance="Read the **controller log**.",
                checkpoints=[CheckpointData(key="root-cause", label="Root cause", kind="text")],
            ),
            StepData(
                key="confirm",
                name="Confirm with the customer",
                owner="frontline",
                time_standard_minutes=60,
                is_milestone=True,
                milestone_name="Repair confirmed",
                checkpoints=[CheckpointData(key="customer-ok", label="Customer satisfied?", kind="yes_no")],
            ),
        ],
        at=timezone.now(),
    )
    standards_services.sop_version_approve(
        actor=world.manager, version=draft, effective_from=timezone.localdate(), at=timezone.now()
    )
    return standards_services.service_type_create(
        actor=world.manager,
        code="log-analysis",
        name="Log analysis",
        category="remote",
        calendar="24x7",
        sop=draft.sop,
    )


def handed_over(world: World, analysis: ServiceType, *, subject: str = "Controller crashes") -> Ticket:
    """A ticket of the log-analysis service whose diagnosis is done: the back-office team holds it."""
    ticket = world.ticket(service_type=analysis, team=world.frontline, subject=subject, at=ago(60))
    services.sop_step_complete(
        actor=world.agent, ticket=ticket, position=1, answers={"cause-found": "yes"}, at=ago(30)
    )
    return fresh(ticket)


# The panel ------------------------------------------------------------------------------------


def test_panel_shows_the_sop_and_every_step_by_stage(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    html = procedure(page(signed_in(client, world.agent), repair_ticket))
    assert "Fault repair · version 1" in text(html)
    assert re.findall(r'data-position="(\d+)" data-state="(\w+)"', html) == [
        ("1", "active"),
        ("2", "pending"),
        ("3", "pending"),
        ("4", "pending"),
    ]
    # Repair and parts form one stage, side by side.
    stages = re.findall(
        r'<li class="proc-stage( proc-parallel)?">(.*?)</li>\s*(?=<li class="proc-stage|</ol>)', html, re.S
    )
    assert [(bool(parallel), re.findall(r'id="step-(\d+)"', body)) for parallel, body in stages] == [
        (False, ["1"]),
        (True, ["2", "3"]),
        (False, ["4"]),
    ]
    diagnose = text(step_block(html, 1))
    assert "Diagnose the fault" in diagnose and "Under way" in diagnose
    assert "Milestone: Fault diagnosed" in diagnose
    assert "Owner Frontline" in diagnose and "Time standard 1 h" in diagnose
    assert "30 m left" in diagnose  # 60 minutes on the 24x7 calendar, started 30 minutes ago
    # The guidance is rendered Markdown; the checkpoints are inputs of the right kind.
    block = step_block(html, 1)
    assert "Ask for the <strong>alarm code</strong> first." in block
    assert re.search(r'type="radio" name="answer-cause-found" value="yes"', block)
    assert re.search(r'<textarea id="cp-1-notes" name="answer-notes"', block)
    assert "Save answers" in block and "Complete step" in block
    assert "critical" in text(block) and "required" in text(block)
    # Pending steps have no form yet.
    assert "<form" not in step_block(html, 2)
    assert "Not started" in text(step_block(html, 4))


def test_number_and_photo_checkpoints_show_their_limits_unit_and_accepted_files(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    services.sop_step_complete(
        actor=world.agent, ticket=repair_ticket, position=1, answers={"cause-found": "yes"}
    )
    html = procedure(page(signed_in(client, world.agent), repair_ticket))
    block = step_block(html, 2)
    assert re.search(r'<input id="cp-2-pressure" type="number" step="any"[^>]*name="answer-pressure"', block)
    assert '<span class="proc-unit">bar</span>' in block
    assert "Passes from 5 to 8 bar" in text(block)
    assert re.search(r'type="file" name="evidence-photo" accept="\.gif,\.jpeg,\.jpg,\.png,\.webp"', block)
    assert "Time standard 4 h" in text(block)
    # Steps of a parallel stage both run, each with its own clock.
    assert 'data-state="active"' in step_block(html, 3)
    assert '<textarea id="cp-3-parts-used" name="answer-parts-used"' in step_block(html, 3)


def test_a_ticket_without_a_service_type_has_no_procedure_panel(client: Client, world: World) -> None:
    ticket = world.ticket(team=world.frontline)
    html = page(signed_in(client, world.agent), ticket)
    assert 'id="procedure"' not in html


# Answering and completing ----------------------------------------------------------------------


def test_save_answers_over_htmx_keeps_the_step_under_way(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    response = signed_in(client, world.agent).post(
        step_url(repair_ticket, 1),
        {"action": "save", "answer-cause-found": "yes", "answer-notes": ""},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    block = step_block(html, 1)
    assert "Answers to “Diagnose the fault” saved." in text(block)
    assert 'data-state="active"' in block
    assert "Saved answer: Yes" in text(block)
    # The timeline and header follow out of band.
    assert 'id="timeline" hx-swap-oob="innerHTML"' in html
    assert "Agent answered checkpoints of the step “Diagnose the fault”." in timeline(html)
    assert CheckpointAnswer.objects.filter(ticket_step__ticket=repair_ticket).count() == 1


def test_complete_step_over_htmx_starts_the_next_stage_and_logs_it(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    response = signed_in(client, world.agent).post(
        step_url(repair_ticket, 1),
        {"action": "complete", "answer-cause-found": "yes", "answer-notes": "Seal worn"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    done = text(step_block(html, 1))
    assert "The step “Diagnose the fault” is done." in done
    assert "Completed" in done and "Agent" in done and "on time" in done
    assert "Cause found? critical passed Yes" in done and "Diagnosis notes Seal worn" in done
    assert re.findall(r'data-position="(\d+)" data-state="(\w+)"', html) == [
        ("1", "done"),
        ("2", "active"),
        ("3", "active"),
        ("4", "pending"),
    ]
    story = timeline(html)
    assert "Agent completed the step “Diagnose the fault” on time." in story
    assert "Milestone reached: Fault diagnosed." in story
    assert "Next: Repair on site, Record parts used." in story
    assert [row.state for row in TicketStep.objects.filter(ticket=repair_ticket).order_by("position")] == [
        StepState.DONE,
        StepState.ACTIVE,
        StepState.ACTIVE,
        StepState.PENDING,
    ]


def test_complete_without_javascript_redirects_with_a_flash(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    response = signed_in(client, world.agent).post(
        step_url(repair_ticket, 1), {"action": "complete", "answer-cause-found": "yes"}, follow=True
    )
    assert response.redirect_chain[-1][0].endswith(f"{detail_url(repair_ticket)}#step-1")
    html = response.content.decode()
    assert "The step “Diagnose the fault” is done." in html
    assert 'data-position="1" data-state="done"' in html


def test_errors_stay_beside_their_checkpoints_and_nothing_is_saved(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    signed_in(client, world.agent)
    response = client.post(
        step_url(repair_ticket, 1), {"action": "complete", "answer-notes": "Still looking"}, **HTMX
    )
    assert response.status_code == 422
    block = step_block(response.content.decode(), 1)
    cause = re.search(
        r'<div class="proc-cp has-error[^"]*" data-checkpoint="cause-found">.*?</div>\s*(?=<div class="proc-cp|<div class="proc-actions)',
        block,
        re.S,
    )
    assert cause and "Mandatory: answer it to complete the step." in cause.group(0)
    assert "Still looking</textarea>" in block  # what was typed is kept
    assert 'data-state="active"' in block

    services.sop_step_complete(
        actor=world.agent, ticket=repair_ticket, position=1, answers={"cause-found": "yes"}
    )
    response = client.post(step_url(repair_ticket, 2), {"action": "save", "answer-pressure": "high"}, **HTMX)
    assert response.status_code == 422
    block = step_block(response.content.decode(), 2)
    assert re.search(r'data-checkpoint="pressure">.*?Enter a number such as 6\.5', block, re.S)
    assert 'value="high"' in block
    # A file that is not a photo is refused beside the photo checkpoint, and the agent is told to choose
    # it again.
    response = client.post(
        step_url(repair_ticket, 2),
        {"action": "save", "evidence-photo": SimpleUploadedFile("notes.txt", b"plain text")},
        **HTMX,
    )
    assert response.status_code == 422
    block = text(step_block(response.content.decode(), 2))
    assert "notes.txt is not a photo" in block
    assert "choose them again" in block
    assert not CheckpointAnswer.objects.filter(ticket_step__position=2).exists()


def test_errors_without_javascript_render_the_page(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    response = signed_in(client, world.agent).post(step_url(repair_ticket, 1), {"action": "complete"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html and "Mandatory: answer it to complete the step." in html


def test_photo_evidence_is_kept_and_linked(client: Client, world: World, repair_ticket: Ticket) -> None:
    services.sop_step_complete(
        actor=world.agent, ticket=repair_ticket, position=1, answers={"cause-found": "yes"}
    )
    response = signed_in(client, world.agent).post(
        step_url(repair_ticket, 2),
        {
            "action": "complete",
            "answer-pressure": "6.5",
            "evidence-photo": SimpleUploadedFile("unit.png", PNG, content_type="image/png"),
        },
        **HTMX,
    )
    assert response.status_code == 200
    block = step_block(response.content.decode(), 2)
    assert "6.5 bar" in text(block)
    answer = CheckpointAnswer.objects.get(checkpoint__key="photo", ticket_step__ticket=repair_ticket)
    assert answer.attachment is not None
    assert f'href="/agent/attachments/{answer.attachment.pk}/"' in block and "unit.png" in block


def test_a_failed_critical_checkpoint_is_marked_and_can_be_answered_again(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    signed_in(client, world.agent)
    response = client.post(
        step_url(repair_ticket, 1), {"action": "complete", "answer-cause-found": "no"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    block = step_block(html, 1)
    assert "failed" in text(block)
    assert "Failed: Cause found?." in timeline(html)
    assert "checkpoints stand in the way of resolving this ticket" in text(html)
    # The done step offers to answer the failed critical checkpoint again (and only that one).
    reanswer = re.search(r'<form class="proc-reanswer".*?</form>', block, re.S)
    assert reanswer and 'name="answer-cause-found"' in reanswer.group(0)
    assert 'name="answer-notes"' not in reanswer.group(0)
    response = client.post(
        step_url(repair_ticket, 1), {"action": "save", "answer-cause-found": "yes"}, **HTMX
    )
    assert response.status_code == 200
    block = step_block(response.content.decode(), 1)
    assert "2 attempts" in text(block)
    assert "proc-reanswer" not in block
    latest = CheckpointAnswer.objects.filter(checkpoint__key="cause-found").order_by("-attempt").first()
    assert latest is not None and latest.attempt == 2 and latest.passed is True


def test_completing_a_step_that_is_done_already_is_a_conflict(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    services.sop_step_complete(
        actor=world.agent, ticket=repair_ticket, position=1, answers={"cause-found": "yes"}
    )
    response = signed_in(client, world.agent).post(
        step_url(repair_ticket, 1), {"action": "complete", "answer-cause-found": "yes"}, **HTMX
    )
    assert response.status_code == 409
    block = text(step_block(response.content.decode(), 1))
    assert "The step “Diagnose the fault” is done already." in block and "Reload the ticket" in block


def test_a_bad_action_or_an_unknown_step_is_refused(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    signed_in(client, world.agent)
    response = client.post(step_url(repair_ticket, 1), {"action": "explode"}, **HTMX)
    assert response.status_code == 422
    assert "Choose “Save answers” or “Complete step”." in response.content.decode()
    assert client.post(step_url(repair_ticket, 9), {"action": "save"}).status_code == 404
    response = client.post(step_url(repair_ticket, 1), {"action": "save", "answer-nope": "x"}, **HTMX)
    assert response.status_code == 422
    assert "The step has no checkpoint nope." in response.content.decode()


# Permissions -----------------------------------------------------------------------------------


def test_inspector_reads_the_panel_but_gets_no_form_and_cannot_post(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    html = procedure(page(signed_in(client, world.inspector), repair_ticket))
    assert "Diagnose the fault" in html and "<form" not in html
    response = client.post(step_url(repair_ticket, 1), {"action": "complete", "answer-cause-found": "yes"})
    assert response.status_code == 403
    assert not CheckpointAnswer.objects.exists()


def test_customers_and_agents_outside_the_team_get_404(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    for person in (world.customer_a, world.field_agent):
        signed_in(client, person)
        assert client.get(detail_url(repair_ticket)).status_code == 404
        response = client.post(
            step_url(repair_ticket, 1), {"action": "complete", "answer-cause-found": "yes"}
        )
        assert response.status_code == 404
    assert not CheckpointAnswer.objects.exists()


def test_manager_works_any_step(client: Client, world: World, repair_ticket: Ticket) -> None:
    response = signed_in(client, world.manager).post(
        step_url(repair_ticket, 1), {"action": "complete", "answer-cause-found": "yes"}, **HTMX
    )
    assert response.status_code == 200
    assert TicketStep.objects.get(ticket=repair_ticket, position=1).completed_by == world.manager


# The resolution guard and the override ---------------------------------------------------------


def resolve(client: Client, ticket: Ticket, **extra: Any) -> Any:
    return client.post(
        f"/agent/tickets/{ticket.pk}/status/",
        {"version": fresh(ticket).version, "to_status": "resolved", "reason": ""},
        **extra,
    )


def test_resolving_with_open_checkpoints_is_refused_with_the_checkpoints_named(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    response = resolve(signed_in(client, world.agent), repair_ticket, **HTMX)
    assert response.status_code == 422
    box = re.search(r'<div class="ws-blocked".*?</div>', response.content.decode(), re.S)
    assert box, "no resolution box"
    words = text(box.group(0))
    assert "Not resolved: checkpoints are open" in words
    assert f"{repair_ticket.number} cannot be resolved yet" in words
    assert "“Cause found?” (step Diagnose the fault) is unanswered" in words
    assert "“Customer satisfied?” (step Confirm with the customer) is unanswered" in words
    # An agent may not override: no form, and the way forward is said.
    assert "Resolve anyway" not in words and "ask a service manager" in words
    assert fresh(repair_ticket).status == Status.NEW


def test_resolving_refused_without_javascript_shows_the_page_with_the_box(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    response = resolve(signed_in(client, world.agent), repair_ticket)
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html and "Not resolved: checkpoints are open" in html


def test_manager_resolves_anyway_with_a_reason_and_it_is_logged(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    signed_in(client, world.manager)
    response = resolve(client, repair_ticket, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'action="/agent/tickets/{repair_ticket.pk}/status/override/"' in html
    assert "Resolve anyway" in html

    override_url = f"/agent/tickets/{repair_ticket.pk}/status/override/"
    version = fresh(repair_ticket).version
    response = client.post(override_url, {"version": version, "override_reason": "  "}, **HTMX)
    assert response.status_code == 422
    assert "Give the reason for resolving over the checkpoints." in response.content.decode()
    assert fresh(repair_ticket).status == Status.NEW

    response = client.post(
        override_url, {"version": version, "override_reason": "Customer confirmed by phone"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Resolved over the checkpoints; the reason is in the timeline." in html
    assert fresh(repair_ticket).status == Status.RESOLVED
    event = TicketEvent.objects.get(ticket=repair_ticket, kind=EventKind.OVERRIDE)
    assert event.actor == world.manager and event.data["reason"] == "Customer confirmed by phone"
    story = timeline(html)
    assert "Manager resolved the ticket over its open checkpoints." in story
    assert "Reason: Customer confirmed by phone" in story
    assert "“Cause found?” (Diagnose the fault) was unanswered" in story
    # The step under way stops with the resolution, its clock too (the panel follows out of band).
    step = step_block(html, 1)
    assert 'data-state="cancelled"' in step and "Complete step" not in step


def test_an_agent_cannot_use_the_override(client: Client, world: World, repair_ticket: Ticket) -> None:
    response = signed_in(client, world.agent).post(
        f"/agent/tickets/{repair_ticket.pk}/status/override/",
        {"version": repair_ticket.version, "override_reason": "I say so"},
    )
    assert response.status_code == 403
    assert fresh(repair_ticket).status == Status.NEW
    assert not TicketEvent.objects.filter(kind=EventKind.OVERRIDE).exists()


def test_resolving_once_every_checkpoint_passes_needs_no_override(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    for position, answers in (
        (1, {"cause-found": "yes"}),
        (2, {"pressure": "6"}),
        (3, {"parts-used": "Seal kit"}),
        (4, {"customer-ok": "yes"}),
    ):
        services.sop_step_complete(
            actor=world.agent, ticket=repair_ticket, position=position, answers=answers
        )
    response = resolve(signed_in(client, world.agent), repair_ticket, **HTMX)
    assert response.status_code == 200
    assert fresh(repair_ticket).status == Status.RESOLVED
    assert "Milestone reached: Repair confirmed." in timeline(response.content.decode())


# Hand-offs -------------------------------------------------------------------------------------


def test_the_header_says_who_holds_the_ticket_during_a_hand_off(
    client: Client, world: World, analysis: ServiceType
) -> None:
    ticket = handed_over(world, analysis)
    html = page(signed_in(client, world.agent), ticket)
    due = TicketStep.objects.get(ticket=ticket, position=2).clock.due_at  # type: ignore[union-attr]
    assert due is not None
    header = text(re.search(r'<header id="ticket-header".*?</header>', html, re.S).group(0))  # type: ignore[union-attr]
    local_due = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
    assert f"With Technical (hand-off, due {local_due})" in header
    # The frontline agent reads the hand-off step but may not carry it out.
    block = step_block(html, 2)
    assert "<form" not in block and "Carried out by Technical." in text(block)
    assert "OLA 2 h" in text(block) and "Owner Back-office · Technical" in text(block)
    response = client.post(step_url(ticket, 2), {"action": "complete", "answer-root-cause": "x"})
    assert response.status_code == 403
    # The timeline says so in words.
    assert (
        f"The ticket was handed to Technical for “Analyse the log files” (OLA 2 h, due {local_due})."
        in timeline(html)
    )


def test_back_office_members_get_the_handed_to_my_team_tab(
    client: Client, world: World, analysis: ServiceType, engineer: User
) -> None:
    assert "Handed to my team" not in signed_in(client, world.agent).get("/agent/").content.decode()
    assert "Handed to my team" in signed_in(client, engineer).get("/agent/").content.decode()


def test_handoff_queue_lists_the_step_and_its_ola_in_constant_queries(
    client: Client, world: World, analysis: ServiceType, engineer: User
) -> None:
    first = handed_over(world, analysis, subject="Controller crashes")
    world.ticket(service_type=analysis, team=world.frontline, subject="Not handed yet")
    signed_in(client, engineer)
    client.get("/agent/", {"view": "handoff"})  # warm the compiled calendar of this process
    with CaptureQueriesContext(connection) as one:
        response = client.get("/agent/", {"view": "handoff"})
    html = response.content.decode()
    assert [t.pk for t, _clock in response.context["rows"]] == [first.pk]
    assert '<th scope="col">Hand-off step</th>' in html and '<th scope="col">OLA</th>' in html
    row = text(re.search(r'<tr class="ws-row-[^"]*">.*?</tr>', html, re.S).group(0))  # type: ignore[union-attr]
    due = TicketStep.objects.get(ticket=first, position=2).clock.due_at  # type: ignore[union-attr]
    assert due is not None
    assert "Analyse the log files · Technical" in row
    assert "1 h 30 m left" in row  # a 120-minute OLA started 30 minutes ago
    assert f"due {timezone.localtime(due).strftime('%Y-%m-%d %H:%M')}" in row
    statements = [q["sql"] for q in one.captured_queries]
    assert sum("tickets_ticketstep" in sql for sql in statements) == 1, statements
    for i in range(4):
        handed_over(world, analysis, subject=f"More crashes {i}")
    with CaptureQueriesContext(connection) as five:
        response = client.get("/agent/", {"view": "handoff"})
    assert len(response.context["rows"]) == 5
    assert len(five) == len(statements), [q["sql"] for q in five.captured_queries]
    # Other views do not read steps at all.
    with CaptureQueriesContext(connection) as other:
        client.get("/agent/", {"view": "open"})
    assert not any("tickets_ticketstep" in q["sql"] for q in other.captured_queries)


def test_handoff_queue_is_empty_for_a_team_without_hand_offs(
    client: Client, world: World, analysis: ServiceType
) -> None:
    handed_over(world, analysis)
    response = signed_in(client, world.agent).get("/agent/", {"view": "handoff"})
    assert response.context["rows"] == []
    assert "No ticket is handed to your teams right now." in response.content.decode()


def test_a_back_office_member_completes_the_hand_off_and_the_ticket_moves_on(
    client: Client, world: World, analysis: ServiceType, engineer: User
) -> None:
    ticket = handed_over(world, analysis)
    assert ticket.status == Status.WAITING_BACK_OFFICE
    signed_in(client, engineer)
    queue = client.get("/agent/", {"view": "handoff"})
    assert [t.pk for t, _clock in queue.context["rows"]] == [ticket.pk]
    html = page(client, ticket)
    block = step_block(html, 2)
    assert "Read the <strong>controller log</strong>." in block
    assert 'name="answer-root-cause"' in block
    # The engineer may not do the frontline's steps.
    assert "<form" not in step_block(html, 1)
    response = client.post(
        step_url(ticket, 2), {"action": "complete", "answer-root-cause": "Firmware 2.1 bug"}, **HTMX
    )
    # The ticket went back to the frontline team, out of the engineer's sight: back to the queue.
    assert response.status_code == 200 and response["HX-Redirect"] == "/agent/"
    ticket = fresh(ticket)
    assert ticket.handoff_team_id is None and ticket.status == Status.IN_PROGRESS
    states = [row.state for row in TicketStep.objects.filter(ticket=ticket).order_by("position")]
    assert states == [StepState.DONE, StepState.DONE, StepState.ACTIVE]
    assert TicketStep.objects.get(ticket=ticket, position=2).completed_by == engineer
    assert client.get("/agent/", {"view": "handoff"}).context["rows"] == []
    # The frontline sees it back, with the next step under way and no hand-off in the header.
    html = page(signed_in(client, world.agent), ticket)
    header = re.search(r'<header id="ticket-header".*?</header>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "hand-off" not in header and "In progress" in text(header)
    assert 'data-position="3" data-state="active"' in html
    story = timeline(html)
    assert "Engineer completed the step “Analyse the log files” on time." in story
    assert "Technical handed the ticket back." in story


# Query counts ----------------------------------------------------------------------------------


def test_ticket_page_query_count_does_not_grow_with_steps_and_answers(
    client: Client, world: World, repair_ticket: Ticket
) -> None:
    signed_in(client, world.agent)
    page(client, repair_ticket)  # warm the compiled calendar of this process
    with CaptureQueriesContext(connection) as start:
        page(client, repair_ticket)
    statements = [q["sql"] for q in start.captured_queries]
    services.sop_step_complete(
        actor=world.agent, ticket=repair_ticket, position=1, answers={"cause-found": "no", "notes": "a"}
    )
    services.sop_step_complete(
        actor=world.agent, ticket=repair_ticket, position=1, answers={"cause-found": "yes"}, complete=False
    )
    services.sop_step_complete(
        actor=world.agent,
        ticket=repair_ticket,
        position=2,
        answers={"pressure": "9"},
        evidence={"photo": SimpleUploadedFile("unit.png", PNG, content_type="image/png")},
    )
    services.sop_step_complete(
        actor=world.agent, ticket=repair_ticket, position=3, answers={"parts-used": "Seal"}
    )
    with CaptureQueriesContext(connection) as later:
        html = page(client, repair_ticket)
    assert "2 attempts" in html and "unit.png" in html
    assert len(later) == len(statements), [q["sql"] for q in later.captured_queries]
    assert sum("tickets_checkpointanswer" in sql for sql in statements) == 1
