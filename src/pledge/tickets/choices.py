"""Ticket kinds, channels, priorities, statuses and the status workflow."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kind(models.TextChoices):
    REQUEST = "request", _("Service request")
    FAULT = "fault", _("Fault")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    INQUIRY = "inquiry", _("Inquiry")
    FIELD_VISIT = "field_visit", _("Field visit")


# What a customer may submit through the portal.
PORTAL_KINDS = (Kind.REQUEST, Kind.FAULT, Kind.COMPLAINT, Kind.SUGGESTION)


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    EMAIL = "email", pgettext_lazy("channel", "Email")
    PHONE = "phone", _("Phone")
    API = "api", _("API")
    ON_SITE = "on_site", _("On site")


class Priority(models.TextChoices):
    P1 = "P1", _("P1 · Critical")
    P2 = "P2", _("P2 · High")
    P3 = "P3", _("P3 · Normal")
    P4 = "P4", _("P4 · Low")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting on customer")
    WAITING_PARTS = "waiting_parts", _("Waiting on parts")
    WAITING_BACK_OFFICE = "waiting_back_office", _("Waiting on back-office")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


WAITING = (Status.WAITING_CUSTOMER, Status.WAITING_PARTS, Status.WAITING_BACK_OFFICE)
OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, *WAITING)
DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)

# The workflow: which statuses a ticket may move to from each status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED),
    Status.ACKNOWLEDGED: (Status.IN_PROGRESS, *WAITING, Status.RESOLVED),
    Status.IN_PROGRESS: (*WAITING, Status.RESOLVED),
    Status.WAITING_CUSTOMER: (
        Status.IN_PROGRESS,
        Status.WAITING_PARTS,
        Status.WAITING_BACK_OFFICE,
        Status.RESOLVED,
    ),
    Status.WAITING_PARTS: (
        Status.IN_PROGRESS,
        Status.WAITING_CUSTOMER,
        Status.WAITING_BACK_OFFICE,
        Status.RESOLVED,
    ),
    Status.WAITING_BACK_OFFICE: (
        Status.IN_PROGRESS,
        Status.WAITING_CUSTOMER,
        Status.WAITING_PARTS,
        Status.RESOLVED,
    ),
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS),
    Status.CLOSED: (),
}
# Customers may confirm a resolution (close) or reopen it.
CUSTOMER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS),
}

STATUS_COLOURS = {
    Status.NEW: "blue",
    Status.ACKNOWLEDGED: "cyan",
    Status.IN_PROGRESS: "indigo",
    Status.WAITING_CUSTOMER: "orange",
    Status.WAITING_PARTS: "orange",
    Status.WAITING_BACK_OFFICE: "orange",
    Status.RESOLVED: "green",
    Status.CLOSED: "grey",
}
PRIORITY_COLOURS = {Priority.P1: "red", Priority.P2: "orange", Priority.P3: "blue", Priority.P4: "grey"}


class EventKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("ticket event", "Created")
    STATUS = "status", _("Status changed")
    REOPENED = "reopened", _("Reopened")
    ASSIGNED = "assigned", _("Assignee changed")
    TEAM = "team", _("Team changed")
    PRIORITY = "priority", _("Priority changed")
    SUBJECT = "subject", _("Subject changed")
    TAGS = "tags", _("Tags changed")
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")
    ATTACHMENT = "attachment", _("Attachment added")
    SLA = "sla", _("SLA clocks changed")
    ESCALATED = "escalated", _("Escalated")
    WATCHER = "watcher", _("Watcher added")
    ON_SITE = "on_site", _("Arrived on site")
    STEP = "step", _("SOP step")
    OVERRIDE = "override", _("Checkpoint override")
    HANDOFF = "handoff", _("Handed to back-office")


# Events a customer sees on their status timeline (everything else is internal).
CUSTOMER_VISIBLE_EVENTS = (EventKind.CREATED, EventKind.STATUS, EventKind.REOPENED, EventKind.REPLY)


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", pgettext_lazy("clock", "Paused")
    ACHIEVED = "achieved", _("Achieved")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


# Clocks that still count towards their due instant (a breached clock keeps counting until achieved).
LIVE_CLOCK_STATES = (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED)


class StepState(models.TextChoices):
    """Where a ticket's SOP step is: waiting for earlier steps, under way, done, or dropped."""

    PENDING = "pending", _("Not started")
    ACTIVE = "active", _("Under way")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
