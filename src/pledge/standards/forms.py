"""Forms of the service standards pages: they parse request data; services check and write it.

Service errors come back as ValidationFailed with field paths (`weekly.tue[1]`, `levels[0].percent`) and
are placed beside the form fields here (`add_domain_errors`).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pledge.accounts.models import Team, User
from pledge.core.errors import DomainError
from pledge.core.forms import DomainErrorsMixin
from pledge.customers.choices import Tier
from pledge.standards import calendar_files, selectors
from pledge.standards.choices import (
    WEEKDAY_KEYS,
    CheckpointKind,
    EscalationRecipient,
    HolidaySetCode,
    ServiceCategory,
    SlaTarget,
    StepOwner,
    Weekday,
)
from pledge.standards.models import (
    CODE_MAX,
    NAME_MAX,
    TIMEZONE_MAX,
    BusinessCalendar,
    ServiceType,
    SlaPolicy,
    Sop,
)
from pledge.standards.services import (
    DESCRIPTION_MAX,
    GUIDANCE_MAX,
    LABEL_MAX,
    MAX_CHECKPOINTS,
    MAX_PERCENT,
    MAX_TARGET_MINUTES,
    MIN_PERCENT,
    PAUSABLE_STATUSES,
    REASON_MAX,
    REASON_TEXT_MAX,
    UNIT_MAX,
    CheckpointData,
    EscalationLevelData,
    StepData,
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


def _name_field(label: Any = None) -> forms.CharField:
    return forms.CharField(label=label or gettext_lazy("Name"), max_length=NAME_MAX)


def _description_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Description"),
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _code_field(help_text: Any) -> forms.CharField:
    return forms.CharField(label=gettext_lazy("Code"), max_length=CODE_MAX, help_text=help_text)


# Calendars --------------------------------------------------------------------------------------


class CalendarSettingsForm(DomainErrorsMixin, forms.Form):
    """Name, time zone, weekly hours (one text per weekday) and holiday sets of a calendar."""

    name = _name_field()
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


def _target_field(target: SlaTarget, help_text: Any = None) -> DurationField:
    """A target's field; without `help_text`, DurationField's own (how to write a duration)."""
    if help_text is None:
        return DurationField(label=target.label)
    return DurationField(label=target.label, help_text=help_text)


class SlaTargetsMixin:
    """The four SLA target fields (minutes of business time, entered as durations) that policies set and
    service types override; the form declares them."""

    TARGET_FIELDS = (
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "on_site_minutes",
    )

    @classmethod
    def initial_targets(cls, instance: SlaPolicy | ServiceType) -> dict[str, str]:
        return {name: format_duration(getattr(instance, name)) for name in cls.TARGET_FIELDS}

    def target_fields(self) -> list[forms.BoundField]:
        assert isinstance(self, forms.Form)
        return [self[name] for name in self.TARGET_FIELDS]


class SlaPolicyForm(SlaTargetsMixin, DomainErrorsMixin, forms.Form):
    """A policy's conditions, targets, calendar and pause statuses (escalation levels have their own)."""

    name = _name_field()
    description = _description_field()
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
    service_types = _checkboxes(gettext_lazy("Service types"), ())
    calendar = forms.ChoiceField(label=gettext_lazy("Business calendar"))
    first_response_minutes = _target_field(SlaTarget.FIRST_RESPONSE)
    next_response_minutes = _target_field(SlaTarget.NEXT_RESPONSE)
    resolution_minutes = _target_field(SlaTarget.RESOLUTION)
    on_site_minutes = _target_field(SlaTarget.ON_SITE)
    pause_statuses = _checkboxes(
        gettext_lazy("Statuses that pause the clocks"),
        [(value, label) for value, label in Status.choices if value in PAUSABLE_STATUSES],
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    reason = _reason_field()

    CONDITION_FIELDS = ("priorities", "kinds", "tiers", "channels", "service_types")

    def __init__(
        self,
        *args: Any,
        calendars: list[BusinessCalendar],
        service_types: list[ServiceType] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        calendar_field = self.fields["calendar"]
        assert isinstance(calendar_field, forms.ChoiceField)
        calendar_field.choices = [(c.code, f"{c.name} ({c.code})") for c in calendars]
        types_field = self.fields["service_types"]
        assert isinstance(types_field, forms.MultipleChoiceField)
        types_field.choices = [(t.code, f"{t.name} ({t.code})") for t in service_types or ()]

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
            "service_types": list(policy.service_types),
            "calendar": policy.calendar.code,
            **cls.initial_targets(policy),
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
        """The condition groups to show; service types only once the catalogue has some."""
        types_field = self.fields["service_types"]
        assert isinstance(types_field, forms.MultipleChoiceField)
        return [
            self[name]
            for name in self.CONDITION_FIELDS
            if name != "service_types" or types_field.choices or self["service_types"].errors
        ]


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


# The service catalogue --------------------------------------------------------------------------

_SKILL_SEPARATORS = re.compile(r"[,，、;；\n]+")


_OVERRIDE_HELP = gettext_lazy("Leave empty to use the SLA policy's target.")


class ServiceTypeForm(SlaTargetsMixin, DomainErrorsMixin, forms.Form):
    """A service type of the catalogue: how its tickets start, its SOP, calendar and SLA overrides."""

    code = _code_field(gettext_lazy("Lower-case letters, digits, hyphens: fault-repair. Used by the API."))
    name = _name_field()
    description = _description_field()
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=ServiceCategory.choices)
    default_kind = forms.ChoiceField(label=gettext_lazy("Default ticket kind"), choices=Kind.choices)
    default_priority = forms.ChoiceField(label=gettext_lazy("Default priority"), choices=Priority.choices)
    skills = forms.CharField(
        label=gettext_lazy("Required skills"),
        max_length=2000,
        required=False,
        help_text=gettext_lazy("Separated by commas: hydraulics, electrics."),
    )
    sop = forms.ChoiceField(label=gettext_lazy("SOP"), required=False)
    calendar = forms.ChoiceField(
        label=gettext_lazy("Business calendar"),
        help_text=gettext_lazy("Times the SOP steps of tickets that no SLA policy covers."),
    )
    customer_selectable = forms.BooleanField(
        label=gettext_lazy("Customers can choose it (portal and API)"), required=False
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    first_response_minutes = _target_field(SlaTarget.FIRST_RESPONSE, _OVERRIDE_HELP)
    next_response_minutes = _target_field(SlaTarget.NEXT_RESPONSE, _OVERRIDE_HELP)
    resolution_minutes = _target_field(SlaTarget.RESOLUTION, _OVERRIDE_HELP)
    on_site_minutes = _target_field(SlaTarget.ON_SITE, _OVERRIDE_HELP)

    def __init__(self, *args: Any, calendars: list[BusinessCalendar], sops: list[Sop], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        calendar_field = self.fields["calendar"]
        sop_field = self.fields["sop"]
        assert isinstance(calendar_field, forms.ChoiceField)
        assert isinstance(sop_field, forms.ChoiceField)
        calendar_field.choices = [(c.code, f"{c.name} ({c.code})") for c in calendars]
        sop_field.choices = [("", _("— none —")), *((s.code, f"{s.name} ({s.code})") for s in sops)]

    @classmethod
    def initial_for(cls, service_type: ServiceType) -> dict[str, Any]:
        return {
            "code": service_type.code,
            "name": service_type.name,
            "description": service_type.description,
            "category": service_type.category,
            "default_kind": service_type.default_kind,
            "default_priority": service_type.default_priority,
            "skills": ", ".join(service_type.skills),
            "sop": service_type.sop.code if service_type.sop is not None else "",
            "calendar": service_type.calendar.code,
            **cls.initial_targets(service_type),
            "customer_selectable": service_type.customer_selectable,
            "is_active": service_type.is_active,
            "version": service_type.version,
        }

    def clean_skills(self) -> list[str]:
        text: str = self.cleaned_data["skills"]
        return [part.strip() for part in _SKILL_SEPARATORS.split(text) if part.strip()]

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned values as service_type_create/service_type_update take them."""
        data = self.cleaned_data
        return {
            "code": data["code"].strip(),
            "name": data["name"],
            "description": data["description"],
            "category": data["category"],
            "default_kind": data["default_kind"],
            "default_priority": data["default_priority"],
            "skills": data["skills"],
            "sop": data["sop"] or None,
            "calendar": data["calendar"],
            **{name: data[name] for name in self.TARGET_FIELDS},
            "customer_selectable": data["customer_selectable"],
            "is_active": data["is_active"],
        }


# SOPs -------------------------------------------------------------------------------------------

_STEP_PATH = re.compile(r"steps\[(\d+)\](?:\.(\w+))?(?:\[(\d+)\]\.(\w+))?")


def _sop_reason_field(label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or gettext_lazy("Reason for the change"),
        max_length=REASON_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Recorded with the version: why the procedure changes."),
    )


def _team_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=gettext_lazy("Team"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("Required for a back-office step: the team that receives the hand-off."),
    )


def _set_team_choices(field: forms.Field, teams: list[Team]) -> None:
    assert isinstance(field, forms.TypedChoiceField)
    field.choices = [("", "—"), *((str(team.pk), team.name) for team in teams)]


def unique_key(text: str, taken: set[str], fallback: str) -> str:
    """A key derived from a name (`Diagnose the fault` → `diagnose-the-fault`), unique among `taken`;
    `fallback` (`step-3`) when the name has no Latin letters or digits."""
    base = slugify(text)[:CODE_MAX].strip("-_") or fallback
    key, number = base, 2
    while key in taken:
        suffix = f"-{number}"
        key, number = f"{base[: CODE_MAX - len(suffix)]}{suffix}", number + 1
    return key


def step_label(index: int, steps: list[StepData]) -> str:
    name = steps[index].name if index < len(steps) else ""
    return _("Step %(number)d (%(name)s)") % {"number": index + 1, "name": name}


def describe_step_errors(exc: DomainError, steps: list[StepData]) -> list[str]:
    """A service's field errors as sentences naming the step: "Step 3 (Parts): …"."""
    lines = []
    for path, text in exc.fields.items():
        match = _STEP_PATH.fullmatch(path)
        if match is None:
            lines.append(text)
        else:
            lines.append(f"{step_label(int(match.group(1)), steps)}: {text}")
    return lines or [exc.message]


class SopNewForm(DomainErrorsMixin, forms.Form):
    """A new SOP with its first draft and that draft's first step (more are added on the draft)."""

    code = _code_field(gettext_lazy("Lower-case letters, digits, hyphens: fault-repair."))
    name = _name_field()
    description = _description_field()
    reason = _sop_reason_field()
    step_name = _name_field(gettext_lazy("Name of the first step"))
    step_key = forms.CharField(
        label=gettext_lazy("Key of the first step"),
        max_length=CODE_MAX,
        required=False,
        help_text=gettext_lazy("Leave empty to derive it from the name."),
    )
    step_owner = forms.ChoiceField(label=gettext_lazy("Carried out by"), choices=StepOwner.choices)
    step_team = _team_field()
    step_time_standard_minutes = DurationField(label=gettext_lazy("Time standard"), required=True)

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_team_choices(self.fields["step_team"], teams)

    def first_step(self) -> StepData:
        data = self.cleaned_data
        return StepData(
            key=data["step_key"].strip() or unique_key(data["step_name"], set(), "step-1"),
            name=data["step_name"],
            owner=data["step_owner"],
            team=data["step_team"],
            time_standard_minutes=data["step_time_standard_minutes"],
        )

    def add_domain_errors(self, exc: DomainError) -> None:
        """`steps[0].team` → step_team; the SOP's own fields → theirs."""
        placed = False
        for path, text in exc.fields.items():
            match = _STEP_PATH.fullmatch(path)
            field = f"step_{match.group(2)}" if match and match.group(2) and not match.group(3) else path
            if field in self.fields:
                self.add_error(field, text)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class DraftDetailsForm(DomainErrorsMixin, forms.Form):
    """A draft's reason for change, and the SOP's name and description."""

    name = _name_field(gettext_lazy("SOP name"))
    description = _description_field()
    reason = _sop_reason_field()
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DraftStartForm(forms.Form):
    reason = _sop_reason_field(gettext_lazy("Why a new version?"))


class DraftActionForm(forms.Form):
    """Delete or move one step: the revision of the draft the page showed, and the direction."""

    revision = forms.IntegerField(min_value=1)
    direction = forms.ChoiceField(
        choices=[("up", "up"), ("down", "down")], required=False, error_messages={"invalid_choice": ""}
    )


class ApproveForm(DomainErrorsMixin, forms.Form):
    effective_from = forms.DateField(
        label=gettext_lazy("Takes effect on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Today or later; new tickets get the version in effect the day they open."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"effective_from": selectors.company_day()})
        super().__init__(*args, **kwargs)


class StepForm(forms.Form):
    """One step of a draft (its checkpoints are a formset beside it)."""

    name = _name_field()
    key = forms.CharField(
        label=gettext_lazy("Key"),
        max_length=CODE_MAX,
        required=False,
        help_text=gettext_lazy(
            "Follows the step from version to version (reports, comparisons). Leave empty to derive it "
            "from the name."
        ),
    )
    owner = forms.ChoiceField(label=gettext_lazy("Carried out by"), choices=StepOwner.choices)
    team = _team_field()
    time_standard_minutes = DurationField(label=gettext_lazy("Time standard"), required=True)
    parallel_group = forms.CharField(
        label=gettext_lazy("Parallel group"),
        max_length=CODE_MAX,
        required=False,
        help_text=gettext_lazy(
            "Consecutive steps with the same group (e.g. work) run side by side; the next step starts "
            "when all of them are done."
        ),
    )
    is_milestone = forms.BooleanField(label=gettext_lazy("Customer-visible milestone"), required=False)
    milestone_name = forms.CharField(
        label=gettext_lazy("Milestone name the customer sees"),
        max_length=NAME_MAX,
        required=False,
        help_text=gettext_lazy("Empty: the step's name."),
    )
    guidance = forms.CharField(
        label=gettext_lazy("Guidance"),
        max_length=GUIDANCE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "code"}),
        help_text=gettext_lazy("Markdown: **bold**, lists, links, tables."),
    )
    place = forms.ChoiceField(label=gettext_lazy("Place"), required=False)
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(
        self, *args: Any, teams: list[Team], places: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_team_choices(self.fields["team"], teams)
        if places is None:
            del self.fields["place"]
        else:
            place_field = self.fields["place"]
            assert isinstance(place_field, forms.ChoiceField)
            place_field.choices = places

    @staticmethod
    def initial_for(step: StepData, revision: int) -> dict[str, Any]:
        return {
            "name": step.name,
            "key": step.key,
            "owner": step.owner,
            "team": step.team.pk if isinstance(step.team, Team) else step.team,
            "time_standard_minutes": format_duration(step.time_standard_minutes),
            "parallel_group": step.parallel_group,
            "is_milestone": step.is_milestone,
            "milestone_name": step.milestone_name,
            "guidance": step.guidance,
            "revision": revision,
        }

    def step(
        self, checkpoints: list[CheckpointData], *, taken: set[str], number: int, current_key: str | None
    ) -> StepData:
        """The step as the service takes it. A blank key keeps the step's current one, or for a new step
        is derived from its name."""
        data = self.cleaned_data
        return StepData(
            key=data["key"].strip() or current_key or unique_key(data["name"], taken, f"step-{number}"),
            name=data["name"],
            owner=data["owner"],
            team=data["team"],
            time_standard_minutes=data["time_standard_minutes"],
            parallel_group=data["parallel_group"].strip(),
            is_milestone=data["is_milestone"],
            milestone_name=data["milestone_name"],
            guidance=data["guidance"],
            checkpoints=checkpoints,
        )


def _plain_number(value: float | None) -> float | int | None:
    """8.0 → 8, so that the field shows "8"; other values as they are."""
    return int(value) if value is not None and value.is_integer() else value


class CheckpointForm(forms.Form):
    """One row of a step's checkpoints. A row left blank is ignored; `DELETE` drops a row."""

    label = forms.CharField(label=gettext_lazy("Question"), max_length=LABEL_MAX)
    key = forms.CharField(label=gettext_lazy("Key"), max_length=CODE_MAX, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Answer"), choices=[("", "—"), *CheckpointKind.choices])
    mandatory = forms.BooleanField(label=gettext_lazy("Mandatory"), required=False, initial=True)
    critical = forms.BooleanField(label=gettext_lazy("Critical"), required=False)
    min_value = forms.FloatField(
        label=gettext_lazy("Lowest passing value"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    max_value = forms.FloatField(
        label=gettext_lazy("Highest passing value"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=UNIT_MAX, required=False)

    @staticmethod
    def initial_for(checkpoint: CheckpointData) -> dict[str, Any]:
        return {
            "label": checkpoint.label,
            "key": checkpoint.key,
            "kind": checkpoint.kind,
            "mandatory": checkpoint.mandatory,
            "critical": checkpoint.critical,
            "min_value": _plain_number(checkpoint.min_value),
            "max_value": _plain_number(checkpoint.max_value),
            "unit": checkpoint.unit,
        }

    def checkpoint(self, *, taken: set[str], number: int) -> CheckpointData:
        data = self.cleaned_data
        return CheckpointData(
            key=data["key"].strip() or unique_key(data["label"], taken, f"check-{number}"),
            label=data["label"],
            kind=data["kind"],
            mandatory=data["mandatory"],
            critical=data["critical"],
            min_value=data["min_value"],
            max_value=data["max_value"],
            unit=data["unit"],
        )


class BaseCheckpointFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def kept_forms(self) -> list[CheckpointForm]:
        """The rows to save: filled in and not marked for removal, in the order shown."""
        kept = []
        for index, form in enumerate(self.forms):
            blank = index >= self.initial_form_count() and not form.has_changed()
            if blank or (self.can_delete and form.cleaned_data.get("DELETE")):
                continue
            assert isinstance(form, CheckpointForm)
            kept.append(form)
        return kept

    def add_non_form_error(self, text: str) -> None:
        """An error about the rows as a whole (too many checkpoints), shown above them."""
        self._non_form_errors = self.error_class([*self.non_form_errors(), text])

    def checkpoints(self, kept: list[CheckpointForm]) -> list[CheckpointData]:
        """The kept rows as CheckpointData; blank keys derived from the question, unique in the step."""
        taken = {form.cleaned_data["key"].strip() for form in kept} - {""}
        rows = []
        for number, form in enumerate(kept, start=1):
            row = form.checkpoint(taken=taken, number=number)
            taken.add(row.key)
            rows.append(row)
        return rows


CheckpointFormSet = forms.formset_factory(
    CheckpointForm,
    formset=BaseCheckpointFormSet,
    extra=1,
    can_delete=True,
    max_num=MAX_CHECKPOINTS,
    validate_max=True,
)
CHECKPOINT_PREFIX = "cp"


def checkpoint_formset(data: Any, checkpoints: list[CheckpointData]) -> BaseCheckpointFormSet:
    """The checkpoints editor of one step, bound to `data` (a POST) or not (None)."""
    formset = CheckpointFormSet(
        data, initial=[CheckpointForm.initial_for(cp) for cp in checkpoints], prefix=CHECKPOINT_PREFIX
    )
    assert isinstance(formset, BaseCheckpointFormSet)
    return formset


def place_step_errors(
    exc: DomainError,
    *,
    index: int,
    form: forms.Form,
    formset: BaseCheckpointFormSet,
    kept: list[CheckpointForm],
    steps: list[StepData],
) -> None:
    """Put a sop_draft_save error beside the field it names: `steps[index].team` on the step form,
    `steps[index].checkpoints[1].min_value` on the second kept checkpoint row. Errors of other steps
    and of the whole draft go above the form, naming the step."""
    general: list[str] = []
    for path, text in exc.fields.items():
        match = _STEP_PATH.fullmatch(path)
        if match is None:
            general.append(text)
            continue
        step, field, row, row_field = (
            int(match.group(1)),
            match.group(2),
            match.group(3),
            match.group(4),
        )
        if step != index:
            general.append(f"{step_label(step, steps)}: {text}")
        elif row is not None and int(row) < len(kept):
            target = kept[int(row)]
            target.add_error(row_field if row_field in target.fields else None, text)
        elif field == "checkpoints":
            formset.add_non_form_error(text)
        elif field in form.fields:
            form.add_error(field, text)
        else:
            general.append(text)
    for text in general or ([] if exc.fields else [exc.message]):
        form.add_error(None, text)


class HandbookForm(forms.Form):
    FORMATS = (
        ("html", gettext_lazy("Web page (HTML, printable)")),
        ("markdown", gettext_lazy("Markdown file")),
    )

    day = forms.DateField(
        label=gettext_lazy("Procedures in effect on"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Format"), choices=FORMATS, widget=forms.RadioSelect, initial="html"
    )
