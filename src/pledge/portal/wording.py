"""How the portal speaks to customers: status names, urgency, the status steps, what has happened,
what happens next, the times we promised and the milestones of the service's procedure. Staff words
(“waiting on back-office”, “P2”, policy and calendar names, escalations, percentages, SOP steps,
checkpoints and team names) never reach a customer's screen."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from pledge.accounts import policies as account_policies
from pledge.standards.choices import SlaTarget
from pledge.tickets.choices import (
    DONE_STATUSES,
    WAITING,
    Channel,
    ClockState,
    EventKind,
    Kind,
    Priority,
    Status,
    StepState,
)
from pledge.tickets.models import Attachment, Message, TicketEvent
from pledge.tickets.selectors import ClockView, TicketSteps, TimelineEntry

CUSTOMER_STATUS: dict[str, Promise] = {
    Status.NEW: _("Submitted"),
    Status.ACKNOWLEDGED: _("Acknowledged"),
    Status.IN_PROGRESS: _("In progress"),
    Status.WAITING_CUSTOMER: _("Waiting for you"),
    Status.WAITING_PARTS: _("Waiting for parts"),
    Status.WAITING_BACK_OFFICE: _("With our specialists"),
    Status.RESOLVED: _("Resolved"),
    Status.CLOSED: _("Closed"),
}

# Only "waiting for you" asks something of the customer; the other waits are still our work.
CUSTOMER_STATUS_COLOURS: dict[str, str] = {
    Status.NEW: "blue",
    Status.ACKNOWLEDGED: "cyan",
    Status.IN_PROGRESS: "indigo",
    Status.WAITING_CUSTOMER: "orange",
    Status.WAITING_PARTS: "indigo",
    Status.WAITING_BACK_OFFICE: "indigo",
    Status.RESOLVED: "green",
    Status.CLOSED: "grey",
}

NEXT_STEP: dict[str, Promise] = {
    Status.NEW: _("An engineer will review your request and confirm that we are on it."),
    Status.ACKNOWLEDGED: _("Our team has your request and will start work on it; updates will appear here."),
    Status.IN_PROGRESS: _("An engineer is working on it. We will post news here as soon as there is any."),
    Status.WAITING_CUSTOMER: _(
        "We need your reply — please answer below. The clock waits for you until you do."
    ),
    Status.WAITING_PARTS: _("We are waiting for parts to arrive and will continue as soon as they are here."),
    Status.WAITING_BACK_OFFICE: _(
        "Our specialists are looking into it; your engineer will tell you what they find."
    ),
    Status.RESOLVED: _(
        "We believe this is solved. Please confirm it is solved, or tell us it is not and we will reopen it."
    ),
    Status.CLOSED: _("This request is closed. If the problem comes back, submit a new request."),
}

URGENCY: dict[str, Promise] = {
    Priority.P1: _("Critical"),
    Priority.P2: _("High"),
    Priority.P3: _("Normal"),
    Priority.P4: _("Low"),
}

URGENCY_HINTS: dict[str, Promise] = {
    Priority.P1: _("Critical — production has stopped or people are at risk"),
    Priority.P2: _("High — production is seriously affected"),
    Priority.P3: _("Normal — we can keep working for now"),
    Priority.P4: _("Low — no effect on production"),
}

KIND_HINTS: dict[str, Promise] = {
    Kind.REQUEST: _("Ask for a service: maintenance, installation, training or a visit."),
    Kind.FAULT: _("Equipment is broken or does not work as it should."),
    Kind.COMPLAINT: _("Tell us where our product or service let you down."),
    Kind.SUGGESTION: _("An idea that would make our products or service better."),
}

CREATED_BY_CHANNEL: dict[str, Promise] = {
    Channel.PORTAL: _("Request submitted in the portal."),
    Channel.EMAIL: _("Request received by email."),
    Channel.PHONE: _("Request recorded from your phone call."),
    Channel.API: _("Request received from your system."),
    Channel.ON_SITE: _("Request recorded by our engineer on site."),
}

STATUS_EVENT: dict[str, Promise] = {
    Status.NEW: _("Back with our team."),
    Status.ACKNOWLEDGED: _("Our team acknowledged your request."),
    Status.IN_PROGRESS: _("Work started."),
    Status.WAITING_CUSTOMER: _("We asked you for information."),
    Status.WAITING_PARTS: _("Waiting for parts."),
    Status.WAITING_BACK_OFFICE: _("Passed to our specialists."),
    Status.RESOLVED: _("Marked as resolved."),
    Status.CLOSED: _("Closed."),
}


def customer_status(status: str) -> str:
    return str(CUSTOMER_STATUS.get(status, status))


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # "done", "current" or "todo"
    note: str = ""


_STEPS: tuple[tuple[Promise, tuple[str, ...]], ...] = (
    (_("Submitted"), (Status.NEW,)),
    (_("Acknowledged"), (Status.ACKNOWLEDGED,)),
    (_("In progress"), (Status.IN_PROGRESS, *WAITING)),
    (_("Resolved"), (Status.RESOLVED,)),
    (_("Closed"), (Status.CLOSED,)),
)


def status_steps(status: str) -> list[Step]:
    """The five steps a request goes through; a waiting status shows on the "In progress" step."""
    current = next((i for i, (_label, statuses) in enumerate(_STEPS) if status in statuses), 0)
    steps = []
    for index, (label, _statuses) in enumerate(_STEPS):
        state = "done" if index < current else "current" if index == current else "todo"
        note = str(CUSTOMER_STATUS[status]) if state == "current" and status in WAITING else ""
        steps.append(Step(label=str(label), state=state, note=note))
    return steps


@dataclass
class HistoryItem:
    """One line of "What has happened": an event in words, or a public message."""

    at: datetime
    kind: str  # "event" or "message"
    text: str = ""
    detail: str = ""
    actor: str = ""
    is_you: bool = False
    from_customer: bool = False
    message: Message | None = None
    attachments: list[Attachment] | None = None


def _event_text(event: TicketEvent, by_customer: bool) -> tuple[str, bool]:
    """The sentence for an event, and whether naming the customer who caused it adds anything."""
    if event.kind == EventKind.CREATED:
        channel = str(event.data.get("channel", "")) if isinstance(event.data, dict) else ""
        return str(CREATED_BY_CHANNEL.get(channel, _("Request submitted."))), True
    if event.kind == EventKind.REOPENED:
        return str(_("Reopened: not solved yet.")), True
    if by_customer and event.new_value == Status.CLOSED:
        return str(_("Confirmed as solved and closed.")), True
    if event.new_value == Status.IN_PROGRESS and event.old_value in WAITING:
        if by_customer:
            # A customer's reply to "waiting for you" wakes the ticket; the reply itself follows.
            return str(_("Back with our team after your reply.")), False
        return str(_("Work resumed.")), True
    return str(STATUS_EVENT.get(event.new_value, _("Status changed."))), True


def _person(user: Any, viewer: Any) -> tuple[str, bool]:
    if user is None:
        return "", False
    if user.pk == viewer.pk:
        return str(_("you")), True
    return str(user), False


def history(entries: list[TimelineEntry], viewer: Any) -> list[HistoryItem]:
    """Customer-visible timeline entries phrased for the customer. Staff are named on their replies
    but not on status events ("Our team acknowledged…"); customers are named everywhere."""
    items: list[HistoryItem] = []
    for entry in entries:
        if entry.message is not None:
            message = entry.message
            actor, is_you = _person(message.author, viewer)
            items.append(
                HistoryItem(
                    at=entry.at,
                    kind="message",
                    actor=actor or str(_("Our team")),
                    is_you=is_you,
                    from_customer=message.from_customer,
                    message=message,
                    attachments=list(message.attachments.all()),
                )
            )
        elif entry.event is not None:
            event = entry.event
            by_customer = account_policies.is_customer(event.actor)
            text, name_actor = _event_text(event, by_customer)
            actor, is_you = _person(event.actor, viewer) if by_customer and name_actor else ("", False)
            reason = event.data.get("reason", "") if isinstance(event.data, dict) else ""
            if event.actor is None and Status.WAITING_BACK_OFFICE in (event.old_value, event.new_value):
                # The procedure's own hand-offs name the back-office team: not for customers.
                reason = ""
            items.append(
                HistoryItem(
                    at=entry.at,
                    kind="event",
                    text=text,
                    detail=str(reason),
                    actor=actor,
                    is_you=is_you,
                    from_customer=by_customer,
                )
            )
    return items


# Promised times --------------------------------------------------------------------------------

PROMISE_DUE: dict[str, Promise] = {
    SlaTarget.FIRST_RESPONSE: _("We will respond by %(when)s."),
    SlaTarget.NEXT_RESPONSE: _("We will answer your latest message by %(when)s."),
    SlaTarget.RESOLUTION: _("We aim to resolve this by %(when)s."),
    SlaTarget.ON_SITE: _("An engineer will be on site by %(when)s."),
}
PROMISE_OVERDUE: dict[str, Promise] = {
    SlaTarget.FIRST_RESPONSE: _(
        "We aimed to respond by %(when)s. Sorry for the wait: your request is with our team."
    ),
    SlaTarget.NEXT_RESPONSE: _("We aimed to answer your latest message by %(when)s. Sorry for the wait."),
    SlaTarget.RESOLUTION: _(
        "We aimed to resolve this by %(when)s. Sorry it is taking longer: we are still on it."
    ),
    SlaTarget.ON_SITE: _("Our engineer was due on site by %(when)s. Sorry for the delay."),
}
PROMISE_MET: dict[str, Promise] = {
    SlaTarget.FIRST_RESPONSE: _("Responded on time."),
    SlaTarget.NEXT_RESPONSE: _("Answered your latest message on time."),
    SlaTarget.RESOLUTION: _("Resolved on time."),
    SlaTarget.ON_SITE: _("Our engineer arrived on time."),
}
PROMISE_LATE: dict[str, Promise] = {
    SlaTarget.FIRST_RESPONSE: _("Responded on %(when)s."),
    SlaTarget.NEXT_RESPONSE: _("Answered your latest message on %(when)s."),
    SlaTarget.RESOLUTION: _("Resolved on %(when)s."),
    SlaTarget.ON_SITE: _("Our engineer arrived on %(when)s."),
}
PAUSED_BECAUSE: dict[str, Promise] = {
    Status.WAITING_CUSTOMER: _("The clock is paused while we wait for your reply."),
    Status.WAITING_PARTS: _("The clock is paused while we wait for parts."),
}
PAUSED_OTHERWISE = _("The clock is paused for now; it runs again as soon as work continues.")


def promised_time(moment: datetime) -> str:
    """A promised instant for customers, in their time zone: "Tue 24 Nov 14:00"."""
    return format_date(timezone.localtime(moment), pgettext("promised time", "D j M H:i"))


@dataclass(frozen=True)
class PromiseLine:
    target: str
    text: str
    state: str  # "due", "overdue", "met" or "late"


@dataclass(frozen=True)
class Promises:
    """The times we promised a customer, in words; `paused` is the sentence saying why the clock stands
    still (empty while it runs)."""

    lines: list[PromiseLine]
    paused: str

    def __bool__(self) -> bool:
        return bool(self.lines or self.paused)


def promises(clocks: Iterable[ClockView], status: str) -> Promises:
    """What the customer is told about each current clock: when we will respond or resolve, whether
    we did on time, and — once for all paused clocks — why the clock is paused. Cancelled clocks and
    targets unknown here are left out; nothing internal (policy, calendar, percentages) is said."""
    lines: list[PromiseLine] = []
    paused = False
    for clock in clocks:
        if clock.target not in PROMISE_DUE or clock.state == ClockState.CANCELLED:
            continue
        if clock.achieved_at is not None:
            if clock.state == ClockState.ACHIEVED:
                lines.append(PromiseLine(clock.target, str(PROMISE_MET[clock.target]), "met"))
            else:
                when = promised_time(clock.achieved_at)
                lines.append(
                    PromiseLine(clock.target, str(PROMISE_LATE[clock.target]) % {"when": when}, "late")
                )
        elif clock.is_paused:
            paused = True
        elif clock.due_at is not None:
            table, state = (PROMISE_OVERDUE, "overdue") if clock.is_breached else (PROMISE_DUE, "due")
            lines.append(
                PromiseLine(
                    clock.target, str(table[clock.target]) % {"when": promised_time(clock.due_at)}, state
                )
            )
    reason = str(PAUSED_BECAUSE.get(status, PAUSED_OTHERWISE)) if paused else ""
    return Promises(lines=lines, paused=reason)


# Milestones ------------------------------------------------------------------------------------

MILESTONE_DUE = _("Expected by %(when)s.")
MILESTONE_OVERDUE = _("We expected to get here by %(when)s. Sorry it is taking longer: we are still on it.")
MILESTONE_PAUSED = _("The time for this waits while work is paused.")


@dataclass(frozen=True)
class Milestone:
    name: str
    when: str  # when it was reached, in the customer's words


@dataclass(frozen=True)
class Progress:
    """The milestones of the service's procedure as the customer sees them: those reached, and the next
    one with when we expect to reach it (`next_state`: "due", "overdue", "paused" or "" when no time can
    be given)."""

    reached: list[Milestone]
    next_name: str = ""
    next_text: str = ""
    next_state: str = ""

    def __bool__(self) -> bool:
        return bool(self.reached or self.next_name)


def _milestone_name(name: str, number: int) -> str:
    return name or str(_("Milestone %(n)d")) % {"n": number}


def progress(steps: TicketSteps, status: str, at: datetime) -> Progress:
    """The milestones reached (their customer-facing names and when) and the next one, expected by the
    due instant of the steps under way up to it (the latest of them: all must be done first). Nothing
    of the steps themselves, their checkpoints or the teams doing them is said. A resolved or closed
    request has no next milestone."""
    milestones = steps.milestones
    if not milestones:
        return Progress(reached=[])
    reached = [
        Milestone(
            _milestone_name(view.step.milestone_name, number),
            promised_time(view.row.completed_at) if view.row.completed_at else "",
        )
        for number, view in enumerate(milestones, start=1)
        if view.row.state == StepState.DONE
    ]
    upcoming = next(
        (
            (number, view)
            for number, view in enumerate(milestones, start=1)
            if view.row.state in (StepState.PENDING, StepState.ACTIVE)
        ),
        None,
    )
    if upcoming is None or status in DONE_STATUSES:
        return Progress(reached=reached)
    number, view = upcoming
    name = _milestone_name(view.step.milestone_name, number)
    before = [
        current.clock
        for current in steps.current
        if current.row.position <= view.row.position and current.clock is not None
    ]
    if any(clock.is_paused for clock in before):
        return Progress(reached, name, str(MILESTONE_PAUSED), "paused")
    dues = [clock.due_at for clock in before if clock.due_at is not None and clock.is_live]
    if not dues:
        return Progress(reached, name)
    due = max(dues)
    if due <= at:
        return Progress(reached, name, str(MILESTONE_OVERDUE) % {"when": promised_time(due)}, "overdue")
    return Progress(reached, name, str(MILESTONE_DUE) % {"when": promised_time(due)}, "due")
