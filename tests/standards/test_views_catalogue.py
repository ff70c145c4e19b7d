"""The service catalogue pages through the Django test client: who sees and changes what, the create and
edit form (durations, skills, SOP, errors beside the fields, stale versions), order and activation (with
and without htmx), the list's query count, and the service type condition of the SLA policy editor."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from pledge.standards import services
from pledge.standards.models import ServiceType, SlaPolicy
from tests.conftest import World
from tests.sops import approved_repair_sop, repair_service

HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = "/standards/catalogue/"


@pytest.fixture
def calendars(world: World) -> Any:
    return services.ensure_builtin_calendars()


@pytest.fixture
def repair(world: World, calendars: Any) -> ServiceType:
    """The fault repair service type, following the repair SOP (version 1 in effect from today)."""
    return repair_service(world.manager, effective=timezone.localdate(), at=timezone.now())


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def make(code: str, name: str, **changes: Any) -> ServiceType:
    values: dict[str, Any] = {"actor": None, "code": code, "name": name, "category": "remote"}
    values["calendar"] = "cn-office"
    values.update(changes)
    return services.service_type_create(**values)


def form_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "installation",
        "name": "Installation",
        "description": "Install and commission a new machine.",
        "category": "field",
        "default_kind": "request",
        "default_priority": "P3",
        "skills": "hydraulics, 电气",
        "sop": "",
        "calendar": "cn-office",
        "first_response_minutes": "",
        "next_response_minutes": "",
        "resolution_minutes": "3h",
        "on_site_minutes": "1h 30m",
        "customer_selectable": "on",
        "is_active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# Who may do what ------------------------------------------------------------------------------------


def test_an_agent_reads_the_catalogue_but_may_not_change_it(
    client: Client, world: World, repair: ServiceType
) -> None:
    agent = signed_in(client, world.agent)
    page = agent.get(LIST)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Fault repair" in text and "v1 in effect" in text
    assert "st-row-actions" not in text and "/standards/catalogue/new/" not in text
    detail = agent.get(f"{LIST}{repair.pk}/")
    assert detail.status_code == 200 and detail.context["form"] is None
    assert "hydraulics" in detail.content.decode()
    assert agent.get(f"{LIST}new/").status_code == 403
    assert agent.post(f"{LIST}new/", form_data()).status_code == 403
    assert agent.post(f"{LIST}{repair.pk}/", form_data(version="1")).status_code == 403
    assert agent.post(f"{LIST}{repair.pk}/move/", {"direction": "up"}).status_code == 403
    assert agent.post(f"{LIST}{repair.pk}/active/", {"is_active": "0"}).status_code == 403
    repair.refresh_from_db()
    assert (repair.version, repair.is_active, ServiceType.objects.count()) == (1, True, 1)


@pytest.mark.parametrize("url", [LIST, f"{LIST}new/", "/standards/"])
def test_customers_never_see_the_catalogue_pages(
    client: Client, world: World, repair: ServiceType, url: str
) -> None:
    customer = signed_in(client, world.customer_a)
    assert customer.get(url).status_code == 404
    assert customer.get(f"{LIST}{repair.pk}/").status_code == 404
    assert customer.post(f"{LIST}{repair.pk}/active/", {"is_active": "0"}).status_code == 404


def test_an_unknown_service_type_is_404(client: Client, world: World, calendars: Any) -> None:
    assert signed_in(client, world.manager).get(f"{LIST}999999/").status_code == 404


# Create and edit ------------------------------------------------------------------------------------


def test_a_manager_creates_a_service_type_with_overrides_skills_and_sop(
    client: Client, world: World, calendars: Any
) -> None:
    approved_repair_sop(world.manager, effective=timezone.localdate(), at=timezone.now())
    manager = signed_in(client, world.manager)
    form = manager.get(f"{LIST}new/").context["form"]
    assert ("repair", "Fault repair (repair)") in form.fields["sop"].choices
    response = manager.post(f"{LIST}new/", form_data(sop="repair"))
    assert response.status_code == 302 and response["Location"] == LIST
    created = ServiceType.objects.get(code="installation")
    assert created.skills == ["hydraulics", "电气"]
    assert (created.resolution_minutes, created.on_site_minutes, created.first_response_minutes) == (
        180,
        90,
        None,
    )
    assert created.sop is not None and created.sop.code == "repair"
    assert (created.category, created.customer_selectable, created.is_active) == ("field", True, True)
    page = manager.get(LIST).content.decode()
    assert "Installation" in page and "v1 in effect" in page
    assert "Resolution: 3 h" in page and "On-site arrival: 1 h 30 min" in page


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"code": "Not a code!"}, "code", "lower-case letters"),
        ({"name": ""}, "name", "required"),
        ({"resolution_minutes": "soon"}, "resolution_minutes", "Write business time as"),
        ({"sop": "no-such-sop"}, "sop", "Select a valid choice"),
        ({"calendar": "mars"}, "calendar", "Select a valid choice"),
        ({"skills": "x" * 51}, "skills", "At most 20 skills"),
    ],
)
def test_a_bad_service_type_form_shows_the_error_beside_the_field(
    client: Client, world: World, calendars: Any, changes: dict[str, Any], field: str, text: str
) -> None:
    response = signed_in(client, world.manager).post(f"{LIST}new/", form_data(**changes))
    assert response.status_code == 422
    assert any(text in error for error in response.context["form"].errors[field])
    assert 'class="field-error"' in response.content.decode()
    assert not ServiceType.objects.exists()


def test_a_taken_code_is_refused_beside_the_code(client: Client, world: World, repair: ServiceType) -> None:
    response = signed_in(client, world.manager).post(f"{LIST}new/", form_data(code="fault-repair"))
    assert response.status_code == 422
    assert "Another service type has the code fault-repair." in response.context["form"].errors["code"]
    assert ServiceType.objects.count() == 1


def test_editing_a_service_type_saves_a_new_version(
    client: Client, world: World, repair: ServiceType
) -> None:
    manager = signed_in(client, world.manager)
    form = manager.get(f"{LIST}{repair.pk}/").context["form"]
    assert form.initial["version"] == 1 and form.initial["sop"] == "repair"
    assert form.initial["skills"] == "hydraulics"
    response = manager.post(
        f"{LIST}{repair.pk}/",
        form_data(
            version="1",
            code="fault-repair",
            name="Fault repair on site",
            sop="",
            resolution_minutes="",
            customer_selectable=None,
        ),
    )
    assert response.status_code == 302
    repair.refresh_from_db()
    assert (repair.version, repair.name, repair.sop, repair.customer_selectable) == (
        2,
        "Fault repair on site",
        None,
        False,
    )


def test_saving_over_someone_elses_change_is_refused(
    client: Client, world: World, repair: ServiceType
) -> None:
    services.service_type_update(service_type=repair, actor=world.admin, name="Changed meanwhile")
    response = signed_in(client, world.manager).post(
        f"{LIST}{repair.pk}/", form_data(version="1", code="fault-repair")
    )
    assert response.status_code == 409
    assert "Someone changed this service type since you loaded it" in response.content.decode()
    repair.refresh_from_db()
    assert repair.name == "Changed meanwhile"


# Order and activation --------------------------------------------------------------------------------


def test_the_list_moves_service_types_with_and_without_htmx(
    client: Client, world: World, calendars: Any
) -> None:
    first, second = make("first", "First"), make("second", "Second")
    manager = signed_in(client, world.manager)
    response = manager.post(f"{LIST}{second.pk}/move/", {"direction": "up"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert list(ServiceType.objects.order_by("position").values_list("code", flat=True)) == [
        "second",
        "first",
    ]
    fragment = manager.post(f"{LIST}{second.pk}/move/", {"direction": "down"}, **HTMX)
    text = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in text
    assert text.index(">First<") < text.index(">Second<")
    bad = manager.post(f"{LIST}{first.pk}/move/", {"direction": "sideways"}, **HTMX)
    assert bad.status_code == 422 and "Move up or down" in bad.content.decode()


def test_deactivating_and_activating_from_the_list(client: Client, world: World, repair: ServiceType) -> None:
    manager = signed_in(client, world.manager)
    manager.post(f"{LIST}{repair.pk}/active/", {"is_active": "0"})
    repair.refresh_from_db()
    assert repair.is_active is False
    page = manager.get(LIST).content.decode()
    assert 'class="st-inactive"' in page and 'value="1">Activate' in page
    fragment = manager.post(f"{LIST}{repair.pk}/active/", {"is_active": "1"}, **HTMX)
    assert "Fault repair is active." in fragment.content.decode()
    repair.refresh_from_db()
    assert repair.is_active is True and repair.version == 3


def test_the_list_costs_the_same_queries_for_many_service_types(
    client: Client, world: World, repair: ServiceType, django_assert_num_queries: Any
) -> None:
    manager = signed_in(client, world.manager)
    manager.get(LIST)  # warm the session
    # session, user, SOPs, their versions, service types with SOP and calendar, the unread badge
    with django_assert_num_queries(6):
        few = manager.get(LIST)
    for number in range(8):
        make(f"remote-{number}", f"Remote help {number}", sop="repair", resolution_minutes=240)
    with django_assert_num_queries(6):
        many = manager.get(LIST)
    assert few.content.decode().count("st-row-actions") == 1
    assert many.content.decode().count("v1 in effect") == 9


# The overview and the SLA policy editor ---------------------------------------------------------------


def test_the_overview_and_nav_lead_to_the_catalogue_sops_and_handbook(
    client: Client, world: World, repair: ServiceType
) -> None:
    page = signed_in(client, world.agent).get("/standards/").content.decode()
    for url in (LIST, "/standards/sops/", "/standards/handbook/"):
        assert f'href="{url}"' in page
    assert "Fault repair" in page and "SOP Fault repair" in page


def test_a_policy_can_be_limited_to_service_types(client: Client, world: World, repair: ServiceType) -> None:
    make("remote-help", "Remote help")
    manager = signed_in(client, world.manager)
    form = manager.get("/standards/policies/new/").context["form"]
    assert [code for code, _label in form.fields["service_types"].choices] == ["fault-repair", "remote-help"]
    data = {
        "name": "Repairs",
        "calendar": "24x7",
        "first_response_minutes": "30m",
        "service_types": ["fault-repair"],
        "pause_statuses": ["waiting_customer"],
        "is_active": "on",
    }
    response = manager.post("/standards/policies/new/", data)
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert policy.service_types == ["fault-repair"]
    assert manager.get(response["Location"]).context["form"].initial["service_types"] == ["fault-repair"]
    assert "service types fault-repair" in manager.get("/standards/policies/").content.decode()
    bad = manager.post("/standards/policies/new/", {**data, "service_types": ["no-such-type"]})
    assert bad.status_code == 422
    assert any("Select a valid choice" in error for error in bad.context["form"].errors["service_types"])
