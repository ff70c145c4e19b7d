"""Forms of the agent workspace: they parse and check request data; services do the writing."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from pledge.accounts.models import Team
from pledge.accounts.selectors import assignable_users
from pledge.core.forms import DomainErrorsMixin, MultipleFileField, attachment_help
from pledge.customers.forms import AssetChoiceField
from pledge.customers.models import Asset, Contact, Organisation
from pledge.standards.models import ServiceType
from pledge.tickets.choices import Channel, Kind, Priority, Status
from pledge.tickets.selectors import MAX_PAGE_SIZE, TicketFilters
from pledge.tickets.services import BODY_MAX, SUBJECT_MAX

QUEUE_VIEWS = (
    ("mine", _("Mine")),
    ("team", _("My team")),
    ("unassigned", _("Unassigned")),
    ("handoff", _("Handed to my team")),
    ("open", _("All open")),
    ("all", _("All")),
)
QUEUE_SORTS = (
    ("urgency", _("Urgency")),
    ("sla", _("SLA due")),
    ("newest", _("Newest")),
    ("oldest", _("Oldest")),
    ("updated", _("Recently updated")),
)
PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 25
# Commas (ASCII and full-width) and semicolons separate tags.
TAG_SEPARATORS = re.compile(r"[,，;；]")
TAGS_MAX_LENGTH = 1100
# The channels of a ticket that staff record: the portal and the API are the ones customers and their
# systems use themselves. A walk-in or a ticket opened at the customer's site is "on site".
STAFF_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.ON_SITE)
FORM_TOKEN_MAX = 100


def split_tags(raw: str) -> list[str]:
    """The tags typed in one box, in order; the service lower-cases, de-duplicates and bounds them."""
    return [part.strip() for part in TAG_SEPARATORS.split(raw) if part.strip()]


def _blank(choices: Any, label: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class QueueForm(forms.Form):
    """The queue's query string. Invalid values fall back to their defaults (see `cleaned`)."""

    view = forms.ChoiceField(choices=QUEUE_VIEWS, required=False)
    sort = forms.ChoiceField(choices=QUEUE_SORTS, required=False)
    q = forms.CharField(max_length=200, required=False)
    status = forms.ChoiceField(choices=_blank(Status.choices, _("Any status")), required=False)
    priority = forms.ChoiceField(choices=_blank(Priority.choices, _("Any priority")), required=False)
    kind = forms.ChoiceField(choices=_blank(Kind.choices, _("Any kind")), required=False)
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    page = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)
    page_size = forms.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)

    def __init__(self, data: Any, *, teams: list[Team]) -> None:
        super().__init__(data)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.TypedChoiceField)
        team_field.choices = [("", _("Any team")), *((str(t.pk), t.name) for t in teams)]

    def cleaned(self) -> dict[str, Any]:
        """Every field, with the default where the submitted value was missing or invalid."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "view": data.get("view") or "open",
            "sort": data.get("sort") or "urgency",
            "q": (data.get("q") or "").strip(),
            "status": data.get("status") or "",
            "priority": data.get("priority") or "",
            "kind": data.get("kind") or "",
            "team": data.get("team"),
            "page": data.get("page") or 1,
            "page_size": data.get("page_size") or DEFAULT_PAGE_SIZE,
        }

    @staticmethod
    def filters(values: dict[str, Any]) -> TicketFilters:
        return TicketFilters(
            view=values["view"],
            status=[values["status"]] if values["status"] else [],
            priority=[values["priority"]] if values["priority"] else [],
            kind=[values["kind"]] if values["kind"] else [],
            team_id=values["team"],
            q=values["q"],
        )


class ComposeForm(forms.Form):
    """A public reply or an internal note. Files are checked by the service (core.uploads)."""

    MODES = (("reply", _("Public reply")), ("note", _("Internal note")))

    mode = forms.ChoiceField(choices=MODES, initial="reply")
    body = forms.CharField(
        max_length=50_000,
        strip=False,
        error_messages={"required": _("Write a message first.")},
    )

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError(_("Write a message first."), code="required")
        return body


class VersionedForm(forms.Form):
    """Every change names the version of the ticket the agent loaded; the service refuses a stale one."""

    version = forms.IntegerField(
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={"required": _("The ticket version is missing; reload the ticket.")},
    )


class TransitionForm(VersionedForm):
    # Any status parses; the service decides under the row lock whether the move is allowed from the
    # status the ticket has now, so a stale page gets the stale-version message, not a choice error.
    to_status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    reason = forms.CharField(label=_("Reason"), max_length=1000, required=False)


class OverrideForm(VersionedForm):
    """Resolve over unanswered or failed checkpoints (service managers): the reason is required and logged."""

    override_reason = forms.CharField(
        label=_("Why resolve anyway?"),
        max_length=1000,
        error_messages={"required": _("Give the reason for resolving over the checkpoints.")},
    )

    def clean_override_reason(self) -> str:
        reason: str = self.cleaned_data["override_reason"].strip()
        if not reason:
            raise forms.ValidationError(
                _("Give the reason for resolving over the checkpoints."), code="required"
            )
        return reason


class StepForm(forms.Form):
    """Which button of a step's form was pressed: save the answers only, or complete the step too. The
    answers themselves (`answer-<key>`, files `evidence-<key>`) are read by `step_answers`."""

    ACTIONS = (("save", _("Save answers")), ("complete", _("Complete step")))

    action = forms.ChoiceField(choices=ACTIONS, initial="complete")


ANSWER_PREFIX = "answer-"
EVIDENCE_PREFIX = "evidence-"


def step_answers(data: Any, files: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """The checkpoint answers a step's form posted: key → text (blank fields left out) and key → file.
    Unknown keys go to the service, which names them in its errors."""
    answers = {
        name.removeprefix(ANSWER_PREFIX): str(data.get(name, ""))
        for name in data
        if name.startswith(ANSWER_PREFIX) and str(data.get(name, "")).strip()
    }
    evidence = {
        name.removeprefix(EVIDENCE_PREFIX): files[name]
        for name in files
        if name.startswith(EVIDENCE_PREFIX) and files[name]
    }
    return answers, evidence


class ArrivalForm(VersionedForm):
    """Record the engineer's arrival on site now."""


class TeamChoiceForm(forms.Form):
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.filter(is_active=True), required=False
    )


class AssignForm(VersionedForm):
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.filter(is_active=True), required=False
    )
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=assignable_users(None), required=False)


class PriorityForm(VersionedForm):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)


class TagsForm(VersionedForm):
    tags = forms.CharField(label=_("Tags"), max_length=TAGS_MAX_LENGTH, required=False)

    def clean_tags(self) -> list[str]:
        return split_tags(self.cleaned_data.get("tags") or "")


class ContactChoiceField(forms.ModelChoiceField[Contact]):
    def label_from_instance(self, obj: Contact) -> str:
        parts = [obj.name, obj.job_title, obj.phone or obj.email]
        return " · ".join(part for part in parts if part)


class ServiceTypeChoiceField(forms.ModelChoiceField[ServiceType]):
    def label_from_instance(self, obj: ServiceType) -> str:
        return _("%(name)s (%(kind)s, %(priority)s)") % {
            "name": obj.name,
            "kind": Kind(obj.default_kind).label,
            "priority": Priority(obj.default_priority).label,
        }


class TicketCreateForm(DomainErrorsMixin, forms.Form):
    """A ticket that staff record for a customer: a call, an e-mail, a walk-in.

    The choices of contact and asset are the chosen organisation's (the view passes them), so one of
    another organisation is a field error. The service checks the rest under its transaction (an active
    organisation and service type, the assignee's team, tags, the files' size, type and content); its
    field errors are put beside the fields with `add_domain_errors`. Empty kind and priority leave them
    to the service type (else service request, P3). The hidden `form_token` makes a double submission
    create one ticket."""

    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        error_messages={
            "required": _("Choose the organisation."),
            "invalid_choice": _("Choose an active organisation from the search results."),
        },
    )
    contact = ContactChoiceField(
        label=_("Contact"),
        queryset=Contact.objects.none(),
        required=False,
        empty_label=_("No contact named"),
        help_text=_("Who reported it. A contact with an e-mail address gets the ticket's e-mails."),
        error_messages={"invalid_choice": _("Choose one of this organisation's contacts.")},
    )
    asset = AssetChoiceField(
        label=_("Asset"),
        queryset=Asset.objects.none(),
        required=False,
        empty_label=_("Not about a specific machine"),
        help_text=_("Model · serial number · site, as on the machine's type plate."),
        error_messages={"invalid_choice": _("Choose one of this organisation's assets.")},
    )
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[(channel.value, channel.label) for channel in STAFF_CHANNELS],
        initial=Channel.PHONE.value,
    )
    service_type = ServiceTypeChoiceField(
        label=_("Service type"),
        queryset=ServiceType.objects.none(),
        required=False,
        empty_label=_("None (no procedure)"),
        help_text=_("A service type brings its procedure, and its kind and priority unless you set them."),
        error_messages={"invalid_choice": _("Choose one of the active service types.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=_blank(Kind.choices, _("Service type's default")),
        required=False,
        help_text=_("Left as default: the service type's kind, else service request."),
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=_blank(Priority.choices, _("Service type's default")),
        required=False,
        help_text=_("Left as default: the service type's priority, else P3 · Normal."),
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
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What the customer reports, since when, alarm codes, what they have tried."),
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label=_("No team"),
        widget=forms.Select(
            attrs={
                "hx-get": reverse_lazy("tickets:new_assignees"),
                "hx-trigger": "change",
                "hx-target": "#id_assignee",
                "hx-swap": "innerHTML",
            }
        ),
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=assignable_users(None), required=False, empty_label=_("Unassigned")
    )
    tags = forms.CharField(
        label=_("Tags"),
        max_length=TAGS_MAX_LENGTH,
        required=False,
        help_text=_("Separate tags with commas."),
        widget=forms.TextInput(attrs={"placeholder": _("hydraulics, urgent")}),
    )
    attachments = MultipleFileField(label=_("Attachments"))
    form_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=FORM_TOKEN_MAX)

    def __init__(
        self,
        *args: Any,
        organisations: QuerySet[Organisation],
        contacts: QuerySet[Contact],
        assets: QuerySet[Asset],
        service_types: QuerySet[ServiceType],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (
            ("organisation", organisations),
            ("contact", contacts),
            ("asset", assets),
            ("service_type", service_types),
        ):
            model_field = self.fields[name]
            assert isinstance(model_field, forms.ModelChoiceField)
            model_field.queryset = queryset
        self.fields["attachments"].help_text = attachment_help()

    def clean_tags(self) -> list[str]:
        return split_tags(self.cleaned_data.get("tags") or "")
