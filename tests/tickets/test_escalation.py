"""Escalation levels: each fires once at its share of the target, performs its actions, shows in the
event log, and fires late after an outage rather than never. (Two real worker processes against
PostgreSQL: tests/tickets/test_escalation_workers.py.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from pledge.accounts.models import Notification
from pledge.standards import services as standards_services
from pledge.standards.models import EscalationLevel, SlaPolicy
from pledge.tickets import clocks, escalation
from pledge.tickets.choices import ClockState, EventKind
from pledge.tickets.models import SlaClock, Ticket, TicketEvent
from tests.conftest import World

SH = ZoneInfo("Asia/Shanghai")


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


@pytest.fixture
def policy(world: World) -> SlaPolicy:
    calendars = {c.code: c for c in standards_services.ensure_builtin_calendars()}
    policy = SlaPolicy.objects.create(name="Office", calendar=calendars["cn-office"], resolution_minutes=480)
    EscalationLevel.objects.create(policy=policy, target="resolution", percent=75, notify=["assignee"])
    EscalationLevel.objects.create(
        policy=policy, target="resolution", percent=100, notify=["team_lead"], raise_priority=True
    )
    EscalationLevel.objects.create(
        policy=policy,
        target="resolution",
        percent=150,
        notify=["service_managers"],
        reassign_team=world.back_office,
        add_watcher=world.manager,
    )
    clocks.forget_cached_policies()
    return policy


def escalations(ticket: Ticket) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATED)
        .order_by("id")
        .values_list("new_value", flat=True)
    )


def test_levels_fire_once_each_at_their_share(
    world: World, policy: SlaPolicy, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = world.ticket(
        at=sh(2026, 11, 23, 10, 0), team=world.frontline, assignee=world.agent, priority="P3"
    )
    resolution = SlaClock.objects.get(ticket=ticket, target="resolution")
    # 75 % of 480 = 360 working minutes: Monday 10–12 and 13–17 → 17:00.
    assert resolution.next_escalation_at == sh(2026, 11, 23, 17, 0)

    assert escalation.sla_sweep(sh(2026, 11, 23, 16, 59)).escalated == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.sla_sweep(sh(2026, 11, 23, 17, 0)).escalated == 1
    assert escalation.sla_sweep(sh(2026, 11, 23, 17, 30)).escalated == 0  # never twice
    assert escalations(ticket) == ["75%"]
    note = Notification.objects.get(user=world.agent)
    assert ticket.number in note.title
    assert mail.outbox[-1].to == [world.agent.email]

    # 100 %: Tuesday 10:00 — breached, the lead is told, and the priority goes up one step.
    result = escalation.sla_sweep(sh(2026, 11, 24, 10, 0))
    assert (result.breached, result.escalated) == (1, 1)
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.priority == "P2"
    assert SlaClock.objects.get(pk=resolution.pk).state == ClockState.BREACHED
    assert Notification.objects.filter(user=world.lead).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.PRIORITY, actor=None).count() == 1

    # 150 % = 720 minutes: Tuesday 15:00 — the managers are told and the back office takes it over.
    assert escalation.sla_sweep(sh(2026, 11, 24, 14, 59)).escalated == 0
    assert escalation.sla_sweep(sh(2026, 11, 24, 15, 0)).escalated == 1
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.team_id == world.back_office.pk
    assert ticket.assignee_id is None
    assert list(ticket.watchers.all()) == [world.manager]
    assert Notification.objects.filter(user=world.manager).count() == 1
    assert escalations(ticket) == ["75%", "100%", "150%"]
    assert SlaClock.objects.get(pk=resolution.pk).next_escalation_at is None


def test_a_worker_outage_fires_every_missed_level_late_once(world: World, policy: SlaPolicy) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0), team=world.frontline, assignee=world.agent)
    # No sweep ran until Thursday: all three levels fire now, in order, once each.
    result = escalation.sla_sweep(sh(2026, 11, 26, 9, 0))
    assert result.escalated == 3
    assert escalations(ticket) == ["75%", "100%", "150%"]
    late = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATED).order_by("id").first()
    assert late is not None
    assert late.data["late_by_seconds"] > 0
    assert escalation.sla_sweep(sh(2026, 11, 27, 9, 0)).escalated == 0


def test_paused_and_achieved_clocks_do_not_escalate(world: World, policy: SlaPolicy) -> None:
    from pledge.tickets import services as ticket_services

    paused = world.ticket(at=sh(2026, 11, 23, 10, 0))
    paused = ticket_services.ticket_transition(
        actor=world.agent, ticket=paused, to_status="in_progress", expected_version=paused.version
    )
    paused = ticket_services.ticket_transition(
        actor=world.agent,
        ticket=paused,
        to_status="waiting_parts",
        expected_version=paused.version,
        at=sh(2026, 11, 23, 11, 0),
    )
    done = world.ticket(at=sh(2026, 11, 23, 10, 0))
    ticket_services.ticket_transition(
        actor=world.agent,
        ticket=done,
        to_status="resolved",
        expected_version=done.version,
        at=sh(2026, 11, 23, 11, 0),
    )
    assert escalation.sla_sweep(sh(2026, 11, 30, 9, 0)).escalated == 0
    assert escalations(paused) == escalations(done) == []


def test_a_calendar_change_moves_the_next_escalation(world: World, policy: SlaPolicy) -> None:
    from datetime import date

    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0), team=world.frontline, assignee=world.agent)
    assert escalation.sla_sweep(sh(2026, 11, 23, 17, 0)).escalated == 1  # 75 %
    clock = SlaClock.objects.get(ticket=ticket, target="resolution")
    assert clock.next_escalation_at == sh(2026, 11, 24, 10, 0)  # 100 % on Tuesday 10:00
    standards_services.calendar_set_holiday(
        calendar=policy.calendar, day=date(2026, 11, 24), name="Company day", actor=world.manager
    )
    clock = SlaClock.objects.get(pk=clock.pk)
    assert clock.next_escalation_at == sh(2026, 11, 25, 10, 0)  # Tuesday is off now
    assert clock.due_at == sh(2026, 11, 25, 10, 0)
    assert clock.escalated_percent == 75
    assert escalation.sla_sweep(sh(2026, 11, 24, 12, 0)).escalated == 0
