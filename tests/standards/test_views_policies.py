"""The SLA policy pages through the Django test client: who sees and changes what, the create and edit
form (durations, conditions, errors beside the fields, stale versions), the preview sentence, order and
activation (with and without htmx), and the escalation levels editor."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from pledge.standards import services
from pledge.standards.models import EscalationLevel, SlaPolicy
from pledge.standards.services import EscalationLevelData
from tests.conftest import World

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def calendars(world: World) -> Any:
    return services.ensure_builtin_calendars()


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def make(name: str = "P1 faults", **changes: Any) -> SlaPolicy:
    values: dict[str, Any] = {
        "actor": None,
        "name": name,
        "calendar": "24x7",
        "priorities": ["P1"],
        "first_response_minutes": 30,
        "resolution_minutes": 480,
    }
    values.update(changes)
    return services.sla_policy_create(**values)


def form_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "P1 faults for gold customers",
        "description": "",
        "contract": "",
        "priorities": ["P1"],
        "kinds": ["fault"],
        "tiers": ["gold"],
        "calendar": "24x7",
        "first_response_minutes": "30m",
        "next_response_minutes": "",
        "resolution_minutes": "8h",
        "on_site_minutes": "",
        "pause_statuses": ["waiting_customer", "waiting_parts"],
        "is_active": "on",
        "reason": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def levels_data(rows: list[dict[str, Any]], *, initial: int = 0, total: int | None = None) -> dict[str, Any]:
    total = len(rows) if total is None else total
    data: dict[str, Any] = {
        "form-TOTAL_FORMS": str(total),
        "form-INITIAL_FORMS": str(initial),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "20",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"form-{index}-{key}"] = value
    return data


# Who may do what ------------------------------------------------------------------------------------


def test_an_agent_reads_a_policy_but_gets_no_form_and_may_not_change_it(
    client: Client, world: World, calendars: Any
) -> None:
    policy = make(escalation_levels=[EscalationLevelData("resolution", 100, notify=["team_lead"])])
    agent = signed_in(client, world.agent)
    page = agent.get(f"/standards/policies/{policy.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "respond within 30 minutes, resolve within 8 hours" in text
    assert "notify Team lead" in text
    assert page.context["form"] is None and 'name="form-TOTAL_FORMS"' not in text
    assert agent.get("/standards/policies/new/").status_code == 403
    assert agent.post(f"/standards/policies/{policy.pk}/", form_data()).status_code == 403
    assert agent.post(f"/standards/policies/{policy.pk}/move/", {"direction": "up"}).status_code == 403
    assert agent.post(f"/standards/policies/{policy.pk}/active/", {"is_active": "0"}).status_code == 403
    assert agent.post(f"/standards/policies/{policy.pk}/escalations/", levels_data([])).status_code == 403
    policy.refresh_from_db()
    assert policy.version == 1 and policy.is_active


def test_customers_never_see_policies(client: Client, world: World, calendars: Any) -> None:
    policy = make()
    customer = signed_in(client, world.customer_a)
    for url in ("/standards/policies/", f"/standards/policies/{policy.pk}/", "/standards/policies/new/"):
        assert customer.get(url).status_code == 404
    assert customer.post(f"/standards/policies/{policy.pk}/move/", {"direction": "up"}).status_code == 404


def test_an_unknown_policy_is_404(client: Client, world: World, calendars: Any) -> None:
    assert signed_in(client, world.manager).get("/standards/policies/999999/").status_code == 404


# Create and edit ------------------------------------------------------------------------------------


def test_a_manager_creates_a_policy_with_hours_and_minutes(
    client: Client, world: World, calendars: Any
) -> None:
    manager = signed_in(client, world.manager)
    assert manager.get("/standards/policies/new/").status_code == 200
    response = manager.post("/standards/policies/new/", form_data(next_response_minutes="1h 30m"))
    policy = SlaPolicy.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/standards/policies/{policy.pk}/"
    assert (policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes) == (
        30,
        90,
        480,
    )
    assert (policy.priorities, policy.kinds, policy.tiers, policy.channels) == (
        ["P1"],
        ["fault"],
        ["gold"],
        [],
    )
    assert policy.calendar.code == "24x7"
    page = manager.get(response["Location"]).content.decode()
    assert "P1 · Fault · Gold customers: respond within 30 minutes" in page


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"first_response_minutes": "soon"}, "first_response_minutes", "Write business time as"),
        ({"first_response_minutes": "", "resolution_minutes": ""}, "first_response_minutes", "at least one"),
        ({"resolution_minutes": "10000h"}, "resolution_minutes", "Between 1 minute and 8760 hours"),
        ({"name": ""}, "name", "required"),
        ({"calendar": "mars"}, "calendar", "Select a valid choice"),
        ({"contract": "C-404"}, "contract", "There is no contract numbered C-404."),
        ({"pause_statuses": ["resolved"]}, "pause_statuses", "Select a valid choice"),
    ],
)
def test_a_bad_policy_form_shows_the_error_beside_the_field(
    client: Client, world: World, calendars: Any, changes: dict[str, Any], field: str, text: str
) -> None:
    response = signed_in(client, world.manager).post("/standards/policies/new/", form_data(**changes))
    assert response.status_code == 422
    assert any(text in error for error in response.context["form"].errors[field])
    assert not SlaPolicy.objects.exists()


def test_editing_a_policy_saves_a_new_version(client: Client, world: World, calendars: Any) -> None:
    policy = make()
    manager = signed_in(client, world.manager)
    form = manager.get(f"/standards/policies/{policy.pk}/").context["form"]
    assert form.initial["resolution_minutes"] == "8h"
    assert form.initial["version"] == 1
    response = manager.post(
        f"/standards/policies/{policy.pk}/",
        form_data(version="1", resolution_minutes="4h", calendar="cn-office"),
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.version, policy.resolution_minutes, policy.calendar.code) == (2, 240, "cn-office")


def test_saving_over_someone_elses_change_is_refused(client: Client, world: World, calendars: Any) -> None:
    policy = make()
    services.sla_policy_update(policy=policy, actor=world.admin, name="Changed meanwhile")
    response = signed_in(client, world.manager).post(
        f"/standards/policies/{policy.pk}/", form_data(version="1")
    )
    assert response.status_code == 409
    assert "Someone changed this policy" in response.content.decode()
    policy.refresh_from_db()
    assert policy.name == "Changed meanwhile"


def test_the_preview_says_what_the_form_would_save(client: Client, world: World, calendars: Any) -> None:
    response = signed_in(client, world.manager).post(
        "/standards/policies/preview/",
        form_data(first_response_minutes="30", resolution_minutes="8h"),
        **HTMX,
    )
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text
    assert "P1 · Fault · Gold customers: respond within 30 minutes, resolve within 8 hours" in text
    assert "全天候 7×24" in text
    assert not SlaPolicy.objects.exists()


# Order and activation --------------------------------------------------------------------------------


def test_the_list_moves_policies_with_and_without_htmx(client: Client, world: World, calendars: Any) -> None:
    first, second = make("First"), make("Second")
    manager = signed_in(client, world.manager)
    response = manager.post(f"/standards/policies/{second.pk}/move/", {"direction": "up"})
    assert response.status_code == 302 and response["Location"] == "/standards/policies/"
    assert list(SlaPolicy.objects.order_by("position").values_list("name", flat=True)) == ["Second", "First"]
    fragment = manager.post(f"/standards/policies/{second.pk}/move/", {"direction": "down"}, **HTMX)
    text = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in text
    assert text.index(">First<") < text.index(">Second<")
    bad = manager.post(f"/standards/policies/{first.pk}/move/", {"direction": "sideways"}, **HTMX)
    assert bad.status_code == 422 and "Move up or down" in bad.content.decode()


def test_deactivating_and_activating_from_the_list(client: Client, world: World, calendars: Any) -> None:
    policy = make()
    manager = signed_in(client, world.manager)
    manager.post(f"/standards/policies/{policy.pk}/active/", {"is_active": "0"})
    policy.refresh_from_db()
    assert policy.is_active is False
    page = manager.get("/standards/policies/").content.decode()
    assert 'class="st-inactive"' in page and 'value="1">Activate' in page
    manager.post(f"/standards/policies/{policy.pk}/active/", {"is_active": "1"}, **HTMX)
    policy.refresh_from_db()
    assert policy.is_active is True and policy.version == 3


def test_the_list_costs_the_same_queries_for_many_policies(
    client: Client, world: World, calendars: Any, django_assert_max_num_queries: Any
) -> None:
    for number in range(8):
        make(
            f"Policy {number}",
            escalation_levels=[EscalationLevelData("resolution", 100, raise_priority=True)],
        )
    manager = signed_in(client, world.agent)
    manager.get("/standards/policies/")  # warm the session and caches
    with django_assert_max_num_queries(8):
        response = manager.get("/standards/policies/")
    assert response.content.decode().count("st-row-actions") == 0  # agents get no buttons
    assert response.content.decode().count("/standards/policies/") >= 8


# Escalation levels -----------------------------------------------------------------------------------


def test_saving_escalation_levels_from_the_editor(client: Client, world: World, calendars: Any) -> None:
    policy = make()
    manager = signed_in(client, world.manager)
    rows = [
        {
            "target": "resolution",
            "percent": "100",
            "notify": ["team_lead", "assignee"],
            "raise_priority": "on",
        },
        {
            "target": "resolution",
            "percent": "150",
            "notify": ["service_managers"],
            "reassign_team": str(world.back_office.pk),
        },
        {"target": "", "percent": ""},  # an empty row is ignored
    ]
    response = manager.post(f"/standards/policies/{policy.pk}/escalations/", levels_data(rows))
    assert response.status_code == 302
    levels = list(EscalationLevel.objects.order_by("percent"))
    assert [(level.percent, level.notify, level.raise_priority) for level in levels] == [
        (100, ["assignee", "team_lead"], True),
        (150, ["service_managers"], False),
    ]
    assert levels[1].reassign_team == world.back_office
    # The editor starts with the saved rows; ticking Remove drops one.
    formset = manager.get(f"/standards/policies/{policy.pk}/").context["formset"]
    assert formset.initial_form_count() == 2
    rows = [
        {"target": "resolution", "percent": "100", "notify": ["team_lead"], "DELETE": "on"},
        {"target": "resolution", "percent": "150", "notify": ["service_managers"]},
    ]
    manager.post(f"/standards/policies/{policy.pk}/escalations/", levels_data(rows, initial=2))
    assert list(EscalationLevel.objects.values_list("percent", flat=True)) == [150]


@pytest.mark.parametrize(
    ("rows", "row", "field", "text"),
    [
        (
            [
                {"target": "resolution", "percent": "100", "notify": ["assignee"]},
                {"target": "resolution", "percent": "100", "raise_priority": "on"},
            ],
            1,
            "percent",
            "Another level of this target is at 100% already.",
        ),
        (
            [{"target": "on_site", "percent": "100", "notify": ["assignee"]}],
            0,
            "target",
            "promises no On-site",
        ),
        ([{"target": "resolution", "percent": "100"}], 0, "notify", "A level must do something"),
        (
            [{"target": "resolution", "percent": "1001", "notify": ["assignee"]}],
            0,
            "percent",
            "less than or equal to 1000",
        ),
    ],
)
def test_a_bad_escalation_row_shows_its_error(
    client: Client, world: World, calendars: Any, rows: list[dict[str, Any]], row: int, field: str, text: str
) -> None:
    policy = make()
    response = signed_in(client, world.manager).post(
        f"/standards/policies/{policy.pk}/escalations/", levels_data(rows)
    )
    assert response.status_code == 422
    errors = response.context["formset"].forms[row].errors[field]
    assert any(text in error for error in errors)
    assert not EscalationLevel.objects.exists()


def test_the_admin_shows_policies_read_only(client: Client, world: World, calendars: Any) -> None:
    policy = make(escalation_levels=[EscalationLevelData("resolution", 100, notify=["team_lead"])])
    admin = signed_in(client, world.admin)
    assert "P1 faults" in admin.get("/admin/standards/slapolicy/").content.decode()
    page = admin.get(f"/admin/standards/slapolicy/{policy.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert (
        admin.post(f"/admin/standards/slapolicy/{policy.pk}/change/", {"name": "Hacked"}).status_code == 403
    )
    assert admin.get("/admin/standards/slapolicy/add/").status_code == 403
    policy.refresh_from_db()
    assert policy.name == "P1 faults"
