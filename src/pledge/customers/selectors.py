"""Reads of customer data, always filtered by what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from pledge.core.errors import NotFound
from pledge.customers import policies
from pledge.customers.models import Asset, Contact, Contract, Organisation


def _scoped(qs: QuerySet[Any], user: Any, field: str) -> QuerySet[Any]:
    scope = policies.organisation_scope_q(user, field)
    return qs if scope is None else qs.filter(scope)


def organisation_list_for(user: Any) -> QuerySet[Organisation]:
    return _scoped(Organisation.objects.all(), user, "pk")


def contact_list_for(user: Any) -> QuerySet[Contact]:
    return _scoped(Contact.objects.select_related("organisation"), user, "organisation_id")


def asset_list_for(user: Any) -> QuerySet[Asset]:
    return _scoped(Asset.objects.select_related("organisation"), user, "organisation_id")


def contract_list_for(user: Any) -> QuerySet[Contract]:
    return _scoped(Contract.objects.select_related("organisation"), user, "organisation_id")


def _get(qs: QuerySet[Any], pk: int, message: str) -> Any:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(message)
    return obj


def organisation_get_for(user: Any, pk: int) -> Organisation:
    return _get(organisation_list_for(user), pk, _("Organisation not found."))


def contact_get_for(user: Any, pk: int) -> Contact:
    return _get(contact_list_for(user), pk, _("Contact not found."))


def asset_get_for(user: Any, pk: int) -> Asset:
    return _get(asset_list_for(user), pk, _("Asset not found."))
