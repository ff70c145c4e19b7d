"""SOP step execution: steps and stages on creation, checkpoint answers, step clocks on the calendar,
the resolution guard and the service manager's override."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from pledge.core.errors import Conflict, PermissionDenied, ValidationFailed
from pledge.standards import services as standards_services
from pledge.standards.models import BusinessCalendar, ServiceType
from pledge.tickets import services as ticket_services
from pledge.tickets.choices import ClockState, EventKind, Status, StepState
from pledge.tickets.models import CheckpointAnswer, SlaClock, Ticket, TicketEvent, TicketStep
from tests.conftest import World
from tests.sops import repair_service

SH = ZoneInfo("Asia/Shanghai")
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


@pytest.fixture
def repair(world: World, calendars: dict[str, BusinessCalendar]) -> ServiceType:
    return repair_service(world.manager, effective=date(2026, 11, 2), at=sh(2026, 11, 2, 9, 0))


def steps_of(ticket: Ticket) -> list[TicketStep]:
    return list(TicketStep.objects.filter(ticket=ticket).select_related("step", "clock").order_by("position"))


def upload(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name  # type: ignore[attr-defined]
    return handle


def test_a_ticket_of_a_service_type_gets_its_steps_and_starts_the_first_stage(
    world: World, repair: ServiceType
) -> None:
    ticket = world.ticket(service_type=repair, kind=None, at=sh(2026, 11, 23, 10, 0))  # Monday
    assert ticket.kind == "fault" and ticket.priority == "P2"  # the service type's defaults
    assert ticket.sop_version is not None and ticket.sop_version.number == 1
    rows = steps_of(ticket)
    assert [(r.step.key, r.stage, r.state) for r in rows] == [
        ("diagnose", 0, StepState.ACTIVE),
        ("repair", 1, StepState.PENDING),
        ("parts", 1, StepState.PENDING),
        ("confirm", 2, StepState.PENDING),
    ]
    diagnose = rows[0]
    assert diagnose.clock is not None
    assert diagnose.clock.target == "sop_step" and diagnose.clock.cycle == 1
    assert diagnose.clock.due_at == sh(2026, 11, 23, 11, 0)
    # Steps are not promises: the queue's SLA sort ignores them (no SLA policy here).
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at is None


def test_completing_steps_runs_stages_in_parallel_and_times_them(world: World, repair: ServiceType) -> None:
    ticket = world.ticket(service_type=repair, at=sh(2026, 11, 23, 10, 0))
    # Diagnosis done at 11:30: 90 business minutes against a 60-minute standard — late.
    ticket_services.sop_step_complete(
        actor=world.agent,
        ticket=ticket,
        position=1,
        answers={"cause-found": "yes", "notes": "Seal worn"},
        at=sh(2026, 11, 23, 11, 30),
    )
    rows = steps_of(ticket)
    assert rows[0].state == StepState.DONE
    assert rows[0].business_minutes == pytest.approx(90)
    assert rows[0].on_time is False
    assert rows[0].clock is not None and rows[0].clock.state == ClockState.BREACHED
    # Both steps of the parallel group start together at 11:30; over lunch, 240 minutes end at 16:30.
    assert rows[1].state == rows[2].state == StepState.ACTIVE
    assert rows[1].clock is not None and rows[1].clock.due_at == sh(2026, 11, 23, 16, 30)
    assert rows[2].clock is not None and rows[2].clock.due_at == sh(2026, 11, 23, 14, 30)
    ticket_services.sop_step_complete(
        actor=world.field_agent,
        ticket=ticket,
        position=3,
        answers={"parts-used": "Seal kit SK-20"},
        at=sh(2026, 11, 23, 14, 0),
    )
    assert steps_of(ticket)[3].state == StepState.PENDING  # the repair is still under way
    ticket_services.sop_step_complete(
        actor=world.field_agent,
        ticket=ticket,
        position=2,
        answers={"pressure": "6.5"},
        evidence={"photo": upload("unit.png", PNG)},
        at=sh(2026, 11, 23, 15, 0),
    )
    rows = steps_of(ticket)
    assert rows[1].on_time is True and rows[2].on_time is True
    assert rows[3].state == StepState.ACTIVE and rows[3].started_at == sh(2026, 11, 23, 15, 0)
    photo = CheckpointAnswer.objects.get(checkpoint__key="photo")
    assert photo.attachment is not None and photo.attachment.content_type == "image/png"
    events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STEP).order_by("created_at")
    assert [e.data["step"] for e in events] == ["Diagnose the fault", "Record parts used", "Repair on site"]
    assert events[0].data["milestone"] == "Fault diagnosed"


def test_bad_answers_are_refused_and_nothing_is_saved(world: World, repair: ServiceType) -> None:
    ticket = world.ticket(service_type=repair, at=sh(2026, 11, 23, 10, 0))
    with pytest.raises(ValidationFailed) as missing:
        ticket_services.sop_step_complete(
            actor=world.agent, ticket=ticket, position=1, answers={"notes": "x"}
        )
    assert "answers.cause-found" in missing.value.fields
    with pytest.raises(ValidationFailed) as unreadable:
        ticket_services.sop_step_complete(
            actor=world.agent, ticket=ticket, position=1, answers={"cause-found": "perhaps", "bogus": "1"}
        )
    assert set(unreadable.value.fields) == {"answers.cause-found", "answers.bogus"}
    assert "yes or no" in unreadable.value.fields["answers.cause-found"]
    with pytest.raises(Conflict):
        ticket_services.sop_step_complete(
            actor=world.agent, ticket=ticket, position=2, answers={"pressure": "6"}
        )
    assert not CheckpointAnswer.objects.exists()
    assert steps_of(ticket)[0].state == StepState.ACTIVE
    assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STEP).exists()


def test_a_photo_checkpoint_takes_only_images(world: World, repair: ServiceType) -> None:
    ticket = world.ticket(service_type=repair, at=sh(2026, 11, 23, 10, 0))
    ticket_services.sop_step_complete(
        actor=world.agent,
        ticket=ticket,
        position=1,
        answers={"cause-found": "yes"},
        at=sh(2026, 11, 23, 10, 30),
    )
    with pytest.raises(ValidationFailed) as refused:
        ticket_services.sop_step_complete(
            actor=world.field_agent,
            ticket=ticket,
            position=2,
            answers={"pressure": "6"},
            evidence={"photo": upload("report.txt", b"not a photo")},
        )
    assert "not a photo" in refused.value.fields["answers.photo"]


def test_resolution_is_refused_until_checkpoints_pass_or_a_manager_overrides(
    world: World, repair: ServiceType
) -> None:
    ticket = world.ticket(service_type=repair, at=sh(2026, 11, 23, 10, 0))
    ticket_services.sop_step_complete(
        actor=world.agent,
        ticket=ticket,
        position=1,
        answers={"cause-found": "no"},
        at=sh(2026, 11, 23, 10, 30),
    )
    ticket = Ticket.objects.get(pk=ticket.pk)
    with pytest.raises(ValidationFailed) as refused:
        ticket_services.ticket_transition(
            actor=world.agent, ticket=ticket, to_status=Status.RESOLVED, expected_version=ticket.version
        )
    message = refused.value.message
    assert "“Cause found?” (step Diagnose the fault) failed" in message
    assert "“Hydraulic pressure after repair” (step Repair on site) is unanswered" in message
    assert "checkpoints" in refused.value.fields
    # An agent cannot override; a service manager can, with a reason, and it is logged.
    with pytest.raises(PermissionDenied):
        ticket_services.ticket_transition(
            actor=world.agent,
            ticket=ticket,
            to_status=Status.RESOLVED,
            expected_version=ticket.version,
            override_reason="Customer replaced the unit",
        )
    assert Ticket.objects.get(pk=ticket.pk).status == ticket.status
    resolved = ticket_services.ticket_transition(
        actor=world.manager,
        ticket=ticket,
        to_status=Status.RESOLVED,
        expected_version=ticket.version,
        override_reason="Customer replaced the whole unit under warranty",
        at=sh(2026, 11, 23, 11, 0),
    )
    assert resolved.status == Status.RESOLVED
    override = TicketEvent.objects.get(ticket=ticket, kind=EventKind.OVERRIDE)
    assert override.actor == world.manager
    assert override.data["reason"] == "Customer replaced the whole unit under warranty"
    problems = {(c["checkpoint"], c["problem"]) for c in override.data["checkpoints"]}
    assert ("Cause found?", "failed") in problems and ("Parts used", "unanswered") in problems
    # The steps still under way stop counting at the resolution.
    live = SlaClock.objects.filter(ticket=ticket, target="sop_step", state=ClockState.RUNNING)
    assert not live.exists()


def test_a_failed_critical_checkpoint_can_be_put_right(world: World, repair: ServiceType) -> None:
    ticket = world.ticket(service_type=repair, at=sh(2026, 11, 23, 10, 0))
    answers = [
        (1, {"cause-found": "yes"}),
        (2, {"pressure": "9.5"}),  # out of limits: failed, the step still completes
        (3, {"parts-used": "none"}),
        (4, {"customer-ok": "yes"}),
    ]
    for minute, (position, given) in enumerate(answers):
        ticket_services.sop_step_complete(
            actor=world.agent,
            ticket=ticket,
            position=position,
            answers=given,
            at=sh(2026, 11, 23, 11, minute),
        )
    ticket = Ticket.objects.get(pk=ticket.pk)
    with pytest.raises(ValidationFailed):
        ticket_services.ticket_transition(
            actor=world.agent, ticket=ticket, to_status=Status.RESOLVED, expected_version=ticket.version
        )
    ticket_services.sop_step_complete(
        actor=world.agent, ticket=ticket, position=2, answers={"pressure": "7"}, complete=False
    )
    attempts = CheckpointAnswer.objects.filter(checkpoint__key="pressure").order_by("attempt")
    assert [(a.attempt, a.passed) for a in attempts] == [(1, False), (2, True)]
    ticket = Ticket.objects.get(pk=ticket.pk)
    resolved = ticket_services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status=Status.RESOLVED, expected_version=ticket.version
    )
    assert resolved.status == Status.RESOLVED
    assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.OVERRIDE).exists()


def test_step_clocks_pause_while_waiting_on_the_customer(world: World, repair: ServiceType) -> None:
    ticket = world.ticket(service_type=repair, at=sh(2026, 11, 23, 10, 0))
    ticket = ticket_services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        to_status=Status.ACKNOWLEDGED,
        expected_version=ticket.version,
        at=sh(2026, 11, 23, 10, 5),
    )
    ticket = ticket_services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        to_status=Status.WAITING_CUSTOMER,
        expected_version=ticket.version,
        at=sh(2026, 11, 23, 10, 20),
    )
    ticket_services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        to_status=Status.IN_PROGRESS,
        expected_version=ticket.version,
        at=sh(2026, 11, 23, 14, 0),
    )
    clock = steps_of(ticket)[0].clock
    assert clock is not None
    # 20 minutes used before the pause; 40 left from 14:00.
    assert clock.due_at == sh(2026, 11, 23, 14, 40)
    assert clock.paused_minutes == pytest.approx(160)  # 10:20–12:00 and 13:00–14:00


def test_a_ticket_keeps_the_version_in_effect_when_it_was_created(world: World, repair: ServiceType) -> None:
    before = world.ticket(service_type=repair, at=sh(2026, 11, 23, 10, 0))
    assert repair.sop is not None
    draft = standards_services.sop_draft_start(
        actor=world.manager, sop=repair.sop, reason="Add a safety check", at=sh(2026, 11, 23, 12, 0)
    )
    steps = standards_services.step_data_of(draft)
    steps[0] = standards_services.StepData(
        **{**steps[0].__dict__, "time_standard_minutes": 45}  # diagnosis now 45 minutes
    )
    standards_services.sop_draft_save(
        actor=world.manager, version=draft, steps=steps, reason="Faster diagnosis", at=sh(2026, 11, 23, 12, 0)
    )
    standards_services.sop_version_approve(
        actor=world.manager, version=draft, effective_from=date(2026, 11, 24), at=sh(2026, 11, 23, 12, 0)
    )
    same_day = world.ticket(service_type=repair, at=sh(2026, 11, 23, 15, 0))
    next_day = world.ticket(service_type=repair, at=sh(2026, 11, 24, 9, 0))
    assert [t.sop_version.number for t in (before, same_day, next_day) if t.sop_version] == [1, 1, 2]
    assert steps_of(next_day)[0].step.time_standard_minutes == 45
    assert steps_of(before)[0].step.time_standard_minutes == 60
    # The comparison of the two versions shows the change, and only it.
    from pledge.standards import selectors as standards_selectors

    diff = standards_selectors.sop_version_diff(
        standards_selectors.sop_version_get(repair.sop, 1), standards_selectors.sop_version_get(repair.sop, 2)
    )
    assert [(d.key, d.change) for d in diff] == [
        ("diagnose", "changed"),
        ("repair", "same"),
        ("parts", "same"),
        ("confirm", "same"),
    ]
    assert [(f.field, f.old, f.new) for f in diff[0].fields] == [
        ("time_standard_minutes", "1 hour", "45 minutes")
    ]


def test_customers_pick_only_offered_service_types(world: World, repair: ServiceType) -> None:
    standards_services.service_type_update(
        service_type=repair, actor=world.manager, customer_selectable=False
    )
    with pytest.raises(ValidationFailed) as refused:
        world.ticket(actor=world.customer_a, service_type=repair)
    assert "service_type" in refused.value.fields
    staff_ticket = world.ticket(service_type=repair)
    assert staff_ticket.service_type_id == repair.pk


def test_a_back_office_step_hands_the_ticket_over_and_back(world: World, repair: ServiceType) -> None:
    from pledge.accounts import services as account_services
    from pledge.accounts.choices import Role
    from pledge.standards.services import CheckpointData, StepData
    from pledge.tickets import policies
    from tests.conftest import make_user

    engineer = make_user("backoffice_engineer", Role.AGENT)
    account_services.team_add_member(team=world.back_office, user=engineer)
    assert repair.sop is not None
    draft = standards_services.sop_draft_start(
        actor=world.manager, sop=repair.sop, reason="Ask the technical team", at=sh(2026, 11, 23, 8, 0)
    )
    steps = standards_services.step_data_of(draft)
    steps.insert(
        1,
        StepData(
            key="analyse",
            name="Analyse the log files",
            owner="back_office",
            team=world.back_office,
            time_standard_minutes=120,
            checkpoints=[CheckpointData(key="root-cause", label="Root cause", kind="text")],
        ),
    )
    standards_services.sop_draft_save(
        actor=world.manager,
        version=draft,
        steps=steps,
        reason="Ask the technical team",
        at=sh(2026, 11, 23, 8, 0),
    )
    standards_services.sop_version_approve(
        actor=world.manager, version=draft, effective_from=date(2026, 11, 23), at=sh(2026, 11, 23, 8, 0)
    )
    ticket = world.ticket(service_type=repair, team=world.frontline, at=sh(2026, 11, 23, 10, 0))
    assert not policies.can_view_ticket(engineer, Ticket.objects.get(pk=ticket.pk))
    ticket_services.sop_step_complete(
        actor=world.agent,
        ticket=ticket,
        position=1,
        answers={"cause-found": "yes"},
        at=sh(2026, 11, 23, 10, 30),
    )
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.handoff_team_id == world.back_office.pk
    assert ticket.status == Status.WAITING_BACK_OFFICE
    handoff = steps_of(ticket)[1]
    assert handoff.clock is not None and handoff.clock.target == "handoff"
    assert handoff.clock.due_at == sh(2026, 11, 23, 13, 30)  # 120 minutes over lunch: the OLA
    engineer = type(engineer).objects.get(pk=engineer.pk)
    assert policies.can_view_ticket(engineer, ticket)
    assert policies.can_do_step(engineer, ticket, handoff.step)
    assert not policies.can_do_step(world.agent, ticket, handoff.step)
    ticket_services.sop_step_complete(
        actor=engineer,
        ticket=ticket,
        position=2,
        answers={"root-cause": "Firmware 2.1 bug"},
        at=sh(2026, 11, 23, 13, 0),
    )
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.handoff_team_id is None
    assert ticket.status == Status.IN_PROGRESS
    assert steps_of(ticket)[1].on_time is True
    assert [s.state for s in steps_of(ticket)][2:4] == [StepState.ACTIVE, StepState.ACTIVE]
    kinds = list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))
    assert kinds.count(EventKind.HANDOFF) == 2


def test_the_steps_selector_shows_clocks_answers_and_blockers(
    world: World, repair: ServiceType, django_assert_num_queries: object
) -> None:
    from pledge.tickets.selectors import ticket_steps

    ticket = world.ticket(service_type=repair, at=sh(2026, 11, 23, 10, 0))
    ticket_services.sop_step_complete(
        actor=world.agent,
        ticket=ticket,
        position=1,
        answers={"cause-found": "no"},
        at=sh(2026, 11, 23, 10, 30),
    )
    ticket = Ticket.objects.get(pk=ticket.pk)
    view = ticket_steps(ticket, sh(2026, 11, 23, 11, 0))
    assert [s.row.state for s in view.steps] == ["done", "active", "active", "pending"]
    assert [s.step.key for s in view.current] == ["repair", "parts"]
    assert [s.step.milestone_name for s in view.milestones] == ["Fault diagnosed", "Repair confirmed"]
    first = view.steps[0]
    assert first.checkpoints[0].answer is not None and first.checkpoints[0].blocking == "failed"
    repair_step = view.steps[1]
    assert repair_step.clock is not None and repair_step.clock.used_minutes == pytest.approx(30)
    assert {(s.step.key, c.checkpoint.key, c.blocking) for s, c in view.blockers} == {
        ("diagnose", "cause-found", "failed"),
        ("repair", "pressure", "unanswered"),
        ("parts", "parts-used", "unanswered"),
        ("confirm", "customer-ok", "unanswered"),
    }


def test_an_overdue_step_escalates_through_the_sla_sweep(
    world: World, repair: ServiceType, calendars: dict[str, BusinessCalendar]
) -> None:
    from pledge.accounts.models import Notification
    from pledge.standards.models import EscalationLevel, SlaPolicy
    from pledge.tickets import clocks, escalation

    policy = SlaPolicy.objects.create(
        name="Office faults", calendar=calendars["cn-office"], kinds=["fault"], resolution_minutes=960
    )
    EscalationLevel.objects.create(policy=policy, target="sop_step", percent=100, notify=["assignee"])
    EscalationLevel.objects.create(policy=policy, target="sop_step", percent=200, notify=["team_lead"])
    clocks.forget_cached_policies()
    ticket = world.ticket(
        service_type=repair, team=world.frontline, assignee=world.agent, at=sh(2026, 11, 23, 10, 0)
    )
    diagnose = steps_of(ticket)[0]
    assert diagnose.clock is not None and diagnose.clock.policy_id == policy.pk
    assert diagnose.clock.next_escalation_at == sh(2026, 11, 23, 11, 0)  # 100 % of 60 minutes
    # The step clock is no promise: the queue's SLA due is the resolution's.
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at == sh(2026, 11, 25, 10, 0)

    assert escalation.sla_sweep(sh(2026, 11, 23, 10, 59)).escalated == 0
    result = escalation.sla_sweep(sh(2026, 11, 23, 11, 0))
    assert (result.breached, result.escalated) == (1, 1)
    assert escalation.sla_sweep(sh(2026, 11, 23, 11, 30)).escalated == 0  # once
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ESCALATED)
    assert event.data["target"] == "sop_step" and event.data["step"] == "Diagnose the fault"
    note = Notification.objects.get(user=world.agent)
    assert "SOP step “Diagnose the fault”" in note.title
    # 200 %: 11:00 + 60 working minutes over lunch → 13:00; the team lead is told.
    assert escalation.sla_sweep(sh(2026, 11, 23, 13, 0)).escalated == 1
    assert Notification.objects.filter(user=world.lead).count() == 1
    # Completing the step late records it as late; no more escalation.
    ticket_services.sop_step_complete(
        actor=world.agent,
        ticket=ticket,
        position=1,
        answers={"cause-found": "yes"},
        at=sh(2026, 11, 23, 14, 0),
    )
    assert steps_of(ticket)[0].on_time is False
    # The next stage started at 14:00: repair (4 h, due 18:00) and parts (2 h, due 16:00) are overdue by
    # Tuesday morning and escalate; the finished diagnosis does not again.
    escalation.sla_sweep(sh(2026, 11, 24, 9, 0))
    steps = [e.data["step"] for e in TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATED)]
    assert steps.count("Diagnose the fault") == 2
    assert {"Repair on site", "Record parts used"} <= set(steps)


def test_evidence_is_for_staff_only(world: World, repair: ServiceType) -> None:
    from pledge.core.errors import NotFound
    from pledge.tickets import selectors

    ticket = world.ticket(service_type=repair, actor=world.customer_a, kind=None, at=sh(2026, 11, 23, 10, 0))
    ticket_services.sop_step_complete(
        actor=world.agent,
        ticket=ticket,
        position=1,
        answers={"cause-found": "yes"},
        at=sh(2026, 11, 23, 10, 30),
    )
    ticket_services.sop_step_complete(
        actor=world.field_agent,
        ticket=ticket,
        position=2,
        answers={"pressure": "6"},
        evidence={"photo": upload("unit.png", PNG)},
        at=sh(2026, 11, 23, 11, 0),
    )
    evidence = CheckpointAnswer.objects.get(checkpoint__key="photo").attachment
    assert evidence is not None and evidence.is_internal
    assert selectors.ticket_creation_attachments(ticket) == []  # not listed as the customer's own file
    with pytest.raises(NotFound):
        selectors.attachment_get_for(world.customer_a, evidence.pk)
    assert selectors.attachment_get_for(world.agent, evidence.pk) == evidence


def test_resolving_stops_the_steps_and_reopening_resumes_them(world: World, repair: ServiceType) -> None:
    ticket = world.ticket(service_type=repair, at=sh(2026, 11, 23, 10, 0))
    ticket = ticket_services.ticket_transition(
        actor=world.manager,
        ticket=ticket,
        to_status=Status.RESOLVED,
        expected_version=ticket.version,
        override_reason="Duplicate of another request",
        at=sh(2026, 11, 23, 10, 20),  # 20 minutes of the diagnosis used
    )
    assert steps_of(ticket)[0].state == StepState.CANCELLED
    with pytest.raises(Conflict) as refused:
        ticket_services.sop_step_complete(
            actor=world.agent, ticket=ticket, position=1, answers={"cause-found": "yes"}
        )
    assert "reopen" in refused.value.message
    assert not SlaClock.objects.filter(ticket=ticket, target="sop_step", state=ClockState.RUNNING).exists()
    # Reopened on Tuesday 9:00: the diagnosis counts on with 40 minutes left.
    ticket = ticket_services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        to_status=Status.IN_PROGRESS,
        expected_version=ticket.version,
        at=sh(2026, 11, 24, 9, 0),
    )
    diagnose = steps_of(ticket)[0]
    assert diagnose.state == StepState.ACTIVE
    assert diagnose.clock is not None and diagnose.clock.state == ClockState.RUNNING
    assert diagnose.clock.due_at == sh(2026, 11, 24, 9, 40)


def test_numbers_are_read_without_guessing(world: World, repair: ServiceType) -> None:
    from pledge.standards.models import Checkpoint
    from pledge.tickets.steps import judge

    pressure = Checkpoint.objects.get(key="pressure")
    assert judge(pressure, "6,5").number == 6.5
    assert judge(pressure, " 7 ").passed is True
    assert judge(pressure, "-1").passed is False
    for ambiguous in ("1,500", "1_500", "6.5.1", "1e3", "nan", "inf", "six"):
        with pytest.raises(ValueError):
            judge(pressure, ambiguous)


def test_the_version_a_ticket_gets_is_decided_on_the_company_day(world: World, repair: ServiceType) -> None:
    from django.utils import timezone as django_timezone

    assert repair.sop is not None
    draft = standards_services.sop_draft_start(
        actor=world.manager, sop=repair.sop, reason="December changes", at=sh(2026, 11, 23, 9, 0)
    )
    standards_services.sop_draft_save(
        actor=world.manager,
        version=draft,
        steps=standards_services.step_data_of(draft),
        reason="December changes",
    )
    standards_services.sop_version_approve(
        actor=world.manager, version=draft, effective_from=date(2026, 12, 1), at=sh(2026, 11, 23, 9, 0)
    )
    # 1 December 09:00 in Shanghai is still 30 November in Los Angeles: both users get version 2.
    for zone in ("Asia/Shanghai", "America/Los_Angeles"):
        with django_timezone.override(zone):
            ticket = world.ticket(service_type=repair, at=sh(2026, 12, 1, 9, 0))
        assert ticket.sop_version is not None and ticket.sop_version.number == 2, zone
