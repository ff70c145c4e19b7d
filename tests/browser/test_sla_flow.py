"""SLA clocks in a real browser: a customer reads the promised response time in the Chinese portal; the
agent sees the SLA panel, sets the ticket to wait on the customer (the panel follows over htmx), and the
customer then reads why the clock is paused."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from pledge.portal import wording
from pledge.standards import services as standards_services
from pledge.standards.models import SlaPolicy
from pledge.tickets import clocks, services
from pledge.tickets.models import SlaClock
from tests.browser.helpers import sign_in
from tests.conftest import World


def in_chinese(text: str, **values: str) -> str:
    """The sentence as the Chinese portal shows it (English while the catalogue has no translation)."""
    with translation.override("zh-hans"):
        translated = gettext(text)
        return translated % values if values else translated


@pytest.mark.django_db(transaction=True)
def test_customer_sees_promise_then_pause_and_agent_sees_the_panel(
    live_server: Any, new_page: Any, world: World, tmp_path: Any
) -> None:
    base = live_server.url
    calendars = {c.code: c for c in standards_services.ensure_builtin_calendars()}
    SlaPolicy.objects.create(
        name="Gold 24x7", calendar=calendars["24x7"], first_response_minutes=120, resolution_minutes=960
    )
    clocks.forget_cached_policies()
    ticket = services.ticket_create(
        actor=world.customer_a,
        organisation=world.org_a,
        subject="冷却泵异响",
        kind="fault",
        asset=world.asset_a,
    )[0]
    due = SlaClock.objects.get(ticket=ticket, target="first_response").due_at
    assert due is not None
    with timezone.override(ZoneInfo("Asia/Shanghai")), translation.override("zh-hans"):
        promise = in_chinese("We will respond by %(when)s.", when=wording.promised_time(due))

    # The customer reads the promise in Chinese.
    customer = new_page(locale="zh-CN")
    sign_in(customer, base, "customer_a")
    with customer.expect_navigation():  # the switcher submits itself; wait for the new page
        customer.select_option("#language-select", "zh-hans")
    customer.wait_for_load_state("networkidle")
    customer.goto(f"{base}/portal/tickets/{ticket.pk}/")
    assert customer.locator("html").get_attribute("lang") == "zh-hans"
    card = customer.locator("#promises")
    assert promise in card.inner_text()
    assert "Gold 24x7" not in customer.locator("body").inner_text()
    customer.screenshot(path=str(tmp_path / "portal-promise-zh.png"), full_page=True)

    # The agent sees the SLA panel and sets the ticket to wait on the customer, in two steps.
    agent = new_page()
    sign_in(agent, base, "agent")
    agent.goto(f"{base}/agent/tickets/{ticket.pk}/")
    sla = agent.locator("#sla-panel")
    assert "Gold 24x7" in sla.inner_text()
    assert sla.locator("[data-target=first_response][data-state=running]").count() == 1
    assert re.search(r"\d+ h( \d+ m)? left", sla.inner_text())
    for status in ("in_progress", "waiting_customer"):
        agent.select_option("#ctl-status", status)
        agent.locator("#controls button[type=submit]", has_text="Change status").click()
        agent.locator("#controls .ws-ok").wait_for()
        agent.wait_for_load_state("networkidle")
    sla.locator("[data-target=first_response][data-state=paused]").wait_for()
    assert "none while paused" in sla.inner_text()
    agent.screenshot(path=str(tmp_path / "agent-sla-paused.png"), full_page=True)

    # The customer sees why the clock stands still, and no promised time any more.
    customer.reload()
    card = customer.locator("#promises").inner_text()
    assert in_chinese("The clock is paused while we wait for your reply.") in card
    assert promise not in card
    customer.screenshot(path=str(tmp_path / "portal-paused-zh.png"), full_page=True)
