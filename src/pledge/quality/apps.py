"""App configuration for pledge.quality: KPIs measured from what the other apps record."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "pledge.quality"
    label = "quality"
    verbose_name = _("Quality")
