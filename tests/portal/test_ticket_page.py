"""The portal ticket page: status steps, the customer-visible history, what happens next, replies,
confirming or reopening a resolution against the version the customer saw."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from pledge.tickets import services
from pledge.tickets.models import Attachment, Message, Ticket
from tests.conftest import World
from tests.portal.helpers import PATHS, move, png


def detail(ticket: Ticket) -> str:
    return reverse("portal:ticket_detail", args=[ticket.pk])


def test_page_shows_public_replies_but_never_internal_notes(client: Client, world: World) -> None:
    ticket = world.ticket(actor=world.customer_a, subject="Chiller alarm")
    services.ticket_reply(actor=world.agent, ticket=ticket, body="We are sending an engineer tomorrow.")
    services.ticket_note(
        actor=world.agent,
        ticket=ticket,
        body="SECRET: customer is behind on payments",
        attachments=[png("ledger.png")],
    )
    services.ticket_reply(actor=world.customer_a, ticket=ticket, body="Thanks, someone will be at gate 3.")
    client.force_login(world.customer_a)
    response = client.get(detail(ticket))
    html = response.content.decode()
    assert response.status_code == 200
    assert "We are sending an engineer tomorrow." in html
    assert "Thanks, someone will be at gate 3." in html
    assert "SECRET" not in html and "ledger.png" not in html
    items = [item for item in response.context["history"] if item.kind == "message"]
    assert [(item.from_customer, item.is_you) for item in items] == [(False, False), (True, True)]
    assert html.count('class="msg staff"') == 1 and html.count('class="msg customer"') == 1
    assert "Service team" in html and "Agent" in html


def test_history_is_phrased_for_customers(client: Client, world: World) -> None:
    ticket = world.ticket(actor=world.customer_a)
    ticket = move(world, ticket, "acknowledged")
    services.ticket_assign(
        actor=world.agent,
        ticket=ticket,
        team=world.frontline,
        assignee=world.agent,
        expected_version=ticket.version,
    )
    ticket.refresh_from_db()
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status="waiting_parts", expected_version=ticket.version
    )
    client.force_login(world.customer_a)
    html = client.get(detail(ticket)).content.decode()
    assert "Request submitted in the portal." in html
    assert "Our team acknowledged your request." in html
    assert "Waiting for parts." in html
    # Internal events (assignment, team) stay internal.
    assert "Frontline" not in html and "Assignee" not in html


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        ("new", "An engineer will review your request"),
        ("acknowledged", "Our team has your request and will start work on it"),
        ("in_progress", "An engineer is working on it."),
        ("waiting_customer", "We need your reply — please answer below. The clock waits for you"),
        ("waiting_parts", "We are waiting for parts to arrive"),
        ("waiting_back_office", "Our specialists are looking into it"),
        ("resolved", "Please confirm it is solved, or tell us it is not"),
        ("closed", "This request is closed. If the problem comes back, submit a new request."),
    ],
)
def test_next_step_sentence_for_every_status(
    client: Client, world: World, status: str, sentence: str
) -> None:
    ticket = move(world, world.ticket(), status)
    client.force_login(world.customer_a)
    html = client.get(detail(ticket)).content.decode()
    assert "What happens next" in html
    assert sentence in html


def test_every_status_is_covered_by_the_tests() -> None:
    from pledge.tickets.choices import Status

    assert set(PATHS) == set(Status.values)


@pytest.mark.parametrize(
    ("status", "current", "note"),
    [
        ("new", "Submitted", ""),
        ("acknowledged", "Acknowledged", ""),
        ("in_progress", "In progress", ""),
        ("waiting_customer", "In progress", "Waiting for you"),
        ("waiting_parts", "In progress", "Waiting for parts"),
        ("waiting_back_office", "In progress", "With our specialists"),
        ("resolved", "Resolved", ""),
        ("closed", "Closed", ""),
    ],
)
def test_step_bar(client: Client, world: World, status: str, current: str, note: str) -> None:
    ticket = move(world, world.ticket(), status)
    client.force_login(world.customer_a)
    steps = client.get(detail(ticket)).context["steps"]
    assert [s.label for s in steps] == ["Submitted", "Acknowledged", "In progress", "Resolved", "Closed"]
    (now,) = [s for s in steps if s.state == "current"]
    assert (now.label, now.note) == (current, note)
    index = steps.index(now)
    assert all(s.state == "done" for s in steps[:index]) and all(
        s.state == "todo" for s in steps[index + 1 :]
    )


def test_reply_with_attachment(client: Client, world: World) -> None:
    ticket = world.ticket(actor=world.customer_a)
    client.force_login(world.customer_a)
    response = client.post(
        reverse("portal:ticket_reply", args=[ticket.pk]),
        {"body": "Here is the alarm screen.", "attachments": [png("screen.png")]},
    )
    assert response.status_code == 302 and response["Location"] == detail(ticket)
    message = Message.objects.get(ticket=ticket)
    assert message.author == world.customer_a and message.from_customer and not message.is_internal
    assert list(message.attachments.values_list("filename", flat=True)) == ["screen.png"]
    html = client.get(detail(ticket)).content.decode()
    assert "Your reply was sent." in html and "Here is the alarm screen." in html and "screen.png" in html


@pytest.mark.parametrize("status", ["waiting_customer", "resolved"])
def test_reply_wakes_a_ticket_waiting_on_the_customer(client: Client, world: World, status: str) -> None:
    ticket = move(world, world.ticket(actor=world.customer_a), status)
    client.force_login(world.customer_a)
    client.post(reverse("portal:ticket_reply", args=[ticket.pk]), {"body": "The serial is A-0001."})
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert "our team is back on it" in client.get(detail(ticket)).content.decode()


def test_empty_reply_shows_the_error(client: Client, world: World) -> None:
    ticket = world.ticket(actor=world.customer_a)
    client.force_login(world.customer_a)
    response = client.post(reverse("portal:ticket_reply", args=[ticket.pk]), {"body": "  "})
    assert response.status_code == 200
    assert "body" in response.context["reply_form"].errors
    assert not Message.objects.exists()


def test_reply_with_a_bad_file_keeps_the_text(client: Client, world: World) -> None:
    ticket = world.ticket(actor=world.customer_a)
    client.force_login(world.customer_a)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("macro.docm", b"PK\x03\x04data", content_type="application/octet-stream")
    response = client.post(
        reverse("portal:ticket_reply", args=[ticket.pk]), {"body": "See the file.", "attachments": [bad]}
    )
    assert (
        "macro.docm: this type of file is not accepted."
        in response.context["reply_form"].errors["attachments"]
    )
    assert "See the file." in response.content.decode()
    assert not Message.objects.exists() and not Attachment.objects.exists()


def test_closed_ticket_takes_no_reply(client: Client, world: World) -> None:
    ticket = move(world, world.ticket(), "closed")
    client.force_login(world.customer_a)
    page = client.get(detail(ticket))
    assert page.context["reply_form"] is None
    response = client.post(reverse("portal:ticket_reply", args=[ticket.pk]), {"body": "Hello?"}, follow=True)
    assert "This request is closed." in response.content.decode()
    assert not Message.objects.exists()


def test_confirm_buttons_only_when_resolved(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    ticket = move(world, world.ticket(), "in_progress")
    assert "Confirm it is solved" not in client.get(detail(ticket)).content.decode()
    ticket = move(world, world.ticket(), "resolved")
    html = client.get(detail(ticket)).content.decode()
    assert "Confirm it is solved" in html and "It is not solved" in html
    assert f'name="version" value="{ticket.version}"' in html


def test_confirm_closes(client: Client, world: World) -> None:
    ticket = move(world, world.ticket(), "resolved")
    client.force_login(world.customer_a)
    response = client.post(
        reverse("portal:ticket_confirm", args=[ticket.pk]),
        {"to": "closed", "version": ticket.version},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.closed_at is not None
    html = response.content.decode()
    assert f"Thank you for confirming. {ticket.number} is closed." in html
    assert "Confirmed as solved and closed." in html and "by you" in html


def test_not_solved_reopens_with_the_reason(client: Client, world: World) -> None:
    ticket = move(world, world.ticket(), "resolved")
    client.force_login(world.customer_a)
    response = client.post(
        reverse("portal:ticket_confirm", args=[ticket.pk]),
        {"to": "in_progress", "version": ticket.version, "reason": "It overheats again after lunch."},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == "in_progress" and ticket.resolved_at is None
    html = response.content.decode()
    assert "is reopened" in html
    assert "Reopened: not solved yet." in html and "It overheats again after lunch." in html


def test_stale_confirm_is_refused_with_a_clear_message(client: Client, world: World) -> None:
    ticket = move(world, world.ticket(), "resolved")
    seen = ticket.version
    services.ticket_update(actor=world.agent, ticket=ticket, expected_version=seen, priority="P1")
    client.force_login(world.customer_a)
    response = client.post(
        reverse("portal:ticket_confirm", args=[ticket.pk]), {"to": "closed", "version": seen}, follow=True
    )
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert "changed while you were looking at it" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"to": "resolved", "version": "1"},
        {"to": "closed", "version": "abc"},
        {"to": "closed"},
    ],
)
def test_bad_confirm_posts_change_nothing(client: Client, world: World, data: dict[str, str]) -> None:
    ticket = move(world, world.ticket(), "resolved")
    client.force_login(world.customer_a)
    response = client.post(reverse("portal:ticket_confirm", args=[ticket.pk]), data, follow=True)
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_confirm_on_an_open_ticket_is_refused(client: Client, world: World) -> None:
    ticket = move(world, world.ticket(), "in_progress")
    client.force_login(world.customer_a)
    response = client.post(
        reverse("portal:ticket_confirm", args=[ticket.pk]),
        {"to": "closed", "version": ticket.version},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert "cannot move from" in response.content.decode()


def test_attachments_download_but_internal_ones_do_not(client: Client, world: World) -> None:
    ticket = world.ticket(actor=world.customer_a, attachments=[png("front.png")])
    services.ticket_note(actor=world.agent, ticket=ticket, body="internal", attachments=[png("internal.png")])
    public = Attachment.objects.get(filename="front.png")
    internal = Attachment.objects.get(filename="internal.png")
    client.force_login(world.customer_a)
    html = client.get(detail(ticket)).content.decode()
    assert reverse("tickets:attachment", args=[public.pk]) in html
    response = client.get(reverse("tickets:attachment", args=[public.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(reverse("tickets:attachment", args=[internal.pk])).status_code == 404


def test_page_query_count_does_not_grow_with_the_history(client: Client, world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = world.ticket(actor=world.customer_a)
    services.ticket_reply(actor=world.agent, ticket=ticket, body="First", attachments=[png()])
    client.force_login(world.customer_a)
    client.get(detail(ticket))
    with CaptureQueriesContext(connection) as short:
        client.get(detail(ticket))
    for i in range(10):
        services.ticket_reply(actor=world.customer_a, ticket=ticket, body=f"More {i}", attachments=[png()])
        services.ticket_reply(actor=world.agent, ticket=ticket, body=f"Answer {i}")
    with CaptureQueriesContext(connection) as long:
        response = client.get(detail(ticket))
    assert len(response.context["history"]) > 20
    assert len(long.captured_queries) == len(short.captured_queries)
