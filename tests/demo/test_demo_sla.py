"""The demo's SLA policies, and six months of history played through their clocks and sweeps: the
on-time shares, breaches, escalations and open queue of a real service desk."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pledge.accounts.models import Notification, Team, User
from pledge.customers.models import Asset, Organisation
from pledge.demo import data
from pledge.demo.loader import load_demo
from pledge.standards.models import EscalationLevel, SlaPolicy
from pledge.standards.selectors import business_time_for
from pledge.tickets import services as ticket_services
from pledge.tickets.choices import OPEN_STATUSES, ClockState, EventKind, Kind, Priority
from pledge.tickets.models import SlaClock, Ticket, TicketEvent
from pledge.tickets.selectors import clock_view

# A Wednesday afternoon in Shanghai, as in test_loader.py.
NOW = datetime(2026, 11, 18, 7, 0, tzinfo=UTC)


def _policy(name_start: str) -> SlaPolicy:
    return SlaPolicy.objects.select_related("calendar", "contract").get(name__startswith=name_start)


def _on_time_share(target: str) -> float:
    """Finished clocks of `target` that met their promise, out of all that met or missed it."""
    finished = SlaClock.objects.filter(target=target, achieved_at__isnull=False)
    met = finished.filter(state=ClockState.ACHIEVED).count()
    missed = finished.filter(state=ClockState.BREACHED).count()
    assert met + missed > 100, target
    return met / (met + missed)


def _clock_snapshot() -> list[tuple[Any, ...]]:
    return list(
        SlaClock.objects.order_by("pk").values_list(
            "pk", "ticket_id", "target", "cycle", "policy_id", "state", "due_pos", "escalated_percent"
        )
    )


def _fault(organisation: Organisation, priority: str) -> Ticket:
    """A new fault on one of the organisation's machines, through the ticket service."""
    asset = Asset.objects.filter(organisation=organisation).order_by("pk").first()
    ticket, _created = ticket_services.ticket_create(
        actor=User.objects.get(username="agent"),
        organisation=organisation,
        subject="Line stopped",
        kind=Kind.FAULT,
        channel="phone",
        priority=priority,
        asset=asset,
        at=NOW,
    )
    return ticket


def test_demo_history_runs_through_real_sla_policies_and_sweeps(db: Any) -> None:
    load_demo(now=NOW)

    # The policies, in order, the general one last and matching anything.
    policies = list(SlaPolicy.objects.order_by("position", "pk"))
    assert [policy.name for policy in policies] == [spec.name for spec in data.SLA_POLICIES]
    general = policies[-1]
    assert (general.tiers, general.kinds, general.priorities, general.channels) == ([], [], [], [])
    assert general.calendar.code == "cn-office"
    p1 = _policy("P1 故障")
    assert p1.calendar.code == "24x7"
    assert (p1.first_response_minutes, p1.resolution_minutes) == (30, 480)
    assert p1.pause_statuses == ["waiting_customer"]  # a part on its way does not stop a down line's clock
    assert general.pause_statuses == ["waiting_customer", "waiting_parts"]
    levels = {
        level.percent: level
        for level in EscalationLevel.objects.filter(policy=p1, target="resolution").select_related(
            "reassign_team"
        )
    }
    assert sorted(levels) == [75, 100, 150]
    assert levels[75].notify == ["assignee"]
    assert levels[100].notify == ["team_lead"]
    assert levels[150].notify == ["service_managers"]
    back_office = Team.objects.get(name=next(t.name for t in data.TEAMS if t.key == data.ESCALATION_TEAM))
    assert levels[150].reassign_team == back_office

    # Every ticket got a policy and clocks when it was created; P1 faults run on 24x7.
    assert not Ticket.objects.filter(sla_policy__isnull=True).exists()
    assert not Ticket.objects.filter(clocks__isnull=True).exists()
    assert {code for code in SlaClock.objects.filter(policy=p1).values_list("calendar__code", flat=True)} == {
        "24x7"
    }
    assert Ticket.objects.filter(sla_policy=p1, kind=Kind.FAULT, priority=Priority.P1).count() >= 20

    # A contract's own policy wins: the full-service customer's P1 and P2 faults run on it.
    full_service = Organisation.objects.get(name=data.FULL_SERVICE_CUSTOMER)
    contract_policy = SlaPolicy.objects.get(contract__organisation=full_service)
    assert contract_policy.calendar.code == "24x7"
    assert contract_policy.first_response_minutes is not None
    assert p1.first_response_minutes is not None
    assert contract_policy.first_response_minutes < p1.first_response_minutes
    covered = Ticket.objects.filter(
        organisation=full_service, kind=Kind.FAULT, priority__in=[Priority.P1, Priority.P2]
    )
    assert covered.filter(priority=Priority.P1).exists()
    assert set(covered.values_list("sla_policy", flat=True)) == {contract_policy.pk}
    assert set(covered.values_list("contract", flat=True)) == {contract_policy.contract_id}
    # The night-production customer's faults count its night shifts; its P1 faults fall through to P1.
    night = _policy("常州绿野")
    assert night.calendar.code == "night-shift"
    assert night.contract is not None and night.contract.organisation.name == data.NIGHT_SHIFT_CUSTOMER
    assert Ticket.objects.filter(sla_policy=night).exists()

    # The desk keeps most promises, not all.
    first_response = _on_time_share("first_response")
    resolution = _on_time_share("resolution")
    assert 0.85 <= first_response <= 0.93, first_response
    assert 0.75 <= resolution <= 0.90, resolution

    # Breaches and escalations happened in the past, when they fell due, each level once per clock.
    breaches = TicketEvent.objects.filter(kind=EventKind.SLA, new_value=ClockState.BREACHED)
    assert breaches.count() >= 50
    assert all(event.created_at <= NOW for event in breaches)
    escalations = list(TicketEvent.objects.filter(kind=EventKind.ESCALATED))
    keys = [
        (event.ticket_id, event.data["target"], event.data["cycle"], event.data["percent"])
        for event in escalations
    ]
    assert len(keys) == len(set(keys))
    on_time = [event for event in escalations if event.data["late_by_seconds"] < 60]
    assert len(on_time) >= 0.9 * len(escalations)
    per_month = Counter(event.created_at.astimezone(UTC).strftime("%Y-%m") for event in escalations)
    full_months = [month for month in per_month if "2026-06" <= month <= "2026-10"]
    assert len(full_months) == 5
    assert all(3 <= per_month[month] <= 60 for month in full_months), per_month
    assert Notification.objects.filter(created_at__lte=NOW).count() >= len(escalations) // 2
    # The P1 policy's 150 % level handed some stopped lines to the back office.
    assert TicketEvent.objects.filter(
        kind=EventKind.TEAM, actor__isnull=True, new_value=str(back_office)
    ).exists()
    # Field visits record the engineer's arrival, which stops their on-site clock.
    assert SlaClock.objects.filter(target="on_site", state=ClockState.ACHIEVED).count() >= 20

    # The open queue: some tickets wait (clocks paused), some are past due, some nearly due.
    shown: Counter[str] = Counter()
    open_clocks = SlaClock.objects.filter(ticket__status__in=OPEN_STATUSES).select_related("calendar")
    by_ticket: dict[int, set[str]] = {}
    for clock in open_clocks:
        view = clock_view(clock, business_time_for(clock.calendar), NOW)
        by_ticket.setdefault(clock.ticket_id, set()).add(view.level)
    for levels_shown in by_ticket.values():
        shown.update(levels_shown & {"paused", "breached", "warning"})
    assert shown["paused"] >= 2, shown
    assert shown["breached"] >= 2, shown
    assert shown["warning"] >= 2, shown

    # Loading again changes no policy and no clock.
    policies_before = list(SlaPolicy.objects.order_by("pk").values_list("pk", "name", "version"))
    clocks_before = _clock_snapshot()
    again = load_demo(now=NOW)
    assert again.tickets_created == 0
    assert list(SlaPolicy.objects.order_by("pk").values_list("pk", "name", "version")) == policies_before
    assert _clock_snapshot() == clocks_before

    # New tickets match as the policies say: the contract's P1 fault gets the contract policy, another
    # customer's the P1 policy on 24x7.
    assert _fault(full_service, Priority.P1).sla_policy == contract_policy
    other = Organisation.objects.exclude(pk__in=[full_service.pk, night.contract.organisation_id]).first()
    assert other is not None
    ticket = _fault(other, Priority.P1)
    assert ticket.sla_policy == p1
    assert {clock.calendar.code for clock in SlaClock.objects.filter(ticket=ticket)} == {"24x7"}
