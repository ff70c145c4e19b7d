"""Forms of the service standards pages: they parse request data; services check and write it.

Service errors come back as ValidationFailed with field paths (`weekly.tue[1]`, `levels[0].percent`) and
are placed beside the form fields here (`add_domain_errors`).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pledge.accounts.models import Team, User
from pledge.core.errors import DomainError
from pledge.core.forms import DomainErrorsMixin
from pledge.customers.choices import Tier
from pledge.standards import calendar_files
from pledge.standards.choices import (
    WEEKDAY_KEYS,
    EscalationRecipient,
    HolidaySetCode,
    SlaTarget,
    Weekday,
)
from pledge.standards.models import NAME_MAX, TIMEZONE_MAX, BusinessCalendar, SlaPolicy
from pledge.standards.services import (
    DESCRIPTION_MAX,
    MAX_PERCENT,
    MAX_TARGET_MINUTES,
    MIN_PERCENT,
    PAUSABLE_STATUSES,
    REASON_MAX,
    EscalationLevelData,
)
from pledge.tickets.choices import Channel, Kind, Priority, Status

# Calendar files and holiday schedules are small: a calendar with thousands of dates is ~200 KB.
MAX_FILE_BYTES = 1024 * 1024
REASON_HELP = gettext_lazy("Optional; recorded with the new version.")
WEEKDAY_FIELDS = tuple(f"weekly_{key}" for key in WEEKDAY_KEYS)


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Reason"), max_length=REASON_MAX, required=False, help_text=REASON_HELP
    )


def read_text_upload(upload: UploadedFile) -> str:
    """An uploaded YAML/JSON file as text (UTF-8, a byte-order mark allowed); ValidationError otherwise."""
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise forms.ValidationError(
            _("The file is too large (at most %(kb)d KB).") % {"kb": MAX_FILE_BYTES // 1024}
        )
    raw = upload.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise forms.ValidationError(
            _("The file is too large (at most %(kb)d KB).") % {"kb": MAX_FILE_BYTES // 1024}
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise forms.ValidationError(
            _("The file is not UTF-8 text (byte %(offset)d).") % {"offset": error.start + 1}
        ) from None


# Calendars --------------------------------------------------------------------------------------


class CalendarSettingsForm(DomainErrorsMixin, forms.Form):
    """Name, time zone, weekly hours (one text per weekday) and holiday sets of a calendar."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX)
    timezone = forms.CharField(
        label=gettext_lazy("Time zone"),
        max_length=TIMEZONE_MAX,
        help_text=gettext_lazy("An IANA time zone such as Asia/Shanghai; hours are wall-clock hours there."),
        widget=forms.TextInput(attrs={"list": "tz-list", "autocomplete": "off"}),
    )
    holiday_sets = forms.MultipleChoiceField(
        label=gettext_lazy("Holiday sets"),
        choices=HolidaySetCode.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, field_name in zip(WEEKDAY_KEYS, WEEKDAY_FIELDS, strict=True):
            self.fields[field_name] = forms.CharField(
                label=Weekday(WEEKDAY_KEYS.index(key)).label,
                max_length=1000,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": "09:00-12:00, 13:00-18:00"}),
            )

    @classmethod
    def for_calendar(cls, calendar: BusinessCalendar) -> CalendarSettingsForm:
        initial: dict[str, Any] = {
            "name": calendar.name,
            "timezone": calendar.timezone,
            "holiday_sets": list(calendar.holiday_sets),
        }
        for key, field_name in zip(WEEKDAY_KEYS, WEEKDAY_FIELDS, strict=True):
            initial[field_name] = ", ".join(calendar.weekly.get(key, []))
        return cls(initial=initial)

    def weekday_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in WEEKDAY_FIELDS]

    def weekly(self) -> dict[str, str]:
        return {
            key: self.cleaned_data[field_name].strip()
            for key, field_name in zip(WEEKDAY_KEYS, WEEKDAY_FIELDS, strict=True)
        }

    def add_domain_errors(self, exc: DomainError) -> None:
        """`weekly.tue[1]` → the Tuesday field; `timezone`, `name`, `holiday_sets[0]` → theirs."""
        placed = False
        for path, text in exc.fields.items():
            head = re.split(r"[.\[]", path, maxsplit=1)[0]
            if head == "weekly":
                key = re.split(r"[.\[]", path)[1] if "." in path else ""
                field_name = f"weekly_{key}"
            else:
                field_name = head
            if field_name in self.fields:
                self.add_error(field_name, text)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


DAY_ACTIONS = (
    ("holiday_on", gettext_lazy("Make it a holiday")),
    ("holiday_off", gettext_lazy("Work it as a normal day")),
    ("remove_holiday", gettext_lazy("Remove the calendar's holiday")),
    ("makeup", gettext_lazy("Make it a make-up workday")),
    ("remove_makeup", gettext_lazy("Remove the make-up workday")),
)


class DayEditForm(DomainErrorsMixin, forms.Form):
    """One change to one day. `holiday_on`/`holiday_off` add a holiday or toggle it (an inactive holiday
    keeps the day a normal working day, also against the holiday set)."""

    action = forms.ChoiceField(choices=DAY_ACTIONS)
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=gettext_lazy("Holiday name"), max_length=NAME_MAX, required=False)
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("With the hours of"),
        choices=Weekday.choices,
        coerce=int,
        required=False,
        empty_value=None,
    )
    reason = _reason_field()


class CalendarImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Calendar file"),
        help_text=gettext_lazy(
            "YAML or JSON in the calendar file format. A calendar whose code exists is replaced (a new "
            "version); a new code creates a calendar."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,.json"}),
    )
    reason = _reason_field()

    def clean_file(self) -> tuple[str, str]:
        upload: UploadedFile = self.cleaned_data["file"]
        return upload.name or "calendar", read_text_upload(upload)


class HolidayImportForm(forms.Form):
    """One year's official schedule, uploaded or pasted (JSON or YAML)."""

    set_code = forms.ChoiceField(label=gettext_lazy("Holiday set"), choices=HolidaySetCode.choices)
    file = forms.FileField(
        label=gettext_lazy("Schedule file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,.json"}),
    )
    text = forms.CharField(
        label=gettext_lazy("… or paste the schedule"),
        required=False,
        max_length=MAX_FILE_BYTES,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("Where the schedule comes from, e.g. the State Council notice's address."),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload: UploadedFile | None = cleaned.get("file")
        text = (cleaned.get("text") or "").strip()
        if upload is not None and text:
            raise forms.ValidationError(_("Upload a file or paste the schedule, not both."))
        if upload is not None:
            try:
                cleaned["document_text"] = read_text_upload(upload)
            except forms.ValidationError as error:
                self.add_error("file", error)
                return cleaned
            cleaned["document_name"] = upload.name or ""
        elif text:
            cleaned["document_text"] = text
            cleaned["document_name"] = ""
        else:
            self.add_error("text", _("Upload a file or paste the schedule."))
        return cleaned

    def document(self) -> object:
        """The parsed schedule; raises ValidationFailed naming the line of a syntax error."""
        text: str = self.cleaned_data["document_text"]
        fmt = calendar_files.guess_format(self.cleaned_data["document_name"], text)
        return calendar_files.loads(text, fmt=fmt)


# SLA policies -----------------------------------------------------------------------------------

_DURATION = re.compile(
    r"^(?:(?P<hours>\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hours?|小时|時間|时)\s*)?"
    r"(?:(?P<minutes>\d+)\s*(?:m|min|mins|minutes?|分钟|分)?)?$",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^(\d+):([0-5]\d)$")


def parse_duration(text: str) -> int | None:
    """ "90", "90m", "1h 30m", "1.5h", "8h", "1:30", "2小时" → business minutes; blank → None.
    Raises ValueError for anything else."""
    value = " ".join(text.strip().split())
    if not value:
        return None
    clock = _CLOCK.match(value)
    if clock:
        return int(clock.group(1)) * 60 + int(clock.group(2))
    match = _DURATION.match(value)
    if match is None or not (match.group("hours") or match.group("minutes")):
        raise ValueError(value)
    hours = float((match.group("hours") or "0").replace(",", "."))
    minutes = int(match.group("minutes") or 0)
    total = hours * 60 + minutes
    if total != int(total):
        raise ValueError(value)
    return int(total)


def format_duration(minutes: int | None) -> str:
    """The inverse for form fields: 30 → "30m", 480 → "8h", 90 → "1h 30m"."""
    if minutes is None:
        return ""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}h {rest}m"
    return f"{hours}h" if hours else f"{rest}m"


class DurationField(forms.Field):
    """Business time as minutes; the text may say hours and minutes (see parse_duration)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", gettext_lazy("Business time: 30m, 4h, 1h 30m or 1:30; a bare number is minutes.")
        )
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "4h", "size": 8, "maxlength": 20}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        text = "" if value is None else str(value)
        if len(text) > 20:
            raise forms.ValidationError(_("Write business time as 30m, 4h, 1h 30m or 1:30."))
        try:
            minutes = parse_duration(text)
        except ValueError:
            raise forms.ValidationError(
                _("Write business time as 30m, 4h, 1h 30m or 1:30 (a bare number is minutes).")
            ) from None
        if minutes is not None and not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise forms.ValidationError(
                _("Between 1 minute and %(hours)d hours.") % {"hours": MAX_TARGET_MINUTES // 60}
            )
        return minutes


def _checkboxes(label: Any, choices: Any, **kwargs: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple, **kwargs
    )


class SlaPolicyForm(DomainErrorsMixin, forms.Form):
    """A policy's conditions, targets, calendar and pause statuses (escalation levels have their own)."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    contract = forms.CharField(
        label=gettext_lazy("Contract"),
        max_length=60,
        required=False,
        help_text=gettext_lazy(
            "A contract number makes this the contract's own policy, tried before the general ones."
        ),
    )
    priorities = _checkboxes(gettext_lazy("Priorities"), Priority.choices)
    kinds = _checkboxes(gettext_lazy("Ticket kinds"), Kind.choices)
    tiers = _checkboxes(gettext_lazy("Customer tiers"), Tier.choices)
    channels = _checkboxes(gettext_lazy("Channels"), Channel.choices)
    calendar = forms.ChoiceField(label=gettext_lazy("Business calendar"))
    first_response_minutes = DurationField(label=SlaTarget.FIRST_RESPONSE.label)
    next_response_minutes = DurationField(label=SlaTarget.NEXT_RESPONSE.label)
    resolution_minutes = DurationField(label=SlaTarget.RESOLUTION.label)
    on_site_minutes = DurationField(label=SlaTarget.ON_SITE.label)
    pause_statuses = _checkboxes(
        gettext_lazy("Statuses that pause the clocks"),
        [(value, label) for value, label in Status.choices if value in PAUSABLE_STATUSES],
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    reason = _reason_field()

    CONDITION_FIELDS = ("priorities", "kinds", "tiers", "channels")
    TARGET_FIELDS = (
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "on_site_minutes",
    )

    def __init__(self, *args: Any, calendars: list[BusinessCalendar], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        calendar_field = self.fields["calendar"]
        assert isinstance(calendar_field, forms.ChoiceField)
        calendar_field.choices = [(c.code, f"{c.name} ({c.code})") for c in calendars]

    @classmethod
    def initial_for(cls, policy: SlaPolicy) -> dict[str, Any]:
        return {
            "name": policy.name,
            "description": policy.description,
            "contract": policy.contract.number if policy.contract is not None else "",
            "priorities": list(policy.priorities),
            "kinds": list(policy.kinds),
            "tiers": list(policy.tiers),
            "channels": list(policy.channels),
            "calendar": policy.calendar.code,
            **{name: format_duration(getattr(policy, name)) for name in cls.TARGET_FIELDS},
            "pause_statuses": list(policy.pause_statuses),
            "is_active": policy.is_active,
            "version": policy.version,
        }

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned values as sla_policy_create/sla_policy_update take them."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "contract": data["contract"].strip() or None,
            "calendar": data["calendar"],
            **{name: list(data[name]) for name in self.CONDITION_FIELDS},
            **{name: data[name] for name in self.TARGET_FIELDS},
            "pause_statuses": list(data["pause_statuses"]),
            "is_active": data["is_active"],
        }

    def condition_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.CONDITION_FIELDS]

    def target_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.TARGET_FIELDS]


class EscalationLevelForm(forms.Form):
    """One row of the escalation levels editor. A row left blank is ignored; `delete` drops a row."""

    target = forms.ChoiceField(label=gettext_lazy("Target"), choices=[("", "—"), *SlaTarget.choices])
    percent = forms.IntegerField(
        # xgettext:no-python-format
        label=gettext_lazy("At % of the target"),
        min_value=MIN_PERCENT,
        max_value=MAX_PERCENT,
        widget=forms.NumberInput(attrs={"size": 5}),
    )
    notify = _checkboxes(gettext_lazy("Notify"), EscalationRecipient.choices)
    raise_priority = forms.BooleanField(label=gettext_lazy("Raise priority"), required=False)
    reassign_team = forms.TypedChoiceField(
        label=gettext_lazy("Hand to team"), coerce=int, required=False, empty_value=None
    )
    add_watcher = forms.TypedChoiceField(
        label=gettext_lazy("Add watcher"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, teams: list[Team], watchers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["reassign_team"]
        watcher_field = self.fields["add_watcher"]
        assert isinstance(team_field, forms.TypedChoiceField)
        assert isinstance(watcher_field, forms.TypedChoiceField)
        team_field.choices = [("", "—"), *((str(team.pk), team.name) for team in teams)]
        watcher_field.choices = [("", "—"), *((str(user.pk), str(user)) for user in watchers)]

    def level(self) -> EscalationLevelData:
        data = self.cleaned_data
        return EscalationLevelData(
            target=data["target"],
            percent=data["percent"],
            notify=tuple(data["notify"]),
            raise_priority=data["raise_priority"],
            reassign_team=data["reassign_team"],
            add_watcher=data["add_watcher"],
        )


class BaseEscalationFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def __init__(self, *args: Any, teams: list[Team], watchers: list[User], **kwargs: Any) -> None:
        self.teams = teams
        self.watchers = watchers
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"teams": self.teams, "watchers": self.watchers}

    def kept_forms(self) -> list[EscalationLevelForm]:
        """The rows to save: filled in and not marked for deletion, in the order shown."""
        kept = []
        for index, form in enumerate(self.forms):
            blank = index >= self.initial_form_count() and not form.has_changed()
            if blank or (self.can_delete and form.cleaned_data.get("DELETE")):
                continue
            assert isinstance(form, EscalationLevelForm)
            kept.append(form)
        return kept

    def add_domain_errors(self, exc: DomainError, kept: list[EscalationLevelForm]) -> None:
        """`levels[2].percent` → the percent field of the third kept row."""
        placed = False
        for path, text in exc.fields.items():
            match = re.fullmatch(r"\w+\[(\d+)\]\.(\w+)", path)
            if match is None:
                continue
            index, field = int(match.group(1)), match.group(2)
            if index < len(kept) and field in kept[index].fields:
                kept[index].add_error(field, text)
                placed = True
        if not placed:
            self._non_form_errors = self.error_class([exc.message])


EscalationFormSet = forms.formset_factory(
    EscalationLevelForm,
    formset=BaseEscalationFormSet,
    extra=2,
    can_delete=True,
    max_num=20,
    validate_max=True,
)


def escalation_formset(
    data: Any, *, policy: SlaPolicy, teams: list[Team], watchers: list[User]
) -> BaseEscalationFormSet:
    """The editor of the policy's escalation levels, bound to `data` (a POST) or not (None)."""
    formset = EscalationFormSet(  # type: ignore[call-arg]
        data, initial=escalation_initial(policy), teams=teams, watchers=watchers
    )
    assert isinstance(formset, BaseEscalationFormSet)
    return formset


def escalation_initial(policy: SlaPolicy) -> list[dict[str, Any]]:
    return [
        {
            "target": level.target,
            "percent": level.percent,
            "notify": list(level.notify),
            "raise_priority": level.raise_priority,
            "reassign_team": level.reassign_team_id,
            "add_watcher": level.add_watcher_id,
        }
        for level in policy.escalation_levels.all()
    ]
