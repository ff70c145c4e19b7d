"""The filters of KPI pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pledge.accounts.choices import STAFF_ROLES
from pledge.accounts.models import Team, User
from pledge.quality.selectors import GROUPS
from pledge.standards.models import ServiceType, Sop

MAX_DAYS = 3 * 366
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


class ProcessFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(label=_("Group by"), choices=list(GROUPS.items()), initial="step")
    sop = forms.ChoiceField(label=_("SOP"), required=False)
    service_type = forms.ChoiceField(label=_("Service type"), required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    agent = forms.ModelChoiceField(label=_("Agent"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sop_field, type_field = self.fields["sop"], self.fields["service_type"]
        team_field, agent_field = self.fields["team"], self.fields["agent"]
        assert isinstance(sop_field, forms.ChoiceField)
        assert isinstance(type_field, forms.ChoiceField)
        assert isinstance(team_field, forms.ModelChoiceField)
        assert isinstance(agent_field, forms.ModelChoiceField)
        sop_field.choices = [("", _("All SOPs")), *Sop.objects.order_by("code").values_list("code", "name")]
        type_field.choices = [
            ("", _("All service types")),
            *ServiceType.objects.order_by("position", "id").values_list("code", "name"),
        ]
        team_field.queryset = Team.objects.filter(is_active=True).order_by("name")
        agent_field.queryset = User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by(
            "display_name", "username"
        )

    @staticmethod
    def defaults(today: date) -> dict[str, Any]:
        """The last 90 days, by step."""
        return {"start": today - timedelta(days=89), "end": today, "group_by": "step"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        for name, day in (("start", start), ("end", end)):
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(name, _("Choose a day between 1970 and 9998."))
        if start and end:
            if end < start:
                self.add_error("end", _("The end comes before the start."))
            elif (end - start).days > MAX_DAYS:
                self.add_error("end", _("At most three years at a time."))
        return cleaned
