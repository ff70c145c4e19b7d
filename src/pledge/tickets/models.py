"""Tickets (work orders), their messages, attachments and the append-only event log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pledge.lib.businesstime import BusinessTimeError
from pledge.tickets.choices import (
    OPEN_STATUSES,
    Channel,
    ClockState,
    EventKind,
    Kind,
    Priority,
    Status,
    StepState,
)

if TYPE_CHECKING:
    from pledge.lib.businesstime import BusinessTime

# Fields the ticket services save after the clocks changed the ticket's most urgent deadline.
SLA_DUE_FIELDS = ["sla_calendar", "sla_due_pos"]


class OnCalendarTimeline:
    """Deadlines stored as positions on a business calendar's timeline (working seconds from the calendar's
    epoch, see lib/businesstime.py): a change to a calendar's future days moves the instants they stand
    for without rewriting a row. The instants are derived when read, from the calendar compiled once per
    process; `use_business_time` hands over an already compiled calendar so reading costs no query."""

    def _timeline_calendar_id(self) -> int | None:
        raise NotImplementedError

    def _timeline_calendar(self) -> Any:
        raise NotImplementedError

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.pop("_timeline", None)  # the calendar may have changed since
        super().refresh_from_db(*args, **kwargs)  # type: ignore[misc]

    def use_business_time(self, business_time: BusinessTime | None) -> None:
        """The compiled calendar of this row's calendar (as it is now), to derive instants with."""
        self.__dict__["_timeline"] = (self._timeline_calendar_id(), business_time)

    def business_time(self) -> BusinessTime | None:
        """This row's calendar compiled (None without a calendar, or when it cannot be compiled)."""
        calendar_id = self._timeline_calendar_id()
        cached = self.__dict__.get("_timeline")
        if cached is not None and cached[0] == calendar_id:
            return cached[1]
        if calendar_id is None:
            return None
        from pledge.standards.selectors import business_time_for  # standards imports tickets

        try:
            business_time: BusinessTime | None = business_time_for(self._timeline_calendar())
        except (BusinessTimeError, ValueError):
            business_time = None
        self.__dict__["_timeline"] = (calendar_id, business_time)
        return business_time

    def instant_of(self, position: float | None) -> datetime | None:
        """The instant a position stands for on this row's calendar (see `instant_on`)."""
        return instant_on(self.business_time(), position)


def instant_on(business_time: BusinessTime | None, position: float | None) -> datetime | None:
    """The instant a position stands for on a compiled calendar; None for no position or calendar, a
    position beyond the years business time supports, or a calendar without working hours."""
    if position is None or business_time is None:
        return None
    try:
        return business_time.instant(position)
    except (BusinessTimeError, ValueError):
        return None


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


NUMBER_PREFIX = "SR-"


def format_number(pk: int) -> str:
    return f"{NUMBER_PREFIX}{pk:06d}"


def parse_number(text: str) -> int | None:
    """The ticket id in `SR-000123`, `sr-123`, `#123` or `123`; None when the text is not a number."""
    raw = text.strip().upper().removeprefix(NUMBER_PREFIX).removeprefix("#")
    if raw.isdigit() and 0 < len(raw) <= 18:
        return int(raw)
    return None


class Ticket(OnCalendarTimeline, models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.REQUEST)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.PORTAL)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices, default=Priority.P3)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.NEW)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    organisation = models.ForeignKey(
        "customers.Organisation",
        verbose_name=_("organisation"),
        db_index=False,  # ticket_org_created_idx starts with it
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    asset = models.ForeignKey(
        "customers.Asset",
        verbose_name=_("asset"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        db_index=False,  # ticket_team_status_idx starts with it
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        db_index=False,  # ticket_assignee_idx starts with it
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="tickets")
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("watchers"), blank=True, related_name="watched_tickets"
    )
    # The contract that covers the ticket (its asset and kind) when it was created, if any.
    contract = models.ForeignKey(
        "customers.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    sla_policy = models.ForeignKey(
        "standards.SlaPolicy",
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    service_type = models.ForeignKey(
        "standards.ServiceType",
        verbose_name=_("service type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    # The version of the service type's SOP in effect when the ticket was created; it keeps it.
    sop_version = models.ForeignKey(
        "standards.SopVersion",
        verbose_name=_("SOP version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    # The back-office team holding the ticket while one of its SOP steps is under way (a hand-off).
    handoff_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("handed to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handoffs",
    )
    # The most urgent running clock's calendar and due position on it (None when no clock runs): the queue
    # sorts by the business time left until it; `sla_due_at` is the instant.
    sla_calendar = models.ForeignKey(
        "standards.BusinessCalendar",
        verbose_name=_("next SLA due: calendar"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sla_due_pos = models.FloatField(_("next SLA due (calendar position)"), null=True, blank=True)
    on_site_at = models.DateTimeField(_("arrived on site at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Incremented by every change to the ticket's own fields; a write that names an older
    # version is refused as stale.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # The queue: open tickets by urgency.
            models.Index(
                fields=["priority", "created_at", "id"],
                name="ticket_open_urgency_idx",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            # Every ticket by urgency (the API's default sort without a status filter).
            models.Index(fields=["priority", "created_at", "id"], name="ticket_urgency_idx"),
            models.Index(fields=["team", "status", "priority", "created_at"], name="ticket_team_status_idx"),
            models.Index(fields=["assignee", "status", "priority", "created_at"], name="ticket_assignee_idx"),
            models.Index(fields=["organisation", "created_at"], name="ticket_org_created_idx"),
            models.Index(fields=["status", "priority", "created_at"], name="ticket_status_prio_idx"),
            models.Index(fields=["created_at"], name="ticket_created_idx"),
            models.Index(fields=["updated_at"], name="ticket_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def number(self) -> str:
        return format_number(self.pk) if self.pk else ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def _timeline_calendar_id(self) -> int | None:
        return self.sla_calendar_id

    def _timeline_calendar(self) -> Any:
        return self.sla_calendar

    @property
    def sla_due_at(self) -> datetime | None:
        """When the most urgent running promise is due (None when none runs)."""
        return self.instant_of(self.sla_due_pos)

    def set_sla_due(self, clock: SlaClock | None) -> None:
        """Take the most urgent running clock's deadline (None: no clock runs); save SLA_DUE_FIELDS."""
        if clock is None or clock.due_pos is None:
            self.sla_calendar_id, self.sla_due_pos = None, None
            return
        self.sla_calendar_id, self.sla_due_pos = clock.calendar_id, clock.due_pos
        self.use_business_time(clock.business_time())


class Message(models.Model):
    """A public reply (customer or agent) or an internal note."""

    # message_ticket_created_idx starts with the ticket: no separate index.
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("message"))
    is_internal = models.BooleanField(_("internal note"), default=False)
    from_customer = models.BooleanField(_("from customer"), default=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.PORTAL)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.body[:40]}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Stored under a generated name: the user's file name (kept for display) may be long, non-ASCII
    # or collide; the filesystem sees only a short random name with the checked extension.
    ext = filename.rpartition(".")[2].lower()[:10] if "." in filename else "bin"
    return f"attachments/{instance.ticket_id}/{uuid.uuid4().hex}.{ext}"


class Attachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="attachments"
    )
    # None for files attached when the ticket was created.
    message = models.ForeignKey(
        Message,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    # Staff-only files that belong to no message: evidence answering an SOP checkpoint.
    is_internal = models.BooleanField(_("internal"), default=False)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class ImmutableEventError(Exception):
    pass


class TicketEvent(models.Model):
    """One immutable entry in a ticket's history: who did what, when, old → new."""

    # event_ticket_created_idx starts with the ticket: no separate index.
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    field = models.CharField(_("field"), max_length=40, blank=True)
    old_value = models.CharField(_("old value"), max_length=200, blank=True)
    new_value = models.CharField(_("new value"), max_length=200, blank=True)
    message = models.ForeignKey(
        Message, verbose_name=_("message"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.old_value}→{self.new_value}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableEventError("Ticket events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableEventError("Ticket events are append-only.")


class SlaRecount(models.Model):
    """One bulk recount of running SLA clocks after a calendar or policy change: what changed, who
    changed it and why, and how much it moved. Each ticket it touched carries it in its history through
    an `SlaRecountTicket` row: the event is stored once and linked to every ticket (a million tickets
    cost a million two-integer rows, not a million copies of the event)."""

    created_at = models.DateTimeField(_("recounted at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    calendar = models.ForeignKey(
        "standards.BusinessCalendar",
        verbose_name=_("calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recounts",
    )
    calendar_version = models.PositiveIntegerField(_("calendar version"), null=True, blank=True)
    policy = models.ForeignKey(
        "standards.SlaPolicy",
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recounts",
    )
    policy_version = models.PositiveIntegerField(_("policy version"), null=True, blank=True)
    clocks = models.PositiveIntegerField(_("clocks recounted"), default=0)
    moved = models.PositiveIntegerField(_("due instants moved"), default=0)
    tickets = models.PositiveIntegerField(_("tickets"), default=0)

    class Meta:
        verbose_name = _("SLA recount")
        verbose_name_plural = _("SLA recounts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["calendar", "-created_at"], name="sla_recount_calendar_idx"),
            models.Index(fields=["policy", "-created_at"], name="sla_recount_policy_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.clocks}/{self.moved}/{self.tickets}"

    def event_data(self) -> dict[str, Any]:
        """The details a ticket's history shows for this recount (the shape of an SLA event's data)."""
        data: dict[str, Any] = {"reason": self.reason, "recount": self.pk}
        if self.policy_id is not None:
            data.update(policy=self.policy_id, policy_version=self.policy_version)
        elif self.calendar is not None:
            data.update(calendar=self.calendar.code, calendar_version=self.calendar_version)
        return data

    def as_event(self, ticket: Ticket) -> TicketEvent:
        """This recount as an (unsaved, read-only) SLA event of `ticket`, for its history."""
        return TicketEvent(
            ticket=ticket,
            actor=self.actor,
            kind=EventKind.SLA,
            field="sla",
            data=self.event_data(),
            created_at=self.created_at,
        )


class SlaRecountTicket(models.Model):
    """A ticket whose clocks a recount moved (or re-targeted): the recount is an event in its history."""

    # sla_recount_ticket_unique starts with the ticket (its history); deleting a recount is rare.
    # No foreign-key constraints in the database: a recount links up to millions of tickets in one
    # statement, and PostgreSQL checks a deferred constraint row by row at commit (6 s for a million
    # rows on the benchmark machine, more than the rest of the recount). Only the recount writes these
    # rows, with the ids of the tickets it has just read; deleting a ticket or a recount deletes its
    # links through the ORM's cascade.
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    recount = models.ForeignKey(
        SlaRecount,
        verbose_name=_("SLA recount"),
        on_delete=models.CASCADE,
        related_name="links",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("ticket of an SLA recount")
        verbose_name_plural = _("tickets of SLA recounts")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "recount"], name="sla_recount_ticket_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.recount_id}"


class SlaClock(OnCalendarTimeline, models.Model):
    """One promise on one ticket (first response, next response, resolution, on-site arrival).

    While the clock runs, the working time it has used at instant t is `worked(anchor_at, t) +
    offset_minutes` on `calendar`; every pause, resume or recount moves the anchor to that instant and
    folds the time used so far into `offset_minutes`. So the due instant is
    `due(anchor_at, target_minutes - offset_minutes)`. It is stored as a position on the calendar's
    timeline, `position(anchor_at) + 60 * (target_minutes - offset_minutes)` (`due_pos`; the next escalation
    likewise, `escalation_pos`), so a change to the calendar's days after the anchor moves the instant
    without a write; `due_at` and `next_escalation_at` derive the instants. A paused clock has no due
    instant. `next_response` clocks repeat: one per customer message awaiting an answer, numbered by
    `cycle`.
    """

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="clocks", db_index=False
    )
    target = models.CharField(_("target"), max_length=20)
    cycle = models.PositiveIntegerField(_("cycle"), default=0)
    policy = models.ForeignKey(
        "standards.SlaPolicy",
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    calendar = models.ForeignKey(
        "standards.BusinessCalendar",
        verbose_name=_("calendar"),
        db_index=False,  # the partial indexes below start with it
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_minutes = models.PositiveIntegerField(_("target (business minutes)"))
    started_at = models.DateTimeField(_("started at"))
    anchor_at = models.DateTimeField(_("counted from"))
    offset_minutes = models.FloatField(_("minutes used before"), default=0)
    paused_minutes = models.FloatField(_("paused business minutes"), default=0)
    paused_since = models.DateTimeField(_("paused since"), null=True, blank=True)
    due_pos = models.FloatField(_("due (calendar position)"), null=True, blank=True)
    # A breached clock that stopped counting (paused, or achieved late) keeps its due instant as it was:
    # a fact of the past, which later changes to the calendar do not move.
    breached_due_at = models.DateTimeField(_("due when breached (kept)"), null=True, blank=True)
    achieved_at = models.DateTimeField(_("achieved at"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=ClockState.choices, default=ClockState.RUNNING
    )
    # Years without holiday data that the due instant was computed over (the deadline is provisional).
    uncovered_years = models.JSONField(_("years without holiday data"), default=list, blank=True)
    # The highest escalation level (percent of the target) that has fired, and when the next one is due.
    escalated_percent = models.PositiveSmallIntegerField(_("escalated at %"), default=0)
    escalation_pos = models.FloatField(_("next escalation (calendar position)"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        ordering = ["ticket", "target", "cycle"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target", "cycle"], name="sla_clock_unique"),
        ]
        indexes = [
            # The breach sweep (per calendar: running clocks whose due position it has passed) and the
            # recount after a calendar change (the clocks due after the first changed day).
            models.Index(
                fields=["calendar", "due_pos"],
                name="sla_clock_running_due_idx",
                condition=models.Q(state=ClockState.RUNNING),
            ),
            # The recount after a change to days before some clocks' anchors: those anchored after it.
            models.Index(
                fields=["calendar", "anchor_at"],
                name="sla_clock_live_anchor_idx",
                condition=models.Q(state__in=(ClockState.RUNNING, ClockState.BREACHED)),
            ),
            # The escalation sweep, per calendar.
            models.Index(
                fields=["calendar", "escalation_pos"],
                name="sla_clock_escalation_idx",
                condition=models.Q(escalation_pos__isnull=False),
            ),
            # The recount after a calendar change: breached clocks (still counting) due after the first
            # changed day.
            models.Index(
                fields=["calendar", "due_pos"],
                name="sla_clock_breached_due_idx",
                condition=models.Q(state=ClockState.BREACHED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target}#{self.cycle} {self.state}"

    def _timeline_calendar_id(self) -> int | None:
        return self.calendar_id

    def _timeline_calendar(self) -> Any:
        return self.calendar

    @property
    def due_at(self) -> datetime | None:
        """The due instant (None while paused, unless breached, and when finished on time)."""
        if self.breached_due_at is not None:
            return self.breached_due_at
        return self.instant_of(self.due_pos)

    @property
    def next_escalation_at(self) -> datetime | None:
        """When the next escalation level is reached (None: no level left, or not running)."""
        return self.instant_of(self.escalation_pos)

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None

    @property
    def met(self) -> bool | None:
        """Achieved no later than due (None while not achieved)."""
        if self.achieved_at is None or self.state == ClockState.CANCELLED:
            return None
        return self.state == ClockState.ACHIEVED


class TicketStep(models.Model):
    """One step of the ticket's SOP version being carried out. Its clock (target `sop_step`, cycle =
    position) times the step's standard from the moment the step starts."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="steps", db_index=False
    )
    step = models.ForeignKey(
        "standards.SopStep", verbose_name=_("SOP step"), on_delete=models.PROTECT, related_name="executions"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    # Steps of one stage run side by side; stage n+1 starts when every step of stage n is done.
    stage = models.PositiveSmallIntegerField(_("stage"))
    state = models.CharField(_("state"), max_length=12, choices=StepState.choices, default=StepState.PENDING)
    clock = models.OneToOneField(
        SlaClock, verbose_name=_("clock"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Working minutes from start to completion on the clock's calendar (pauses excluded), and whether
    # that was within the step's time standard: the process execution rate counts these.
    business_minutes = models.FloatField(_("business minutes taken"), null=True, blank=True)
    on_time = models.BooleanField(_("within the time standard"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket step")
        verbose_name_plural = _("ticket steps")
        ordering = ["ticket", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "position"], name="ticket_step_unique"),
        ]
        indexes = [
            # The execution rate: steps completed in a period.
            models.Index(
                fields=["completed_at"],
                name="ticket_step_completed_idx",
                condition=models.Q(state=StepState.DONE),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} step {self.position} {self.state}"


class CheckpointAnswer(models.Model):
    """One answer to one checkpoint. Answers are appended, never changed: the latest counts, and the
    first tells whether the checkpoint passed first time."""

    ticket_step = models.ForeignKey(
        TicketStep, verbose_name=_("ticket step"), on_delete=models.CASCADE, related_name="answers"
    )
    checkpoint = models.ForeignKey(
        "standards.Checkpoint", verbose_name=_("checkpoint"), on_delete=models.PROTECT, related_name="+"
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    value = models.CharField(_("answer"), max_length=2000, blank=True)
    number = models.FloatField(_("number"), null=True, blank=True)
    attachment = models.ForeignKey(
        Attachment,
        verbose_name=_("evidence"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # None for answers that cannot fail (text, evidence); False for "no" or a number out of limits.
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("checkpoint answer")
        verbose_name_plural = _("checkpoint answers")
        ordering = ["ticket_step", "checkpoint", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket_step", "checkpoint", "attempt"], name="checkpoint_answer_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_step_id} {self.checkpoint_id}#{self.attempt}"
