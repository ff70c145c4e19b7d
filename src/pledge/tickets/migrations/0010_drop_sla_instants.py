"""SLA deadlines as positions, part two: the stored instants and their indexes go (see 0009)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_sla_deadlines_as_positions"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="slaclock", name="sla_clock_running_due_idx"),
        migrations.RemoveIndex(model_name="slaclock", name="sla_clock_escalation_idx"),
        migrations.RemoveIndex(model_name="ticket", name="ticket_open_sla_due_idx"),
        migrations.RemoveIndex(model_name="slaclock", name="sla_clock_calendar_idx"),
        migrations.RemoveField(model_name="slaclock", name="due_at"),
        migrations.RemoveField(model_name="slaclock", name="next_escalation_at"),
        migrations.RemoveField(model_name="ticket", name="sla_due_at"),
        migrations.AddIndex(
            model_name="slaclock",
            index=models.Index(
                condition=models.Q(("state", "running")),
                fields=["calendar", "due_pos"],
                name="sla_clock_running_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="slaclock",
            index=models.Index(
                condition=models.Q(("state", "breached")),
                fields=["calendar", "due_pos"],
                name="sla_clock_breached_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="slaclock",
            index=models.Index(
                condition=models.Q(("state__in", ("running", "breached"))),
                fields=["calendar", "anchor_at"],
                name="sla_clock_live_anchor_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="slaclock",
            index=models.Index(
                condition=models.Q(("escalation_pos__isnull", False)),
                fields=["calendar", "escalation_pos"],
                name="sla_clock_escalation_idx",
            ),
        ),
    ]
