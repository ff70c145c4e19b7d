"""Portal forms: they parse and check the shape of the input; the ticket services enforce the rules and
their ValidationFailed field errors are put back beside the fields with `add_domain_errors`."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from pledge.core.errors import DomainError
from pledge.core.uploads import ALLOWED_TYPES
from pledge.customers.models import Asset
from pledge.portal.wording import URGENCY_HINTS
from pledge.tickets.choices import CUSTOMER_TRANSITIONS, PORTAL_KINDS, Priority, Status
from pledge.tickets.services import BODY_MAX, SUBJECT_MAX


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def attachment_help() -> str:
    mb = settings.MAX_UPLOAD_BYTES // (1024 * 1024)
    count = settings.MAX_ATTACHMENTS_PER_MESSAGE
    text = ngettext(
        "Up to %(count)d file of at most %(mb)d MB.",
        "Up to %(count)d files, each at most %(mb)d MB.",
        count,
    ) % {"count": count, "mb": mb}
    types = _("Accepted: %(types)s.") % {"types": ", ".join(sorted(ALLOWED_TYPES))}
    return f"{text} {types}"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that accepts several files and cleans to a (possibly empty) list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept_attribute()}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, list | tuple) else [data]
        single = super().clean
        files = [single(item, initial) for item in items if item]
        limit = settings.MAX_ATTACHMENTS_PER_MESSAGE
        if len(files) > limit:
            raise forms.ValidationError(
                ngettext("At most %(n)d file at a time.", "At most %(n)d files at a time.", limit)
                % {"n": limit}
            )
        return files


def accept_attribute() -> str:
    return ",".join(f".{ext}" for ext in sorted(ALLOWED_TYPES))


class DomainErrorsMixin:
    """Puts a service's per-field errors beside the form's fields (the rest above the form)."""

    def add_domain_errors(self, exc: DomainError) -> None:
        assert isinstance(self, forms.Form)
        placed = False
        for field, text in exc.fields.items():
            if field in self.fields:
                if field == "attachments":
                    # The summary names the file at fault; the field text says what is accepted.
                    self.add_error(field, exc.message)
                self.add_error(field, text)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class AssetChoiceField(forms.ModelChoiceField[Asset]):
    def label_from_instance(self, obj: Asset) -> str:
        parts = [obj.model, obj.serial_number]
        if obj.site:
            parts.append(obj.site)
        return " · ".join(parts)


class TicketSubmitForm(DomainErrorsMixin, forms.Form):
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

    def __init__(self, *args: Any, assets: QuerySet[Asset], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        asset_field = self.fields["asset"]
        assert isinstance(asset_field, AssetChoiceField)
        asset_field.queryset = assets
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
