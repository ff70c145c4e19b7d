"""Every write to business calendars and holiday data: import (create or replace), the editor's changes
to holidays and make-up days, official holiday schedules for new years, the built-in calendars, and SLA
policies with their escalation levels.

Each function is one transaction. A change to an existing calendar locks its row (`SELECT … FOR
UPDATE`; SQLite serialises writers with BEGIN IMMEDIATE), bumps `version` and records the whole
calendar as a CalendarVersion. Authorisation is the caller's job (policies.py).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pledge.accounts.choices import STAFF_ROLES
from pledge.accounts.models import Team, User
from pledge.core.errors import Conflict, NotFound, ValidationFailed
from pledge.customers.choices import Tier
from pledge.customers.models import Contract
from pledge.lib import holidays_cn
from pledge.standards import selectors
from pledge.standards.calendar_files import CalendarDocument, parse_calendar, parse_day, parse_weekday
from pledge.standards.choices import EscalationRecipient, HolidaySetCode, SlaTarget
from pledge.standards.models import (
    CODE_MAX,
    NAME_MAX,
    BusinessCalendar,
    CalendarHoliday,
    CalendarMakeupDay,
    CalendarVersion,
    EscalationLevel,
    HolidaySetYear,
    SlaPolicy,
    default_pause_statuses,
)
from pledge.tickets.choices import OPEN_STATUSES, Channel, Kind, Priority

REASON_MAX = 500
SOURCE_MAX = 500


@dataclass(frozen=True)
class CalendarImport:
    """What an import did: created the calendar, replaced it (a new version), or found it unchanged."""

    calendar: BusinessCalendar
    created: bool
    changed: bool


def _reason(reason: str) -> str:
    return " ".join(reason.replace("\x00", "").split())[:REASON_MAX]


def _owners(document: CalendarDocument) -> tuple[Team | None, Contract | None]:
    team = contract = None
    if document.team:
        team = Team.objects.filter(name=document.team).first()
        if team is None:
            problem = _("there is no team named %(name)s") % {"name": document.team}
            raise ValidationFailed(f"team: {problem}", fields={"team": problem})
    if document.contract:
        contract = Contract.objects.filter(number=document.contract).first()
        if contract is None:
            problem = _("there is no contract numbered %(number)s") % {"number": document.contract}
            raise ValidationFailed(f"contract: {problem}", fields={"contract": problem})
    return team, contract


def _record_version(calendar: BusinessCalendar, *, actor: User | None, reason: str) -> CalendarVersion:
    """Store the calendar as it now is under its current version number, and recount the running SLA
    clocks on it (every calendar change passes here)."""
    version = CalendarVersion.objects.create(
        calendar=calendar,
        version=calendar.version,
        snapshot=selectors.calendar_document(calendar),
        reason=_reason(reason),
        created_by=actor,
    )
    _recompute_calendars([calendar.pk], actor=actor, reason=version.reason)
    return version


def _recompute_calendars(calendar_ids: list[int], *, actor: User | None, reason: str) -> None:
    """Recount the running SLA clocks on these calendars (same transaction)."""
    # Imported here: the tickets app imports this one.
    from pledge.tickets.clocks import recompute_for_calendars

    recompute_for_calendars(calendar_ids=calendar_ids, actor=actor, reason=_reason(reason))


def _bump(calendar: BusinessCalendar, *, actor: User | None, reason: str) -> BusinessCalendar:
    calendar.version += 1
    calendar.save(update_fields=["version", "updated_at"])
    _record_version(calendar, actor=actor, reason=reason)
    return calendar


def _write_days(calendar: BusinessCalendar, document: CalendarDocument) -> None:
    calendar.holidays.all().delete()
    calendar.makeup_days.all().delete()
    CalendarHoliday.objects.bulk_create(
        CalendarHoliday(calendar=calendar, date=entry.day, name=entry.name, is_active=entry.active)
        for entry in document.holidays
    )
    CalendarMakeupDay.objects.bulk_create(
        CalendarMakeupDay(calendar=calendar, date=day, weekday=weekday)
        for day, weekday in sorted(document.makeup_workdays.items())
    )


def _lock(calendar: BusinessCalendar) -> BusinessCalendar:
    locked = (
        BusinessCalendar.objects.select_for_update(of=("self",))
        .select_related("team", "contract")
        .filter(pk=calendar.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("The calendar was deleted."))
    return locked


@transaction.atomic
def calendar_import(*, data: Mapping[str, object], actor: User | None, reason: str = "") -> CalendarImport:
    """Create a calendar from a document in the file format, or replace the one with its code.

    The whole document is checked first (calendar_files.parse_calendar, then team and contract names);
    on any error ValidationFailed names the field and nothing is written. Replacing locks the calendar,
    bumps its version and records it; a document equal to the current calendar changes nothing (no new
    version). Raises Conflict when another import created the same code at the same moment.
    """
    document = parse_calendar(data)
    team, contract = _owners(document)
    fields = {
        "name": document.name,
        "timezone": document.timezone,
        "weekly": document.weekly_data(),
        "holiday_sets": list(document.holiday_sets),
        "team": team,
        "contract": contract,
        "site": document.site,
    }
    calendar = (
        BusinessCalendar.objects.select_for_update(of=("self",))
        .select_related("team", "contract")
        .filter(code=document.code)
        .first()
    )
    if calendar is None:
        try:
            with transaction.atomic():
                calendar = BusinessCalendar.objects.create(code=document.code, version=1, **fields)
        except IntegrityError:
            raise Conflict(
                _("Calendar %(code)s was created at the same moment; import again to replace it.")
                % {"code": document.code}
            ) from None
        _write_days(calendar, document)
        _record_version(calendar, actor=actor, reason=reason or _("Created"))
        return CalendarImport(calendar, created=True, changed=True)
    if selectors.calendar_document(calendar) == document.to_data():
        return CalendarImport(calendar, created=False, changed=False)
    for name, value in fields.items():
        setattr(calendar, name, value)
    calendar.version += 1
    calendar.save()
    _write_days(calendar, document)
    _record_version(calendar, actor=actor, reason=reason or _("Replaced by an import"))
    return CalendarImport(calendar, created=False, changed=True)


def calendar_update_settings(
    *,
    calendar: BusinessCalendar,
    name: str,
    timezone_name: str,
    weekly: Mapping[str, str | Sequence[str]],
    holiday_sets: Sequence[str],
    actor: User | None,
    reason: str = "",
) -> CalendarImport:
    """Change a calendar's name, time zone, weekly hours ({"mon": "09:00-12:00, 13:00-18:00", …}; blank
    or missing = no working time) and holiday sets, keeping its holidays, make-up days and owner.

    The calendar in the file format with those fields replaced goes through calendar_import, which
    checks it (ValidationFailed naming `weekly.tue` …, nothing written), locks the calendar and records
    a version; no change records nothing.
    """
    document = selectors.calendar_document(_lock(calendar))
    document.update(
        name=name,
        timezone=timezone_name,
        weekly={key: value for key, value in weekly.items() if value},
        holiday_sets=list(holiday_sets),
    )
    return calendar_import(data=document, actor=actor, reason=reason or _("Settings changed"))


def calendar_export(code: str) -> dict[str, object]:
    """The calendar with this code in the file format (the inverse of calendar_import). Raises NotFound."""
    return selectors.calendar_document(selectors.calendar_get_by_code(code))


def _day(value: date | str, field: str) -> date:
    day = value if isinstance(value, date) else parse_day(value)
    if day is None:
        raise ValidationFailed(
            _("%(field)s: not a date YYYY-MM-DD") % {"field": field}, fields={field: _("Not a date.")}
        )
    return day


@transaction.atomic
def calendar_set_holiday(
    *,
    calendar: BusinessCalendar,
    day: date | str,
    name: str = "",
    is_active: bool = True,
    actor: User | None,
    reason: str = "",
) -> CalendarHoliday:
    """Add a holiday to the calendar or change one (its name, or whether it is active: an inactive
    holiday is kept but the day is a normal day, also when the calendar's holiday set has it off).

    Raises ValidationFailed for a bad date or name, or an active holiday on one of the calendar's own
    make-up days. Locks the calendar, bumps its version and records it.
    """
    day = _day(day, "date")
    name = (name or "").replace("\x00", "").strip()
    if len(name) > NAME_MAX:
        raise ValidationFailed(
            _("The name is too long (at most %(n)d characters).") % {"n": NAME_MAX},
            fields={"name": _("At most %(n)d characters.") % {"n": NAME_MAX}},
        )
    calendar = _lock(calendar)
    if is_active and calendar.makeup_days.filter(date=day).exists():
        raise ValidationFailed(
            _("%(day)s is a make-up workday of this calendar; remove that first.") % {"day": day.isoformat()},
            fields={"date": _("A make-up workday.")},
        )
    holiday, _created = CalendarHoliday.objects.update_or_create(
        calendar=calendar, date=day, defaults={"name": name, "is_active": is_active}
    )
    _bump(calendar, actor=actor, reason=reason or _("Holiday %(day)s set") % {"day": day.isoformat()})
    return holiday


@transaction.atomic
def calendar_remove_holiday(
    *, calendar: BusinessCalendar, day: date | str, actor: User | None, reason: str = ""
) -> None:
    """Remove one of the calendar's own holidays. Raises NotFound when it has none on that day."""
    day = _day(day, "date")
    calendar = _lock(calendar)
    deleted, _rows = CalendarHoliday.objects.filter(calendar=calendar, date=day).delete()
    if not deleted:
        raise NotFound(
            _("%(day)s is not a holiday of this calendar.") % {"day": day.isoformat()},
            fields={"date": _("Not a holiday of this calendar.")},
        )
    _bump(calendar, actor=actor, reason=reason or _("Holiday %(day)s removed") % {"day": day.isoformat()})


@transaction.atomic
def calendar_set_makeup_day(
    *, calendar: BusinessCalendar, day: date | str, weekday: int | str, actor: User | None, reason: str = ""
) -> CalendarMakeupDay:
    """Make a date work with the hours of `weekday` (0-6 or mon … sun), or change which weekday.

    Raises ValidationFailed for a bad date or weekday, or a date that is an active holiday of the
    calendar. Locks the calendar, bumps its version and records it.
    """
    day = _day(day, "date")
    parsed = parse_weekday(weekday)
    if parsed is None:
        raise ValidationFailed(
            _("%(value)s is not a weekday (mon … sun or 0-6).") % {"value": weekday},
            fields={"weekday": _("Not a weekday.")},
        )
    calendar = _lock(calendar)
    if calendar.holidays.filter(date=day, is_active=True).exists():
        raise ValidationFailed(
            _("%(day)s is a holiday of this calendar; remove it or make it inactive first.")
            % {"day": day.isoformat()},
            fields={"date": _("A holiday.")},
        )
    makeup, _created = CalendarMakeupDay.objects.update_or_create(
        calendar=calendar, date=day, defaults={"weekday": parsed}
    )
    _bump(calendar, actor=actor, reason=reason or _("Make-up workday %(day)s set") % {"day": day.isoformat()})
    return makeup


@transaction.atomic
def calendar_remove_makeup_day(
    *, calendar: BusinessCalendar, day: date | str, actor: User | None, reason: str = ""
) -> None:
    """Remove one of the calendar's own make-up workdays. Raises NotFound when it has none that day."""
    day = _day(day, "date")
    calendar = _lock(calendar)
    deleted, _rows = CalendarMakeupDay.objects.filter(calendar=calendar, date=day).delete()
    if not deleted:
        raise NotFound(
            _("%(day)s is not a make-up workday of this calendar.") % {"day": day.isoformat()},
            fields={"date": _("Not a make-up workday of this calendar.")},
        )
    _bump(
        calendar,
        actor=actor,
        reason=reason or _("Make-up workday %(day)s removed") % {"day": day.isoformat()},
    )


@transaction.atomic
def calendar_record_edit(
    *, calendar: BusinessCalendar, actor: User | None, created: bool = False, reason: str = ""
) -> CalendarVersion:
    """Record a change made outside these functions (the admin saves rows itself): store the calendar
    as it now is, as version 1 when it was just `created`, else under a bumped version."""
    calendar = _lock(calendar)
    if created:
        return _record_version(calendar, actor=actor, reason=reason or _("Created in the admin"))
    _bump(calendar, actor=actor, reason=reason or _("Edited in the admin"))
    return calendar.versions.get(version=calendar.version)


# ---------------------------------------------------------------------------------------------------
# Holiday data for new years


@transaction.atomic
def holiday_year_import(
    *, set_code: str, document: object, actor: User | None, source: str = "", notes: str = ""
) -> tuple[HolidaySetYear, bool]:
    """Store one year's official schedule for a holiday set, replacing an earlier import of that year.

    `document` is the parsed file, in the simple shape ({"year", "holidays", "makeup_workdays"}) or the
    notice shape of the State Council schedule (see holidays_cn.parse_schedule). Make-up days work
    Monday's hours unless the file names a weekday. Raises ValidationFailed naming the field at fault
    (nothing is written). Returns the row and whether the year is new.
    """
    if set_code not in HolidaySetCode.values:
        raise ValidationFailed(
            _("%(value)s is not a known holiday set (known: %(sets)s).")
            % {"value": set_code, "sets": ", ".join(HolidaySetCode.values)},
            fields={"set": _("Unknown holiday set.")},
        )
    try:
        schedule = holidays_cn.parse_schedule(document)
    except holidays_cn.ScheduleError as error:
        message = str(error)
        field = message.split(":", 1)[0] if ":" in message else "document"
        raise ValidationFailed(message, fields={field: message}) from None
    (year,) = schedule.covered_years
    row, created = HolidaySetYear.objects.update_or_create(
        set_code=set_code,
        year=year,
        defaults={
            "holidays": sorted(day.isoformat() for day in schedule.holidays),
            "makeup_workdays": {
                day.isoformat(): weekday for day, weekday in sorted(schedule.makeup_workdays.items())
            },
            "source": _reason(source)[:SOURCE_MAX],
            "notes": notes.replace("\x00", ""),
            "imported_by": actor,
            "imported_at": timezone.now(),
        },
    )
    # The calendars that use this holiday set count on the new data from now on.
    calendar_ids = [
        pk
        for pk, sets in BusinessCalendar.objects.values_list("pk", "holiday_sets")
        if set_code in (sets or [])
    ]
    _recompute_calendars(
        calendar_ids, actor=actor, reason=_("Holiday data for %(year)d imported") % {"year": year}
    )
    return row, created


# ---------------------------------------------------------------------------------------------------
# Built-in calendars

_OFFICE_HOURS = ["09:00-12:00", "13:00-18:00"]
BUILTIN_CALENDARS: tuple[dict[str, object], ...] = (
    {
        "code": "cn-office",
        "name": "中国标准工作日历",
        "timezone": "Asia/Shanghai",
        "weekly": {key: list(_OFFICE_HOURS) for key in ("mon", "tue", "wed", "thu", "fri")},
        "holiday_sets": [HolidaySetCode.CN_STATUTORY.value],
    },
    {
        "code": "24x7",
        "name": "全天候 7×24",
        "timezone": "Asia/Shanghai",
        "weekly": {key: ["00:00-24:00"] for key in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    },
    {
        "code": "night-shift",
        "name": "夜班 22:00–06:00",
        "timezone": "Asia/Shanghai",
        "weekly": {key: ["22:00-06:00"] for key in ("mon", "tue", "wed", "thu", "fri")},
        "holiday_sets": [HolidaySetCode.CN_STATUTORY.value],
    },
)


@transaction.atomic
def ensure_builtin_calendars(*, actor: User | None = None) -> list[BusinessCalendar]:
    """Create the calendars the demo and new installations start with, if their codes are free:
    cn-office (Mon–Fri 09:00–12:00 and 13:00–18:00 with the Chinese statutory holidays), 24x7 and
    night-shift (Mon–Fri 22:00–06:00 with the statutory holidays). Existing calendars with these codes
    are left as they are, edits included. Returns the three calendars."""
    calendars = []
    for data in BUILTIN_CALENDARS:
        existing = BusinessCalendar.objects.filter(code=data["code"]).first()
        if existing is None:
            existing = calendar_import(data=data, actor=actor, reason=_("Built-in calendar")).calendar
        calendars.append(existing)
    return calendars


# ---------------------------------------------------------------------------------------------------
# SLA policies
#
# A policy's content (conditions, targets, calendar, pause statuses, escalation levels) is checked as a
# whole before anything is written; ValidationFailed names every field at fault. Every change recomputes
# the clocks of the tickets the policy governs, in the same transaction (tickets/clocks.py).

MAX_TARGET_MINUTES = 525_600  # a year of minutes: far beyond any service promise
DESCRIPTION_MAX = 2000
MAX_ESCALATION_LEVELS = 20
MIN_PERCENT, MAX_PERCENT = 1, 1000
TARGET_FIELDS: dict[str, str] = {target: f"{target}_minutes" for target in SlaTarget.values}
CONDITION_CHOICES: dict[str, tuple[str, ...]] = {
    "tiers": tuple(Tier.values),
    "kinds": tuple(Kind.values),
    "priorities": tuple(Priority.values),
    "channels": tuple(Channel.values),
}
PAUSABLE_STATUSES: tuple[str, ...] = tuple(str(status) for status in OPEN_STATUSES)


class _Keep(enum.Enum):
    """The default of sla_policy_update's arguments: leave the field as it is."""

    KEEP = "keep"


KEEP = _Keep.KEEP


@dataclass(frozen=True)
class EscalationLevelData:
    """One escalation level as a form row or an API body gives it. Teams and users by instance or id."""

    target: str
    percent: int
    notify: Sequence[str] = ()
    raise_priority: bool = False
    reassign_team: Team | int | None = None
    add_watcher: User | int | None = None


class _PolicyProblems:
    """Field → problem, raised together so that a form shows every mistake at once."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def raise_if_any(self) -> None:
        if not self.fields:
            return
        shown = list(self.fields.items())[:3]
        text = "; ".join(f"{field}: {message}" for field, message in shown)
        more = len(self.fields) - len(shown)
        if more:
            text += " " + ngettext("(and %(count)d more problem)", "(and %(count)d more problems)", more) % {
                "count": more
            }
        raise ValidationFailed(text, fields=self.fields)


def _choice_list(problems: _PolicyProblems, field: str, values: object, known: Sequence[str]) -> list[str]:
    """Known values in the order of their choices, duplicates dropped; unknown ones are a problem."""
    if isinstance(values, str) or not isinstance(values, Sequence | set | frozenset):
        problems.add(field, _("Expected a list of values."))
        return []
    given = [str(value) for value in values]
    unknown = [value for value in given if value not in known]
    if unknown:
        problems.add(
            field,
            _("Unknown value %(value)s; choose from %(known)s.")
            % {"value": unknown[0][:50], "known": ", ".join(known)},
        )
    return [value for value in known if value in given]


def _minutes(problems: _PolicyProblems, field: str, value: object) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= MAX_TARGET_MINUTES:
        problems.add(
            field,
            _("Enter whole business minutes from 1 to %(max)d (a year), or leave it empty.")
            % {"max": MAX_TARGET_MINUTES},
        )
        return None
    return value


def _policy_calendar(problems: _PolicyProblems, value: BusinessCalendar | str) -> BusinessCalendar | None:
    if isinstance(value, BusinessCalendar):
        calendar = BusinessCalendar.objects.filter(pk=value.pk).first()
    else:
        calendar = BusinessCalendar.objects.filter(code=str(value).strip()).first()
    if calendar is None:
        problems.add("calendar", _("There is no calendar %(code)s.") % {"code": str(value)[:CODE_MAX]})
        return None
    if not any(selectors.weekly_hours(calendar.weekly).values()):
        problems.add(
            "calendar",
            _("Calendar %(code)s has no working hours: no target could ever be met.")
            % {"code": calendar.code},
        )
    return calendar


def _policy_contract(problems: _PolicyProblems, value: Contract | str | None) -> Contract | None:
    if value is None or value == "":
        return None
    if isinstance(value, Contract):
        contract = Contract.objects.filter(pk=value.pk).first()
    else:
        contract = Contract.objects.filter(number=str(value).strip()).first()
    if contract is None:
        problems.add("contract", _("There is no contract numbered %(number)s.") % {"number": str(value)[:60]})
    return contract


def _clean_policy(values: Mapping[str, Any]) -> dict[str, Any]:
    """The policy's model fields from the caller's values; raises ValidationFailed naming each field."""
    problems = _PolicyProblems()
    name = " ".join(str(values["name"] or "").replace("\x00", "").split())
    if not name:
        problems.add("name", _("Give the policy a name."))
    elif len(name) > NAME_MAX:
        problems.add("name", _("At most %(n)d characters.") % {"n": NAME_MAX})
    description = str(values["description"] or "").replace("\x00", "").strip()
    if len(description) > DESCRIPTION_MAX:
        problems.add("description", _("At most %(n)d characters.") % {"n": DESCRIPTION_MAX})
    cleaned: dict[str, Any] = {
        "name": name,
        "description": description,
        "is_active": bool(values["is_active"]),
        "contract": _policy_contract(problems, values["contract"]),
        "calendar": _policy_calendar(problems, values["calendar"]),
    }
    for field, known in CONDITION_CHOICES.items():
        cleaned[field] = _choice_list(problems, field, values[field], known)
    for field in TARGET_FIELDS.values():
        cleaned[field] = _minutes(problems, field, values[field])
    if all(values[field] is None for field in TARGET_FIELDS.values()):
        problems.add(
            TARGET_FIELDS[SlaTarget.FIRST_RESPONSE],
            _("Promise at least one target (first response, next response, resolution or on-site)."),
        )
    statuses = values["pause_statuses"]
    if isinstance(statuses, Sequence) and not isinstance(statuses, str):
        closed = [str(status) for status in statuses if str(status) not in PAUSABLE_STATUSES]
        if closed:
            problems.add(
                "pause_statuses",
                _("%(value)s cannot pause the clock: only open statuses can (%(known)s).")
                % {"value": closed[0][:50], "known": ", ".join(PAUSABLE_STATUSES)},
            )
    cleaned["pause_statuses"] = _choice_list(problems, "pause_statuses", statuses, PAUSABLE_STATUSES)
    problems.raise_if_any()
    return cleaned


def _level_rows(
    levels: Sequence[EscalationLevelData], promised: set[str], *, field: str = "escalation_levels"
) -> list[EscalationLevel]:
    """Unsaved EscalationLevel rows for `levels`; raises ValidationFailed naming `field[i].attribute`."""
    problems = _PolicyProblems()
    if len(levels) > MAX_ESCALATION_LEVELS:
        problems.add(field, _("At most %(n)d escalation levels.") % {"n": MAX_ESCALATION_LEVELS})
        problems.raise_if_any()
    team_ids = {
        level.reassign_team.pk if isinstance(level.reassign_team, Team) else level.reassign_team
        for level in levels
        if level.reassign_team is not None
    }
    user_ids = {
        level.add_watcher.pk if isinstance(level.add_watcher, User) else level.add_watcher
        for level in levels
        if level.add_watcher is not None
    }
    teams = {team.pk: team for team in Team.objects.filter(pk__in=team_ids, is_active=True)}
    watchers = {
        user.pk: user for user in User.objects.filter(pk__in=user_ids, is_active=True, role__in=STAFF_ROLES)
    }
    rows: list[EscalationLevel] = []
    seen: set[tuple[str, int]] = set()
    for index, level in enumerate(levels):
        where = f"{field}[{index}]"
        target = str(level.target)
        if target not in SlaTarget.values:
            problems.add(
                f"{where}.target",
                _("Unknown target %(value)s; choose from %(known)s.")
                % {"value": target[:50], "known": ", ".join(SlaTarget.values)},
            )
        elif target not in promised:
            problems.add(
                f"{where}.target",
                _("The policy promises no %(target)s target.") % {"target": SlaTarget(target).label},
            )
        percent = level.percent
        if type(percent) is not int or not MIN_PERCENT <= percent <= MAX_PERCENT:
            problems.add(
                f"{where}.percent",
                _("Enter a percentage of the target from %(min)d to %(max)d.")
                % {"min": MIN_PERCENT, "max": MAX_PERCENT},
            )
        elif (target, percent) in seen:
            problems.add(
                f"{where}.percent",
                _("Another level of this target is at %(percent)d%% already.") % {"percent": percent},
            )
        else:
            seen.add((target, percent))
        notify = [str(value) for value in level.notify]
        unknown = [value for value in notify if value not in EscalationRecipient.values]
        if unknown:
            problems.add(
                f"{where}.notify",
                _("Unknown recipient %(value)s; choose from %(known)s.")
                % {"value": unknown[0][:50], "known": ", ".join(EscalationRecipient.values)},
            )
        team = None
        if level.reassign_team is not None:
            team_id = level.reassign_team.pk if isinstance(level.reassign_team, Team) else level.reassign_team
            team = teams.get(team_id)
            if team is None:
                problems.add(f"{where}.reassign_team", _("There is no active team with this id."))
        watcher = None
        if level.add_watcher is not None:
            user_id = level.add_watcher.pk if isinstance(level.add_watcher, User) else level.add_watcher
            watcher = watchers.get(user_id)
            if watcher is None:
                problems.add(f"{where}.add_watcher", _("There is no active staff member with this id."))
        if not (
            notify or level.raise_priority or level.reassign_team is not None or level.add_watcher is not None
        ):
            problems.add(
                f"{where}.notify",
                _(
                    "A level must do something: notify someone, raise the priority, hand the ticket to a "
                    "team or add a watcher."
                ),
            )
        rows.append(
            EscalationLevel(
                target=target,
                percent=percent if type(percent) is int else 0,
                notify=[value for value in EscalationRecipient.values if value in notify],
                raise_priority=bool(level.raise_priority),
                reassign_team=team,
                add_watcher=watcher,
            )
        )
    problems.raise_if_any()
    return rows


def _promised(cleaned: Mapping[str, Any]) -> set[str]:
    return {target for target, field in TARGET_FIELDS.items() if cleaned[field] is not None}


def _recompute(policy_ids: list[int], *, actor: User | None, reason: str) -> None:
    """Bring the clocks of the tickets these policies govern in line with them (same transaction)."""
    # Imported here: the tickets app imports this one.
    from pledge.tickets.clocks import recompute_for_policies

    recompute_for_policies(policy_ids=policy_ids, actor=actor, at=timezone.now(), reason=_reason(reason))


def _lock_policy(policy: SlaPolicy) -> SlaPolicy:
    locked = SlaPolicy.objects.select_for_update(of=("self",)).filter(pk=policy.pk).first()
    if locked is None:
        raise NotFound(_("The SLA policy was deleted."))
    return locked


def _save_levels(policy: SlaPolicy, rows: list[EscalationLevel]) -> None:
    policy.escalation_levels.all().delete()
    for row in rows:
        row.policy = policy
    EscalationLevel.objects.bulk_create(rows)


@transaction.atomic
def sla_policy_create(
    *,
    actor: User | None,
    name: str,
    calendar: BusinessCalendar | str,
    description: str = "",
    contract: Contract | str | None = None,
    tiers: Sequence[str] = (),
    kinds: Sequence[str] = (),
    priorities: Sequence[str] = (),
    channels: Sequence[str] = (),
    first_response_minutes: int | None = None,
    next_response_minutes: int | None = None,
    resolution_minutes: int | None = None,
    on_site_minutes: int | None = None,
    pause_statuses: Sequence[str] | None = None,
    is_active: bool = True,
    escalation_levels: Sequence[EscalationLevelData] = (),
    reason: str = "",
) -> SlaPolicy:
    """Create a policy, last in the order. `calendar` is a calendar or its code, `contract` a contract or
    its number; `pause_statuses` defaults to waiting on customer and waiting on parts.

    Raises ValidationFailed naming every field at fault (escalation levels as
    `escalation_levels[i].percent` …). Locks the policy rows to number the new one.
    """
    cleaned = _clean_policy(
        {
            "name": name,
            "description": description,
            "is_active": is_active,
            "contract": contract,
            "calendar": calendar,
            "tiers": tiers,
            "kinds": kinds,
            "priorities": priorities,
            "channels": channels,
            "first_response_minutes": first_response_minutes,
            "next_response_minutes": next_response_minutes,
            "resolution_minutes": resolution_minutes,
            "on_site_minutes": on_site_minutes,
            "pause_statuses": default_pause_statuses() if pause_statuses is None else pause_statuses,
        }
    )
    rows = _level_rows(escalation_levels, _promised(cleaned))
    positions = list(SlaPolicy.objects.select_for_update().order_by().values_list("position", flat=True))
    policy = SlaPolicy.objects.create(position=max(positions, default=-1) + 1, version=1, **cleaned)
    _save_levels(policy, rows)
    _recompute(
        [policy.pk], actor=actor, reason=reason or _("SLA policy %(name)s created") % {"name": policy.name}
    )
    return policy


@transaction.atomic
def sla_policy_update(
    *,
    policy: SlaPolicy,
    actor: User | None,
    expected_version: int | None = None,
    name: str | _Keep = KEEP,
    calendar: BusinessCalendar | str | _Keep = KEEP,
    description: str | _Keep = KEEP,
    contract: Contract | str | _Keep | None = KEEP,
    tiers: Sequence[str] | _Keep = KEEP,
    kinds: Sequence[str] | _Keep = KEEP,
    priorities: Sequence[str] | _Keep = KEEP,
    channels: Sequence[str] | _Keep = KEEP,
    first_response_minutes: int | _Keep | None = KEEP,
    next_response_minutes: int | _Keep | None = KEEP,
    resolution_minutes: int | _Keep | None = KEEP,
    on_site_minutes: int | _Keep | None = KEEP,
    pause_statuses: Sequence[str] | _Keep = KEEP,
    is_active: bool | _Keep = KEEP,
    escalation_levels: Sequence[EscalationLevelData] | _Keep = KEEP,
    reason: str = "",
) -> SlaPolicy:
    """Change a policy: every argument left out keeps its value. The result is checked as a whole, as on
    create; removing a target that escalation levels use is refused unless the levels are replaced too.

    Locks the policy; raises Conflict when `expected_version` is given and differs (someone else saved
    first), NotFound when it was deleted. Bumps `version` and recomputes the clocks it governs.
    """
    policy = _lock_policy(policy)
    if expected_version is not None and expected_version != policy.version:
        raise Conflict(
            _(
                "Someone changed this policy since you loaded it (version %(theirs)d, yours %(yours)d). "
                "Reload it and make your change again."
            )
            % {"theirs": policy.version, "yours": expected_version},
            fields={"version": _("Stale version.")},
        )
    given: dict[str, object] = {
        "name": name,
        "calendar": calendar,
        "description": description,
        "contract": contract,
        "tiers": tiers,
        "kinds": kinds,
        "priorities": priorities,
        "channels": channels,
        "first_response_minutes": first_response_minutes,
        "next_response_minutes": next_response_minutes,
        "resolution_minutes": resolution_minutes,
        "on_site_minutes": on_site_minutes,
        "pause_statuses": pause_statuses,
        "is_active": is_active,
    }
    current: dict[str, object] = {field: getattr(policy, field) for field in given}
    current["calendar"] = policy.calendar
    current["contract"] = policy.contract
    values = {field: current[field] if value is KEEP else value for field, value in given.items()}
    cleaned = _clean_policy(values)
    promised = _promised(cleaned)
    if isinstance(escalation_levels, _Keep):
        rows = None
        in_use = sorted(
            set(policy.escalation_levels.values_list("target", flat=True)) - promised,
            key=list(SlaTarget.values).index,
        )
        if in_use:
            raise ValidationFailed(
                _("Escalation levels use the %(target)s target: remove them before the target.")
                % {"target": SlaTarget(in_use[0]).label},
                fields={
                    TARGET_FIELDS[target]: _("Escalation levels use this target; remove them first.")
                    for target in in_use
                },
            )
    else:
        rows = _level_rows(escalation_levels, promised)
    for field, value in cleaned.items():
        setattr(policy, field, value)
    policy.version += 1
    policy.save()
    if rows is not None:
        _save_levels(policy, rows)
    _recompute(
        [policy.pk], actor=actor, reason=reason or _("SLA policy %(name)s changed") % {"name": policy.name}
    )
    return policy


@transaction.atomic
def escalation_levels_set(
    *, policy: SlaPolicy, levels: Sequence[EscalationLevelData], actor: User | None, reason: str = ""
) -> list[EscalationLevel]:
    """Replace the policy's escalation levels. Each level must name a target the policy promises, a
    percentage 1–1000 unique per target, and at least one action. Raises ValidationFailed naming
    `levels[i].field`. Locks the policy, bumps its version and recomputes the clocks it governs."""
    policy = _lock_policy(policy)
    promised = {target for target, field in TARGET_FIELDS.items() if getattr(policy, field) is not None}
    rows = _level_rows(levels, promised, field="levels")
    _save_levels(policy, rows)
    policy.version += 1
    policy.save(update_fields=["version", "updated_at"])
    _recompute(
        [policy.pk],
        actor=actor,
        reason=reason or _("Escalation levels of %(name)s changed") % {"name": policy.name},
    )
    return rows


@transaction.atomic
def sla_policy_set_active(
    *, policy: SlaPolicy, is_active: bool, actor: User | None, reason: str = ""
) -> SlaPolicy:
    """Switch a policy on or off (an inactive policy matches no ticket). Activating checks that its
    calendar still has working hours (ValidationFailed on `calendar`). Nothing happens when it is
    already so; otherwise bumps the version and recomputes the clocks it governs."""
    policy = _lock_policy(policy)
    if policy.is_active == is_active:
        return policy
    if is_active:
        problems = _PolicyProblems()
        _policy_calendar(problems, policy.calendar)
        problems.raise_if_any()
    policy.is_active = is_active
    policy.version += 1
    policy.save(update_fields=["is_active", "version", "updated_at"])
    if is_active:
        default = _("SLA policy %(name)s activated") % {"name": policy.name}
    else:
        default = _("SLA policy %(name)s deactivated") % {"name": policy.name}
    _recompute([policy.pk], actor=actor, reason=reason or default)
    return policy


@transaction.atomic
def sla_policy_move(
    *,
    policy: SlaPolicy,
    actor: User | None,
    direction: str | None = None,
    position: int | None = None,
    reason: str = "",
) -> list[SlaPolicy]:
    """Move a policy one place `up` or `down`, or to `position` (1 = first), and number all policies
    1…n again (stored 0…n-1). Give exactly one of `direction` and `position`; ValidationFailed names a
    bad one. Locks every policy row. Recomputes the clocks of the policies whose relative order changed
    (none when nothing moved). Returns the policies in their new order."""
    if (direction is None) == (position is None):
        raise ValidationFailed(
            _("Say where to move the policy: up, down or a position."),
            fields={"direction": _("Give a direction or a position.")},
        )
    ordered = list(SlaPolicy.objects.select_for_update().order_by("position", "id"))
    index = next((i for i, row in enumerate(ordered) if row.pk == policy.pk), None)
    if index is None:
        raise NotFound(_("The SLA policy was deleted."))
    if direction is not None:
        if direction not in ("up", "down"):
            raise ValidationFailed(
                _("Move up or down, not %(value)s.") % {"value": str(direction)[:20]},
                fields={"direction": _("Up or down.")},
            )
        target = index - 1 if direction == "up" else index + 1
        target = min(max(target, 0), len(ordered) - 1)
    else:
        if type(position) is not int or not 1 <= position <= len(ordered):
            raise ValidationFailed(
                _("The position must lie between 1 and %(n)d.") % {"n": len(ordered)},
                fields={"position": _("From 1 to %(n)d.") % {"n": len(ordered)}},
            )
        target = position - 1
    moving = ordered.pop(index)
    ordered.insert(target, moving)
    renumbered = [row for number, row in enumerate(ordered) if row.position != number]
    for number, row in enumerate(ordered):
        row.position = number
    if renumbered:
        SlaPolicy.objects.bulk_update(renumbered, ["position"])
    if target != index:
        passed = ordered[min(index, target) : max(index, target) + 1]
        _recompute(
            [row.pk for row in passed],
            actor=actor,
            reason=reason or _("SLA policy %(name)s moved") % {"name": moving.name},
        )
    return ordered
