"""Enumerations for people and teams."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    TEAM_LEAD = "team_lead", _("Team lead")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    QA_INSPECTOR = "qa_inspector", _("QA inspector")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = frozenset({Role.AGENT, Role.TEAM_LEAD, Role.SERVICE_MANAGER, Role.QA_INSPECTOR, Role.ADMIN})
# Roles that see every ticket whatever its team.
ALL_TICKETS_ROLES = frozenset({Role.SERVICE_MANAGER, Role.QA_INSPECTOR, Role.ADMIN})
# Roles that may change tickets (reply, note, transition, assign).
WORKING_ROLES = frozenset({Role.AGENT, Role.TEAM_LEAD, Role.SERVICE_MANAGER, Role.ADMIN})


class TeamKind(models.TextChoices):
    FRONTLINE = "frontline", _("Frontline")
    FIELD = "field", _("Field service")
    BACK_OFFICE = "back_office", _("Back-office")
