"""Customer portal views: parse, authorise (policies), call services/selectors, render.

Only customers use the portal; anyone else gets 404 (staff have the agent workspace). A ticket of
another organisation is 404 too, never 403, so that its existence is not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pledge.accounts import policies as account_policies
from pledge.accounts.models import User
from pledge.core.errors import Conflict, NotFound, ValidationFailed
from pledge.core.forms import new_form_token
from pledge.core.htmx import render_page_or_partial
from pledge.customers import selectors as customer_selectors
from pledge.customers.models import Asset
from pledge.portal import wording
from pledge.portal.forms import ConfirmForm, ReplyForm, TicketSubmitForm
from pledge.standards import policies as standards_policies
from pledge.standards import selectors as standards_selectors
from pledge.standards.models import ServiceType
from pledge.tickets import policies as ticket_policies
from pledge.tickets import selectors
from pledge.tickets import services as ticket_services
from pledge.tickets.choices import DONE_STATUSES, OPEN_STATUSES, Channel, Status
from pledge.tickets.models import Ticket
from pledge.tickets.selectors import TicketFilters

PAGE_SIZE = 20
MAX_PAGE = 10_000
SHOW_FILTERS: dict[str, tuple[str, ...]] = {"open": OPEN_STATUSES, "done": DONE_STATUSES, "all": ()}


def _customer(request: HttpRequest) -> User:
    user = request.user
    if not account_policies.is_customer(user):
        raise Http404
    assert isinstance(user, User)
    return user


def _ticket_for(user: User, ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_get_for(user, ticket_id)
    except NotFound:
        raise Http404 from None


def _page_number(raw: str | None) -> int:
    try:
        return min(max(1, int(raw or "1")), MAX_PAGE)
    except ValueError:
        return 1


@dataclass
class Row:
    ticket: Ticket
    asset: Asset | None


@login_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = _customer(request)
    show = request.GET.get("show", "open")
    if show not in SHOW_FILTERS:
        show = "open"
    q = request.GET.get("q", "").strip()[:200]
    filters = TicketFilters(status=list(SHOW_FILTERS[show]), q=q)
    page = selectors.ticket_list_for(
        user, filters, sort="newest", page=_page_number(request.GET.get("page")), page_size=PAGE_SIZE
    )
    # One query for the page's assets, whatever the page size.
    asset_ids = {t.asset_id for t in page.items if t.asset_id is not None}
    assets = customer_selectors.asset_list_for(user).in_bulk(asset_ids) if asset_ids else {}
    rows = [Row(ticket=t, asset=assets.get(t.asset_id) if t.asset_id else None) for t in page.items]
    context = {"page": page, "rows": rows, "show": show, "q": q, "filtered": bool(q) or show != "all"}
    return render_page_or_partial(request, "portal/ticket_list.html", "results", context)


def _offered_service_types(user: User) -> QuerySet[ServiceType] | None:
    """The service types a customer may pick for a new request (None when there are none: no field)."""
    if not standards_policies.can_choose_service_type(user):
        return None
    offered = standards_selectors.service_type_list(customer_only=True)
    return offered if offered.exists() else None


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    user = _customer(request)
    organisation = ticket_services.organisation_for_customer(user)
    if organisation is None or not ticket_policies.can_create_ticket_for(user, organisation.pk):
        return render(request, "portal/ticket_new.html", {"form": None}, status=200)
    assets = customer_selectors.asset_list_for(user).order_by("model", "serial_number")
    service_types = _offered_service_types(user)
    if request.method != "POST":
        form = TicketSubmitForm(
            assets=assets, service_types=service_types, initial={"form_token": new_form_token()}
        )
        return render(request, "portal/ticket_new.html", {"form": form})
    data = request.POST.copy()
    token = data.get("form_token", "")
    if not token or len(token) > 100:
        data["form_token"] = new_form_token()
    form = TicketSubmitForm(data, request.FILES, assets=assets, service_types=service_types)
    if form.is_valid():
        cleaned = form.cleaned_data
        try:
            ticket, created = ticket_services.ticket_create(
                actor=user,
                organisation=organisation,
                subject=cleaned["subject"],
                description=cleaned["description"],
                kind=cleaned["kind"],
                priority=cleaned["priority"],
                asset=cleaned["asset"],
                service_type=cleaned.get("service_type"),
                channel=Channel.PORTAL,
                attachments=cleaned["attachments"],
                idempotency_key=f"portal:{cleaned['form_token']}",
            )
        except ValidationFailed as exc:
            form.add_domain_errors(exc)
        else:
            if created:
                text = _("%(number)s received. An engineer will review it; you can follow it on this page.")
            else:
                text = _("%(number)s was already received; this is the request you sent.")
            messages.success(request, text % {"number": ticket.number})
            return redirect("portal:ticket_detail", ticket_id=ticket.pk)
    return render(
        request,
        "portal/ticket_new.html",
        {"form": form, "files_dropped": bool(request.FILES)},
    )


def _detail_context(user: User, ticket: Ticket, reply_form: ReplyForm | None = None) -> dict[str, Any]:
    entries = selectors.ticket_timeline(ticket, include_internal=False)
    now = timezone.now()
    can_reply = ticket_policies.can_customer_reply(user, ticket)
    return {
        "ticket": ticket,
        "steps": wording.status_steps(ticket.status),
        "history": wording.history(entries, user),
        "attachments": selectors.ticket_creation_attachments(ticket),
        "can_reply": can_reply,
        "reply_form": reply_form or (ReplyForm() if can_reply else None),
        "can_confirm": set(ticket_policies.allowed_transitions(user, ticket))
        >= {Status.CLOSED, Status.IN_PROGRESS},
        "is_waiting_for_you": ticket.status == Status.WAITING_CUSTOMER,
        "promises": wording.promises(selectors.ticket_clocks(ticket, now).clocks, ticket.status),
        "progress": wording.progress(selectors.ticket_steps(ticket, now), ticket.status, now),
    }


@login_required
@require_GET
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = _customer(request)
    ticket = _ticket_for(user, ticket_id)
    return render(request, "portal/ticket_detail.html", _detail_context(user, ticket))


@login_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = _customer(request)
    ticket = _ticket_for(user, ticket_id)
    if not ticket_policies.can_customer_reply(user, ticket):
        messages.error(request, _("This request is closed. Submit a new request if you need more help."))
        return redirect("portal:ticket_detail", ticket_id=ticket.pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            ticket_services.ticket_reply(
                actor=user,
                ticket=ticket,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
                channel=Channel.PORTAL,
            )
        except ValidationFailed as exc:
            form.add_domain_errors(exc)
        else:
            if ticket.status in (Status.WAITING_CUSTOMER, Status.RESOLVED):
                messages.success(request, _("Thank you — your reply was sent and our team is back on it."))
            else:
                messages.success(request, _("Your reply was sent."))
            return redirect("portal:ticket_detail", ticket_id=ticket.pk)
    context = _detail_context(user, ticket, reply_form=form)
    context["files_dropped"] = bool(request.FILES)
    return render(request, "portal/ticket_detail.html", context)


@login_required
@require_POST
def ticket_confirm(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The customer confirms a resolution (→ closed) or says it is not solved (→ in progress)."""
    user = _customer(request)
    ticket = _ticket_for(user, ticket_id)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Something was missing from that form. Please try again."))
        return redirect("portal:ticket_detail", ticket_id=ticket.pk)
    to_status = form.cleaned_data["to"]
    try:
        ticket_services.ticket_transition(
            actor=user,
            ticket=ticket,
            to_status=to_status,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )
    except Conflict:
        messages.error(
            request,
            _(
                "%(number)s changed while you were looking at it — for example, our team replied. "
                "Please read the latest update below and try again."
            )
            % {"number": ticket.number},
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        if to_status == Status.CLOSED:
            text = _("Thank you for confirming. %(number)s is closed.")
        else:
            text = _("%(number)s is reopened; our team will pick it up again.")
        messages.success(request, text % {"number": ticket.number})
    return redirect("portal:ticket_detail", ticket_id=ticket.pk)
