"""Every write to business calendars and holiday data: import (create or replace), the editor's changes
to holidays and make-up days, official holiday schedules for new years, and the built-in calendars.

Each function is one transaction. A change to an existing calendar locks its row (`SELECT … FOR
UPDATE`; SQLite serialises writers with BEGIN IMMEDIATE), bumps `version` and records the whole
calendar as a CalendarVersion. Authorisation is the caller's job (policies.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pledge.accounts.models import Team, User
from pledge.core.errors import Conflict, NotFound, ValidationFailed
from pledge.customers.models import Contract
from pledge.lib import holidays_cn
from pledge.standards import selectors
from pledge.standards.calendar_files import CalendarDocument, parse_calendar, parse_day, parse_weekday
from pledge.standards.choices import HolidaySetCode
from pledge.standards.models import (
    NAME_MAX,
    BusinessCalendar,
    CalendarHoliday,
    CalendarMakeupDay,
    CalendarVersion,
    HolidaySetYear,
)

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
    """Store the calendar as it now is under its current version number."""
    return CalendarVersion.objects.create(
        calendar=calendar,
        version=calendar.version,
        snapshot=selectors.calendar_document(calendar),
        reason=_reason(reason),
        created_by=actor,
    )


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
