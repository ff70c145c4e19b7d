"""SLA policy writes on the real database: create, update, escalation levels, order and activation; every
refusal names its field and writes nothing; every change reaches the clocks of the tickets under it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pledge.accounts.models import Team
from pledge.core.errors import Conflict, NotFound, ValidationFailed
from pledge.customers import services as customer_services
from pledge.standards import selectors, services
from pledge.standards.models import EscalationLevel, SlaPolicy
from pledge.standards.services import EscalationLevelData
from pledge.tickets import selectors as ticket_selectors
from pledge.tickets.models import SlaClock
from tests.conftest import World


def create(world: World, **changes: Any) -> SlaPolicy:
    values: dict[str, Any] = {
        "actor": world.manager,
        "name": "P1 faults, gold",
        "calendar": "24x7",
        "priorities": ["P1"],
        "kinds": ["fault"],
        "tiers": ["gold"],
        "first_response_minutes": 30,
        "resolution_minutes": 480,
    }
    values.update(changes)
    return services.sla_policy_create(**values)


def state() -> list[Any]:
    return [
        list(SlaPolicy.objects.order_by("id").values()),
        list(EscalationLevel.objects.order_by("id").values()),
    ]


def refusal(call: Any) -> dict[str, str]:
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert state() == before
    return caught.value.fields


# Create ----------------------------------------------------------------------------------------------


def test_create_stores_a_checked_policy_last_in_the_order(world: World, calendars: Any) -> None:
    first = create(world)
    second = create(
        world, name="  Everything   else ", priorities=[], kinds=[], tiers=[], first_response_minutes=240
    )
    assert (first.position, second.position) == (0, 1)
    assert second.name == "Everything else"
    assert first.version == 1 and first.is_active
    assert first.calendar == calendars["24x7"]
    assert first.pause_statuses == ["waiting_customer", "waiting_parts"]
    assert first.next_response_minutes is None and first.on_site_minutes is None


def test_condition_values_are_kept_in_choice_order_without_duplicates(world: World, calendars: Any) -> None:
    policy = create(world, priorities=["P2", "P1", "P2"], channels=["phone", "email"])
    assert policy.priorities == ["P1", "P2"]
    assert policy.channels == ["email", "phone"]


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"name": "   "}, "name", "Give the policy a name."),
        ({"name": "x" * 201}, "name", "At most 200"),
        (
            {"first_response_minutes": None, "resolution_minutes": None},
            "first_response_minutes",
            "at least one",
        ),
        ({"first_response_minutes": 0}, "first_response_minutes", "from 1 to 525600"),
        ({"resolution_minutes": 525_601}, "resolution_minutes", "from 1 to 525600"),
        ({"on_site_minutes": True}, "on_site_minutes", "whole business minutes"),
        ({"tiers": ["diamond"]}, "tiers", "Unknown value diamond"),
        ({"kinds": ["outage"]}, "kinds", "Unknown value outage"),
        ({"priorities": ["P0"]}, "priorities", "Unknown value P0"),
        ({"channels": ["fax"]}, "channels", "Unknown value fax"),
        ({"pause_statuses": ["resolved"]}, "pause_statuses", "resolved cannot pause the clock"),
        ({"pause_statuses": ["closed", "in_progress"]}, "pause_statuses", "closed cannot pause"),
        ({"calendar": "mars-office"}, "calendar", "There is no calendar mars-office."),
        ({"contract": "C-404"}, "contract", "There is no contract numbered C-404."),
    ],
)
def test_create_refuses_bad_values_naming_the_field(
    world: World, calendars: Any, changes: dict[str, Any], field: str, text: str
) -> None:
    fields = refusal(lambda: create(world, **changes))
    assert text in fields[field]


def test_every_problem_is_named_at_once(world: World, calendars: Any) -> None:
    fields = refusal(lambda: create(world, name="", tiers=["x"], calendar="nope", resolution_minutes=-5))
    assert {"name", "tiers", "calendar", "resolution_minutes"} <= fields.keys()


def test_a_calendar_without_working_hours_is_refused(world: World, calendars: Any) -> None:
    services.calendar_import(data={"code": "never", "name": "Never open", "timezone": "UTC"}, actor=None)
    fields = refusal(lambda: create(world, calendar="never"))
    assert "has no working hours" in fields["calendar"]


def test_a_contract_policy_names_its_contract(world: World, calendars: Any) -> None:
    contract = customer_services.contract_create(
        organisation=world.org_a,
        number="C-2026-001",
        tier="gold",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
    )
    policy = create(world, contract="C-2026-001")
    assert policy.contract == contract
    assert "contract C-2026-001" in selectors.sla_policy_summary(selectors.sla_policy_get(policy.pk))


def test_summary_reads_as_a_sentence(world: World, calendars: Any) -> None:
    policy = selectors.sla_policy_get(create(world).pk)
    assert selectors.sla_policy_summary(policy) == (
        "P1 · Fault · Gold customers: respond within 30 minutes, resolve within 8 hours "
        "(business time on 全天候 7×24)."
    )
    everything = services.sla_policy_create(
        actor=None, name="All", calendar="cn-office", next_response_minutes=90, on_site_minutes=1440
    )
    assert selectors.sla_policy_summary(selectors.sla_policy_get(everything.pk)) == (
        "All tickets: answer each customer message within 1 hour and 30 minutes, be on site within "
        "24 hours (business time on 中国标准工作日历)."
    )


# Update ----------------------------------------------------------------------------------------------


def test_update_changes_only_what_it_is_given_and_bumps_the_version(world: World, calendars: Any) -> None:
    policy = create(world)
    services.sla_policy_update(
        policy=policy, actor=world.manager, resolution_minutes=240, calendar="cn-office"
    )
    policy.refresh_from_db()
    assert policy.version == 2
    assert (policy.resolution_minutes, policy.calendar.code) == (240, "cn-office")
    assert (policy.first_response_minutes, policy.priorities, policy.tiers) == (30, ["P1"], ["gold"])


def test_update_with_a_stale_version_is_refused(world: World, calendars: Any) -> None:
    policy = create(world)
    services.sla_policy_update(policy=policy, actor=world.manager, name="Renamed")
    before = state()
    with pytest.raises(Conflict) as caught:
        services.sla_policy_update(policy=policy, actor=world.manager, expected_version=1, name="Mine")
    assert "version 2, yours 1" in caught.value.message
    assert state() == before


def test_update_refuses_the_same_things_as_create(world: World, calendars: Any) -> None:
    policy = create(world)
    fields = refusal(
        lambda: services.sla_policy_update(
            policy=policy, actor=None, first_response_minutes=None, resolution_minutes=None
        )
    )
    assert "at least one" in fields["first_response_minutes"]


def test_removing_a_target_that_levels_use_is_refused_unless_they_go_too(
    world: World, calendars: Any
) -> None:
    policy = create(world, escalation_levels=[EscalationLevelData("resolution", 100, notify=["team_lead"])])
    fields = refusal(lambda: services.sla_policy_update(policy=policy, actor=None, resolution_minutes=None))
    assert "Escalation levels use this target" in fields["resolution_minutes"]
    services.sla_policy_update(policy=policy, actor=None, resolution_minutes=None, escalation_levels=[])
    assert not policy.escalation_levels.exists()


def test_a_deleted_policy_cannot_be_updated(world: World, calendars: Any) -> None:
    policy = create(world)
    SlaPolicy.objects.filter(pk=policy.pk).delete()
    with pytest.raises(NotFound):
        services.sla_policy_update(policy=policy, actor=None, name="Ghost")


# Escalation levels -----------------------------------------------------------------------------------


def test_escalation_levels_replace_the_list(world: World, calendars: Any) -> None:
    policy = create(world)
    services.escalation_levels_set(
        policy=policy,
        levels=[
            EscalationLevelData("first_response", 80, notify=["assignee", "assignee"]),
            EscalationLevelData("resolution", 100, raise_priority=True, reassign_team=world.back_office.pk),
            EscalationLevelData("resolution", 150, notify=["service_managers"], add_watcher=world.lead),
        ],
        actor=world.manager,
    )
    rows = list(selectors.sla_policy_get(policy.pk).escalation_levels.all())
    assert [(row.target, row.percent) for row in rows] == [
        ("first_response", 80),
        ("resolution", 100),
        ("resolution", 150),
    ]
    assert rows[0].notify == ["assignee"]
    assert rows[1].reassign_team == world.back_office and rows[1].raise_priority
    assert rows[2].add_watcher == world.lead
    policy.refresh_from_db()
    assert policy.version == 2
    services.escalation_levels_set(policy=policy, levels=[], actor=world.manager)
    assert not EscalationLevel.objects.exists()


@pytest.mark.parametrize(
    ("level", "field", "text"),
    [
        (EscalationLevelData("resolution", 0, notify=["assignee"]), "percent", "from 1 to 1000"),
        (EscalationLevelData("resolution", 1001, notify=["assignee"]), "percent", "from 1 to 1000"),
        (
            EscalationLevelData("on_site", 100, notify=["assignee"]),
            "target",
            "promises no On-site arrival target",
        ),
        (EscalationLevelData("lunch", 100, notify=["assignee"]), "target", "Unknown target lunch"),
        (EscalationLevelData("resolution", 100), "notify", "A level must do something"),
        (EscalationLevelData("resolution", 100, notify=["ceo"]), "notify", "Unknown recipient ceo"),
        (EscalationLevelData("resolution", 100, reassign_team=999_999), "reassign_team", "no active team"),
    ],
)
def test_a_bad_escalation_level_is_refused_naming_its_row_and_field(
    world: World, calendars: Any, level: EscalationLevelData, field: str, text: str
) -> None:
    policy = create(world)
    good = EscalationLevelData("first_response", 100, notify=["assignee"])
    fields = refusal(lambda: services.escalation_levels_set(policy=policy, levels=[good, level], actor=None))
    assert text in fields[f"levels[1].{field}"]


def test_two_levels_at_the_same_percent_of_a_target_are_refused(world: World, calendars: Any) -> None:
    policy = create(world)
    levels = [
        EscalationLevelData("resolution", 100, notify=["assignee"]),
        EscalationLevelData("first_response", 100, notify=["assignee"]),
        EscalationLevelData("resolution", 100, raise_priority=True),
    ]
    fields = refusal(lambda: services.escalation_levels_set(policy=policy, levels=levels, actor=None))
    assert fields == {"levels[2].percent": "Another level of this target is at 100% already."}


def test_inactive_teams_and_customers_cannot_be_used_by_a_level(world: World, calendars: Any) -> None:
    policy = create(world)
    Team.objects.filter(pk=world.field.pk).update(is_active=False)
    levels = [
        EscalationLevelData("resolution", 100, reassign_team=world.field),
        EscalationLevelData("resolution", 120, add_watcher=world.customer_a),
    ]
    fields = refusal(lambda: services.escalation_levels_set(policy=policy, levels=levels, actor=None))
    assert "no active team" in fields["levels[0].reassign_team"]
    assert "no active staff member" in fields["levels[1].add_watcher"]


def test_create_checks_its_levels_and_names_them_like_the_api(world: World, calendars: Any) -> None:
    fields = refusal(
        lambda: create(
            world, escalation_levels=[EscalationLevelData("next_response", 100, notify=["watchers"])]
        )
    )
    assert "promises no Next response target" in fields["escalation_levels[0].target"]


# Order and activation --------------------------------------------------------------------------------


def names() -> list[str]:
    return list(SlaPolicy.objects.order_by("position", "id").values_list("name", flat=True))


def test_policies_move_up_down_and_to_a_position(world: World, calendars: Any) -> None:
    a, b, c = (create(world, name=name) for name in "ABC")
    services.sla_policy_move(policy=c, actor=None, direction="up")
    assert names() == ["A", "C", "B"]
    services.sla_policy_move(policy=a, actor=None, direction="down")
    assert names() == ["C", "A", "B"]
    services.sla_policy_move(policy=b, actor=None, position=1)
    assert names() == ["B", "C", "A"]
    services.sla_policy_move(policy=b, actor=None, direction="up")  # already first: nothing moves
    assert names() == ["B", "C", "A"]
    assert list(SlaPolicy.objects.order_by("position").values_list("position", flat=True)) == [0, 1, 2]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({}, "direction"),
        ({"direction": "up", "position": 1}, "direction"),
        ({"position": 0}, "position"),
        ({"position": 3}, "position"),
    ],
)
def test_a_bad_move_is_refused(world: World, calendars: Any, kwargs: dict[str, Any], field: str) -> None:
    create(world, name="A")
    b = create(world, name="B")
    with pytest.raises(ValidationFailed) as caught:
        services.sla_policy_move(policy=b, actor=None, **kwargs)
    assert field in caught.value.fields
    assert names() == ["A", "B"]


def test_deactivating_and_activating_bumps_the_version_once(world: World, calendars: Any) -> None:
    policy = create(world)
    services.sla_policy_set_active(policy=policy, is_active=False, actor=world.manager)
    services.sla_policy_set_active(policy=policy, is_active=False, actor=world.manager)
    policy.refresh_from_db()
    assert (policy.is_active, policy.version) == (False, 2)
    services.sla_policy_set_active(policy=policy, is_active=True, actor=world.manager)
    policy.refresh_from_db()
    assert (policy.is_active, policy.version) == (True, 3)


# The clocks follow -----------------------------------------------------------------------------------


def test_a_policy_change_recomputes_the_clocks_of_open_tickets(world: World, calendars: Any) -> None:
    policy = create(world, resolution_minutes=None)
    ticket = world.ticket(priority="P1", kind="fault")
    assert ticket.sla_policy_id == policy.pk
    clock = SlaClock.objects.get(ticket=ticket, target="first_response")
    assert clock.target_minutes == 30
    services.sla_policy_update(policy=policy, actor=world.manager, first_response_minutes=60, reason="Softer")
    clock.refresh_from_db()
    assert clock.target_minutes == 60
    # The recount is an event in the ticket's history (stored once per recount, linked to each ticket).
    history = ticket_selectors.ticket_timeline(ticket, include_internal=True)
    assert [e.event.data["reason"] for e in history if e.event is not None and e.event.kind == "sla"] == [
        "Softer"
    ]
