"""Schemathesis drives every operation of the OpenAPI schema in-process (WSGI) with generated and
boundary inputs, as a service manager and as a customer: no server error, every status documented,
every body as the schema says."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from pledge.accounts.models import Notification
from pledge.config.wsgi import application
from pledge.core.schemas import MAX_ID
from pledge.tickets import services
from pledge.tickets.models import Attachment, Ticket
from tests.api.conftest import token_for
from tests.conftest import World

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# Unknown query parameters and headers are ignored, as almost every HTTP API does: do not send them as
# "invalid" data. The token is sent by the test (and `ignored_auth` checks requests without it), so the
# generator must not mutate the Authorization header only for the test to put it back.
schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]


@pytest.fixture(scope="module")
def _keep_test_connection() -> Iterator[None]:
    """Django closes the connection when a request finishes; on PostgreSQL that is the test's own
    transaction. Keep it open for this module (and keep thousands of expected 4xx out of the log)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    yield
    request_log.setLevel(level)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Ids of real rows the generated requests may use instead of random ones (filled by the fixture).
REAL: dict[str, int] = {}
PATH_IDS = {
    "ticket_id": "ticket",
    "attachment_id": "attachment",
    "organisation_id": "organisation",
    "contact_id": "contact",
    "asset_id": "asset",
    "notification_id": "notification",
}
BODY_IDS = {
    "organisation_id": "organisation",
    "contact_id": "contact",
    "asset_id": "asset",
    "team_id": "team",
    "assignee_id": "assignee",
}


def _in_range(value: Any, maximum: int) -> bool:
    # Only values the schema allows are swapped: an out-of-range one is a deliberate negative case.
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= maximum


def _maybe_real(values: Any, names: dict[str, str]) -> st.SearchStrategy[Any]:
    """Either the generated values or the same with valid ids swapped in for valid-looking ones, so
    that requests reach the services and not only the 404s."""
    if not isinstance(values, dict) or not REAL:
        return st.just(values)
    swapped = dict(values)
    for field, key in names.items():
        if _in_range(values.get(field), MAX_ID):
            swapped[field] = REAL[key]
    if _in_range(values.get("version"), 2**31 - 1):
        swapped["version"] = Ticket.objects.get(pk=REAL["ticket"]).version
    return st.sampled_from([values, swapped]) if swapped != values else st.just(values)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    return _maybe_real(path_parameters, PATH_IDS)


@schema.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    return _maybe_real(body, BODY_IDS)


@pytest.fixture(params=["manager", "customer_a"])
def token(request: Any, world: World, _keep_test_connection: None) -> Iterator[str]:
    for org in (world.org_b, world.org_a):
        ticket = world.ticket(org=org, team=world.frontline, tags=["pump"])
    services.ticket_reply(
        actor=world.agent,
        ticket=ticket,
        body="We are on it.",
        attachments=[SimpleUploadedFile("readings.txt", b"bearing 81 C")],
    )
    services.ticket_note(actor=world.agent, ticket=ticket, body="Internal: check the bearing.")
    user = getattr(world, request.param)
    notification = Notification.objects.create(
        user=user, ticket=ticket, title="SR escalated", created_at=ticket.created_at
    )
    REAL.update(
        notification=notification.pk,
        ticket=ticket.pk,
        attachment=Attachment.objects.get(ticket=ticket).pk,
        organisation=world.org_a.pk,
        contact=world.contact_a.pk,
        asset=world.asset_a.pk,
        team=world.frontline.pk,
        assignee=world.agent.pk,
    )
    yield token_for(user)
    REAL.clear()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_api_conforms_to_its_schema(case: Any, token: str) -> None:
    checks = CHECKS
    if (case.media_type or "").startswith("multipart/"):
        # In a form every value is text: an "integer" body arrives as the string of its digits, which
        # is a valid body. Type mutations of form fields cannot be told apart from valid data.
        checks = [check for check in CHECKS if check is not negative_data_rejection]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)
