"""The foundation's end-to-end story in a real browser: a customer reports a fault in the Chinese
portal, an agent finds it in the queue, replies and resolves it, and the customer sees both."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pledge.tickets.models import Ticket
from tests.browser.helpers import sign_in
from tests.conftest import World


@pytest.mark.django_db(transaction=True)
def test_customer_fault_in_chinese_agent_replies_and_resolves(
    live_server: Any, new_page: Any, world: World, tmp_path: Any
) -> None:
    base = live_server.url
    world.frontline.memberships.get_or_create(user=world.agent)

    # The customer works in the Chinese UI.
    customer = new_page(locale="zh-CN")
    sign_in(customer, base, "customer_a")
    with customer.expect_navigation():  # the switcher submits itself; wait for the new page
        customer.select_option("#language-select", "zh-hans")
    customer.wait_for_load_state("networkidle")
    assert customer.locator("html").get_attribute("lang") == "zh-hans"
    customer.goto(f"{base}/portal/new/")
    customer.locator("input[name=kind][value=fault]").check()
    customer.select_option("#id_asset", str(world.asset_a.pk))
    customer.fill("#id_subject", "主轴过热报警")
    customer.fill("#id_description", "加工中心运行两小时后主轴温度超过 80°C 并报警停机。")
    customer.locator("form.portal-form button[type=submit]").click()
    customer.wait_for_url(re.compile(r"/portal/tickets/\d+/"))
    ticket = Ticket.objects.get(subject="主轴过热报警")
    assert (ticket.kind, ticket.channel, ticket.asset_id, ticket.contact_id) == (
        "fault",
        "portal",
        world.asset_a.pk,
        world.contact_a.pk,
    )
    assert ticket.number in customer.locator("body").inner_text()
    customer.screenshot(path=str(tmp_path / "portal-submitted-zh.png"), full_page=True)

    # The agent finds it in the queue by its number, replies and resolves it.
    agent = new_page()
    sign_in(agent, base, "agent")
    agent.goto(f"{base}/agent/?view=unassigned")
    agent.fill("#queue-q", ticket.number)
    agent.wait_for_load_state("networkidle")
    rows = agent.locator("#queue-results tbody tr")
    assert rows.count() == 1  # the search narrowed the queue to this ticket
    rows.locator("a", has_text=ticket.number).first.click()
    agent.wait_for_url(re.compile(rf"/agent/tickets/{ticket.pk}/"))
    agent.fill("#compose-body", "您好，工程师已远程查看：请清洁主轴冷却风扇滤网，我们已为您安排备件。")
    agent.locator("#composer button[type=submit]").click()
    agent.locator("#timeline").get_by_text("请清洁主轴冷却风扇滤网", exact=False).wait_for()
    agent.select_option("#ctl-status", "resolved")
    agent.locator("#controls button[type=submit]", has_text="Change status").click()
    agent.locator("#controls").get_by_text("Resolved").first.wait_for()
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert ticket.first_response_at is not None
    agent.screenshot(path=str(tmp_path / "agent-resolved.png"), full_page=True)

    # The customer sees the reply and the new status.
    customer.reload()
    body = customer.locator("body").inner_text()
    assert "请清洁主轴冷却风扇滤网" in body
    assert customer.locator("ol.steps li[aria-current=step]").count() == 1
    current = customer.locator("ol.steps li[aria-current=step] .step-label").inner_text()
    assert current.strip() in {"Resolved", "已解决"}
