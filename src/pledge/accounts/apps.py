"""App configuration for pledge.accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "pledge.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
