"""Who may use the portal: customers only, each for their own organisation. Everything else is 404
(never 403, so a ticket's existence is not revealed). Forms need their CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from pledge.tickets.models import Attachment, Message, Ticket
from tests.conftest import World
from tests.portal.helpers import move, png


@pytest.fixture
def foreign(world: World) -> Ticket:
    """A resolved ticket of organisation B, with a public reply carrying a file."""
    ticket = world.ticket(org=world.org_b, actor=world.customer_b, attachments=[png("b-plate.png")])
    from pledge.tickets import services

    services.ticket_reply(actor=world.agent, ticket=ticket, body="Done.", attachments=[png("b-report.png")])
    return move(world, Ticket.objects.get(pk=ticket.pk), "resolved")


def test_customer_of_another_organisation_gets_404_everywhere(
    client: Client, world: World, foreign: Ticket
) -> None:
    client.force_login(world.customer_a)
    assert client.get(reverse("portal:ticket_detail", args=[foreign.pk])).status_code == 404
    reply = client.post(reverse("portal:ticket_reply", args=[foreign.pk]), {"body": "Hijack"})
    assert reply.status_code == 404
    confirm = client.post(
        reverse("portal:ticket_confirm", args=[foreign.pk]), {"to": "closed", "version": foreign.version}
    )
    assert confirm.status_code == 404
    for attachment in Attachment.objects.filter(ticket=foreign):
        assert client.get(reverse("tickets:attachment", args=[attachment.pk])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "resolved"
    assert not Message.objects.filter(ticket=foreign, author=world.customer_a).exists()


def test_missing_ticket_is_404(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    assert client.get(reverse("portal:ticket_detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("persona", ["agent", "field_agent", "lead", "manager", "inspector", "admin"])
def test_staff_get_404_in_the_portal(client: Client, world: World, foreign: Ticket, persona: str) -> None:
    client.force_login(getattr(world, persona))
    assert client.get(reverse("portal:ticket_list")).status_code == 404
    assert client.get(reverse("portal:ticket_new")).status_code == 404
    assert client.post(reverse("portal:ticket_new"), {"subject": "x", "kind": "fault"}).status_code == 404
    assert client.get(reverse("portal:ticket_detail", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("portal:ticket_reply", args=[foreign.pk]), {"body": "x"}).status_code == 404
    assert (
        client.post(
            reverse("portal:ticket_confirm", args=[foreign.pk]), {"to": "closed", "version": foreign.version}
        ).status_code
        == 404
    )
    assert Ticket.objects.count() == 1


def test_inactive_customer_is_not_a_customer(client: Client, world: World) -> None:
    ticket = world.ticket()
    client.force_login(world.customer_a)
    world.customer_a.is_active = False
    world.customer_a.save()
    response = client.get(reverse("portal:ticket_detail", args=[ticket.pk]))
    assert response.status_code in (302, 404)


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, world: World) -> None:
    ticket = world.ticket()
    for url in (
        reverse("portal:ticket_list"),
        reverse("portal:ticket_new"),
        reverse("portal:ticket_detail", args=[ticket.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_forms_need_their_csrf_token(world: World) -> None:
    ticket = move(world, world.ticket(), "resolved")
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.customer_a)
    page = client.get(reverse("portal:ticket_detail", args=[ticket.pk])).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 4  # language, sign out, confirm, not solved, reply
    new = client.post(reverse("portal:ticket_new"), {"subject": "x", "kind": "fault", "priority": "P3"})
    reply = client.post(reverse("portal:ticket_reply", args=[ticket.pk]), {"body": "x"})
    confirm = client.post(
        reverse("portal:ticket_confirm", args=[ticket.pk]), {"to": "closed", "version": ticket.version}
    )
    assert (new.status_code, reply.status_code, confirm.status_code) == (403, 403, 403)
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and Ticket.objects.count() == 1


def test_reply_and_confirm_refuse_get(client: Client, world: World) -> None:
    ticket = world.ticket()
    client.force_login(world.customer_a)
    assert client.get(reverse("portal:ticket_reply", args=[ticket.pk])).status_code == 405
    assert client.get(reverse("portal:ticket_confirm", args=[ticket.pk])).status_code == 405
