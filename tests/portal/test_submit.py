"""Submitting a request in the portal: success with files, field errors that write nothing, one ticket
per form however often it is submitted."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from pledge.accounts.choices import Role
from pledge.tickets.models import Attachment, Ticket, TicketEvent
from tests.conftest import World, make_user
from tests.portal.helpers import png

URL = reverse("portal:ticket_new")


def form_data(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "fault",
        "asset": str(world.asset_a.pk),
        "subject": "Spindle overheats after two hours",
        "description": "Alarm 2041 on the display, since Monday.",
        "priority": "P2",
        "form_token": "token-1",
    }
    data.update(overrides)
    return data


def test_form_offers_portal_kinds_own_assets_and_the_limits(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.get(URL)
    html = response.content.decode()
    for label in ("Service request", "Fault", "Complaint", "Suggestion"):
        assert label in html
    assert "Field visit" not in html and "Inquiry" not in html
    assert "CNC-500 · A-0001" in html and "PUMP-20" not in html
    assert "Up to 5 files, each at most 10 MB." in html
    assert "Normal — we can keep working for now" in html
    form = response.context["form"]
    assert form["priority"].value() == "P3"
    assert len(form["form_token"].value()) >= 20


def test_submit_creates_the_ticket_with_its_file(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(URL, {**form_data(world), "attachments": [png("alarm.png"), png("plate.png")]})
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:ticket_detail", args=[ticket.pk])
    assert (ticket.kind, ticket.priority, ticket.channel, ticket.status) == ("fault", "P2", "portal", "new")
    assert ticket.organisation == world.org_a and ticket.asset == world.asset_a
    assert ticket.contact == world.contact_a and ticket.created_by == world.customer_a
    assert sorted(Attachment.objects.filter(ticket=ticket).values_list("filename", flat=True)) == [
        "alarm.png",
        "plate.png",
    ]
    page = client.get(response["Location"]).content.decode()
    assert f"{ticket.number} received" in page
    assert "alarm.png" in page


def test_asset_is_optional(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(URL, form_data(world, asset="", kind="suggestion", priority="P4"))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.asset is None and ticket.kind == "suggestion"


def assert_nothing_written() -> None:
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_empty_subject_shows_the_error_and_keeps_what_was_typed(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(URL, form_data(world, subject="   "))
    assert response.status_code == 200
    form = response.context["form"]
    assert "subject" in form.errors
    html = response.content.decode()
    assert "Please check the fields marked below." in html
    assert "Alarm 2041 on the display, since Monday." in html
    assert 'value="token-1"' in html
    assert_nothing_written()


def test_asset_of_another_organisation_is_refused(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(URL, form_data(world, asset=str(world.asset_b.pk)))
    assert response.status_code == 200
    assert response.context["form"].errors["asset"] == ["Choose one of your organisation's machines."]
    assert "Choose one of your organisation&#x27;s machines." in response.content.decode()
    assert_nothing_written()


def test_a_kind_customers_cannot_submit_is_refused(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(URL, form_data(world, kind="field_visit"))
    assert "kind" in response.context["form"].errors
    assert_nothing_written()


def test_a_bad_file_type_is_refused_beside_the_field(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    exe = SimpleUploadedFile(
        "setup.exe", b"MZ\x90\x00" + b"\x00" * 32, content_type="application/octet-stream"
    )
    response = client.post(URL, {**form_data(world), "attachments": [png(), exe]})
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert "setup.exe: this type of file is not accepted." in errors
    html = response.content.decode()
    assert "setup.exe: this type of file is not accepted." in html
    assert "please choose them again" in html
    assert "Spindle overheats after two hours" in html
    assert_nothing_written()


def test_a_file_whose_content_lies_about_its_type_is_refused(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    fake = SimpleUploadedFile("photo.png", b"just some text", content_type="image/png")
    response = client.post(URL, {**form_data(world), "attachments": [fake]})
    assert "photo.png does not contain what its name says." in response.context["form"].errors["attachments"]
    assert_nothing_written()


def test_too_many_files_are_refused(client: Client, world: World, settings: Any) -> None:
    settings.MAX_ATTACHMENTS_PER_MESSAGE = 2
    client.force_login(world.customer_a)
    response = client.post(
        URL, {**form_data(world), "attachments": [png("1.png"), png("2.png"), png("3.png")]}
    )
    assert response.context["form"].errors["attachments"] == ["At most 2 files at a time."]
    assert_nothing_written()


def test_double_submit_with_the_same_form_token_makes_one_ticket(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    first = client.post(URL, {**form_data(world), "attachments": [png()]})
    second = client.post(URL, {**form_data(world), "attachments": [png()]})
    ticket = Ticket.objects.get()
    assert first["Location"] == second["Location"] == reverse("portal:ticket_detail", args=[ticket.pk])
    assert Attachment.objects.count() == 1
    page = client.get(second["Location"]).content.decode()
    assert "was already received" in page
    # A new form (a new token) makes a new ticket.
    client.post(URL, form_data(world, form_token="token-2"))
    assert Ticket.objects.count() == 2


def test_the_same_token_from_two_customers_makes_two_tickets(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    client.post(URL, form_data(world))
    client.force_login(world.customer_b)
    client.post(URL, form_data(world, asset=str(world.asset_b.pk)))
    assert sorted(Ticket.objects.values_list("organisation__name", flat=True)) == [
        "Org A Machining",
        "Org B Chemicals",
    ]


def test_a_missing_form_token_still_submits(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(URL, form_data(world, form_token=""))
    assert response.status_code == 302 and Ticket.objects.count() == 1


def test_customer_without_an_organisation_is_told_so(client: Client, world: World) -> None:
    loner = make_user("loner", Role.CUSTOMER)
    client.force_login(loner)
    response = client.get(URL)
    assert response.status_code == 200
    assert "not linked to a customer organisation" in response.content.decode()
    client.post(URL, form_data(world))
    assert Ticket.objects.count() == 0
