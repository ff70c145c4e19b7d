"""The demo company loads through the services into a realistic, repeatable history."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core import mail
from django.db.models import Count

from pledge.accounts.choices import Role, TeamKind
from pledge.accounts.models import Notification, Team, TeamMembership, User
from pledge.customers.models import Asset, Contact, Contract, Organisation
from pledge.demo import data
from pledge.demo.loader import DemoRefused, load_demo
from pledge.standards.models import EscalationLevel, SlaPolicy
from pledge.tickets.choices import OPEN_STATUSES, EventKind, Kind, Status
from pledge.tickets.models import Message, SlaClock, Ticket, TicketEvent

# A Wednesday afternoon in Shanghai, so the open tail of the queue is the same on every run.
NOW = datetime(2026, 11, 18, 7, 0, tzinfo=UTC)
CJK = re.compile("[\u4e00-\u9fff]")


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Organisation,
            Contact,
            Asset,
            Contract,
            User,
            Team,
            TeamMembership,
            Ticket,
            TicketEvent,
            Message,
            SlaPolicy,
            EscalationLevel,
            SlaClock,
            Notification,
        )
    }


def test_demo_company_loads_through_the_services_and_loading_again_changes_nothing(db: Any) -> None:
    summary = load_demo(now=NOW)

    assert summary.organisations == Organisation.objects.count() == 20
    assert summary.assets == Asset.objects.count() == 80
    assert 550 <= summary.tickets == summary.tickets_created == Ticket.objects.count() <= 650
    assert Contract.objects.values("organisation").distinct().count() >= 15
    assert Organisation.objects.annotate(n=Count("contacts")).filter(n__lt=1).count() == 0
    assert Contact.objects.filter(user__isnull=False).values("organisation").distinct().count() >= 2
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert {team.kind for team in Team.objects.all()} == set(TeamKind.values)
    from pledge.standards.models import BusinessCalendar

    assert set(BusinessCalendar.objects.values_list("code", flat=True)) == {
        "cn-office",
        "24x7",
        "night-shift",
    }
    for team in Team.objects.all():
        assert team.lead is not None
        assert team.memberships.count() >= 2

    # Every ticket has a real history, in time order, that began with its creation.
    assert not Ticket.objects.exclude(events__kind=EventKind.CREATED).exists()
    for ticket in Ticket.objects.prefetch_related("events"):
        events = sorted(ticket.events.all(), key=lambda event: event.pk)
        assert events[0].kind == EventKind.CREATED
        assert events[0].created_at == ticket.created_at
        times = [event.created_at for event in events]
        assert times == sorted(times), ticket.number
        assert times[-1] <= NOW
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert Status.CLOSED in statuses
    assert Status.NEW in statuses
    assert len(statuses & set(OPEN_STATUSES)) >= 3
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(Kind.values)
    assert not Ticket.objects.exclude(status=Status.NEW).filter(first_response_at__isnull=True).exists()
    assert TicketEvent.objects.filter(kind=EventKind.REOPENED).exists()
    assert Message.objects.filter(is_internal=True).exists()
    assert Message.objects.filter(from_customer=True).exists()
    subjects = list(Ticket.objects.values_list("subject", flat=True))
    chinese = sum(1 for subject in subjects if CJK.search(subject))
    assert 100 <= chinese <= len(subjects) - 100  # both languages, in earnest
    assert Ticket.objects.filter(created_at__lt=NOW.replace(month=6)).exists()  # six months back

    # The printed logins work.
    assert [login.username for login in summary.logins] == [name for name, _hint in data.DEMO_LOGINS]
    for login in summary.logins:
        assert authenticate(username=login.username, password=data.DEMO_PASSWORD) is not None
    customer_orgs = {
        Contact.objects.get(user__username=name).organisation_id for name in ("customer", "customer2")
    }
    assert len(customer_orgs) == 2

    # Again: nothing is duplicated, and a changed demo password is set back.
    before = _counts()
    agent = User.objects.get(username="agent")
    agent.set_password("something-else-entirely")
    agent.save()
    again = load_demo(now=NOW)
    assert again.tickets_created == 0
    assert again.tickets == summary.tickets
    assert _counts() == before
    assert authenticate(username="agent", password=data.DEMO_PASSWORD) is not None


def test_demo_refuses_a_database_with_other_people_data(world: Any) -> None:
    with pytest.raises(DemoRefused):
        load_demo(ticket_count=20)
    assert Organisation.objects.count() == 2
    assert not User.objects.filter(username="manager").exclude(pk=world.manager.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_loading_sends_no_mail_and_restores_settings() -> None:
    """The load commits for real here, so its after-commit notifications run: into dummy backends."""
    backend_before, tasks_before = settings.EMAIL_BACKEND, settings.TASKS
    summary = load_demo(ticket_count=30)
    assert summary.tickets == 30
    assert mail.outbox == []
    assert (backend_before, tasks_before) == (settings.EMAIL_BACKEND, settings.TASKS)
