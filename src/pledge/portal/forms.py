"""Portal forms: they parse and check the shape of the input; the ticket services enforce the rules and
their ValidationFailed field errors are put back beside the fields with `add_domain_errors`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from pledge.core.forms import DomainErrorsMixin, MultipleFileField, attachment_help
from pledge.customers.forms import AssetChoiceField
from pledge.customers.models import Asset
from pledge.portal.wording import URGENCY_HINTS
from pledge.standards.models import ServiceType
from pledge.tickets.choices import CUSTOMER_TRANSITIONS, PORTAL_KINDS, Priority, Status
from pledge.tickets.services import BODY_MAX, SUBJECT_MAX


class TicketSubmitForm(DomainErrorsMixin, forms.Form):
    service_type = forms.ModelChoiceField(
        label=_("Which service do you need?"),
        queryset=ServiceType.objects.none(),
        required=False,
        empty_label=_("Not sure — our team will choose"),
        help_text=_("Choosing the service lets us follow its procedure and show you its milestones."),
        error_messages={"invalid_choice": _("Choose one of the services offered.")},
    )
    kind = forms.ChoiceField(
        label=_("What is it about?"),
        choices=[(kind.value, kind.label) for kind in PORTAL_KINDS],
        initial=PORTAL_KINDS[0].value,
        widget=forms.RadioSelect,
    )
    asset = AssetChoiceField(
        label=_("Which equipment?"),
        queryset=Asset.objects.none(),
        required=False,
        empty_label=_("Not about a specific machine"),
        help_text=_("Model · serial number · site, as on the machine's type plate."),
        error_messages={"invalid_choice": _("Choose one of your organisation's machines.")},
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=SUBJECT_MAX,
        help_text=_("One line, for example “Spindle overheats after two hours”."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("What happened, since when, any alarm codes, and what you have tried."),
    )
    priority = forms.ChoiceField(
        label=_("How urgent is it?"),
        choices=[(p.value, URGENCY_HINTS[p]) for p in Priority],
        initial=Priority.P3.value,
    )
    attachments = MultipleFileField(label=_("Photos and documents"))
    form_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(
        self,
        *args: Any,
        assets: QuerySet[Asset],
        service_types: QuerySet[ServiceType] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        asset_field = self.fields["asset"]
        assert isinstance(asset_field, AssetChoiceField)
        asset_field.queryset = assets
        if service_types is None:
            del self.fields["service_type"]  # none is offered: the field is not shown
        else:
            service_field = self.fields["service_type"]
            assert isinstance(service_field, forms.ModelChoiceField)
            service_field.queryset = service_types
        self.fields["attachments"].help_text = attachment_help()


class ReplyForm(DomainErrorsMixin, forms.Form):
    body = forms.CharField(
        label=_("Your reply"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField(label=_("Photos and documents"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachment_help()


_CUSTOMER_TARGETS = sorted({target for targets in CUSTOMER_TRANSITIONS.values() for target in targets})


class ConfirmForm(forms.Form):
    """Confirm a resolution (close) or say it is not solved (reopen), against the version the customer saw."""

    to = forms.ChoiceField(choices=[(status, Status(status).label) for status in _CUSTOMER_TARGETS])
    version = forms.IntegerField(min_value=1, max_value=2_000_000_000)
    reason = forms.CharField(max_length=1000, required=False)
