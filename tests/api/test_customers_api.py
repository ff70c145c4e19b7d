"""Organisations, contacts and assets through the API: customers see only their own organisation;
service managers and administrators add records."""

from __future__ import annotations

import pytest

from pledge.customers import services as customer_services
from pledge.customers.models import Asset, Contact, Organisation
from tests.conftest import World


@pytest.mark.parametrize(
    ("resource", "own", "foreign"),
    [
        ("organisations", "org_a", "org_b"),
        ("contacts", "contact_a", "contact_b"),
        ("assets", "asset_a", "asset_b"),
    ],
)
def test_customer_sees_only_their_organisation(
    world: World, api_as, resource: str, own: str, foreign: str
) -> None:
    client = api_as(world.customer_a)
    own_id, foreign_id = getattr(world, own).pk, getattr(world, foreign).pk
    listed = client.get(f"/{resource}")
    assert listed.status == 200
    assert [item["id"] for item in listed.body["items"]] == [own_id]
    assert client.get(f"/{resource}/{own_id}").status == 200
    hidden = client.get(f"/{resource}/{foreign_id}")
    assert hidden.status == 404
    assert hidden.body == client.get(f"/{resource}/987654321").body
    by_filter = client.get(f"/{resource}", {"organisation_id": world.org_b.pk})
    assert by_filter.status == 200 and by_filter.body["items"] == []


@pytest.mark.parametrize("persona", ["agent", "inspector", "manager"])
def test_staff_see_every_organisation(world: World, api_as, persona: str) -> None:
    client = api_as(getattr(world, persona))
    names = [item["name"] for item in client.get("/organisations").body["items"]]
    assert names == ["Org A Machining", "Org B Chemicals"]
    assets = client.get("/assets", {"organisation_id": world.org_b.pk}).body["items"]
    assert [a["serial_number"] for a in assets] == ["B-0001"]


def test_search_and_pages(world: World, api_as) -> None:
    for n in range(3):
        customer_services.asset_create(organisation=world.org_a, model="LATHE-9", serial_number=f"L-{n}")
    client = api_as(world.manager)
    first = client.get("/assets", {"q": "lathe", "page_size": 2}).body
    second = client.get("/assets", {"q": "lathe", "page_size": 2, "page": 2}).body
    assert [a["serial_number"] for a in first["items"] + second["items"]] == ["L-0", "L-1", "L-2"]
    assert (first["has_next"], second["has_next"]) == (True, False)
    assert [o["name"] for o in client.get("/organisations", {"q": "chem"}).body["items"]] == [
        "Org B Chemicals"
    ]
    contacts = client.get("/contacts", {"q": "b@b.example"}).body["items"]
    assert [(c["name"], c["has_portal_login"]) for c in contacts] == [("Bob B", True)]


def test_item_shapes(world: World, api_as) -> None:
    client = api_as(world.agent)
    org = client.get(f"/organisations/{world.org_a.pk}").body
    assert (org["name"], org["tier"], org["industry"], org["is_active"]) == (
        "Org A Machining",
        "gold",
        "manufacturing",
        True,
    )
    contact = client.get(f"/contacts/{world.contact_a.pk}").body
    assert contact["organisation"] == {"id": world.org_a.pk, "name": "Org A Machining"}
    assert contact["email"] == "a@a.example"
    asset = client.get(f"/assets/{world.asset_a.pk}").body
    assert (asset["model"], asset["serial_number"], asset["install_date"]) == ("CNC-500", "A-0001", None)


def test_manager_adds_organisation_contact_and_asset(world: World, api_as) -> None:
    client = api_as(world.manager)
    org = client.post(
        "/organisations", {"name": "Org C Foods", "tier": "silver", "industry": "food", "region": "Jiangsu"}
    )
    assert org.status == 201, org.body
    created = Organisation.objects.get(pk=org.body["id"])
    assert (created.name, created.tier, created.industry, created.region) == (
        "Org C Foods",
        "silver",
        "food",
        "Jiangsu",
    )
    contact = client.post(
        "/contacts",
        {"organisation_id": created.pk, "name": "陈工", "email": "chen@c.example", "phone": "+86 21"},
    )
    assert contact.status == 201, contact.body
    assert Contact.objects.get(pk=contact.body["id"]).organisation_id == created.pk
    asset = client.post(
        "/assets",
        {
            "organisation_id": created.pk,
            "model": "MIXER-3",
            "serial_number": "C-0001",
            "install_date": "2024-05-01",
            "warranty_end": "2027-04-30",
        },
    )
    assert asset.status == 201, asset.body
    assert asset.body["warranty_end"] == "2027-04-30"
    assert Asset.objects.get(serial_number="C-0001").organisation_id == created.pk


def test_admin_may_add_too(world: World, api_as) -> None:
    assert api_as(world.admin).post("/organisations", {"name": "Org D"}).status == 201


@pytest.mark.parametrize("persona", ["agent", "lead", "inspector", "customer_a"])
def test_others_may_not_add_customer_records(world: World, api_as, persona: str) -> None:
    client = api_as(getattr(world, persona))
    assert client.post("/organisations", {"name": "Org X"}).status == 403
    assert client.post("/contacts", {"organisation_id": world.org_a.pk, "name": "X"}).status == 403
    assert (
        client.post("/assets", {"organisation_id": world.org_a.pk, "model": "M", "serial_number": "S"}).status
        == 403
    )
    assert not Organisation.objects.filter(name="Org X").exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/organisations", {"name": "Org A Machining"}, "name"),
        ("/organisations", {"name": ""}, "name"),
        ("/organisations", {"name": "x" * 201}, "name"),
        ("/organisations", {"name": "Org Z", "tier": "diamond"}, "tier"),
        ("/contacts", {"organisation_id": 987654, "name": "X"}, "organisation_id"),
        ("/contacts", {"organisation_id": 1, "name": "X", "email": "not-an-address"}, "email"),
        ("/assets", {"organisation_id": 1, "model": "M", "serial_number": "A-0001"}, "serial_number"),
        (
            "/assets",
            {
                "organisation_id": 1,
                "model": "M",
                "serial_number": "S-9",
                "install_date": "2025-01-01",
                "warranty_end": "2024-01-01",
            },
            "warranty_end",
        ),
        (
            "/assets",
            {"organisation_id": 1, "model": "M", "serial_number": "S-9", "install_date": 0},
            "install_date",
        ),
    ],
)
def test_invalid_customer_records_are_422(world: World, api_as, path: str, body: dict, field: str) -> None:
    if body.get("organisation_id") == 1:
        body = {**body, "organisation_id": world.org_a.pk}
    reply = api_as(world.manager).post(path, body)
    assert reply.status == 422, reply.body
    assert field in reply.field_errors(), reply.body
