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

import math
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
from pledge.lib.businesstime import (
    EVERYTHING,
    LAST_YEAR,
    BusinessTime,
    BusinessTimeError,
    CalendarSpec,
    ChangedDays,
    NoWorkingTime,
    changed_days,
    spec_from_data,
    spec_to_data,
    wall_to_epoch,
)
from pledge.standards.choices import STEP_TARGETS, ClockTarget, SlaTarget
from pledge.standards.models import BusinessCalendar, EscalationLevel, SlaPolicy, default_pause_statuses
from pledge.standards.selectors import business_time_for, calendar_spec_for
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
    "due_pos",
    "breached_due_at",
    "achieved_at",
    "state",
    "uncovered_years",
    "escalated_percent",
    "escalation_pos",
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
        ("due", np.float64),
        ("next", np.float64),
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


def _position(business_time: BusinessTime, at: datetime) -> float | None:
    """`at` as a position on the calendar's timeline (None beyond the supported years)."""
    try:
        return business_time.position(at)
    except BusinessTimeError:
        return None


def schedule(clock: SlaClock, business_time: BusinessTime, levels: Sequence[int], at: datetime) -> None:
    """Set the due position, its provisional years, the state (running or breached) and the next
    escalation position of a running clock; clear them for a paused or finished one (a breach is kept).

    Positions: `position(anchor_at) + 60 * minutes left` on the clock's calendar (see SlaClock). A clock
    whose anchor lies beyond the supported years is never due; one whose due instant does, or on a
    calendar without working hours, keeps its position and shows no due instant."""
    clock.use_business_time(business_time)
    finished = clock.achieved_at is not None or clock.state == ClockState.CANCELLED
    if finished or clock.paused_since is not None:
        if clock.state != ClockState.BREACHED:
            clock.due_pos = None
            clock.uncovered_years = []
        elif clock.breached_due_at is None:
            clock.breached_due_at = clock.due_at  # kept as it is now (see SlaClock)
        clock.escalation_pos = None
        if not finished and clock.state == ClockState.RUNNING:
            clock.state = ClockState.PAUSED
        return
    if clock.breached_due_at is not None:  # counting again: the kept instant on today's calendar
        clock.due_pos = _position(business_time, clock.breached_due_at)
        clock.breached_due_at = None
    anchor = _position(business_time, clock.anchor_at)
    remaining = clock.target_minutes - clock.offset_minutes
    if remaining > 0:
        clock.due_pos = None if anchor is None else anchor + remaining * 60.0
        due = clock.due_at
        clock.uncovered_years = (
            [] if due is None else list(business_time.uncovered_years(clock.anchor_at, due))
        )
    elif clock.due_at is None or clock.due_at > at:
        # The target shrank below the time already used (a policy change): breached now.
        clock.due_pos, clock.uncovered_years = _position(business_time, at), []
    due_at = clock.due_at
    clock.state = ClockState.BREACHED if due_at is not None and due_at <= at else ClockState.RUNNING
    clock.escalation_pos = None
    for percent in levels:
        if percent > clock.escalated_percent:
            # A level already passed is due at the anchor (fires at once).
            left = max(clock.target_minutes * percent / 100 - clock.offset_minutes, 0.0)
            clock.escalation_pos = None if anchor is None else anchor + left * 60.0
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
    clock.use_business_time(business_time)
    if not met and (clock.due_at is None or clock.due_at > at):
        clock.due_pos = _position(business_time, at)
        clock.breached_due_at = at


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


def _current_business_time(calendar_id: int) -> BusinessTime:
    """The calendar as it is now, compiled (cached per process by version). Read afresh, not from the
    policy cache: a deadline counted on a calendar older than the one the recount last counted on would
    stand for another instant."""
    return business_time_for(BusinessCalendar.objects.get(pk=calendar_id))


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
    business_time = _current_business_time(policy.calendar_id) if policy is not None else None
    state = _TicketClocks(ticket, policy, business_time, levels, clocks)
    for clock in clocks:
        if clock.due_pos is not None or clock.escalation_pos is not None:
            clock.use_business_time(state.business_time_of(clock))
    return state


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
    state.ticket.set_sla_due(most_urgent_clock(state.clocks))


def most_urgent_clock(clocks: Iterable[SlaClock]) -> SlaClock | None:
    """The running promise due first (SOP steps are not promises to the customer); None when none has a
    due instant."""
    dues = [
        (due, c.pk or 0, c)
        for c in clocks
        if _is_live(c)
        and c.paused_since is None
        and c.target not in STEP_TARGETS
        and (due := c.due_at) is not None
    ]
    return min(dues, key=lambda item: (item[0], item[1]))[2] if dues else None


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
    ticket.set_sla_due(None)
    if policy is None:
        return Plan([])
    state = _TicketClocks(
        ticket, policy, _current_business_time(policy.calendar_id), _active_policies().levels, []
    )
    assert state.business_time is not None
    for target, minutes in promised_targets(policy, ticket).items():
        if target != SlaTarget.NEXT_RESPONSE:
            clock = _new_clock(state, target, minutes, at)
            if _paused_by(policy, ticket.status):
                _pause(clock, state.business_time, at)
    for clock in state.new:
        schedule(clock, state.business_time, state.levels_for(clock), at)
    ticket.set_sla_due(most_urgent_clock(state.new))
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
                _follow_policy_calendar(state, clock)
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
        state.business_time = _current_business_time(policy.calendar_id)
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
        if clock.calendar_id != policy.calendar_id and clock.paused_since is None:
            _fold(clock, old_bt, at)
        _follow_policy_calendar(state, clock)
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


def _follow_policy_calendar(state: _TicketClocks, clock: SlaClock) -> None:
    """Move the clock to the policy's calendar if it is on another (the policy changed, or a reopened
    ticket's clock counts again): the time it used stays used (the caller folds a running clock's first)
    and its deadlines keep their instants."""
    if state.policy is None or state.business_time is None or clock.calendar_id == state.policy.calendar_id:
        return
    _move_positions(clock, state.business_time_of(clock), state.business_time)
    clock.calendar_id = state.policy.calendar_id
    clock.use_business_time(state.business_time)


def _reapply_step(state: _TicketClocks, clock: SlaClock, old_bt: BusinessTime, at: datetime) -> None:
    """A step clock follows the policy's calendar (time used stays used) and its pause statuses; its
    target is the step's time standard, which no policy changes."""
    policy = state.policy
    if policy is not None and clock.calendar_id != policy.calendar_id and clock.paused_since is None:
        _fold(clock, old_bt, at)
    _follow_policy_calendar(state, clock)
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
            _follow_policy_calendar(state, clock)
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


def recompute_for_calendars(
    *, calendar_ids: Sequence[int], actor: User | None, at: datetime | None = None, reason: str = ""
) -> Recount:
    """Recount every running clock on these calendars (after a change to the calendars or to the holiday
    data they use), in the caller's transaction, with one event on each ticket whose due instant moved.

    Deadlines are stored as positions on the calendar's timeline, so a change to days after a clock's
    anchor moves its due instant without a write: only the clocks counted from after the first changed
    day get new positions (one array call per calendar). A change of time zone or weekly hours recounts
    every clock. Paused and finished clocks have nothing to recount."""
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


# Clocks a calendar recount looks at (state values are our own constants, inlined so that SQLite can use
# the partial indexes).
LIVE_STATES_SQL = f"state IN ('{ClockState.RUNNING.value}', '{ClockState.BREACHED.value}')"
LIVE_SQL = f"{LIVE_STATES_SQL} AND paused_since IS NULL AND achieved_at IS NULL"
# The two parts of LIVE_SQL, each matching a partial index on (calendar, due position): a running clock is
# never paused nor achieved (pausing makes it paused, achieving achieved or breached), so `state =
# 'running'` alone reads sla_clock_running_due_idx without visiting the table; breached clocks go through
# sla_clock_breached_due_idx.
RUNNING_SQL = f"state = '{ClockState.RUNNING.value}'"
BREACHED_LIVE_SQL = f"state = '{ClockState.BREACHED.value}' AND paused_since IS NULL AND achieved_at IS NULL"


def _recount_calendar(calendar: BusinessCalendar, actor: User | None, now: datetime, reason: str) -> Recount:
    """Recount one calendar's running clocks; record what the calendar's deadlines now count on."""
    record = SlaRecount(
        created_at=now, actor=actor, reason=reason, calendar=calendar, calendar_version=calendar.version
    )
    live = _count_live(calendar)
    if live == 0:
        # Nothing to recount: record the days new deadlines will count on (without compiling them).
        _counted_on(calendar, calendar_spec_for(calendar))
        return Recount(0, 0, 0)
    business_time = business_time_for(calendar)
    counted = spec_from_data(calendar.counted_spec)
    change = changed_days(counted, business_time.spec)
    if change == EVERYTHING:
        old = None if counted is None else BusinessTime(counted)
        result = _record(
            record, *_recount(calendar, business_time, now, old_business_time=old, unknown_old=old is None)
        )
    elif change is None and (counted is None or counted.covered_years == business_time.spec.covered_years):
        result = _record(record, Recount(live, 0, 0), np.zeros(0, dtype=np.int64))
    else:
        assert counted is not None
        result = _recount_changed_days(
            calendar,
            record,
            business_time,
            counted,
            change if isinstance(change, ChangedDays) else None,
            live,
        )
    _counted_on(calendar, business_time.spec)
    return result


def _counted_on(calendar: BusinessCalendar, spec: CalendarSpec) -> None:
    data = spec_to_data(spec)
    if calendar.counted_spec != data:
        BusinessCalendar.objects.filter(pk=calendar.pk).update(counted_spec=data)
        calendar.counted_spec = data


def _sql_instant(moment: datetime) -> Any:
    """An instant as a parameter of raw SQL, as the ORM would store it (naive UTC text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _count_live(calendar: BusinessCalendar, where: str = "", args: Sequence[Any] = ()) -> int:
    """The running and breached unfinished clocks of the calendar (that also meet `where`), counted from the
    indexes."""
    table = SlaClock._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {table} WHERE calendar_id = %s AND {RUNNING_SQL}{where}) "  # noqa: S608 (table name from the model)
            f"+ (SELECT COUNT(*) FROM {table} WHERE calendar_id = %s AND {BREACHED_LIVE_SQL}{where})",
            [calendar.pk, *args, calendar.pk, *args],
        )
        return int(cursor.fetchone()[0])


def _local_midnight(business_time: BusinessTime, day: date) -> datetime:
    return datetime.fromtimestamp(
        wall_to_epoch(business_time.zone, datetime(day.year, day.month, day.day)), UTC
    )


def _recount_changed_days(
    calendar: BusinessCalendar,
    record: SlaRecount,
    business_time: BusinessTime,
    counted: CalendarSpec,
    change: ChangedDays | None,
    live: int,
) -> Recount:
    """A change to some days (holidays, make-up days, holiday data) of a calendar whose deadlines were
    counted on `counted`. Positions before the first changed day are the same on both, so:
    - clocks counted from that day on (anchored after its midnight; usually none, as it lies ahead)
      are recounted from their anchors like after any other change;
    - the other clocks keep their positions; those due after the first changed day (and before the end
      of the last, when the change adds as much working time as it removes) have a new due instant:
      their tickets get the recount's event, set-wise in SQL, and a breached one due again later runs
      again;
    - deadlines whose year (and so whose provisional mark) may have changed are checked one by one: those
      near a new year's first position, and, when the holiday data covers other years, those due from
      the first such year on."""
    now = record.created_at
    old_business_time = BusinessTime(counted)
    if change is None:  # only the years with holiday data changed
        since: datetime | None = None
        low, high = math.inf, math.inf
    else:
        since = _local_midnight(business_time, change.first)
        low = business_time.position(since)
        high = (
            business_time.position(_local_midnight(business_time, change.realigned))
            if change.realigned is not None
            else math.inf
        )
    anchored, touched_rewritten = Recount(0, 0, 0), np.zeros(0, dtype=np.int64)
    if since is not None:
        anchored, touched_rewritten = _recount(
            calendar, business_time, now, old_business_time=old_business_time, since=since
        )
    table = SlaClock._meta.db_table
    # (On SQLite the unary plus keeps the planner on the due-position indexes: the anchor's index would
    # lead it to read every clock anchored before the change, which is all of them.)
    anchor = "+anchor_at" if connection.vendor == "sqlite" else "anchor_at"
    before = "" if since is None else f" AND {anchor} < %s"
    before_args: list[Any] = [] if since is None else [_sql_instant(since)]
    moved_sql, moved_args = _due_between(low, high)
    # Breached clocks now due later than now run again (the sweep breaches them again when due).
    if math.isfinite(low):
        for clock in SlaClock.objects.raw(
            f"SELECT * FROM {table} WHERE calendar_id = %s AND {BREACHED_LIVE_SQL}{moved_sql}{before}",  # noqa: S608 (table name from the model)
            [calendar.pk, *moved_args, *before_args],
        ):
            clock.use_business_time(business_time)
            due = clock.due_at
            if due is not None and due > now:
                clock.state = ClockState.RUNNING
                clock.updated_at = now
                clock.save(update_fields=["state", "updated_at"])
    _recheck_provisional(calendar, business_time, old_business_time, counted, before, before_args, now)
    moved = 0
    if math.isfinite(low):
        # Counted from the indexes: those due in the range, less those recounted from their anchors above.
        moved = _count_live(calendar, moved_sql, moved_args)
        if since is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {table} WHERE calendar_id = %s AND {LIVE_SQL} "  # noqa: S608 (table name from the model)
                    f"AND anchor_at >= %s{moved_sql}",
                    [calendar.pk, _sql_instant(since), *moved_args],
                )
                moved -= int(cursor.fetchone()[0])
    record.clocks, record.moved = live, moved + anchored.moved
    record.save()
    tickets = 0
    if math.isfinite(low):
        tickets += _link_moved(record, calendar, moved_sql + before, [*moved_args, *before_args])
    tickets += _link_tickets(record, touched_rewritten)
    record.tickets = tickets
    SlaRecount.objects.filter(pk=record.pk).update(tickets=tickets)
    return Recount(record.clocks, record.moved, tickets)


def _recheck_provisional(
    calendar: BusinessCalendar,
    business_time: BusinessTime,
    old_business_time: BusinessTime,
    counted: CalendarSpec,
    before: str,
    before_args: list[Any],
    now: datetime,
) -> None:
    """Provisional marks of clocks that kept their positions but whose due year, or the holiday data of
    whose years, may have changed."""
    spec = business_time.spec
    if spec.covered_years is None and counted.covered_years is None:
        return
    ranges: list[tuple[float, float]] = []
    first_year = timezone.localtime(now, business_time.zone).year
    changed_years = (spec.covered_years or frozenset()) ^ (counted.covered_years or frozenset())
    if changed_years:
        start = min(changed_years)
        if start >= first_year:
            ranges.append(
                (business_time.position(_local_midnight(business_time, date(start, 1, 1))), math.inf)
            )
        else:
            ranges.append((-math.inf, math.inf))
    # New years' first instants over the next ten years (one array call each: one compiled window).
    edges = np.array(
        [
            wall_to_epoch(business_time.zone, datetime(year, 1, 1))
            for year in range(first_year + 1, min(first_year + 11, LAST_YEAR + 1))
        ],
        dtype=np.float64,
    )
    for new_edge, old_edge in zip(
        business_time.positions_many(edges).tolist(),
        old_business_time.positions_many(edges).tolist(),
        strict=True,
    ):
        if new_edge != old_edge:
            ranges.append((min(new_edge, old_edge), max(new_edge, old_edge)))
    if not ranges:
        return
    # One index range per range and kind of clock.
    table = SlaClock._meta.db_table
    parts: list[str] = []
    values: list[Any] = []
    for lo, hi in ranges:
        bounds, bound_values = _due_between(lo, hi, from_low=True)
        for kind in (RUNNING_SQL, BREACHED_LIVE_SQL):
            parts.append(
                f"SELECT * FROM {table} WHERE calendar_id = %s AND {kind} "  # noqa: S608 (table name from the model)
                f"{bounds}{before}"
            )
            values += [calendar.pk, *bound_values, *before_args]
    changed: dict[tuple[str, tuple[int, ...]], list[int]] = defaultdict(list)
    seen: set[int] = set()
    for clock in SlaClock.objects.raw(" UNION ALL ".join(parts), values):
        if clock.pk in seen:
            continue
        seen.add(clock.pk)
        clock.use_business_time(business_time)
        due = clock.due_at
        years = [] if due is None else list(business_time.uncovered_years(clock.anchor_at, due))
        if years != list(clock.uncovered_years or []):
            changed[(clock.state, tuple(years))].append(clock.pk)
    for (state, years_key), pks in changed.items():
        _write_states(
            np.array(pks, dtype=np.int64), np.array([state] * len(pks)), [list(years_key)] * len(pks), now
        )


def _due_between(low: float, high: float, *, from_low: bool = False) -> tuple[str, list[Any]]:
    """SQL for a due position in (low, high] ([low, high] `from_low`), infinite bounds left out."""
    sql, args = "", []
    if math.isfinite(low):
        sql += " AND due_pos >= %s" if from_low else " AND due_pos > %s"
        args.append(low)
    if math.isfinite(high):
        sql += " AND due_pos <= %s"
        args.append(high)
    return sql, args


def _link_moved(record: SlaRecount, calendar: BusinessCalendar, where: str, args: list[Any]) -> int:
    """Link the (new) recount to every ticket with a live clock that meets `where` (its due instant
    moved), set-wise in SQL: no row passes through Python. Returns how many it linked."""
    table = SlaRecountTicket._meta.db_table
    clocks = SlaClock._meta.db_table
    # UNION (not UNION ALL): a ticket with several such clocks is linked once.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (ticket_id, recount_id) "  # noqa: S608 (table names from the models)
            f"SELECT ticket_id, %s FROM {clocks} WHERE calendar_id = %s AND {RUNNING_SQL}{where} "
            f"UNION SELECT ticket_id, %s FROM {clocks} "
            f"WHERE calendar_id = %s AND {BREACHED_LIVE_SQL}{where}",
            [record.pk, calendar.pk, *args, record.pk, calendar.pk, *args],
        )
        return max(int(cursor.rowcount), 0)


def _link_tickets(record: SlaRecount, ticket_ids: np.ndarray[Any, Any]) -> int:
    """Link the recount to these tickets too (set-wise; those already linked are left alone); returns
    how many it linked."""
    if ticket_ids.size == 0:
        return 0
    table = SlaRecountTicket._meta.db_table
    id_values = ticket_ids.tolist()
    linked = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for lo in range(0, len(id_values), BULK_BATCH):
                cursor.execute(
                    f"INSERT INTO {table} (ticket_id, recount_id) SELECT unnest(%s::bigint[]), %s "
                    "ON CONFLICT DO NOTHING",
                    [id_values[lo : lo + BULK_BATCH], record.pk],
                )
                linked += max(int(cursor.rowcount), 0)
        else:
            # One JSON array of integers, unpacked inside SQLite: no Python loop over the rows.
            cursor.execute(
                f"INSERT OR IGNORE INTO {table} (ticket_id, recount_id) SELECT value, %s FROM json_each(%s)",  # noqa: S608 (table name from the model)
                [record.pk, "[" + ",".join(map(str, id_values)) + "]"],
            )
            linked = max(int(cursor.rowcount), 0)
    return linked


def _recount(
    calendar: BusinessCalendar,
    business_time: BusinessTime,
    now: datetime,
    *,
    old_business_time: BusinessTime | None = None,
    since: datetime | None = None,
    policy_id: int | None = None,
    changed_tickets: Iterable[int] = (),
    unknown_old: bool = False,
) -> tuple[Recount, np.ndarray[Any, Any]]:
    """Recount the running clocks on `calendar` from their anchors (only those of `policy_id`, or anchored
    at or after `since`, when given): new due and escalation positions, breach states and provisional
    years, written where they changed; each ticket's most urgent deadline. Returns the counts and the
    tickets touched (for the recount's record): those whose due instant moved (on `old_business_time`,
    the calendar the stored positions were counted on: by default `business_time`; `unknown_old` when not
    known) and those in `changed_tickets`."""
    scope = "" if policy_id is None else f" AND policy_id = {int(policy_id)}"
    args: list[Any] = [ClockState.BREACHED, calendar.pk]
    if since is not None:
        scope += " AND anchor_at >= %s"
        args.append(_sql_instant(since))
    sql = (
        f"SELECT id, ticket_id, {_micros_column('anchor_at')}, offset_minutes, target_minutes, "  # noqa: S608 (table names from the models)
        "due_pos, escalation_pos, "
        # One integer for what the escalation, provisional and state logic need (fewer values to fetch):
        # (((policy + 1) * 8 + target code) * 2048 + escalated percent * 2 + has-provisional-years) * 2
        # + stored as breached.
        f"(((COALESCE(policy_id, -1) + 1) * 8 + {_target_code_column()}) * 2048 + escalated_percent * 2 "
        f"+ CASE WHEN {_has_years_column()} THEN 1 ELSE 0 END) * 2 "
        "+ CASE WHEN state = %s THEN 1 ELSE 0 END "
        f"FROM {SlaClock._meta.db_table} "
        f"WHERE calendar_id = %s AND {LIVE_SQL}{scope}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        # Straight from the cursor into one structured array: no list of a million tuples.
        table = np.fromiter(_float_rows(cursor.cursor), dtype=_RECOUNT_ROW)
    n = table.size
    forced = np.array(sorted(set(changed_tickets)), dtype=np.int64)
    if n == 0:
        return Recount(0, 0, int(forced.size)), forced
    ids = table["id"]
    tickets = table["ticket"]
    anchors = _seconds(table["anchor"])
    offsets = table["offset"]
    targets = table["target"]
    old_due = table["due"]
    old_next = table["next"]
    stored_breached = (table["packed"] & 1).astype(np.bool_)
    packed = table["packed"] >> 1
    stored_flags = (packed & 1).astype(np.bool_)
    fired = (packed >> 1) & 1023
    codes = (packed >> 11) & 7
    policies = (packed >> 14) - 1

    anchor_pos = _positions(business_time, anchors)
    # Due positions: clocks with time left get a new one; the others stay breached where they are (a
    # clock that has used its whole target, after a smaller target, was due when it last started
    # counting at the latest).
    remaining = targets - offsets
    counting = remaining > 0
    if unknown_old:  # the timeline the stored positions are on is not known: they say nothing
        old_instant = np.full(n, np.nan)
        old_on_new = old_instant
    else:
        old_instant = _instants_of(old_business_time or business_time, old_due)
        old_on_new = old_due if old_business_time is None else _positions(business_time, old_instant)
    new_due = np.where(np.isfinite(old_on_new), np.fmin(old_on_new, anchor_pos), anchor_pos)
    new_due[counting] = anchor_pos[counting] + remaining[counting] * 60.0
    new_next = _next_escalations(policies, codes, fired, anchor_pos, offsets, targets)
    new_instant = _instants_of(business_time, new_due)
    years, years_changed = _provisional_years(business_time, ids, anchors, new_instant, stored_flags)
    breached = np.isfinite(new_instant) & (new_instant <= now.timestamp())
    due_moved = ~np.isclose(new_instant, old_instant, rtol=0.0, atol=0.5, equal_nan=True)
    # A clock whose due instant moved into the future runs again. One that is now past due stays as it
    # is: the breach sweep marks it, with the breach in the ticket's history (and its escalations).
    # The state and the provisional years are written only where they change (few rows): leaving them
    # out of the bulk UPDATE spares the index on the state.
    unbreach = stored_breached & due_moved & np.isfinite(new_instant) & ~breached
    full = years_changed | unbreach
    write = ~_same(new_due, old_due) | ~_same(new_next, old_next) | full
    index = np.flatnonzero(write)
    if index.size:
        states = np.where(stored_breached & ~unbreach, ClockState.BREACHED.value, ClockState.RUNNING.value)
        _write_clocks(ids[index], new_due[index], new_next[index], now)
        changed = np.flatnonzero(full)
        _write_states(ids[changed], states[changed], [years.get(int(i), []) for i in changed], now)
        _write_ticket_due(
            calendar, tickets, codes, new_due, old_due, whole=since is None and policy_id is None
        )
    order = np.argsort(tickets, kind="stable")
    sorted_tickets = tickets[order]
    starts = np.flatnonzero(np.r_[True, sorted_tickets[1:] != sorted_tickets[:-1]])
    ticket_ids = sorted_tickets[starts]
    touched = ticket_ids[np.logical_or.reduceat(due_moved[order], starts)]
    if forced.size:
        touched = np.union1d(touched, forced)
    return Recount(n, int(np.count_nonzero(due_moved)), int(touched.size)), touched


def _float_rows(cursor: Any) -> Iterable[tuple[Any, ...]]:
    """Rows with NULL positions as NaN (SQLite has no NaN to select them as)."""
    nan = math.nan
    for row in cursor:
        if row[5] is None or row[6] is None:
            yield (*row[:5], nan if row[5] is None else row[5], nan if row[6] is None else row[6], row[7])
        else:
            yield row


def _same(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Equal positions (both NaN counts as equal)."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _positions(business_time: BusinessTime, epochs: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Positions of instants; NaN for NaN and for those beyond the supported years (never due)."""
    finite = np.isfinite(epochs)
    if not finite.all():
        result = np.full(epochs.size, np.nan)
        result[finite] = _positions(business_time, epochs[finite])
        return result
    if epochs.size == 0:
        return epochs.copy()
    try:
        return business_time.positions_many(epochs)
    except BusinessTimeError:
        if epochs.size == 1:
            return np.full(1, np.nan)
        half = epochs.size // 2
        return np.concatenate(
            (_positions(business_time, epochs[:half]), _positions(business_time, epochs[half:]))
        )


def _instants_of(business_time: BusinessTime, positions: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Instants (epoch seconds, whole microseconds) of positions; NaN for none, or beyond the supported
    years, or on a calendar without working hours."""
    result = np.full(positions.size, np.nan)
    finite = np.flatnonzero(np.isfinite(positions))
    if finite.size:
        result[finite] = _instants_finite(business_time, positions[finite])
    return result


def _instants_finite(business_time: BusinessTime, positions: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    try:
        return np.round(business_time.instants_many(positions) * 1e6) / 1e6
    except NoWorkingTime:
        return np.full(positions.size, np.nan)
    except BusinessTimeError:
        # Some position lies past the supported years: halve until those are found.
        if positions.size == 1:
            return np.full(1, np.nan)
        half = positions.size // 2
        return np.concatenate(
            (
                _instants_finite(business_time, positions[:half]),
                _instants_finite(business_time, positions[half:]),
            )
        )


def _next_escalations(
    policies: np.ndarray[Any, Any],
    codes: np.ndarray[Any, Any],
    fired: np.ndarray[Any, Any],
    anchor_pos: np.ndarray[Any, Any],
    offsets: np.ndarray[Any, Any],
    targets: np.ndarray[Any, Any],
) -> np.ndarray[Any, Any]:
    """The position at which each clock reaches its next escalation level (NaN: no level left)."""
    n = anchor_pos.size
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
    left = np.maximum(np.where(has_next, targets * next_percent / 100.0 - offsets, 0.0), 0.0)
    result[has_next] = anchor_pos[has_next] + left[has_next] * 60.0  # already past: due at the anchor
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
    finite = np.isfinite(dues) & np.isfinite(anchors)
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


def _floats(values: np.ndarray[Any, Any]) -> list[float | None]:
    """Values for the database, None for NaN."""
    finite = np.isfinite(values)
    return [x if ok else None for x, ok in zip(values.tolist(), finite.tolist(), strict=True)]


def _write_clocks(
    ids: np.ndarray[Any, Any], dues: np.ndarray[Any, Any], nexts: np.ndarray[Any, Any], now: datetime
) -> None:
    """New due and escalation positions, set-wise."""
    if ids.size == 0:
        return
    table = SlaClock._meta.db_table
    due_values, next_values, id_values = _floats(dues), _floats(nexts), ids.tolist()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for lo in range(0, len(id_values), BULK_BATCH):
                hi = lo + BULK_BATCH
                cursor.execute(
                    f"UPDATE {table} AS c SET due_pos = v.due, escalation_pos = v.nxt, updated_at = %s "  # noqa: S608 (table name from the model)
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
                "id INTEGER PRIMARY KEY, due REAL, nxt REAL",
                list(zip(id_values, due_values, next_values, strict=True)),
            )
            cursor.execute(
                f"UPDATE {table} SET due_pos = r.due, escalation_pos = r.nxt, updated_at = %s "  # noqa: S608 (table name from the model)
                f"FROM temp.sla_recount AS r WHERE {table}.id = r.id AND {table}.paused_since IS NULL "
                f"AND {table}.achieved_at IS NULL",
                [_sql_instant(now)],
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


def _write_ticket_due(
    calendar: BusinessCalendar,
    tickets: np.ndarray[Any, Any],
    codes: np.ndarray[Any, Any],
    new_due: np.ndarray[Any, Any],
    old_due: np.ndarray[Any, Any],
    *,
    whole: bool,
) -> None:
    """Each ticket's most urgent deadline after its clocks were rewritten. With every running clock of
    the calendar read (`whole`), from the arrays: a ticket's running clocks share its policy's calendar,
    and SOP step clocks are no promise to the customer. Otherwise the few tickets concerned take it from
    their stored clocks in SQL."""
    promise = ~np.isin(codes, _STEP_CODES)
    order = np.argsort(tickets, kind="stable")
    sorted_tickets = tickets[order]
    starts = np.flatnonzero(np.r_[True, sorted_tickets[1:] != sorted_tickets[:-1]])
    ticket_ids = sorted_tickets[starts]
    new_min = np.fmin.reduceat(np.where(promise, new_due, np.nan)[order], starts)
    old_min = np.fmin.reduceat(np.where(promise, old_due, np.nan)[order], starts)
    moved = ~_same(new_min, old_min)
    ids, values = ticket_ids[moved], new_min[moved]
    if ids.size == 0:
        return
    table = Ticket._meta.db_table
    if not whole:
        _refresh_ticket_due(calendar, ids)
        return
    value_list, id_values = _floats(values), ids.tolist()
    calendar_values = [calendar.pk if v is not None else None for v in value_list]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for lo in range(0, len(id_values), BULK_BATCH):
                hi = lo + BULK_BATCH
                cursor.execute(
                    f"UPDATE {table} AS t SET sla_due_pos = v.due, sla_calendar_id = v.cal "  # noqa: S608 (table name from the model)
                    "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::float8[]) AS due, "
                    "unnest(%s::bigint[]) AS cal) AS v WHERE t.id = v.id",
                    [id_values[lo:hi], value_list[lo:hi], calendar_values[lo:hi]],
                )
        else:
            _sqlite_stage(
                cursor,
                "sla_ticket_due",
                "id INTEGER PRIMARY KEY, due REAL, cal INTEGER",
                list(zip(id_values, value_list, calendar_values, strict=True)),
            )
            cursor.execute(
                f"UPDATE {table} SET sla_due_pos = r.due, sla_calendar_id = r.cal "  # noqa: S608 (table name from the model)
                f"FROM temp.sla_ticket_due AS r WHERE {table}.id = r.id",
                [],
            )
            cursor.execute("DROP TABLE temp.sla_ticket_due")


def _refresh_ticket_due(calendar: BusinessCalendar, ticket_ids: np.ndarray[Any, Any]) -> None:
    """These tickets' most urgent deadline from their stored clocks, in SQL (a ticket's running
    promises count on its policy's calendar, `calendar`)."""
    table = Ticket._meta.db_table
    clocks = SlaClock._meta.db_table
    steps = ", ".join(f"'{target}'" for target in STEP_TARGETS)
    live = LIVE_STATES_SQL.replace("state", "c.state")
    with connection.cursor() as cursor:
        for lo in range(0, ticket_ids.size, STATE_CHUNK):
            chunk = ticket_ids[lo : lo + STATE_CHUNK].tolist()
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET sla_due_pos = (SELECT MIN(c.due_pos) FROM {clocks} AS c "  # noqa: S608 (table names from the models)
                f"WHERE c.ticket_id = {table}.id AND c.calendar_id = %s AND {live} "
                f"AND c.paused_since IS NULL AND c.achieved_at IS NULL AND c.target NOT IN ({steps})) "
                f"WHERE id IN ({marks})",
                [calendar.pk, *chunk],
            )
            cursor.execute(
                f"UPDATE {table} SET sla_calendar_id = "  # noqa: S608 (table name from the model)
                "CASE WHEN sla_due_pos IS NULL THEN NULL ELSE %s END "
                f"WHERE id IN ({marks})",
                [calendar.pk, *chunk],
            )


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
        Ticket.objects.filter(pk=ticket.pk).update(
            sla_calendar=ticket.sla_calendar_id, sla_due_pos=ticket.sla_due_pos
        )
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
    business_time = business_time_for(policy.calendar)
    rest.filter(
        paused_since__isnull=False, state=ClockState.PAUSED, offset_minutes__gte=F("target_minutes")
    ).update(
        state=ClockState.BREACHED, due_pos=_position(business_time, now), breached_due_at=now, updated_at=now
    )
    record = SlaRecount(
        created_at=now,
        actor=actor,
        reason=reason,
        calendar=policy.calendar,
        calendar_version=policy.calendar.version,
        policy=policy,
        policy_version=policy.version,
    )
    result = _record(
        record,
        *_recount(
            policy.calendar,
            business_time,
            now,
            policy_id=policy.pk,
            changed_tickets=retargeted | moved_calendar,
        ),
    )
    # Tickets whose clocks moved to the policy's calendar: their most urgent deadline is on it now.
    _refresh_ticket_due(policy.calendar, np.array(sorted(moved_calendar), dtype=np.int64))
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
        Ticket.objects.filter(pk=ticket.pk).update(
            sla_calendar=ticket.sla_calendar_id, sla_due_pos=ticket.sla_due_pos
        )
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
    """Fold the time used so far on the old calendar into the offset and switch to the policy's calendar;
    deadlines already set (a breach) keep their instants, as positions on the new calendar. Returns the
    tickets affected."""
    others = clocks.exclude(calendar_id=policy.calendar_id)
    tickets = set(others.values_list("ticket_id", flat=True))
    if not tickets:
        return tickets
    new_bt = business_time_for(policy.calendar)
    for calendar in BusinessCalendar.objects.filter(
        pk__in=others.values_list("calendar_id", flat=True).distinct()
    ):
        old_bt = business_time_for(calendar)
        rows = others.filter(calendar_id=calendar.pk).values_list(
            "pk", "anchor_at", "offset_minutes", "paused_since", "due_pos", "escalation_pos"
        )
        changed = []
        for pk, anchor, offset, paused_since, due_pos, escalation_pos in rows:
            clock = SlaClock(
                pk=pk,
                anchor_at=anchor,
                offset_minutes=offset,
                calendar_id=calendar.pk,
                due_pos=due_pos,
                escalation_pos=escalation_pos,
                updated_at=now,
            )
            if paused_since is None:
                clock.offset_minutes = offset + (old_bt.elapsed(anchor, now) if now > anchor else 0.0)
                clock.anchor_at = max(anchor, now)
            _move_positions(clock, old_bt, new_bt)
            clock.calendar_id = policy.calendar_id
            changed.append(clock)
        SlaClock.objects.bulk_update(
            changed,
            ["anchor_at", "offset_minutes", "calendar", "due_pos", "escalation_pos", "updated_at"],
            batch_size=5000,
        )
    return tickets


def _move_positions(clock: SlaClock, old_bt: BusinessTime, new_bt: BusinessTime) -> None:
    """Keep the clock's deadlines at the same instants as positions on another calendar's timeline (a
    running clock's are then counted again from its anchor)."""
    for name in ("due_pos", "escalation_pos"):
        position = getattr(clock, name)
        if position is None:
            continue
        try:
            setattr(clock, name, new_bt.position(old_bt.instant(position)))
        except (BusinessTimeError, ValueError):
            setattr(clock, name, None)
    clock.use_business_time(new_bt)


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
    "most_urgent_clock",
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
