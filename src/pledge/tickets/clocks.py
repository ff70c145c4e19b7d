"""SLA clocks: which policy a ticket gets, and how its clocks start, pause, resume, finish and are recounted.

The functions here run inside the transactions of the ticket services (tickets/services.py), the
calendar and policy services (standards/services.py) and the worker's sweeps (tickets/sweeps.py); they
never open their own except the sweeps and the bulk recounts, which are services themselves.

A clock's working time used at instant t, while it runs, is `worked(anchor_at, t) + offset_minutes` on
its calendar. Pausing, finishing or switching calendars folds the time used into `offset_minutes` and
moves the anchor; resuming moves the anchor to the resume instant. The due instant is therefore
`due(anchor_at, target_minutes - offset_minutes)`: after a calendar change the new calendar applies from
the anchor on (the time counted before the last resume stays counted), and a million clocks are
recounted with one array call per calendar (`recompute_for_calendars`).

Definitions (docs/sla.md):
- first response: from creation to the first public reply by staff (or the resolution, if earlier);
- next response: from each customer message that arrives after the first response and is not yet
  answered, to the next public reply by staff (or the resolution); one clock per such message (`cycle`);
- resolution: from creation to resolution; a reopened ticket resumes it (time while resolved is not
  counted), so it counts all open time up to the last resolution;
- on-site arrival (field visits): from creation to the arrival an engineer records.
While the ticket is in one of its policy's pause statuses every unfinished clock stands still.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from pledge.accounts.models import User
from pledge.customers.models import Contract
from pledge.lib.businesstime import BusinessTime, BusinessTimeError, NoWorkingTime
from pledge.standards.choices import STEP_TARGETS, ClockTarget, SlaTarget
from pledge.standards.models import BusinessCalendar, EscalationLevel, SlaPolicy, default_pause_statuses
from pledge.standards.selectors import business_time_for
from pledge.tickets.choices import DONE_STATUSES, ClockState, EventKind, Kind, Status
from pledge.tickets.models import SlaClock, SlaRecount, SlaRecountTicket, Ticket, TicketEvent

FINISHED_STATES = (ClockState.ACHIEVED, ClockState.CANCELLED)
# Targets whose clock starts with the ticket (next response starts with a customer message).
STARTING_TARGETS = (SlaTarget.FIRST_RESPONSE, SlaTarget.RESOLUTION, SlaTarget.ON_SITE)
RESPONSE_TARGETS = (SlaTarget.FIRST_RESPONSE, SlaTarget.NEXT_RESPONSE)
BULK_BATCH = 50_000
STATE_CHUNK = 10_000  # ids per `pk IN (…)`: under SQLite's limit of bound variables
FEW_ROWS = 3
# The clock fields a ticket service may change (written back by `_save`).
CLOCK_FIELDS = [
    "policy",
    "calendar",
    "target_minutes",
    "anchor_at",
    "offset_minutes",
    "paused_minutes",
    "paused_since",
    "due_at",
    "achieved_at",
    "state",
    "uncovered_years",
    "escalated_percent",
    "next_escalation_at",
    "updated_at",
]
_TARGET_CODES = {target: code for code, target in enumerate(ClockTarget.values)}
_STEP_CODES = [_TARGET_CODES[target] for target in STEP_TARGETS]
_RECOUNT_ROW = np.dtype(
    [
        ("id", np.int64),
        ("ticket", np.int64),
        ("anchor", np.int64),
        ("offset", np.float64),
        ("target", np.float64),
        ("due", np.int64),
        ("next", np.int64),
        ("packed", np.int64),
    ]
)


# ---------------------------------------------------------------------------------------------------
# Which contract and policy


@dataclass(frozen=True)
class _ContractTerms:
    pk: int
    start: date
    end: date
    kinds: tuple[str, ...]
    assets: frozenset[int]


@dataclass(frozen=True)
class _PolicySet:
    policies: tuple[SlaPolicy, ...]
    levels: dict[tuple[int, str], list[int]]


# Ticket creation reads the active policies and an organisation's contracts every time; like other
# reference rows (customers/selectors.py) they may be answered from a copy at most
# settings.REFERENCE_CACHE_SECONDS old in other processes. Policy writes in this process clear it.
_reference_lock = threading.Lock()
_policy_cache: tuple[float, _PolicySet] | None = None
_contract_cache: dict[int, tuple[float, tuple[_ContractTerms, ...]]] = {}


def forget_cached_policies() -> None:
    """Forget cached policies and contracts (after writing them; also for tests)."""
    global _policy_cache
    with _reference_lock:
        _policy_cache = None
        _contract_cache.clear()


def _active_policies() -> _PolicySet:
    global _policy_cache
    seconds = settings.REFERENCE_CACHE_SECONDS
    cached = _policy_cache
    if seconds > 0 and cached is not None and cached[0] > time.monotonic():
        return cached[1]
    policies = tuple(
        SlaPolicy.objects.filter(is_active=True).select_related("calendar").order_by("position", "id")
    )
    levels = _levels_by_target([policy.pk for policy in policies]) if policies else {}
    result = _PolicySet(policies, levels)
    if seconds > 0:
        with _reference_lock:
            _policy_cache = (time.monotonic() + seconds, result)
    return result


def _contracts_of(organisation_id: int) -> tuple[_ContractTerms, ...]:
    seconds = settings.REFERENCE_CACHE_SECONDS
    cached = _contract_cache.get(organisation_id)
    if seconds > 0 and cached is not None and cached[0] > time.monotonic():
        return cached[1]
    terms = tuple(
        _ContractTerms(
            contract.pk,
            contract.start_date,
            contract.end_date,
            tuple(contract.covered_kinds or ()),
            frozenset(asset.pk for asset in contract.assets.all()),
        )
        for contract in Contract.objects.filter(organisation_id=organisation_id)
        .order_by("-start_date", "-id")
        .prefetch_related("assets")
    )
    if seconds > 0:
        with _reference_lock:
            if len(_contract_cache) > 10_000:
                _contract_cache.clear()
            _contract_cache[organisation_id] = (time.monotonic() + seconds, terms)
    return terms


def contract_for(ticket: Ticket, at: datetime) -> int | None:
    """The id of the organisation's contract in force on the ticket's creation day that covers its asset
    (a contract listing no assets covers them all) and its kind (an empty list covers every kind); the
    one that started last when several do."""
    day = timezone.localdate(at)
    for terms in _contracts_of(ticket.organisation_id):
        if not terms.start <= day <= terms.end:
            continue
        if terms.kinds and ticket.kind not in terms.kinds:
            continue
        if terms.assets and ticket.asset_id not in terms.assets:
            continue
        return terms.pk
    return None


def _matches(policy: SlaPolicy, ticket: Ticket, tier: str) -> bool:
    return (
        (not policy.tiers or tier in policy.tiers)
        and (not policy.kinds or ticket.kind in policy.kinds)
        and (not policy.priorities or ticket.priority in policy.priorities)
        and (not policy.channels or ticket.channel in policy.channels)
        and (
            not policy.service_types
            or (ticket.service_type is not None and ticket.service_type.code in policy.service_types)
        )
    )


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The first active policy whose conditions hold, trying the ticket's contract's own policies first."""
    tier = ticket.organisation.tier
    policies = _active_policies().policies
    own = [
        policy
        for policy in policies
        if policy.contract_id is not None and policy.contract_id == ticket.contract_id
    ]
    general = [policy for policy in policies if policy.contract_id is None]
    for policy in (*own, *general):
        if _matches(policy, ticket, tier):
            return policy
    return None


def promised_targets(policy: SlaPolicy, ticket: Ticket) -> dict[str, int]:
    """Target → business minutes the policy promises this ticket (on-site only for field visits). The
    ticket's service type may set its own minutes for a target; they replace the policy's."""
    targets: dict[str, int] = {}
    service_type = ticket.service_type if ticket.service_type_id is not None else None
    for target in SlaTarget.values:
        minutes = policy.target_minutes(target)
        if service_type is not None and (override := service_type.target_minutes(target)) is not None:
            minutes = override
        if minutes is None:
            continue
        if target == SlaTarget.ON_SITE and ticket.kind != Kind.FIELD_VISIT:
            continue
        targets[target] = minutes
    return targets


# ---------------------------------------------------------------------------------------------------
# One clock


def used_minutes(clock: SlaClock, business_time: BusinessTime, at: datetime) -> float:
    """Working minutes the clock has used by `at` (frozen while paused or finished)."""
    if clock.paused_since is not None or clock.achieved_at is not None or clock.state == ClockState.CANCELLED:
        return clock.offset_minutes
    if at <= clock.anchor_at:
        return clock.offset_minutes
    return clock.offset_minutes + business_time.elapsed(clock.anchor_at, at)


def _levels_by_target(policy_ids: Iterable[int]) -> dict[tuple[int, str], list[int]]:
    levels: dict[tuple[int, str], list[int]] = defaultdict(list)
    for policy_id, target, percent in (
        EscalationLevel.objects.filter(policy_id__in=set(policy_ids))
        .order_by("percent")
        .values_list("policy_id", "target", "percent")
    ):
        levels[(policy_id, target)].append(percent)
    return levels


def _threshold(clock: SlaClock, business_time: BusinessTime, minutes: float) -> datetime:
    """When the running clock reaches `minutes` of used time (its anchor when already past)."""
    remaining = minutes - clock.offset_minutes
    if remaining <= 0:
        return clock.anchor_at
    try:
        return business_time.due(clock.anchor_at, remaining)
    except BusinessTimeError:
        return clock.anchor_at


def schedule(clock: SlaClock, business_time: BusinessTime, levels: Sequence[int], at: datetime) -> None:
    """Set the due instant, its provisional years, the state (running or breached) and the next escalation
    of a running clock; clear them for a paused or finished one (a breach instant is kept)."""
    finished = clock.achieved_at is not None or clock.state == ClockState.CANCELLED
    if finished or clock.paused_since is not None:
        if clock.state != ClockState.BREACHED:
            clock.due_at = None
            clock.uncovered_years = []
        clock.next_escalation_at = None
        if not finished and clock.state == ClockState.RUNNING:
            clock.state = ClockState.PAUSED
        return
    remaining = clock.target_minutes - clock.offset_minutes
    if remaining > 0:
        try:
            answer = business_time.deadline(clock.anchor_at, remaining)
        except BusinessTimeError:  # no working hours, or beyond the supported years: never due
            clock.due_at, clock.uncovered_years = None, []
        else:
            clock.due_at, clock.uncovered_years = answer.at, list(answer.uncovered_years)
    elif clock.due_at is None or clock.due_at > at:
        # The target shrank below the time already used (a policy change): breached now.
        clock.due_at, clock.uncovered_years = at, []
    clock.state = (
        ClockState.BREACHED if clock.due_at is not None and clock.due_at <= at else ClockState.RUNNING
    )
    clock.next_escalation_at = None
    for percent in levels:
        if percent > clock.escalated_percent:
            clock.next_escalation_at = _threshold(clock, business_time, clock.target_minutes * percent / 100)
            break


def _fold(clock: SlaClock, business_time: BusinessTime, at: datetime) -> None:
    """Bring the used time up to `at` into the offset and anchor there."""
    clock.offset_minutes = used_minutes(clock, business_time, at)
    clock.anchor_at = max(at, clock.anchor_at)


def _pause(clock: SlaClock, business_time: BusinessTime, at: datetime) -> None:
    if clock.paused_since is None:
        _fold(clock, business_time, at)
        clock.paused_since = at


def _resume(clock: SlaClock, business_time: BusinessTime, at: datetime) -> None:
    if clock.paused_since is not None:
        if at > clock.paused_since:
            clock.paused_minutes += business_time.elapsed(clock.paused_since, at)
        clock.paused_since = None
        clock.anchor_at = max(at, clock.anchor_at)
        if clock.state == ClockState.PAUSED:
            clock.state = ClockState.RUNNING


def _achieve(clock: SlaClock, business_time: BusinessTime, at: datetime) -> None:
    _fold(clock, business_time, at)
    if clock.paused_since is not None:
        _resume(clock, business_time, at)
    clock.achieved_at = at
    met = clock.offset_minutes <= clock.target_minutes and clock.state != ClockState.BREACHED
    clock.state = ClockState.ACHIEVED if met else ClockState.BREACHED
    if not met and (clock.due_at is None or clock.due_at > at):
        clock.due_at = at


def _cancel(clock: SlaClock, business_time: BusinessTime, at: datetime) -> None:
    _fold(clock, business_time, at)
    clock.paused_since = None
    clock.state = ClockState.CANCELLED


def _is_live(clock: SlaClock) -> bool:
    return clock.achieved_at is None and clock.state != ClockState.CANCELLED


# ---------------------------------------------------------------------------------------------------
# A ticket's clocks


@dataclass
class _TicketClocks:
    ticket: Ticket
    policy: SlaPolicy | None
    business_time: BusinessTime | None
    levels: dict[tuple[int, str], list[int]]
    clocks: list[SlaClock]
    changed: set[int] = field(default_factory=set)  # ids (in `clocks`) of clocks to save
    new: list[SlaClock] = field(default_factory=list)
    other_calendars: dict[int, BusinessTime] = field(default_factory=dict)

    def levels_for(self, clock: SlaClock) -> list[int]:
        return self.levels.get((clock.policy_id or 0, clock.target), [])

    def live(self, target: str | None = None) -> list[SlaClock]:
        return [c for c in self.clocks if _is_live(c) and (target is None or c.target == target)]

    def touch(self, clock: SlaClock) -> None:
        self.changed.add(id(clock))

    def business_time_of(self, clock: SlaClock) -> BusinessTime:
        """The compiled calendar a clock counts on: the policy's, or (a clock not yet moved to a new
        policy calendar) its own, read once per calendar."""
        if (
            self.policy is not None
            and self.business_time is not None
            and clock.calendar_id == self.policy.calendar_id
        ):
            return self.business_time
        if clock.calendar_id not in self.other_calendars:
            calendar = BusinessCalendar.objects.get(pk=clock.calendar_id)
            self.other_calendars[clock.calendar_id] = business_time_for(calendar)
        return self.other_calendars[clock.calendar_id]


def _policy_with_levels(policy_id: int) -> tuple[SlaPolicy | None, dict[tuple[int, str], list[int]]]:
    """The policy with its calendar and escalation levels: from the reference cache when it is active."""
    active = _active_policies()
    for policy in active.policies:
        if policy.pk == policy_id:
            return policy, active.levels
    stored = SlaPolicy.objects.select_related("calendar").filter(pk=policy_id).first()
    return stored, (_levels_by_target([policy_id]) if stored is not None else {})


def _load(ticket: Ticket) -> _TicketClocks:
    policy, levels = _policy_with_levels(ticket.sla_policy_id) if ticket.sla_policy_id else (None, {})
    clocks = list(SlaClock.objects.filter(ticket_id=ticket.pk).order_by("target", "cycle"))
    business_time = business_time_for(policy.calendar) if policy is not None else None
    return _TicketClocks(ticket, policy, business_time, levels, clocks)


def _new_clock(
    state: _TicketClocks,
    target: str,
    minutes: int,
    started: datetime,
    cycle: int = 0,
    *,
    calendar_id: int | None = None,
) -> SlaClock:
    """A new clock on the policy's calendar (or `calendar_id`: SOP steps of tickets without a policy)."""
    if calendar_id is None:
        assert state.policy is not None
        calendar_id = state.policy.calendar_id
    clock = SlaClock(
        ticket=state.ticket,
        target=target,
        cycle=cycle,
        policy=state.policy,
        calendar_id=calendar_id,
        target_minutes=minutes,
        started_at=started,
        anchor_at=started,
        updated_at=started,
    )
    state.clocks.append(clock)
    state.new.append(clock)
    return clock


def _save(state: _TicketClocks, at: datetime) -> None:
    """Schedule and store the changed and new clocks, and the ticket's most urgent due instant."""
    for clock in state.clocks:
        if id(clock) in state.changed or clock in state.new:
            schedule(clock, state.business_time_of(clock), state.levels_for(clock), at)
            clock.updated_at = at
    if state.new:
        SlaClock.objects.bulk_create(state.new)
    dirty = [c for c in state.clocks if id(c) in state.changed and c not in state.new]
    if len(dirty) > FEW_ROWS:
        SlaClock.objects.bulk_update(dirty, CLOCK_FIELDS)
    else:  # a plain UPDATE per row: far cheaper to build than bulk_update's CASE for one or two rows
        for clock in dirty:
            clock.save(update_fields=CLOCK_FIELDS)
    state.ticket.sla_due_at = most_urgent_due(state.clocks)


def most_urgent_due(clocks: Iterable[SlaClock]) -> datetime | None:
    """The earliest due instant of the running promises (SOP steps are not promises to the customer)."""
    dues = [
        c.due_at
        for c in clocks
        if _is_live(c) and c.paused_since is None and c.due_at is not None and c.target not in STEP_TARGETS
    ]
    return min(dues) if dues else None


def _paused_by(policy: SlaPolicy | None, status: str) -> bool:
    return policy is not None and status in (policy.pause_statuses or [])


def _step_paused_by(policy: SlaPolicy | None, status: str) -> bool:
    """SOP step clocks pause with the policy's pause statuses, or the default ones without a policy."""
    statuses = policy.pause_statuses if policy is not None else default_pause_statuses()
    return status in (statuses or [])


def _clock_paused_by(clock: SlaClock, policy: SlaPolicy | None, status: str) -> bool:
    return _step_paused_by(policy, status) if clock.target in STEP_TARGETS else _paused_by(policy, status)


@dataclass
class Plan:
    """A new ticket's clocks, scheduled before the ticket is stored (see `plan`)."""

    clocks: list[SlaClock]


def plan(ticket: Ticket, at: datetime) -> Plan:
    """Give a new, not yet stored ticket its contract, policy, most urgent due instant and clocks; store
    the clocks with `store` once the ticket has its id."""
    ticket.contract_id = contract_for(ticket, at)
    policy = policy_for(ticket)
    ticket.sla_policy = policy
    ticket.sla_due_at = None
    if policy is None:
        return Plan([])
    state = _TicketClocks(ticket, policy, business_time_for(policy.calendar), _active_policies().levels, [])
    assert state.business_time is not None
    for target, minutes in promised_targets(policy, ticket).items():
        if target != SlaTarget.NEXT_RESPONSE:
            clock = _new_clock(state, target, minutes, at)
            if _paused_by(policy, ticket.status):
                _pause(clock, state.business_time, at)
    for clock in state.new:
        schedule(clock, state.business_time, state.levels_for(clock), at)
    ticket.sla_due_at = most_urgent_due(state.new)
    return Plan(state.new)


def store(planned: Plan) -> None:
    if planned.clocks:
        SlaClock.objects.bulk_create(planned.clocks)


def on_public_reply(ticket: Ticket, *, from_customer: bool, at: datetime) -> None:
    """A public message: staff answers achieve the response clocks; a customer message after the first
    response starts a next-response clock (unless one already waits)."""
    if ticket.sla_policy_id is None:
        return
    state = _load(ticket)
    assert state.business_time is not None
    assert state.policy is not None
    if from_customer:
        first_live = state.live(SlaTarget.FIRST_RESPONSE)
        minutes = state.policy.target_minutes(SlaTarget.NEXT_RESPONSE)
        if first_live or state.live(SlaTarget.NEXT_RESPONSE) or minutes is None:
            return
        if ticket.status in DONE_STATUSES:
            return
        cycles = [c.cycle for c in state.clocks if c.target == SlaTarget.NEXT_RESPONSE]
        clock = _new_clock(state, SlaTarget.NEXT_RESPONSE, minutes, at, cycle=max(cycles, default=-1) + 1)
        if _paused_by(state.policy, ticket.status):
            _pause(clock, state.business_time, at)
    else:
        for clock in state.live(SlaTarget.FIRST_RESPONSE) + state.live(SlaTarget.NEXT_RESPONSE):
            _achieve(clock, state.business_time, at)
            state.touch(clock)
    _save(state, at)


def on_status(ticket: Ticket, *, old: str, new: str, at: datetime) -> None:
    """Pause, resume, finish or reopen the clocks for a status change (the ticket has the new status).
    A resolution or closure cancels the clocks of SOP steps still under way."""
    if old == new or (ticket.sla_policy_id is None and ticket.sop_version_id is None):
        return
    state = _load(ticket)
    if not state.clocks:
        return
    policy = state.policy
    if new in DONE_STATUSES:
        for clock in state.live():
            bt = state.business_time_of(clock)
            if new == Status.CLOSED or clock.target in (SlaTarget.ON_SITE, *STEP_TARGETS):
                _cancel(clock, bt, at)
            else:
                _achieve(clock, bt, at)
            state.touch(clock)
    elif old == Status.RESOLVED:  # reopened: the resolution clock counts again from now
        for clock in state.clocks:
            if clock.target == SlaTarget.RESOLUTION and clock.achieved_at is not None:
                clock.anchor_at = max(at, clock.anchor_at)
                clock.achieved_at = None
                if clock.state == ClockState.ACHIEVED:
                    clock.state = ClockState.RUNNING
                if _paused_by(policy, new):
                    clock.paused_since = at
                state.touch(clock)
    if new not in DONE_STATUSES:
        for clock in state.live():
            pause_now = _clock_paused_by(clock, policy, new)
            if pause_now and clock.paused_since is None:
                _pause(clock, state.business_time_of(clock), at)
                state.touch(clock)
            elif not pause_now and clock.paused_since is not None:
                _resume(clock, state.business_time_of(clock), at)
                state.touch(clock)
    _save(state, at)


def on_arrival(ticket: Ticket, at: datetime) -> None:
    """An engineer recorded arrival on site."""
    if ticket.sla_policy_id is None:
        return
    state = _load(ticket)
    assert state.business_time is not None
    for clock in state.live(SlaTarget.ON_SITE):
        _achieve(clock, state.business_time, at)
        state.touch(clock)
    _save(state, at)


@dataclass(frozen=True)
class ClockChange:
    target: str
    old_due: datetime | None
    new_due: datetime | None
    old_minutes: int | None
    new_minutes: int | None


def reapply(ticket: Ticket, at: datetime, *, rematch: bool) -> tuple[SlaPolicy | None, list[ClockChange]]:
    """Bring the clocks in line with the ticket's policy — matched again first when `rematch` (after a
    priority or kind change) — and its current targets, calendar and pause statuses. Time already used
    stays used; a new target starts at creation (first response, resolution) or now (on-site).
    Returns the policy before and the changes made; the caller records them in the event log."""
    old_policy = ticket.sla_policy if ticket.sla_policy_id else None
    state = _load(ticket)
    if rematch:
        state.policy = policy_for(ticket)
        ticket.sla_policy = state.policy
    policy = state.policy
    before = {(c.target, c.cycle): (c.due_at, c.target_minutes) for c in state.clocks}
    open_ticket = ticket.status not in DONE_STATUSES
    promised = promised_targets(policy, ticket) if policy is not None else {}
    if policy is not None and rematch:
        state.business_time = business_time_for(policy.calendar)
        state.levels = _policy_with_levels(policy.pk)[1]
    new_bt = state.business_time
    for clock in state.live():
        old_bt = state.business_time_of(clock)
        if clock.target in STEP_TARGETS:
            _reapply_step(state, clock, old_bt, at)
            continue
        if clock.target not in promised:
            _cancel(clock, old_bt, at)
            state.touch(clock)
            continue
        assert policy is not None
        assert new_bt is not None
        if clock.calendar_id != policy.calendar_id:
            if clock.paused_since is None:
                _fold(clock, old_bt, at)
            clock.calendar_id = policy.calendar_id
        clock.policy = policy
        clock.target_minutes = promised[clock.target]
        paused = _paused_by(policy, ticket.status)
        if paused and clock.paused_since is None:
            _pause(clock, new_bt, at)
        elif not paused and clock.paused_since is not None:
            _resume(clock, new_bt, at)
        state.touch(clock)
    if policy is not None and open_ticket:
        assert new_bt is not None
        have = {c.target for c in state.clocks}
        for target, minutes in promised.items():
            if target in have or target == SlaTarget.NEXT_RESPONSE:
                continue
            if target == SlaTarget.FIRST_RESPONSE and ticket.first_response_at is not None:
                continue
            started = at if target == SlaTarget.ON_SITE else ticket.created_at
            clock = _new_clock(state, target, minutes, started)
            if _paused_by(policy, ticket.status):
                _pause(clock, new_bt, at)
    _save(state, at)
    changes = []
    for clock in state.clocks:
        old_due, old_minutes = before.get((clock.target, clock.cycle), (None, None))
        new_minutes = clock.target_minutes if _is_live(clock) else None
        if (old_due, old_minutes) != (clock.due_at, new_minutes) and (
            clock in state.new or id(clock) in state.changed
        ):
            changes.append(ClockChange(clock.target, old_due, clock.due_at, old_minutes, new_minutes))
    return old_policy, changes


def _reapply_step(state: _TicketClocks, clock: SlaClock, old_bt: BusinessTime, at: datetime) -> None:
    """A step clock follows the policy's calendar (time used stays used) and its pause statuses; its
    target is the step's time standard, which no policy changes."""
    policy = state.policy
    if policy is not None and clock.calendar_id != policy.calendar_id:
        if clock.paused_since is None:
            _fold(clock, old_bt, at)
        clock.calendar_id = policy.calendar_id
    clock.policy = policy
    bt = state.business_time_of(clock)
    paused = _step_paused_by(policy, state.ticket.status)
    if paused and clock.paused_since is None:
        _pause(clock, bt, at)
    elif not paused and clock.paused_since is not None:
        _resume(clock, bt, at)
    state.touch(clock)


# ---------------------------------------------------------------------------------------------------
# SOP step clocks (tickets/steps.py decides when steps start and finish)


def steps_started(
    ticket: Ticket, steps: Sequence[tuple[str, int, int]], calendar_id: int, at: datetime
) -> list[SlaClock]:
    """Start one clock per (target, position, time standard in business minutes) — `sop_step`, or
    `handoff` for a back-office step — on the policy's calendar, or on `calendar_id` when the ticket has
    no policy; paused at once when the ticket waits. Returns the clocks (stored) in the order given."""
    state = _load(ticket)
    if state.policy is not None:
        calendar_id = state.policy.calendar_id
    started = [
        _new_clock(state, target, minutes, at, cycle=position, calendar_id=calendar_id)
        for target, position, minutes in steps
    ]
    for clock in started:
        if _step_paused_by(state.policy, ticket.status):
            _pause(clock, state.business_time_of(clock), at)
    _save(state, at)
    return started


def steps_revived(ticket: Ticket, clock_ids: Sequence[int], at: datetime) -> None:
    """Count again on the step clocks cancelled when the ticket was resolved (it was reopened): the time
    used before stays used, the time while resolved does not count."""
    state = _load(ticket)
    wanted = set(clock_ids)
    for clock in state.clocks:
        if clock.pk in wanted and clock.state == ClockState.CANCELLED and clock.achieved_at is None:
            clock.state = ClockState.RUNNING
            clock.anchor_at = max(at, clock.anchor_at)
            clock.paused_since = None
            if _step_paused_by(state.policy, ticket.status):
                _pause(clock, state.business_time_of(clock), at)
            state.touch(clock)
    _save(state, at)


def step_finished(ticket: Ticket, clock_id: int, at: datetime) -> SlaClock | None:
    """Stop a step's clock: achieved when within the time standard, breached otherwise."""
    state = _load(ticket)
    clock = next((c for c in state.clocks if c.pk == clock_id), None)
    if clock is None or not _is_live(clock):
        return clock
    _achieve(clock, state.business_time_of(clock), at)
    state.touch(clock)
    _save(state, at)
    return clock


# ---------------------------------------------------------------------------------------------------
# Bulk recounts after a calendar or policy change


@dataclass(frozen=True)
class Recount:
    """What a bulk recount did: clocks looked at, clocks whose due instant moved, tickets touched."""

    clocks: int
    moved: int
    tickets: int


NO_INSTANT = -1  # what `_micros_column` selects for NULL


def _micros_column(column: str) -> str:
    """The instant as integer microseconds since the epoch (exact; NO_INSTANT for NULL), so a million
    rows arrive as numbers straight into numpy."""
    if connection.vendor == "postgresql":
        micros = f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint"
    else:  # stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC
        micros = (
            f"CAST(strftime('%%s', {column}) AS INTEGER) * 1000000 "  # %% for Django's placeholder style
            f"+ CAST(substr({column} || '.000000', 21, 6) AS INTEGER)"
        )
    return f"COALESCE({micros}, {NO_INSTANT})"


def _seconds(micros: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Epoch seconds from `_micros_column` values, NaN for NULL."""
    result = micros.astype(np.float64) / 1e6
    result[micros == NO_INSTANT] = np.nan
    return result


def _target_code_column() -> str:
    """The clock's target as the small integer of _TARGET_CODES."""
    cases = " ".join(f"WHEN '{target}' THEN {code}" for target, code in _TARGET_CODES.items())
    return f"CASE target {cases} ELSE -1 END"


def _has_years_column() -> str:
    """Whether the stored deadline is provisional (uncovered_years not empty), as a selectable flag."""
    if connection.vendor == "postgresql":
        return "uncovered_years <> '[]'::jsonb"
    return "uncovered_years <> '[]'"


def _to_micros(epochs: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Round computed instants to whole microseconds (what the database stores)."""
    return np.round(epochs * 1e6) / 1e6


def _sqlite_instant(epochs: np.ndarray[Any, Any]) -> list[str]:
    micros = np.round(epochs * 1e6).astype("datetime64[us]")
    return [text.replace("T", " ") for text in np.datetime_as_string(micros, unit="us").tolist()]


def recompute_for_calendars(
    *, calendar_ids: Sequence[int], actor: User | None, at: datetime | None = None, reason: str = ""
) -> Recount:
    """Recount every running clock on these calendars (after a change to the calendars or to the holiday
    data they use), in the caller's transaction: new due instants and escalation times in one array
    call per calendar, written only where they moved, with one event on each ticket whose clock moved.
    Paused and finished clocks have nothing to recount."""
    global _last_recount
    now = at or timezone.now()
    total = Recount(0, 0, 0)
    for calendar in BusinessCalendar.objects.filter(pk__in=list(calendar_ids)):
        result = _recount_calendar(calendar, actor, now, reason)
        total = Recount(
            total.clocks + result.clocks, total.moved + result.moved, total.tickets + result.tickets
        )
    _last_recount = total
    return total


_last_recount: Recount | None = None


def last_recount() -> Recount | None:
    """What this process's latest calendar recount did (for commands and benchmarks to report)."""
    return _last_recount


def _recount_calendar(calendar: BusinessCalendar, actor: User | None, now: datetime, reason: str) -> Recount:
    """Recount one calendar's running clocks with array arithmetic; write only what moved."""
    record = SlaRecount(
        created_at=now, actor=actor, reason=reason, calendar=calendar, calendar_version=calendar.version
    )
    return _recount(calendar, record)


def _recount(
    calendar: BusinessCalendar,
    record: SlaRecount,
    *,
    policy_id: int | None = None,
    changed_tickets: Iterable[int] = (),
) -> Recount:
    """Recount the running clocks on `calendar` (only those of `policy_id` when given): new due
    instants, escalation times, breach states and provisional years, written where they changed; each
    ticket's most urgent due instant; `record` saved with the counts, as an event on each ticket whose
    due instant moved or that is in `changed_tickets`."""
    now = record.created_at
    scope = "" if policy_id is None else f" AND policy_id = {int(policy_id)}"
    sql = (
        f"SELECT id, ticket_id, {_micros_column('anchor_at')}, offset_minutes, target_minutes, "  # noqa: S608 (table names from the models)
        f"{_micros_column('due_at')}, {_micros_column('next_escalation_at')}, "
        # One integer for what the escalation, provisional and state logic need (fewer values to fetch):
        # (((policy + 1) * 8 + target code) * 2048 + escalated percent * 2 + has-provisional-years) * 2
        # + stored as breached.
        f"(((COALESCE(policy_id, -1) + 1) * 8 + {_target_code_column()}) * 2048 + escalated_percent * 2 "
        f"+ CASE WHEN {_has_years_column()} THEN 1 ELSE 0 END) * 2 "
        "+ CASE WHEN state = %s THEN 1 ELSE 0 END "
        f"FROM {SlaClock._meta.db_table} "
        "WHERE calendar_id = %s AND state IN (%s, %s) AND paused_since IS NULL AND achieved_at IS NULL"
        f"{scope}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ClockState.BREACHED, calendar.pk, ClockState.RUNNING, ClockState.BREACHED])
        # Straight from the cursor into one structured array: no list of a million tuples.
        table = np.fromiter(cursor.cursor, dtype=_RECOUNT_ROW)  # the DB-API cursor: no Python loop
    n = table.size
    forced = np.array(sorted(set(changed_tickets)), dtype=np.int64)
    if n == 0:
        return _record(record, Recount(0, 0, int(forced.size)), forced)
    business_time = business_time_for(calendar)  # compiled only when there are clocks to recount
    ids = table["id"]
    tickets = table["ticket"]
    anchors = _seconds(table["anchor"])
    offsets = table["offset"]
    targets = table["target"]
    old_due = _seconds(table["due"])
    old_next = _seconds(table["next"])
    stored_breached = (table["packed"] & 1).astype(np.bool_)
    packed = table["packed"] >> 1
    stored_flags = (packed & 1).astype(np.bool_)
    fired = (packed >> 1) & 1023
    codes = (packed >> 11) & 7
    policies = (packed >> 14) - 1

    # Due instants: clocks with time left get a new one; the others stay breached where they are.
    remaining = targets - offsets
    counting = remaining > 0
    # A clock that has used its whole target (a smaller target after a policy change) was due when it
    # last started counting at the latest.
    new_due = np.where(np.isfinite(old_due), np.minimum(old_due, anchors), anchors)
    new_due[counting] = _due_many(business_time, anchors[counting], remaining[counting])
    new_next = _next_escalations(business_time, policies, codes, fired, anchors, offsets, targets)
    years, years_changed = _provisional_years(business_time, ids, anchors, new_due, stored_flags)
    breached = np.isfinite(new_due) & (new_due <= now.timestamp())
    due_moved = ~np.isclose(new_due, old_due, rtol=0.0, atol=0.5, equal_nan=True)
    # A clock whose due instant moved into the future runs again. One that is now past due stays as it
    # is: the breach sweep marks it, with the breach in the ticket's history (and its escalations).
    # The state and the provisional years are written only where they change (few rows): leaving them
    # out of the bulk UPDATE spares the index on the state.
    unbreach = stored_breached & due_moved & np.isfinite(new_due) & ~breached
    full = years_changed | unbreach
    write = due_moved | ~np.isclose(new_next, old_next, rtol=0.0, atol=0.5, equal_nan=True) | full
    index = np.flatnonzero(write)
    if index.size == 0:
        return _record(record, Recount(n, 0, int(forced.size)), forced)
    states = np.where(stored_breached & ~unbreach, ClockState.BREACHED.value, ClockState.RUNNING.value)
    _write_clocks(ids[index], new_due[index], new_next[index], now)
    changed = np.flatnonzero(full)
    _write_states(ids[changed], states[changed], [years.get(int(i), []) for i in changed], now)

    # Each ticket's most urgent due instant: all of a ticket's running clocks share its policy's calendar,
    # so they are all here.
    # SOP step clocks are no promise to the customer: they take no part in it.
    promise = ~np.isin(codes, _STEP_CODES)
    order = np.argsort(tickets, kind="stable")
    sorted_tickets = tickets[order]
    starts = np.flatnonzero(np.r_[True, sorted_tickets[1:] != sorted_tickets[:-1]])
    new_min = np.fmin.reduceat(np.where(promise, new_due, np.nan)[order], starts)
    old_min = np.fmin.reduceat(np.where(promise, old_due, np.nan)[order], starts)
    ticket_ids = sorted_tickets[starts]
    min_moved = ~np.isclose(new_min, old_min, rtol=0.0, atol=0.5, equal_nan=True)
    _write_ticket_due(ticket_ids[min_moved], new_min[min_moved])

    touched = ticket_ids[np.logical_or.reduceat(due_moved[order], starts)]
    if forced.size:
        touched = np.union1d(touched, forced)
    return _record(record, Recount(n, int(np.count_nonzero(due_moved)), int(touched.size)), touched)


def _due_many(
    business_time: BusinessTime, starts: np.ndarray[Any, Any], minutes: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    if starts.size == 0:
        return starts.copy()
    try:
        return _to_micros(business_time.due_many(starts, minutes * 60.0))
    except NoWorkingTime:  # no working hours at all: never due
        return np.full(starts.size, np.nan)
    except BusinessTimeError:
        # Some answer lies past the supported years: halve until those clocks are found (never due);
        # the others keep their due instants.
        if starts.size == 1:
            return np.full(1, np.nan)
        half = starts.size // 2
        return np.concatenate(
            (
                _due_many(business_time, starts[:half], minutes[:half]),
                _due_many(business_time, starts[half:], minutes[half:]),
            )
        )


def _next_escalations(
    business_time: BusinessTime,
    policies: np.ndarray[Any, Any],
    codes: np.ndarray[Any, Any],
    fired: np.ndarray[Any, Any],
    anchors: np.ndarray[Any, Any],
    offsets: np.ndarray[Any, Any],
    targets: np.ndarray[Any, Any],
) -> np.ndarray[Any, Any]:
    """When each clock reaches its next escalation level (NaN: no level left)."""
    n = anchors.size
    result = np.full(n, np.nan)
    levels = _levels_by_target({int(p) for p in np.unique(policies) if p >= 0})
    if not levels:
        return result
    next_percent = np.full(n, np.nan)
    for (policy_id, target), percents in levels.items():
        group = (policies == policy_id) & (codes == _TARGET_CODES.get(target, -2))
        if not group.any():
            continue
        for percent in sorted(percents, reverse=True):  # the smallest level above the one fired wins
            next_percent[group & (fired < percent)] = percent
    has_next = np.isfinite(next_percent)
    left = np.where(has_next, targets * next_percent / 100.0 - offsets, 0.0)
    result[has_next] = anchors[has_next]  # already past: due now
    ahead = has_next & (left > 0)
    result[ahead] = _due_many(business_time, anchors[ahead], left[ahead])
    return result


def _provisional_years(
    business_time: BusinessTime,
    ids: np.ndarray[Any, Any],
    anchors: np.ndarray[Any, Any],
    dues: np.ndarray[Any, Any],
    stored_flag: np.ndarray[Any, Any],
) -> tuple[dict[int, list[int]], np.ndarray[Any, Any]]:
    """The years without holiday data of each clock that has any (by position), and whether they differ
    from what is stored."""
    flagged = np.zeros(anchors.size, dtype=np.bool_)
    finite = np.isfinite(dues)
    if finite.any():
        flagged[finite] = business_time.uncovered_many(anchors[finite], dues[finite])
    years: dict[int, list[int]] = {}
    changed = flagged != stored_flag
    either = [int(k) for k in np.flatnonzero(flagged | stored_flag)]
    if not either:
        return years, changed
    stored = dict(
        SlaClock.objects.filter(pk__in=[int(ids[i]) for i in either if stored_flag[i]]).values_list(
            "pk", "uncovered_years"
        )
    )
    for i in either:
        if flagged[i]:
            years[i] = list(
                business_time.uncovered_years(
                    datetime.fromtimestamp(float(anchors[i]), UTC),
                    datetime.fromtimestamp(float(dues[i]), UTC),
                )
            )
        changed[i] = years.get(i, []) != list(stored.get(int(ids[i])) or [])
    return years, changed


def _instants(epochs: np.ndarray[Any, Any]) -> list[Any]:
    """Values for the database, None for NaN: epoch seconds on PostgreSQL (`to_timestamp`), integer
    microseconds on SQLite (`_sqlite_datetime` turns them into Django's stored text inside SQLite)."""
    finite = np.isfinite(epochs)
    if connection.vendor == "postgresql":
        return [float(x) if ok else None for x, ok in zip(epochs.tolist(), finite.tolist(), strict=True)]
    micros = np.round(np.where(finite, epochs, 0.0) * 1e6).astype(np.int64).tolist()
    return [m if ok else None for m, ok in zip(micros, finite.tolist(), strict=True)]


def _sqlite_datetime(micros: str) -> str:
    """SQL turning integer microseconds since the epoch into 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), the
    text Django stores on SQLite. (%% because Django's placeholders are %s.)"""
    return (
        f"CASE WHEN {micros} IS NULL THEN NULL ELSE "
        f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', {micros} / 1000000, 'unixepoch') || '.' || "
        f"substr('000000' || ({micros} %% 1000000), -6, 6) END"
    )


def _write_clocks(
    ids: np.ndarray[Any, Any], dues: np.ndarray[Any, Any], nexts: np.ndarray[Any, Any], now: datetime
) -> None:
    """New due instants and escalation times, set-wise."""
    if ids.size == 0:
        return
    table = SlaClock._meta.db_table
    due_values, next_values, id_values = _instants(dues), _instants(nexts), ids.tolist()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for lo in range(0, len(id_values), BULK_BATCH):
                hi = lo + BULK_BATCH
                cursor.execute(
                    f"UPDATE {table} AS c SET due_at = to_timestamp(v.due), "  # noqa: S608 (table name from the model)
                    "next_escalation_at = to_timestamp(v.nxt), updated_at = %s "
                    "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::float8[]) AS due, "
                    "unnest(%s::float8[]) AS nxt) AS v WHERE c.id = v.id AND c.paused_since IS NULL "
                    "AND c.achieved_at IS NULL",
                    [now, id_values[lo:hi], due_values[lo:hi], next_values[lo:hi]],
                )
        else:
            # Stage the new values in a temporary table and update in one statement (SQLite ≥ 3.33).
            _sqlite_stage(
                cursor,
                "sla_recount",
                "id INTEGER PRIMARY KEY, due INTEGER, nxt INTEGER",
                list(zip(id_values, due_values, next_values, strict=True)),
            )
            cursor.execute(
                f"UPDATE {table} SET due_at = {_sqlite_datetime('r.due')}, "  # noqa: S608 (table name from the model)
                f"next_escalation_at = {_sqlite_datetime('r.nxt')}, updated_at = %s "
                f"FROM temp.sla_recount AS r WHERE {table}.id = r.id AND {table}.paused_since IS NULL "
                f"AND {table}.achieved_at IS NULL",
                [_sqlite_instant(np.array([now.timestamp()]))[0]],
            )
            cursor.execute("DROP TABLE temp.sla_recount")


def _write_states(
    ids: np.ndarray[Any, Any], states: np.ndarray[Any, Any], years: list[list[int]], now: datetime
) -> None:
    """States and provisional years of the clocks whose breach or provisional mark changed (usually
    few), set-wise: one UPDATE per distinct (state, years) and chunk of ids."""
    groups: dict[tuple[str, tuple[int, ...]], list[int]] = defaultdict(list)
    for pk, state, uncovered in zip(ids.tolist(), states.tolist(), years, strict=True):
        groups[(state, tuple(uncovered))].append(pk)
    for (state, year_key), pks in groups.items():
        for lo in range(0, len(pks), STATE_CHUNK):
            SlaClock.objects.filter(
                pk__in=pks[lo : lo + STATE_CHUNK], paused_since__isnull=True, achieved_at__isnull=True
            ).update(state=state, uncovered_years=list(year_key), updated_at=now)


def _sqlite_stage(cursor: Any, name: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")
    cursor.execute(f"CREATE TEMP TABLE {name} ({columns})")
    marks = ", ".join(["%s"] * len(rows[0])) if rows else ""
    if rows:
        cursor.executemany(f"INSERT INTO temp.{name} VALUES ({marks})", rows)  # noqa: S608 (our own names)


def _write_ticket_due(ticket_ids: np.ndarray[Any, Any], dues: np.ndarray[Any, Any]) -> None:
    if ticket_ids.size == 0:
        return
    table = Ticket._meta.db_table
    values, id_values = _instants(dues), ticket_ids.tolist()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for lo in range(0, len(id_values), BULK_BATCH):
                hi = lo + BULK_BATCH
                cursor.execute(
                    f"UPDATE {table} AS t SET sla_due_at = to_timestamp(v.due) "  # noqa: S608 (table name from the model)
                    "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::float8[]) AS due) AS v "
                    "WHERE t.id = v.id",
                    [id_values[lo:hi], values[lo:hi]],
                )
        else:
            _sqlite_stage(
                cursor,
                "sla_ticket_due",
                "id INTEGER PRIMARY KEY, due INTEGER",
                list(zip(id_values, values, strict=True)),
            )
            cursor.execute(
                f"UPDATE {table} SET sla_due_at = {_sqlite_datetime('r.due')} "  # noqa: S608 (table name from the model)
                f"FROM temp.sla_ticket_due AS r WHERE {table}.id = r.id",
                [],
            )
            cursor.execute("DROP TABLE temp.sla_ticket_due")


def _record(record: SlaRecount, result: Recount, ticket_ids: np.ndarray[Any, Any]) -> Recount:
    """Save the recount with its counts and link it to each ticket it touched (its event there): one
    row of two integers per ticket, inserted set-wise. A change that found no running clock and touched
    no ticket leaves no record."""
    if result.clocks == 0 and ticket_ids.size == 0:
        return result
    record.clocks, record.moved, record.tickets = result.clocks, result.moved, result.tickets
    record.save()
    if ticket_ids.size == 0:
        return result
    table = SlaRecountTicket._meta.db_table
    id_values = ticket_ids.tolist()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for lo in range(0, len(id_values), BULK_BATCH):
                cursor.execute(
                    f"INSERT INTO {table} (ticket_id, recount_id) SELECT unnest(%s::bigint[]), %s",
                    [id_values[lo : lo + BULK_BATCH], record.pk],
                )
        else:
            # One JSON array of integers, unpacked inside SQLite: no Python loop over the rows.
            cursor.execute(
                f"INSERT INTO {table} (ticket_id, recount_id) SELECT value, %s FROM json_each(%s)",  # noqa: S608 (table name from the model)
                [record.pk, "[" + ",".join(map(str, id_values)) + "]"],
            )
    return result


def recompute_for_policies(
    *, policy_ids: Sequence[int], actor: User | None, at: datetime | None = None, reason: str = ""
) -> Recount:
    """Re-apply changed policies to the open tickets that use them (targets, calendar, pause statuses,
    escalation levels), in the caller's transaction, with an event on each ticket whose clocks changed.
    Tickets keep the policy they were given; a policy's conditions decide only new matches.

    Target, calendar and escalation changes are applied to all clocks at once (array arithmetic and
    set-wise updates, like `recompute_for_calendars`); tickets whose clocks must start, stop, pause or
    resume (a target newly promised or withdrawn, a pause status added or removed) are re-applied one
    by one."""
    now = at or timezone.now()
    forget_cached_policies()
    total = Recount(0, 0, 0)
    for policy in SlaPolicy.objects.filter(pk__in=list(policy_ids)).select_related("calendar"):
        result = _recount_policy(policy, actor, now, reason)
        total = Recount(
            total.clocks + result.clocks, total.moved + result.moved, total.tickets + result.tickets
        )
    return total


def _recount_policy(policy: SlaPolicy, actor: User | None, now: datetime, reason: str) -> Recount:
    open_tickets = Ticket.objects.filter(sla_policy_id=policy.pk).exclude(status__in=DONE_STATUSES)
    live = SlaClock.objects.filter(
        policy_id=policy.pk, achieved_at__isnull=True, ticket__in=open_tickets
    ).exclude(state=ClockState.CANCELLED)
    promised = {target: minutes for target in SlaTarget.values if (minutes := policy.target_minutes(target))}
    pause = list(policy.pause_statuses or [])
    # Tickets whose clocks start, stop, pause or resume: one by one.
    one_by_one: set[int] = set()
    one_by_one.update(live.exclude(target__in=[*promised, *STEP_TARGETS]).values_list("ticket_id", flat=True))
    # Tickets whose service type sets its own minutes for a target.
    overrides = Q()
    for target in SlaTarget.values:
        overrides |= Q(**{f"service_type__{target}_minutes__isnull": False})
    one_by_one.update(open_tickets.filter(overrides).values_list("pk", flat=True))
    one_by_one.update(
        live.filter(paused_since__isnull=True, ticket__status__in=pause).values_list("ticket_id", flat=True)
    )
    one_by_one.update(
        live.filter(paused_since__isnull=False)
        .exclude(ticket__status__in=pause)
        .values_list("ticket_id", flat=True)
    )
    for target in promised:
        if target == SlaTarget.NEXT_RESPONSE:
            continue
        lacking = open_tickets.exclude(clocks__target=target)
        if target == SlaTarget.FIRST_RESPONSE:
            lacking = lacking.filter(first_response_at__isnull=True)
        if target == SlaTarget.ON_SITE:
            lacking = lacking.filter(kind=Kind.FIELD_VISIT, on_site_at__isnull=True)
        one_by_one.update(lacking.values_list("pk", flat=True))
    for ticket in open_tickets.filter(pk__in=one_by_one).select_related(
        "sla_policy__calendar", "organisation", "service_type"
    ):
        _, changes = reapply(ticket, now, rematch=False)
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=ticket.sla_due_at)
        if changes:
            TicketEvent.objects.create(
                ticket=ticket,
                actor=actor,
                kind=EventKind.SLA,
                field="sla",
                data={"reason": reason, "policy": policy.pk, "clocks": _change_data(changes)},
                created_at=now,
            )
    rest = live.exclude(ticket_id__in=one_by_one)
    # A new calendar: running clocks keep the time they used on the old one and count on the new one
    # from now; paused clocks resume on the new one.
    moved_calendar = _move_to_calendar(rest, policy, now)
    # New targets, set-wise; those tickets get an event even if no due instant moves.
    retargeted: set[int] = set()
    for target, minutes in promised.items():
        changing = rest.filter(target=target).exclude(target_minutes=minutes)  # never a step: not promised
        retargeted.update(changing.values_list("ticket_id", flat=True))
        changing.update(target_minutes=minutes, updated_at=now)
    # Paused clocks whose time used now exceeds a smaller target are breached.
    rest.filter(
        paused_since__isnull=False, state=ClockState.PAUSED, offset_minutes__gte=F("target_minutes")
    ).update(state=ClockState.BREACHED, due_at=now, updated_at=now)
    record = SlaRecount(
        created_at=now,
        actor=actor,
        reason=reason,
        calendar=policy.calendar,
        calendar_version=policy.calendar.version,
        policy=policy,
        policy_version=policy.version,
    )
    result = _recount(
        policy.calendar, record, policy_id=policy.pk, changed_tickets=retargeted | moved_calendar
    )
    return Recount(result.clocks, result.moved, result.tickets + len(one_by_one))


def reapply_service_type(*, service_type_id: int, actor: User | None, at: datetime, reason: str) -> int:
    """Re-apply the SLA targets to the open tickets of a service type whose own targets changed, each
    with an event when its clocks changed (caller's transaction). Returns how many tickets changed."""
    changed = 0
    for ticket in (
        Ticket.objects.filter(service_type_id=service_type_id, sla_policy__isnull=False)
        .exclude(status__in=DONE_STATUSES)
        .select_related("sla_policy__calendar", "organisation", "service_type")
    ):
        _, changes = reapply(ticket, at, rematch=False)
        if not changes:
            continue
        changed += 1
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=ticket.sla_due_at)
        TicketEvent.objects.create(
            ticket=ticket,
            actor=actor,
            kind=EventKind.SLA,
            field="sla",
            data={"reason": reason, "service_type": service_type_id, "clocks": _change_data(changes)},
            created_at=at,
        )
    return changed


def _move_to_calendar(clocks: Any, policy: SlaPolicy, now: datetime) -> set[int]:
    """Fold the time used so far on the old calendar into the offset and switch to the policy's calendar.
    Returns the tickets affected."""
    others = clocks.exclude(calendar_id=policy.calendar_id)
    tickets = set(others.values_list("ticket_id", flat=True))
    if not tickets:
        return tickets
    others.filter(paused_since__isnull=False).update(calendar_id=policy.calendar_id, updated_at=now)
    for calendar in BusinessCalendar.objects.filter(
        pk__in=others.values_list("calendar_id", flat=True).distinct()
    ):
        business_time = business_time_for(calendar)
        rows = list(
            others.filter(calendar_id=calendar.pk, paused_since__isnull=True).values_list(
                "pk", "anchor_at", "offset_minutes"
            )
        )
        changed = []
        for pk, anchor, offset in rows:
            used = offset + (business_time.elapsed(anchor, now) if now > anchor else 0.0)
            changed.append(
                SlaClock(
                    pk=pk,
                    anchor_at=max(anchor, now),
                    offset_minutes=used,
                    calendar_id=policy.calendar_id,
                    updated_at=now,
                )
            )
        SlaClock.objects.bulk_update(
            changed, ["anchor_at", "offset_minutes", "calendar", "updated_at"], batch_size=5000
        )
    return tickets


def _change_data(changes: Sequence[ClockChange]) -> list[dict[str, Any]]:
    return [
        {
            "target": change.target,
            "old_due": change.old_due.isoformat() if change.old_due else None,
            "new_due": change.new_due.isoformat() if change.new_due else None,
            "old_minutes": change.old_minutes,
            "new_minutes": change.new_minutes,
        }
        for change in changes
    ]


def change_event_data(changes: Sequence[ClockChange], **extra: Any) -> dict[str, Any]:
    return {**extra, "clocks": _change_data(changes)}


__all__ = [
    "ClockChange",
    "Recount",
    "contract_for",
    "forget_cached_policies",
    "most_urgent_due",
    "on_arrival",
    "on_public_reply",
    "on_status",
    "plan",
    "policy_for",
    "promised_targets",
    "reapply",
    "recompute_for_calendars",
    "recompute_for_policies",
    "schedule",
    "store",
    "used_minutes",
]
