"""Calendar files: read and write YAML or JSON, and check a calendar document field by field.

The format (docs/calendars.md):

    code: cn-office
    name: 中国标准工作日历
    timezone: Asia/Shanghai
    weekly: {mon: ["09:00-12:00", "13:00-18:00"], …}   # a weekday not listed has no working time
    holiday_sets: [cn-statutory]
    holidays: ["2026-12-31", {date: "2026-10-08", name: "…", active: false}]
    makeup_workdays: {"2026-10-10": mon}
    team: … | contract: … | site: …                    # optional owner, at most one

An absent field is empty. A syntax error names its line; a document error names the field
(`weekly.tue[1]: "25:00-26:00" is not a time range …`). Both raise ValidationFailed.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pledge.core.errors import ValidationFailed
from pledge.lib.businesstime import (
    FIRST_YEAR,
    LAST_YEAR,
    DayHours,
    Interval,
    format_intervals,
    parse_interval,
)
from pledge.standards.choices import WEEKDAY_KEYS, HolidaySetCode
from pledge.standards.models import CODE_MAX, NAME_MAX, SITE_MAX, TIMEZONE_MAX, known_timezones

Format = Literal["yaml", "json"]
FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "timezone",
    "weekly",
    "holiday_sets",
    "holidays",
    "makeup_workdays",
    "team",
    "contract",
    "site",
)
CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_INTERVALS_PER_DAY = 48
MAX_DATES = 5000
# Enough to show what is wrong; a file with hundreds of errors is the wrong file.
MAX_PROBLEMS = 20
# How many of them the one-line message spells out (the `fields` of the error hold them all).
SHOWN_PROBLEMS = 3
OWNER_MAX = 200


@dataclass(frozen=True)
class HolidayEntry:
    day: date
    name: str = ""
    active: bool = True


@dataclass(frozen=True)
class CalendarDocument:
    """A checked calendar document: weekly hours parsed, dates as dates, weekdays as 0-6."""

    code: str
    name: str
    timezone: str
    weekly: Mapping[int, DayHours] = field(default_factory=dict)
    holiday_sets: tuple[str, ...] = ()
    holidays: tuple[HolidayEntry, ...] = ()
    makeup_workdays: Mapping[date, int] = field(default_factory=dict)
    team: str = ""
    contract: str = ""
    site: str = ""

    def weekly_data(self) -> dict[str, list[str]]:
        """The weekly hours as stored and written: {"mon": ["09:00-12:00", …]}, working days only."""
        return {
            WEEKDAY_KEYS[day]: [format_intervals((interval,)) for interval in hours]
            for day, hours in sorted(self.weekly.items())
            if hours
        }

    def to_data(self) -> dict[str, Any]:
        """The document in the file format, fields in the documented order, owner only when set."""
        return document_data(
            code=self.code,
            name=self.name,
            timezone=self.timezone,
            weekly=self.weekly_data(),
            holiday_sets=list(self.holiday_sets),
            holidays=list(self.holidays),
            makeup_workdays=dict(self.makeup_workdays),
            team=self.team,
            contract=self.contract,
            site=self.site,
        )


def document_data(
    *,
    code: str,
    name: str,
    timezone: str,
    weekly: Mapping[str, list[str]],
    holiday_sets: list[str],
    holidays: list[HolidayEntry],
    makeup_workdays: Mapping[date, int],
    team: str = "",
    contract: str = "",
    site: str = "",
) -> dict[str, Any]:
    """Assemble the file format; shared by documents and by the export of stored calendars."""
    data: dict[str, Any] = {
        "code": code,
        "name": name,
        "timezone": timezone,
        "weekly": {key: list(weekly[key]) for key in WEEKDAY_KEYS if weekly.get(key)},
        "holiday_sets": list(holiday_sets),
        "holidays": [_holiday_data(entry) for entry in sorted(holidays, key=lambda entry: entry.day)],
        "makeup_workdays": {
            day.isoformat(): WEEKDAY_KEYS[weekday] for day, weekday in sorted(makeup_workdays.items())
        },
    }
    for key, value in (("team", team), ("contract", contract), ("site", site)):
        if value:
            data[key] = value
    return data


def _holiday_data(entry: HolidayEntry) -> str | dict[str, Any]:
    if not entry.name and entry.active:
        return entry.day.isoformat()
    data: dict[str, Any] = {"date": entry.day.isoformat()}
    if entry.name:
        data["name"] = entry.name
    if not entry.active:
        data["active"] = False
    return data


# ---------------------------------------------------------------------------------------------------
# Checking a document


class _Problems:
    """Collects "field: problem" pairs so that one refusal names every field at fault (up to a limit)."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def add(self, path: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.setdefault(path, message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = list(self.items.items())[:SHOWN_PROBLEMS]
        text = "; ".join(f"{path}: {message}" for path, message in shown)
        more = len(self.items) - len(shown)
        if more:
            text += " " + ngettext("(and %(count)d more problem)", "(and %(count)d more problems)", more) % {
                "count": more
            }
        raise ValidationFailed(text, fields=self.items)


def _shown(value: object) -> str:
    """A value as the file shows it, for messages."""
    if isinstance(value, str | int | float | bool) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return type(value).__name__


def _clean_text(value: object) -> str | None:
    """Text both databases can store, stripped; None when it is not text."""
    if not isinstance(value, str) or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value.strip()


def _text(
    problems: _Problems, data: Mapping[str, object], key: str, *, max_length: int, required: bool
) -> str:
    if key not in data or data[key] is None:
        if required:
            problems.add(key, _("required"))
        return ""
    value = _clean_text(data[key])
    if value is None:
        problems.add(key, _("expected text, got %(value)s") % {"value": _shown(data[key])})
        return ""
    if required and not value:
        problems.add(key, _("required"))
    elif len(value) > max_length:
        problems.add(key, _("at most %(count)d characters") % {"count": max_length})
    return value


def parse_day(value: object) -> date | None:
    """A YYYY-MM-DD date between the first and last year business time supports, or None."""
    if not isinstance(value, str) or not DATE_RE.fullmatch(value.strip()):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _bad_day(value: object) -> str:
    return _("%(value)s is not a date YYYY-MM-DD between %(first)d and %(last)d") % {
        "value": _shown(value),
        "first": FIRST_YEAR,
        "last": LAST_YEAR,
    }


def parse_weekday(value: object) -> int | None:
    """mon … sun (any case) or 0-6 (Monday = 0) → 0-6, else None."""
    if isinstance(value, str) and value.strip().lower() in WEEKDAY_KEYS:
        return WEEKDAY_KEYS.index(value.strip().lower())
    if type(value) is int and 0 <= value <= 6:
        return value
    return None


def _bad_weekday(value: object) -> str:
    return _("%(value)s is not a weekday (mon, tue, wed, thu, fri, sat, sun)") % {"value": _shown(value)}


def parse_day_hours(problems: _Problems, path: str, value: object) -> DayHours:
    """A weekday's intervals: a list of "HH:MM-HH:MM" (or one such text, or nothing). Intervals of one
    day may touch but not overlap; one that crosses midnight runs into the next day."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[tuple[str, object]] = [
            (path, part.strip()) for part in re.split(r"[,;，；]", value) if part.strip()
        ]
    elif isinstance(value, list):
        items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    else:
        problems.add(path, _('expected a list of times such as ["09:00-12:00", "13:00-18:00"]'))
        return ()
    if len(items) > MAX_INTERVALS_PER_DAY:
        problems.add(path, _("at most %(count)d intervals a day") % {"count": MAX_INTERVALS_PER_DAY})
        return ()
    parsed: list[tuple[Interval, str, str]] = []
    for where, item in items:
        try:
            if not isinstance(item, str):
                raise ValueError
            interval = parse_interval(item)
        except ValueError:
            problems.add(
                where,
                _("%(value)s is not a time range (HH:MM-HH:MM, e.g. 09:00-12:00; 00:00-24:00 a whole day)")
                % {"value": _shown(item)},
            )
            continue
        parsed.append((interval, where, str(item).strip()))
    # An end at or before the start runs past midnight: compare the intervals as spans of the day.
    spans = sorted(
        ((start, end if end > start else end + 1440), where, text) for (start, end), where, text in parsed
    )
    for (previous, _where, previous_text), (current, where, text) in itertools.pairwise(spans):
        if current[0] < previous[1]:
            problems.add(
                where,
                _("%(value)s overlaps %(other)s") % {"value": _shown(text), "other": _shown(previous_text)},
            )
    return tuple(sorted(interval for interval, _where, _text in parsed))


def parse_calendar(data: object) -> CalendarDocument:
    """Check a whole calendar document (parsed YAML/JSON) and return it parsed.

    Raises ValidationFailed naming every field at fault (up to MAX_PROBLEMS); its message is the first
    one as "field: problem". Team and contract names are checked by the service, which reads the
    database.
    """
    if not isinstance(data, Mapping):
        problem = _("expected a mapping with code, name, timezone, weekly …")
        raise ValidationFailed(f"document: {problem}", fields={"document": problem})
    problems = _Problems()
    code = _text(problems, data, "code", max_length=CODE_MAX, required=True)
    if code and len(code) <= CODE_MAX and not CODE_RE.fullmatch(code):
        problems.add(
            "code",
            _("use lower-case letters, digits, - and _ (e.g. cn-office), not %(value)s")
            % {"value": _shown(code)},
        )
    name = _text(problems, data, "name", max_length=NAME_MAX, required=True)
    timezone = _text(problems, data, "timezone", max_length=TIMEZONE_MAX, required=True)
    if timezone and timezone not in known_timezones():
        problems.add(
            "timezone",
            _("%(value)s is not an IANA time zone such as Asia/Shanghai") % {"value": _shown(timezone)},
        )

    weekly: dict[int, DayHours] = {}
    raw_weekly = data.get("weekly")
    if isinstance(raw_weekly, Mapping):
        for key, hours in raw_weekly.items():
            weekday = parse_weekday(key) if isinstance(key, str) else None
            if weekday is None:
                problems.add(f"weekly.{key}", _bad_weekday(key))
                continue
            if weekday in weekly:
                problems.add(f"weekly.{key}", _("this weekday is listed twice"))
                continue
            weekly[weekday] = parse_day_hours(problems, f"weekly.{key}", hours)
    elif raw_weekly is not None:
        problems.add("weekly", _('expected a mapping such as {mon: ["09:00-12:00"]}'))

    holiday_sets: list[str] = []
    raw_sets = data.get("holiday_sets")
    if isinstance(raw_sets, list):
        for index, item in enumerate(raw_sets):
            if not isinstance(item, str) or item not in HolidaySetCode.values:
                problems.add(
                    f"holiday_sets[{index}]",
                    _("%(value)s is not a known holiday set (known: %(sets)s)")
                    % {"value": _shown(item), "sets": ", ".join(HolidaySetCode.values)},
                )
            elif item not in holiday_sets:
                holiday_sets.append(item)
    elif raw_sets is not None:
        problems.add("holiday_sets", _("expected a list such as [cn-statutory]"))

    holidays = _parse_holidays(problems, data.get("holidays"))
    makeups = _parse_makeups(problems, data.get("makeup_workdays"))
    for entry in holidays:
        if entry.active and entry.day in makeups:
            problems.add(
                f"makeup_workdays.{entry.day.isoformat()}",
                _("%(day)s is also listed as a holiday") % {"day": entry.day.isoformat()},
            )

    owners = {
        key: _text(problems, data, key, max_length=OWNER_MAX if key != "site" else SITE_MAX, required=False)
        for key in ("team", "contract", "site")
    }
    given = [key for key, value in owners.items() if value]
    if len(given) > 1:
        problems.add(given[1], _("a calendar belongs to a team, a contract or a site, not to several"))
    for key in data:
        if key not in FIELDS:
            problems.add(
                str(key),
                _("unknown field (the fields are: %(fields)s)") % {"fields": ", ".join(FIELDS)},
            )
    problems.raise_if_any()
    return CalendarDocument(
        code=code,
        name=name,
        timezone=timezone,
        weekly=weekly,
        holiday_sets=tuple(holiday_sets),
        holidays=tuple(holidays),
        makeup_workdays=makeups,
        team=owners["team"],
        contract=owners["contract"],
        site=owners["site"],
    )


def _parse_holidays(problems: _Problems, value: object) -> list[HolidayEntry]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add("holidays", _('expected a list of dates such as ["2026-12-31"]'))
        return []
    if len(value) > MAX_DATES:
        problems.add("holidays", _("at most %(count)d dates") % {"count": MAX_DATES})
        return []
    entries: list[HolidayEntry] = []
    seen: set[date] = set()
    for index, item in enumerate(value):
        where = f"holidays[{index}]"
        entry = _parse_holiday(problems, where, item)
        if entry is None:
            continue
        if entry.day in seen:
            problems.add(where, _("%(day)s is listed twice") % {"day": entry.day.isoformat()})
            continue
        seen.add(entry.day)
        entries.append(entry)
    return entries


def _parse_holiday(problems: _Problems, where: str, item: object) -> HolidayEntry | None:
    if not isinstance(item, Mapping):
        day = parse_day(item)
        if day is None:
            problems.add(where, _bad_day(item))
            return None
        return HolidayEntry(day)
    unknown = [str(key) for key in item if key not in {"date", "name", "active"}]
    if unknown:
        problems.add(f"{where}.{unknown[0]}", _("unknown field (the fields are: date, name, active)"))
        return None
    day = parse_day(item.get("date"))
    if day is None:
        problems.add(f"{where}.date", _bad_day(item.get("date")))
        return None
    name = _clean_text(item.get("name", ""))
    if name is None or len(name) > NAME_MAX:
        problems.add(
            f"{where}.name", _("expected text of at most %(count)d characters") % {"count": NAME_MAX}
        )
        return None
    active = item.get("active", True)
    if not isinstance(active, bool):
        problems.add(
            f"{where}.active", _("expected true or false, got %(value)s") % {"value": _shown(active)}
        )
        return None
    return HolidayEntry(day, name, active)


def _parse_makeups(problems: _Problems, value: object) -> dict[date, int]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add("makeup_workdays", _('expected a mapping such as {"2026-10-10": mon}'))
        return {}
    if len(value) > MAX_DATES:
        problems.add("makeup_workdays", _("at most %(count)d dates") % {"count": MAX_DATES})
        return {}
    makeups: dict[date, int] = {}
    for key, weekday_value in value.items():
        where = f"makeup_workdays.{key}"
        day = parse_day(key)
        if day is None:
            problems.add(where, _bad_day(key))
            continue
        if day in makeups:
            problems.add(where, _("%(day)s is listed twice") % {"day": day.isoformat()})
            continue
        weekday = parse_weekday(weekday_value)
        if weekday is None:
            problems.add(where, _bad_weekday(weekday_value))
            continue
        makeups[day] = weekday
    return makeups


# ---------------------------------------------------------------------------------------------------
# Reading and writing files


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text (`2026-10-10` stays a string), so documents read the same
    from YAML and from JSON."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def guess_format(name: str, text: str) -> Format:
    """By extension (.json, .yaml, .yml); otherwise JSON when the text starts with `{`, else YAML."""
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in {".yaml", ".yml"}:
        return "yaml"
    return "json" if text.lstrip().startswith("{") else "yaml"


def loads(text: str, *, fmt: Format) -> object:
    """Parse YAML or JSON text. Raises ValidationFailed naming the line (and column) at fault."""
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise _syntax_error(error.lineno, error.colno, error.msg) from None
        except RecursionError:
            raise _syntax_error(None, None, _("nested too deeply")) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or str(error)
        if error.problem and error.context and error.context_mark is not None:
            # Where the parser noticed, and what it was reading: "… (while parsing a flow sequence
            # that starts on line 5)".
            problem = _("%(problem)s (%(context)s that starts on line %(line)d)") % {
                "problem": error.problem,
                "context": error.context,
                "line": error.context_mark.line + 1,
            }
        if mark is None:
            raise _syntax_error(None, None, problem) from None
        raise _syntax_error(mark.line + 1, mark.column + 1, problem) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise _syntax_error(None, None, " ".join(str(error).split())) from None


def _syntax_error(line: int | None, column: int | None, problem: str) -> ValidationFailed:
    if line is None:
        where = "document"
        message = _("not valid YAML or JSON: %(problem)s") % {"problem": problem}
    else:
        where = f"line {line}"
        message = _("line %(line)d, column %(column)d: %(problem)s") % {
            "line": line,
            "column": column or 1,
            "problem": problem,
        }
    return ValidationFailed(message, fields={where: problem})


def read(path: str | Path) -> object:
    """Read a YAML or JSON file (UTF-8, a byte-order mark allowed).

    Raises ValidationFailed for text that is not UTF-8 or does not parse (naming the line), and
    OSError when the file cannot be read.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            _("not UTF-8 text (byte %(offset)d)") % {"offset": error.start + 1},
            fields={"document": _("not UTF-8 text")},
        ) from None
    return loads(text, fmt=guess_format(str(path), text))


def dumps(data: Mapping[str, Any], *, fmt: Format, header: str = "") -> str:
    """Write a document as YAML (short lists inline, Chinese as is) or JSON (indented); `header` becomes
    a YAML comment."""
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    body = yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False, default_flow_style=None, width=100)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + body
