"""The agent's New ticket page through the Django test client: the form, creating a ticket with every
field (SLA clocks and SOP steps included), field errors that write nothing, one ticket per form token,
who may use the page, the organisation search and the contacts/assets partial, and query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pledge.customers import services as customer_services
from pledge.customers.models import Contact, Organisation
from pledge.standards import services as standards_services
from pledge.standards.models import ServiceType, SlaPolicy
from pledge.tickets.choices import ClockState, EventKind
from pledge.tickets.models import Attachment, SlaClock, Ticket, TicketEvent, TicketStep
from tests.conftest import World
from tests.sops import repair_service

URL = reverse("tickets:new")
SEARCH_URL = reverse("tickets:new_organisations")
DETAILS_URL = reverse("tickets:new_organisation_details")
ASSIGNEES_URL = reverse("tickets:new_assignees")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTMX = {"HTTP_HX_REQUEST": "true"}


def png(name: str = "plate.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def form_data(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": str(world.org_a.pk),
        "channel": "phone",
        "subject": "Spindle overheats after two hours",
        "description": "Caller reads alarm 2041 on the display.",
        "form_token": "agent-token-1",
    }
    data.update(overrides)
    return data


def notices(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_nothing_written() -> None:
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0
    assert Attachment.objects.count() == 0


@pytest.fixture
def repair(world: World) -> ServiceType:
    """The repair service type (fault, P2 by default) with its SOP, on the 24x7 calendar."""
    standards_services.ensure_builtin_calendars()
    return repair_service(world.manager, effective=timezone.localdate(), at=timezone.now(), calendar="24x7")


@pytest.fixture
def phone_policy(world: World) -> SlaPolicy:
    """An SLA policy for tickets received by phone: the chosen channel decides whether it applies."""
    standards_services.ensure_builtin_calendars()
    return standards_services.sla_policy_create(
        actor=world.manager,
        name="Phone hotline",
        calendar="24x7",
        channels=["phone"],
        first_response_minutes=60,
        resolution_minutes=480,
    )


# The form ---------------------------------------------------------------------------------------


def test_agent_gets_the_form_with_staff_channels_and_active_service_types(
    client: Client, world: World, repair: ServiceType
) -> None:
    standards_services.service_type_create(
        actor=world.manager,
        code="retired",
        name="Retired service",
        category="field",
        calendar="24x7",
        is_active=False,
    )
    response = signed_in(client, world.agent).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>New ticket</h1>" in html
    form = response.context["form"]
    assert [value for value, _label in form.fields["channel"].choices] == ["phone", "email", "on_site"]
    assert form["channel"].value() == "phone"
    assert '<option value="phone" selected>Phone</option>' in html
    assert len(form["form_token"].value()) >= 20
    assert "Fault repair (Fault, P2 · High)" in html
    assert "Retired service" not in html
    # Before an organisation is chosen there is nothing to pick as contact or asset, and no search ran.
    assert list(form.fields["contact"].queryset) == []
    assert "Type to find the organisation." in html
    assert "Up to 5 files, each at most 10 MB." in html


def test_the_page_without_javascript_loads_the_chosen_organisations_contacts_and_assets(
    client: Client, world: World
) -> None:
    response = signed_in(client, world.agent).get(URL, {"organisation": world.org_a.pk})
    html = response.content.decode()
    assert f'name="organisation" value="{world.org_a.pk}" checked' in html
    assert "Alice A" in html and "CNC-500 · A-0001" in html
    assert "Bob B" not in html and "PUMP-20" not in html
    # The search form reloads the page with the matches (a GET form: no CSRF token in the address).
    response = client.get(URL, {"org_q": "chemicals"})
    html = response.content.decode()
    assert f'name="organisation" value="{world.org_b.pk}"' in html
    assert f'name="organisation" value="{world.org_a.pk}"' not in html
    assert f'href="{URL}?organisation={world.org_b.pk}"' in html


@pytest.mark.parametrize("raw", ["²", "١٢", "-1", "1e3", "9" * 30])
def test_an_organisation_id_that_is_not_plain_digits_is_ignored(
    client: Client, world: World, raw: str
) -> None:
    agent = signed_in(client, world.agent)
    assert agent.get(URL, {"organisation": raw}).status_code == 200
    assert agent.get(f"{URL}organisation/", {"organisation": raw}).status_code == 200
    assert agent.get(f"{URL}organisations/", {"org_q": "org", "organisation": raw}).status_code == 200


# Creating ---------------------------------------------------------------------------------------


def test_agent_creates_a_ticket_with_every_field(
    client: Client, world: World, repair: ServiceType, phone_policy: SlaPolicy
) -> None:
    before = timezone.now()
    response = signed_in(client, world.agent).post(
        URL,
        {
            **form_data(world),
            "contact": str(world.contact_a.pk),
            "asset": str(world.asset_a.pk),
            "service_type": str(repair.pk),
            "kind": "",
            "priority": "",
            "team": str(world.frontline.pk),
            "assignee": str(world.agent.pk),
            "tags": "Hydraulics, urgent；hydraulics",
            "attachments": [png()],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert notices(response) == [f"{ticket.number} created."]
    # Kind and priority come from the service type when left empty.
    assert (ticket.kind, ticket.priority, ticket.channel, ticket.status) == ("fault", "P2", "phone", "new")
    assert ticket.subject == "Spindle overheats after two hours"
    assert ticket.description == "Caller reads alarm 2041 on the display."
    assert (ticket.organisation, ticket.contact, ticket.asset) == (
        world.org_a,
        world.contact_a,
        world.asset_a,
    )
    assert (ticket.team, ticket.assignee, ticket.created_by) == (world.frontline, world.agent, world.agent)
    assert ticket.service_type == repair and ticket.sop_version is not None
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["hydraulics", "urgent"]
    assert list(
        Attachment.objects.filter(ticket=ticket, message=None).values_list("filename", flat=True)
    ) == ["plate.png"]
    created = TicketEvent.objects.get(ticket=ticket, kind=EventKind.CREATED)
    assert created.actor == world.agent
    assert created.data["channel"] == "phone" and created.data["service_type"] == "fault-repair"
    # The phone policy matched: its clocks run from the moment of creation.
    assert ticket.sla_policy_id == phone_policy.pk
    first = SlaClock.objects.get(ticket=ticket, target="first_response")
    assert first.state == ClockState.RUNNING
    assert before + timedelta(minutes=60) <= first.due_at <= timezone.now() + timedelta(minutes=60)
    assert SlaClock.objects.get(ticket=ticket, target="resolution").state == ClockState.RUNNING
    assert ticket.sla_due_at == first.due_at
    # The SOP's first stage started.
    assert TicketStep.objects.filter(ticket=ticket, state="active").exists()
    page = client.get(response["Location"]).content.decode()
    assert f"{ticket.number} created." in page
    assert "plate.png" in page and "via Phone" in page


def test_the_channel_decides_the_sla_policy(client: Client, world: World, phone_policy: SlaPolicy) -> None:
    response = signed_in(client, world.agent).post(URL, form_data(world, channel="email"))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == "email"
    assert ticket.sla_policy_id is None
    assert not SlaClock.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize(
    ("with_service", "kind", "priority", "expected"),
    [
        (False, "", "", ("request", "P3")),
        (True, "complaint", "P1", ("complaint", "P1")),
        (False, "field_visit", "P4", ("field_visit", "P4")),
    ],
)
def test_kind_and_priority_default_or_follow_the_choice(
    client: Client,
    world: World,
    repair: ServiceType,
    with_service: bool,
    kind: str,
    priority: str,
    expected: tuple[str, str],
) -> None:
    data = form_data(world, kind=kind, priority=priority, channel="on_site")
    if with_service:
        data["service_type"] = str(repair.pk)
    assert signed_in(client, world.agent).post(URL, data).status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.priority, ticket.channel) == (*expected, "on_site")


@pytest.mark.parametrize("field", ["contact", "asset"])
def test_a_contact_or_asset_of_another_organisation_is_refused(
    client: Client, world: World, field: str
) -> None:
    other = {"contact": world.contact_b, "asset": world.asset_b}[field]
    response = signed_in(client, world.agent).post(URL, {**form_data(world), field: str(other.pk)})
    assert response.status_code == 422
    expected = {
        "contact": "Choose one of this organisation's contacts.",
        "asset": "Choose one of this organisation's assets.",
    }[field]
    assert response.context["form"].errors[field] == [expected]
    html = response.content.decode()
    assert "Please check the fields marked below." in html
    assert expected.replace("'", "&#x27;") in html
    # What was typed and the token stay, so that the corrected form is still one submission.
    assert "Spindle overheats after two hours" in html and 'value="agent-token-1"' in html
    assert_nothing_written()


def test_missing_organisation_subject_and_unknown_channel_are_field_errors(
    client: Client, world: World
) -> None:
    response = signed_in(client, world.agent).post(
        URL, form_data(world, organisation="", subject="  ", channel="portal")
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors["organisation"] == ["Choose the organisation."]
    assert "subject" in errors and "channel" in errors
    assert_nothing_written()


def test_an_inactive_organisation_is_neither_found_nor_accepted(client: Client, world: World) -> None:
    Organisation.objects.filter(pk=world.org_b.pk).update(is_active=False)
    client = signed_in(client, world.agent)
    assert "Org B" not in client.get(SEARCH_URL, {"org_q": "Org"}).content.decode()
    response = client.post(URL, form_data(world, organisation=str(world.org_b.pk)))
    assert response.context["form"].errors["organisation"] == [
        "Choose an active organisation from the search results."
    ]
    assert_nothing_written()


def test_an_assignee_outside_the_team_is_refused_by_the_service_beside_the_field(
    client: Client, world: World
) -> None:
    response = signed_in(client, world.agent).post(
        URL, form_data(world, team=str(world.frontline.pk), assignee=str(world.field_agent.pk))
    )
    assert response.status_code == 422
    assert response.context["form"].errors["assignee"]
    assert_nothing_written()


def test_a_ticket_for_a_team_outside_the_agents_view_leads_back_to_the_queue(
    client: Client, world: World
) -> None:
    response = signed_in(client, world.agent).post(
        URL, form_data(world, team=str(world.field.pk), assignee=str(world.field_agent.pk))
    )
    ticket = Ticket.objects.get()
    assert ticket.team == world.field and ticket.assignee == world.field_agent
    assert response["Location"] == reverse("tickets:queue")
    assert notices(response) == [
        f"{ticket.number} created.",
        "It went to a team outside your view, so it does not open here.",
    ]


def test_a_double_submit_with_the_same_token_creates_one_ticket(client: Client, world: World) -> None:
    client = signed_in(client, world.agent)
    first = client.post(URL, {**form_data(world), "attachments": [png()]})
    second = client.post(URL, {**form_data(world), "attachments": [png()]})
    ticket = Ticket.objects.get()
    assert first["Location"] == second["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert notices(second)[-1] == f"{ticket.number} was already created from this form; this is it."
    assert Attachment.objects.count() == 1
    assert TicketEvent.objects.filter(kind=EventKind.CREATED).count() == 1
    # A new form (a new token) is a new ticket; a missing token still creates one.
    client.post(URL, form_data(world, form_token="agent-token-2"))
    client.post(URL, form_data(world, form_token=""))
    assert Ticket.objects.count() == 3


def test_the_same_token_from_two_agents_makes_two_tickets(client: Client, world: World) -> None:
    signed_in(client, world.agent).post(URL, form_data(world))
    signed_in(client, world.lead).post(URL, form_data(world))
    assert sorted(Ticket.objects.values_list("created_by__username", flat=True)) == ["agent", "lead"]


def test_an_oversized_attachment_is_a_field_error(client: Client, world: World, settings: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 32
    response = signed_in(client, world.agent).post(URL, {**form_data(world), "attachments": [png()]})
    assert response.status_code == 422
    errors = response.context["form"].errors["attachments"]
    assert errors == ["plate.png is larger than 0 MB.", "File too large."]
    assert "Files are not kept when a form has errors: choose them again." in response.content.decode()
    assert_nothing_written()


def test_a_disallowed_or_disguised_attachment_is_a_field_error(client: Client, world: World) -> None:
    client = signed_in(client, world.agent)
    exe = SimpleUploadedFile(
        "setup.exe", b"MZ\x90\x00" + b"\x00" * 32, content_type="application/octet-stream"
    )
    response = client.post(URL, {**form_data(world), "attachments": [png(), exe]})
    assert response.status_code == 422
    assert "setup.exe: this type of file is not accepted." in response.context["form"].errors["attachments"]
    fake = SimpleUploadedFile("photo.png", b"just some text", content_type="image/png")
    response = client.post(URL, {**form_data(world), "attachments": [fake]})
    assert "photo.png does not contain what its name says." in response.context["form"].errors["attachments"]
    assert_nothing_written()


def test_too_many_attachments_are_a_field_error(client: Client, world: World, settings: Any) -> None:
    settings.MAX_ATTACHMENTS_PER_MESSAGE = 2
    response = signed_in(client, world.agent).post(
        URL, {**form_data(world), "attachments": [png("1.png"), png("2.png"), png("3.png")]}
    )
    assert response.context["form"].errors["attachments"] == ["At most 2 files at a time."]
    assert_nothing_written()


# Who may use it ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "lead", "manager", "admin"])
def test_staff_who_work_tickets_may_create_them(client: Client, world: World, role: str) -> None:
    client = signed_in(client, getattr(world, role))
    assert client.get(URL).status_code == 200
    assert client.post(URL, form_data(world)).status_code == 302
    assert Ticket.objects.get().created_by == getattr(world, role)


@pytest.mark.parametrize("url", [URL, SEARCH_URL, DETAILS_URL, ASSIGNEES_URL])
def test_customers_get_not_found_and_inspectors_forbidden(client: Client, world: World, url: str) -> None:
    assert signed_in(client, world.customer_a).get(url, {"org_q": "Org"}).status_code == 404
    assert signed_in(Client(), world.inspector).get(url, {"org_q": "Org"}).status_code == 403


def test_customers_and_inspectors_cannot_post(client: Client, world: World) -> None:
    assert signed_in(client, world.customer_a).post(URL, form_data(world)).status_code == 404
    assert signed_in(Client(), world.inspector).post(URL, form_data(world)).status_code == 403
    assert_nothing_written()


@pytest.mark.parametrize("url", [URL, SEARCH_URL, DETAILS_URL, ASSIGNEES_URL])
def test_signed_out_visitors_are_sent_to_sign_in(client: Client, world: World, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert client.post(URL, form_data(world)).status_code == 302
    assert_nothing_written()


def test_the_queue_shows_the_new_ticket_link_to_those_who_may_create(client: Client, world: World) -> None:
    link = f'href="{URL}">New ticket</a>'
    assert link in signed_in(client, world.agent).get("/agent/").content.decode()
    assert link in signed_in(Client(), world.manager).get("/agent/").content.decode()
    assert link not in signed_in(Client(), world.inspector).get("/agent/").content.decode()


# The organisation search and the contacts/assets partial -----------------------------------------


def test_the_search_finds_organisations_by_name_or_caller(client: Client, world: World) -> None:
    acme = customer_services.organisation_create(name="Acme Tools")
    customer_services.organisation_create(name="Acme Foods")
    customer_services.contact_create(organisation=acme, name="Carol Caller", phone="+86 139 0000 1234")
    client = signed_in(client, world.agent)
    html = client.get(SEARCH_URL, {"org_q": "acme"}, **HTMX).content.decode()
    assert "Acme Tools" in html and "Acme Foods" in html
    assert "Org A" not in html and "Org B" not in html
    assert "<html" not in html  # the partial only
    html = client.get(SEARCH_URL, {"org_q": "0000 1234"}, **HTMX).content.decode()
    assert "Acme Tools" in html and "Acme Foods" not in html
    html = client.get(SEARCH_URL, {"org_q": "nothing like it"}, **HTMX).content.decode()
    assert "No organisation matches “nothing like it”." in html
    assert 'name="organisation"' not in html


def test_the_search_keeps_the_chosen_organisation_first_and_checked(client: Client, world: World) -> None:
    html = (
        signed_in(client, world.agent)
        .get(SEARCH_URL, {"org_q": "chemicals", "organisation": world.org_a.pk}, **HTMX)
        .content.decode()
    )
    assert html.index(f'value="{world.org_a.pk}" checked') < html.index(f'value="{world.org_b.pk}"')


def test_the_search_is_limited_and_says_so(client: Client, world: World) -> None:
    for n in range(25):
        customer_services.organisation_create(name=f"Delta Works {n:02d}")
    html = signed_in(client, world.agent).get(SEARCH_URL, {"org_q": "delta"}, **HTMX).content.decode()
    assert html.count('name="organisation"') == 10
    assert "Delta Works 00" in html and "Delta Works 09" in html and "Delta Works 10" not in html
    assert "More organisations match: type more of the name." in html


def test_the_partial_lists_only_the_organisations_active_contacts_assets_and_open_tickets(
    client: Client, world: World
) -> None:
    customer_services.contact_create(organisation=world.org_a, name="Ann Active", job_title="Foreman")
    gone = customer_services.contact_create(organisation=world.org_a, name="Gary Gone")
    Contact.objects.filter(pk=gone.pk).update(is_active=False)
    customer_services.asset_create(
        organisation=world.org_a, model="LATHE-9", serial_number="A-0002", site="Hall 2"
    )
    open_a = world.ticket(subject="Coolant leak on line 3")
    world.ticket(org=world.org_b, subject="Pump noise")
    response = signed_in(client, world.agent).get(DETAILS_URL, {"organisation": world.org_a.pk}, **HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert "Alice A" in html and "Ann Active · Foreman" in html and "Gary Gone" not in html
    assert "CNC-500 · A-0001" in html and "LATHE-9 · A-0002 · Hall 2" in html
    assert "Bob B" not in html and "PUMP-20" not in html
    assert open_a.number in html and "Pump noise" not in html


def test_the_assignee_options_follow_the_team(client: Client, world: World) -> None:
    html = (
        signed_in(client, world.agent).get(ASSIGNEES_URL, {"team": world.field.pk}, **HTMX).content.decode()
    )
    assert f'value="{world.field_agent.pk}"' in html
    assert f'value="{world.agent.pk}"' not in html
    assert ">Unassigned</option>" in html


# Query counts -----------------------------------------------------------------------------------


def test_the_page_and_the_search_cost_the_same_whatever_the_number_of_organisations(
    client: Client, world: World, django_assert_num_queries: Any
) -> None:
    for n in range(3):
        customer_services.organisation_create(name=f"Echo Plant {n:03d}")
    client = signed_in(client, world.agent)
    query = {"org_q": "echo", "organisation": world.org_a.pk}
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL, query).status_code == 200
    with CaptureQueriesContext(connection) as few_search:
        assert client.get(SEARCH_URL, query, **HTMX).status_code == 200
    for n in range(3, 80):
        customer_services.organisation_create(name=f"Echo Plant {n:03d}")
    with django_assert_num_queries(len(few)):
        html = client.get(URL, query).content.decode()
    assert html.count('name="organisation"') == 11  # the chosen one and the first 10 matches
    with django_assert_num_queries(len(few_search)):
        client.get(SEARCH_URL, query, **HTMX)
