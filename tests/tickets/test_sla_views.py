"""SLA clocks in the agent workspace: the clock views the selectors compute, the queue's SLA column and
sort, the ticket page's SLA panel (running, paused, breached, achieved, provisional), the timeline's
sentences for SLA events, recording arrival on site and watching, with their permissions and htmx
partials; and the notifications inbox with its nav badge."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pledge.accounts.models import Notification
from pledge.standards.models import BusinessCalendar, EscalationLevel, SlaPolicy
from pledge.standards.selectors import business_time_for
from pledge.tickets import clocks, escalation, selectors, services
from pledge.tickets.choices import ClockState, EventKind
from pledge.tickets.models import SlaClock, Ticket, TicketEvent
from tests.conftest import World

SH = ZoneInfo("Asia/Shanghai")
HTMX = {"HTTP_HX_REQUEST": "true"}
ROW = re.compile(r'<tr class="ws-row-[^"]*">(.*?)</tr>', re.S)


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def make_policy(calendar: BusinessCalendar, **fields: Any) -> SlaPolicy:
    fields.setdefault("name", "Gold 24x7")
    policy = SlaPolicy.objects.create(calendar=calendar, **fields)
    clocks.forget_cached_policies()
    return policy


@pytest.fixture
def round_the_clock(calendars: dict[str, BusinessCalendar]) -> SlaPolicy:
    """Targets on the 24x7 calendar, so that wall-clock minutes are business minutes and tests can
    place tickets relative to the real now."""
    return make_policy(
        calendars["24x7"],
        first_response_minutes=120,
        next_response_minutes=60,
        resolution_minutes=960,
        on_site_minutes=240,
    )


def ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def page(client: Client, ticket: Ticket, **extra: Any) -> str:
    response = client.get(f"/agent/tickets/{ticket.pk}/", **extra)
    assert response.status_code == 200
    return response.content.decode()


def panel(html: str) -> str:
    match = re.search(r'<section id="sla-panel".*?</section>', html, re.S)
    assert match, "no SLA panel"
    return match.group(0)


def clock_block(html: str, target: str) -> str:
    match = re.search(rf'<div class="sla-clock [^"]*" data-target="{target}".*?</dl>', html, re.S)
    assert match, f"no {target} clock"
    return match.group(0)


# The clock views ------------------------------------------------------------------------------


def test_clock_view_figures_while_running_paused_and_achieved(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    make_policy(calendars["cn-office"], first_response_minutes=120, resolution_minutes=960)
    ticket = world.ticket(at=sh(2026, 11, 23, 10, 0), contact=world.contact_a)  # a Monday
    sla = selectors.ticket_clocks(fresh(ticket), sh(2026, 11, 23, 11, 30))
    assert sla.policy is not None and sla.policy.name == "Gold 24x7"
    first, resolution = sla.clocks
    assert (first.target, resolution.target) == ("first_response", "resolution")
    assert first.state == ClockState.RUNNING and first.level == "warning"
    assert first.used_minutes == pytest.approx(90)
    assert first.remaining_minutes == pytest.approx(30)
    assert first.percent_used == pytest.approx(75)
    assert first.due_at == sh(2026, 11, 23, 12, 0)

    # Over lunch and past the due instant, before any sweep: already breached, overdue by business time.
    late = selectors.ticket_clocks(fresh(ticket), sh(2026, 11, 23, 13, 15)).clocks[0]
    assert late.state == ClockState.BREACHED and late.level == "breached"
    assert late.remaining_minutes == pytest.approx(-15)
    assert SlaClock.objects.get(ticket=ticket, target="first_response").state == ClockState.RUNNING

    services.ticket_reply(actor=world.agent, ticket=ticket, body="On it", at=sh(2026, 11, 23, 11, 30))
    ticket = services.ticket_transition(
        actor=world.agent,
        ticket=fresh(ticket),
        to_status="waiting_customer",
        expected_version=fresh(ticket).version,
        at=sh(2026, 11, 23, 14, 0),
    )
    first, resolution = selectors.ticket_clocks(fresh(ticket), sh(2026, 11, 23, 16, 0)).clocks
    assert first.state == ClockState.ACHIEVED and first.met is True and first.level == "met"
    assert first.achieved_at == sh(2026, 11, 23, 11, 30)
    assert resolution.state == ClockState.PAUSED and resolution.is_paused
    assert resolution.due_at is None
    assert resolution.used_minutes == pytest.approx(180)  # 10–12 and 13–14, frozen
    assert resolution.paused_minutes == pytest.approx(120)  # the current pause so far, 14–16
    assert resolution.paused_since == sh(2026, 11, 23, 14, 0)


def test_most_urgent_clock_prefers_the_earliest_due_then_paused(
    world: World, round_the_clock: SlaPolicy
) -> None:
    ticket = world.ticket(at=ago(30))
    urgent = selectors.urgent_clocks_for([fresh(ticket)], timezone.now())[ticket.pk]
    assert urgent.target == "first_response"  # due in 90 minutes, resolution in 930
    ticket = services.ticket_transition(
        actor=world.agent, ticket=fresh(ticket), to_status="in_progress", expected_version=ticket.version
    )
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status="waiting_parts", expected_version=ticket.version
    )
    urgent = selectors.urgent_clocks_for([fresh(ticket)], timezone.now())[ticket.pk]
    assert urgent.is_paused and urgent.target == "first_response"  # least time left of the paused
    assert selectors.urgent_clocks_for([world.ticket(org=world.org_b)], timezone.now()) != {}


# The queue ------------------------------------------------------------------------------------


@pytest.fixture
def sla_queue(world: World, round_the_clock: SlaPolicy) -> dict[str, Ticket]:
    """Open tickets in every SLA situation, all visible to the agent (no team: the triage pool)."""
    tickets = {
        "fresh": world.ticket(subject="Fresh", at=ago(0.1)),
        "warning": world.ticket(subject="Nearly due", at=ago(100)),
        "overdue": world.ticket(subject="Overdue", at=ago(155)),
        "paused": world.ticket(subject="Paused", at=ago(10)),
    }
    paused = services.ticket_transition(
        actor=world.agent,
        ticket=tickets["paused"],
        to_status="acknowledged",
        expected_version=tickets["paused"].version,
    )
    services.ticket_transition(
        actor=world.agent, ticket=paused, to_status="waiting_customer", expected_version=paused.version
    )
    SlaPolicy.objects.filter(pk=round_the_clock.pk).update(is_active=False)
    clocks.forget_cached_policies()
    tickets["none"] = world.ticket(subject="No SLA")
    return tickets


def queue_cells(html: str) -> dict[str, str]:
    cells = {}
    for row in ROW.findall(html):
        subject = re.search(r'title="([^"]*)">', row.split('class="ws-subject"')[1]).group(1)
        sla = re.search(r'<td class="ws-nowrap ws-sla"[^>]*>(.*?)</td>', row, re.S)
        assert sla is not None
        cells[subject] = re.sub(r"<[^>]+>", "", sla.group(1)).strip()
    return cells


def test_queue_shows_each_tickets_most_urgent_clock(
    client: Client, world: World, sla_queue: dict[str, Ticket]
) -> None:
    html = signed_in(client, world.agent).get("/agent/").content.decode()
    assert '<th scope="col">SLA</th>' in html
    cells = queue_cells(html)
    assert cells["Fresh"] == "2 h left First response"
    assert cells["Nearly due"] == "20 m left First response"
    assert cells["Overdue"] == "overdue 35 m First response"
    assert cells["Paused"] == "paused First response"
    assert cells["No SLA"] == "—"
    # Coloured by the share of the target used.
    assert 'class="badge badge-green sla-chip sla-ok">2 h left' in html
    assert 'class="badge badge-orange sla-chip sla-warning">20 m left' in html
    assert 'class="badge badge-red sla-chip sla-breached">overdue 35 m' in html
    assert 'class="badge badge-grey sla-chip sla-paused">paused' in html


def test_queue_sorts_by_sla_due_most_urgent_first_and_nulls_last(
    client: Client, world: World, sla_queue: dict[str, Ticket]
) -> None:
    html = signed_in(client, world.agent).get("/agent/", {"sort": "sla"}).content.decode()
    assert '<option value="sla" selected>SLA due</option>' in html
    order = list(queue_cells(html))
    assert order[:3] == ["Overdue", "Nearly due", "Fresh"]
    # Neither the paused ticket nor the one without a policy has a running clock: last, oldest first.
    assert order[3:] == ["Paused", "No SLA"]


def test_queue_query_count_with_clocks_does_not_grow_with_page_size(
    client: Client, world: World, round_the_clock: SlaPolicy, django_assert_num_queries: Any
) -> None:
    for i in range(30):
        ticket = world.ticket(subject=f"ticket {i}", at=ago(i), team=world.frontline if i % 2 else None)
        if i % 3 == 0:
            services.ticket_reply(actor=world.customer_a, ticket=ticket, body="More detail")
    signed_in(client, world.agent)
    client.get("/agent/", {"page_size": 5, "sort": "sla"})  # warm the compiled calendars of this process
    with CaptureQueriesContext(connection) as small:
        response = client.get("/agent/", {"page_size": 5, "sort": "sla"})
    assert len(response.context["rows"]) == 5
    statements = [q["sql"] for q in small.captured_queries]
    assert sum("tickets_slaclock" in sql for sql in statements) == 1, statements
    with django_assert_num_queries(len(statements)):
        response = client.get("/agent/", {"page_size": 25, "sort": "sla"})
    assert len(response.context["rows"]) == 25
    assert all(clock is not None for _ticket, clock in response.context["rows"])
    with django_assert_num_queries(len(statements) - 1):  # the htmx partial shows no nav badge
        client.get("/agent/", {"page_size": 25, "sort": "sla"}, **HTMX)


def test_queue_sorts_by_the_business_time_left_on_each_tickets_own_calendar(
    world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    """Deadlines are positions on their calendars: the SLA sort compares the business time left on each
    (what the queue shows), not the due instants, and keeps tickets without a running clock last."""
    office, always = calendars["cn-office"], calendars["24x7"]
    now = timezone.now()
    left = {"office overdue": (office, -60), "office 2 h": (office, 120), "24x7 3 h": (always, 180)}
    made = {}
    for subject, (calendar, minutes) in left.items():
        ticket = world.ticket(subject=subject)
        position = business_time_for(calendar).position(now) + minutes * 60
        Ticket.objects.filter(pk=ticket.pk).update(sla_calendar=calendar, sla_due_pos=position)
        made[subject] = ticket
    world.ticket(subject="no clock")
    page = selectors.ticket_list_for(world.manager, selectors.TicketFilters(view="open"), sort="sla")
    assert [ticket.subject for ticket in page.items] == [
        "office overdue",
        "office 2 h",
        "24x7 3 h",
        "no clock",
    ]
    # Each item knows its due instant without another query.
    with CaptureQueriesContext(connection) as queries:
        dues = {ticket.subject: ticket.sla_due_at for ticket in page.items}
    assert queries.captured_queries == []
    assert dues["no clock"] is None
    due = dues["24x7 3 h"]
    assert due is not None and abs(due - (now + timedelta(minutes=180))) < timedelta(seconds=1)


# The ticket page ------------------------------------------------------------------------------


def test_panel_shows_policy_targets_and_figures_while_running(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    ticket = world.ticket(at=ago(30), team=world.frontline)
    html = panel(page(signed_in(client, world.agent), ticket))
    assert "Service level" in html
    assert "Gold 24x7" in html
    first = clock_block(html, "first_response")
    assert "First response" in first
    assert 'data-state="running"' in first
    assert "badge badge-green sla-state" in first
    due = timezone.localtime(fresh(ticket).sla_due_at, SH).strftime("%Y-%m-%d %H:%M")
    assert due in first  # in the agent's zone (Asia/Shanghai)
    assert "30 m of 2 h (25 %)" in first
    assert "1 h 30 m left" in first
    resolution = clock_block(html, "resolution")
    assert "30 m of 16 h (3 %)" in resolution
    assert "On-site arrival" not in html  # promised to field visits only
    assert "not yet imported" not in html


def test_panel_shows_the_due_in_the_viewers_time_zone(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    from pledge.accounts import services as account_services

    ticket = world.ticket(at=ago(30), team=world.frontline)
    account_services.user_set_preferences(user=world.agent, timezone_name="Europe/London")
    html = panel(page(signed_in(client, world.agent), ticket))
    due = fresh(ticket).sla_due_at
    assert timezone.localtime(due, ZoneInfo("Europe/London")).strftime("%Y-%m-%d %H:%M") in html


def test_panel_while_paused(client: Client, world: World, round_the_clock: SlaPolicy) -> None:
    ticket = world.ticket(at=ago(40), team=world.frontline)
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status="in_progress", expected_version=ticket.version, at=ago(20)
    )
    services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        to_status="waiting_parts",
        expected_version=ticket.version,
        at=ago(20),
    )
    html = panel(page(signed_in(client, world.agent), ticket))
    first = clock_block(html, "first_response")
    assert 'data-state="paused"' in first and "badge badge-grey" in first
    assert "none while paused" in first
    assert "20 m of 2 h" in first  # used time is frozen at the pause
    assert re.search(r"<dd>20 m · paused since \d{4}-\d\d-\d\d \d\d:\d\d</dd>", first)
    assert "1 h 40 m left (paused)</dd>" in first


def test_panel_when_breached_by_the_sweep_and_the_timeline_says_so(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    ticket = world.ticket(at=ago(150), team=world.frontline)
    assert escalation.mark_breaches(timezone.now()) == 1
    html = page(signed_in(client, world.agent), ticket)
    first = clock_block(panel(html), "first_response")
    assert 'data-state="breached"' in first and "badge badge-red" in first
    assert "overdue 30 m" in first
    due = timezone.localtime(fresh(ticket).sla_due_at, SH).strftime("%Y-%m-%d %H:%M")
    assert f"The First response target was breached (due {due})." in html


def test_panel_when_achieved_on_time_and_late(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    ticket = world.ticket(at=ago(30), team=world.frontline, contact=world.contact_a)
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Here we are")
    late = world.ticket(at=ago(200), team=world.frontline, contact=world.contact_a)
    services.ticket_reply(actor=world.agent, ticket=late, body="Sorry for the wait")
    client = signed_in(client, world.agent)
    first = clock_block(panel(page(client, ticket)), "first_response")
    assert 'data-state="achieved"' in first and "badge badge-green" in first
    assert "Achieved" in first
    assert "Remaining" not in first
    late_first = clock_block(panel(page(client, late)), "first_response")
    assert 'data-state="breached"' in late_first and "Achieved" in late_first
    assert "3 h 20 m of 2 h (167 %)" in late_first


def test_panel_keeps_earlier_next_response_cycles_as_history(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    ticket = world.ticket(at=ago(60), team=world.frontline, contact=world.contact_a)
    services.ticket_reply(actor=world.agent, ticket=ticket, body="First answer", at=ago(50))
    services.ticket_reply(actor=world.customer_a, ticket=ticket, body="Question 1", at=ago(40))
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Answer 1", at=ago(30))
    services.ticket_reply(actor=world.customer_a, ticket=ticket, body="Question 2", at=ago(20))
    sla = selectors.ticket_clocks(fresh(ticket), timezone.now())
    [current] = [c for c in sla.clocks if c.target == "next_response"]
    assert current.cycle == 1 and current.state == ClockState.RUNNING
    assert [(c.cycle, c.state) for c in sla.history] == [(0, ClockState.ACHIEVED)]
    html = panel(page(signed_in(client, world.agent), ticket))
    assert "1 earlier next response" in html
    assert "40 m left" in clock_block(html, "next_response")


def test_panel_warns_when_the_deadline_is_provisional(
    client: Client, world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    make_policy(calendars["cn-office"], name="Office", resolution_minutes=960)
    ticket = world.ticket(at=sh(2030, 12, 30, 10, 0), team=world.frontline)
    assert SlaClock.objects.get(ticket=ticket).uncovered_years == [2030, 2031]
    html = panel(page(signed_in(client, world.agent), ticket))
    assert "Holiday data for 2030–2031 not yet imported: the deadline may move." in html
    assert 'class="sla-provisional-mark"' in clock_block(html, "resolution")


def test_panel_without_a_policy(client: Client, world: World) -> None:
    ticket = world.ticket(team=world.frontline)
    html = panel(page(signed_in(client, world.agent), ticket))
    assert "No SLA policy applies to this ticket." in html
    assert "Record arrival on site" not in html


def test_panel_names_the_contract(client: Client, world: World, round_the_clock: SlaPolicy) -> None:
    from pledge.customers.models import Contract

    contract = Contract.objects.create(
        organisation=world.org_a,
        number="C-2026-007",
        start_date=timezone.localdate() - timedelta(days=30),
        end_date=timezone.localdate() + timedelta(days=300),
    )
    clocks.forget_cached_policies()
    ticket = world.ticket(team=world.frontline)
    assert fresh(ticket).contract_id == contract.pk
    assert "C-2026-007" in panel(page(signed_in(client, world.agent), ticket))


def test_status_change_over_htmx_refreshes_the_sla_panel(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    ticket = world.ticket(at=ago(10), team=world.frontline)
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status="in_progress", expected_version=ticket.version
    )
    response = signed_in(client, world.agent).post(
        f"/agent/tickets/{ticket.pk}/status/",
        {"to_status": "waiting_customer", "version": ticket.version},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<section id="sla-panel" hx-swap-oob="innerHTML">' in html
    assert 'data-state="paused"' in clock_block(html, "first_response")


# The timeline's SLA sentences -----------------------------------------------------------------


def test_timeline_tells_escalations_recounts_watchers_and_arrivals(
    client: Client, world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    policy = make_policy(
        calendars["24x7"], name="Field 24x7", position=5, resolution_minutes=100, on_site_minutes=240
    )
    EscalationLevel.objects.create(
        policy=policy, target="resolution", percent=50, notify=["assignee"], add_watcher=world.manager
    )
    clocks.forget_cached_policies()
    ticket = world.ticket(
        kind="field_visit", at=ago(60), team=world.field, assignee=world.field_agent, priority="P3"
    )
    assert escalation.sla_sweep(timezone.now()).escalated == 1
    ticket = fresh(ticket)
    old_due = ticket.sla_due_at
    make_policy(calendars["24x7"], name="Urgent 24x7", priorities=["P1"], resolution_minutes=240)
    ticket = services.ticket_update(
        actor=world.lead, ticket=ticket, expected_version=ticket.version, priority="P1"
    )
    ticket = services.ticket_record_arrival(
        actor=world.field_agent, ticket=ticket, expected_version=ticket.version
    )
    services.ticket_add_watcher(actor=world.field_agent, ticket=ticket, user=world.field_agent)

    html = page(signed_in(client, world.field_agent), ticket)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Escalated: Resolution reached 50 % of its target — watcher added, people notified." in text
    assert "System added Manager as a watcher." in text
    assert "Lead: the SLA policy changed from Field 24x7 to Urgent 24x7." in text
    new_due = fresh(ticket).clocks.get(target="resolution").due_at
    local = "%Y-%m-%d %H:%M"
    assert (
        f"Resolution: {timezone.localtime(old_due, SH).strftime(local)} → "
        f"{timezone.localtime(new_due, SH).strftime(local)}"
    ) in text
    assert "Field Agent recorded the arrival on site." in text
    assert "Field Agent started watching the ticket." in text
    assert 'class="event ws-event ws-event-escalated"' in html


def test_timeline_tells_a_calendar_recount(client: Client, world: World, round_the_clock: SlaPolicy) -> None:
    ticket = world.ticket(team=world.frontline)
    TicketEvent.objects.create(
        ticket=ticket,
        actor=world.manager,
        kind=EventKind.SLA,
        field="sla",
        data={"reason": "Holiday data 2027 imported", "calendar": "cn-office", "calendar_version": 3},
        created_at=timezone.now(),
    )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page(signed_in(client, world.agent), ticket)))
    assert "Manager: SLA clocks recounted after a change to the calendar cn-office." in text
    assert "Reason: Holiday data 2027 imported" in text


# Arrival on site and watching -----------------------------------------------------------------


@pytest.fixture
def visit(world: World, round_the_clock: SlaPolicy) -> Ticket:
    return world.ticket(kind="field_visit", at=ago(30), team=world.field, assignee=world.field_agent)


def test_field_engineer_records_arrival_over_htmx(client: Client, world: World, visit: Ticket) -> None:
    client = signed_in(client, world.field_agent)
    html = panel(page(client, visit))
    assert "Record arrival on site" in html
    assert "3 h 30 m left" in clock_block(html, "on_site")
    response = client.post(f"/agent/tickets/{visit.pk}/arrival/", {"version": visit.version}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Arrival on site recorded." in html
    assert 'data-state="achieved"' in clock_block(html, "on_site")
    assert "Record arrival on site" not in html
    assert '<div id="timeline" hx-swap-oob="innerHTML">' in html
    assert '<section id="controls" hx-swap-oob="innerHTML">' in html
    ticket = fresh(visit)
    assert ticket.on_site_at is not None and ticket.version == visit.version + 1
    assert f'name="version" value="{ticket.version}"' in html  # the controls follow the new version
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ON_SITE, actor=world.field_agent).exists()


def test_arrival_without_javascript_redirects_with_a_flash(
    client: Client, world: World, visit: Ticket
) -> None:
    client = signed_in(client, world.field_agent)
    response = client.post(f"/agent/tickets/{visit.pk}/arrival/", {"version": visit.version})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Arrival on site recorded." in html
    assert "Arrived on site at" in html


def test_arrival_on_a_stale_version_shows_the_conflict(client: Client, world: World, visit: Ticket) -> None:
    services.ticket_update(
        actor=world.lead, ticket=visit, expected_version=visit.version, subject="Pump noise"
    )
    response = signed_in(client, world.field_agent).post(
        f"/agent/tickets/{visit.pk}/arrival/", {"version": visit.version}, **HTMX
    )
    assert response.status_code == 409
    assert "was changed by someone else" in response.content.decode()
    assert fresh(visit).on_site_at is None


def test_arrival_twice_is_refused_with_the_reason(client: Client, world: World, visit: Ticket) -> None:
    client = signed_in(client, world.field_agent)
    assert client.post(f"/agent/tickets/{visit.pk}/arrival/", {"version": visit.version}).status_code == 302
    response = client.post(f"/agent/tickets/{visit.pk}/arrival/", {"version": visit.version + 1}, **HTMX)
    assert response.status_code == 422
    assert "The arrival on site was already recorded." in response.content.decode()


def test_arrival_is_only_offered_on_open_field_visits(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    fault = world.ticket(team=world.frontline)
    client = signed_in(client, world.agent)
    assert "Record arrival on site" not in page(client, fault)
    response = client.post(f"/agent/tickets/{fault.pk}/arrival/", {"version": fault.version}, **HTMX)
    assert response.status_code == 422
    assert "Only field visits record an arrival on site." in response.content.decode()


def test_inspector_and_customer_cannot_record_arrival_or_watch(
    client: Client, world: World, visit: Ticket
) -> None:
    inspector = signed_in(Client(), world.inspector)
    html = page(inspector, visit)
    assert "Service level" in html  # reads the panel
    assert "Record arrival on site" not in html
    assert f'action="/agent/tickets/{visit.pk}/watchers/"' not in html
    assert (
        inspector.post(f"/agent/tickets/{visit.pk}/arrival/", {"version": visit.version}).status_code == 403
    )
    assert inspector.post(f"/agent/tickets/{visit.pk}/watchers/").status_code == 403
    assert inspector.post(f"/agent/tickets/{visit.pk}/watchers/remove/").status_code == 403
    customer = signed_in(Client(), world.customer_a)
    assert customer.post(f"/agent/tickets/{visit.pk}/arrival/", {"version": visit.version}).status_code == 404
    assert customer.post(f"/agent/tickets/{visit.pk}/watchers/").status_code == 404
    assert customer.post(f"/agent/tickets/{visit.pk}/watchers/remove/").status_code == 404
    # An agent outside the field team does not even see it.
    assert signed_in(Client(), world.agent).post(f"/agent/tickets/{visit.pk}/watchers/").status_code == 404
    ticket = fresh(visit)
    assert ticket.on_site_at is None and not ticket.watchers.exists()


def test_watch_adds_me_over_htmx_once(client: Client, world: World, visit: Ticket) -> None:
    client = signed_in(client, world.field_agent)
    html = page(client, visit)
    assert "Nobody watches this ticket." in html
    response = client.post(f"/agent/tickets/{visit.pk}/watchers/", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "You are watching this ticket." in html
    assert "<li>Field Agent</li>" in html
    assert ">Watch</button>" not in html
    assert '<div id="timeline" hx-swap-oob="innerHTML">' in html
    assert list(fresh(visit).watchers.all()) == [world.field_agent]
    again = client.post(f"/agent/tickets/{visit.pk}/watchers/")
    assert again.status_code == 302
    assert TicketEvent.objects.filter(ticket=visit, kind=EventKind.WATCHER).count() == 1


def test_stop_watching(client: Client, world: World, visit: Ticket) -> None:
    client = signed_in(client, world.field_agent)
    client.post(f"/agent/tickets/{visit.pk}/watchers/")
    assert ">Stop watching</button>" in page(client, visit)
    response = client.post(f"/agent/tickets/{visit.pk}/watchers/remove/", **HTMX)
    html = response.content.decode()
    assert "You no longer watch this ticket." in html
    assert ">Watch</button>" in html
    assert list(fresh(visit).watchers.all()) == []
    assert "Field Agent stopped watching the ticket." in page(client, visit)


# Notifications inbox and nav badge --------------------------------------------------------------


def notify(
    user: Any, ticket: Ticket | None, title: str, minutes_ago: int = 0, read: bool = False
) -> Notification:
    at = ago(minutes_ago)
    return Notification.objects.create(
        user=user, ticket=ticket, title=title, body="Spindle", created_at=at, read_at=at if read else None
    )


def test_inbox_lists_mine_unread_first_and_marks_read(client: Client, world: World) -> None:
    ticket = world.ticket(team=world.frontline)
    notify(world.agent, ticket, "Old unread", minutes_ago=30)
    notify(world.agent, ticket, "Read one", minutes_ago=1, read=True)
    newest = notify(world.agent, ticket, "New unread", minutes_ago=5)
    notify(world.lead, ticket, "Someone else's")
    client = signed_in(client, world.agent)
    html = client.get("/accounts/notifications/").content.decode()
    titles = re.findall(r'<div class="inbox-title"><a href="([^"]+)">([^<]+)</a>', html)
    assert [title for _href, title in titles] == ["New unread", "Old unread", "Read one"]
    assert titles[0][0] == f"/agent/tickets/{ticket.pk}/"
    assert re.search(
        r'<span id="nav-unread"><span class="badge badge-red" title="2 unread notifications">2<', html
    )

    response = client.post(f"/accounts/notifications/{newest.pk}/read/", **HTMX)
    assert response.status_code == 200
    partial = response.content.decode()
    assert f'<li id="notification-{newest.pk}" class="read">' in partial
    assert re.search(
        r'<span id="nav-unread" hx-swap-oob="true"><span class="badge badge-red"[^>]*>1<', partial
    )
    other = Notification.objects.get(user=world.lead)
    assert client.post(f"/accounts/notifications/{other.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=other.pk).read_at is None

    response = client.post("/accounts/notifications/read-all/")
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "All notifications are marked read." in html
    assert '<span id="nav-unread"></span>' in html  # no badge at zero
    assert Notification.objects.filter(user=world.agent, read_at__isnull=True).count() == 0


def test_nav_badge_costs_one_count_for_staff_and_nothing_for_customers(client: Client, world: World) -> None:
    notify(world.agent, None, "Escalated")
    signed_in(client, world.agent)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/agent/").content.decode()
    assert "Notifications" in html and re.search(
        r'id="nav-unread"><span class="badge badge-red"[^>]*>1<', html
    )
    counts = [q["sql"] for q in queries.captured_queries if "accounts_notification" in q["sql"]]
    assert len(counts) == 1 and "COUNT(" in counts[0]
    customer = signed_in(Client(), world.customer_a)
    with CaptureQueriesContext(connection) as queries:
        html = customer.get("/portal/").content.decode()
    assert "nav-unread" not in html
    assert not [q for q in queries.captured_queries if "accounts_notification" in q["sql"]]


def test_escalation_notifications_reach_the_inbox(
    client: Client, world: World, calendars: dict[str, BusinessCalendar]
) -> None:
    policy = make_policy(calendars["24x7"], name="Office", resolution_minutes=100)
    EscalationLevel.objects.create(policy=policy, target="resolution", percent=50, notify=["assignee"])
    clocks.forget_cached_policies()
    ticket = world.ticket(at=ago(60), team=world.frontline, assignee=world.agent)
    escalation.sla_sweep(timezone.now())
    html = signed_in(client, world.agent).get("/accounts/notifications/").content.decode()
    assert f"{ticket.number} escalated: Resolution at 50% of its target" in html
    assert f'href="/agent/tickets/{ticket.pk}/"' in html
