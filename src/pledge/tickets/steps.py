"""SOP step execution on a ticket: which steps it gets, when each starts, how checkpoint answers are
judged, and what still stands in the way of resolving it.

The functions here run inside the ticket services' transactions (tickets/services.py). A ticket of a
service type gets the steps of the SOP version in effect when it was created. Steps run in stages: a
stage is one step, or consecutive steps of one parallel group; every step of a stage starts together,
and the next stage starts when all of them are done. Each started step has a clock (target `sop_step`,
see clocks.py) timing its time standard in business minutes, paused like the ticket's SLA clocks and
escalated by the same sweep.

A back-office step is a hand-off: when it starts, its team holds the ticket (`Ticket.handoff_team`, which
lets the team's members see it) and the ticket waits on back-office; its clock (target `handoff`) is the
team's OLA. Completing the last back-office step under way returns the ticket (in progress again).
Functions that change the ticket's own fields (status, handoff_team, version) leave saving it to the
calling service.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from pledge.accounts.models import Team
from pledge.standards.choices import CheckpointKind, ClockTarget, StepOwner
from pledge.standards.models import Checkpoint, ServiceType, SopStep, SopVersion
from pledge.tickets import clocks
from pledge.tickets.choices import DONE_STATUSES, ClockState, EventKind, Status, StepState
from pledge.tickets.models import CheckpointAnswer, SlaClock, Ticket, TicketEvent, TicketStep

YES = ("yes", "y", "true", "1", "是")
NO = ("no", "n", "false", "0", "否")
ANSWER_MAX = 2000
# A number as people type it: an optional sign, digits, and an optional decimal part after "." or ",".
NUMBER = re.compile(r"([+-]?\d{1,15})(?:([.,])(\d{1,15}))?")


def stages_of(steps: Sequence[SopStep]) -> list[int]:
    """The stage of each step (in position order): consecutive steps of one parallel group share one."""
    stages: list[int] = []
    stage = -1
    previous = None
    for step in steps:
        if not step.parallel_group or step.parallel_group != previous:
            stage += 1
        previous = step.parallel_group or None
        stages.append(stage)
    return stages


def instantiate(
    ticket: Ticket, version: SopVersion, service_type: ServiceType, at: datetime
) -> list[TicketStep]:
    """Give a new (stored) ticket the steps of `version` and start the first stage."""
    steps = list(version.steps.order_by("position"))
    rows = [
        TicketStep(ticket=ticket, step=step, position=step.position, stage=stage)
        for step, stage in zip(steps, stages_of(steps), strict=True)
    ]
    TicketStep.objects.bulk_create(rows)
    for row, step in zip(rows, steps, strict=True):
        row.step = step
    _start(ticket, [row for row in rows if row.stage == 0], service_type.calendar_id, at)
    return rows


def _start(ticket: Ticket, rows: Sequence[TicketStep], calendar_id: int, at: datetime) -> None:
    if not rows:
        return
    started = clocks.steps_started(
        ticket,
        [
            (
                ClockTarget.HANDOFF if row.step.owner == StepOwner.BACK_OFFICE else ClockTarget.SOP_STEP,
                row.position,
                row.step.time_standard_minutes,
            )
            for row in rows
        ],
        calendar_id,
        at,
    )
    for row, clock in zip(rows, started, strict=True):
        row.state = StepState.ACTIVE
        row.started_at = at
        row.clock = clock
    for row in rows:  # one or a few rows: plain UPDATEs are cheaper than bulk_update's CASE
        row.save(update_fields=["state", "started_at", "clock"])
    handed = next((row for row in rows if row.step.owner == StepOwner.BACK_OFFICE), None)
    if handed is not None:
        _hand_over(ticket, handed, at)


def _set_status(ticket: Ticket, status: str, at: datetime, reason: str) -> None:
    """A status change the SOP makes by itself (no workflow check): clocks follow, and it is logged."""
    old = ticket.status
    if old == status:
        return
    ticket.status = status
    ticket.version += 1
    clocks.on_status(ticket, old=old, new=status, at=at)
    TicketEvent.objects.create(
        ticket=ticket,
        actor=None,
        kind=EventKind.STATUS,
        field="status",
        old_value=old,
        new_value=status,
        created_at=at,
        data={"reason": reason},
    )


def _hand_over(ticket: Ticket, row: TicketStep, at: datetime) -> None:
    """A back-office step started: its team holds the ticket, which waits on back-office meanwhile."""
    team = row.step.team
    ticket.handoff_team = team
    TicketEvent.objects.create(
        ticket=ticket,
        actor=None,
        kind=EventKind.HANDOFF,
        field="handoff_team",
        new_value=str(team) if team else "",
        created_at=at,
        data={
            "team_id": row.step.team_id,
            "step": row.step.name,
            "position": row.position,
            "ola_minutes": row.step.time_standard_minutes,
            "due_at": row.clock.due_at.isoformat() if row.clock and row.clock.due_at else None,
        },
    )
    if ticket.status not in DONE_STATUSES:
        _set_status(ticket, Status.WAITING_BACK_OFFICE, at, _("Handed to %(team)s") % {"team": team})


def _release(ticket: Ticket, at: datetime, data: dict[str, Any]) -> Team | None:
    """The back-office team holding the ticket lets go (caller saves the ticket), with the event."""
    team = ticket.handoff_team
    ticket.handoff_team = None
    TicketEvent.objects.create(
        ticket=ticket,
        actor=None,
        kind=EventKind.HANDOFF,
        field="handoff_team",
        old_value=str(team) if team else "",
        created_at=at,
        data=data,
    )
    return team


def _hand_back(ticket: Ticket, at: datetime) -> None:
    """The last back-office step under way is done: the ticket returns to the frontline."""
    if TicketStep.objects.filter(
        ticket_id=ticket.pk, state=StepState.ACTIVE, step__owner=StepOwner.BACK_OFFICE
    ).exists():
        return
    team = _release(ticket, at, {"returned": True})
    if ticket.status == Status.WAITING_BACK_OFFICE:
        _set_status(ticket, Status.IN_PROGRESS, at, _("Returned by %(team)s") % {"team": team})


def advance(ticket: Ticket, at: datetime) -> list[TicketStep]:
    """Start the next stage when every step of the current one is done. Returns the steps started."""
    rows = list(TicketStep.objects.filter(ticket_id=ticket.pk).select_related("step").order_by("position"))
    if any(row.state == StepState.ACTIVE for row in rows):
        return []
    pending = [row for row in rows if row.state == StepState.PENDING]
    if not pending:
        return []
    stage = min(row.stage for row in pending)
    starting = [row for row in pending if row.stage == stage]
    calendar_id = ticket.service_type.calendar_id if ticket.service_type is not None else 0
    _start(ticket, starting, calendar_id, at)
    return starting


def stop(ticket: Ticket, at: datetime) -> None:
    """The ticket is resolved or closed: the steps under way stop (their clocks were cancelled with the
    status change) and a back-office team holding it lets go."""
    TicketStep.objects.filter(ticket_id=ticket.pk, state=StepState.ACTIVE).update(state=StepState.CANCELLED)
    if ticket.handoff_team_id is not None:
        _release(ticket, at, {"returned": True, "because": ticket.status})


def restart(ticket: Ticket, at: datetime) -> None:
    """The ticket was reopened: the steps stopped at its resolution are under way again, their clocks
    counting on from the time they had used (a back-office step hands the ticket over again); when none
    was stopped, the next stage starts if it is due."""
    rows = list(
        TicketStep.objects.filter(ticket_id=ticket.pk, state=StepState.CANCELLED)
        .select_related("step__team", "clock")
        .order_by("position")
    )
    if not rows:
        advance(ticket, at)
        return
    clocks.steps_revived(ticket, [row.clock_id for row in rows if row.clock_id is not None], at)
    TicketStep.objects.filter(pk__in=[row.pk for row in rows]).update(state=StepState.ACTIVE)
    handed = next((row for row in rows if row.step.owner == StepOwner.BACK_OFFICE), None)
    if handed is not None:
        if handed.clock_id is not None:
            handed.clock = SlaClock.objects.filter(pk=handed.clock_id).first()
        _hand_over(ticket, handed, at)


def finish(ticket: Ticket, row: TicketStep, actor_id: int | None, at: datetime) -> None:
    """Mark a step done: its clock stops, and the time taken and whether it was within standard are kept
    for the process execution rate."""
    clock = clocks.step_finished(ticket, row.clock_id, at) if row.clock_id else None
    row.state = StepState.DONE
    row.completed_at = at
    row.completed_by_id = actor_id
    if clock is not None and clock.state in (ClockState.ACHIEVED, ClockState.BREACHED):
        row.business_minutes = clock.offset_minutes
        row.on_time = clock.state == ClockState.ACHIEVED
    row.save(update_fields=["state", "completed_at", "completed_by", "business_minutes", "on_time"])
    if row.step.owner == StepOwner.BACK_OFFICE and ticket.handoff_team_id is not None:
        _hand_back(ticket, at)


@dataclass(frozen=True)
class Judged:
    """A checkpoint answer as stored: its text, its number (number checkpoints) and whether it passed
    (None for answers that cannot fail)."""

    value: str
    number: float | None
    passed: bool | None


def judge(checkpoint: Checkpoint, raw: str) -> Judged:
    """Read an answer to a checkpoint; raises ValueError with a message for the person answering."""
    text = (
        " ".join(str(raw).replace("\x00", "").split()) if checkpoint.kind != CheckpointKind.TEXT else str(raw)
    )
    text = text.replace("\x00", "").strip()
    if len(text) > ANSWER_MAX:
        raise ValueError(_("At most %(n)d characters.") % {"n": ANSWER_MAX})
    if checkpoint.kind == CheckpointKind.YES_NO:
        lowered = text.lower()
        if lowered in YES:
            return Judged("yes", None, True)
        if lowered in NO:
            return Judged("no", None, False)
        raise ValueError(_("Answer yes or no."))
    if checkpoint.kind == CheckpointKind.NUMBER:
        match = NUMBER.fullmatch(text)
        if match is None:
            raise ValueError(_("Enter a number such as 6.5 (no thousands separators)."))
        if match.group(2) == "," and len(match.group(3)) == 3:
            # "1,500" is a thousand and a half to some and one and a half to others: ask.
            raise ValueError(_("Write 1500 or 1.5: a comma before three digits is ambiguous."))
        number = float(f"{match.group(1)}.{match.group(3)}" if match.group(2) else match.group(1))
        if not math.isfinite(number):
            raise ValueError(_("Enter a finite number."))
        passed = (checkpoint.min_value is None or number >= checkpoint.min_value) and (
            checkpoint.max_value is None or number <= checkpoint.max_value
        )
        return Judged(f"{number:g}", number, passed)
    if checkpoint.kind == CheckpointKind.TEXT:
        if not text:
            raise ValueError(_("Write an answer."))
        return Judged(text, None, None)
    # File and photo checkpoints are answered with evidence; the text is its description (optional).
    return Judged(text, None, None)


@dataclass(frozen=True)
class Blocker:
    """A checkpoint that stands in the way of resolving the ticket."""

    step: str
    checkpoint: str
    problem: str  # "unanswered" or "failed"

    def sentence(self) -> str:
        if self.problem == "failed":
            return _("“%(checkpoint)s” (step %(step)s) failed") % {
                "checkpoint": self.checkpoint,
                "step": self.step,
            }
        return _("“%(checkpoint)s” (step %(step)s) is unanswered") % {
            "checkpoint": self.checkpoint,
            "step": self.step,
        }


def latest_answers(rows: Sequence[TicketStep]) -> dict[tuple[int, int], CheckpointAnswer]:
    """(ticket step id, checkpoint id) → the latest answer (one query)."""
    latest: dict[tuple[int, int], CheckpointAnswer] = {}
    for answer in CheckpointAnswer.objects.filter(ticket_step__in=[row.pk for row in rows]).order_by(
        "attempt"
    ):
        latest[(answer.ticket_step_id, answer.checkpoint_id)] = answer
    return latest


def blockers(ticket: Ticket) -> list[Blocker]:
    """Mandatory checkpoints without an answer and critical ones whose latest answer failed, in step
    order (three queries; none when the ticket has no SOP)."""
    if ticket.sop_version_id is None:
        return []
    rows = list(
        TicketStep.objects.filter(ticket_id=ticket.pk)
        .select_related("step")
        .prefetch_related("step__checkpoints")
        .order_by("position")
    )
    latest = latest_answers(rows)
    found: list[Blocker] = []
    for row in rows:
        for checkpoint in row.step.checkpoints.all():
            answer = latest.get((row.pk, checkpoint.pk))
            if answer is None:
                if checkpoint.mandatory:
                    found.append(Blocker(row.step.name, checkpoint.label, "unanswered"))
            elif checkpoint.critical and answer.passed is False:
                found.append(Blocker(row.step.name, checkpoint.label, "failed"))
    return found
