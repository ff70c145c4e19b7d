"""Calendar documents and instants the standards tests share."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE_HOURS = ["09:00-12:00", "13:00-18:00"]

# The example of the issue, with every weekday filled in.
OFFICE: dict[str, Any] = {
    "code": "cn-office",
    "name": "中国标准工作日历",
    "timezone": "Asia/Shanghai",
    "weekly": {day: list(OFFICE_HOURS) for day in ("mon", "tue", "wed", "thu", "fri")},
    "holiday_sets": ["cn-statutory"],
    "holidays": ["2026-12-31"],
    "makeup_workdays": {"2026-10-10": "mon"},
}

OFFICE_YAML = """\
code: cn-office
name: 中国标准工作日历
timezone: Asia/Shanghai
weekly:                      # mon tue wed thu fri sat sun; "HH:MM-HH:MM", "00:00-24:00" for a whole day
  mon: ["09:00-12:00", "13:00-18:00"]
  tue: ["09:00-12:00", "13:00-18:00"]
  wed: ["09:00-12:00", "13:00-18:00"]
  thu: ["09:00-12:00", "13:00-18:00"]
  fri: ["09:00-12:00", "13:00-18:00"]
holiday_sets: [cn-statutory] # built-in sets
holidays: ["2026-12-31"]     # extra dates off
makeup_workdays: {"2026-10-10": mon}  # date: weekday whose hours apply
"""

# A 2027 schedule in the simple shape (made up for the tests: the real one is not published yet).
SCHEDULE_2027: dict[str, Any] = {
    "year": 2027,
    "holidays": ["2027-01-01", "2027-02-06/2027-02-14"],
    "makeup_workdays": {"2027-02-20": "春节(周六)"},
}


def office(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(OFFICE)
    data.update(changes)
    return data


def local(*args: int) -> datetime:
    """A wall-clock instant in Shanghai: local(2026, 2, 13, 17)."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]
