"""Service standards pages: business calendars (month view, editor, import/export, versions), holiday
data, and SLA policies with their escalation levels. Staff read; service managers and administrators
change (standards/policies.py). Customers and everyone else get 404.

Views parse, authorise, call services or selectors and render. Every page works without JavaScript
(links and POST-then-redirect with a flash message); with htmx the same URLs answer with the fragment
that changed (`{% partialdef %}`): the month grid, the day panel, the policy table, the preview.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pledge.accounts.choices import STAFF_ROLES
from pledge.accounts.models import Team, User
from pledge.accounts.selectors import active_teams
from pledge.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from pledge.core.htmx import wants_partial
from pledge.customers.models import Contract
from pledge.lib.businesstime import FIRST_YEAR, LAST_YEAR
from pledge.standards import calendar_files, policies, selectors, services
from pledge.standards.choices import WEEKDAY_KEYS, Weekday
from pledge.standards.forms import (
    BaseEscalationFormSet,
    CalendarImportForm,
    CalendarSettingsForm,
    DayEditForm,
    HolidayImportForm,
    SlaPolicyForm,
    escalation_formset,
)
from pledge.standards.models import BusinessCalendar, SlaPolicy, default_pause_statuses

DETAIL = "standards/calendar_detail.html"
POLICY_FORM = "standards/policy_form.html"
POLICY_LIST = "standards/policy_list.html"
VERSIONS_SHOWN = 20
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
COMMON_TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


# Authorisation ----------------------------------------------------------------------------------


def _viewer(request: HttpRequest) -> User:
    """A staff member (who may read calendars and policies); everyone else gets 404."""
    user = request.user
    if not policies.can_view_calendars(user) or not policies.can_view_sla_policies(user):
        raise Http404
    assert isinstance(user, User)
    return user


def _calendar_manager(request: HttpRequest) -> User:
    user = _viewer(request)
    if not policies.can_manage_calendars(user):
        raise PermissionDenied(_("Only service managers and administrators can change calendars."))
    return user


def _policy_manager(request: HttpRequest) -> User:
    user = _viewer(request)
    if not policies.can_manage_sla_policies(user):
        raise PermissionDenied(_("Only service managers and administrators can change SLA policies."))
    return user


def _calendar(code: str) -> BusinessCalendar:
    try:
        calendar = selectors.calendar_get_by_code(code)
    except NotFound:
        raise Http404 from None
    prefetch_related_objects([calendar], "holidays", "makeup_days")
    return calendar


def _policy(pk: int) -> SlaPolicy:
    try:
        return selectors.sla_policy_get(pk)
    except NotFound:
        raise Http404 from None


def _htmx_target(request: HttpRequest) -> str | None:
    """The id of the element htmx will swap (HX-Target), if any."""
    htmx = getattr(request, "htmx", None)
    target = getattr(htmx, "target", None)
    return target if isinstance(target, str) else None


def _vary(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


# Overview ---------------------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    context = {
        "calendars": list(selectors.calendar_list()),
        "policies": list(selectors.sla_policy_list()),
        "holiday_gaps": selectors.holiday_data_gaps(),
        "can_manage_calendars": policies.can_manage_calendars(user),
        "can_manage_policies": policies.can_manage_sla_policies(user),
        "section": "overview",
    }
    return render(request, "standards/overview.html", context)


# Calendar: month view and day editor ------------------------------------------------------------


def _month_param(value: str | None) -> date | None:
    match = _MONTH.match(value or "")
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def _day_param(value: str | None) -> date | None:
    day = calendar_files.parse_day(value or "")
    return day


def _day_form_initial(day: selectors.CalendarDay) -> dict[str, Any]:
    name = day.holiday_name if day.kind == selectors.DayKind.HOLIDAY else (day.inactive_name or "")
    if not name and day.set_holiday_worked:
        name = selectors.festival_name(day.day)
    weekday = day.makeup_weekday if day.makeup_weekday is not None else Weekday.MON
    return {"date": day.day, "name": name, "weekday": weekday}


def _calendar_context(
    request: HttpRequest,
    user: User,
    calendar: BusinessCalendar,
    *,
    month: date | None = None,
    day: date | None = None,
    day_form: DayEditForm | None = None,
    **extra: Any,
) -> dict[str, Any]:
    today = selectors.calendar_today(calendar)
    shown = month or (day.replace(day=1) if day else today.replace(day=1))
    grid = selectors.calendar_month(calendar, shown, today=today)
    selected = grid.day(day) if day is not None else None
    can_manage = policies.can_manage_calendars(user)
    if can_manage and day_form is None and selected is not None:
        day_form = DayEditForm(initial=_day_form_initial(selected))
    return {
        "calendar": calendar,
        "month": grid,
        "selected": selected,
        "day_form": day_form,
        "can_manage": can_manage,
        "weekly_rows": [
            (label, ", ".join(calendar.weekly.get(WEEKDAY_KEYS[value], [])))
            for value, label in Weekday.choices
        ],
        "versions": selectors.calendar_versions(calendar, limit=VERSIONS_SHOWN),
        "detail_url": reverse("standards:calendar_detail", args=[calendar.code]),
        "section": "calendars",
        **extra,
    }


@login_required
@require_GET
def calendar_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = _viewer(request)
    calendar = _calendar(code)
    month = _month_param(request.GET.get("month"))
    day = _day_param(request.GET.get("day"))
    context = _calendar_context(request, user, calendar, month=month, day=day)
    name = DETAIL
    if wants_partial(request):
        target = _htmx_target(request)
        if target == "day-panel":
            name = f"{DETAIL}#day_panel"
        elif target == "month-view":
            name = f"{DETAIL}#month_view"
    return _vary(render(request, name, context))


def _change_day(user: User, calendar: BusinessCalendar, data: dict[str, Any]) -> str:
    """Call the editor service the action names; returns the notice."""
    day: date = data["date"]
    action = data["action"]
    reason = data["reason"]
    label = day.isoformat()
    if action in ("holiday_on", "holiday_off"):
        services.calendar_set_holiday(
            calendar=calendar,
            day=day,
            name=data["name"],
            is_active=action == "holiday_on",
            actor=user,
            reason=reason,
        )
        if action == "holiday_on":
            return _("%(day)s is now a holiday.") % {"day": label}
        return _("%(day)s is now worked as a normal day (the holiday is kept, inactive).") % {"day": label}
    if action == "remove_holiday":
        services.calendar_remove_holiday(calendar=calendar, day=day, actor=user, reason=reason)
        return _("The calendar's holiday on %(day)s was removed.") % {"day": label}
    if action == "makeup":
        weekday = Weekday.MON if data["weekday"] is None else data["weekday"]
        services.calendar_set_makeup_day(
            calendar=calendar, day=day, weekday=weekday, actor=user, reason=reason
        )
        return _("%(day)s is now a make-up workday with the hours of %(weekday)s.") % {
            "day": label,
            "weekday": Weekday(weekday).label,
        }
    services.calendar_remove_makeup_day(calendar=calendar, day=day, actor=user, reason=reason)
    return _("The make-up workday on %(day)s was removed.") % {"day": label}


@login_required
@require_POST
def calendar_day(request: HttpRequest, code: str) -> HttpResponse:
    """Add, toggle or remove a holiday, or set or remove a make-up workday (each records a version)."""
    user = _calendar_manager(request)
    calendar = _calendar(code)
    form = DayEditForm(request.POST)
    month = _month_param(request.POST.get("month"))
    if form.is_valid():
        try:
            notice = _change_day(user, calendar, form.cleaned_data)
        except DomainError as exc:
            form.add_domain_errors(exc)
        else:
            day: date = form.cleaned_data["date"]
            if not wants_partial(request):
                messages.success(request, notice)
                shown = month or day
                query = urlencode({"month": f"{shown.year}-{shown.month:02d}", "day": day.isoformat()})
                return redirect(f"{reverse('standards:calendar_detail', args=[code])}?{query}#day-panel")
            fresh = _calendar(code)
            context = _calendar_context(
                request, user, fresh, month=month or day.replace(day=1), day=day, day_notice=notice
            )
            return _vary(render(request, f"{DETAIL}#day_changed", context))
    failed_day: date | None = form.cleaned_data.get("date") or _day_param(request.POST.get("date"))
    context = _calendar_context(request, user, calendar, month=month, day=failed_day, day_form=form)
    if context["selected"] is None:
        context["selected_missing"] = True
    name = f"{DETAIL}#day_panel" if wants_partial(request) else DETAIL
    return _vary(render(request, name, context, status=422))


# Calendar: settings, import, export -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request: HttpRequest, code: str) -> HttpResponse:
    user = _calendar_manager(request)
    calendar = _calendar(code)
    status = 200
    if request.method == "POST":
        form = CalendarSettingsForm(request.POST)
        if form.is_valid():
            try:
                result = services.calendar_update_settings(
                    calendar=calendar,
                    name=form.cleaned_data["name"],
                    timezone_name=form.cleaned_data["timezone"],
                    weekly=form.weekly(),
                    holiday_sets=form.cleaned_data["holiday_sets"],
                    actor=user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_domain_errors(exc)
            else:
                if result.changed:
                    messages.success(
                        request,
                        _("Calendar %(code)s saved as version %(version)d.")
                        % {"code": code, "version": result.calendar.version},
                    )
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect("standards:calendar_detail", code=code)
        status = 422
    else:
        form = CalendarSettingsForm.for_calendar(calendar)
    context = {
        "calendar": calendar,
        "form": form,
        "common_timezones": COMMON_TIMEZONES,
        "section": "calendars",
    }
    return render(request, "standards/calendar_settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_import(request: HttpRequest) -> HttpResponse:
    """Create or replace a calendar from an uploaded YAML/JSON file."""
    user = _calendar_manager(request)
    status = 200
    problem: DomainError | None = None
    if request.method == "POST":
        form = CalendarImportForm(request.POST, request.FILES)
        if form.is_valid():
            name, text = form.cleaned_data["file"]
            try:
                data = calendar_files.loads(text, fmt=calendar_files.guess_format(name, text))
                if not isinstance(data, dict):
                    raise ValidationFailed(
                        _("The file must hold one calendar: fields such as code, name and timezone."),
                        fields={"document": _("Not a calendar.")},
                    )
                result = services.calendar_import(data=data, actor=user, reason=form.cleaned_data["reason"])
            except DomainError as exc:
                problem = exc
            else:
                calendar = result.calendar
                values = {"code": calendar.code, "version": calendar.version}
                if result.created:
                    messages.success(request, _("Calendar %(code)s created (version %(version)d).") % values)
                elif result.changed:
                    messages.success(request, _("Calendar %(code)s replaced (version %(version)d).") % values)
                else:
                    messages.info(
                        request, _("Calendar %(code)s is unchanged (version %(version)d).") % values
                    )
                return redirect("standards:calendar_detail", code=calendar.code)
        status = 422
    else:
        form = CalendarImportForm()
    context = {"form": form, "problem": problem, "section": "calendars"}
    return render(request, "standards/calendar_import.html", context, status=status)


def _download(text: str, filename: str, fmt: calendar_files.Format) -> HttpResponse:
    content_type = "application/json" if fmt == "json" else "application/yaml"
    response = HttpResponse(text.encode("utf-8"), content_type=f"{content_type}; charset=utf-8")
    disposition = content_disposition_header(as_attachment=True, filename=filename)
    if disposition is not None:
        response["Content-Disposition"] = disposition
    return response


def _format(request: HttpRequest) -> calendar_files.Format:
    return "json" if request.GET.get("format") == "json" else "yaml"


@login_required
@require_GET
def calendar_export(request: HttpRequest, code: str) -> HttpResponse:
    """The calendar in the file format, as a download (`?format=json`, YAML by default)."""
    _viewer(request)
    calendar = _calendar(code)
    fmt = _format(request)
    text = calendar_files.dumps(selectors.calendar_document(calendar), fmt=fmt)
    return _download(text, f"{calendar.code}.{fmt}", fmt)


@login_required
@require_GET
def calendar_version(request: HttpRequest, code: str, version: int) -> HttpResponse:
    """One recorded version of the calendar as a file (it imports back as that version's calendar)."""
    _viewer(request)
    calendar = _calendar(code)
    try:
        row = selectors.calendar_version_get(calendar, version)
    except NotFound:
        raise Http404 from None
    fmt = _format(request)
    text = calendar_files.dumps(row.snapshot, fmt=fmt)
    return _download(text, f"{calendar.code}-v{version}.{fmt}", fmt)


# Holiday data -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def holidays(request: HttpRequest) -> HttpResponse:
    """Years covered per holiday set; import a year's official schedule (upload or paste)."""
    user = _viewer(request)
    can_manage = policies.can_manage_calendars(user)
    status = 200
    form = HolidayImportForm() if can_manage else None
    if request.method == "POST":
        user = _calendar_manager(request)
        form = HolidayImportForm(request.POST, request.FILES)
        if form.is_valid():
            field = "file" if form.cleaned_data["document_name"] or form.cleaned_data.get("file") else "text"
            try:
                document = form.document()
                row, created = services.holiday_year_import(
                    set_code=form.cleaned_data["set_code"],
                    document=document,
                    actor=user,
                    source=form.cleaned_data["source"],
                    notes=form.cleaned_data["notes"],
                )
            except ValidationFailed as exc:
                form.add_error(field, exc.message)
            else:
                values = {"year": row.year, "set": row.get_set_code_display()}
                if created:
                    messages.success(request, _("%(year)d imported into %(set)s.") % values)
                else:
                    messages.success(request, _("%(year)d of %(set)s replaced.") % values)
                return redirect("standards:holidays")
        status = 422
    context = {
        "coverage": selectors.holiday_set_coverage(),
        "holiday_gaps": selectors.holiday_data_gaps(),
        "form": form,
        "can_manage_calendars": can_manage,
        "section": "holidays",
    }
    return render(request, "standards/holidays.html", context, status=status)


# SLA policies -----------------------------------------------------------------------------------


def _policy_list_context(user: User, **extra: Any) -> dict[str, Any]:
    return {
        "policies": list(selectors.sla_policy_list()),
        "can_manage": policies.can_manage_sla_policies(user),
        "section": "policies",
        **extra,
    }


@login_required
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    return render(request, POLICY_LIST, _policy_list_context(user))


def _after_policy_change(
    request: HttpRequest, user: User, notice: str, *, error: bool = False
) -> HttpResponse:
    if wants_partial(request):
        context = _policy_list_context(user, table_notice=notice, table_error=error)
        return _vary(render(request, f"{POLICY_LIST}#policy_table", context, status=422 if error else 200))
    (messages.error if error else messages.success)(request, notice)
    return redirect("standards:policy_list")


@login_required
@require_POST
def policy_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = _policy_manager(request)
    policy = _policy(pk)
    try:
        services.sla_policy_move(policy=policy, actor=user, direction=request.POST.get("direction", ""))
    except DomainError as exc:
        return _after_policy_change(request, user, exc.message, error=True)
    return _after_policy_change(request, user, _("%(name)s moved.") % {"name": policy.name})


@login_required
@require_POST
def policy_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = _policy_manager(request)
    policy = _policy(pk)
    is_active = request.POST.get("is_active") == "1"
    try:
        services.sla_policy_set_active(policy=policy, is_active=is_active, actor=user)
    except DomainError as exc:
        return _after_policy_change(request, user, exc.message, error=True)
    if is_active:
        notice = _("%(name)s is active.") % {"name": policy.name}
    else:
        notice = _("%(name)s is inactive: it matches no new ticket.") % {"name": policy.name}
    return _after_policy_change(request, user, notice)


def _staff_watchers() -> list[User]:
    return list(
        User.objects.filter(is_active=True, role__in=STAFF_ROLES).order_by("display_name", "username")
    )


def _escalation_formset(policy: SlaPolicy, data: Any = None) -> BaseEscalationFormSet:
    teams: list[Team] = active_teams()
    watchers = _staff_watchers()
    # Keep a retired team or a departed watcher choosable, so that saving does not drop them silently.
    for level in policy.escalation_levels.all():
        if level.reassign_team is not None and all(t.pk != level.reassign_team_id for t in teams):
            teams.append(level.reassign_team)
        if level.add_watcher is not None and all(u.pk != level.add_watcher_id for u in watchers):
            watchers.append(level.add_watcher)
    return escalation_formset(data, policy=policy, teams=teams, watchers=watchers)


def _policy_page(
    request: HttpRequest,
    user: User,
    policy: SlaPolicy | None,
    *,
    form: SlaPolicyForm | None = None,
    formset: BaseEscalationFormSet | None = None,
    status: int = 200,
) -> HttpResponse:
    calendars = list(selectors.calendar_list())
    can_manage = policies.can_manage_sla_policies(user)
    if can_manage and form is None:
        if policy is None:
            initial: dict[str, Any] = {"pause_statuses": default_pause_statuses(), "is_active": True}
            if calendars:
                initial["calendar"] = calendars[0].code
        else:
            initial = SlaPolicyForm.initial_for(policy)
        form = SlaPolicyForm(initial=initial, calendars=calendars)
    if can_manage and policy is not None and formset is None:
        formset = _escalation_formset(policy)
    context = {
        "policy": policy,
        "summary": selectors.sla_policy_summary(policy) if policy is not None else "",
        "form": form,
        "formset": formset,
        "can_manage": can_manage,
        "section": "policies",
        "format_minutes": selectors.format_minutes_short,
    }
    return render(request, POLICY_FORM, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest) -> HttpResponse:
    user = _policy_manager(request)
    if request.method != "POST":
        return _policy_page(request, user, None)
    form = SlaPolicyForm(request.POST, calendars=list(selectors.calendar_list()))
    if form.is_valid():
        try:
            policy = services.sla_policy_create(
                actor=user, reason=form.cleaned_data["reason"], **form.service_arguments()
            )
        except DomainError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(
                request,
                _("Policy %(name)s created. Add escalation levels below if you need them.")
                % {"name": policy.name},
            )
            return redirect("standards:policy_detail", pk=policy.pk)
    return _policy_page(request, user, None, form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The policy in words for every staff member; its edit form and escalation levels for managers."""
    if request.method != "POST":
        return _policy_page(request, _viewer(request), _policy(pk))
    user = _policy_manager(request)
    policy = _policy(pk)
    form = SlaPolicyForm(request.POST, calendars=list(selectors.calendar_list()))
    status = 422
    if form.is_valid():
        try:
            services.sla_policy_update(
                policy=policy,
                actor=user,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
                **form.service_arguments(),
            )
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except DomainError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("Policy %(name)s saved.") % {"name": form.cleaned_data["name"]})
            return redirect("standards:policy_detail", pk=pk)
    return _policy_page(request, user, policy, form=form, status=status)


@login_required
@require_POST
def policy_escalations(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace the policy's escalation levels with the rows of the editor."""
    user = _policy_manager(request)
    policy = _policy(pk)
    formset = _escalation_formset(policy, request.POST)
    if formset.is_valid():
        kept = formset.kept_forms()
        try:
            services.escalation_levels_set(
                policy=policy,
                levels=[row.level() for row in kept],
                actor=user,
                reason=request.POST.get("reason", "")[: services.REASON_MAX],
            )
        except DomainError as exc:
            formset.add_domain_errors(exc, kept)
        else:
            messages.success(request, _("Escalation levels of %(name)s saved.") % {"name": policy.name})
            return redirect(f"{reverse('standards:policy_detail', args=[pk])}#escalations")
    return _policy_page(request, user, policy, formset=formset, status=422)


@login_required
@require_POST
def policy_preview(request: HttpRequest) -> HttpResponse:
    """The sentence a policy form would save, while it is being filled in (htmx)."""
    _policy_manager(request)
    calendars = list(selectors.calendar_list())
    form = SlaPolicyForm(request.POST, calendars=calendars)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    preview = SlaPolicy(
        name=data.get("name", ""),
        tiers=list(data.get("tiers", [])),
        kinds=list(data.get("kinds", [])),
        priorities=list(data.get("priorities", [])),
        channels=list(data.get("channels", [])),
        **{name: data.get(name) for name in SlaPolicyForm.TARGET_FIELDS},
    )
    calendar = next((c for c in calendars if c.code == data.get("calendar")), None)
    if calendar is not None:
        preview.calendar = calendar
    number = (data.get("contract") or "").strip()
    if number:
        contract = Contract.objects.filter(number=number).first()
        if contract is not None:
            preview.contract = contract
    context = {"summary": selectors.sla_policy_summary(preview)}
    return _vary(render(request, f"{POLICY_FORM}#preview", context))
