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
