"""SLA deadlines stored as positions on their calendar's timeline: a change to days after a clock's anchor
moves its due instant without writing the clock; a change before the anchor, or to the weekly hours,
rewrites it; the sweeps compare positions. Times are on the cn-office calendar (Mon–Fri 09:00–12:00 and
13:00–18:00, Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from pledge.lib.businesstime import (
    EVERYTHING,
    CalendarSpec,
    ChangedDays,
    changed_days,
    spec_from_data,
    spec_to_data,
)
from pledge.standards import services as standards_services
from pledge.standards.models import BusinessCalendar, SlaPolicy
from pledge.standards.selectors import business_time_for
from pledge.tickets import clocks, escalation
from pledge.tickets import services as ticket_services
from pledge.tickets.choices import ClockState, Status
from pledge.tickets.models import SlaClock, SlaRecount, SlaRecountTicket, Ticket
from tests.conftest import World

SH = ZoneInfo("Asia/Shanghai")
OFFICE = {0: ((540, 720), (780, 1080)), 1: ((540, 720), (780, 1080))}


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


@pytest.fixture
def office_policy(calendars: dict[str, BusinessCalendar]) -> SlaPolicy:
    policy = SlaPolicy.objects.create(
        name="Standard", calendar=calendars["cn-office"], first_response_minutes=120, resolution_minutes=960
    )
    clocks.forget_cached_policies()
    return policy


def resolution(ticket: Ticket) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, target="resolution")


def test_spec_data_round_trips_and_bad_data_reads_as_unknown() -> None:
    spec = CalendarSpec(
        tz="Asia/Shanghai",
        weekly=OFFICE,
        holidays=frozenset({date(2026, 10, 1)}),
        makeup_workdays={date(2026, 10, 10): 0},
        covered_years=frozenset({2026}),
    )
    assert spec_from_data(spec_to_data(spec)) == spec
    assert spec_from_data({}) is None
    assert spec_from_data({"tz": "Asia/Shanghai"}) is None
    assert spec_from_data({**spec_to_data(spec), "holidays": ["not a date"]}) is None


def test_changed_days_finds_the_first_and_last_changed_day_and_whether_they_balance() -> None:
    base = CalendarSpec(tz="Asia/Shanghai", weekly=OFFICE)
    assert changed_days(None, base) == EVERYTHING
    assert changed_days(base, CalendarSpec(tz="Europe/Berlin", weekly=OFFICE)) == EVERYTHING
    assert changed_days(base, CalendarSpec(tz="Asia/Shanghai", weekly={0: ((540, 720),)})) == EVERYTHING
    assert changed_days(base, base) is None
    # A holiday on a day without hours changes nothing; holiday data coverage changes flags, not hours.
    assert (
        changed_days(base, CalendarSpec(tz="Asia/Shanghai", weekly=OFFICE, holidays={date(2026, 11, 25)}))
        is None
    )
    assert changed_days(base, CalendarSpec(tz="Asia/Shanghai", weekly=OFFICE, covered_years={2026})) is None
    off = CalendarSpec(tz="Asia/Shanghai", weekly=OFFICE, holidays={date(2026, 11, 24)})
    assert changed_days(base, off) == ChangedDays(date(2026, 11, 24), date(2026, 11, 24), None)
    # A Tuesday off and a Monday worked with Tuesday's hours later on: as much time removed as added.
    swapped = CalendarSpec(
        tz="Asia/Shanghai",
        weekly=OFFICE,
        holidays={date(2026, 11, 24)},
        makeup_workdays={date(2026, 11, 29): 1},
    )
    assert changed_days(base, swapped) == ChangedDays(
        date(2026, 11, 24), date(2026, 11, 29), date(2026, 11, 30)
    )
    # A night shift on the last changed day runs past its midnight: realigned a day later.
    night = {1: ((1320, 360),), 6: ((1320, 360),)}
    shifts = CalendarSpec(tz="Asia/Shanghai", weekly=night)
    moved = CalendarSpec(
        tz="Asia/Shanghai",
        weekly=night,
        holidays={date(2026, 11, 24)},
        makeup_workdays={date(2026, 11, 28): 1},
    )
    assert changed_days(shifts, moved) == ChangedDays(
        date(2026, 11, 24), date(2026, 11, 28), date(2026, 11, 30)
    )


def test_a_holiday_after_the_anchor_moves_the_due_instant_without_writing_the_clock(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    before = resolution(ticket)
    assert before.due_at == sh(2026, 11, 25, 10, 0)
    standards_services.calendar_set_holiday(
        calendar=calendars["cn-office"], day=date(2026, 11, 24), name="Company day", actor=world.manager
    )
    after = resolution(ticket)
    assert (after.due_pos, after.escalation_pos, after.updated_at) == (
        before.due_pos,
        before.escalation_pos,
        before.updated_at,
    )
    assert after.due_at == sh(2026, 11, 26, 10, 0)  # a working day later
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at == sh(2026, 11, 23, 12, 0)  # first response
    recount = SlaRecount.objects.get()
    assert (recount.clocks, recount.moved, recount.tickets) == (2, 1, 1)
    assert list(SlaRecountTicket.objects.values_list("ticket_id", flat=True)) == [ticket.pk]
    # The breach sweep compares positions: the resolution is not due before the new instant, then it is.
    escalation.mark_breaches(sh(2026, 11, 26, 9, 59))
    assert resolution(ticket).state == ClockState.RUNNING
    escalation.mark_breaches(sh(2026, 11, 26, 10, 0))
    assert resolution(ticket).state == ClockState.BREACHED


def test_a_holiday_before_the_anchor_rewrites_the_clock(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    ticket = world.ticket(at=sh(2026, 11, 25, 10, 0))
    before = resolution(ticket)
    assert before.due_at == sh(2026, 11, 27, 10, 0)
    # A day before the ticket was created becomes a holiday: every position after it moves, so the
    # clock counts again from its anchor, and its due instant stays where it was.
    standards_services.calendar_set_holiday(
        calendar=calendars["cn-office"], day=date(2026, 11, 24), name="Late entry", actor=world.manager
    )
    after = resolution(ticket)
    assert after.due_pos == pytest.approx(before.due_pos - 480 * 60)
    assert after.due_at == sh(2026, 11, 27, 10, 0)
    assert (
        Ticket.objects.get(pk=ticket.pk).sla_due_pos
        == SlaClock.objects.get(ticket=ticket, target="first_response").due_pos
    )
    recount = SlaRecount.objects.get()
    assert (recount.clocks, recount.moved, recount.tickets) == (2, 0, 0)


def test_new_weekly_hours_rewrite_every_clock_and_agree_with_due(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    # Created on Thursday: due the next Monday, or on Saturday once Saturday mornings are worked.
    tickets = [world.ticket(at=sh(2026, 11, 26, 10, 0) + timedelta(minutes=20 * i)) for i in range(4)]
    calendar = calendars["cn-office"]
    standards_services.calendar_update_settings(
        calendar=calendar,
        name=calendar.name,
        timezone_name=calendar.timezone,
        weekly={**calendar.weekly, "sat": ["09:00-12:00"]},
        holiday_sets=list(calendar.holiday_sets),
        actor=world.manager,
    )
    business_time = business_time_for(BusinessCalendar.objects.get(pk=calendar.pk))
    for ticket in tickets:
        clock = resolution(ticket)
        assert clock.due_at == business_time.due(clock.anchor_at, clock.target_minutes - clock.offset_minutes)
        assert clock.due_at is not None and clock.due_at.astimezone(SH).date() == date(2026, 11, 28)
    assert SlaRecount.objects.get().moved == 4  # the four resolutions (first responses are due on Thursday)


def test_the_calendar_records_the_days_its_deadlines_count_on(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    world.ticket(at=sh(2026, 11, 23, 10, 0))
    calendar = calendars["cn-office"]
    standards_services.calendar_set_holiday(calendar=calendar, day=date(2026, 11, 24), name="Day", actor=None)
    stored = BusinessCalendar.objects.get(pk=calendar.pk)
    assert spec_from_data(stored.counted_spec) == business_time_for(stored).spec
    assert date(2026, 11, 24) in business_time_for(stored).spec.holidays


def saturday_mornings(calendar: BusinessCalendar, actor: object) -> None:
    standards_services.calendar_update_settings(
        calendar=calendar,
        name=calendar.name,
        timezone_name=calendar.timezone,
        weekly={**calendar.weekly, "sat": ["09:00-12:00"]},
        holiday_sets=list(calendar.holiday_sets),
        actor=actor,  # type: ignore[arg-type]
    )


def first_response(ticket: Ticket) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, target="first_response")


def test_breaches_in_the_past_keep_their_instants_when_every_position_moves(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    """A first response answered late, and one breached, paused and resumed over its target: their due
    instants are facts of the past and stay where they were when new weekly hours move every position."""
    office_policy.pause_statuses = ["waiting_customer"]
    office_policy.save(update_fields=["pause_statuses"])
    clocks.forget_cached_policies()
    late = world.ticket(at=sh(2026, 11, 23, 10, 0))
    over = world.ticket(at=sh(2026, 11, 23, 9, 0))
    escalation.mark_breaches(sh(2026, 11, 23, 11, 1))
    for status, at in (
        (Status.IN_PROGRESS, sh(2026, 11, 23, 11, 20)),
        (Status.WAITING_CUSTOMER, sh(2026, 11, 23, 11, 30)),
        (Status.IN_PROGRESS, sh(2026, 11, 23, 11, 40)),
    ):
        over = Ticket.objects.get(pk=over.pk)
        ticket_services.ticket_transition(
            actor=world.agent, ticket=over, to_status=status, expected_version=over.version, at=at
        )
    escalation.mark_breaches(sh(2026, 11, 23, 12, 1))
    ticket_services.ticket_reply(actor=world.agent, ticket=late, body="Late", at=sh(2026, 11, 23, 13, 30))
    assert first_response(late).due_at == sh(2026, 11, 23, 12, 0)
    assert (first_response(over).state, first_response(over).due_at) == (
        ClockState.BREACHED,
        sh(2026, 11, 23, 11, 0),
    )
    saturday_mornings(calendars["cn-office"], world.manager)
    assert first_response(late).due_at == sh(2026, 11, 23, 12, 0)
    assert first_response(over).due_at == sh(2026, 11, 23, 11, 0)
    assert Ticket.objects.get(pk=over.pk).sla_due_at == sh(2026, 11, 23, 11, 0)


def test_a_clock_moved_to_another_calendar_keeps_its_breach_instant(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    for name, calendar, priorities in (("P3", "cn-office", ["P3"]), ("P1", "24x7", ["P1"])):
        SlaPolicy.objects.create(
            name=name,
            calendar=calendars[calendar],
            priorities=priorities,
            first_response_minutes=120,
            resolution_minutes=960,
        )
    clocks.forget_cached_policies()
    ticket = world.ticket(priority="P3", at=sh(2026, 11, 23, 10, 0))
    escalation.mark_breaches(sh(2026, 11, 23, 12, 1))
    ticket = Ticket.objects.get(pk=ticket.pk)
    ticket_services.ticket_update(
        actor=world.agent,
        ticket=ticket,
        expected_version=ticket.version,
        priority="P1",
        at=sh(2026, 11, 23, 13, 30),
    )
    moved = first_response(ticket)
    assert (moved.calendar_id, moved.state, moved.due_at) == (
        calendars["24x7"].pk,
        ClockState.BREACHED,
        sh(2026, 11, 23, 12, 0),
    )


def test_a_new_policy_calendar_keeps_breach_instants(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    escalation.mark_breaches(sh(2026, 11, 23, 12, 1))
    standards_services.sla_policy_update(
        policy=office_policy, actor=world.manager, calendar=calendars["24x7"]
    )
    moved = first_response(ticket)
    assert (moved.calendar_id, moved.due_at) == (calendars["24x7"].pk, sh(2026, 11, 23, 12, 0))


def test_a_ticket_created_right_after_new_weekly_hours_counts_on_them(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar], settings: Any
) -> None:
    """The policies are cached for a few seconds with their calendars; deadlines are counted on the
    calendar as it is now, not on the cached copy."""
    settings.REFERENCE_CACHE_SECONDS = 10
    world.ticket(at=sh(2026, 11, 23, 10, 0))  # fills the cache
    saturday_mornings(calendars["cn-office"], world.manager)
    ticket = world.ticket(at=sh(2026, 11, 26, 10, 0))  # Thursday
    assert resolution(ticket).due_at == sh(2026, 11, 28, 10, 0)  # Saturday


def test_a_change_that_gives_back_the_time_it_takes_moves_only_the_deadlines_between(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    """Tuesday off and Saturday worked, in one change: deadlines from Sunday on do not move."""
    SlaPolicy.objects.filter(pk=office_policy.pk).update(position=5)
    SlaPolicy.objects.create(
        name="Long", calendar=calendars["cn-office"], priorities=["P4"], position=1, resolution_minutes=2880
    )
    clocks.forget_cached_policies()
    inside = world.ticket(at=sh(2026, 11, 20, 10, 0))  # resolution due Tuesday 24, 10:00
    beyond = world.ticket(priority="P4", at=sh(2026, 11, 23, 10, 0))  # due Tuesday 1 December, 10:00
    assert (resolution(inside).due_at, resolution(beyond).due_at) == (
        sh(2026, 11, 24, 10, 0),
        sh(2026, 12, 1, 10, 0),
    )
    document = standards_services.calendar_export("cn-office")
    document["holidays"] = ["2026-11-24"]
    document["makeup_workdays"] = {"2026-11-28": "tue"}
    standards_services.calendar_import(data=document, actor=world.manager, reason="Swap")
    assert (resolution(inside).due_at, resolution(beyond).due_at) == (
        sh(2026, 11, 25, 10, 0),
        sh(2026, 12, 1, 10, 0),
    )
    recount = SlaRecount.objects.get()
    assert (recount.moved, recount.tickets) == (1, 1)
    assert list(SlaRecountTicket.objects.values_list("ticket_id", flat=True)) == [inside.pk]


def test_a_clock_read_again_shows_the_calendar_as_it_now_is(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    clock = resolution(ticket)
    assert clock.due_at == sh(2026, 11, 25, 10, 0)
    standards_services.calendar_set_holiday(
        calendar=calendars["cn-office"], day=date(2026, 11, 24), name="Off", actor=world.manager
    )
    clock.refresh_from_db()
    assert clock.due_at == sh(2026, 11, 26, 10, 0)


class Now:
    """Django's clock, set by the test (the recounts and sweeps read it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
        self.at = at
        monkeypatch.setattr(timezone, "now", lambda: self.at)


def move(world: World, ticket: Ticket, status: str, at: datetime) -> Ticket:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return ticket_services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status=status, expected_version=ticket.version, at=at
    )


def test_a_breach_answered_late_keeps_its_instant_on_a_calendar_without_running_clocks(
    world: World,
    office_policy: SlaPolicy,
    calendars: dict[str, BusinessCalendar],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = Now(monkeypatch, sh(2026, 11, 23, 10, 0))
    ticket = world.ticket(at=now.at)
    now.at = sh(2026, 11, 23, 12, 30)
    escalation.mark_breaches(now.at)
    ticket_services.ticket_reply(actor=world.agent, ticket=ticket, body="Late", at=now.at)
    move(world, ticket, Status.RESOLVED, now.at)
    assert not SlaClock.objects.filter(state=ClockState.RUNNING).exists()
    now.at = sh(2026, 11, 24, 10, 0)
    calendar = calendars["cn-office"]
    standards_services.calendar_update_settings(
        calendar=calendar,
        name=calendar.name,
        timezone_name=calendar.timezone,
        weekly={**calendar.weekly, "mon": ["08:00-12:00", "13:00-18:00"]},
        holiday_sets=list(calendar.holiday_sets),
        actor=world.manager,
    )
    assert first_response(ticket).due_at == sh(2026, 11, 23, 12, 0)


def test_a_paused_breach_outside_working_hours_keeps_its_instant_on_another_calendar(
    world: World, calendars: dict[str, BusinessCalendar], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = Now(monkeypatch, sh(2026, 11, 23, 17, 0))
    policy = SlaPolicy.objects.create(
        name="Round the clock",
        calendar=calendars["24x7"],
        first_response_minutes=90,
        resolution_minutes=9600,
        pause_statuses=["waiting_customer"],
    )
    clocks.forget_cached_policies()
    ticket = world.ticket(at=now.at)
    now.at = sh(2026, 11, 23, 18, 31)
    escalation.mark_breaches(now.at)
    move(world, ticket, Status.IN_PROGRESS, now.at)
    move(world, ticket, Status.WAITING_CUSTOMER, now.at)
    assert first_response(ticket).due_at == sh(2026, 11, 23, 18, 30)  # after the office's closing time
    now.at = sh(2026, 11, 24, 10, 0)
    standards_services.sla_policy_update(policy=policy, actor=world.manager, calendar=calendars["cn-office"])
    clock = first_response(ticket)
    assert (clock.calendar_id, clock.state, clock.due_at) == (
        calendars["cn-office"].pk,
        ClockState.BREACHED,
        sh(2026, 11, 23, 18, 30),
    )


def test_tickets_follow_their_clocks_to_the_policys_new_calendar(
    world: World,
    office_policy: SlaPolicy,
    calendars: dict[str, BusinessCalendar],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = Now(monkeypatch, sh(2026, 11, 23, 10, 0))
    ticket = world.ticket(at=now.at)
    now.at = sh(2026, 11, 23, 10, 30)
    standards_services.sla_policy_update(
        policy=office_policy, actor=world.manager, calendar=calendars["24x7"]
    )
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.sla_calendar_id, stored.sla_due_at) == (calendars["24x7"].pk, sh(2026, 11, 23, 12, 0))
    now.at = sh(2026, 11, 23, 11, 0)
    saturday_mornings(calendars["cn-office"], world.manager)  # no longer the ticket's calendar
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at == sh(2026, 11, 23, 12, 0)


def test_a_reopened_resolution_counts_on_the_policys_calendar_of_today(
    world: World,
    office_policy: SlaPolicy,
    calendars: dict[str, BusinessCalendar],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = Now(monkeypatch, sh(2026, 11, 23, 10, 0))
    ticket = world.ticket(at=now.at)
    now.at = sh(2026, 11, 23, 11, 0)
    move(world, ticket, Status.RESOLVED, now.at)
    now.at = sh(2026, 11, 23, 11, 30)
    standards_services.sla_policy_update(
        policy=office_policy, actor=world.manager, calendar=calendars["24x7"]
    )
    now.at = sh(2026, 11, 23, 19, 0)
    move(world, ticket, Status.IN_PROGRESS, now.at)
    clock = resolution(ticket)
    # 60 minutes used before the resolution; 900 left from 19:00, round the clock.
    assert (clock.calendar_id, clock.due_at) == (calendars["24x7"].pk, sh(2026, 11, 24, 10, 0))
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.sla_calendar_id, stored.sla_due_at) == (calendars["24x7"].pk, sh(2026, 11, 24, 10, 0))
