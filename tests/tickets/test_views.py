"""The agent workspace through the Django test client: queue views, search, sort and filters, htmx
partials, the ticket page, the composer, the controls panel, stale versions, permissions, query counts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pledge.accounts import services as account_services
from pledge.customers import services as customer_services
from pledge.tickets import services
from pledge.tickets.models import Attachment, Message, Ticket, TicketEvent
from tests.conftest import World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTMX = {"HTTP_HX_REQUEST": "true"}
ROW_ID = re.compile(r'<td class="ws-num"><a href="/agent/tickets/(\d+)/">')


def queue_ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in ROW_ID.findall(response.content.decode())]


def detail_url(ticket: Ticket, action: str = "") -> str:
    base = f"/agent/tickets/{ticket.pk}/"
    return f"{base}{action}/" if action else base


def signed_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def queue_world(world: World) -> dict[str, Ticket]:
    """Tickets in every queue situation, seen from `world.agent` (a Frontline member)."""
    tickets = {
        "mine": world.ticket(subject="Mine: spindle overheats", team=world.frontline, assignee=world.agent),
        "team": world.ticket(subject="Team: coolant leak", team=world.frontline, priority="P1"),
        "triage": world.ticket(subject="Triage: invoice question", org=world.org_b, kind="inquiry"),
        "field": world.ticket(subject="Field: pump noise", team=world.field, assignee=world.field_agent),
        "done": world.ticket(subject="Done: calibration", team=world.frontline, assignee=world.agent),
    }
    done = tickets["done"]
    services.ticket_transition(
        actor=world.agent, ticket=done, to_status="resolved", expected_version=done.version
    )
    return tickets


# The queue ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("mine", {"mine"}),
        ("team", {"mine", "team"}),
        ("unassigned", {"team", "triage"}),
        ("open", {"mine", "team", "triage"}),
        ("all", {"mine", "team", "triage", "done"}),
    ],
)
def test_queue_tabs_list_the_right_tickets(
    client: Client, world: World, queue_world: dict[str, Ticket], view: str, expected: set[str]
) -> None:
    response = signed_in(client, world.agent).get("/agent/", {"view": view})
    assert set(queue_ids(response)) == {queue_world[name].pk for name in expected}
    # The field team's ticket is never in an agent's queue outside that team.
    assert queue_world["field"].pk not in queue_ids(response)


def test_queue_defaults_to_all_open_and_marks_the_tab(
    client: Client, world: World, queue_world: dict[str, Ticket]
) -> None:
    response = signed_in(client, world.agent).get("/agent/")
    assert set(queue_ids(response)) == {queue_world[n].pk for n in ("mine", "team", "triage")}
    html = response.content.decode()
    assert re.search(r'class="active" aria-current="page">All open<', html)
    assert '<input type="hidden" name="view" value="open">' in html


def test_queue_shows_every_column(client: Client, world: World) -> None:
    ticket = world.ticket(
        subject="Hydraulic pressure drops", team=world.frontline, assignee=world.agent, priority="P1"
    )
    html = signed_in(client, world.agent).get("/agent/").content.decode()
    assert f'href="/agent/tickets/{ticket.pk}/">{ticket.number}</a>' in html
    assert "Hydraulic pressure drops" in html
    assert "Org A Machining" in html
    assert "Fault" in html
    assert '<span class="badge badge-red badge-solid" title="P1 · Critical">P1</span>' in html
    assert '<span class="badge badge-blue">New</span>' in html
    assert "Frontline" in html
    assert ">Agent<" in html


def test_queue_times_are_in_the_users_time_zone(client: Client, world: World) -> None:
    at = datetime(2026, 1, 10, 2, 30, tzinfo=UTC)
    world.ticket(at=at)
    html = signed_in(client, world.agent).get("/agent/").content.decode()
    assert "2026-01-10 10:30" in html  # Asia/Shanghai, the default
    account_services.user_set_preferences(user=world.agent, timezone_name="Europe/London")
    html = signed_in(Client(), world.agent).get("/agent/").content.decode()
    assert "2026-01-10 02:30" in html
    assert "2026-01-10 10:30" not in html


@pytest.mark.parametrize("query", ["SR-{pk:06d}", "sr-{pk}", "{pk}", "#{pk}"])
def test_search_by_number(client: Client, world: World, queue_world: dict[str, Ticket], query: str) -> None:
    target = queue_world["team"]
    response = signed_in(client, world.agent).get("/agent/", {"q": query.format(pk=target.pk)})
    assert queue_ids(response) == [target.pk]


def test_search_by_subject_is_case_insensitive(
    client: Client, world: World, queue_world: dict[str, Ticket]
) -> None:
    response = signed_in(client, world.agent).get("/agent/", {"q": "COOLANT"})
    assert queue_ids(response) == [queue_world["team"].pk]
    response = client.get("/agent/", {"q": "no such thing"})
    assert queue_ids(response) == []
    assert "Nothing matches the search and filters." in response.content.decode()


def test_search_never_reveals_tickets_outside_the_users_teams(
    client: Client, world: World, queue_world: dict[str, Ticket]
) -> None:
    field = queue_world["field"]
    assert queue_ids(signed_in(client, world.agent).get("/agent/", {"q": field.number, "view": "all"})) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"priority": "P1"}, {"team"}),
        ({"kind": "inquiry"}, {"triage"}),
        ({"status": "resolved", "view": "all"}, {"done"}),
        ({"team": "frontline"}, {"mine", "team"}),
    ],
)
def test_queue_filters(
    client: Client, world: World, queue_world: dict[str, Ticket], params: dict[str, str], expected: set[str]
) -> None:
    if params.get("team") == "frontline":
        params = {**params, "team": str(world.frontline.pk)}
    response = signed_in(client, world.agent).get("/agent/", params)
    assert set(queue_ids(response)) == {queue_world[name].pk for name in expected}


def test_queue_sorts(client: Client, world: World) -> None:
    now = timezone.now()
    old_p3 = world.ticket(subject="old p3", priority="P3", at=now - timedelta(days=3))
    new_p3 = world.ticket(subject="new p3", priority="P3", at=now - timedelta(days=1))
    mid_p1 = world.ticket(subject="mid p1", priority="P1", at=now - timedelta(days=2))
    services.ticket_note(actor=world.agent, ticket=old_p3, body="touch", at=now)
    signed_in(client, world.agent)
    assert queue_ids(client.get("/agent/")) == [mid_p1.pk, old_p3.pk, new_p3.pk]
    assert queue_ids(client.get("/agent/", {"sort": "urgency"})) == [mid_p1.pk, old_p3.pk, new_p3.pk]
    assert queue_ids(client.get("/agent/", {"sort": "newest"})) == [new_p3.pk, mid_p1.pk, old_p3.pk]
    assert queue_ids(client.get("/agent/", {"sort": "oldest"})) == [old_p3.pk, mid_p1.pk, new_p3.pk]
    assert queue_ids(client.get("/agent/", {"sort": "updated"})) == [old_p3.pk, new_p3.pk, mid_p1.pk]


def test_queue_pages_with_previous_and_next(client: Client, world: World) -> None:
    now = timezone.now()
    made = [world.ticket(subject=f"t{i}", at=now - timedelta(minutes=10 - i)) for i in range(5)]
    signed_in(client, world.agent)
    first = client.get("/agent/", {"sort": "oldest", "page_size": 2})
    assert queue_ids(first) == [made[0].pk, made[1].pk]
    html = first.content.decode()
    assert 'rel="next"' in html and 'rel="prev"' not in html
    assert "page=2" in html
    last = client.get("/agent/", {"sort": "oldest", "page_size": 2, "page": 3})
    assert queue_ids(last) == [made[4].pk]
    html = last.content.decode()
    assert 'rel="prev"' in html and 'rel="next"' not in html


@pytest.mark.parametrize(
    "params",
    [
        {"view": "bogus", "sort": "sideways", "page": "abc", "page_size": "1000"},
        {"page": "0", "page_size": "-5", "team": "999999", "status": "nope", "priority": "P9"},
        {"q": "x" * 500, "page": "99999999999999999999"},
        {"q": "\x00null"},
    ],
)
def test_queue_survives_bad_parameters(client: Client, world: World, params: dict[str, str]) -> None:
    world.ticket()
    response = signed_in(client, world.agent).get("/agent/", params)
    assert response.status_code == 200


def test_queue_htmx_request_gets_only_the_table_and_the_tabs(
    client: Client, world: World, queue_world: dict[str, Ticket]
) -> None:
    response = signed_in(client, world.agent).get("/agent/", {"view": "mine"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert queue_ids(response) == [queue_world["mine"].pk]
    assert '<nav id="queue-tabs"' in html and 'hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]
    # A history restore after a cache miss needs the whole page.
    restore = client.get("/agent/", {"view": "mine"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in restore.content.decode()


def test_queue_page_wires_htmx_and_works_without_it(client: Client, world: World) -> None:
    html = signed_in(client, world.agent).get("/agent/").content.decode()
    assert '<form id="queue-form" class="ws-queue-form" method="get" action="/agent/"' in html
    assert 'hx-target="#queue-results"' in html and 'hx-push-url="true"' in html
    assert "input changed delay:300ms" in html
    assert "pledge/workspace.css" in html


def test_queue_query_count_does_not_grow_with_page_size(
    client: Client, world: World, django_assert_num_queries
) -> None:
    orgs = [world.org_a, world.org_b]
    for i in range(55):
        world.ticket(
            org=orgs[i % 2],
            contact=world.contact_a if i % 2 == 0 else world.contact_b,
            team=world.frontline if i % 3 else None,
            assignee=world.agent if i % 3 == 1 else None,
            subject=f"ticket {i}",
        )
    signed_in(client, world.agent)
    with CaptureQueriesContext(connection) as small:
        assert len(queue_ids(client.get("/agent/", {"page_size": 10}))) == 10
    assert len(small) <= 8, [q["sql"] for q in small.captured_queries]
    with django_assert_num_queries(len(small)):
        assert len(queue_ids(client.get("/agent/", {"page_size": 50}))) == 50
    # The htmx partial has no nav, so no unread-notifications count for its badge.
    with django_assert_num_queries(len(small) - 1):
        assert len(queue_ids(client.get("/agent/", {"page_size": 50, "view": "all"}, **HTMX))) == 50


# The ticket page ------------------------------------------------------------------------------


@pytest.fixture
def rich_ticket(world: World) -> Ticket:
    """A ticket with a description, a creation attachment, a customer message, a reply and a note."""
    asset = customer_services.asset_create(
        organisation=world.org_a,
        model="CNC-900",
        serial_number="A-0900",
        site="Plant 2",
        install_date=date(2024, 3, 1),
        warranty_end=timezone.localdate() + timedelta(days=100),
    )
    ticket = world.ticket(
        actor=world.customer_a,
        subject="Spindle stops with alarm E-231",
        description="It stops after two hours.",
        asset=asset,
        attachments=[SimpleUploadedFile("temperatures.csv", b"t,c\n1,85\n")],
    )
    services.ticket_assign(
        actor=world.lead,
        ticket=ticket,
        team=world.frontline,
        assignee=world.agent,
        expected_version=ticket.version,
    )
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Please send a photo.")
    services.ticket_reply(
        actor=world.customer_a,
        ticket=ticket,
        body="Here it is.",
        attachments=[SimpleUploadedFile("alarm.png", PNG)],
    )
    services.ticket_note(actor=world.agent, ticket=ticket, body="Bearing again, I think.")
    return fresh(ticket)


def test_ticket_page_shows_header_timeline_and_side_panel(
    client: Client, world: World, rich_ticket: Ticket
) -> None:
    customer_services.contact_create(organisation=world.org_a, name="Other person")
    other = world.ticket(subject="Another open one", team=world.frontline)
    html = signed_in(client, world.agent).get(detail_url(rich_ticket)).content.decode()
    # Header.
    assert rich_ticket.number in html and "Spindle stops with alarm E-231" in html
    assert '<span class="badge badge-cyan">Acknowledged</span>' in html
    assert "P3 · Normal" in html and "via Portal" in html
    # Description and its attachment at the top.
    creation = Attachment.objects.get(ticket=rich_ticket, message__isnull=True)
    assert "It stops after two hours." in html
    assert f'href="/agent/attachments/{creation.pk}/">temperatures.csv</a>' in html
    # Messages, visibly different.
    assert re.search(r'class="msg agent">\s*<div class="meta">\s*<span class="ws-kind ws-kind-reply">', html)
    assert re.search(
        r'class="msg customer">\s*<div class="meta">\s*<span class="ws-kind ws-kind-customer">', html
    )
    assert re.search(
        r'class="msg internal">\s*<div class="meta">\s*<span class="ws-kind ws-kind-note">', html
    )
    assert "Bearing again, I think." in html
    photo = Attachment.objects.get(filename="alarm.png")
    assert f'href="/agent/attachments/{photo.pk}/">alarm.png</a>' in html
    # Events as sentences.
    assert "Customer A created the ticket." in html
    assert "Lead put the ticket in team Frontline." in html
    assert "Lead assigned the ticket to Agent." in html
    assert "Agent changed the status from New to Acknowledged." in html
    # Side panel.
    assert "Org A Machining" in html and "Gold" in html and "Manufacturing" in html
    assert "Alice A" in html and "a@a.example" in html
    assert "CNC-900" in html and "A-0900" in html and "Plant 2" in html and "2024-03-01" in html
    assert "under warranty" in html and "warranty expired" not in html
    assert f'href="/agent/tickets/{other.pk}/"' in html
    # The composer and the controls panel for a member of the team.
    assert 'name="body"' in html and 'hx-encoding="multipart/form-data"' in html
    assert f'name="version" value="{rich_ticket.version}"' in html
    assert '<option value="in_progress">In progress</option>' in html
    assert '<option value="closed">' not in html  # not allowed from acknowledged


def test_expired_warranty_and_missing_asset(client: Client, world: World) -> None:
    asset = customer_services.asset_create(
        organisation=world.org_a, model="OLD-1", serial_number="A-OLD", warranty_end=date(2020, 1, 1)
    )
    old = world.ticket(asset=asset)
    bare = world.ticket()
    signed_in(client, world.agent)
    assert "warranty expired" in client.get(detail_url(old)).content.decode()
    assert "No asset is named on this ticket." in client.get(detail_url(bare)).content.decode()


def test_attachment_link_downloads_the_file(client: Client, world: World, rich_ticket: Ticket) -> None:
    photo = Attachment.objects.get(filename="alarm.png")
    response = signed_in(client, world.agent).get(f"/agent/attachments/{photo.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert 'filename="alarm.png"' in response["Content-Disposition"]


def test_ticket_page_query_count_does_not_grow_with_the_timeline(
    client: Client, world: World, django_assert_num_queries
) -> None:
    ticket = world.ticket(
        team=world.frontline, assignee=world.agent, asset=world.asset_a, contact=world.contact_a
    )
    services.ticket_reply(actor=world.agent, ticket=ticket, body="first")
    services.ticket_note(
        actor=world.agent, ticket=ticket, body="note", attachments=[SimpleUploadedFile("n.txt", b"x")]
    )
    signed_in(client, world.agent)
    with CaptureQueriesContext(connection) as short:
        response = client.get(detail_url(ticket))
    assert response.status_code == 200
    # 17: the page, its panels, and the timeline's messages, events and SLA recounts.
    assert len(short) <= 17, [q["sql"] for q in short.captured_queries]
    for i in range(10):
        services.ticket_reply(
            actor=world.customer_a if i % 2 else world.agent,
            ticket=ticket,
            body=f"reply {i}",
            attachments=[SimpleUploadedFile(f"f{i}.txt", b"data")],
        )
        services.ticket_note(actor=world.lead, ticket=ticket, body=f"note {i}")
        ticket = fresh(ticket)
        services.ticket_update(
            actor=world.agent, ticket=ticket, expected_version=ticket.version, tags=[f"t{i}"]
        )
    assert (
        Message.objects.filter(ticket=ticket).count() + TicketEvent.objects.filter(ticket=ticket).count() > 30
    )
    with django_assert_num_queries(len(short)):
        response = client.get(detail_url(ticket))
    assert "reply 9" in response.content.decode()


# The composer ---------------------------------------------------------------------------------


def test_reply_with_attachments_over_htmx(client: Client, world: World, rich_ticket: Ticket) -> None:
    response = signed_in(client, world.agent).post(
        detail_url(rich_ticket, "messages"),
        {
            "mode": "reply",
            "body": "A technician comes tomorrow.",
            "attachments": [
                SimpleUploadedFile("plan.txt", b"visit plan"),
                SimpleUploadedFile("map.png", PNG),
            ],
        },
        **HTMX,
    )
    assert response.status_code == 200
    message = Message.objects.filter(ticket=rich_ticket).latest("id")
    assert (message.body, message.is_internal, message.author) == (
        "A technician comes tomorrow.",
        False,
        world.agent,
    )
    assert sorted(message.attachments.values_list("filename", flat=True)) == ["map.png", "plan.txt"]
    html = response.content.decode()
    assert "<html" not in html
    # The composer comes back empty with a confirmation; the timeline comes out of band.
    assert re.search(r'<textarea id="compose-body"[^>]*>\s*</textarea>', html)
    assert "Your reply was sent to the customer." in html
    assert '<div id="timeline" hx-swap-oob="innerHTML">' in html
    assert "A technician comes tomorrow." in html and ">plan.txt</a>" in html
    assert '<section id="controls" hx-swap-oob="innerHTML">' in html


def test_first_reply_acknowledges_and_the_new_version_reaches_the_controls(
    client: Client, world: World
) -> None:
    ticket = world.ticket(team=world.frontline)
    response = signed_in(client, world.agent).post(
        detail_url(ticket, "messages"), {"mode": "reply", "body": "On it."}, **HTMX
    )
    ticket = fresh(ticket)
    assert ticket.status == "acknowledged"
    html = response.content.decode()
    assert f'name="version" value="{ticket.version}"' in html
    assert "Agent changed the status from New to Acknowledged." in html


def test_internal_note_without_javascript_redirects_with_a_flash(
    client: Client, world: World, rich_ticket: Ticket
) -> None:
    response = signed_in(client, world.agent).post(
        detail_url(rich_ticket, "messages"), {"mode": "note", "body": "Check the bearing."}
    )
    assert response.status_code == 302 and response["Location"] == detail_url(rich_ticket)
    note = Message.objects.filter(ticket=rich_ticket).latest("id")
    assert note.is_internal and note.body == "Check the bearing."
    page = client.get(response["Location"]).content.decode()
    assert "Your internal note was added." in page


def test_composer_errors_keep_the_text(client: Client, world: World, rich_ticket: Ticket) -> None:
    before = Message.objects.count()
    signed_in(client, world.agent)
    response = client.post(
        detail_url(rich_ticket, "messages"),
        {"mode": "note", "body": "Keep this text", "attachments": [SimpleUploadedFile("tool.exe", b"MZ")]},
        **HTMX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "tool.exe: this type of file is not accepted." in html
    assert ">Keep this text</textarea>" in html
    assert 'value="note" checked' in html
    assert Message.objects.count() == before

    response = client.post(detail_url(rich_ticket, "messages"), {"mode": "reply", "body": "   "}, **HTMX)
    assert response.status_code == 422
    assert "Write a message first." in response.content.decode()

    # Without JavaScript the whole page comes back with the error and the text.
    response = client.post(detail_url(rich_ticket, "messages"), {"mode": "reply", "body": "x" * 50_001})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html and "Ensure this value has at most 50000 characters" in html
    assert Message.objects.count() == before


def test_reply_on_a_closed_ticket_is_refused_clearly(client: Client, world: World) -> None:
    ticket = world.ticket(team=world.frontline)
    for status in ("resolved", "closed"):
        ticket = services.ticket_transition(
            actor=world.agent, ticket=ticket, to_status=status, expected_version=ticket.version
        )
    response = signed_in(client, world.agent).post(
        detail_url(ticket, "messages"), {"mode": "reply", "body": "Hello?"}, **HTMX
    )
    assert response.status_code == 422
    assert f"{ticket.number} is closed." in response.content.decode()


# The controls panel ---------------------------------------------------------------------------


def test_transition_over_htmx_rerenders_panel_and_timeline(
    client: Client, world: World, rich_ticket: Ticket
) -> None:
    response = signed_in(client, world.agent).post(
        detail_url(rich_ticket, "status"),
        {"to_status": "in_progress", "reason": "Parts are here", "version": rich_ticket.version},
        **HTMX,
    )
    assert response.status_code == 200
    ticket = fresh(rich_ticket)
    assert ticket.status == "in_progress" and ticket.version == rich_ticket.version + 1
    html = response.content.decode()
    assert "Status changed to In progress." in html
    assert f'name="version" value="{ticket.version}"' in html
    assert f'name="version" value="{rich_ticket.version}"' not in html
    assert '<div id="timeline" hx-swap-oob="innerHTML">' in html
    assert "Agent changed the status from Acknowledged to In progress." in html
    assert "Reason: Parts are here" in html
    assert '<header id="ticket-header" hx-swap-oob="innerHTML">' in html


def test_transition_not_allowed_from_the_current_status(client: Client, world: World) -> None:
    ticket = world.ticket(team=world.frontline)
    response = signed_in(client, world.agent).post(
        detail_url(ticket, "status"), {"to_status": "closed", "version": ticket.version}, **HTMX
    )
    assert response.status_code == 422
    assert "cannot move from New to Closed" in response.content.decode()
    assert fresh(ticket).status == "new"


def test_assign_team_and_assignee(client: Client, world: World, rich_ticket: Ticket) -> None:
    second = make_member(world)
    response = signed_in(client, world.agent).post(
        detail_url(rich_ticket, "assignment"),
        {"team": world.frontline.pk, "assignee": second.pk, "version": rich_ticket.version},
        **HTMX,
    )
    assert response.status_code == 200
    ticket = fresh(rich_ticket)
    assert (ticket.team, ticket.assignee) == (world.frontline, second)
    html = response.content.decode()
    assert "Assignment saved." in html
    assert "Agent reassigned the ticket from Agent to Second Agent." in html


def make_member(world: World):
    from tests.conftest import make_user

    second = make_user("second_agent", "agent")
    account_services.team_add_member(team=world.frontline, user=second)
    return second


def test_assignee_must_belong_to_the_team(client: Client, world: World, rich_ticket: Ticket) -> None:
    response = signed_in(client, world.agent).post(
        detail_url(rich_ticket, "assignment"),
        {"team": world.frontline.pk, "assignee": world.field_agent.pk, "version": rich_ticket.version},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Field Agent is not a member of Frontline." in response.content.decode()
    assert fresh(rich_ticket).assignee == world.agent


def test_assignee_choices_follow_the_team(client: Client, world: World, rich_ticket: Ticket) -> None:
    signed_in(client, world.agent)
    html = client.get(detail_url(rich_ticket, "assignees"), {"team": world.field.pk}, **HTMX).content.decode()
    assert "Field Agent" in html and ">Agent<" not in html and "Lead" not in html
    html = client.get(
        detail_url(rich_ticket, "assignees"), {"team": world.frontline.pk}, **HTMX
    ).content.decode()
    assert ">Agent<" in html and ">Lead<" in html and "Field Agent" not in html
    # The inspector cannot be assigned anything, so never appears.
    html = client.get(detail_url(rich_ticket, "assignees"), {"team": ""}, **HTMX).content.decode()
    assert "Field Agent" in html and "Inspector" not in html and "Customer A" not in html


def test_assign_to_me(client: Client, world: World) -> None:
    ticket = world.ticket(team=world.frontline)
    html = signed_in(client, world.agent).get(detail_url(ticket)).content.decode()
    assert "Assign to me" in html
    client.post(
        detail_url(ticket, "assignment"),
        {"team": world.frontline.pk, "assignee": world.agent.pk, "version": ticket.version},
        **HTMX,
    )
    assert fresh(ticket).assignee == world.agent


def test_moving_a_ticket_out_of_the_agents_teams_sends_them_to_the_queue(
    client: Client, world: World
) -> None:
    ticket = world.ticket(team=world.frontline)
    response = signed_in(client, world.agent).post(
        detail_url(ticket, "assignment"),
        {"team": world.field.pk, "assignee": "", "version": ticket.version},
        **HTMX,
    )
    assert response.status_code == 200 and response["HX-Redirect"] == "/agent/"
    assert fresh(ticket).team == world.field


def test_priority_change(client: Client, world: World, rich_ticket: Ticket) -> None:
    response = signed_in(client, world.agent).post(
        detail_url(rich_ticket, "priority"), {"priority": "P1", "version": rich_ticket.version}, **HTMX
    )
    assert response.status_code == 200
    assert fresh(rich_ticket).priority == "P1"
    html = response.content.decode()
    assert "Priority changed to P1 · Critical." in html
    assert "Agent changed the priority from P3 · Normal to P1 · Critical." in html


def test_tags_change(client: Client, world: World, rich_ticket: Ticket) -> None:
    response = signed_in(client, world.agent).post(
        detail_url(rich_ticket, "tags"),
        {"tags": "Spindle，bearing; spindle", "version": rich_ticket.version},
        **HTMX,
    )
    assert response.status_code == 200
    assert sorted(fresh(rich_ticket).tags.values_list("name", flat=True)) == ["bearing", "spindle"]
    assert "Agent set the tags to bearing, spindle." in response.content.decode()
    too_long = signed_in(client, world.agent).post(
        detail_url(rich_ticket, "tags"), {"tags": "x" * 60, "version": fresh(rich_ticket).version}, **HTMX
    )
    assert too_long.status_code == 422
    html = too_long.content.decode()
    assert "A tag is too long." in html and 'value="' + "x" * 60 + '"' in html


def test_stale_version_shows_the_message_and_changes_nothing(
    client: Client, world: World, rich_ticket: Ticket
) -> None:
    loaded = rich_ticket.version
    services.ticket_update(actor=world.lead, ticket=rich_ticket, expected_version=loaded, priority="P2")
    signed_in(client, world.agent)
    for action, data in [
        ("status", {"to_status": "in_progress"}),
        ("assignment", {"team": world.frontline.pk, "assignee": ""}),
        ("priority", {"priority": "P4"}),
        ("tags", {"tags": "late"}),
    ]:
        response = client.post(detail_url(rich_ticket, action), {**data, "version": loaded}, **HTMX)
        assert response.status_code == 409, action
        html = response.content.decode()
        assert f"{rich_ticket.number} was changed by someone else since you loaded it" in html
        assert "Reload it and try again." in html
        assert f'href="{detail_url(rich_ticket)}">Reload the ticket</a>' in html
        assert '<fieldset class="ws-controls" disabled>' in html
        assert "hx-swap-oob" not in html
    ticket = fresh(rich_ticket)
    assert (ticket.status, ticket.priority, ticket.assignee, list(ticket.tags.all())) == (
        "acknowledged",
        "P2",
        world.agent,
        [],
    )


def test_controls_without_javascript_redirect_with_a_flash(
    client: Client, world: World, rich_ticket: Ticket
) -> None:
    signed_in(client, world.agent)
    response = client.post(
        detail_url(rich_ticket, "priority"), {"priority": "P2", "version": rich_ticket.version}
    )
    assert response.status_code == 302 and response["Location"] == detail_url(rich_ticket)
    assert "Priority changed to P2 · High." in client.get(response["Location"]).content.decode()
    # Now stale: the same version again.
    response = client.post(
        detail_url(rich_ticket, "priority"), {"priority": "P4", "version": rich_ticket.version}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "was changed by someone else since you loaded it" in page
    assert fresh(rich_ticket).priority == "P2"


@pytest.mark.parametrize("version", ["", "abc", "0"])
def test_missing_or_bad_version_is_refused(
    client: Client, world: World, rich_ticket: Ticket, version: str
) -> None:
    response = signed_in(client, world.agent).post(
        detail_url(rich_ticket, "priority"), {"priority": "P1", "version": version}, **HTMX
    )
    assert response.status_code == 422
    assert fresh(rich_ticket).priority == "P3"


def test_bad_choices_are_refused_without_a_server_error(
    client: Client, world: World, rich_ticket: Ticket
) -> None:
    signed_in(client, world.agent)
    version = rich_ticket.version
    assert (
        client.post(
            detail_url(rich_ticket, "status"), {"to_status": "x", "version": version}, **HTMX
        ).status_code
        == 422
    )
    assert (
        client.post(
            detail_url(rich_ticket, "priority"), {"priority": "P9", "version": version}, **HTMX
        ).status_code
        == 422
    )
    assert (
        client.post(
            detail_url(rich_ticket, "assignment"), {"team": "9999", "version": version}, **HTMX
        ).status_code
        == 422
    )
    assert (
        client.post(detail_url(rich_ticket, "messages"), {"mode": "shout", "body": "x"}, **HTMX).status_code
        == 422
    )
    assert client.get(detail_url(rich_ticket, "status")).status_code == 405


# Permissions ----------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_log_in(client: Client, world: World) -> None:
    ticket = world.ticket()
    for url in ("/agent/", detail_url(ticket)):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_customers_get_404_in_the_workspace(client: Client, world: World) -> None:
    ticket = world.ticket(actor=world.customer_a)
    signed_in(client, world.customer_a)
    assert client.get("/agent/").status_code == 404
    assert client.get(detail_url(ticket)).status_code == 404
    response = client.post(detail_url(ticket, "messages"), {"mode": "reply", "body": "hi"})
    assert response.status_code == 404
    assert Message.objects.filter(ticket=ticket).count() == 0


def test_agent_outside_the_team_gets_404(client: Client, world: World) -> None:
    ticket = world.ticket(team=world.field)
    signed_in(client, world.agent)
    assert client.get(detail_url(ticket)).status_code == 404
    assert client.post(detail_url(ticket, "messages"), {"mode": "note", "body": "x"}).status_code == 404
    assert (
        client.post(detail_url(ticket, "priority"), {"priority": "P1", "version": ticket.version}).status_code
        == 404
    )
    assert client.get("/agent/tickets/999999/").status_code == 404
    assert fresh(ticket).priority == "P3" and not Message.objects.filter(ticket=ticket).exists()


def test_inspector_reads_but_cannot_change(client: Client, world: World, rich_ticket: Ticket) -> None:
    signed_in(client, world.inspector)
    html = client.get(detail_url(rich_ticket)).content.decode()
    assert "Bearing again, I think." in html  # internal notes are visible to staff
    assert "You can read this ticket but not change it." in html
    assert 'name="body"' not in html and 'name="version"' not in html
    assert 'id="controls"' not in html
    version = rich_ticket.version
    for action, data in [
        ("messages", {"mode": "reply", "body": "x"}),
        ("status", {"to_status": "in_progress", "version": version}),
        ("assignment", {"team": world.frontline.pk, "assignee": "", "version": version}),
        ("priority", {"priority": "P1", "version": version}),
        ("tags", {"tags": "x", "version": version}),
    ]:
        assert client.post(detail_url(rich_ticket, action), data, **HTMX).status_code == 403, action
        assert client.post(detail_url(rich_ticket, action), data).status_code == 403, action
    ticket = fresh(rich_ticket)
    assert ticket.version == version and Message.objects.filter(ticket=ticket).count() == 3
    # The inspector still has the queue, with every ticket.
    assert rich_ticket.pk in queue_ids(client.get("/agent/", {"view": "all"}))


def test_manager_sees_and_works_every_ticket(client: Client, world: World) -> None:
    ticket = world.ticket(team=world.field)
    signed_in(client, world.manager)
    assert ticket.pk in queue_ids(client.get("/agent/"))
    response = client.post(detail_url(ticket, "priority"), {"priority": "P2", "version": ticket.version})
    assert response.status_code == 302 and fresh(ticket).priority == "P2"


def test_an_assignee_who_left_the_team_stays_selected(client: Client, world: World) -> None:
    from pledge.accounts.models import TeamMembership

    ticket = world.ticket(team=world.frontline, assignee=world.agent)
    TeamMembership.objects.filter(team=world.frontline, user=world.agent).delete()
    html = signed_in(client, world.lead).get(detail_url(ticket)).content.decode()
    assert f'<option value="{world.agent.pk}" selected>Agent</option>' in html
