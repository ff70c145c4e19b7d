"""Hostile and careless input: every one is a 4xx with a message, never a 500 (on SQLite and on
PostgreSQL, which rejects NUL characters and would overflow on ids beyond 64 bits)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pledge.tickets.models import Ticket
from tests.conftest import World

HUGE = 2**64
BAD_IDS = [HUGE, 2**63, 0, -1]


def assert_refused(reply: Any, status: int, field: str | None = None) -> None:
    assert reply.status == status, reply.body
    assert isinstance(reply.body["message"], str) and reply.body["message"]
    if field is not None:
        assert field in reply.field_errors(), reply.body


@pytest.mark.parametrize("bad", BAD_IDS)
def test_path_ids_out_of_range(world: World, api_as, bad: int) -> None:
    client = api_as(world.manager)
    for path in (f"/tickets/{bad}", f"/organisations/{bad}", f"/contacts/{bad}", f"/assets/{bad}"):
        assert_refused(client.get(path), 422)
    assert_refused(client.post(f"/tickets/{bad}/replies", {"body": "x"}), 422)


def test_path_id_that_is_not_a_number(world: World, api_as) -> None:
    reply = api_as(world.manager).get("/tickets/true")
    assert reply.status in (404, 422)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("organisation_id", HUGE),
        ("organisation_id", True),
        ("organisation_id", 1.5),
        ("organisation_id", "1"),
        ("asset_id", 2**63),
        ("team_id", False),
        ("assignee_id", -5),
        ("subject", "Pump\x00 stops"),
        ("description", "a\x00b"),
        ("subject", "\ud800 lone surrogate"),
        ("tags", ["ok", "bad\x00tag"]),
        ("kind", "FAULT"),
        ("priority", 1),
        ("channel", None),
    ],
)
def test_ticket_body_fields(world: World, api_as, field: str, value: Any) -> None:
    body = {"organisation_id": world.org_a.pk, "subject": "Pump stops", field: value}
    reply = api_as(world.manager).post("/tickets", body)
    assert_refused(reply, 422)
    assert any(name.split(".")[0] == field for name in reply.field_errors()), reply.body
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"page": 10**12},
        {"page": 0},
        {"page": "first"},
        {"page_size": 0},
        {"page_size": 101},
        {"page_size": True},
        {"status": "bogus"},
        {"status": ["new", "bogus"]},
        {"priority": "P9"},
        {"view": "everything"},
        {"sort": "random"},
        {"team_id": HUGE},
        {"assignee_id": "me"},
        {"tag": "pump\x00"},
        {"q": "a\x00b"},
        {"q": "x" * 201},
        {"created_after": "yesterday"},
        {"created_after": "2026-01-01T00:00:00"},
        {"created_after": "1700000000"},
        {"created_before": "9999-12-31T23:59:59-23:59"},
        {"created_before": "0001-01-01T00:00:00+05:00"},
    ],
)
def test_ticket_list_parameters(world: World, api_as, params: dict) -> None:
    assert_refused(api_as(world.agent).get("/tickets", params), 422)


@pytest.mark.parametrize("resource", ["organisations", "contacts", "assets"])
@pytest.mark.parametrize(
    "params", [{"page": HUGE}, {"q": "\x00"}, {"organisation_id": HUGE}, {"page_size": 500}]
)
def test_customer_list_parameters(world: World, api_as, resource: str, params: dict) -> None:
    assert_refused(api_as(world.customer_a).get(f"/{resource}", params), 422)


@pytest.mark.parametrize(
    "raw",
    ["{not json", "", "\x00", '{"subject": "x"', "[]", "null", '"just a string"', "1e999999"],
    ids=["broken", "empty", "nul", "truncated", "array", "null", "string", "huge-float"],
)
def test_bodies_that_are_not_a_ticket(world: World, api_as, raw: str) -> None:
    reply = api_as(world.manager).post("/tickets", raw=raw)
    assert reply.status in (400, 422), reply.body
    assert reply.body["message"]


@pytest.mark.parametrize("raw", ["{oops", "[1, 2]", "null", '{"body": 5}', '{"body": "a\\u0000b"}'])
def test_message_bodies(world: World, api_as, raw: str) -> None:
    ticket = world.ticket()
    reply = api_as(world.agent).post(f"/tickets/{ticket.pk}/replies", raw=raw)
    assert reply.status in (400, 422), reply.body
    assert reply.body["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"status": "resolved", "version": True},
        {"status": "resolved", "version": 2**40},
        {"status": "resolved", "version": "1"},
        {"status": "resolved", "version": 0},
        {"status": "resolved"},
        {"status": "resolved", "version": 1, "reason": "\x00"},
    ],
)
def test_transition_versions(world: World, api_as, body: dict) -> None:
    ticket = world.ticket()
    assert_refused(api_as(world.manager).post(f"/tickets/{ticket.pk}/transition", body), 422)


def test_unknown_enum_in_patch(world: World, api_as) -> None:
    ticket = world.ticket()
    reply = api_as(world.manager).patch(f"/tickets/{ticket.pk}", {"version": 1, "priority": "urgent"})
    assert_refused(reply, 422, "priority")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Org \x00"},
        {"name": "Org", "region": "\x00"},
        {"name": "Org", "industry": 7},
        {"name": ["Org"]},
    ],
)
def test_organisation_bodies(world: World, api_as, body: dict) -> None:
    assert_refused(api_as(world.manager).post("/organisations", body), 422)


def test_asset_dates_out_of_range(world: World, api_as) -> None:
    reply = api_as(world.manager).post(
        "/assets",
        {
            "organisation_id": world.org_a.pk,
            "model": "M",
            "serial_number": "S",
            "install_date": "10000-01-01",
        },
    )
    assert_refused(reply, 422, "install_date")


def test_idempotency_key_with_control_characters(world: World, api_as) -> None:
    reply = api_as(world.agent).post(
        "/tickets",
        {"subject": "x", "organisation_id": world.org_a.pk},
        headers={"Idempotency-Key": "abc\x00def"},
    )
    assert_refused(reply, 422, "Idempotency-Key")


def test_multipart_that_cannot_be_parsed(world: World, api_as) -> None:
    ticket = world.ticket()
    client = api_as(world.agent)
    response = client.client.post(
        f"/api/v1/tickets/{ticket.pk}/replies",
        data=b'--xyz\r\nContent-Disposition: form-data; name="body"\r\n\r\nhello\r\n--xyz--',
        content_type="multipart/form-data",  # no boundary
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert response.status_code == 400
    assert response.json()["message"]


def test_body_larger_than_django_reads_is_400(world: World, api_as) -> None:
    raw = '{"subject": "' + "x" * (3 * 1024 * 1024) + '"}'
    reply = api_as(world.manager).post("/tickets", raw=raw)
    assert_refused(reply, 400)
    ticket = world.ticket()
    assert_refused(api_as(world.manager).post(f"/tickets/{ticket.pk}/notes", raw=raw), 400)


def test_attachment_name_too_long_for_the_filesystem_is_422(world: World, api_as) -> None:
    ticket = world.ticket()
    reply = api_as(world.customer_a).multipart(
        f"/tickets/{ticket.pk}/replies",
        {"body": "x", "attachments": [SimpleUploadedFile("温" * 140 + ".txt", b"abc")]},
    )
    assert_refused(reply, 422, "attachments")
