"""Ticket services: the workflow, the event log, stale updates, idempotency, attachments."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from pledge.core.errors import Conflict, ValidationFailed
from pledge.tickets import services
from pledge.tickets.models import Attachment, ImmutableEventError, TicketEvent
from tests.conftest import World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def kinds(ticket) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))


def test_create_records_event_and_number(world: World) -> None:
    ticket = world.ticket(tags=["Hydraulics", "hydraulics", " urgent "])
    assert ticket.number == f"SR-{ticket.pk:06d}"
    assert ticket.status == "new"
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["hydraulics", "urgent"]
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.new_value, event.actor) == ("created", "new", world.agent)


def test_customer_create_defaults_contact_and_refuses_team(world: World) -> None:
    ticket = world.ticket(actor=world.customer_a)
    assert ticket.contact == world.contact_a
    with pytest.raises(ValidationFailed) as err:
        world.ticket(actor=world.customer_a, team=world.frontline)
    assert "team" in err.value.fields


def test_asset_of_other_org_is_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as err:
        world.ticket(asset=world.asset_b)
    assert err.value.fields == {"asset": "Wrong organisation."}


@pytest.mark.parametrize(
    ("field", "value"),
    [("subject", ""), ("subject", "x" * 201), ("kind", "bogus"), ("priority", "P9"), ("channel", "fax")],
)
def test_create_validates_fields(world: World, field: str, value: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        world.ticket(**{field: value})
    assert field in err.value.fields


def test_full_workflow_with_reopen(world: World) -> None:
    ticket = world.ticket(actor=world.customer_a)
    services.ticket_reply(actor=world.agent, ticket=ticket, body="We are looking at it.")
    ticket.refresh_from_db()
    assert ticket.status == "acknowledged" and ticket.first_response_at is not None
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status="in_progress", expected_version=ticket.version
    )
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status="waiting_customer", expected_version=ticket.version
    )
    services.ticket_reply(actor=world.customer_a, ticket=ticket, body="Here are the photos.")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status="resolved", expected_version=ticket.version
    )
    assert ticket.resolved_at is not None
    ticket = services.ticket_transition(
        actor=world.customer_a, ticket=ticket, to_status="in_progress", expected_version=ticket.version
    )
    assert ticket.resolved_at is None
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, to_status="resolved", expected_version=ticket.version
    )
    ticket = services.ticket_transition(
        actor=world.customer_a, ticket=ticket, to_status="closed", expected_version=ticket.version
    )
    assert ticket.closed_at is not None
    assert kinds(ticket) == [
        "created",
        "reply",
        "status",
        "status",
        "status",
        "reply",
        "status",
        "status",
        "reopened",
        "status",
        "status",
    ]
    with pytest.raises(ValidationFailed):
        services.ticket_reply(actor=world.customer_a, ticket=ticket, body="One more thing")


def test_illegal_transition_is_refused(world: World) -> None:
    ticket = world.ticket()
    with pytest.raises(ValidationFailed) as err:
        services.ticket_transition(
            actor=world.agent, ticket=ticket, to_status="closed", expected_version=ticket.version
        )
    assert "cannot move from New to Closed" in err.value.message
    with pytest.raises(ValidationFailed):
        services.ticket_transition(
            actor=world.customer_a, ticket=ticket, to_status="resolved", expected_version=None
        )


def test_stale_update_is_refused_and_changes_nothing(world: World) -> None:
    ticket = world.ticket()
    loaded_version = ticket.version
    services.ticket_update(actor=world.lead, ticket=ticket, expected_version=loaded_version, priority="P1")
    with pytest.raises(Conflict) as err:
        services.ticket_transition(
            actor=world.agent, ticket=ticket, to_status="in_progress", expected_version=loaded_version
        )
    assert "changed by someone else" in err.value.message
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.version) == ("new", "P1", loaded_version + 1)
    assert kinds(ticket) == ["created", "priority"]


def test_assign_requires_team_membership(world: World, django_capture_on_commit_callbacks) -> None:
    ticket = world.ticket()
    with pytest.raises(ValidationFailed) as err:
        services.ticket_assign(
            actor=world.lead,
            ticket=ticket,
            team=world.frontline,
            assignee=world.field_agent,
            expected_version=1,
        )
    assert "not a member" in err.value.message
    with pytest.raises(ValidationFailed):
        services.ticket_assign(
            actor=world.lead, ticket=ticket, team=None, assignee=world.customer_a, expected_version=1
        )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_assign(
            actor=world.lead, ticket=ticket, team=world.frontline, assignee=world.agent, expected_version=1
        )
    assert (ticket.team, ticket.assignee, ticket.version) == (world.frontline, world.agent, 2)
    events = TicketEvent.objects.filter(ticket=ticket).exclude(kind="created").order_by("id")
    assert [(e.kind, e.old_value, e.new_value) for e in events] == [
        ("team", "", "Frontline"),
        ("assigned", "", "Agent"),
    ]
    assert [m.to for m in mail.outbox if "Assigned" in m.subject] == [["agent@example.com"]]


def test_notes_are_internal_and_customers_cannot_write_them(world: World) -> None:
    ticket = world.ticket()
    note = services.ticket_note(actor=world.agent, ticket=ticket, body="Check the supplier batch.")
    assert note.is_internal
    ticket.refresh_from_db()
    assert ticket.first_response_at is None and ticket.status == "new"
    with pytest.raises(ValidationFailed):
        services.ticket_note(actor=world.customer_a, ticket=ticket, body="sneaky")


def test_idempotency_key_returns_the_same_ticket(world: World) -> None:
    first, created = services.ticket_create(
        actor=world.customer_a, organisation=world.org_a, subject="Leak", idempotency_key="k-1"
    )
    again, created_again = services.ticket_create(
        actor=world.customer_a, organisation=world.org_a, subject="Leak", idempotency_key="k-1"
    )
    assert created and not created_again and first.pk == again.pk
    other, _ = services.ticket_create(
        actor=world.customer_b, organisation=world.org_b, subject="Leak", idempotency_key="k-1"
    )
    assert other.pk != first.pk


def test_attachments_are_type_checked_and_bounded(world: World, settings) -> None:
    ticket = world.ticket()
    services.ticket_reply(
        actor=world.agent,
        ticket=ticket,
        body="Photo attached",
        attachments=[
            SimpleUploadedFile("../../etc/photo.png", PNG),
            SimpleUploadedFile("日志.txt", "温度过高".encode()),
        ],
    )
    names = sorted(Attachment.objects.filter(ticket=ticket).values_list("filename", flat=True))
    assert names == ["photo.png", "日志.txt"]
    with pytest.raises(ValidationFailed) as err:
        services.ticket_reply(
            actor=world.agent, ticket=ticket, body="x", attachments=[SimpleUploadedFile("a.exe", b"MZ")]
        )
    assert "not accepted" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        services.ticket_reply(
            actor=world.agent, ticket=ticket, body="x", attachments=[SimpleUploadedFile("fake.png", b"hello")]
        )
    assert "does not contain" in err.value.message
    settings.MAX_UPLOAD_BYTES = 10
    with pytest.raises(ValidationFailed) as err:
        services.ticket_reply(
            actor=world.agent, ticket=ticket, body="x", attachments=[SimpleUploadedFile("big.txt", b"x" * 11)]
        )
    assert "larger than" in err.value.message
    # Nothing from the refused replies was written.
    assert ticket.messages.count() == 1


def test_events_are_append_only(world: World) -> None:
    ticket = world.ticket()
    event = TicketEvent.objects.get(ticket=ticket)
    event.new_value = "tampered"
    with pytest.raises(ImmutableEventError):
        event.save()
    with pytest.raises(ImmutableEventError):
        event.delete()


def test_reply_mails_the_customer_after_commit(world: World, django_capture_on_commit_callbacks) -> None:
    ticket = world.ticket(actor=world.customer_a)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.ticket_reply(actor=world.agent, ticket=ticket, body="Technician on the way.")
        assert mail.outbox == []  # nothing is sent before the commit
    assert len(callbacks) == 1
    assert [(m.to, m.body) for m in mail.outbox] == [(["a@a.example"], "Technician on the way.")]


def test_customer_cannot_claim_a_staff_channel(world: World) -> None:
    with pytest.raises(ValidationFailed) as err:
        world.ticket(actor=world.customer_a, channel="phone")
    assert "channel" in err.value.fields


def test_long_chinese_file_name_is_stored_under_a_short_name(world: World) -> None:
    ticket = world.ticket()
    long_name = "设备" * 70 + ".txt"
    services.ticket_reply(
        actor=world.agent, ticket=ticket, body="log", attachments=[SimpleUploadedFile(long_name, b"ok")]
    )
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.filename.endswith(".txt") and attachment.filename.startswith("设备")
    assert len(attachment.file.name.encode()) < 100
    assert attachment.file.read() == b"ok"
