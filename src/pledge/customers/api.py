"""API of customer organisations, contacts and assets. Customers see only their own organisation."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from pledge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pledge.core.schemas import QueryId, error_responses
from pledge.customers import policies, selectors, services
from pledge.customers.models import Asset, Contact, Organisation
from pledge.customers.schemas import (
    AssetIn,
    AssetOut,
    AssetPage,
    ContactIn,
    ContactOut,
    ContactPage,
    CustomerListQuery,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
)

router = Router(tags=["customers"])

M = TypeVar("M", bound=Model)


def _page(qs: QuerySet[M], query: CustomerListQuery) -> dict[str, Any]:
    """One page without COUNT(*): fetch one row more than asked to know whether another page follows."""
    offset = (query.page - 1) * query.page_size
    rows = list(qs[offset : offset + query.page_size + 1])
    return {
        "items": rows[: query.page_size],
        "page": query.page,
        "page_size": query.page_size,
        "has_next": len(rows) > query.page_size,
    }


def _require_manager(request: HttpRequest) -> None:
    if not policies.can_manage_customers(request.user):
        raise PermissionDenied(_("Only service managers and administrators can add customer records."))


def _organisation_for_write(request: HttpRequest, organisation_id: int) -> Organisation:
    try:
        return selectors.organisation_get_for(request.user, organisation_id)
    except NotFound:
        raise ValidationFailed(
            _("Unknown organisation."), fields={"organisation_id": _("No such organisation.")}
        ) from None


def _duplicate() -> Conflict:
    return Conflict(_("A record with these details was added at the same time. Reload and check."))


@router.get(
    "/organisations",
    response={200: OrganisationPage, **error_responses(422)},
    summary="List organisations",
)
def organisation_list(request: HttpRequest, query: Query[CustomerListQuery]) -> dict[str, Any]:
    qs = selectors.organisation_search_for(request.user, organisation_id=query.organisation_id, q=query.q)
    return _page(qs, query)


@router.get(
    "/organisations/{organisation_id}",
    response={200: OrganisationOut, **error_responses(404, 422)},
    summary="Get an organisation",
)
def organisation_get(request: HttpRequest, organisation_id: QueryId) -> Organisation:
    return selectors.organisation_get_for(request.user, organisation_id)


@router.post(
    "/organisations",
    response={201: OrganisationOut, **error_responses(400, 403, 409, 422)},
    summary="Add an organisation (service managers, administrators)",
)
def organisation_create(request: HttpRequest, payload: OrganisationIn) -> Status[Organisation]:
    _require_manager(request)
    try:
        organisation = services.organisation_create(
            name=payload.name, tier=payload.tier, industry=payload.industry, region=payload.region
        )
    except IntegrityError:
        raise _duplicate() from None
    return Status(201, organisation)


@router.get(
    "/contacts",
    response={200: ContactPage, **error_responses(422)},
    summary="List contacts",
)
def contact_list(request: HttpRequest, query: Query[CustomerListQuery]) -> dict[str, Any]:
    qs = selectors.contact_search_for(request.user, organisation_id=query.organisation_id, q=query.q)
    return _page(qs, query)


@router.get(
    "/contacts/{contact_id}",
    response={200: ContactOut, **error_responses(404, 422)},
    summary="Get a contact",
)
def contact_get(request: HttpRequest, contact_id: QueryId) -> Contact:
    return selectors.contact_get_for(request.user, contact_id)


@router.post(
    "/contacts",
    response={201: ContactOut, **error_responses(400, 403, 409, 422)},
    summary="Add a contact (service managers, administrators)",
)
def contact_create(request: HttpRequest, payload: ContactIn) -> Status[Contact]:
    _require_manager(request)
    organisation = _organisation_for_write(request, payload.organisation_id)
    try:
        contact = services.contact_create(
            organisation=organisation,
            name=payload.name,
            email=payload.email,
            phone=payload.phone,
            job_title=payload.job_title,
        )
    except IntegrityError:
        raise _duplicate() from None
    return Status(201, contact)


@router.get(
    "/assets",
    response={200: AssetPage, **error_responses(422)},
    summary="List assets (installed equipment)",
)
def asset_list(request: HttpRequest, query: Query[CustomerListQuery]) -> dict[str, Any]:
    qs = selectors.asset_search_for(request.user, organisation_id=query.organisation_id, q=query.q)
    return _page(qs, query)


@router.get(
    "/assets/{asset_id}",
    response={200: AssetOut, **error_responses(404, 422)},
    summary="Get an asset",
)
def asset_get(request: HttpRequest, asset_id: QueryId) -> Asset:
    return selectors.asset_get_for(request.user, asset_id)


@router.post(
    "/assets",
    response={201: AssetOut, **error_responses(400, 403, 409, 422)},
    summary="Add an asset (service managers, administrators)",
)
def asset_create(request: HttpRequest, payload: AssetIn) -> Status[Asset]:
    _require_manager(request)
    organisation = _organisation_for_write(request, payload.organisation_id)
    try:
        asset = services.asset_create(
            organisation=organisation,
            model=payload.model,
            serial_number=payload.serial_number,
            site=payload.site,
            install_date=payload.install_date,
            warranty_end=payload.warranty_end,
        )
    except IntegrityError:
        raise _duplicate() from None
    return Status(201, asset)
