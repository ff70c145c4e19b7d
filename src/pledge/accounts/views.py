"""Account pages: language switch, personal preferences, personal API tokens and the notifications inbox."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pledge.accounts import policies, selectors, services
from pledge.accounts.forms import PreferencesForm, TokenCreateForm
from pledge.accounts.models import ApiToken, User
from pledge.core.errors import NotFound, ValidationFailed
from pledge.core.htmx import wants_partial

LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _set_language_cookie(response: HttpResponse, lang: str) -> None:
    if lang:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, max_age=LANGUAGE_COOKIE_AGE, samesite="Lax")
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite="Lax")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the UI language; remembered in a cookie and, when signed in, on the user."""
    lang = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if lang in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            services.user_set_preferences(user=_user(request), language=lang)
        _set_language_cookie(response, lang)
        translation.activate(lang)
    return response


def _preferences_page(
    request: HttpRequest,
    *,
    form: PreferencesForm | None = None,
    token_form: TokenCreateForm | None = None,
    new_secret: str = "",
    new_token: ApiToken | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    context: dict[str, Any] = {
        "form": form or PreferencesForm(initial={"timezone": user.timezone, "language": user.language}),
        "token_form": token_form or TokenCreateForm(),
        "tokens": selectors.api_token_list_for(user),
        "new_secret": new_secret,
        "new_token": new_token,
        "common_timezones": COMMON_TIMEZONES,
    }
    return render(request, "accounts/preferences.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method != "POST":
        return _preferences_page(request)
    form = PreferencesForm(request.POST)
    if form.is_valid():
        try:
            services.user_set_preferences(
                user=user,
                timezone_name=form.cleaned_data["timezone"].strip(),
                language=form.cleaned_data["language"],
            )
        except ValidationFailed as exc:
            user.refresh_from_db(fields=["timezone", "language"])
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("Your preferences are saved."))
            response = HttpResponseRedirect(request.path)
            _set_language_cookie(response, user.language)
            return response
    return _preferences_page(request, form=form)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Create a personal API token. The secret is in this response only: it is never stored or shown again."""
    user = _user(request)
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, secret = services.api_token_create(user=user, name=form.cleaned_data["name"])
        except ValidationFailed as exc:
            form.add_domain_errors(exc)
        else:
            response = _preferences_page(request, new_secret=secret, new_token=token)
            response["Cache-Control"] = "no-store"
            return response
    return _preferences_page(request, token_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """GET asks to confirm; POST revokes. Someone else's token is 404."""
    user = _user(request)
    token = ApiToken.objects.filter(pk=token_id).select_related("user").first()
    if token is None or not policies.can_manage_tokens(user, token.user):
        raise Http404
    if request.method != "POST":
        return render(request, "accounts/token_revoke.html", {"token": token})
    try:
        services.api_token_revoke(user=user, token_id=token.pk)
    except NotFound:
        raise Http404 from None
    messages.success(
        request,
        _("The token “%(name)s” is revoked; programs using it are refused from now on.")
        % {"name": token.name},
    )
    return redirect("accounts:preferences")


# The notifications inbox -------------------------------------------------------------------------


def _page_number(raw: str | None) -> int:
    try:
        return min(max(1, int(raw or "1")), 100_000)
    except ValueError:
        return 1


def _inbox_url(page: int) -> str:
    url = reverse("accounts:notifications")
    return f"{url}?page={page}" if page > 1 else url


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The signed-in user's notifications, unread first, with links to their tickets."""
    user = _user(request)
    page = selectors.notification_page_for(user, page=_page_number(request.GET.get("page")))
    context = {"page": page, "links_to_workspace": policies.is_staff_member(user)}
    return render(request, "accounts/notifications.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read; htmx gets the row and the nav badge, others go back to the inbox.
    Someone else's notification is 404."""
    user = _user(request)
    try:
        notification = services.notification_mark_read(user=user, notification_id=notification_id)
    except NotFound:
        raise Http404 from None
    if wants_partial(request):
        context = {
            "notification": notification,
            "links_to_workspace": policies.is_staff_member(user),
        }
        return render(request, "accounts/notifications.html#notification_read", context)
    return redirect(_inbox_url(_page_number(request.POST.get("page"))))


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    marked = services.notification_mark_all_read(user=_user(request))
    if marked:
        messages.success(request, _("All notifications are marked read."))
    return redirect("accounts:notifications")


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
