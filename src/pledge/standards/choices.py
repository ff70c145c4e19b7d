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
