"""Form pieces shared by every app: service errors beside the fields, and multi-file uploads."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pledge.core.errors import DomainError
from pledge.core.uploads import ALLOWED_TYPES


def new_form_token() -> str:
    """The hidden token of a create form: its submissions share one idempotency key, so a double click
    creates one record."""
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
