"""Read-mostly admin for tickets: changes go through the workspace so that every change is logged."""

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from pledge.core.admin import ReadOnlyAdmin
from pledge.tickets.models import SlaClock, SlaRecount, Tag, Ticket, TicketEvent


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "subject",
        "kind",
        "priority",
        "status",
        "organisation",
        "team",
        "assignee",
        "created_at",
    )
    list_filter = ("status", "priority", "kind", "channel")
    search_fields = ("subject",)
    list_select_related = ("organisation", "team", "assignee")


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "kind", "field", "old_value", "new_value", "actor", "created_at")
    list_filter = ("kind",)


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    """Read-only: clocks change only through the ticket, calendar and policy services."""

    # The due instant is derived from the calendar (see SlaClock): shown on each clock's page, not in the
    # list, where it would cost a query per row.
    list_display = ("ticket", "target", "cycle", "state", "achieved_at", "escalated_percent")
    list_filter = ("state", "target")
    list_select_related = ("ticket",)
    readonly_fields = ("due", "next_escalation")

    @admin.display(description=_("due"))
    def due(self, clock: SlaClock) -> Any:
        return clock.due_at

    @admin.display(description=_("next escalation"))
    def next_escalation(self, clock: SlaClock) -> Any:
        return clock.next_escalation_at

    raw_id_fields = ("ticket",)


@admin.register(SlaRecount)
class SlaRecountAdmin(ReadOnlyAdmin):
    """Read-only: the record of each bulk recount after a calendar or policy change."""

    list_display = (
        "created_at",
        "calendar",
        "calendar_version",
        "policy",
        "clocks",
        "moved",
        "tickets",
        "actor",
    )
    list_filter = ("calendar",)
    list_select_related = ("calendar", "policy", "actor")
    search_fields = ("reason",)
