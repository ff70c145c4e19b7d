"""Schemathesis on the calendar operations with real calendar codes swapped in, so that generated starts
and minutes reach the deadline engine and generated calendars reach the import (tests/api fuzzes every
operation with random codes, which mostly meet 404s)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from pledge.config.wsgi import application
from pledge.standards import services
from pledge.standards.models import CODE_MAX
from pledge.standards.schemas import CODE_PATTERN
from tests.api.conftest import token_for
from tests.conftest import World

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    path_regex=r"^/api/v1/(sla/due|calendars)"
)
schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CODES = ("cn-office", "24x7", "night-shift")


@pytest.fixture(scope="module")
def _keep_test_connection() -> Iterator[None]:
    """As in tests/api/test_schemathesis.py: keep the test's connection through requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    yield
    request_log.setLevel(level)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _valid_code(value: Any) -> bool:
    # Only codes the schema allows are swapped: an empty or malformed one is a deliberate negative case,
    # which a real code would turn into a valid request (and the negative-data check into a failure).
    return isinstance(value, str) and len(value) <= CODE_MAX and re.fullmatch(CODE_PATTERN, value) is not None


def _with_real_code(values: Any, field: str) -> st.SearchStrategy[Any]:
    if not isinstance(values, dict) or not _valid_code(values.get(field)):
        return st.just(values)
    return st.sampled_from([values, *({**values, field: code} for code in CODES)])


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    return _with_real_code(path_parameters, "code")


@schema.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    return _with_real_code(body, "calendar")


@pytest.fixture(params=["manager", "agent"])
def token(request: Any, world: World, _keep_test_connection: None) -> str:
    services.ensure_builtin_calendars()
    return token_for(getattr(world, request.param))


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_calendar_operations_conform_to_their_schema(case: Any, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
