"""Account forms: preferences and personal API tokens. They check the input's shape; the account
services validate the rest and their field errors are put back beside the fields."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from pledge.core.forms import DomainErrorsMixin


class PreferencesForm(DomainErrorsMixin, forms.Form):
    timezone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        widget=forms.TextInput(attrs={"list": "tz-list", "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Dates and times are shown in this zone, for example Asia/Shanghai or Europe/Berlin."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Browser default")), *settings.LANGUAGES],
    )


class TokenCreateForm(DomainErrorsMixin, forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, for example “ERP integration”."),
    )
