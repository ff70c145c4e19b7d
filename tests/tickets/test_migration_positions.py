"""The migration that stores SLA deadlines as calendar positions keeps every deadline: due instants,
escalation times and each ticket's most urgent deadline read the same after it as before."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pledge.standards.models import BusinessCalendar
from pledge.standards.selectors import business_time_for
from pledge.standards.services import ensure_builtin_calendars
from pledge.tickets.models import SlaClock, Ticket

SH = ZoneInfo("Asia/Shanghai")
BEFORE = [("tickets", "0008_add_sla_recounts"), ("standards", "0004_calendar_counted_spec")]


def _migrate(targets: list[tuple[str, str]] | None = None) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


@pytest.mark.django_db(transaction=True)
def test_stored_instants_become_positions_that_read_the_same() -> None:
    office = next(calendar for calendar in ensure_builtin_calendars() if calendar.code == "cn-office")
    business_time = business_time_for(office)
    created = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
    due = business_time.due(created, 960)
    escalation = business_time.due(created, 720)
    first_due = business_time.due(created, 120)
    late = datetime(2026, 11, 23, 20, 0, tzinfo=SH)
    try:
        executor = _migrate([BEFORE[0]])
        old = executor.loader.project_state(BEFORE).apps
        organisation = old.get_model("customers", "Organisation").objects.create(name="Old data", tier="gold")
        ticket = old.get_model("tickets", "Ticket").objects.create(
            subject="Before the migration",
            description="",
            organisation_id=organisation.pk,
            created_at=created,
            updated_at=created,
            sla_due_at=first_due,
        )
        clock_model = old.get_model("tickets", "SlaClock")
        common = {
            "ticket_id": ticket.pk,
            "calendar_id": office.pk,
            "started_at": created,
            "anchor_at": created,
            "updated_at": created,
        }
        clock_model.objects.create(
            target="resolution",
            target_minutes=960,
            due_at=due,
            next_escalation_at=escalation,
            state="running",
            **common,
        )
        clock_model.objects.create(
            target="first_response", target_minutes=120, due_at=first_due, state="running", **common
        )
        clock_model.objects.create(
            target="on_site", target_minutes=240, state="paused", paused_since=created, **common
        )
        # A breach that stopped counting at 20:00, outside working hours: kept to the second.
        clock_model.objects.create(
            target="next_response",
            target_minutes=60,
            due_at=late,
            state="breached",
            achieved_at=late,
            **common,
        )
        BusinessCalendar.objects.filter(pk=office.pk).update(counted_spec={})
    finally:
        _migrate()
    resolution = SlaClock.objects.get(ticket_id=ticket.pk, target="resolution")
    assert (resolution.due_at, resolution.next_escalation_at) == (due, escalation)
    assert SlaClock.objects.get(ticket_id=ticket.pk, target="on_site").due_pos is None
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.sla_calendar_id, stored.sla_due_at) == (office.pk, first_due)
    assert BusinessCalendar.objects.get(pk=office.pk).counted_spec != {}
    assert SlaClock.objects.get(ticket_id=ticket.pk, target="next_response").due_at == late
    # Back again: the instants come back from the positions.
    try:
        executor = _migrate([BEFORE[0]])
        old = executor.loader.project_state(BEFORE).apps
        restored = {
            clock.target: (clock.due_at, clock.next_escalation_at)
            for clock in old.get_model("tickets", "SlaClock").objects.filter(ticket_id=ticket.pk)
        }
        restored_ticket = old.get_model("tickets", "Ticket").objects.get(pk=ticket.pk).sla_due_at
    finally:
        _migrate()
    assert restored == {
        "resolution": (due, escalation),
        "first_response": (first_due, None),
        "on_site": (None, None),
        "next_response": (late, None),
    }
    assert restored_ticket == first_due
