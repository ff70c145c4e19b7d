"""Customer portal views: parse, authorise (policies), call services/selectors, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from pledge.accounts import policies as account_policies
from pledge.core.errors import NotFound
from pledge.tickets import selectors
from pledge.tickets.selectors import TicketFilters


def _require_customer(request: HttpRequest) -> None:
    if not account_policies.is_customer(request.user):
        raise Http404


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    _require_customer(request)
    page = selectors.ticket_list_for(request.user, TicketFilters(), sort="newest")
    return render(request, "portal/ticket_list.html", {"page": page})


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    _require_customer(request)
    return render(request, "portal/ticket_new.html", {})


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    _require_customer(request)
    try:
        ticket = selectors.ticket_get_for(request.user, ticket_id)
    except NotFound:
        raise Http404 from None
    timeline = selectors.ticket_timeline(ticket, include_internal=False)
    return render(request, "portal/ticket_detail.html", {"ticket": ticket, "timeline": timeline})
