"""Breaches and escalations of SLA clocks, run by the worker's sweep (tickets/sweeps.py).

Each escalation level of a clock fires once. The sweep picks, calendar by calendar, clocks whose
escalation position the calendar's working time has reached (`next_escalation_at` has passed) and
claims one level with a conditional UPDATE (`… SET escalated_percent = <level> WHERE id = …
AND escalated_percent = <what it read>`): of several workers reading the same clock only one update
matches a row, and that worker performs the level's actions in the same transaction, so a crash
rolls back the claim with the actions and a later sweep fires the level. A worker that was down finds
every overdue level on its first sweep and fires them in order, late rather than never.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pledge.accounts.choices import Role
from pledge.accounts.models import Notification, User
from pledge.lib.businesstime import BusinessTime
from pledge.standards.choices import STEP_TARGETS, ClockTarget, EscalationRecipient
from pledge.standards.models import EscalationLevel
from pledge.standards.selectors import CalendarPositions, calendar_positions
from pledge.tickets import clocks, tasks
from pledge.tickets.choices import LIVE_CLOCK_STATES, ClockState, EventKind, Priority
from pledge.tickets.models import SLA_DUE_FIELDS, SlaClock, Ticket, TicketEvent, TicketStep, instant_on

SWEEP_BATCH = 500
# Positions are compared with this slack (seconds): a due instant is read rounded to the microsecond, and
# a sweep run at exactly that instant must find the clock due.
POSITION_SLACK = 1e-6
RAISED = {Priority.P4: Priority.P3, Priority.P3: Priority.P2, Priority.P2: Priority.P1}


@dataclass(frozen=True)
class SweepResult:
    breached: int
    escalated: int


def sla_sweep(now: datetime | None = None) -> SweepResult:
    """Mark running clocks past due as breached and fire every escalation level that is due."""
    now = now or timezone.now()
    positions = calendar_positions(now)
    return SweepResult(
        mark_breaches(now, positions=positions), fire_due_escalations(now, positions=positions)
    )


def sweep_ticket(ticket_id: int, now: datetime) -> SweepResult:
    """The sweep for one ticket only (replaying history, as the demo does, one ticket at a time)."""
    positions = calendar_positions(now)
    return SweepResult(
        mark_breaches(now, ticket_id=ticket_id, positions=positions),
        fire_due_escalations(now, ticket_id=ticket_id, positions=positions),
    )


def mark_breaches(
    now: datetime, *, ticket_id: int | None = None, positions: CalendarPositions | None = None
) -> int:
    """Running clocks whose due instant has passed become breached, with an event on the ticket.
    `positions`: `calendar_positions(now)`, when the caller has it."""
    marked = 0
    scope = SlaClock.objects.all() if ticket_id is None else SlaClock.objects.filter(ticket_id=ticket_id)
    for calendar_id, (business_time, position) in (positions or calendar_positions(now)).items():
        while True:
            due = list(
                scope.filter(
                    state=ClockState.RUNNING, calendar_id=calendar_id, due_pos__lte=position + POSITION_SLACK
                )
                .order_by("due_pos")
                .values_list("pk", "ticket_id", "target", "due_pos")[:SWEEP_BATCH]
            )
            if not due:
                break
            for pk, clock_ticket, target, due_pos in due:
                with transaction.atomic():
                    if not SlaClock.objects.filter(pk=pk, state=ClockState.RUNNING).update(
                        state=ClockState.BREACHED
                    ):
                        continue  # another worker, or the ticket moved on
                    due_at = instant_on(business_time, due_pos)
                    TicketEvent.objects.create(
                        ticket_id=clock_ticket,
                        kind=EventKind.SLA,
                        field=target,
                        new_value=ClockState.BREACHED,
                        data={"breached": target, "due": due_at.isoformat() if due_at else None},
                        created_at=now,
                    )
                    marked += 1
            if len(due) < SWEEP_BATCH:
                break
    return marked


def fire_due_escalations(
    now: datetime, *, ticket_id: int | None = None, positions: CalendarPositions | None = None
) -> int:
    """Fire the due escalation levels, oldest first; a clock with several overdue levels fires each once.
    `positions`: `calendar_positions(now)`, when the caller has it."""
    fired = 0
    scope = SlaClock.objects.all() if ticket_id is None else SlaClock.objects.filter(ticket_id=ticket_id)
    for calendar_id, (business_time, position) in (positions or calendar_positions(now)).items():
        while True:
            due = list(
                scope.filter(calendar_id=calendar_id, escalation_pos__lte=position + POSITION_SLACK)
                .order_by("escalation_pos")
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
            if not due:
                break
            progress = 0
            for pk in due:
                if escalate_clock(clock_id=pk, now=now, business_time=business_time):
                    progress += 1
            fired += progress
            if progress == 0:  # everything left was claimed elsewhere meanwhile
                break
    return fired


@transaction.atomic
def escalate_clock(*, clock_id: int, now: datetime, business_time: BusinessTime | None = None) -> bool:
    """Fire the next due level of one clock, if this worker wins the claim. Returns whether it fired.
    `business_time`: the clock's calendar compiled, when the caller has it."""
    clock = SlaClock.objects.filter(pk=clock_id).first()
    if clock is not None and business_time is not None:
        clock.use_business_time(business_time)
    if (
        clock is None
        or clock.next_escalation_at is None
        or clock.next_escalation_at > now + timedelta(microseconds=1)  # read rounded: see POSITION_SLACK
        or clock.state not in LIVE_CLOCK_STATES
        or clock.achieved_at is not None
    ):
        return False
    level = (
        EscalationLevel.objects.filter(
            policy_id=clock.policy_id, target=clock.target, percent__gt=clock.escalated_percent
        )
        .select_related("reassign_team__lead", "add_watcher")
        .order_by("percent")
        .first()
    )
    claimed = SlaClock.objects.filter(pk=clock.pk, escalated_percent=clock.escalated_percent).update(
        escalated_percent=level.percent if level else clock.escalated_percent,
        escalation_pos=None,
    )
    if not claimed or level is None:
        return False
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team", "assignee", "organisation")
        .get(pk=clock.ticket_id)
    )
    _perform(level, clock, ticket, now)
    return True


def _perform(level: EscalationLevel, clock: SlaClock, ticket: Ticket, now: datetime) -> None:
    actions: list[str] = []
    events: list[TicketEvent] = []
    changed: list[str] = []
    priority_raised = False
    if level.raise_priority and ticket.priority in RAISED:
        old = ticket.priority
        ticket.priority = RAISED[Priority(old)]
        events.append(_event(ticket, EventKind.PRIORITY, now, "priority", old, ticket.priority))
        changed.append("priority")
        actions.append("raise_priority")
        priority_raised = True
    if level.reassign_team is not None and level.reassign_team.pk != ticket.team_id:
        old_team = str(ticket.team) if ticket.team_id else ""
        ticket.team = level.reassign_team
        events.append(
            _event(
                ticket,
                EventKind.TEAM,
                now,
                "team",
                old_team,
                str(level.reassign_team),
                {"new_id": level.reassign_team.pk},
            )
        )
        changed.append("team")
        if ticket.assignee_id is not None:
            events.append(_event(ticket, EventKind.ASSIGNED, now, "assignee", str(ticket.assignee), ""))
            ticket.assignee = None
            changed.append("assignee")
        actions.append("reassign")
    if level.add_watcher is not None and not ticket.watchers.filter(pk=level.add_watcher.pk).exists():
        ticket.watchers.add(level.add_watcher)
        events.append(
            _event(
                ticket,
                EventKind.WATCHER,
                now,
                "watchers",
                "",
                str(level.add_watcher),
                {"user_id": level.add_watcher.pk},
            )
        )
        actions.append("add_watcher")
    step_name = ""
    if clock.target in STEP_TARGETS:
        step_name = (
            TicketStep.objects.filter(ticket_id=ticket.pk, position=clock.cycle)
            .values_list("step__name", flat=True)
            .first()
            or ""
        )
    recipients = _recipients(level, ticket, clock)
    if recipients:
        actions.append("notify")
    target_label = str(ClockTarget(clock.target).label)
    if step_name:
        target_label = _("%(target)s “%(step)s”") % {"target": target_label, "step": step_name}
    events.insert(
        0,
        _event(
            ticket,
            EventKind.ESCALATED,
            now,
            clock.target,
            "",
            f"{level.percent}%",
            {
                "target": clock.target,
                "cycle": clock.cycle,
                **({"step": step_name} if step_name else {}),
                "percent": level.percent,
                "level_id": level.pk,
                "actions": actions,
                "notified": [user.pk for user in recipients],
                "late_by_seconds": max(0, int((now - (clock.next_escalation_at or now)).total_seconds())),
            },
        ),
    )
    if changed:
        ticket.version += 1
        ticket.updated_at = now
        changed += ["version", "updated_at"]
    # The clocks follow: the next level's time, and new targets when the raised priority matches
    # another policy.
    old_policy, changes = clocks.reapply(ticket, now, rematch=priority_raised)
    if changes and (priority_raised or old_policy != ticket.sla_policy):
        events.append(
            _event(
                ticket,
                EventKind.SLA,
                now,
                "sla_policy",
                str(old_policy or ""),
                str(ticket.sla_policy or ""),
                clocks.change_event_data(changes, old_policy=old_policy.pk if old_policy else None),
            )
        )
    ticket.save(update_fields=[*changed, "sla_policy", *SLA_DUE_FIELDS])
    TicketEvent.objects.bulk_create(events)
    notifications = [_notification(user, ticket, target_label, level.percent, now) for user in recipients]
    Notification.objects.bulk_create(notifications)
    ids = [n.pk for n in notifications if n.pk is not None]
    if ids:
        transaction.on_commit(lambda: [tasks.notify_escalation.enqueue(pk) for pk in ids])


def _event(
    ticket: Ticket,
    kind: str,
    at: datetime,
    field: str,
    old: str,
    new: str,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    return TicketEvent(
        ticket=ticket,
        actor=None,
        kind=kind,
        field=field,
        old_value=old[:200],
        new_value=new[:200],
        data=data or {},
        created_at=at,
    )


def _recipients(level: EscalationLevel, ticket: Ticket, clock: SlaClock) -> list[User]:
    """Who the level notifies. For a hand-off's OLA the team lead is the lead of the back-office team
    holding the ticket."""
    wanted = set(level.notify or [])
    users: dict[int, User] = {}
    if EscalationRecipient.ASSIGNEE in wanted and ticket.assignee is not None:
        users[ticket.assignee.pk] = ticket.assignee
    team = ticket.team
    if clock.target == ClockTarget.HANDOFF and ticket.handoff_team_id is not None:
        team = ticket.handoff_team
    if EscalationRecipient.TEAM_LEAD in wanted and team is not None and team.lead_id:
        lead = User.objects.filter(pk=team.lead_id).first()
        if lead is not None:
            users[lead.pk] = lead
    if EscalationRecipient.SERVICE_MANAGERS in wanted:
        for user in User.objects.filter(role=Role.SERVICE_MANAGER, is_active=True):
            users[user.pk] = user
    if EscalationRecipient.WATCHERS in wanted:
        for user in ticket.watchers.filter(is_active=True):
            users[user.pk] = user
    return [user for user in users.values() if user.is_active]


def _notification(user: User, ticket: Ticket, target: str, percent: int, now: datetime) -> Notification:
    with translation.override(user.language or None):
        title = _("%(number)s escalated: %(target)s at %(percent)d%% of its target") % {
            "number": ticket.number,
            "target": target,
            "percent": percent,
        }
        body = ticket.subject
    return Notification(user=user, ticket=ticket, title=title[:200], body=body, created_at=now)
