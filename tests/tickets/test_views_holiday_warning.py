"""Managers see on the queue (their home page) when a calendar's holiday data runs out; agents don't."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from pledge.standards import selectors as standards_selectors
from pledge.standards import services as standards_services
from tests.conftest import World


@pytest.fixture
def calendars(db: object) -> None:
    standards_services.ensure_builtin_calendars()


def test_manager_home_warns_about_next_years_missing_holiday_data(
    world: World, calendars: None, client: Client
) -> None:
    gaps = standards_selectors.holiday_data_gaps(date(2026, 11, 22))
    assert [(gap.set_code, gap.year) for gap in gaps] == [("cn-statutory", 2027)]  # within 60 days of 2027
    client.force_login(world.manager)
    page = client.get("/agent/").content.decode()
    # Today (from late 2026 on) needs 2027, which the built-in data lacks until it is imported.
    assert standards_selectors.holiday_data_gaps()
    assert "Holiday data is missing" in page
    assert "cn-office" in page
    client.force_login(world.agent)
    assert "Holiday data is missing" not in client.get("/agent/").content.decode()


def test_the_warning_goes_once_the_year_is_imported(world: World, calendars: None, client: Client) -> None:
    for year in (2026, 2027):
        standards_services.holiday_year_import(
            set_code="cn-statutory",
            document={"year": year, "holidays": [f"{year}-01-01"], "makeup_workdays": {}},
            actor=world.manager,
        )
    assert standards_selectors.holiday_data_gaps(date(2026, 11, 22)) == []
    client.force_login(world.manager)
    assert "Holiday data is missing" not in client.get("/agent/").content.decode()
