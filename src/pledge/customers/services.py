"""Writes for customer organisations, contacts, contracts and assets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pledge.accounts.choices import Role
from pledge.accounts.models import User
from pledge.core.errors import ValidationFailed
from pledge.customers.choices import Industry, Tier
from pledge.customers.models import Asset, Contact, Contract, Organisation

FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "model": gettext_lazy("Model"),
    "serial_number": gettext_lazy("Serial number"),
    "number": gettext_lazy("Contract number"),
}


def _require(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        label = str(FIELD_LABELS.get(field, field))
        raise ValidationFailed(_("%(field)s is required.") % {"field": label}, fields={field: _("Required.")})
    return value


@transaction.atomic
def organisation_create(
    *, name: str, tier: str = Tier.STANDARD, industry: str = Industry.OTHER, region: str = ""
) -> Organisation:
    name = _require(name, "name")
    if tier not in Tier.values:
        raise ValidationFailed(_("Unknown tier."), fields={"tier": _("Unknown tier.")})
    if industry not in Industry.values:
        raise ValidationFailed(_("Unknown industry."), fields={"industry": _("Unknown industry.")})
    if Organisation.objects.filter(name=name).exists():
        raise ValidationFailed(_("An organisation with this name exists."), fields={"name": _("Taken.")})
    return Organisation.objects.create(name=name, tier=tier, industry=industry, region=region.strip())


@transaction.atomic
def contact_create(
    *,
    organisation: Organisation,
    name: str,
    email: str = "",
    phone: str = "",
    job_title: str = "",
    user: User | None = None,
) -> Contact:
    name = _require(name, "name")
    if user is not None and user.role != Role.CUSTOMER:
        raise ValidationFailed(
            _("A portal login must have the customer role."), fields={"user": _("Not a customer.")}
        )
    return Contact.objects.create(
        organisation=organisation,
        name=name,
        email=email.strip(),
        phone=phone.strip(),
        job_title=job_title,
        user=user,
    )


@transaction.atomic
def asset_create(
    *,
    organisation: Organisation,
    model: str,
    serial_number: str,
    site: str = "",
    install_date: date | None = None,
    warranty_end: date | None = None,
) -> Asset:
    model = _require(model, "model")
    serial_number = _require(serial_number, "serial_number")
    if Asset.objects.filter(serial_number=serial_number).exists():
        raise ValidationFailed(
            _("An asset with this serial number exists."), fields={"serial_number": _("Taken.")}
        )
    if install_date and warranty_end and warranty_end < install_date:
        raise ValidationFailed(
            _("The warranty cannot end before installation."),
            fields={"warranty_end": _("Before the install date.")},
        )
    return Asset.objects.create(
        organisation=organisation,
        model=model,
        serial_number=serial_number,
        site=site.strip(),
        install_date=install_date,
        warranty_end=warranty_end,
    )


@transaction.atomic
def contract_create(
    *,
    organisation: Organisation,
    number: str,
    start_date: date,
    end_date: date,
    tier: str = Tier.STANDARD,
    assets: Iterable[Asset] = (),
    covered_kinds: Iterable[str] = (),
    coverage: str = "",
) -> Contract:
    number = _require(number, "number")
    if end_date < start_date:
        raise ValidationFailed(
            _("The contract ends before it starts."), fields={"end_date": _("Before start.")}
        )
    if tier not in Tier.values:
        raise ValidationFailed(_("Unknown tier."), fields={"tier": _("Unknown tier.")})
    asset_list = list(assets)
    if any(asset.organisation_id != organisation.pk for asset in asset_list):
        raise ValidationFailed(
            _("A contract covers only its organisation's assets."),
            fields={"assets": _("Wrong organisation.")},
        )
    contract = Contract.objects.create(
        organisation=organisation,
        number=number,
        tier=tier,
        start_date=start_date,
        end_date=end_date,
        covered_kinds=list(covered_kinds),
        coverage=coverage,
    )
    contract.assets.set(asset_list)
    return contract
