"""Portal ticket list: the organisation's tickets only, filters, search, order, pages, customer words."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pledge.accounts.choices import Role
from pledge.customers import services as customer_services
from tests.conftest import World, make_user
from tests.portal.helpers import move

URL = reverse("portal:ticket_list")


def test_list_shows_only_own_organisation(client: Client, world: World) -> None:
    own = world.ticket(subject="Coolant pump leaks")
    other = world.ticket(org=world.org_b, subject="Agitator seal worn")
    client.force_login(world.customer_a)
    html = client.get(URL, {"show": "all"}).content.decode()
    assert own.number in html and "Coolant pump leaks" in html
    assert other.number not in html and "Agitator seal worn" not in html


def test_everyone_in_the_organisation_sees_every_ticket(client: Client, world: World) -> None:
    colleague = make_user("colleague_a", Role.CUSTOMER)
    customer_services.contact_create(organisation=world.org_a, name="Carol A", user=colleague)
    ticket = world.ticket(actor=world.customer_a, subject="Submitted by Alice")
    client.force_login(colleague)
    assert ticket.number in client.get(URL).content.decode()


def test_filters_open_done_and_all(client: Client, world: World) -> None:
    open_ticket = world.ticket(subject="Still open")
    done = move(world, world.ticket(subject="Already solved"), "resolved")
    closed = move(world, world.ticket(subject="Long closed"), "closed")
    client.force_login(world.customer_a)
    default = client.get(URL).content.decode()
    assert open_ticket.number in default and done.number not in default and closed.number not in default
    finished = client.get(URL, {"show": "done"}).content.decode()
    assert open_ticket.number not in finished and done.number in finished and closed.number in finished
    everything = client.get(URL, {"show": "all"}).content.decode()
    assert all(t.number in everything for t in (open_ticket, done, closed))
    assert client.get(URL, {"show": "bogus"}).status_code == 200


def numbers(response) -> list[str]:
    return [row.ticket.number for row in response.context["rows"]]


def test_search_by_number_and_by_subject(client: Client, world: World) -> None:
    spindle = world.ticket(subject="Spindle vibration")
    hydraulic = world.ticket(subject="Hydraulic pressure drop")
    foreign = world.ticket(org=world.org_b, subject="Spindle on the other side")
    client.force_login(world.customer_a)
    assert numbers(client.get(URL, {"q": "spindle", "show": "all"})) == [spindle.number]
    assert numbers(client.get(URL, {"q": hydraulic.number, "show": "all"})) == [hydraulic.number]
    assert numbers(client.get(URL, {"q": str(hydraulic.pk), "show": "all"})) == [hydraulic.number]
    # Another organisation's number finds nothing.
    response = client.get(URL, {"q": foreign.number, "show": "all"})
    assert numbers(response) == [] and "Spindle on the other side" not in response.content.decode()


def test_newest_first_with_pages(client: Client, world: World) -> None:
    start = timezone.now() - timedelta(days=30)
    tickets = [world.ticket(subject=f"Ticket {i:02d}", at=start + timedelta(hours=i)) for i in range(23)]
    client.force_login(world.customer_a)
    first = client.get(URL)
    rows = [t.number for t in first.context["page"].items]
    assert rows == [t.number for t in reversed(tickets)][:20]
    assert first.context["page"].has_next
    assert "page=2" in first.content.decode()
    second = client.get(URL, {"page": "2"})
    assert [t.number for t in second.context["page"].items] == [t.number for t in reversed(tickets[:3])]
    assert not second.context["page"].has_next
    assert client.get(URL, {"page": "nonsense"}).status_code == 200


def test_columns_use_customer_words(client: Client, world: World) -> None:
    ticket = move(world, world.ticket(asset=world.asset_a, subject="Gearbox noise"), "waiting_back_office")
    client.force_login(world.customer_a)
    html = client.get(URL).content.decode()
    assert ticket.number in html
    assert "With our specialists" in html and "back-office" not in html
    assert "CNC-500" in html and "A-0001" in html
    assert "Fault" in html


def test_empty_state_invites_a_request(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    html = client.get(URL, {"show": "all"}).content.decode()
    assert "No requests yet" in html
    assert reverse("portal:ticket_new") in html
    filtered = client.get(URL, {"q": "nothing like this"}).content.decode()
    assert "No requests here" in filtered and "Submit a request" in filtered


def test_query_count_does_not_grow_with_the_page(
    client: Client, world: World, django_assert_max_num_queries
) -> None:
    world.ticket(asset=world.asset_a)
    client.force_login(world.customer_a)
    client.get(URL)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for i in range(15):
        world.ticket(asset=world.asset_a if i % 2 else None, subject=f"More {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert len(response.context["rows"]) == 16


def test_htmx_search_returns_only_the_results(client: Client, world: World) -> None:
    ticket = world.ticket(subject="Laser head misaligned")
    client.force_login(world.customer_a)
    response = client.get(URL, {"q": "laser"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert ticket.number in html and "<html" not in html and 'id="results"' in html
