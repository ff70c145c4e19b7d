"""Two real `pledge worker` processes sweep the same overdue clocks: every escalation level fires exactly
once, late rather than never, however the two workers' sweeps overlap.

The tickets are created two hours in the past on the 24×7 calendar, so when the workers start every
level is overdue, as after a worker outage. The sweep interval is shortened to 0.3 s while one sweep of
all the tickets takes longer than that, so the workers' sweeps overlap and race for the same clocks:
the conditional claim on each clock is what keeps each level to one firing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from pledge.accounts import services as account_services
from pledge.accounts.choices import Role, TeamKind
from pledge.accounts.models import Notification
from pledge.core.models import PeriodicSweepRun
from pledge.customers import services as customer_services
from pledge.standards import services as standards_services
from pledge.standards.models import EscalationLevel, SlaPolicy
from pledge.tickets import clocks
from pledge.tickets import services as ticket_services
from pledge.tickets.choices import EventKind
from pledge.tickets.models import SlaClock, TicketEvent
from tests.core.test_worker import StartWorker, probe_file, start_worker, wait_for  # noqa: F401 (fixtures)

TICKETS = 30
LEVELS = {"resolution": (50, 100, 150), "first_response": (100,)}
FIRINGS = TICKETS * sum(len(percents) for percents in LEVELS.values())


def test_two_workers_fire_each_escalation_level_exactly_once(
    transactional_db: None,
    settings: Any,
    start_worker: StartWorker,  # noqa: F811 (the fixture)
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    calendar = next(c for c in standards_services.ensure_builtin_calendars() if c.code == "24x7")
    policy = SlaPolicy.objects.create(
        name="Round the clock", calendar=calendar, first_response_minutes=30, resolution_minutes=60
    )
    for target, percents in LEVELS.items():
        for percent in percents:
            notify = ["team_lead"] if target == "first_response" else ["assignee"]
            EscalationLevel.objects.create(policy=policy, target=target, percent=percent, notify=notify)
    clocks.forget_cached_policies()
    lead = account_services.user_create(username="lead", password="x-long-password-1", role=Role.TEAM_LEAD)
    agent = account_services.user_create(username="agent", password="x-long-password-1", role=Role.AGENT)
    team = account_services.team_create(name="Desk", kind=TeamKind.FRONTLINE, lead=lead)
    account_services.team_add_member(team=team, user=agent)
    organisation = customer_services.organisation_create(name="Line 3", tier="gold", industry="automotive")
    created = timezone.now() - timedelta(hours=2)
    tickets = [
        ticket_services.ticket_create(
            actor=agent,
            organisation=organisation,
            subject=f"Press {i} stopped",
            kind="fault",
            team=team,
            assignee=agent,
            at=created,
        )[0]
        for i in range(TICKETS)
    ]
    now = timezone.now()
    due = [
        clock
        for clock in SlaClock.objects.all()
        if clock.next_escalation_at and clock.next_escalation_at <= now
    ]
    assert len(due) == 2 * TICKETS

    workers = [start_worker(name, ["--sweep-every", "0.3", "--interval", "0.1"]) for name in ("w1", "w2")]
    wait_for(
        lambda: (
            TicketEvent.objects.filter(kind=EventKind.ESCALATED).count() >= FIRINGS
            and not SlaClock.objects.filter(escalation_pos__isnull=False).exists()
        ),
        workers,
        timeout=180,
    )
    assert [worker.stop() for worker in workers] == [0, 0]

    fired = Counter(
        (event.ticket_id, event.data["target"], event.data["percent"])
        for event in TicketEvent.objects.filter(kind=EventKind.ESCALATED)
    )
    expected = {
        (ticket.pk, target, percent)
        for ticket in tickets
        for target, percents in LEVELS.items()
        for percent in percents
    }
    assert set(fired) == expected
    assert set(fired.values()) == {1}  # every level exactly once
    assert Notification.objects.filter(user=agent).count() == TICKETS * 3
    assert Notification.objects.filter(user=lead).count() == TICKETS
    late = TicketEvent.objects.filter(kind=EventKind.ESCALATED).values_list("data", flat=True)
    assert all(data["late_by_seconds"] > 0 for data in late)  # fired late, not skipped
    # Both workers ran and claimed sweep slots (which of them fired the levels depends on timing).
    sweepers = set(PeriodicSweepRun.objects.values_list("worker", flat=True))
    assert sweepers <= {"w1", "w2"}
    assert PeriodicSweepRun.objects.filter(name="sla-escalations").exists()
    if connection.vendor == "postgresql":
        # (On SQLite a machine under heavy load can make a worker wait out the busy timeout; the
        # sweep logs it and the next slot catches up, which the counts above confirm.)
        assert "Traceback" not in "".join(worker.output() for worker in workers)
