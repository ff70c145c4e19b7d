"""SLA deadlines stored as positions on their calendar's timeline instead of instants (see SlaClock): the
new fields, filled from the stored instants. 0010 drops the old fields (a separate transaction: on
PostgreSQL a table with pending foreign-key checks from the backfill cannot be altered).

The positions are computed by the current business-time code from each calendar's days, as the recount
does; reversing fills the instants back from the positions."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000
STEPS = "('sop_step', 'handoff')"


def _business_times(apps: Any, db: str) -> Any:
    from pledge.lib.businesstime import BusinessTime
    from pledge.standards.selectors import calendar_spec_for

    calendar_model = apps.get_model("standards", "BusinessCalendar")
    for calendar in calendar_model.objects.using(db).all():
        yield calendar_model, calendar, BusinessTime(calendar_spec_for(calendar))


def _position(business_time: Any, moment: Any) -> float | None:
    from pledge.lib.businesstime import BusinessTimeError

    if moment is None:
        return None
    try:
        return float(business_time.position(moment))
    except BusinessTimeError:
        return None


def _instant(business_time: Any, position: float | None) -> Any:
    from pledge.lib.businesstime import BusinessTimeError

    if position is None:
        return None
    try:
        return business_time.instant(position)
    except (BusinessTimeError, ValueError):
        return None


def forwards(apps: Any, schema_editor: Any) -> None:
    """Each stored instant as its position on the clock's calendar as it is now (a breach that stopped
    counting also kept as the instant it is); each ticket's most urgent running promise as its calendar
    and position; each calendar's days recorded as counted on."""
    from pledge.lib.businesstime import spec_to_data

    clock_model = apps.get_model("tickets", "SlaClock")
    ticket_model = apps.get_model("tickets", "Ticket")
    db = schema_editor.connection.alias
    fields = ["due_pos", "escalation_pos", "breached_due_at"]
    for calendar_model, calendar, business_time in _business_times(apps, db):
        rows = (
            clock_model.objects.using(db)
            .filter(calendar_id=calendar.pk)
            .filter(models.Q(due_at__isnull=False) | models.Q(next_escalation_at__isnull=False))
            .only("pk", "state", "paused_since", "achieved_at", "due_at", "next_escalation_at")
        )
        batch = []
        for clock in rows.iterator(chunk_size=BATCH):
            clock.due_pos = _position(business_time, clock.due_at)
            clock.escalation_pos = _position(business_time, clock.next_escalation_at)
            if clock.state == "breached" and (clock.paused_since is not None or clock.achieved_at is not None):
                clock.breached_due_at = clock.due_at
            batch.append(clock)
            if len(batch) >= BATCH:
                clock_model.objects.using(db).bulk_update(batch, fields)
                batch = []
        if batch:
            clock_model.objects.using(db).bulk_update(batch, fields)
        calendar_model.objects.using(db).filter(pk=calendar.pk).update(
            counted_spec=spec_to_data(business_time.spec)
        )
    tickets, clocks = ticket_model._meta.db_table, clock_model._meta.db_table
    urgent = (
        f"FROM {clocks} AS c WHERE c.ticket_id = {tickets}.id AND c.state IN ('running', 'breached') "
        f"AND c.paused_since IS NULL AND c.achieved_at IS NULL AND c.target NOT IN {STEPS} "
        "AND c.due_pos IS NOT NULL ORDER BY c.due_at, c.id LIMIT 1"
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {tickets} SET sla_calendar_id = (SELECT c.calendar_id {urgent}), "  # noqa: S608
            f"sla_due_pos = (SELECT c.due_pos {urgent}) WHERE sla_due_at IS NOT NULL"
        )


def backwards(apps: Any, schema_editor: Any) -> None:
    """The instants back from the positions (0010 reversed has re-added their columns)."""
    clock_model = apps.get_model("tickets", "SlaClock")
    ticket_model = apps.get_model("tickets", "Ticket")
    db = schema_editor.connection.alias
    for _model, calendar, business_time in _business_times(apps, db):
        batch = []
        for clock in clock_model.objects.using(db).filter(calendar_id=calendar.pk).iterator(chunk_size=BATCH):
            clock.due_at = clock.breached_due_at or _instant(business_time, clock.due_pos)
            clock.next_escalation_at = _instant(business_time, clock.escalation_pos)
            batch.append(clock)
        clock_model.objects.using(db).bulk_update(batch, ["due_at", "next_escalation_at"], batch_size=BATCH)
        tickets = list(ticket_model.objects.using(db).filter(sla_calendar_id=calendar.pk))
        for ticket in tickets:
            ticket.sla_due_at = _instant(business_time, ticket.sla_due_pos)
        ticket_model.objects.using(db).bulk_update(tickets, ["sla_due_at"], batch_size=BATCH)


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
            model_name="slaclock",
            name="breached_due_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="due when breached (kept)"),
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
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
