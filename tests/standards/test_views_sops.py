"""The SOP pages through the Django test client: who reads and who changes what, a whole cycle through
the views (new SOP → draft edits → approval → new draft → approval → comparison), the draft editor's
errors beside the fields (checkpoint limits, back-office teams, parallel groups), stale drafts, the
version page (flowchart, guidance, checkpoints), query counts, discarding, and the handbook."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from pledge.standards import services
from pledge.standards.models import Sop, SopStep, SopVersion
from tests.conftest import World
from tests.sops import approved_repair_sop, repair_service, repair_steps

SOPS = "/standards/sops/"
REPAIR = "/standards/sops/repair/"


@pytest.fixture
def calendars(world: World) -> Any:
    return services.ensure_builtin_calendars()


@pytest.fixture
def repair_v1(world: World, calendars: Any) -> SopVersion:
    """The repair SOP, version 1 approved and in effect from today."""
    return approved_repair_sop(world.manager, effective=timezone.localdate(), at=timezone.now())


@pytest.fixture
def repair_draft(world: World, repair_v1: SopVersion) -> SopVersion:
    """Draft version 2 of the repair SOP (a copy of version 1)."""
    return services.sop_draft_start(actor=world.manager, sop=repair_v1.sop, reason="Tighter limits")


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def step_post(
    revision: int,
    *,
    name: str,
    owner: str = "frontline",
    time: str = "1h",
    checkpoints: list[dict[str, str]] | None = None,
    initial: int = 0,
    **fields: str,
) -> dict[str, Any]:
    """The POST of the step editor: the step's fields and its checkpoint rows."""
    rows = checkpoints or []
    data: dict[str, Any] = {
        "revision": str(revision),
        "name": name,
        "owner": owner,
        "time_standard_minutes": time,
        "cp-TOTAL_FORMS": str(len(rows)),
        "cp-INITIAL_FORMS": str(initial),
        "cp-MIN_NUM_FORMS": "0",
        "cp-MAX_NUM_FORMS": "20",
        **fields,
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"cp-{index}-{key}"] = value
    return data


def repair_rows(**pressure: str) -> list[dict[str, str]]:
    """The checkpoint rows of the repair step as the editor shows them, the pressure row changed."""
    return [
        {
            "key": "pressure",
            "label": "Hydraulic pressure after repair",
            "kind": "number",
            "mandatory": "on",
            "critical": "on",
            "min_value": "5",
            "max_value": "8",
            "unit": "bar",
            **pressure,
        },
        {"key": "photo", "label": "Photo of the repaired unit", "kind": "photo"},
    ]


def steps_of(version: SopVersion) -> list[str]:
    return list(SopStep.objects.filter(version=version).order_by("position").values_list("key", flat=True))


# Who may do what ------------------------------------------------------------------------------------


def test_an_agent_reads_sops_but_may_not_change_or_approve_them(
    client: Client, world: World, repair_draft: SopVersion
) -> None:
    agent = signed_in(client, world.agent)
    for url in (SOPS, f"{REPAIR}v1/", f"{REPAIR}v2/", f"{REPAIR}diff/?from=1&to=2", "/standards/handbook/"):
        assert agent.get(url).status_code == 200, url
    page = agent.get(f"{REPAIR}v2/")
    assert page.context["details_form"] is None and page.context["approve_form"] is None
    assert "/steps/new/" not in page.content.decode()
    assert agent.get(f"{SOPS}new/").status_code == 403
    assert agent.get(f"{REPAIR}v2/steps/new/").status_code == 403
    assert agent.get(f"{REPAIR}v2/steps/diagnose/").status_code == 403
    revision = {"revision": str(repair_draft.revision)}
    assert agent.post(f"{REPAIR}v2/steps/diagnose/delete/", revision).status_code == 403
    assert agent.post(f"{REPAIR}v2/approve/", {"effective_from": "2099-01-01"}).status_code == 403
    assert agent.post(f"{REPAIR}v2/discard/").status_code == 403
    assert agent.post(f"{REPAIR}v1/new-draft/", {"reason": "x"}).status_code == 403
    repair_draft.refresh_from_db()
    assert (repair_draft.status, repair_draft.revision) == ("draft", 1)


def test_only_service_managers_and_administrators_approve(
    client: Client, world: World, repair_draft: SopVersion
) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert (
        signed_in(client, world.lead).post(f"{REPAIR}v2/approve/", {"effective_from": tomorrow}).status_code
        == 403
    )
    assert signed_in(client, world.inspector).get(f"{REPAIR}v2/").context["approve_form"] is None
    response = signed_in(client, world.manager).post(f"{REPAIR}v2/approve/", {"effective_from": tomorrow})
    assert response.status_code == 302
    repair_draft.refresh_from_db()
    assert (repair_draft.status, repair_draft.approved_by) == ("approved", world.manager)


@pytest.mark.parametrize(
    "url",
    [SOPS, f"{SOPS}new/", REPAIR, f"{REPAIR}v1/", f"{REPAIR}diff/", "/standards/handbook/?format=markdown"],
)
def test_customers_never_see_sops(client: Client, world: World, repair_v1: SopVersion, url: str) -> None:
    customer = signed_in(client, world.customer_a)
    assert customer.get(url).status_code == 404
    assert customer.post(f"{REPAIR}v1/new-draft/", {"reason": "x"}).status_code == 404


def test_unknown_sops_and_versions_are_404(client: Client, world: World, repair_v1: SopVersion) -> None:
    manager = signed_in(client, world.manager)
    assert manager.get("/standards/sops/nothing/v1/").status_code == 404
    assert manager.get(f"{REPAIR}v9/").status_code == 404
    assert manager.get(f"{REPAIR}diff/?from=1&to=9").status_code == 404
    assert manager.get(f"{REPAIR}diff/?from=x&to=1").status_code == 404
    assert manager.get(f"{REPAIR}v1/steps/diagnose/").status_code == 302  # approved: back to the page


# The whole cycle -------------------------------------------------------------------------------------


def test_a_manager_writes_approves_and_revises_an_sop_through_the_pages(
    client: Client, world: World, calendars: Any
) -> None:
    manager = signed_in(client, world.manager)
    today = timezone.localdate()

    # A new SOP: draft version 1 with its first step.
    response = manager.post(
        f"{SOPS}new/",
        {
            "code": "install",
            "name": "Installation",
            "reason": "First version",
            "step_name": "Unpack the machine",
            "step_owner": "frontline",
            "step_time_standard_minutes": "1h",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/standards/sops/install/v1/"
    v1 = SopVersion.objects.get(sop__code="install")
    assert steps_of(v1) == ["unpack-the-machine"]

    # Add a step with a number checkpoint (keys derived from the names).
    response = manager.post(
        "/standards/sops/install/v1/steps/new/",
        step_post(
            1,
            name="Commission",
            owner="field",
            time="2h 30m",
            place="end",
            checkpoints=[
                {
                    "label": "Pressure",
                    "kind": "number",
                    "mandatory": "on",
                    "critical": "on",
                    "min_value": "5",
                    "max_value": "8",
                    "unit": "bar",
                },
            ],
        ),
    )
    assert response.status_code == 302 and response["Location"].endswith("/v1/#step-commission")
    step = SopStep.objects.get(version=v1, key="commission")
    assert (step.owner, step.time_standard_minutes) == ("field", 150)
    assert list(step.checkpoints.values_list("key", "min_value", "max_value", "unit", "critical")) == [
        ("pressure", 5.0, 8.0, "bar", True)
    ]

    # Change the first step, then move the second one up.
    response = manager.post(
        "/standards/sops/install/v1/steps/unpack-the-machine/",
        step_post(
            2,
            name="Unpack the machine",
            key="unpack",
            time="45m",
            is_milestone="on",
            milestone_name="Machine delivered",
            guidance="Check the **tilt indicator** first.",
        ),
    )
    assert response.status_code == 302
    assert (
        manager.post(
            "/standards/sops/install/v1/steps/commission/move/", {"revision": "3", "direction": "up"}
        ).status_code
        == 302
    )
    assert steps_of(v1) == ["commission", "unpack"]

    # The draft's reason and the SOP's name.
    response = manager.post(
        "/standards/sops/install/v1/details/",
        {
            "revision": "4",
            "name": "Machine installation",
            "description": "From delivery to handover.",
            "reason": "The first written procedure",
        },
    )
    assert response.status_code == 302
    page = manager.get("/standards/sops/install/v1/").content.decode()
    assert "Machine installation" in page and "The first written procedure" in page
    assert "<strong>tilt indicator</strong>" in page and "the customer sees “Machine delivered”" in page

    # Approve from today: version 1 is in effect; its steps can no longer change.
    response = manager.post("/standards/sops/install/v1/approve/", {"effective_from": today.isoformat()})
    assert response.status_code == 302
    v1.refresh_from_db()
    assert (v1.status, v1.effective_from, v1.approved_by) == ("approved", today, world.manager)
    page = manager.get("/standards/sops/install/v1/")
    assert page.context["state"] == "in_effect" and page.context["start_form"] is not None
    refused = manager.post("/standards/sops/install/v1/steps/unpack/delete/", {"revision": "5"})
    assert refused.status_code == 302
    assert "can no longer change" in manager.get(refused["Location"]).content.decode()
    details = manager.post(
        "/standards/sops/install/v1/details/", {"revision": "5", "name": "Renamed", "reason": "Too late"}
    )
    assert details.status_code == 302
    assert "is approved and can no longer change" in manager.get(details["Location"]).content.decode()
    assert Sop.objects.get(code="install").name == "Machine installation"
    assert steps_of(v1) == ["commission", "unpack"]

    # A new draft needs a reason; it copies version 1.
    missing = manager.post("/standards/sops/install/v1/new-draft/", {"reason": ""})
    assert missing.status_code == 422 and missing.context["start_form"].errors["reason"]
    response = manager.post("/standards/sops/install/v1/new-draft/", {"reason": "Handover added"})
    assert response.status_code == 302 and response["Location"] == "/standards/sops/install/v2/"
    v2 = SopVersion.objects.get(sop__code="install", number=2)
    assert steps_of(v2) == ["commission", "unpack"]
    assert manager.get("/standards/sops/install/v1/").context["start_form"] is None  # one draft at a time

    # Change it: delete a step, add one, widen a checkpoint's limits.
    assert (
        manager.post("/standards/sops/install/v2/steps/unpack/delete/", {"revision": "1"}).status_code == 302
    )
    manager.post(
        "/standards/sops/install/v2/steps/new/",
        step_post(2, name="Hand over", key="handover", place="end"),
    )
    manager.post(
        "/standards/sops/install/v2/steps/commission/",
        step_post(
            3,
            name="Commission",
            owner="field",
            time="2h 30m",
            initial=1,
            checkpoints=[
                {
                    "key": "pressure",
                    "label": "Pressure",
                    "kind": "number",
                    "mandatory": "on",
                    "critical": "on",
                    "min_value": "5",
                    "max_value": "9",
                    "unit": "bar",
                },
            ],
        ),
    )
    assert steps_of(v2) == ["commission", "handover"]
    tomorrow = today + timedelta(days=1)
    assert (
        manager.post(
            "/standards/sops/install/v2/approve/", {"effective_from": tomorrow.isoformat()}
        ).status_code
        == 302
    )

    # The list: version 1 in effect, version 2 approved for tomorrow.
    listing = manager.get(SOPS)
    row = listing.context["rows"][0]
    assert row["in_effect"].number == 1
    assert [(version.number, state) for version, state, _label in row["versions"]] == [
        (2, "scheduled"),
        (1, "in_effect"),
    ]
    assert "Approved, not yet in effect" in listing.content.decode()
    assert manager.get("/standards/sops/install/")["Location"] == "/standards/sops/install/v1/"

    # The comparison: one step added, one removed, one changed (its checkpoint's limits).
    diff = manager.get("/standards/sops/install/diff/?from=1&to=2")
    text = diff.content.decode()
    assert diff.status_code == 200
    assert [(row.key, row.change) for row in diff.context["diff"]] == [
        ("commission", "changed"),
        ("handover", "added"),
        ("unpack", "removed"),
    ]
    assert 'class="st-diff-added"' in text and 'class="st-diff-removed"' in text
    assert "Checkpoint changed: Pressure" in text
    assert "<del>5–8 bar</del> → <ins>5–9 bar</ins>" in text
    assert manager.get("/standards/sops/install/diff/").context["old"].number == 1  # the latest two


def test_unchanged_steps_are_one_line_in_the_comparison(
    client: Client, world: World, repair_draft: SopVersion
) -> None:
    steps = services.step_data_of(repair_draft)
    steps[3] = services.StepData(**{**steps[3].__dict__, "time_standard_minutes": 30})
    services.sop_draft_save(actor=world.manager, version=repair_draft, steps=steps, reason="Faster")
    response = signed_in(client, world.agent).get(f"{REPAIR}diff/?from=1&to=2")
    text = response.content.decode()
    assert text.count('class="st-diff-same"') == 3
    assert "<del>1 hour</del> → <ins>30 minutes</ins>" in text


# The draft editor's errors ----------------------------------------------------------------------------


def test_limits_below_each_other_are_shown_on_the_checkpoint_row(
    client: Client, world: World, repair_draft: SopVersion
) -> None:
    response = signed_in(client, world.manager).post(
        f"{REPAIR}v2/steps/repair/",
        step_post(
            1,
            name="Repair on site",
            owner="field",
            time="4h",
            parallel_group="work",
            initial=2,
            checkpoints=repair_rows(min_value="9", max_value="8"),
        ),
    )
    assert response.status_code == 422
    rows = response.context["formset"].forms
    assert "The highest passing value is below the lowest." in rows[0].errors["max_value"]
    assert not rows[1].errors
    assert "The highest passing value is below the lowest." in response.content.decode()
    assert (
        SopStep.objects.get(version=repair_draft, key="repair").checkpoints.get(key="pressure").max_value == 8
    )


@pytest.mark.parametrize(
    ("step", "changes", "row_changes", "field", "text"),
    [
        ("diagnose", {"owner": "back_office"}, None, "team", "names the team that receives the hand-off"),
        ("confirm", {"key": "diagnose"}, None, "key", "Another step has the key diagnose."),
        ("confirm", {"parallel_group": "Not a group"}, None, "parallel_group", "lower-case letters"),
        ("diagnose", {"time_standard_minutes": "soon"}, None, "time_standard_minutes", "Write business time"),
        ("repair", {}, {"kind": "text"}, "cp:min_value", "Only number checkpoints have limits."),
        (
            "repair",
            {},
            {"kind": "text", "min_value": "", "max_value": ""},
            "cp:critical",
            "only they can be critical",
        ),
        ("repair", {}, {"key": "Bad Key!"}, "cp:key", "lower-case letters"),
    ],
)
def test_a_bad_step_shows_the_error_beside_the_field(
    client: Client,
    world: World,
    repair_draft: SopVersion,
    step: str,
    changes: dict[str, str],
    row_changes: dict[str, str] | None,
    field: str,
    text: str,
) -> None:
    current = next(s for s in repair_steps() if s.key == step)
    data = step_post(
        1,
        name=current.name,
        owner=current.owner,
        time=str(current.time_standard_minutes),
        parallel_group=current.parallel_group,
        initial=2 if row_changes is not None else 0,
        checkpoints=repair_rows(**row_changes) if row_changes is not None else [],
    )
    data.update(changes)
    response = signed_in(client, world.manager).post(f"{REPAIR}v2/steps/{step}/", data)
    assert response.status_code == 422
    if field.startswith("cp:"):
        errors = response.context["formset"].forms[0].errors[field[3:]]
    else:
        errors = response.context["form"].errors[field]
    assert any(text in error for error in errors), errors
    repair_draft.refresh_from_db()
    assert repair_draft.revision == 1


def test_a_new_step_apart_from_its_parallel_group_is_refused_beside_the_group(
    client: Client, world: World, repair_draft: SopVersion
) -> None:
    manager = signed_in(client, world.manager)
    data = step_post(1, name="Clean up", owner="field", parallel_group="work", place="end")
    response = manager.post(f"{REPAIR}v2/steps/new/", data)
    assert response.status_code == 422
    assert any(
        "must follow one another" in error for error in response.context["form"].errors["parallel_group"]
    )
    placed = manager.post(f"{REPAIR}v2/steps/new/", {**data, "place": "after:repair"})
    assert placed.status_code == 302
    assert steps_of(repair_draft) == ["diagnose", "repair", "clean-up", "parts", "confirm"]
    page = manager.get(f"{REPAIR}v2/").content.decode()
    assert "side by side with Repair on site, Record parts used" in page


def test_a_new_sop_shows_first_step_errors_beside_its_fields(
    client: Client, world: World, calendars: Any
) -> None:
    response = signed_in(client, world.manager).post(
        f"{SOPS}new/",
        {
            "code": "escalate",
            "name": "Escalation",
            "reason": "First version",
            "step_name": "Hand to engineering",
            "step_owner": "back_office",
            "step_time_standard_minutes": "4h",
        },
    )
    assert response.status_code == 422
    assert any("hand-off" in error for error in response.context["form"].errors["step_team"])
    assert not Sop.objects.exists()
    taken = signed_in(client, world.manager).post(
        f"{SOPS}new/",
        {
            "code": "Bad Code",
            "name": "X",
            "reason": "r",
            "step_name": "S",
            "step_owner": "frontline",
            "step_time_standard_minutes": "1h",
        },
    )
    assert any("lower-case letters" in error for error in taken.context["form"].errors["code"])


def test_a_stale_draft_is_refused_with_a_reload_message(
    client: Client, world: World, repair_draft: SopVersion
) -> None:
    manager = signed_in(client, world.manager)
    form = manager.get(f"{REPAIR}v2/steps/confirm/").context["form"]
    assert form.initial["revision"] == 1 and form.initial["time_standard_minutes"] == "1h"
    services.sop_draft_save(
        actor=world.admin, version=repair_draft, steps=services.step_data_of(repair_draft), reason="Meanwhile"
    )
    response = manager.post(
        f"{REPAIR}v2/steps/confirm/",
        step_post(1, name="Confirm with the customer", time="30m"),
    )
    assert response.status_code == 409
    assert "Someone changed this draft since you loaded it. Reload the page" in response.content.decode()
    moved = manager.post(f"{REPAIR}v2/steps/confirm/move/", {"revision": "1", "direction": "up"}, follow=True)
    assert "Someone changed this draft" in moved.content.decode()
    details = manager.post(f"{REPAIR}v2/details/", {"revision": "1", "name": "X", "reason": "Y"})
    assert details.status_code == 409
    repair_draft.refresh_from_db()
    assert (repair_draft.revision, repair_draft.reason) == (2, "Meanwhile")
    assert steps_of(repair_draft)[-1] == "confirm"


def test_deleting_the_only_step_says_why_it_cannot(client: Client, world: World, calendars: Any) -> None:
    draft = services.sop_create(
        actor=world.manager, code="one", name="One step", steps=[repair_steps()[0]], reason="First"
    )
    response = signed_in(client, world.manager).post(
        "/standards/sops/one/v1/steps/diagnose/delete/", {"revision": "1"}, follow=True
    )
    assert "An SOP needs at least one step." in response.content.decode()
    assert steps_of(draft) == ["diagnose"]


def test_add_a_checkpoint_row_keeps_what_was_typed(
    client: Client, world: World, repair_draft: SopVersion
) -> None:
    data = step_post(
        1, name="Repair on site, renamed", owner="field", time="4h", initial=2, checkpoints=repair_rows()
    )
    data["add_row"] = "1"
    response = signed_in(client, world.manager).post(f"{REPAIR}v2/steps/repair/", data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.total_form_count() == 3
    assert response.context["form"].initial["name"] == "Repair on site, renamed"
    assert 'value="Repair on site, renamed"' in response.content.decode()
    data.update({"cp-TOTAL_FORMS": "3", "cp-2-kind": "", "cp-2-mandatory": "on"})  # with the empty row
    again = signed_in(client, world.manager).post(f"{REPAIR}v2/steps/repair/", data)
    assert again.context["formset"].total_form_count() == 4
    assert steps_of(repair_draft) == ["diagnose", "repair", "parts", "confirm"]  # nothing saved


def test_approval_errors_are_shown_beside_the_date(
    client: Client, world: World, repair_draft: SopVersion
) -> None:
    manager = signed_in(client, world.manager)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = manager.post(f"{REPAIR}v2/approve/", {"effective_from": yesterday})
    assert response.status_code == 422
    assert response.context["approve_form"].errors["effective_from"] == ["Today or later."]
    same_day = manager.post(f"{REPAIR}v2/approve/", {"effective_from": timezone.localdate().isoformat()})
    assert same_day.status_code == 422
    assert "After" in same_day.context["approve_form"].errors["effective_from"][0]
    repair_draft.refresh_from_db()
    assert repair_draft.status == "draft"


def test_discarding_a_draft_asks_first(client: Client, world: World, repair_draft: SopVersion) -> None:
    manager = signed_in(client, world.manager)
    confirm = manager.get(f"{REPAIR}v2/discard/")
    assert confirm.status_code == 200 and "This cannot be undone." in confirm.content.decode()
    assert SopVersion.objects.filter(pk=repair_draft.pk).exists()
    response = manager.post(f"{REPAIR}v2/discard/")
    assert response.status_code == 302 and response["Location"] == REPAIR
    assert not SopVersion.objects.filter(pk=repair_draft.pk).exists()
    assert manager.post(f"{REPAIR}v1/discard/").status_code == 302
    assert SopVersion.objects.filter(sop__code="repair", number=1).exists()


# The version page and the list ------------------------------------------------------------------------


def test_the_version_page_shows_the_flowchart_steps_and_checkpoints(
    client: Client, world: World, repair_v1: SopVersion
) -> None:
    response = signed_in(client, world.agent).get(f"{REPAIR}v1/")
    text = response.content.decode()
    assert response.status_code == 200
    assert '<figure class="card st-flowchart"' in text and "<svg" in text
    assert "<strong>alarm code</strong>" in text
    assert "side by side with Record parts used" in text
    assert "the customer sees “Fault diagnosed”" in text
    assert "5–8 bar" in text and "4 hours" in text
    assert "First version" in text and str(world.manager) in text
    assert (
        text.index("Diagnose the fault")
        < text.index("Repair on site")
        < text.index("Confirm with the customer")
    )


def test_the_version_page_costs_the_same_queries_for_a_longer_sop(
    client: Client, world: World, repair_draft: SopVersion, django_assert_num_queries: Any
) -> None:
    manager = signed_in(client, world.manager)
    manager.get(f"{REPAIR}v2/")  # warm the session
    # session, user, SOP, its versions, the version, its steps with teams, their checkpoints, unread badge
    with django_assert_num_queries(8):
        short = manager.get(f"{REPAIR}v2/")
    steps = services.step_data_of(repair_draft)
    more = [
        services.StepData(
            key=f"extra-{n}",
            name=f"Extra {n}",
            owner="back_office",
            team=world.back_office.pk,
            time_standard_minutes=30,
            checkpoints=[services.CheckpointData(key="ok", label="OK?", kind="yes_no")],
        )
        for n in range(6)
    ]
    services.sop_draft_save(actor=world.manager, version=repair_draft, steps=[*steps, *more], reason="Longer")
    with django_assert_num_queries(8):
        long = manager.get(f"{REPAIR}v2/")
    assert short.status_code == long.status_code == 200
    assert long.content.decode().count('class="card st-step"') == 10


def test_the_sop_list_costs_the_same_queries_for_many_sops(
    client: Client, world: World, repair_draft: SopVersion, django_assert_num_queries: Any
) -> None:
    agent = signed_in(client, world.agent)
    agent.get(SOPS)
    # session, user, SOPs, their versions with creators and approvers, unread badge
    with django_assert_num_queries(5):
        agent.get(SOPS)
    for number in range(5):
        draft = services.sop_create(
            actor=world.manager, code=f"sop-{number}", name=f"SOP {number}", steps=repair_steps(), reason="r"
        )
        services.sop_version_approve(actor=world.manager, version=draft, effective_from=timezone.localdate())
    with django_assert_num_queries(5):
        response = agent.get(SOPS)
    assert len(response.context["rows"]) == 6
    assert response.content.decode().count('badge-green">In effect<') == 6


# The handbook -----------------------------------------------------------------------------------------


def test_the_handbook_as_a_page_and_as_markdown(client: Client, world: World, calendars: Any) -> None:
    repair_service(world.manager, effective=timezone.localdate(), at=timezone.now())
    agent = signed_in(client, world.agent)
    form = agent.get("/standards/handbook/")
    assert form.status_code == 200 and form.context["form"].initial["day"] == timezone.localdate()
    day = timezone.localdate().isoformat()
    html = agent.get(f"/standards/handbook/?day={day}&format=html")
    assert html.status_code == 200 and html["Content-Type"] == "text/html; charset=utf-8"
    page = html.content.decode()
    assert "<html" in page and "Fault repair" in page and "<svg" in page
    markdown = agent.get(f"/standards/handbook/?day={day}&format=markdown")
    assert markdown.status_code == 200
    assert markdown["Content-Type"] == "text/markdown; charset=utf-8"
    assert markdown["Content-Disposition"] == f'attachment; filename="standards-handbook-{day}.md"'
    assert "Fault repair" in markdown.content.decode()
    bad = agent.get("/standards/handbook/?day=2026-02-30&format=pdf")
    assert bad.status_code == 422
    assert set(bad.context["form"].errors) == {"day", "format"}
