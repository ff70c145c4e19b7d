"""Enumerations for business calendars: weekdays as the calendar files name them, and holiday sets."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MON = 0, _("Monday")
    TUE = 1, _("Tuesday")
    WED = 2, _("Wednesday")
    THU = 3, _("Thursday")
    FRI = 4, _("Friday")
    SAT = 5, _("Saturday")
    SUN = 6, _("Sunday")


# The short names calendar files use, Monday = 0 as in `date.weekday()`.
WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HolidaySetCode(models.TextChoices):
    CN_STATUTORY = "cn-statutory", _("Chinese statutory holidays and make-up workdays")


class SlaTarget(models.TextChoices):
    """The promises an SLA policy times, each with its own clock on a ticket."""

    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")
    ON_SITE = "on_site", _("On-site arrival")


class EscalationRecipient(models.TextChoices):
    """Who an escalation level notifies."""

    ASSIGNEE = "assignee", _("Assignee")
    TEAM_LEAD = "team_lead", _("Team lead")
    SERVICE_MANAGERS = "service_managers", _("Service managers")
    WATCHERS = "watchers", _("Watchers")


class ClockTarget(models.TextChoices):
    """Everything a ticket's clocks time: the SLA promises, plus each SOP step's time standard."""

    FIRST_RESPONSE = SlaTarget.FIRST_RESPONSE.value, SlaTarget.FIRST_RESPONSE.label
    NEXT_RESPONSE = SlaTarget.NEXT_RESPONSE.value, SlaTarget.NEXT_RESPONSE.label
    RESOLUTION = SlaTarget.RESOLUTION.value, SlaTarget.RESOLUTION.label
    ON_SITE = SlaTarget.ON_SITE.value, SlaTarget.ON_SITE.label
    SOP_STEP = "sop_step", _("SOP step")
    HANDOFF = "handoff", _("Back-office hand-off (OLA)")


# Clock targets that are steps of the ticket's standard procedure rather than promises to the customer:
# a step's time standard, and for a back-office step the team's internal deadline (OLA).
STEP_TARGETS: tuple[str, ...] = (ClockTarget.SOP_STEP, ClockTarget.HANDOFF)


class ServiceCategory(models.TextChoices):
    FIELD = "field", _("Field service")
    REMOTE = "remote", _("Remote service")
    ADVISORY = "advisory", _("Advice and consultation")
    COMPLAINT = "complaint", _("Complaint handling")


class StepOwner(models.TextChoices):
    """Who carries out an SOP step: a role, or the team named on the step."""

    FRONTLINE = "frontline", _("Frontline")
    FIELD = "field", _("Field engineer")
    BACK_OFFICE = "back_office", _("Back-office")


class CheckpointKind(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no")
    NUMBER = "number", _("Number")
    TEXT = "text", _("Text")
    FILE = "file", _("File")
    PHOTO = "photo", _("Photo")


class SopVersionStatus(models.TextChoices):
    """Stored states. An approved version is *scheduled* before its effective date, *in effect* from it,
    and *superseded* once a later approved version takes effect (computed: see selectors)."""

    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
