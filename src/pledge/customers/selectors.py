"""Reads of customer data, always filtered by what the user may see."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from pledge.accounts import policies as account_policies
from pledge.core.cache import ExpiringCache
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


def _search(
    qs: QuerySet[Any], organisation_field: str, organisation_id: int | None, text: str, *fields: str
) -> QuerySet[Any]:
    if organisation_id is not None:
        qs = qs.filter(**{organisation_field: organisation_id})
    text = text.replace("\x00", "").strip()
    if text:
        match = Q()
        for name in fields:
            match |= Q(**{f"{name}__icontains": text})
        qs = qs.filter(match)
    return qs


def organisation_search_for(
    user: Any, *, organisation_id: int | None = None, q: str = ""
) -> QuerySet[Organisation]:
    """Organisations the user may see, by id and/or name, ordered by name."""
    return _search(organisation_list_for(user), "pk", organisation_id, q, "name").order_by("name", "pk")


def contact_search_for(user: Any, *, organisation_id: int | None = None, q: str = "") -> QuerySet[Contact]:
    """Contacts the user may see, by organisation and/or name, e-mail or phone, ordered by name."""
    qs = _search(contact_list_for(user), "organisation_id", organisation_id, q, "name", "email", "phone")
    return qs.order_by("name", "pk")


def asset_search_for(user: Any, *, organisation_id: int | None = None, q: str = "") -> QuerySet[Asset]:
    """Assets the user may see, by organisation and/or serial number, model or site."""
    qs = _search(
        asset_list_for(user), "organisation_id", organisation_id, q, "serial_number", "model", "site"
    )
    return qs.order_by("organisation__name", "serial_number", "pk")


def _get(qs: QuerySet[Any], pk: int, message: str) -> Any:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(message)
    return obj


# Organisations are reference data that every staff-created ticket reads. A per-process copy saves the
# query on that hot path; a change (a rename, a deactivation) shows there after at most
# settings.REFERENCE_CACHE_SECONDS. Customers never read from it: they are scoped to their own.
_recent_organisations: ExpiringCache[int, Organisation] = ExpiringCache()


def organisation_get_recent_for(user: Any, pk: int) -> Organisation:
    """Like `organisation_get_for`, but a staff lookup may answer from a copy a few seconds old."""
    seconds = settings.REFERENCE_CACHE_SECONDS
    if seconds <= 0 or not account_policies.is_staff_member(user):
        return organisation_get_for(user, pk)
    cached = _recent_organisations.get(pk)
    if cached is not None:
        return cached
    organisation = organisation_get_for(user, pk)
    _recent_organisations.put(pk, organisation, seconds)
    return organisation


def organisation_cache_clear() -> None:
    _recent_organisations.clear()


def organisation_get_for(user: Any, pk: int) -> Organisation:
    return _get(organisation_list_for(user), pk, _("Organisation not found."))


def contact_get_for(user: Any, pk: int) -> Contact:
    return _get(contact_list_for(user), pk, _("Contact not found."))


def asset_get_for(user: Any, pk: int) -> Asset:
    return _get(asset_list_for(user), pk, _("Asset not found."))
