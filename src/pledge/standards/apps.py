"""App configuration for pledge.standards: business calendars (and later SLA policies and SOPs)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StandardsConfig(AppConfig):
    name = "pledge.standards"
    label = "standards"
    verbose_name = _("Service standards")

    def ready(self) -> None:
        from django.core import checks

        from pledge.standards.checks import holiday_data_check

        checks.register(holiday_data_check)
