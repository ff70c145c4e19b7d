"""API test kit: a client that speaks JSON with a real token of any persona."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from pledge.accounts import services as account_services
from pledge.accounts.models import User
from pledge.standards.models import BusinessCalendar, ServiceType
from tests.sops import repair_service

API = "/api/v1"


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any

    def field_errors(self) -> dict[str, str]:
        return {item["field"]: item["message"] for item in self.body["errors"]}


class ApiClient:
    """Calls the API over Django's test client (the whole middleware stack) with a bearer token."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if self.token is not None:
            merged.setdefault("Authorization", f"Bearer {self.token}")
        return merged

    @staticmethod
    def _reply(response: Any) -> Reply:
        content_type = response.headers.get("Content-Type", "")
        body = json.loads(response.content) if content_type.startswith("application/json") else response
        return Reply(response.status_code, body, response.headers)

    def get(self, path: str, params: Any = None, headers: dict[str, str] | None = None) -> Reply:
        return self._reply(self.client.get(API + path, params or {}, headers=self._headers(headers)))

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        data = raw if raw is not None else json.dumps(body)
        response = getattr(self.client, method)(
            API + path, data=data, content_type="application/json", headers=self._headers(headers)
        )
        return self._reply(response)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.send("post", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.send("patch", path, body, **kwargs)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self._reply(self.client.delete(API + path, headers=self._headers(headers)))

    def multipart(self, path: str, data: dict[str, Any]) -> Reply:
        return self._reply(self.client.post(API + path, data=data, headers=self._headers(None)))


def token_for(user: User) -> str:
    _token, secret = account_services.api_token_create(user=user, name="tests")
    return secret


@pytest.fixture
def api_as(world: Any) -> Callable[[User], ApiClient]:
    """`api_as(world.agent).get("/tickets")`: one token per user, created on first use."""
    clients: dict[int, ApiClient] = {}

    def make(user: User) -> ApiClient:
        if user.pk not in clients:
            clients[user.pk] = ApiClient(token_for(user))
        return clients[user.pk]

    return make


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient(None)


@pytest.fixture
def repair(world: Any, calendars: dict[str, BusinessCalendar]) -> ServiceType:
    """The repair service of tests/sops.py (diagnose → repair ∥ parts → confirm), its SOP's version 1 in
    effect from today."""
    return repair_service(world.manager, effective=timezone.localdate(), at=timezone.now())
