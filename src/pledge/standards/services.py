"""Every write to business calendars and holiday data: import (create or replace), the editor's changes
to holidays and make-up days, official holiday schedules for new years, the built-in calendars, and SLA
policies with their escalation levels.

Each function is one transaction. A change to an existing calendar locks its row (`SELECT … FOR
UPDATE`; SQLite serialises writers with BEGIN IMMEDIATE), bumps `version` and records the whole
calendar as a CalendarVersion. Authorisation is the caller's job (policies.py).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pledge.accounts import policies as account_policies
from pledge.accounts.choices import STAFF_ROLES
from pledge.accounts.models import Team, User
from pledge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pledge.customers.choices import Tier
from pledge.customers.models import Contract
from pledge.lib import holidays_cn
from pledge.standards import selectors
from pledge.standards.calendar_files import CalendarDocument, parse_calendar, parse_day, parse_weekday
from pledge.standards.choices import (
    STEP_TARGETS,
    CheckpointKind,
    ClockTarget,
    EscalationRecipient,
    HolidaySetCode,
    ServiceCategory,
    SlaTarget,
    SopVersionStatus,
    StepOwner,
)
from pledge.standards.models import (
    CODE_MAX,
    NAME_MAX,
    BusinessCalendar,
    CalendarHoliday,
    CalendarMakeupDay,
    CalendarVersion,
    Checkpoint,
    EscalationLevel,
    HolidaySetYear,
    ServiceType,
    SlaPolicy,
    Sop,
    SopStep,
    SopVersion,
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
    from pledge.tickets.clocks import forget_cached_policies, recompute_for_calendars

    forget_cached_policies()  # the cached policies hold their calendars
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
    service_codes = tuple(ServiceType.objects.order_by("position", "id").values_list("code", flat=True))
    cleaned["service_types"] = _choice_list(problems, "service_types", values["service_types"], service_codes)
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
        if target not in ClockTarget.values:
            problems.add(
                f"{where}.target",
                _("Unknown target %(value)s; choose from %(known)s.")
                % {"value": target[:50], "known": ", ".join(ClockTarget.values)},
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
    """The targets escalation levels may use: those the policy promises, and every SOP step (a level on
    `sop_step` fires at a percentage of each step's own time standard)."""
    return {target for target, field in TARGET_FIELDS.items() if cleaned[field] is not None} | set(
        STEP_TARGETS
    )


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
    service_types: Sequence[str] = (),
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
            "service_types": service_types,
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
    service_types: Sequence[str] | _Keep = KEEP,
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
        "service_types": service_types,
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
    promised = _promised({field: getattr(policy, field) for field in TARGET_FIELDS.values()})
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


# ---------------------------------------------------------------------------------------------------
# The service catalogue
#
# Service types say how their tickets start (kind, priority), which SOP they follow and which SLA targets
# they set themselves. Changing a service type's targets re-applies them to the open tickets of that type.

SKILL_MAX = 50
MAX_SKILLS = 20


@dataclass(frozen=True)
class _ServiceTypeValues:
    code: str
    name: str
    description: str
    category: str
    default_kind: str
    default_priority: str
    skills: Sequence[str]
    sop: Sop | str | None
    calendar: BusinessCalendar | str
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    on_site_minutes: int | None
    customer_selectable: bool
    is_active: bool


def _clean_service_type(values: _ServiceTypeValues, *, instance: ServiceType | None) -> dict[str, Any]:
    problems = _PolicyProblems()
    code = _slug(problems, "code", values.code)
    if ServiceType.objects.filter(code=code).exclude(pk=instance.pk if instance else 0).exists():
        problems.add("code", _("Another service type has the code %(code)s.") % {"code": code})
    name = _line(
        problems, "name", values.name, max_length=NAME_MAX, missing=_("Give the service type a name.")
    )
    description = str(values.description or "").replace("\x00", "").strip()
    if len(description) > DESCRIPTION_MAX:
        problems.add("description", _("At most %(n)d characters.") % {"n": DESCRIPTION_MAX})
    for field, value, known in (
        ("category", values.category, ServiceCategory.values),
        ("default_kind", values.default_kind, Kind.values),
        ("default_priority", values.default_priority, Priority.values),
    ):
        _known(problems, field, value, known)
    skills: list[str] = []
    if isinstance(values.skills, str) or not isinstance(values.skills, Sequence):
        problems.add("skills", _("Expected a list of values."))
    else:
        for raw in values.skills:
            skill = _one_line(str(raw))
            if skill and skill not in skills:
                skills.append(skill)
        if len(skills) > MAX_SKILLS or any(len(skill) > SKILL_MAX for skill in skills):
            problems.add(
                "skills",
                _("At most %(n)d skills of at most %(max)d characters each.")
                % {"n": MAX_SKILLS, "max": SKILL_MAX},
            )
    sop: Sop | None = None
    if values.sop not in (None, ""):
        sop = (
            Sop.objects.filter(pk=values.sop.pk).first()
            if isinstance(values.sop, Sop)
            else Sop.objects.filter(code=str(values.sop).strip()).first()
        )
        if sop is None:
            problems.add("sop", _("There is no SOP %(code)s.") % {"code": str(values.sop)[:CODE_MAX]})
    cleaned: dict[str, Any] = {
        "code": code,
        "name": name,
        "description": description,
        "category": values.category,
        "default_kind": values.default_kind,
        "default_priority": values.default_priority,
        "skills": skills,
        "sop": sop,
        "calendar": _policy_calendar(problems, values.calendar),
        "customer_selectable": bool(values.customer_selectable),
        "is_active": bool(values.is_active),
    }
    for field in TARGET_FIELDS.values():
        cleaned[field] = _minutes(problems, field, getattr(values, field))
    problems.raise_if_any()
    return cleaned


def _one_line(text: str) -> str:
    return " ".join(str(text or "").replace("\x00", "").split())


def _slug(problems: _PolicyProblems, field: str, value: object) -> str:
    """A code or key: lower-case letters, digits, hyphens and underscores (a problem otherwise)."""
    slug = str(value or "").strip().lower()
    if not slug or not _SLUG.fullmatch(slug) or len(slug) > CODE_MAX:
        problems.add(
            field, _("Use 1–%(n)d lower-case letters, digits, hyphens or underscores.") % {"n": CODE_MAX}
        )
    return slug


def _line(problems: _PolicyProblems, field: str, value: object, *, max_length: int, missing: str = "") -> str:
    """One line of text, required when `missing` says what to write."""
    text = _one_line(str(value or ""))
    if missing and not text:
        problems.add(field, missing)
    elif len(text) > max_length:
        problems.add(field, _("At most %(n)d characters.") % {"n": max_length})
    return text


def _known(problems: _PolicyProblems, field: str, value: object, known: Sequence[str]) -> str:
    text = str(value)
    if text not in known:
        problems.add(
            field,
            _("Unknown value %(value)s; choose from %(known)s.")
            % {"value": text[:50], "known": ", ".join(known)},
        )
    return text


@transaction.atomic
def service_type_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    category: str,
    calendar: BusinessCalendar | str,
    description: str = "",
    default_kind: str = Kind.REQUEST,
    default_priority: str = Priority.P3,
    skills: Sequence[str] = (),
    sop: Sop | str | None = None,
    first_response_minutes: int | None = None,
    next_response_minutes: int | None = None,
    resolution_minutes: int | None = None,
    on_site_minutes: int | None = None,
    customer_selectable: bool = True,
    is_active: bool = True,
) -> ServiceType:
    """Add a service type to the catalogue, last in its order. `sop` and `calendar` are instances or
    codes. The SLA target minutes, when given, replace the matching policy's for tickets of this type.
    Raises ValidationFailed naming every field at fault."""
    cleaned = _clean_service_type(
        _ServiceTypeValues(
            code=code,
            name=name,
            description=description,
            category=category,
            default_kind=default_kind,
            default_priority=default_priority,
            skills=skills,
            sop=sop,
            calendar=calendar,
            first_response_minutes=first_response_minutes,
            next_response_minutes=next_response_minutes,
            resolution_minutes=resolution_minutes,
            on_site_minutes=on_site_minutes,
            customer_selectable=customer_selectable,
            is_active=is_active,
        ),
        instance=None,
    )
    positions = list(ServiceType.objects.select_for_update().order_by().values_list("position", flat=True))
    try:
        with transaction.atomic():
            return ServiceType.objects.create(position=max(positions, default=-1) + 1, version=1, **cleaned)
    except IntegrityError as exc:  # a concurrent create took the code
        raise Conflict(
            _("Another service type has the code %(code)s.") % {"code": cleaned["code"]},
            fields={"code": _("Taken.")},
        ) from exc


@transaction.atomic
def service_type_update(
    *,
    service_type: ServiceType,
    actor: User | None,
    expected_version: int | None = None,
    **changes: Any,
) -> ServiceType:
    """Change a service type: the keyword arguments of `service_type_create`, each optional (left out:
    kept). Locks the row; Conflict when `expected_version` is stale. Changed SLA targets are re-applied
    to the open tickets of this type, each with an event."""
    locked = ServiceType.objects.select_for_update().filter(pk=service_type.pk).first()
    if locked is None:
        raise NotFound(_("The service type was deleted."))
    if expected_version is not None and expected_version != locked.version:
        raise Conflict(
            _(
                "Someone changed this service type since you loaded it (version %(theirs)d, yours "
                "%(yours)d). Reload it and make your change again."
            )
            % {"theirs": locked.version, "yours": expected_version},
            fields={"version": _("Stale version.")},
        )
    known = set(_ServiceTypeValues.__dataclass_fields__)
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValidationFailed(
            _("Unknown field %(field)s.") % {"field": unknown[0][:50]},
            fields={unknown[0][:50]: _("Unknown.")},
        )
    current = {field: getattr(locked, field) for field in known}
    values = _ServiceTypeValues(**{**current, **changes})
    cleaned = _clean_service_type(values, instance=locked)
    targets_changed = any(cleaned[field] != getattr(locked, field) for field in TARGET_FIELDS.values())
    for field, value in cleaned.items():
        setattr(locked, field, value)
    locked.version += 1
    locked.save()
    if targets_changed:
        from pledge.tickets.clocks import reapply_service_type  # the tickets app imports this one

        reapply_service_type(
            service_type_id=locked.pk,
            actor=actor,
            at=timezone.now(),
            reason=_("SLA targets of service type %(name)s changed") % {"name": locked.name},
        )
    return locked


@transaction.atomic
def service_type_move(*, service_type: ServiceType, direction: str, actor: User | None) -> list[ServiceType]:
    """Move a service type one place `up` or `down` in the catalogue; returns the new order."""
    if direction not in ("up", "down"):
        raise ValidationFailed(
            _("Move up or down, not %(value)s.") % {"value": str(direction)[:20]},
            fields={"direction": _("Up or down.")},
        )
    ordered = list(ServiceType.objects.select_for_update().order_by("position", "id"))
    index = next((i for i, row in enumerate(ordered) if row.pk == service_type.pk), None)
    if index is None:
        raise NotFound(_("The service type was deleted."))
    target = min(max(index + (-1 if direction == "up" else 1), 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    changed = [row for number, row in enumerate(ordered) if row.position != number]
    for number, row in enumerate(ordered):
        row.position = number
    ServiceType.objects.bulk_update(changed, ["position"])
    return ordered


# ---------------------------------------------------------------------------------------------------
# SOPs and their versions
#
# A draft is edited as a whole (its steps and checkpoints replaced at once, checked together); approval
# by a service manager freezes it and names the day it takes effect. Approved versions never change:
# the next change starts a new draft from the latest version. See docs/sops.md.

MAX_STEPS = 50
MAX_CHECKPOINTS = 20
GUIDANCE_MAX = 20_000
LABEL_MAX = 200
UNIT_MAX = 20
REASON_TEXT_MAX = 2000
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
CAN_FAIL = (CheckpointKind.YES_NO, CheckpointKind.NUMBER)


@dataclass(frozen=True)
class CheckpointData:
    """One checkpoint as a form row or an API body gives it."""

    key: str
    label: str
    kind: str
    mandatory: bool = True
    critical: bool = False
    min_value: float | None = None
    max_value: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class StepData:
    """One SOP step as a form row or an API body gives it; the team by instance or id."""

    key: str
    name: str
    owner: str
    time_standard_minutes: int
    team: Team | int | None = None
    parallel_group: str = ""
    is_milestone: bool = False
    milestone_name: str = ""
    guidance: str = ""
    checkpoints: Sequence[CheckpointData] = ()


def step_data_of(version: SopVersion) -> list[StepData]:
    """A version's steps as StepData (to start a new draft from it, or to show it in an editor)."""
    return [
        StepData(
            key=step.key,
            name=step.name,
            owner=step.owner,
            time_standard_minutes=step.time_standard_minutes,
            team=step.team_id,
            parallel_group=step.parallel_group,
            is_milestone=step.is_milestone,
            milestone_name=step.milestone_name,
            guidance=step.guidance,
            checkpoints=[
                CheckpointData(
                    key=cp.key,
                    label=cp.label,
                    kind=cp.kind,
                    mandatory=cp.mandatory,
                    critical=cp.critical,
                    min_value=cp.min_value,
                    max_value=cp.max_value,
                    unit=cp.unit,
                )
                for cp in step.checkpoints.all()
            ],
        )
        for step in version.steps.prefetch_related("checkpoints").order_by("position")
    ]


def _number(problems: _PolicyProblems, field: str, value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(field, _("Enter a number."))
        return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        problems.add(field, _("Enter a finite number."))
        return None
    return float(value)


def _clean_checkpoints(
    problems: _PolicyProblems, where: str, checkpoints: Sequence[CheckpointData]
) -> list[Checkpoint]:
    if len(checkpoints) > MAX_CHECKPOINTS:
        problems.add(
            f"{where}.checkpoints", _("At most %(n)d checkpoints per step.") % {"n": MAX_CHECKPOINTS}
        )
        return []
    rows: list[Checkpoint] = []
    keys: set[str] = set()
    for index, data in enumerate(checkpoints):
        at = f"{where}.checkpoints[{index}]"
        key = _slug(problems, f"{at}.key", data.key)
        if key in keys:
            problems.add(
                f"{at}.key", _("Another checkpoint of this step has the key %(key)s.") % {"key": key}
            )
        keys.add(key)
        label = _line(
            problems,
            f"{at}.label",
            data.label,
            max_length=LABEL_MAX,
            missing=_("Write the question the checkpoint asks."),
        )
        kind = _known(problems, f"{at}.kind", data.kind, CheckpointKind.values)
        low = _number(problems, f"{at}.min_value", data.min_value)
        high = _number(problems, f"{at}.max_value", data.max_value)
        if kind != CheckpointKind.NUMBER and (low is not None or high is not None):
            problems.add(f"{at}.min_value", _("Only number checkpoints have limits."))
        elif low is not None and high is not None and low > high:
            problems.add(f"{at}.max_value", _("The highest passing value is below the lowest."))
        if data.critical and kind in CheckpointKind.values and kind not in CAN_FAIL:
            problems.add(
                f"{at}.critical",
                _("Only yes/no and number checkpoints can fail, so only they can be critical."),
            )
        unit = _line(problems, f"{at}.unit", data.unit, max_length=UNIT_MAX)
        rows.append(
            Checkpoint(
                position=index + 1,
                key=key,
                label=label,
                kind=kind,
                mandatory=bool(data.mandatory),
                critical=bool(data.critical),
                min_value=low,
                max_value=high,
                unit=unit,
            )
        )
    return rows


def _clean_steps(steps: Sequence[StepData]) -> list[tuple[SopStep, list[Checkpoint]]]:
    """Unsaved steps with their checkpoints; raises ValidationFailed naming `steps[i].field`."""
    problems = _PolicyProblems()
    if not steps:
        problems.add("steps", _("An SOP needs at least one step."))
    if len(steps) > MAX_STEPS:
        problems.add("steps", _("At most %(n)d steps.") % {"n": MAX_STEPS})
        problems.raise_if_any()
    team_ids = {s.team.pk if isinstance(s.team, Team) else s.team for s in steps if s.team is not None}
    teams = {team.pk: team for team in Team.objects.filter(pk__in=team_ids, is_active=True)}
    rows: list[tuple[SopStep, list[Checkpoint]]] = []
    keys: set[str] = set()
    closed_groups: set[str] = set()
    handoff_teams: dict[str, Team] = {}
    previous_group = ""
    for index, data in enumerate(steps):
        where = f"steps[{index}]"
        key = _slug(problems, f"{where}.key", data.key)
        if key in keys:
            problems.add(f"{where}.key", _("Another step has the key %(key)s.") % {"key": key})
        keys.add(key)
        name = _line(problems, f"{where}.name", data.name, max_length=NAME_MAX, missing=_("Name the step."))
        owner = _known(problems, f"{where}.owner", data.owner, StepOwner.values)
        team = None
        if data.team is not None:
            team_id = data.team.pk if isinstance(data.team, Team) else data.team
            team = teams.get(team_id)
            if team is None:
                problems.add(f"{where}.team", _("There is no active team with this id."))
        elif owner == StepOwner.BACK_OFFICE:
            problems.add(f"{where}.team", _("A back-office step names the team that receives the hand-off."))
        minutes = data.time_standard_minutes
        if type(minutes) is not int or not 1 <= minutes <= MAX_TARGET_MINUTES:
            problems.add(
                f"{where}.time_standard_minutes",
                _("Enter whole business minutes from 1 to %(max)d (a year).") % {"max": MAX_TARGET_MINUTES},
            )
        group = _slug(problems, f"{where}.parallel_group", data.parallel_group) if data.parallel_group else ""
        if group and group in closed_groups:
            problems.add(
                f"{where}.parallel_group",
                _("The steps of parallel group %(group)s must follow one another.") % {"group": group},
            )
        if group and owner == StepOwner.BACK_OFFICE and team is not None:
            other = handoff_teams.setdefault(group, team)
            if other != team:
                problems.add(
                    f"{where}.team",
                    _("Back-office steps side by side hand the ticket to one team: %(team)s.")
                    % {"team": other},
                )
        if previous_group and previous_group != group:
            closed_groups.add(previous_group)
        previous_group = group
        milestone_name = _line(problems, f"{where}.milestone_name", data.milestone_name, max_length=NAME_MAX)
        guidance = str(data.guidance or "").replace("\x00", "").strip()
        if len(guidance) > GUIDANCE_MAX:
            problems.add(f"{where}.guidance", _("At most %(n)d characters.") % {"n": GUIDANCE_MAX})
        checkpoints = _clean_checkpoints(problems, where, data.checkpoints)
        step = SopStep(
            position=index + 1,
            key=key,
            name=name,
            owner=owner,
            team=team,
            time_standard_minutes=minutes if type(minutes) is int else 0,
            parallel_group=group,
            is_milestone=bool(data.is_milestone),
            milestone_name=(milestone_name or name) if data.is_milestone else "",
            guidance=guidance,
        )
        rows.append((step, checkpoints))
    problems.raise_if_any()
    return rows


def _store_steps(version: SopVersion, rows: list[tuple[SopStep, list[Checkpoint]]]) -> None:
    version.steps.all().delete()
    for step, _checkpoints in rows:
        step.version = version
    SopStep.objects.bulk_create([step for step, _ in rows])
    checkpoints: list[Checkpoint] = []
    for step, step_checkpoints in rows:
        for checkpoint in step_checkpoints:
            checkpoint.step = step
            checkpoints.append(checkpoint)
    Checkpoint.objects.bulk_create(checkpoints)


def _clean_reason(reason: str) -> str:
    text = str(reason or "").replace("\x00", "").strip()
    if not text:
        raise ValidationFailed(
            _("Say why this version is needed."), fields={"reason": _("State the reason for the change.")}
        )
    if len(text) > REASON_TEXT_MAX:
        raise ValidationFailed(
            _("The reason is too long."),
            fields={"reason": _("At most %(n)d characters.") % {"n": REASON_TEXT_MAX}},
        )
    return text


@transaction.atomic
def sop_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    steps: Sequence[StepData],
    description: str = "",
    reason: str = "",
    at: datetime | None = None,
) -> SopVersion:
    """A new SOP with its first version as a draft. Returns the draft. ValidationFailed names each field
    at fault (steps as `steps[i].field`, checkpoints as `steps[i].checkpoints[j].field`)."""
    problems = _PolicyProblems()
    clean_code = _slug(problems, "code", code)
    if Sop.objects.filter(code=clean_code).exists():
        problems.add("code", _("Another SOP has the code %(code)s.") % {"code": clean_code})
    clean_name = _line(problems, "name", name, max_length=NAME_MAX, missing=_("Name the SOP."))
    problems.raise_if_any()
    rows = _clean_steps(steps)
    now = at or timezone.now()
    try:
        with transaction.atomic():
            sop = Sop.objects.create(
                code=clean_code,
                name=clean_name,
                description=str(description or "").replace("\x00", "").strip(),
            )
    except IntegrityError as exc:
        raise Conflict(
            _("Another SOP has the code %(code)s.") % {"code": clean_code}, fields={"code": _("Taken.")}
        ) from exc
    version = SopVersion.objects.create(
        sop=sop,
        number=1,
        reason=_clean_reason(reason or _("First version")),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _store_steps(version, rows)
    return version


def _lock_version(version: SopVersion) -> SopVersion:
    locked = SopVersion.objects.select_for_update().select_related("sop").filter(pk=version.pk).first()
    if locked is None:
        raise NotFound(_("The SOP version was deleted."))
    return locked


def _require_draft(version: SopVersion) -> None:
    if not version.is_draft:
        raise Conflict(
            _("Version %(number)d is approved and can no longer change; start a new draft.")
            % {"number": version.number},
            fields={"version": _("Approved versions are frozen.")},
        )


@transaction.atomic
def sop_draft_save(
    *,
    actor: User | None,
    version: SopVersion,
    steps: Sequence[StepData],
    reason: str,
    name: str | None = None,
    description: str | None = None,
    expected_revision: int | None = None,
    at: datetime | None = None,
) -> SopVersion:
    """Replace a draft's steps and checkpoints (and its reason for change; the SOP's name and description
    when given). Conflict when the version is approved or `expected_revision` is stale."""
    locked = _lock_version(version)
    _require_draft(locked)
    if expected_revision is not None and expected_revision != locked.revision:
        raise Conflict(
            _("Someone saved this draft since you loaded it. Reload it and make your change again."),
            fields={"revision": _("Stale revision.")},
        )
    clean_reason = _clean_reason(reason)
    rows = _clean_steps(steps)
    sop = locked.sop
    if name is not None or description is not None:
        problems = _PolicyProblems()
        if name is not None:
            sop.name = _line(problems, "name", name, max_length=NAME_MAX, missing=_("Name the SOP."))
        if description is not None:
            sop.description = str(description).replace("\x00", "").strip()
        problems.raise_if_any()
        sop.save(update_fields=["name", "description"])
    _store_steps(locked, rows)
    locked.reason = clean_reason
    locked.revision += 1
    locked.updated_at = at or timezone.now()
    locked.save(update_fields=["reason", "revision", "updated_at"])
    return locked


@transaction.atomic
def sop_draft_start(*, actor: User | None, sop: Sop, reason: str, at: datetime | None = None) -> SopVersion:
    """A new draft copying the SOP's latest version. Conflict when a draft already exists."""
    clean_reason = _clean_reason(reason)
    locked = Sop.objects.select_for_update().filter(pk=sop.pk).first()
    if locked is None:
        raise NotFound(_("The SOP was deleted."))
    latest = locked.versions.order_by("-number").first()
    if latest is not None and latest.is_draft:
        raise Conflict(
            _("Version %(number)d is still a draft: change it, or discard it first.")
            % {"number": latest.number},
            fields={"version": _("A draft exists.")},
        )
    now = at or timezone.now()
    draft = SopVersion.objects.create(
        sop=locked,
        number=(latest.number + 1) if latest else 1,
        reason=clean_reason,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    if latest is not None:
        _store_steps(draft, _clean_steps(step_data_of(latest)))
    return draft


@transaction.atomic
def sop_draft_discard(*, actor: User | None, version: SopVersion) -> None:
    """Delete a draft (approved versions stay for ever)."""
    locked = _lock_version(version)
    _require_draft(locked)
    locked.delete()


@transaction.atomic
def sop_version_approve(
    *, actor: User, version: SopVersion, effective_from: date, at: datetime | None = None
) -> SopVersion:
    """Approve a draft (service managers and administrators only: recorded with the time) to take effect
    on `effective_from`, which may not be before today nor before the latest approved version's date.
    New tickets of the SOP's service types get the version in effect on the day they are created."""
    if not account_policies.is_service_manager_or_admin(actor):
        raise PermissionDenied(_("Only a service manager approves an SOP version."))
    locked = _lock_version(version)
    _require_draft(locked)
    now = at or timezone.now()
    today = selectors.company_day(now)
    if not isinstance(effective_from, date):
        raise ValidationFailed(
            _("Give the date the version takes effect."), fields={"effective_from": _("Enter a date.")}
        )
    if effective_from < today:
        raise ValidationFailed(
            _("A version cannot take effect in the past (before %(today)s).") % {"today": today.isoformat()},
            fields={"effective_from": _("Today or later.")},
        )
    latest = (
        SopVersion.objects.filter(sop_id=locked.sop_id, status=SopVersionStatus.APPROVED)
        .order_by("-effective_from")
        .first()
    )
    if latest is not None and latest.effective_from is not None and effective_from <= latest.effective_from:
        raise ValidationFailed(
            _("Version %(number)d takes effect on %(day)s; this one must take effect after it.")
            % {"number": latest.number, "day": latest.effective_from.isoformat()},
            fields={"effective_from": _("After %(day)s.") % {"day": latest.effective_from.isoformat()}},
        )
    if not locked.steps.exists():
        raise ValidationFailed(_("An SOP needs at least one step."), fields={"steps": _("Add a step.")})
    locked.status = SopVersionStatus.APPROVED
    locked.effective_from = effective_from
    locked.approved_by = actor
    locked.approved_at = now
    locked.updated_at = now
    locked.save(update_fields=["status", "effective_from", "approved_by", "approved_at", "updated_at"])
    return locked
