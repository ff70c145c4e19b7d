"""Pages that belong to no app: the start page that sends each role to its place, health, benchmarks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pledge.accounts import policies as account_policies


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if account_policies.is_customer(request.user):
        return redirect("portal:ticket_list")
    if account_policies.is_staff_member(request.user):
        return redirect("tickets:queue")
    return redirect("accounts:preferences")


def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown paths under /api/ answer in the API's JSON error format, not an HTML page."""
    return JsonResponse(
        {"message": _("No such API endpoint: %(path)s") % {"path": request.path}, "errors": []}, status=404
    )


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_POST
def bench_bare_insert(request: HttpRequest) -> HttpResponse:
    """The benchmark's ceiling: insert one row into a one-column table (created by the benchmark)."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare DEFAULT VALUES")
    return JsonResponse({"ok": True}, status=201)
