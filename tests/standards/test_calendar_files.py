"""Calendar files: YAML and JSON read the same, a syntax error names its line, a document error its field."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pledge.core.errors import ValidationFailed
from pledge.standards import calendar_files
from pledge.standards.calendar_files import HolidayEntry, parse_calendar
from tests.standards.helpers import OFFICE, OFFICE_YAML, office


def test_the_issue_example_reads_as_yaml_and_means_what_it_says() -> None:
    document = parse_calendar(calendar_files.loads(OFFICE_YAML, fmt="yaml"))
    assert document.code == "cn-office"
    assert document.name == "中国标准工作日历"
    assert document.timezone == "Asia/Shanghai"
    assert document.weekly[0] == ((540, 720), (780, 1080))
    assert 5 not in document.weekly and 6 not in document.weekly  # not listed: no working time
    assert document.holiday_sets == ("cn-statutory",)
    assert document.holidays == (HolidayEntry(date(2026, 12, 31)),)
    assert document.makeup_workdays == {date(2026, 10, 10): 0}
    assert document.to_data() == OFFICE


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_written_files_read_back_to_the_same_document(fmt: calendar_files.Format) -> None:
    data = office(
        holidays=["2026-12-31", {"date": "2026-10-07", "name": "国庆节", "active": False}],
        makeup_workdays={"2026-10-10": "mon", "2026-09-20": "fri"},
        site="苏州工厂",
    )
    text = calendar_files.dumps(data, fmt=fmt, header="exported for a test")
    assert calendar_files.guess_format(f"x.{fmt}", text) == fmt
    again = parse_calendar(calendar_files.loads(text, fmt=fmt))
    assert again.to_data() == parse_calendar(data).to_data()
    assert "中国标准工作日历" in text  # Chinese is written as is, not escaped


def test_absent_fields_are_empty() -> None:
    document = parse_calendar({"code": "bare", "name": "Bare", "timezone": "UTC"})
    assert document.to_data() == {
        "code": "bare",
        "name": "Bare",
        "timezone": "UTC",
        "weekly": {},
        "holiday_sets": [],
        "holidays": [],
        "makeup_workdays": {},
    }


def test_unquoted_yaml_dates_stay_dates_as_text() -> None:
    text = "code: a\nname: A\ntimezone: UTC\nholidays: [2026-12-31]\nmakeup_workdays:\n  2026-10-10: sat\n"
    document = parse_calendar(calendar_files.loads(text, fmt="yaml"))
    assert document.holidays == (HolidayEntry(date(2026, 12, 31)),)
    assert document.makeup_workdays == {date(2026, 10, 10): 5}


def test_whole_days_night_shifts_and_a_list_in_one_text_are_read() -> None:
    document = parse_calendar(
        {
            "code": "mixed",
            "name": "Mixed",
            "timezone": "Europe/Berlin",
            "weekly": {"sat": ["00:00-24:00"], "Mon": "22:00-06:00", "tue": "08:00-12:00, 13:00-17:00"},
        }
    )
    assert document.weekly == {5: ((0, 1440),), 0: ((1320, 360),), 1: ((480, 720), (780, 1020))}
    assert document.weekly_data() == {
        "mon": ["22:00-06:00"],
        "tue": ["08:00-12:00", "13:00-17:00"],
        "sat": ["00:00-24:00"],
    }


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"weekly": {"tue": ["09:00-12:00", "25:00-26:00"]}},
            "weekly.tue[1]",
            '"25:00-26:00" is not a time range',
        ),
        ({"weekly": {"tue": ["9-12"]}}, "weekly.tue[0]", "is not a time range"),
        ({"weekly": {"tue": [900]}}, "weekly.tue[0]", "900 is not a time range"),
        ({"weekly": {"funday": []}}, "weekly.funday", "is not a weekday"),
        ({"weekly": ["mon"]}, "weekly", "expected a mapping"),
        ({"weekly": {"mon": ["09:00-12:00", "11:00-13:00"]}}, "weekly.mon[1]", "overlaps"),
        ({"weekly": {"mon": ["22:00-06:00", "23:00-23:30"]}}, "weekly.mon[1]", "overlaps"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not an IANA time zone"),
        ({"timezone": 8}, "timezone", "expected text"),
        ({"code": "CN Office"}, "code", "lower-case letters"),
        ({"code": ""}, "code", "required"),
        ({"name": "  "}, "name", "required"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"holiday_sets": ["us-federal"]}, "holiday_sets[0]", "not a known holiday set"),
        ({"holiday_sets": "cn-statutory"}, "holiday_sets", "expected a list"),
        ({"holidays": ["2026-02-30"]}, "holidays[0]", "is not a date"),
        ({"holidays": ["2026-12-31", "2026-12-31"]}, "holidays[1]", "listed twice"),
        ({"holidays": [{"date": "2026-10-08", "active": "no"}]}, "holidays[0].active", "true or false"),
        ({"holidays": [{"day": "2026-10-08"}]}, "holidays[0].day", "unknown field"),
        ({"holidays": ["1900-01-01"]}, "holidays[0]", "between 1970 and 2100"),
        ({"makeup_workdays": {"2026-10-10": "funday"}}, "makeup_workdays.2026-10-10", "not a weekday"),
        ({"makeup_workdays": {"10/10/2026": "mon"}}, "makeup_workdays.10/10/2026", "is not a date"),
        (
            {"makeup_workdays": {"2026-12-31": "mon"}},
            "makeup_workdays.2026-12-31",
            "also listed as a holiday",
        ),
        ({"team": "Frontline", "site": "Suzhou"}, "site", "not to several"),
        ({"holiday_set": ["cn-statutory"]}, "holiday_set", "unknown field"),
    ],
)
def test_a_bad_document_names_the_field_at_fault(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_calendar(office(**change))
    assert field in caught.value.fields, caught.value.fields
    assert words in caught.value.fields[field]
    assert caught.value.message.startswith(f"{field}: ")


def test_every_field_at_fault_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_calendar(office(timezone="Nowhere", weekly={"tue": ["25:00-26:00"]}, holidays=["x"]))
    assert set(caught.value.fields) == {"timezone", "weekly.tue[0]", "holidays[0]"}
    assert 'weekly.tue[0]: "25:00-26:00" is not a time range' in caught.value.message


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="document: expected a mapping"):
        parse_calendar(["code", "name"])


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("bad.yaml", 'code: x\nname: y\nweekly:\n  mon: ["09:00-12:00"\n  tue: []\n', 5),
        ("bad.yaml", "code: x\n  name: y\n", 2),
        ("bad.yml", "code: x\nname: y\n\tweekly: {}\n", 3),
        ("bad.json", '{"code": "x",\n "name": "y",,\n}', 2),
        ("bad.txt", '{"code": "x",\n\n "name": }', 3),
    ],
)
def test_a_syntax_error_names_its_line(tmp_path: Path, name: str, text: str, line: int) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        calendar_files.read(path)
    assert caught.value.message.startswith(f"line {line}, column "), caught.value.message
    assert f"line {line}" in caught.value.fields


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("name: 中国".encode("gbk"))
    with pytest.raises(ValidationFailed, match="not UTF-8"):
        calendar_files.read(path)


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"code": "a", "name": "A", "timezone": "UTC"}')
    assert parse_calendar(calendar_files.read(path)).code == "a"


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        ("a.json", "code: x", "json"),
        ("a.YAML", "{}", "yaml"),
        ("a.yml", "{}", "yaml"),
        ("calendar", '  {"code": "x"}', "json"),
        ("calendar", "code: x", "yaml"),
    ],
)
def test_the_format_comes_from_the_extension_or_the_content(name: str, text: str, fmt: str) -> None:
    assert calendar_files.guess_format(name, text) == fmt
