"""Enumerations for customers and their equipment."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    ENERGY = "energy", _("Energy")
    CHEMICALS = "chemicals", _("Chemicals")
    FOOD = "food", _("Food and beverage")
    PHARMA = "pharma", _("Pharmaceuticals")
    AUTOMOTIVE = "automotive", _("Automotive")
    ELECTRONICS = "electronics", _("Electronics")
    LOGISTICS = "logistics", _("Logistics")
    OTHER = "other", _("Other")
