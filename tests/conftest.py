"""Shared fixtures: named personas on a real database (SQLite by default, PostgreSQL when DATABASE_URL
names it), and the CI rule that nothing may be skipped there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from pledge.accounts import services as account_services
from pledge.accounts.choices import Role, TeamKind
from pledge.accounts.models import Team, User
from pledge.customers import services as customer_services
from pledge.customers.models import Asset, Contact, Organisation
from pledge.standards import services as standards_services
from pledge.standards.models import BusinessCalendar
from pledge.tickets import services as ticket_services
from pledge.tickets.models import Ticket

IN_CI = os.environ.get("CI", "").lower() == "true"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PASSWORD = "correct-horse-battery-staple"
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
QUEUE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests are deselected on SQLite (the PostgreSQL run executes them)."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """In CI a skipped test is a failure: a missing browser or database must not pass silently."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which is a failure: {report.longrepr}"


@pytest.fixture(scope="session", autouse=True)
def _immediate_tasks() -> Iterator[None]:
    """Tasks run right after commit in tests; the tests of the queue itself switch to the database
    backend (`settings.TASKS = QUEUE_TASKS`) and run workers."""
    with override_settings(TASKS=IMMEDIATE_TASKS):
        yield


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.API_TOKEN_CACHE_SECONDS = 0  # tests of the caches turn them on themselves
    settings.REFERENCE_CACHE_SECONDS = 0


@pytest.fixture
def calendars(db: object) -> dict[str, BusinessCalendar]:
    """The built-in business calendars (cn-office, 24x7, night-shift) by code."""
    return {c.code: c for c in standards_services.ensure_builtin_calendars()}


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@dataclass
class World:
    """Two customer organisations and one person of every role."""

    org_a: Organisation
    org_b: Organisation
    contact_a: Contact
    contact_b: Contact
    asset_a: Asset
    asset_b: Asset
    customer_a: User
    customer_b: User
    frontline: Team
    field: Team
    back_office: Team
    agent: User
    field_agent: User
    lead: User
    manager: User
    inspector: User
    admin: User

    def ticket(self, *, org: Organisation | None = None, actor: User | None = None, **kwargs: Any) -> Ticket:
        org = org or self.org_a
        kwargs.setdefault("subject", "Spindle motor overheats")
        kwargs.setdefault("kind", "fault")
        ticket, _created = ticket_services.ticket_create(
            actor=actor or self.agent, organisation=org, **kwargs
        )
        return ticket


def make_user(username: str, role: str) -> User:
    return account_services.user_create(
        username=username,
        password=PASSWORD,
        role=role,
        email=f"{username}@example.com",
        display_name=username.replace("_", " ").title(),
    )


@pytest.fixture
def world(db: Any) -> World:
    org_a = customer_services.organisation_create(
        name="Org A Machining", tier="gold", industry="manufacturing"
    )
    org_b = customer_services.organisation_create(
        name="Org B Chemicals", tier="standard", industry="chemicals"
    )
    customer_a = make_user("customer_a", Role.CUSTOMER)
    customer_b = make_user("customer_b", Role.CUSTOMER)
    contact_a = customer_services.contact_create(
        organisation=org_a, name="Alice A", email="a@a.example", user=customer_a
    )
    contact_b = customer_services.contact_create(
        organisation=org_b, name="Bob B", email="b@b.example", user=customer_b
    )
    asset_a = customer_services.asset_create(organisation=org_a, model="CNC-500", serial_number="A-0001")
    asset_b = customer_services.asset_create(organisation=org_b, model="PUMP-20", serial_number="B-0001")
    agent = make_user("agent", Role.AGENT)
    field_agent = make_user("field_agent", Role.AGENT)
    lead = make_user("lead", Role.TEAM_LEAD)
    frontline = account_services.team_create(name="Frontline", kind=TeamKind.FRONTLINE, lead=lead)
    account_services.team_add_member(team=frontline, user=agent)
    field = account_services.team_create(name="Field", kind=TeamKind.FIELD)
    account_services.team_add_member(team=field, user=field_agent)
    back_office = account_services.team_create(name="Technical", kind=TeamKind.BACK_OFFICE)
    return World(
        org_a=org_a,
        org_b=org_b,
        contact_a=contact_a,
        contact_b=contact_b,
        asset_a=asset_a,
        asset_b=asset_b,
        customer_a=customer_a,
        customer_b=customer_b,
        frontline=frontline,
        field=field,
        back_office=back_office,
        agent=agent,
        field_agent=field_agent,
        lead=lead,
        manager=make_user("manager", Role.SERVICE_MANAGER),
        inspector=make_user("inspector", Role.QA_INSPECTOR),
        admin=make_user("admin", Role.ADMIN),
    )
