"""Tokens, /me, the error format and the OpenAPI document itself."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from pledge.accounts import services as account_services
from tests.api.conftest import ApiClient, token_for
from tests.conftest import World


def test_me_for_an_agent_lists_their_teams(world: World, api_as) -> None:
    reply = api_as(world.lead).get("/me")
    assert reply.status == 200
    assert reply.body["username"] == "lead"
    assert reply.body["role"] == "team_lead"
    assert reply.body["organisation_id"] is None
    assert reply.body["teams"] == [{"id": world.frontline.pk, "name": "Frontline"}]
    assert reply.body["timezone"] == "Asia/Shanghai"


def test_me_for_a_customer_gives_their_organisation(world: World, api_as) -> None:
    reply = api_as(world.customer_a).get("/me")
    assert reply.status == 200
    assert reply.body["role"] == "customer"
    assert reply.body["organisation_id"] == world.org_a.pk
    assert reply.body["teams"] == []


def test_no_token_is_401_with_the_error_body(anonymous: ApiClient) -> None:
    reply = anonymous.get("/tickets")
    assert reply.status == 401
    assert set(reply.body) == {"message", "errors"}
    assert "Bearer" in reply.body["message"]
    assert reply.body["errors"] == []


@pytest.mark.parametrize(
    "secret",
    ["nonsense", "plg_deadbeef_wrong", "plg_" + "a" * 500, "plg_ab\x01cd_x"],
    ids=["garbage", "unknown", "too-long", "control-character"],
)
def test_bad_tokens_are_401(world: World, secret: str) -> None:
    reply = ApiClient(secret).get("/me")
    assert reply.status == 401


def test_revoked_token_is_401(world: World) -> None:
    token, secret = account_services.api_token_create(user=world.agent, name="laptop")
    client = ApiClient(secret)
    assert client.get("/me").status == 200
    account_services.api_token_revoke(user=world.agent, token_id=token.pk)
    assert client.get("/me").status == 401


def test_token_of_a_deactivated_user_is_401(world: World) -> None:
    client = ApiClient(token_for(world.agent))
    world.agent.is_active = False
    world.agent.save(update_fields=["is_active"])
    assert client.get("/me").status == 401


def test_session_login_alone_does_not_open_the_api(world: World) -> None:
    client = Client()
    client.force_login(world.manager)
    assert client.get("/api/v1/me").status_code == 401


def test_openapi_documents_the_errors_of_every_operation(db: None) -> None:
    schema = json.loads(Client().get("/api/v1/openapi.json").content)
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}
    assert set(schema["components"]["schemas"]["ErrorOut"]["properties"]) == {"message", "errors"}
    operations = [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()]
    # 23 before SLA clocks; + arrival, watch, unwatch, 3 notification operations, 4 SLA policy operations;
    # + 15 service type, SOP and ticket step operations, 2 KPI operations; + the SLA recount list.
    assert len(operations) == 51
    for path, method, op in operations:
        responses = {int(code): body for code, body in op["responses"].items()}
        label = f"{method.upper()} {path}"
        assert responses[401]["content"]["application/json"]["schema"] == error_ref, label
        if "{" in path:
            assert 404 in responses and 422 in responses, label
        if "requestBody" in op:
            assert 400 in responses and 422 in responses, label
        if path.endswith(("/transition", "/assign", "/arrival")) or method == "patch":
            assert 409 in responses, label
        if method in ("post", "patch"):
            assert 403 in responses, label
        assert op["security"] == [{"TokenAuth": []}], label


def test_interactive_docs_are_served_without_a_cdn(db: None) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/openapi.json" in html
    assert "cdn." not in html


def test_unknown_api_path_answers_json_404(client) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json()["message"].startswith("No such API endpoint")
