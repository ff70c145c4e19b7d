"""SLA clocks on tickets: policy matching, start, pause and resume, responses, resolution and reopen,
priority changes, on-site arrival, provisional deadlines, and bulk recounts after calendar and policy
changes. Times are on the cn-office calendar (Mon–Fri 09:00–12:00 and 13:00–18:00, Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from pledge.standards import selectors as standard_selectors
from pledge.standards import services as standards_services
from pledge.standards.models import BusinessCalendar, SlaPolicy
from pledge.tickets import clocks, escalation
from pledge.tickets import selectors as ticket_selectors
from pledge.tickets import services as ticket_services
from pledge.tickets.choices import ClockState, EventKind, Status
from pledge.tickets.models import SlaClock, SlaRecount, SlaRecountTicket, Ticket, TicketEvent
from tests.conftest import World

SH = ZoneInfo("Asia/Shanghai")


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def make_policy(calendar: BusinessCalendar, **fields: object) -> SlaPolicy:
    fields.setdefault("name", "Standard")
    policy = SlaPolicy.objects.create(calendar=calendar, **fields)
    clocks.forget_cached_policies()
    return policy


def clock(ticket: Ticket, target: str, cycle: int = 0) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, target=target, cycle=cycle)


def sla_events(ticket: Ticket, *, internal: bool = True) -> list[TicketEvent]:
    """The SLA events in the ticket's history as staff (or the customer) see it."""
    return [
        entry.event
        for entry in ticket_selectors.ticket_timeline(ticket, include_internal=internal)
        if entry.event is not None and entry.event.kind == EventKind.SLA
    ]


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def office_policy(calendars: dict[str, BusinessCalendar]) -> SlaPolicy:
    return make_policy(
        calendars["cn-office"],
        first_response_minutes=120,
        next_response_minutes=240,
        resolution_minutes=960,
    )


def test_no_policy_no_clocks(world: World) -> None:
    ticket = world.ticket()
    assert ticket.sla_policy_id is None
    assert not SlaClock.objects.filter(ticket=ticket).exists()
    assert fresh(ticket).sla_due_at is None


def test_clocks_start_with_the_ticket_on_business_time(world: World, office_policy: SlaPolicy) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))  # Monday
    assert ticket.sla_policy_id == office_policy.pk
    first = clock(ticket, "first_response")
    resolution = clock(ticket, "resolution")
    # 120 minutes from Monday 10:00 with a lunch break: 10:00–12:00 is exactly 120 → due at 12:00.
    assert first.due_at == sh(2026, 11, 23, 12, 0)
    # 960 minutes: Mon 420 + Tue 480 + Wed 60 → Wednesday 10:00.
    assert resolution.due_at == sh(2026, 11, 25, 10, 0)
    assert first.state == resolution.state == ClockState.RUNNING
    assert not SlaClock.objects.filter(ticket=ticket, target="next_response").exists()
    assert fresh(ticket).sla_due_at == sh(2026, 11, 23, 12, 0)


def test_pause_resume_response_resolve_and_reopen(world: World, office_policy: SlaPolicy) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0), contact=world.contact_a)
    ticket_services.ticket_reply(
        actor=world.agent, ticket=ticket, body="Looking into it", at=sh(2026, 11, 23, 11, 0)
    )
    first = clock(ticket, "first_response")
    assert first.state == ClockState.ACHIEVED
    assert first.achieved_at == sh(2026, 11, 23, 11, 0)
    assert first.met is True

    ticket = fresh(ticket)
    ticket = ticket_services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        to_status=Status.WAITING_CUSTOMER,
        expected_version=ticket.version,
        at=sh(2026, 11, 23, 14, 0),
    )
    paused = clock(ticket, "resolution")
    assert paused.state == ClockState.PAUSED
    assert paused.due_at is None
    assert paused.offset_minutes == pytest.approx(180)  # 10–12 and 13–14
    assert fresh(ticket).sla_due_at is None

    # The customer answers on Tuesday 09:00: the clock resumes, and a next-response clock starts.
    ticket_services.ticket_reply(
        actor=world.customer_a, ticket=ticket, body="Here are the logs", at=sh(2026, 11, 24, 9, 0)
    )
    resumed = clock(ticket, "resolution")
    assert resumed.state == ClockState.RUNNING
    assert resumed.paused_minutes == pytest.approx(240)  # Monday 14:00–18:00 were working hours
    # 780 minutes left from Tuesday 09:00: Tue 480, Wed 09–12 (180) and 13–15 (120) → Wednesday 15:00.
    assert resumed.due_at == sh(2026, 11, 25, 15, 0)
    nxt = clock(ticket, "next_response")
    assert nxt.started_at == sh(2026, 11, 24, 9, 0)
    assert nxt.due_at == sh(2026, 11, 24, 14, 0)  # 09–12 (180) + 13–14 (60)
    assert fresh(ticket).sla_due_at == sh(2026, 11, 24, 14, 0)

    ticket = fresh(ticket)
    ticket = ticket_services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        to_status=Status.RESOLVED,
        expected_version=ticket.version,
        at=sh(2026, 11, 25, 11, 0),
    )
    done = clock(ticket, "resolution")
    assert done.state == ClockState.ACHIEVED
    assert done.offset_minutes == pytest.approx(180 + 480 + 120)  # used by Wednesday 11:00
    # The resolution answers the customer's message too, but after its Tuesday 14:00 due instant.
    late = clock(ticket, "next_response")
    assert (late.state, late.achieved_at) == (ClockState.BREACHED, sh(2026, 11, 25, 11, 0))
    assert fresh(ticket).sla_due_at is None

    # Reopened on Thursday 10:00 by the customer: the resolution clock counts again from there, and
    # the time while resolved does not count.
    ticket_services.ticket_reply(
        actor=world.customer_a, ticket=ticket, body="It is back", at=sh(2026, 11, 26, 10, 0)
    )
    reopened = clock(ticket, "resolution")
    assert reopened.state == ClockState.RUNNING
    assert reopened.achieved_at is None
    assert reopened.offset_minutes == pytest.approx(780)
    assert reopened.due_at == sh(2026, 11, 26, 14, 0)  # 180 minutes left: 10–12 and 13–14
    assert clock(ticket, "next_response", cycle=1).started_at == sh(2026, 11, 26, 10, 0)


def test_a_late_response_is_breached_not_achieved(world: World, office_policy: SlaPolicy) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    ticket_services.ticket_reply(
        actor=world.agent, ticket=ticket, body="Sorry for the wait", at=sh(2026, 11, 23, 15, 0)
    )
    first = clock(ticket, "first_response")
    assert first.state == ClockState.BREACHED
    assert first.met is False
    assert first.due_at == sh(2026, 11, 23, 12, 0)


def test_contract_policy_wins_and_first_match_applies(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    from pledge.customers import services as customer_services

    contract = customer_services.contract_create(
        organisation=world.org_a,
        number="C-1",
        tier="gold",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
    )
    make_policy(calendars["cn-office"], name="All", position=0, resolution_minutes=960)
    make_policy(calendars["24x7"], name="P1", position=1, priorities=["P1"], resolution_minutes=240)
    own = make_policy(
        calendars["24x7"], name="Contract", position=9, contract=contract, resolution_minutes=120
    )
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    assert ticket.contract_id == contract.pk
    assert ticket.sla_policy_id == own.pk
    other = world.ticket(org=world.org_b, priority="P1", at=sh(2026, 11, 23, 10, 0))
    assert other.sla_policy.name == "All"  # the first matching policy applies


def test_priority_change_rematches_with_an_event(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    make_policy(calendars["24x7"], name="Critical", position=0, priorities=["P1"], resolution_minutes=240)
    make_policy(calendars["cn-office"], name="Normal", position=1, resolution_minutes=960)
    ticket = world.ticket(priority="P3", at=sh(2026, 11, 23, 10, 0))
    assert ticket.sla_policy.name == "Normal"
    ticket = ticket_services.ticket_update(
        actor=world.agent,
        ticket=ticket,
        expected_version=ticket.version,
        priority="P1",
        at=sh(2026, 11, 23, 11, 0),
    )
    ticket = fresh(ticket)
    assert ticket.sla_policy.name == "Critical"
    resolution = clock(ticket, "resolution")
    # 60 office minutes used by 11:00 stay used; 180 are left on the 24x7 calendar.
    assert resolution.calendar.code == "24x7"
    assert resolution.due_at == sh(2026, 11, 23, 14, 0)
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.SLA)
    assert (event.old_value, event.new_value) == ("Normal", "Critical")
    assert event.data["clocks"][0]["new_minutes"] == 240


def test_on_site_arrival(world: World, calendars: dict[str, BusinessCalendar]) -> None:
    make_policy(calendars["24x7"], resolution_minutes=2880, on_site_minutes=240)
    visit = world.ticket(kind="field_visit", at=sh(2026, 11, 23, 10, 0))
    fault = world.ticket(kind="fault", at=sh(2026, 11, 23, 10, 0))
    assert not SlaClock.objects.filter(ticket=fault, target="on_site").exists()
    assert clock(visit, "on_site").due_at == sh(2026, 11, 23, 14, 0)
    ticket_services.ticket_record_arrival(
        actor=world.field_agent, ticket=visit, expected_version=visit.version, at=sh(2026, 11, 23, 13, 0)
    )
    assert clock(visit, "on_site").state == ClockState.ACHIEVED
    assert TicketEvent.objects.filter(ticket=visit, kind=EventKind.ON_SITE).count() == 1
    with pytest.raises(Exception, match="already recorded"):
        ticket_services.ticket_record_arrival(
            actor=world.field_agent, ticket=fresh(visit), expected_version=None
        )


def test_deadline_into_a_year_without_holiday_data_is_provisional(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    make_policy(calendars["cn-office"], resolution_minutes=4800)  # ten working days
    ticket = world.ticket(at=sh(2026, 12, 28, 10, 0))
    resolution = clock(ticket, "resolution")
    assert resolution.uncovered_years == [2027]
    # Importing 2027's schedule recounts the clock in the import's transaction: 2027-01-01 is a holiday in the imported data.
    standards_services.holiday_year_import(
        set_code="cn-statutory",
        document={"year": 2027, "holidays": ["2027-01-01"], "makeup_workdays": {}},
        actor=world.manager,
    )
    result = clocks.last_recount()
    assert result is not None
    assert result.clocks >= 1
    recounted = clock(ticket, "resolution")
    assert recounted.uncovered_years == []


def test_calendar_change_recounts_running_clocks_with_an_event(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    untouched = world.ticket(at=sh(2026, 11, 23, 10, 0))
    ticket_services.ticket_reply(actor=world.agent, ticket=untouched, body="x", at=sh(2026, 11, 23, 10, 30))
    untouched = fresh(untouched)
    ticket_services.ticket_transition(
        actor=world.agent,
        ticket=untouched,
        to_status=Status.WAITING_CUSTOMER,
        expected_version=untouched.version,
        at=sh(2026, 11, 23, 10, 30),
    )
    before = clock(ticket, "resolution").due_at
    assert before == sh(2026, 11, 25, 10, 0)
    # Tuesday becomes a holiday: every running clock across it moves by a working day.
    standards_services.calendar_set_holiday(
        calendar=calendars["cn-office"], day=date(2026, 11, 24), name="Company day", actor=world.manager
    )
    result = clocks.last_recount()  # the calendar service recounted in its transaction
    assert result is not None
    assert clock(ticket, "resolution").due_at == sh(2026, 11, 26, 10, 0)
    assert fresh(ticket).sla_due_at == sh(2026, 11, 23, 12, 0)  # first response, unchanged
    assert result.tickets == 1
    # The recount is stored once, with who, why and how much, and is an event in the moved ticket's history.
    recount = SlaRecount.objects.get()
    assert (recount.calendar, recount.calendar_version, recount.actor) == (
        calendars["cn-office"],
        BusinessCalendar.objects.get(code="cn-office").version,  # the version the holiday made
        world.manager,
    )
    # Both running clocks recounted; the first response (due Monday noon) does not move.
    assert (recount.clocks, recount.moved, recount.tickets) == (2, 1, 1)
    [event] = sla_events(fresh(ticket))
    assert (event.data["calendar"], event.actor, event.created_at) == (
        "cn-office",
        world.manager,
        recount.created_at,
    )
    assert sla_events(fresh(ticket), internal=False) == []  # staff only, like every SLA event
    # The paused ticket's clocks have no due instant to move: no event.
    assert sla_events(fresh(untouched)) == []
    assert list(SlaRecountTicket.objects.values_list("ticket_id", flat=True)) == [ticket.pk]


def test_policy_change_recounts_its_open_tickets(world: World, office_policy: SlaPolicy) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    same_policy = world.ticket(org=world.org_b, at=sh(2026, 11, 23, 10, 0))
    SlaPolicy.objects.filter(pk=office_policy.pk).update(resolution_minutes=480)
    result = clocks.recompute_for_policies(
        policy_ids=[office_policy.pk], actor=world.manager, reason="tighter"
    )
    assert result.tickets == 2
    assert clock(same_policy, "resolution").target_minutes == 480
    assert clock(ticket, "resolution").target_minutes == 480
    assert clock(ticket, "resolution").due_at == sh(2026, 11, 24, 10, 0)
    assert clock(ticket, "first_response").due_at == sh(2026, 11, 23, 12, 0)  # unchanged
    [event] = sla_events(fresh(ticket))
    assert (event.data["reason"], event.data["policy"]) == ("tighter", office_policy.pk)
    recount = SlaRecount.objects.get()
    assert (recount.policy, recount.reason, recount.tickets) == (office_policy, "tighter", 2)


def test_policy_calendar_switch_keeps_the_time_used(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    SlaPolicy.objects.filter(pk=office_policy.pk).update(calendar=calendars["24x7"])
    clocks.recompute_for_policies(
        policy_ids=[office_policy.pk], actor=world.manager, at=sh(2026, 11, 23, 11, 0), reason="24x7 now"
    )
    resolution = clock(ticket, "resolution")
    assert resolution.calendar_id == calendars["24x7"].pk
    assert resolution.offset_minutes == pytest.approx(60)  # 10:00–11:00 on the office calendar
    assert resolution.due_at == sh(2026, 11, 23, 11, 0) + (
        sh(2026, 11, 24, 0, 0) - sh(2026, 11, 23, 9, 0)
    )  # 900 min


def test_policy_pause_status_added_pauses_waiting_tickets(world: World, office_policy: SlaPolicy) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    ticket = ticket_services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        to_status=Status.IN_PROGRESS,
        expected_version=ticket.version,
        at=sh(2026, 11, 23, 10, 30),
    )
    ticket_services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        to_status=Status.WAITING_BACK_OFFICE,
        expected_version=ticket.version,
        at=sh(2026, 11, 23, 11, 0),
    )
    assert clock(ticket, "resolution").state == ClockState.RUNNING
    SlaPolicy.objects.filter(pk=office_policy.pk).update(
        pause_statuses=["waiting_customer", "waiting_parts", "waiting_back_office"]
    )
    clocks.recompute_for_policies(
        policy_ids=[office_policy.pk],
        actor=world.manager,
        at=sh(2026, 11, 23, 14, 0),
        reason="pause for 2nd line",
    )
    paused = clock(ticket, "resolution")
    assert paused.state == ClockState.PAUSED
    assert paused.offset_minutes == pytest.approx(180)
    assert fresh(ticket).sla_due_at is None
    assert len(sla_events(fresh(ticket))) == 1


def test_policy_target_added_and_withdrawn(world: World, calendars: dict[str, BusinessCalendar]) -> None:
    policy = make_policy(calendars["24x7"], resolution_minutes=2880, first_response_minutes=60)
    visit = world.ticket(kind="field_visit", at=sh(2026, 11, 23, 10, 0))
    SlaPolicy.objects.filter(pk=policy.pk).update(on_site_minutes=240, first_response_minutes=None)
    clocks.recompute_for_policies(policy_ids=[policy.pk], actor=world.manager, at=sh(2026, 11, 23, 11, 0))
    assert clock(visit, "on_site").due_at == sh(2026, 11, 23, 15, 0)  # counts from the change
    assert clock(visit, "first_response").state == ClockState.CANCELLED
    assert fresh(visit).sla_due_at == sh(2026, 11, 23, 15, 0)


def test_the_calendar_history_says_what_each_change_recounted(
    client: Client, world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    client.force_login(world.manager)
    # Through the day editor, as a manager would: Tuesday off moves the resolution (not the first response).
    response = client.post(
        "/standards/calendars/cn-office/days/",
        {"action": "holiday_on", "date": "2026-11-24", "name": "Company day", "reason": "Typhoon"},
    )
    assert response.status_code == 302
    page = client.get("/standards/calendars/cn-office/").content.decode()
    assert "Running SLA clocks recounted: 2; due times moved: 1, on 1 ticket." in page
    # A holiday next June moves nothing: the recount is still recorded, with nothing moved.
    client.post("/standards/calendars/cn-office/days/", {"action": "holiday_on", "date": "2027-06-01"})
    page = client.get("/standards/calendars/cn-office/").content.decode()
    assert "Running SLA clocks recounted: 2; no due time moved." in page
    assert [event.data["reason"] for event in sla_events(fresh(ticket))] == ["Typhoon"]
    # The ticket page tells the story in its timeline.
    ticket_page = client.get(f"/agent/tickets/{ticket.pk}/").content.decode()
    assert "SLA clocks recounted after a change to the calendar cn-office." in ticket_page
    assert "Typhoon" in ticket_page
    # Administrators find every recount, read-only, in the admin.
    client.force_login(world.admin)
    listing = client.get("/admin/tickets/slarecount/", {"q": "Typhoon"})
    assert listing.status_code == 200 and "1 SLA recount" in listing.content.decode()


def test_a_recount_that_gives_a_breached_clock_time_again_runs_it_and_the_sweep_breaches_again(
    world: World,
    office_policy: SlaPolicy,
    calendars: dict[str, BusinessCalendar],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The calendar service recounts at the current time: pin it to before the deadlines below.
    monkeypatch.setattr(timezone, "now", lambda: sh(2026, 11, 23, 12, 0))
    ticket = world.ticket(at=sh(2026, 12, 7, 9, 0))  # a Monday
    assert clock(ticket, "resolution").due_at == sh(2026, 12, 8, 18, 0)  # 960 working minutes
    assert escalation.mark_breaches(sh(2026, 12, 9, 9, 0)) == 2  # first response and resolution
    # Tuesday becomes a holiday: the resolution is due on Wednesday evening, after "now" (the recount
    # counts at the pinned time, before December): it runs again. The first response (due Monday 11:00)
    # stays breached.
    standards_services.calendar_set_holiday(
        calendar=calendars["cn-office"], day=date(2026, 12, 8), name="Company day", actor=world.manager
    )
    resolution = clock(ticket, "resolution")
    assert (resolution.state, resolution.due_at) == (ClockState.RUNNING, sh(2026, 12, 9, 18, 0))
    assert clock(ticket, "first_response").state == ClockState.BREACHED
    # The sweep breaches it again when its new due instant passes, with the breach in the history.
    assert escalation.mark_breaches(sh(2026, 12, 10, 9, 0)) == 1
    assert clock(ticket, "resolution").state == ClockState.BREACHED
    breaches = [e.field for e in sla_events(fresh(ticket)) if e.new_value == ClockState.BREACHED]
    assert sorted(breaches) == ["first_response", "resolution", "resolution"]


def test_a_smaller_target_makes_a_clock_that_used_more_due_at_once(
    world: World, office_policy: SlaPolicy
) -> None:
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0))
    for status, at in (
        (Status.IN_PROGRESS, sh(2026, 11, 23, 10, 30)),
        (Status.WAITING_CUSTOMER, sh(2026, 11, 23, 14, 0)),  # 180 working minutes used
        (Status.IN_PROGRESS, sh(2026, 11, 24, 9, 0)),
    ):
        ticket = ticket_services.ticket_transition(
            actor=world.agent, ticket=ticket, to_status=status, expected_version=ticket.version, at=at
        )
    assert clock(ticket, "resolution").offset_minutes == pytest.approx(180)
    SlaPolicy.objects.filter(pk=office_policy.pk).update(resolution_minutes=120)
    clocks.recompute_for_policies(
        policy_ids=[office_policy.pk], actor=world.manager, at=sh(2026, 11, 24, 10, 0), reason="tighter"
    )
    # Due when it resumed (already over the new target); the sweep breaches it, with its event.
    resolution = clock(ticket, "resolution")
    # (As a position: where it resumed, which is where the last working period before closed.)
    assert (resolution.state, resolution.due_at) == (ClockState.RUNNING, sh(2026, 11, 23, 18, 0))
    assert escalation.mark_breaches(sh(2026, 11, 24, 10, 1)) >= 1
    assert clock(ticket, "resolution").state == ClockState.BREACHED


def test_one_deadline_past_the_supported_years_leaves_the_others_alone(world: World) -> None:
    utc = ZoneInfo("UTC")
    sparse = BusinessCalendar.objects.create(
        code="sparse", name="Sparse", timezone="UTC", weekly={"sat": ["09:00-10:00"]}
    )
    make_policy(sparse, first_response_minutes=60, resolution_minutes=525_600)  # a year of one-hour weeks
    ticket = world.ticket(at=datetime(2026, 11, 23, 10, 0, tzinfo=utc))
    assert clock(ticket, "first_response").due_at == datetime(2026, 11, 28, 10, 0, tzinfo=utc)
    assert clock(ticket, "resolution").due_at is None  # past 2100: never due
    assert escalation.mark_breaches(datetime(2026, 12, 1, tzinfo=utc)) == 1
    clocks.recompute_for_calendars(
        calendar_ids=[sparse.pk], actor=world.manager, at=datetime(2026, 12, 2, tzinfo=utc)
    )
    first = clock(ticket, "first_response")
    assert (first.state, first.due_at) == (ClockState.BREACHED, datetime(2026, 11, 28, 10, 0, tzinfo=utc))


def test_the_version_history_shows_the_recount_of_the_change_that_made_the_version(
    world: World, office_policy: SlaPolicy, calendars: dict[str, BusinessCalendar]
) -> None:
    world.ticket(at=sh(2026, 11, 23, 10, 0))
    standards_services.calendar_set_holiday(
        calendar=calendars["cn-office"],
        day=date(2026, 11, 24),
        name="Company day",
        actor=world.manager,
        reason="Typhoon",
    )
    # Importing holiday data recounts the calendar too, without making a version of it.
    standards_services.holiday_year_import(
        set_code="cn-statutory",
        document={"year": 2027, "holidays": ["2027-01-01"], "makeup_workdays": {}},
        actor=world.manager,
    )
    assert SlaRecount.objects.count() == 2
    latest = standard_selectors.calendar_versions(BusinessCalendar.objects.get(code="cn-office"))[0]
    assert latest.recount.reason == "Typhoon"
