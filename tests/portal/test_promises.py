"""The portal's promised times: "We will respond by …" in the customer's time zone and language, "on
time" once kept, why the clock is paused, and never anything internal (policy, calendar, escalations,
percentages)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from pledge.accounts import services as account_services
from pledge.standards.models import BusinessCalendar, EscalationLevel, SlaPolicy
from pledge.tickets import clocks, escalation, services
from pledge.tickets.models import Ticket
from tests.conftest import World
from tests.portal.helpers import move

SH = ZoneInfo("Asia/Shanghai")


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


@pytest.fixture
def office(calendars: dict[str, BusinessCalendar]) -> SlaPolicy:
    policy = SlaPolicy.objects.create(
        name="INTERNAL Gold office",
        calendar=calendars["cn-office"],
        first_response_minutes=120,
        resolution_minutes=960,
    )
    EscalationLevel.objects.create(policy=policy, target="first_response", percent=50, notify=["assignee"])
    clocks.forget_cached_policies()
    return policy


@pytest.fixture
def round_the_clock(calendars: dict[str, BusinessCalendar]) -> SlaPolicy:
    policy = SlaPolicy.objects.create(
        name="INTERNAL 24x7",
        calendar=calendars["24x7"],
        first_response_minutes=120,
        next_response_minutes=60,
        resolution_minutes=960,
    )
    clocks.forget_cached_policies()
    return policy


def promises_html(client: Client, ticket: Ticket) -> tuple[str, str]:
    response = client.get(reverse("portal:ticket_detail", args=[ticket.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'<section class="card promises-card".*?</section>', html, re.S)
    return html, (re.sub(r"\s+", " ", match.group(0)) if match else "")


def test_promised_times_in_plain_words(client: Client, world: World, office: SlaPolicy) -> None:
    # Monday 23 Nov 2026 12:30, over lunch: 2 office hours from 13:00 → Mon 15:00; 16 → Wed 12:00.
    ticket = world.ticket(actor=world.customer_a, at=sh(2026, 11, 23, 12, 30))
    client.force_login(world.customer_a)
    html, card = promises_html(client, ticket)
    assert "Our promise to you" in card
    if timezone.now() < sh(2026, 11, 23, 15, 0):
        assert "We will respond by Mon 23 Nov 15:00." in card
    else:
        assert "We aimed to respond by Mon 23 Nov 15:00." in card
    assert "resolve this by Wed 25 Nov 12:00." in card
    for internal in ("INTERNAL", "cn-office", "中国标准工作日历", "%", "escalat", "business", "Escalat"):
        assert internal not in card
    assert "INTERNAL" not in html and "cn-office" not in html


def test_promised_times_follow_the_customers_time_zone(
    client: Client, world: World, office: SlaPolicy
) -> None:
    ticket = world.ticket(actor=world.customer_a, at=sh(2026, 11, 23, 12, 30))
    account_services.user_set_preferences(user=world.customer_a, timezone_name="Europe/London")
    client.force_login(world.customer_a)
    _html, card = promises_html(client, ticket)
    assert "Mon 23 Nov 07:00." in card  # 15:00 in Shanghai


def test_kept_and_late_promises(client: Client, world: World, round_the_clock: SlaPolicy) -> None:
    on_time = world.ticket(actor=world.customer_a, at=ago(30))
    services.ticket_reply(actor=world.agent, ticket=on_time, body="Looking now")
    late = world.ticket(actor=world.customer_a, at=ago(200))
    services.ticket_reply(actor=world.agent, ticket=late, body="Sorry for the wait", at=ago(10))
    client.force_login(world.customer_a)
    _html, card = promises_html(client, on_time)
    assert "Responded on time." in card
    assert "We aim to resolve this by" in card
    _html, card = promises_html(client, late)
    assert re.search(r"Responded on \w{3} \d{1,2} \w{3} \d\d:\d\d\.", card)
    assert "on time" not in card


def test_overdue_promise_apologises_without_internal_words(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    ticket = world.ticket(actor=world.customer_a, at=ago(150))
    escalation.sla_sweep(timezone.now())
    client.force_login(world.customer_a)
    _html, card = promises_html(client, ticket)
    assert "We aimed to respond by" in card and "Sorry for the wait" in card
    assert "breach" not in card.lower()


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        ("waiting_customer", "The clock is paused while we wait for your reply."),
        ("waiting_parts", "The clock is paused while we wait for parts."),
    ],
)
def test_paused_clock_says_why(
    client: Client, world: World, round_the_clock: SlaPolicy, status: str, sentence: str
) -> None:
    ticket = move(world, world.ticket(actor=world.customer_a, at=ago(30)), status)
    client.force_login(world.customer_a)
    _html, card = promises_html(client, ticket)
    assert card.count(sentence) == 1  # once, however many clocks are paused
    assert "We will respond by" not in card and "resolve this by" not in card


def test_a_pause_status_of_the_policy_other_than_the_two_named_ones(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    SlaPolicy.objects.filter(pk=round_the_clock.pk).update(pause_statuses=["waiting_back_office"])
    clocks.forget_cached_policies()
    ticket = move(world, world.ticket(actor=world.customer_a), "waiting_back_office")
    client.force_login(world.customer_a)
    _html, card = promises_html(client, ticket)
    assert "The clock is paused for now; it runs again as soon as work continues." in card


def test_no_policy_no_promise_card(client: Client, world: World) -> None:
    ticket = world.ticket(actor=world.customer_a)
    client.force_login(world.customer_a)
    html, card = promises_html(client, ticket)
    assert card == "" and "Our promise to you" not in html


def test_other_organisations_ticket_is_still_404(
    client: Client, world: World, round_the_clock: SlaPolicy
) -> None:
    ticket = world.ticket(actor=world.customer_a)
    client.force_login(world.customer_b)
    assert client.get(reverse("portal:ticket_detail", args=[ticket.pk])).status_code == 404


def test_promised_time_format_is_translatable(world: World, office: SlaPolicy, settings: Any) -> None:
    from pledge.portal import wording

    moment = sh(2026, 11, 24, 14, 0)
    with timezone.override(SH), translation.override("en"):
        assert wording.promised_time(moment) == "Tue 24 Nov 14:00"
    with timezone.override(SH), translation.override("zh-hans"):
        # Whatever the Chinese catalogue says for the format, the day and time are those of Shanghai.
        assert "14:00" in wording.promised_time(moment)
