"""The agent's New ticket page in a real browser with htmx: the organisation search narrows as the agent
types, the chosen organisation's contacts and assets and the chosen team's assignees load in place, a file
is attached, and the new ticket opens. Going back and submitting the same form again re-posts its token
and creates nothing new. Once more in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from pledge.tickets.models import Attachment, Ticket
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.helpers import sign_in
from tests.conftest import World

LOG = b"2026-11-20 09:14 ALARM 2041 spindle temperature 82 C\n2026-11-20 09:15 E-STOP\n"


def in_chinese(text: str) -> str:
    with translation.override("zh-hans"):
        return gettext(text)


def search_organisation(page: Any, text: str) -> None:
    """Type into the organisation search as a person does, and wait for htmx to fetch the results for
    exactly `text` (the search waits for a pause in typing and drops answers to what was typed before)."""

    def answers_text(response: Any) -> bool:
        url = urlsplit(response.url)
        return url.path.endswith("/tickets/new/organisations/") and parse_qs(url.query).get("org_q") == [text]

    box = page.locator("#new-org-q")
    with page.expect_response(answers_text) as answer:
        box.fill("")
        box.press_sequentially(text, delay=40)
    assert answer.value.ok


def choose_organisation(page: Any, name: str) -> None:
    """Tick the organisation among the results and wait for its contacts and assets to arrive."""
    pick = page.locator("#new-org-results label.ws-org-pick", has_text=name).locator("input[type=radio]")
    with page.expect_response(
        lambda r: urlsplit(r.url).path.endswith("/tickets/new/organisation/")
    ) as answer:
        pick.check()
    assert answer.value.ok


@pytest.fixture
def page_with_back_forward_cache(browser: Any) -> Iterator[Any]:
    """A page in a Chromium that keeps pages for the back button, as Chromium does for people.

    Playwright turns that cache off by default (`--disable-back-forward-cache`); without it, going back
    fetches the form anew, with a new token, and the double submission cannot happen. The session's
    Playwright launches it with the same binary and flags as the `browser` fixture."""
    instance = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    context = instance.new_context(locale="en-US", viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()
    instance.close()


@pytest.mark.django_db(transaction=True)
def test_agent_creates_a_ticket_with_htmx_and_the_same_form_submitted_again_creates_nothing(
    live_server: Any, page_with_back_forward_cache: Any, world: World, tmp_path: Any
) -> None:
    base = live_server.url
    page = page_with_back_forward_cache
    sign_in(page, base, "agent")
    page.goto(f"{base}/agent/")
    page.get_by_role("link", name="New ticket").click()
    page.wait_for_url(f"{base}/agent/tickets/new/")
    expect(page.locator("h1")).to_have_text("New ticket")
    expect(page.locator("#id_contact option")).to_have_text(["No contact named"])

    # Both organisations match "Org"; part of one's name leaves only that one.
    search_organisation(page, "Org")
    names = page.locator("#new-org-results .ws-org-name")
    expect(names).to_have_text(["Org A Machining", "Org B Chemicals"])
    search_organisation(page, "Machin")
    expect(names).to_have_text(["Org A Machining"])
    assert "Org B Chemicals" not in page.locator("#new-org-results").inner_text()

    # Choosing it offers its contacts and assets, and none of the other organisation's.
    choose_organisation(page, "Org A Machining")
    expect(page.locator("#id_contact option")).to_have_text(["No contact named", "Alice A · a@a.example"])
    expect(page.locator("#id_asset option")).to_have_text(
        ["Not about a specific machine", "CNC-500 · A-0001"]
    )

    page.select_option("#id_contact", str(world.contact_a.pk))
    page.select_option("#id_asset", str(world.asset_a.pk))
    page.select_option("#id_channel", "phone")
    page.fill("#id_subject", "Spindle overheats after two hours")
    page.fill("#id_description", "Caller reads alarm 2041 on the display; the machine log is attached.")
    # The assignees follow the team: Frontline's members replace everyone who works tickets.
    assignees = page.locator("#id_assignee option")
    expect(assignees.filter(has_text="Field Agent")).to_have_count(1)
    with page.expect_response(lambda r: urlsplit(r.url).path.endswith("/tickets/new/assignees/")) as answer:
        page.select_option("#id_team", str(world.frontline.pk))
    assert answer.value.ok
    expect(assignees).to_have_text(["Unassigned", "Agent", "Lead"])
    page.select_option("#id_assignee", str(world.agent.pk))
    page.set_input_files(
        "#id_attachments", files=[{"name": "alarm-log.txt", "mimeType": "text/plain", "buffer": LOG}]
    )
    token = page.input_value("#new-ticket input[name=form_token]")
    assert len(token) >= 20
    page.screenshot(path=str(tmp_path / "new-ticket-filled.png"), full_page=True)

    submit = page.get_by_role("button", name="Create ticket", exact=True)
    submit.click()
    page.wait_for_url(re.compile(r"/agent/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    assert page.url == f"{base}/agent/tickets/{ticket.pk}/"
    expect(page.locator(".flash")).to_have_text(f"{ticket.number} created.")
    body = page.locator("main").inner_text()
    assert "Spindle overheats after two hours" in body and "Org A Machining" in body
    assert (ticket.organisation, ticket.contact, ticket.asset, ticket.channel) == (
        world.org_a,
        world.contact_a,
        world.asset_a,
        "phone",
    )
    assert (ticket.team, ticket.assignee, ticket.created_by) == (world.frontline, world.agent, world.agent)
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.filename == "alarm-log.txt"
    with attachment.file.open("rb") as stored:
        assert stored.read() == LOG

    # Back to the filled form, as the browser kept it (no load event: the page is restored, not fetched),
    # and the same submission again: its token leads to the ticket already made.
    page.go_back(wait_until="commit")
    expect(page).to_have_url(f"{base}/agent/tickets/new/")
    assert page.input_value("#new-ticket input[name=form_token]") == token, "the form was fetched anew"
    expect(page.locator("#new-org-results input[name=organisation]:checked")).to_have_count(1)
    submit.click()
    page.wait_for_url(f"{base}/agent/tickets/{ticket.pk}/")
    expect(page.locator(".flash")).to_have_text(
        f"{ticket.number} was already created from this form; this is it."
    )
    assert Ticket.objects.count() == 1
    assert Attachment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_agent_creates_a_ticket_in_chinese(
    live_server: Any, new_page: Any, world: World, tmp_path: Any
) -> None:
    base = live_server.url
    page = new_page(locale="zh-CN")
    sign_in(page, base, "agent")
    page.goto(f"{base}/agent/")
    with page.expect_navigation():  # the switcher submits itself; wait for the new page
        page.select_option("#language-select", "zh-hans")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    new_ticket = page.get_by_role("link", name="新建工单", exact=True)
    expect(new_ticket).to_be_visible()
    new_ticket.click()
    page.wait_for_url(f"{base}/agent/tickets/new/")
    expect(page.locator("h1")).to_have_text("新建工单")
    submit = page.get_by_role("button", name="创建工单", exact=True)
    expect(submit).to_be_visible()

    search_organisation(page, "Chem")
    expect(page.locator("#new-org-results .ws-org-name")).to_have_text(["Org B Chemicals"])
    choose_organisation(page, "Org B Chemicals")
    expect(page.locator("#id_contact option")).to_have_text(
        [in_chinese("No contact named"), "Bob B · b@b.example"]
    )
    expect(page.locator("#id_asset option")).to_have_text(
        [in_chinese("Not about a specific machine"), "PUMP-20 · B-0001"]
    )
    page.select_option("#id_contact", str(world.contact_b.pk))
    page.select_option("#id_asset", str(world.asset_b.pk))
    page.select_option("#id_channel", "on_site")
    page.fill("#id_subject", "循环泵出口压力不稳")
    page.screenshot(path=str(tmp_path / "new-ticket-filled-zh.png"), full_page=True)
    submit.click()

    page.wait_for_url(re.compile(r"/agent/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    expect(page.locator(".flash")).to_have_text(in_chinese("%(number)s created.") % {"number": ticket.number})
    assert "循环泵出口压力不稳" in page.locator("main").inner_text()
    assert (ticket.organisation, ticket.contact, ticket.asset, ticket.channel) == (
        world.org_b,
        world.contact_b,
        world.asset_b,
        "on_site",
    )
