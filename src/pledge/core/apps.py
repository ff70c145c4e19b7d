"""App configuration for pledge.core."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "pledge.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Each app's periodic sweeps live in its sweeps.py, registered on import (core/periodic.py).
        autodiscover_modules("sweeps")
