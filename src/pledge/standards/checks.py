"""System checks of business calendars: `pledge check` warns when a calendar's holiday data runs out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Warning
from django.db import DatabaseError, connection
from django.utils import timezone

WARNING_ID = "standards.W001"


def holiday_data_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """One warning per calendar and year without holiday data: the current year, or the next one from 60
    days before it starts. Silent when the database is not reachable or not migrated yet (`pledge
    migrate` runs the checks before it creates the tables)."""
    if app_configs is not None and not any(config.label == "standards" for config in app_configs):
        return []
    from pledge.standards import selectors
    from pledge.standards.models import BusinessCalendar, HolidaySetYear

    try:
        tables = set(connection.introspection.table_names())
        if not {BusinessCalendar._meta.db_table, HolidaySetYear._meta.db_table} <= tables:
            return []
        missing = selectors.calendars_missing_holiday_data(timezone.localdate())
    except DatabaseError:
        return []
    return [Warning(item.message, id=WARNING_ID) for item in missing]
