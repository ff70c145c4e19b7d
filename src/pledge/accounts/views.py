"""Account pages: language switch and personal preferences."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pledge.accounts import services
from pledge.accounts.models import User
from pledge.core.errors import DomainError


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the UI language; remembered in a cookie and, when signed in, on the user."""
    lang = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if lang in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            assert isinstance(request.user, User)
            services.user_set_preferences(user=request.user, language=lang)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, max_age=365 * 24 * 3600, samesite="Lax")
        translation.activate(lang)
    return response


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.user_set_preferences(
                user=user,
                timezone_name=request.POST.get("timezone", user.timezone),
                language=request.POST.get("language", user.language),
            )
        except DomainError as exc:
            errors = exc.fields or {"__all__": exc.message}
        else:
            messages.success(request, _("Your preferences are saved."))
            response = HttpResponseRedirect(request.path)
            if user.language:
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
            return response
    return render(
        request, "accounts/preferences.html", {"errors": errors, "common_timezones": COMMON_TIMEZONES}
    )


COMMON_TIMEZONES = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
]
