"""Business calendars (working hours, holidays, make-up workdays, versions) and imported holiday years.

A calendar is stored as rows; its file form (calendar_files.py) is the exchange format and the snapshot
kept with every version. Writes go through services.py, which bumps `version` and records it.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from pledge.standards.choices import (
    CheckpointKind,
    ClockTarget,
    HolidaySetCode,
    ServiceCategory,
    SopVersionStatus,
    StepOwner,
    Weekday,
)
from pledge.tickets.choices import Kind, Priority

CODE_MAX = 50
NAME_MAX = 200
SITE_MAX = 200
TIMEZONE_MAX = 64


@cache
def known_timezones() -> frozenset[str]:
    """The IANA zone names this machine knows (read once: listing them scans the tz database)."""
    return frozenset(available_timezones())


def validate_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone such as Asia/Shanghai."),
            code="timezone",
            params={"value": value},
        )


class BusinessCalendar(models.Model):
    """Weekly working hours in a time zone, plus holidays and make-up workdays.

    `weekly` is stored as the file writes it: {"mon": ["09:00-12:00", "13:00-18:00"], …}, weekdays
    without working time left out. `holiday_sets` lists built-in sets (HolidaySetCode) whose holidays
    and make-up days apply. A calendar may belong to a team, a contract or a site (at most one).
    """

    code = models.SlugField(_("code"), max_length=CODE_MAX, unique=True)
    name = models.CharField(_("name"), max_length=NAME_MAX)
    timezone = models.CharField(_("time zone"), max_length=TIMEZONE_MAX, validators=[validate_timezone])
    weekly = models.JSONField(_("weekly working hours"), default=dict, blank=True)
    holiday_sets = models.JSONField(_("holiday sets"), default=list, blank=True)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calendars",
    )
    contract = models.ForeignKey(
        "customers.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calendars",
    )
    site = models.CharField(_("site"), max_length=SITE_MAX, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    # The working days and hours (lib.businesstime.spec_to_data) that the SLA deadlines stored as positions
    # on this calendar were counted on: a recount after a change compares them with the new ones and
    # rewrites only the clocks counted from after the first changed day.
    counted_spec = models.JSONField(
        _("days the stored deadlines count on"), default=dict, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(team__isnull=True, contract__isnull=True)
                    | models.Q(team__isnull=True, site="")
                    | models.Q(contract__isnull=True, site="")
                ),
                name="calendar_one_owner_at_most",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class CalendarHoliday(models.Model):
    """A date off on one calendar. Inactive, it is kept but the day is a normal day: that is also how a
    calendar works on a day its holiday set has off."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=NAME_MAX, blank=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive holiday makes the day a normal day.")
    )

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendar_holiday_unique")]

    def __str__(self) -> str:
        return self.date.isoformat()


class CalendarMakeupDay(models.Model):
    """A date that works with the hours of a named weekday (调休上班)."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="makeup_days"
    )
    date = models.DateField(_("date"))
    weekday = models.PositiveSmallIntegerField(
        _("hours of"), choices=Weekday.choices, help_text=_("The weekday whose working hours apply.")
    )

    class Meta:
        verbose_name = _("make-up workday")
        verbose_name_plural = _("make-up workdays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_makeup_day_unique"),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="calendar_makeup_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.date.isoformat()


class CalendarVersion(models.Model):
    """One recorded version of a calendar: the whole calendar in the file format, who, when and why."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("snapshot"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar version")
        verbose_name_plural = _("calendar versions")
        ordering = ["calendar", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "version"], name="calendar_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.calendar_id} v{self.version}"


class HolidaySetYear(models.Model):
    """One year of a holiday set imported from the official schedule, for years the built-in data lacks
    (or to correct it: an imported year replaces the built-in one).

    `holidays` is a list of ISO dates and `makeup_workdays` {ISO date: weekday 0-6}; dates may fall in
    the neighbouring year (a late-December make-up day).
    """

    set_code = models.CharField(_("holiday set"), max_length=40, choices=HolidaySetCode.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    holidays = models.JSONField(_("holidays"), default=list)
    makeup_workdays = models.JSONField(_("make-up workdays"), default=dict)
    source = models.CharField(_("source"), max_length=500, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("holiday set year")
        verbose_name_plural = _("holiday set years")
        ordering = ["set_code", "year"]
        constraints = [
            models.UniqueConstraint(fields=["set_code", "year"], name="holiday_set_year_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.set_code} {self.year}"


# ---------------------------------------------------------------------------------------------------
# SLA policies


def default_pause_statuses() -> list[str]:
    return ["waiting_customer", "waiting_parts"]


class TargetMinutes(models.Model):
    """Business minutes for each SLA target (empty: not promised, or not overridden)."""

    first_response_minutes = models.PositiveIntegerField(
        _("first response (business minutes)"), null=True, blank=True
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response (business minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (business minutes)"), null=True, blank=True
    )
    on_site_minutes = models.PositiveIntegerField(
        _("on-site arrival (business minutes)"), null=True, blank=True
    )

    class Meta:
        abstract = True

    def target_minutes(self, target: str) -> int | None:
        value: int | None = getattr(self, f"{target}_minutes", None)
        return value


class SlaPolicy(TargetMinutes):
    """Which promises apply to which tickets, timed on which calendar.

    Policies are tried in `position` order; a contract's own policies (those with `contract` set) are
    tried before the general ones, and the first whose conditions all hold applies. An empty condition
    list matches anything. Targets are business minutes on `calendar`; a target left empty is not
    promised. While a ticket is in one of `pause_statuses` its clocks stand still.
    """

    name = models.CharField(_("name"), max_length=NAME_MAX)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    contract = models.ForeignKey(
        "customers.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        help_text=_("A contract's own policy wins over the general ones."),
    )
    tiers = models.JSONField(_("organisation tiers"), default=list, blank=True)
    kinds = models.JSONField(_("ticket kinds"), default=list, blank=True)
    priorities = models.JSONField(_("priorities"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    service_types = models.JSONField(_("service types"), default=list, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="sla_policies"
    )
    pause_statuses = models.JSONField(
        _("statuses that pause the clock"), default=default_pause_statuses, blank=True
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    """What happens when a clock has used `percent` of its target (100 = at breach, 150 = half the target
    again after it). Each level fires once per clock."""

    policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy"), on_delete=models.CASCADE, related_name="escalation_levels"
    )
    target = models.CharField(_("target"), max_length=20, choices=ClockTarget.choices)
    # xgettext:no-python-format
    percent = models.PositiveSmallIntegerField(_("at % of the target"))
    notify = models.JSONField(_("notify"), default=list, blank=True)
    raise_priority = models.BooleanField(_("raise priority"), default=False)
    reassign_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("hand to team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    add_watcher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("add watcher"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        ordering = ["policy", "target", "percent"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "target", "percent"], name="escalation_level_unique"),
            models.CheckConstraint(
                condition=models.Q(percent__gte=1, percent__lte=1000), name="escalation_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.target} {self.percent}%"


# ---------------------------------------------------------------------------------------------------
# The service catalogue and standard operating procedures


class ServiceType(TargetMinutes):
    """One service the company offers (installation, fault repair …): how its tickets start, which SOP
    they follow, and the SLA targets it overrides."""

    code = models.SlugField(_("code"), max_length=CODE_MAX, unique=True)
    name = models.CharField(_("name"), max_length=NAME_MAX)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=ServiceCategory.choices)
    default_kind = models.CharField(
        _("default kind"), max_length=20, choices=Kind.choices, default=Kind.REQUEST
    )
    default_priority = models.CharField(
        _("default priority"), max_length=2, choices=Priority.choices, default=Priority.P3
    )
    skills = models.JSONField(_("required skills"), default=list, blank=True)
    sop = models.ForeignKey(
        "Sop",
        verbose_name=_("SOP"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_types",
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        on_delete=models.PROTECT,
        related_name="service_types",
        help_text=_("Times the SOP steps of tickets that no SLA policy covers."),
    )
    customer_selectable = models.BooleanField(
        _("customers can choose it"), default=True, help_text=_("Offered in the portal and the API.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("service type")
        verbose_name_plural = _("service types")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Sop(models.Model):
    """A standard operating procedure: a named sequence of versions, one of which is in effect."""

    code = models.SlugField(_("code"), max_length=CODE_MAX, unique=True)
    name = models.CharField(_("name"), max_length=NAME_MAX)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SOP")
        verbose_name_plural = _("SOPs")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SopVersion(models.Model):
    """One version of an SOP. A draft is edited freely; approval (by a service manager) freezes it and
    sets the date it takes effect. Tickets keep the version in effect when they were created."""

    sop = models.ForeignKey(Sop, verbose_name=_("SOP"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=12, choices=SopVersionStatus.choices, default=SopVersionStatus.DRAFT
    )
    reason = models.TextField(_("reason for change"))
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # Bumped by every change to a draft; a save naming an older one is refused as stale.
    revision = models.PositiveIntegerField(_("revision"), default=1)

    class Meta:
        verbose_name = _("SOP version")
        verbose_name_plural = _("SOP versions")
        ordering = ["sop", "number"]
        constraints = [
            models.UniqueConstraint(fields=["sop", "number"], name="sop_version_unique"),
            # At most one draft per SOP at a time.
            models.UniqueConstraint(fields=["sop"], condition=models.Q(status="draft"), name="sop_one_draft"),
            # Two approved versions never take effect on the same day.
            models.UniqueConstraint(
                fields=["sop", "effective_from"],
                condition=models.Q(status="approved"),
                name="sop_version_effective_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sop_id} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.status == SopVersionStatus.DRAFT


class SopStep(models.Model):
    """One step of an SOP version. Consecutive steps with the same `parallel_group` run side by side;
    the next step starts when all of them are done."""

    version = models.ForeignKey(
        SopVersion, verbose_name=_("SOP version"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    # Stable across versions: diffs, KPIs per step and bottlenecks follow a step by its key.
    key = models.SlugField(_("key"), max_length=CODE_MAX)
    name = models.CharField(_("name"), max_length=NAME_MAX)
    owner = models.CharField(_("owner"), max_length=20, choices=StepOwner.choices)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    time_standard_minutes = models.PositiveIntegerField(_("time standard (business minutes)"))
    parallel_group = models.CharField(_("parallel group"), max_length=CODE_MAX, blank=True)
    is_milestone = models.BooleanField(_("customer-visible milestone"), default=False)
    milestone_name = models.CharField(_("milestone name the customer sees"), max_length=NAME_MAX, blank=True)
    guidance = models.TextField(_("guidance (Markdown)"), blank=True)

    class Meta:
        verbose_name = _("SOP step")
        verbose_name_plural = _("SOP steps")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="sop_step_position_unique"),
            models.UniqueConstraint(fields=["version", "key"], name="sop_step_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Checkpoint(models.Model):
    """A quality control point of a step: a question the person doing the step answers.

    Mandatory checkpoints must be answered before the ticket is resolved; a critical one must also
    pass (yes, or a number within its limits)."""

    step = models.ForeignKey(
        SopStep, verbose_name=_("SOP step"), on_delete=models.CASCADE, related_name="checkpoints"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    key = models.SlugField(_("key"), max_length=CODE_MAX)
    label = models.CharField(_("question"), max_length=NAME_MAX)
    kind = models.CharField(_("answer"), max_length=12, choices=CheckpointKind.choices)
    mandatory = models.BooleanField(_("mandatory"), default=True)
    critical = models.BooleanField(_("critical"), default=False)
    min_value = models.FloatField(_("lowest passing value"), null=True, blank=True)
    max_value = models.FloatField(_("highest passing value"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["step", "position"]
        constraints = [
            models.UniqueConstraint(fields=["step", "key"], name="checkpoint_key_unique"),
        ]

    def __str__(self) -> str:
        return self.label
