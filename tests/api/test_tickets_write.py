"""Changing tickets through the API: create (idempotent), reply, note, transition, assign, update,
with the 403/404/409/422 each role and each bad request gets."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pledge.core.models import IdempotencyKey
from pledge.tickets import services
from pledge.tickets.models import Message, Ticket, TicketEvent
from tests.conftest import World

# --- create -------------------------------------------------------------------------------------


def test_agent_creates_a_ticket_with_every_field(world: World, api_as) -> None:
    reply = api_as(world.agent).post(
        "/tickets",
        {
            "organisation_id": world.org_a.pk,
            "subject": "  Spindle vibrates  ",
            "description": "Since Monday.",
            "kind": "fault",
            "priority": "P2",
            "channel": "phone",
            "contact_id": world.contact_a.pk,
            "asset_id": world.asset_a.pk,
            "team_id": world.frontline.pk,
            "assignee_id": world.agent.pk,
            "tags": ["Spindle", "spindle", "vibration"],
        },
    )
    assert reply.status == 201, reply.body
    ticket = Ticket.objects.get(pk=reply.body["id"])
    assert (ticket.subject, ticket.kind, ticket.priority, ticket.channel) == (
        "Spindle vibrates",
        "fault",
        "P2",
        "phone",
    )
    assert (ticket.contact_id, ticket.asset_id, ticket.team_id, ticket.assignee_id) == (
        world.contact_a.pk,
        world.asset_a.pk,
        world.frontline.pk,
        world.agent.pk,
    )
    assert ticket.created_by_id == world.agent.pk
    assert reply.body["tags"] == ["spindle", "vibration"]
    assert reply.body["number"] == ticket.number
    assert reply.body["team"] == {"id": world.frontline.pk, "name": "Frontline"}
    assert TicketEvent.objects.filter(ticket=ticket, kind="created").count() == 1


def test_customer_creates_for_their_own_organisation_by_default(world: World, api_as) -> None:
    reply = api_as(world.customer_a).post(
        "/tickets", {"subject": "Pump leaks", "kind": "fault", "asset_id": world.asset_a.pk}
    )
    assert reply.status == 201, reply.body
    assert reply.body["organisation"]["id"] == world.org_a.pk
    assert reply.body["contact"] == {"id": world.contact_a.pk, "name": "Alice A"}
    assert reply.body["channel"] == "api"
    assert reply.body["tags"] == []


def test_customer_cannot_create_for_another_organisation(world: World, api_as) -> None:
    client = api_as(world.customer_a)
    other = client.post("/tickets", {"subject": "x", "organisation_id": world.org_b.pk})
    missing = client.post("/tickets", {"subject": "x", "organisation_id": 987654321})
    assert other.status == missing.status == 422
    assert other.body == missing.body
    assert other.field_errors() == {"organisation_id": "Not found."}
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("field", ["asset_id", "contact_id"])
def test_customer_cannot_reference_another_organisations_records(world: World, api_as, field: str) -> None:
    foreign = {"asset_id": world.asset_b.pk, "contact_id": world.contact_b.pk}[field]
    client = api_as(world.customer_a)
    other = client.post("/tickets", {"subject": "x", field: foreign})
    missing = client.post("/tickets", {"subject": "x", field: 987654321})
    assert other.status == missing.status == 422
    assert other.body == missing.body
    assert set(other.field_errors()) == {field}


def test_customer_cannot_route_their_ticket(world: World, api_as) -> None:
    reply = api_as(world.customer_a).post("/tickets", {"subject": "x", "team_id": world.frontline.pk})
    assert reply.status == 422
    assert set(reply.field_errors()) == {"team_id"}


def test_staff_must_name_the_organisation(world: World, api_as) -> None:
    reply = api_as(world.agent).post("/tickets", {"subject": "x"})
    assert reply.status == 422
    assert set(reply.field_errors()) == {"organisation_id"}


def test_records_of_another_organisation_are_refused_with_the_api_field_name(world: World, api_as) -> None:
    reply = api_as(world.agent).post(
        "/tickets", {"subject": "x", "organisation_id": world.org_a.pk, "asset_id": world.asset_b.pk}
    )
    assert reply.status == 422
    assert set(reply.field_errors()) == {"asset_id"}


def test_assignee_must_belong_to_the_team(world: World, api_as) -> None:
    client = api_as(world.manager)
    reply = client.post(
        "/tickets",
        {
            "subject": "x",
            "organisation_id": world.org_a.pk,
            "team_id": world.field.pk,
            "assignee_id": world.agent.pk,
        },
    )
    assert reply.status == 422
    assert set(reply.field_errors()) == {"assignee_id"}
    unknown = client.post("/tickets", {"subject": "x", "organisation_id": world.org_a.pk, "team_id": 98765})
    assert unknown.field_errors() == {"team_id": "Not found."}


def test_inspector_cannot_create(world: World, api_as) -> None:
    reply = api_as(world.inspector).post("/tickets", {"subject": "x", "organisation_id": world.org_a.pk})
    assert reply.status == 403
    assert reply.body["message"]
    # refused for the role, before looking at what the request names
    assert api_as(world.inspector).post("/tickets", {"subject": "x", "organisation_id": 98765}).status == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "x", "kind": "rant"}, "kind"),
        ({"subject": "x", "priority": "P0"}, "priority"),
        ({"subject": "x", "channel": "fax"}, "channel"),
        ({"subject": "x", "tags": [f"t{n}" for n in range(21)]}, "tags"),
        ({"subject": "x", "tags": ["x" * 51]}, "tags.0"),
        ({"subject": "x", "tags": "pump"}, "tags"),
        ({"subject": 5}, "subject"),
    ],
)
def test_invalid_fields_are_422_with_field_details(world: World, api_as, body: dict, field: str) -> None:
    reply = api_as(world.agent).post("/tickets", {"organisation_id": world.org_a.pk, **body})
    assert reply.status == 422, reply.body
    assert reply.body["message"]
    assert field in reply.field_errors(), reply.body
    assert not Ticket.objects.exists()


def test_idempotency_key_replay_returns_the_same_ticket(world: World, api_as) -> None:
    client = api_as(world.customer_a)
    body = {"subject": "Compressor trips", "tags": ["air"]}
    first = client.post("/tickets", body, headers={"Idempotency-Key": "order-7781"})
    again = client.post("/tickets", body, headers={"Idempotency-Key": "order-7781"})
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert Ticket.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    fresh = client.post("/tickets", body, headers={"Idempotency-Key": "order-7782"})
    assert fresh.status == 201 and fresh.body["id"] != first.body["id"]
    no_key = client.post("/tickets", body)
    assert no_key.status == 201
    assert Ticket.objects.count() == 3


def test_idempotency_keys_belong_to_their_user(world: World, api_as) -> None:
    body = {"subject": "Same key", "organisation_id": world.org_a.pk}
    mine = api_as(world.agent).post("/tickets", body, headers={"Idempotency-Key": "k"})
    theirs = api_as(world.manager).post("/tickets", body, headers={"Idempotency-Key": "k"})
    assert (mine.status, theirs.status) == (201, 201)
    assert mine.body["id"] != theirs.body["id"]


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_bad_idempotency_keys_are_422(world: World, api_as, key: str) -> None:
    reply = api_as(world.agent).post(
        "/tickets", {"subject": "x", "organisation_id": world.org_a.pk}, headers={"Idempotency-Key": key}
    )
    assert reply.status == 422
    assert "Idempotency-Key" in reply.field_errors()


# --- replies and notes --------------------------------------------------------------------------


def test_agent_reply_acknowledges_a_new_ticket(world: World, api_as) -> None:
    ticket = world.ticket(team=world.frontline)
    reply = api_as(world.agent).post(f"/tickets/{ticket.pk}/replies", {"body": "On our way."})
    assert reply.status == 201, reply.body
    assert reply.body["body"] == "On our way."
    assert reply.body["author"] == {"id": world.agent.pk, "name": "Agent"}
    assert (reply.body["is_internal"], reply.body["from_customer"], reply.body["channel"]) == (
        False,
        False,
        "api",
    )
    ticket.refresh_from_db()
    assert ticket.status == "acknowledged"
    assert ticket.first_response_at is not None


def test_customer_replies_to_their_ticket(world: World, api_as) -> None:
    ticket = world.ticket()
    reply = api_as(world.customer_a).post(f"/tickets/{ticket.pk}/replies", {"body": "Any news?"})
    assert reply.status == 201
    assert reply.body["from_customer"] is True


def test_reply_refusals(world: World, api_as) -> None:
    ticket = world.ticket(team=world.field)
    assert api_as(world.inspector).post(f"/tickets/{ticket.pk}/replies", {"body": "x"}).status == 403
    assert api_as(world.customer_b).post(f"/tickets/{ticket.pk}/replies", {"body": "x"}).status == 404
    assert api_as(world.agent).post(f"/tickets/{ticket.pk}/replies", {"body": "x"}).status == 404
    empty = api_as(world.field_agent).post(f"/tickets/{ticket.pk}/replies", {"body": ""})
    assert empty.status == 422 and set(empty.field_errors()) == {"body"}
    blank = api_as(world.field_agent).post(f"/tickets/{ticket.pk}/replies", {"body": "   "})
    assert blank.status == 422 and set(blank.field_errors()) == {"body"}
    assert not Message.objects.exists()


def test_customer_cannot_reply_to_a_closed_ticket(world: World, api_as) -> None:
    ticket = world.ticket()
    services.ticket_transition(actor=world.agent, ticket=ticket, to_status="resolved", expected_version=1)
    services.ticket_transition(actor=world.agent, ticket=ticket, to_status="closed", expected_version=2)
    reply = api_as(world.customer_a).post(f"/tickets/{ticket.pk}/replies", {"body": "Hello?"})
    assert reply.status == 403
    assert ticket.number in reply.body["message"]
    closed = api_as(world.agent).post(f"/tickets/{ticket.pk}/replies", {"body": "Hello?"})
    assert closed.status == 422


def test_reply_with_attachments_as_multipart(world: World, api_as) -> None:
    ticket = world.ticket()
    reply = api_as(world.customer_a).multipart(
        f"/tickets/{ticket.pk}/replies",
        {
            "body": "Readings attached",
            "attachments": [
                SimpleUploadedFile("readings.csv", b"t,temp\n1,80\n"),
                SimpleUploadedFile("notes.txt", "温度过高".encode()),
            ],
        },
    )
    assert reply.status == 201, reply.body
    assert [a["filename"] for a in reply.body["attachments"]] == ["readings.csv", "notes.txt"]
    url = reply.body["attachments"][1]["url"].removeprefix("/api/v1")
    assert url == f"/tickets/{ticket.pk}/attachments/{reply.body['attachments'][1]['id']}"
    download = api_as(world.agent).get(url)
    assert download.status == 200
    assert b"".join(download.body.streaming_content).decode() == "温度过高"
    assert api_as(world.customer_b).get(url).status == 404
    other = world.ticket()
    assert (
        api_as(world.customer_a).get(f"/tickets/{other.pk}/attachments/{url.rsplit('/', 1)[1]}").status == 404
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "x", "attachments": [SimpleUploadedFile("tool.exe", b"MZ\x90\x00")]}, "attachments"),
        ({"body": "x", "attachments": [SimpleUploadedFile("fake.png", b"not a png")]}, "attachments"),
        ({"body": "x", "attachments": "just text"}, "attachments"),
        ({"attachments": [SimpleUploadedFile("a.txt", b"a")]}, "body"),
    ],
)
def test_bad_multipart_replies_are_422(world: World, api_as, data: dict, field: str) -> None:
    ticket = world.ticket()
    reply = api_as(world.customer_a).multipart(f"/tickets/{ticket.pk}/replies", data)
    assert reply.status == 422, reply.body
    assert field in reply.field_errors()
    assert not Message.objects.exists()


def test_notes_are_for_staff_who_work_the_ticket(world: World, api_as) -> None:
    ticket = world.ticket(team=world.frontline)
    note = api_as(world.lead).post(f"/tickets/{ticket.pk}/notes", {"body": "Call the OEM."})
    assert note.status == 201
    assert note.body["is_internal"] is True
    assert api_as(world.customer_a).post(f"/tickets/{ticket.pk}/notes", {"body": "x"}).status == 403
    assert api_as(world.inspector).post(f"/tickets/{ticket.pk}/notes", {"body": "x"}).status == 403
    assert api_as(world.field_agent).post(f"/tickets/{ticket.pk}/notes", {"body": "x"}).status == 404
    ticket.refresh_from_db()
    assert ticket.status == "new"  # a note is not a response


def test_customer_cannot_download_an_attachment_of_an_internal_note(world: World, api_as) -> None:
    ticket = world.ticket()
    note = services.ticket_note(
        actor=world.agent, ticket=ticket, body="x", attachments=[SimpleUploadedFile("cost.txt", b"123")]
    )
    attachment = note.attachments.get()
    path = f"/tickets/{ticket.pk}/attachments/{attachment.pk}"
    assert api_as(world.customer_a).get(path).status == 404
    assert api_as(world.agent).get(path).status == 200


def test_missing_file_in_storage_is_404_not_500(world: World, api_as) -> None:
    ticket = world.ticket(attachments=[SimpleUploadedFile("gone.txt", b"x")])
    attachment = ticket.attachments.get()
    attachment.file.storage.delete(attachment.file.name)
    reply = api_as(world.agent).get(f"/tickets/{ticket.pk}/attachments/{attachment.pk}")
    assert reply.status == 404


# --- transition, assign, update -----------------------------------------------------------------


def test_transition_moves_the_status_and_bumps_the_version(world: World, api_as) -> None:
    ticket = world.ticket(team=world.frontline)
    reply = api_as(world.agent).post(
        f"/tickets/{ticket.pk}/transition", {"status": "in_progress", "version": 1, "reason": "Started"}
    )
    assert reply.status == 200, reply.body
    assert (reply.body["status"], reply.body["version"]) == ("in_progress", 2)
    event = TicketEvent.objects.get(ticket=ticket, kind="status")
    assert (event.old_value, event.new_value, event.data) == ("new", "in_progress", {"reason": "Started"})


def test_stale_version_is_409_with_the_services_message(world: World, api_as) -> None:
    ticket = world.ticket(team=world.frontline)
    services.ticket_update(actor=world.lead, ticket=ticket, expected_version=1, priority="P1")
    client = api_as(world.agent)
    for path, body in (
        (f"/tickets/{ticket.pk}/transition", {"status": "in_progress", "version": 1}),
        (f"/tickets/{ticket.pk}/assign", {"team_id": None, "assignee_id": None, "version": 1}),
    ):
        reply = client.post(path, body)
        assert reply.status == 409, path
        assert "changed by someone else" in reply.body["message"]
        assert set(reply.field_errors()) == {"version"}
    patch = client.patch(f"/tickets/{ticket.pk}", {"version": 1, "priority": "P4"})
    assert patch.status == 409
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.team_id, ticket.version) == (
        "new",
        "P1",
        world.frontline.pk,
        2,
    )


def test_illegal_transition_is_422(world: World, api_as) -> None:
    ticket = world.ticket(team=world.frontline)
    reply = api_as(world.agent).post(f"/tickets/{ticket.pk}/transition", {"status": "closed", "version": 1})
    assert reply.status == 422
    assert set(reply.field_errors()) == {"status"}
    unknown = api_as(world.agent).post(f"/tickets/{ticket.pk}/transition", {"status": "done", "version": 1})
    assert unknown.status == 422 and "status" in unknown.field_errors()


def test_customer_closes_or_reopens_a_resolved_ticket_only(world: World, api_as) -> None:
    ticket = world.ticket()
    client = api_as(world.customer_a)
    early = client.post(f"/tickets/{ticket.pk}/transition", {"status": "resolved", "version": 1})
    assert early.status == 422
    services.ticket_transition(actor=world.agent, ticket=ticket, to_status="resolved", expected_version=1)
    reopened = client.post(f"/tickets/{ticket.pk}/transition", {"status": "in_progress", "version": 2})
    assert reopened.status == 200 and reopened.body["status"] == "in_progress"
    assert (
        api_as(world.customer_b)
        .post(f"/tickets/{ticket.pk}/transition", {"status": "closed", "version": 3})
        .status
        == 404
    )
    assert (
        api_as(world.inspector)
        .post(f"/tickets/{ticket.pk}/transition", {"status": "resolved", "version": 3})
        .status
        == 403
    )


def test_assign_sets_and_clears_team_and_assignee(world: World, api_as) -> None:
    ticket = world.ticket()
    client = api_as(world.lead)
    reply = client.post(
        f"/tickets/{ticket.pk}/assign",
        {"team_id": world.frontline.pk, "assignee_id": world.agent.pk, "version": 1},
    )
    assert reply.status == 200, reply.body
    assert reply.body["team"] == {"id": world.frontline.pk, "name": "Frontline"}
    assert reply.body["assignee"] == {"id": world.agent.pk, "name": "Agent"}
    assert reply.body["version"] == 2
    cleared = client.post(
        f"/tickets/{ticket.pk}/assign", {"team_id": None, "assignee_id": None, "version": 2}
    )
    assert cleared.status == 200
    assert (cleared.body["team"], cleared.body["assignee"], cleared.body["version"]) == (None, None, 3)
    assert TicketEvent.objects.filter(ticket=ticket, kind__in=["team", "assigned"]).count() == 4


def test_agent_may_hand_a_ticket_to_another_team(world: World, api_as) -> None:
    ticket = world.ticket(team=world.frontline)
    reply = api_as(world.agent).post(
        f"/tickets/{ticket.pk}/assign", {"team_id": world.field.pk, "assignee_id": None, "version": 1}
    )
    assert reply.status == 200
    assert reply.body["team"]["id"] == world.field.pk
    assert api_as(world.agent).get(f"/tickets/{ticket.pk}").status == 404  # now out of their sight


def test_assign_refusals(world: World, api_as) -> None:
    ticket = world.ticket(team=world.frontline)
    path = f"/tickets/{ticket.pk}/assign"
    body = {"team_id": world.frontline.pk, "assignee_id": world.agent.pk, "version": 1}
    assert api_as(world.customer_a).post(path, body).status == 403
    assert api_as(world.inspector).post(path, body).status == 403
    assert api_as(world.field_agent).post(path, body).status == 404
    not_member = api_as(world.manager).post(path, {**body, "assignee_id": world.field_agent.pk})
    assert not_member.status == 422 and set(not_member.field_errors()) == {"assignee_id"}
    customer = api_as(world.manager).post(path, {**body, "team_id": None, "assignee_id": world.customer_a.pk})
    assert customer.status == 422 and set(customer.field_errors()) == {"assignee_id"}
    missing = api_as(world.manager).post(path, {**body, "team_id": 987654})
    assert missing.field_errors() == {"team_id": "Not found."}
    assert api_as(world.manager).post(path, {"version": 1}).status == 422  # both must be given


def test_patch_changes_priority_subject_and_tags(world: World, api_as) -> None:
    ticket = world.ticket(team=world.frontline, tags=["old"])
    client = api_as(world.agent)
    reply = client.patch(
        f"/tickets/{ticket.pk}", {"version": 1, "priority": "P1", "subject": "Now urgent", "tags": ["new"]}
    )
    assert reply.status == 200, reply.body
    assert (reply.body["priority"], reply.body["subject"], reply.body["tags"], reply.body["version"]) == (
        "P1",
        "Now urgent",
        ["new"],
        2,
    )
    unchanged = client.patch(f"/tickets/{ticket.pk}", {"version": 2})
    assert unchanged.status == 200 and unchanged.body["version"] == 2
    empty = client.patch(f"/tickets/{ticket.pk}", {"version": 2, "subject": ""})
    assert empty.status == 422 and "subject" in empty.field_errors()
    assert (
        api_as(world.customer_a).patch(f"/tickets/{ticket.pk}", {"version": 2, "priority": "P1"}).status
        == 403
    )
    assert (
        api_as(world.inspector).patch(f"/tickets/{ticket.pk}", {"version": 2, "priority": "P4"}).status == 403
    )
