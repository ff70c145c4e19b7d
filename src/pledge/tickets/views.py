"""Agent workspace views: parse, authorise (policies), call services/selectors, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from pledge.accounts import policies as account_policies
from pledge.core.errors import NotFound
from pledge.tickets import selectors
from pledge.tickets.selectors import TicketFilters


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    if not account_policies.is_staff_member(request.user):
        raise Http404
    page = selectors.ticket_list_for(request.user, TicketFilters(view="open"))
    return render(request, "tickets/queue.html", {"page": page})


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    if not account_policies.is_staff_member(request.user):
        raise Http404
    try:
        ticket = selectors.ticket_get_for(request.user, ticket_id)
    except NotFound:
        raise Http404 from None
    timeline = selectors.ticket_timeline(ticket, include_internal=True)
    return render(request, "tickets/detail.html", {"ticket": ticket, "timeline": timeline})


@login_required
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    try:
        attachment = selectors.attachment_get_for(request.user, attachment_id)
    except NotFound:
        raise Http404 from None
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["Content-Security-Policy"] = "sandbox"
    return response
