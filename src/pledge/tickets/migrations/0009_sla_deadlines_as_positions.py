"""SLA deadlines stored as positions on their calendar's timeline instead of instants (see SlaClock): the
new fields, filled from the stored instants. 0010 drops the old fields (a separate transaction: on
PostgreSQL a table with pending foreign-key checks from the backfill cannot be altered)."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000
LIVE = ("running", "breached")
STEPS = ("sop_step", "handoff")


def _position(business_time: Any, moment: Any) -> float | None:
    from pledge.lib.businesstime import BusinessTimeError

    if moment is None:
        return None
    try:
        return float(business_time.position(moment))
    except BusinessTimeError:
        return None


def backfill(apps: Any, schema_editor: Any) -> None:
    """Each stored instant as its position on the clock's calendar as it is now; each ticket's most urgent
    running promise as its calendar and position; each calendar's days recorded as counted on."""
    from pledge.lib.businesstime import BusinessTime, spec_to_data
    from pledge.standards.selectors import calendar_spec_for

    calendar_model = apps.get_model("standards", "BusinessCalendar")
    clock_model = apps.get_model("tickets", "SlaClock")
    ticket_model = apps.get_model("tickets", "Ticket")
    db = schema_editor.connection.alias
    urgent: dict[int, tuple[Any, int, float | None]] = {}
    for calendar in calendar_model.objects.using(db).all():
        # The calendar's days as the code reads them (its holidays, make-up days and holiday sets).
        business_time = BusinessTime(calendar_spec_for(calendar))
        rows = (
            clock_model.objects.using(db)
            .filter(calendar_id=calendar.pk)
            .filter(models.Q(due_at__isnull=False) | models.Q(next_escalation_at__isnull=False))
            .only("pk", "ticket_id", "target", "state", "paused_since", "achieved_at", "due_at", "next_escalation_at")
        )
        batch = []
        for clock in rows.iterator(chunk_size=BATCH):
            clock.due_pos = _position(business_time, clock.due_at)
            clock.escalation_pos = _position(business_time, clock.next_escalation_at)
            batch.append(clock)
            if (
                clock.due_at is not None
                and clock.state in LIVE
                and clock.paused_since is None
                and clock.achieved_at is None
                and clock.target not in STEPS
            ):
                best = urgent.get(clock.ticket_id)
                if best is None or clock.due_at < best[0]:
                    urgent[clock.ticket_id] = (clock.due_at, calendar.pk, clock.due_pos)
            if len(batch) >= BATCH:
                clock_model.objects.using(db).bulk_update(batch, ["due_pos", "escalation_pos"])
                batch = []
        if batch:
            clock_model.objects.using(db).bulk_update(batch, ["due_pos", "escalation_pos"])
        calendar_model.objects.using(db).filter(pk=calendar.pk).update(
            counted_spec=spec_to_data(business_time.spec)
        )
    tickets = []
    for ticket in ticket_model.objects.using(db).filter(sla_due_at__isnull=False).only("pk").iterator(
        chunk_size=BATCH
    ):
        _due, calendar_id, position = urgent.get(ticket.pk, (None, None, None))
        ticket.sla_calendar_id, ticket.sla_due_pos = calendar_id, position
        tickets.append(ticket)
        if len(tickets) >= BATCH:
            ticket_model.objects.using(db).bulk_update(tickets, ["sla_calendar", "sla_due_pos"])
            tickets = []
    if tickets:
        ticket_model.objects.using(db).bulk_update(tickets, ["sla_calendar", "sla_due_pos"])


class Migration(migrations.Migration):
    dependencies = [
        ("standards", "0004_calendar_counted_spec"),
        ("tickets", "0008_add_sla_recounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="slaclock",
            name="due_pos",
            field=models.FloatField(blank=True, null=True, verbose_name="due (calendar position)"),
        ),
        migrations.AddField(
            model_name="slaclock",
            name="escalation_pos",
            field=models.FloatField(blank=True, null=True, verbose_name="next escalation (calendar position)"),
        ),
        migrations.AddField(
            model_name="ticket",
            name="sla_calendar",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="standards.businesscalendar",
                verbose_name="next SLA due: calendar",
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="sla_due_pos",
            field=models.FloatField(blank=True, null=True, verbose_name="next SLA due (calendar position)"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
    ]
