"""The agent's New ticket page in a real browser with htmx: the organisation search narrows as the agent
types, the chosen organisation's contacts and assets (and the team's assignees) load in place, a file is
attached, the ticket opens after creation, and going back to submit the same form again creates nothing
new. Once more in Chinese."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from pledge.tickets.models import Attachment, Ticket
from tests.browser.helpers import sign_in
from tests.conftest import World

LOG = b"2026-11-20 09:14 ALARM 2041 spindle temperature 82 C\n2026-11-20 09:15 E-STOP\n"


def search_organisation(page: Any, text: str) -> None:
    """Type into the organisation search and wait for htmx to swap in the results for exactly `text`."""
    with page.expect_response(lambda r: "/tickets/new/organisations/" in r.url and f"org_q={text}" in r.url):
        page.locator("#new-org-q").fill(text)


def choose_organisation(page: Any, name: str) -> None:
    """Tick the organisation in the results and wait for its contacts and assets to load."""
    pick = page.locator("#new-org-results label.ws-org-pick", has_text=name).locator("input[type=radio]")
    with page.expect_response(lambda r: "/tickets/new/organisation/" in r.url and r.ok):
        pick.check()


@pytest.mark.django_db(transaction=True)
def test_agent_creates_a_ticket_with_htmx_and_a_resubmitted_form_creates_nothing(
    live_server: Any, new_page: Any, world: World, tmp_path: Any
) -> None:
    base = live_server.url
    page = new_page()
    sign_in(page, base, "agent")
    page.goto(f"{base}/agent/")
    page.get_by_role("link", name="New ticket").click()
    page.wait_for_url(f"{base}/agent/tickets/new/")
    expect(page.locator("h1")).to_have_text("New ticket")
    expect(page.locator("#id_contact option")).to_have_text(["No contact named"])

    # Part of the name finds Org A only; choosing it loads its contacts and assets, not Org B's.
    search_organisation(page, "Machin")
    results = page.locator("#new-org-results")
    expect(results.locator(".ws-org-name")).to_have_text(["Org A Machining"])
    assert "Org B Chemicals" not in results.inner_text()
    choose_organisation(page, "Org A Machining")
    expect(page.locator("#id_contact option")).to_have_text(["No contact named", "Alice A · a@a.example"])
    expect(page.locator("#id_asset option")).to_have_text(["Not about a specific machine", "CNC-500 · A-0001"])

    # The request, handled by the Frontline team: its members become the assignees to choose from.
    page.select_option("#id_contact", str(world.contact_a.pk))
    page.select_option("#id_asset", str(world.asset_a.pk))
    page.select_option("#id_channel", "phone")
    page.fill("#id_subject", "Spindle overheats after two hours")
    page.fill("#id_description", "Caller reads alarm 2041 on the display; the log is attached.")
    expect(page.locator("#id_assignee option", has_text="Field Agent")).to_have_count(1)
    with page.expect_response(lambda r: "/tickets/new/assignees/" in r.url and r.ok):
        page.select_option("#id_team", str(world.frontline.pk))
    expect(page.locator("#id_assignee option")).to_have_text(["Unassigned", "Agent", "Lead"])
    page.select_option("#id_assignee", str(world.agent.pk))
    page.set_input_files(
        "#id_attachments", files=[{"name": "alarm-log.txt", "mimeType": "text/plain", "buffer": LOG}]
    )
    token = page.input_value("#new-ticket input[name=form_token]")
    assert len(token) >= 20
    page.screenshot(path=str(tmp_path / "new-ticket-filled.png"), full_page=True)

    page.get_by_role("button", name="Create ticket").click()
    page.wait_for_url(re.compile(r"/agent/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    assert page.url == f"{base}/agent/tickets/{ticket.pk}/"
    expect(page.locator(".flash")).to_have_text(f"{ticket.number} created.")
    header = page.locator("body").inner_text()
    assert "Spindle overheats after two hours" in header and "Org A Machining" in header
    assert (ticket.organisation, ticket.contact, ticket.asset, ticket.channel) == (
        world.org_a,
        world.contact_a,
        world.asset_a,
        "phone",
    )
    assert (ticket.team, ticket.assignee, ticket.created_by) == (world.frontline, world.agent, world.agent)
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.filename == "alarm-log.txt"
    assert attachment.file.read() == LOG
    page.screenshot(path=str(tmp_path / "new-ticket-created.png"), full_page=True)

    # Back to the filled form and submit it again.
    page.go_back()
    page.wait_for_url(f"{base}/agent/tickets/new/")
    print("after back token", page.input_value("#new-ticket input[name=form_token]"), token)
    print("checked", page.locator("input[name=organisation]:checked").count())
    print("subject", page.input_value("#id_subject"))
    page.screenshot(path=str(tmp_path / "new-ticket-back.png"), full_page=True)
