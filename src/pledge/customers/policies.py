"""Who may see customer organisations, contacts, contracts and assets."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from pledge.accounts import policies as account_policies


def customer_organisation_id(user: Any) -> int | None:
    """The organisation a customer user belongs to (through their contact), or None."""
    if not account_policies.is_customer(user):
        return None
    cached = getattr(user, "_pledge_org_id", False)
    if cached is not False:
        return cached
    from pledge.customers.models import Contact

    org_id = (
        Contact.objects.filter(user_id=user.pk, is_active=True)
        .values_list("organisation_id", flat=True)
        .first()
    )
    user._pledge_org_id = org_id
    return org_id


def organisation_scope_q(user: Any, field: str = "organisation_id") -> Q | None:
    """A filter limiting rows to what the user may see; None means no limit (staff)."""
    if account_policies.is_staff_member(user):
        return None
    org_id = customer_organisation_id(user)
    if org_id is None:
        return Q(pk__in=[])
    return Q(**{field: org_id})


def can_view_organisation(user: Any, organisation: Any) -> bool:
    if account_policies.is_staff_member(user):
        return True
    return customer_organisation_id(user) == organisation.pk


def can_view_customer_record(user: Any, record: Any) -> bool:
    """Contacts, assets and contracts: staff see all; customers only their organisation's."""
    if account_policies.is_staff_member(user):
        return True
    org_id = customer_organisation_id(user)
    return org_id is not None and record.organisation_id == org_id


def can_manage_customers(user: Any) -> bool:
    """Create organisations, contacts and assets: service managers and administrators."""
    return account_policies.is_service_manager_or_admin(user)


def customer_contact(user: Any) -> Any:
    """The active contact through which a customer user belongs to an organisation, with the
    organisation loaded (one query), or None. Primes the cache of `customer_organisation_id`."""
    if not account_policies.is_customer(user):
        return None
    from pledge.customers.models import Contact

    contact = Contact.objects.select_related("organisation").filter(user_id=user.pk, is_active=True).first()
    user._pledge_org_id = contact.organisation_id if contact is not None else None
    return contact
