"""App configuration for pledge.portal."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "pledge.portal"
    label = "portal"
    verbose_name = _("Portal")
