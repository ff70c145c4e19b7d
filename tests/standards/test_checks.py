"""`pledge check` warns about calendars whose holiday data runs out, and stops once it is imported."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.utils import timezone

from pledge.standards import selectors, services
from pledge.standards.checks import WARNING_ID, holiday_data_check
from tests.conftest import World


def _schedule(year: int) -> dict[str, Any]:
    return {"year": year, "holidays": [f"{year}-01-01"], "makeup_workdays": []}


def _warnings() -> list[str]:
    return [message.msg for message in checks.run_checks() if message.id == WARNING_ID]


def test_no_calendars_no_warning(db: Any) -> None:
    assert holiday_data_check() == []


def test_a_warning_per_calendar_and_year_without_data_until_imported(world: World) -> None:
    services.ensure_builtin_calendars()
    today = timezone.localdate()
    covered = selectors.holiday_coverage()["cn-statutory"]
    lacking = [year for year in selectors.years_needing_data(today) if year not in covered]
    # The check is registered with Django, so `pledge check` runs it.
    assert _warnings() == [
        f"{code} uses cn-statutory, which has no data for {year}: "
        "import the official schedule (pledge holidays import FILE)"
        for code in ("cn-office", "night-shift")
        for year in lacking
    ]
    assert all(isinstance(message, checks.Warning) for message in holiday_data_check())
    for year in lacking:
        services.holiday_year_import(set_code="cn-statutory", document=_schedule(year), actor=world.admin)
    assert _warnings() == []
    assert holiday_data_check() == []


def test_the_check_keeps_to_its_app(world: World) -> None:
    services.ensure_builtin_calendars()
    from django.apps import apps

    assert holiday_data_check(app_configs=[apps.get_app_config("tickets")]) == []
