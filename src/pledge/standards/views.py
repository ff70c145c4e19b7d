"""Service standards pages: business calendars (month view, editor, import/export, versions), holiday
data, SLA policies with their escalation levels, the service catalogue, SOPs (versions, flowchart, draft
editor, approval, comparison) and the handbook. Staff read; service managers and administrators change
(standards/policies.py). Customers and everyone else get 404.

The draft editor changes one step at a time, but a draft is saved whole: each action rebuilds the full
list of steps (`step_data_of`), replaces, inserts, removes or moves one entry and calls `sop_draft_save`
once with the revision the page showed, so that a stale page is refused instead of overwriting.

Views parse, authorise, call services or selectors and render. Every page works without JavaScript
(links and POST-then-redirect with a flash message); with htmx the same URLs answer with the fragment
that changed (`{% partialdef %}`): the month grid, the day panel, the policy table, the preview.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pledge.accounts.choices import STAFF_ROLES
from pledge.accounts.models import Team, User
from pledge.accounts.selectors import active_teams
from pledge.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from pledge.core.forms import DomainErrorsMixin
from pledge.core.htmx import wants_partial
from pledge.customers.models import Contract
from pledge.lib.businesstime import FIRST_YEAR, LAST_YEAR
from pledge.standards import calendar_files, handbook, policies, selectors, services
from pledge.standards.choices import WEEKDAY_KEYS, ServiceCategory, Weekday
from pledge.standards.flowchart import sop_flowchart_svg
from pledge.standards.forms import (
    CHECKPOINT_PREFIX,
    ApproveForm,
    BaseCheckpointFormSet,
    BaseEscalationFormSet,
    CalendarImportForm,
    CalendarSettingsForm,
    CheckpointFormSet,
    DayEditForm,
    DraftActionForm,
    DraftDetailsForm,
    DraftStartForm,
    HandbookForm,
    HolidayImportForm,
    ServiceTypeForm,
    SlaPolicyForm,
    SopNewForm,
    StepForm,
    checkpoint_formset,
    describe_step_errors,
    escalation_formset,
    place_step_errors,
)
from pledge.standards.models import (
    BusinessCalendar,
    ServiceType,
    SlaPolicy,
    Sop,
    SopVersion,
    default_pause_statuses,
)
from pledge.standards.services import MAX_CHECKPOINTS
from pledge.tickets.choices import Kind, Priority

DETAIL = "standards/calendar_detail.html"
POLICY_FORM = "standards/policy_form.html"
POLICY_LIST = "standards/policy_list.html"
SERVICE_FORM = "standards/service_form.html"
SERVICE_LIST = "standards/service_list.html"
SOP_VERSION = "standards/sop_version.html"
VERSIONS_SHOWN = 20
_T = TypeVar("_T")
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


def _or_404(lookup: Callable[..., _T], *args: Any) -> _T:
    """`lookup(*args)` (a selector's get), its NotFound as a 404 page."""
    try:
        return lookup(*args)
    except NotFound:
        raise Http404 from None


def _calendar(code: str) -> BusinessCalendar:
    calendar = _or_404(selectors.calendar_get_by_code, code)
    prefetch_related_objects([calendar], "holidays", "makeup_days")
    return calendar


def _policy(pk: int) -> SlaPolicy:
    return _or_404(selectors.sla_policy_get, pk)


def _htmx_target(request: HttpRequest) -> str | None:
    """The id of the element htmx will swap (HX-Target), if any."""
    htmx = getattr(request, "htmx", None)
    target = getattr(htmx, "target", None)
    return target if isinstance(target, str) else None


def _vary(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@dataclass(frozen=True)
class _Table:
    """A list page whose rows managers move and (de)activate in place: the template partial that answers
    htmx, the page to redirect to without it, and the context of both (`context(user, **extra)`)."""

    fragment: str
    url_name: str
    context: Callable[..., dict[str, Any]]


def _table_change(
    request: HttpRequest, user: User, table: _Table, change: Callable[[], object], notice: str
) -> HttpResponse:
    """Run `change` (one service call on a row) and answer: with htmx, the table with `notice` (or the
    service's refusal, 422) above it; without, a redirect to the list with the same text as a flash."""
    try:
        change()
    except DomainError as exc:
        notice, error = exc.message, True
    else:
        error = False
    if wants_partial(request):
        context = table.context(user, table_notice=notice, table_error=error)
        return _vary(render(request, table.fragment, context, status=422 if error else 200))
    (messages.error if error else messages.success)(request, notice)
    return redirect(table.url_name)


def _row_move(
    request: HttpRequest, user: User, table: _Table, name: str, move: Callable[[str], object]
) -> HttpResponse:
    """Move the row `name` one place up or down (the POSTed direction) with `move(direction)`."""
    direction = request.POST.get("direction", "")
    return _table_change(request, user, table, lambda: move(direction), _("%(name)s moved.") % {"name": name})


def _row_set_active(
    request: HttpRequest,
    user: User,
    table: _Table,
    name: str,
    set_active: Callable[[bool], object],
    inactive_notice: str,
) -> HttpResponse:
    """(De)activate the row `name` (the POSTed is_active) with `set_active(is_active)`; `inactive_notice`
    says what an inactive row no longer does."""
    is_active = request.POST.get("is_active") == "1"
    notice = (_("%(name)s is active.") if is_active else inactive_notice) % {"name": name}
    return _table_change(request, user, table, lambda: set_active(is_active), notice)


def _submit(
    form: DomainErrorsMixin, save: Callable[[], _T], *, versioned: bool = False
) -> tuple[_T | None, int]:
    """Validate `form`, then run `save` (its service call, which returns what it saved). Returns that and
    200, or None and the status to show the form again with, the errors placed on the form: 422 (invalid
    or refused) or 409 (a taken code; with `versioned`, a stale version, said above the form because the
    version field is hidden)."""
    assert isinstance(form, forms.Form)
    if not form.is_valid():
        return None, 422
    try:
        return save(), 200
    except Conflict as exc:
        if versioned:
            form.add_error(None, exc.message)
        else:
            form.add_domain_errors(exc)
        return None, 409
    except DomainError as exc:
        form.add_domain_errors(exc)
        return None, 422


# Overview ---------------------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    context = {
        "calendars": list(selectors.calendar_list()),
        "policies": list(selectors.sla_policy_list()),
        "service_types": list(selectors.service_type_list()),
        "holiday_gaps": selectors.holiday_data_gaps(),
        "can_manage_calendars": policies.can_manage_calendars(user),
        "can_manage_policies": policies.can_manage_sla_policies(user),
        "can_manage_catalogue": policies.can_manage_catalogue(user),
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
    row = _or_404(selectors.calendar_version_get, calendar, version)
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


_POLICY_TABLE = _Table(f"{POLICY_LIST}#policy_table", "standards:policy_list", _policy_list_context)


@login_required
@require_POST
def policy_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = _policy_manager(request)
    policy = _policy(pk)
    return _row_move(
        request,
        user,
        _POLICY_TABLE,
        policy.name,
        lambda direction: services.sla_policy_move(policy=policy, actor=user, direction=direction),
    )


@login_required
@require_POST
def policy_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = _policy_manager(request)
    policy = _policy(pk)
    return _row_set_active(
        request,
        user,
        _POLICY_TABLE,
        policy.name,
        lambda is_active: services.sla_policy_set_active(policy=policy, is_active=is_active, actor=user),
        _("%(name)s is inactive: it matches no new ticket."),
    )


def _policy_form(
    data: Any = None, *, calendars: list[BusinessCalendar] | None = None, **kwargs: Any
) -> SlaPolicyForm:
    """The policy form with the calendars and service types to choose from."""
    return SlaPolicyForm(
        data,
        calendars=list(selectors.calendar_list()) if calendars is None else calendars,
        service_types=list(selectors.service_type_list()),
        **kwargs,
    )


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
        form = _policy_form(initial=initial, calendars=calendars)
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
    form = _policy_form(request.POST)
    policy, status = _submit(
        form,
        lambda: services.sla_policy_create(
            actor=user, reason=form.cleaned_data["reason"], **form.service_arguments()
        ),
    )
    if policy is None:
        return _policy_page(request, user, None, form=form, status=status)
    messages.success(
        request,
        _("Policy %(name)s created. Add escalation levels below if you need them.") % {"name": policy.name},
    )
    return redirect("standards:policy_detail", pk=policy.pk)


@login_required
@require_http_methods(["GET", "POST"])
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The policy in words for every staff member; its edit form and escalation levels for managers."""
    if request.method != "POST":
        return _policy_page(request, _viewer(request), _policy(pk))
    user = _policy_manager(request)
    policy = _policy(pk)
    form = _policy_form(request.POST)
    saved, status = _submit(
        form,
        lambda: services.sla_policy_update(
            policy=policy,
            actor=user,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
            **form.service_arguments(),
        ),
        versioned=True,
    )
    if saved is None:
        return _policy_page(request, user, policy, form=form, status=status)
    messages.success(request, _("Policy %(name)s saved.") % {"name": form.cleaned_data["name"]})
    return redirect("standards:policy_detail", pk=pk)


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
    form = _policy_form(request.POST, calendars=calendars)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    preview = SlaPolicy(
        name=data.get("name", ""),
        tiers=list(data.get("tiers", [])),
        kinds=list(data.get("kinds", [])),
        priorities=list(data.get("priorities", [])),
        channels=list(data.get("channels", [])),
        service_types=list(data.get("service_types", [])),
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


# The service catalogue and SOPs: authorisation ----------------------------------------------------


def _catalogue_viewer(request: HttpRequest) -> User:
    """A staff member (who may read the catalogue and the SOPs); everyone else gets 404."""
    user = request.user
    if not policies.can_view_catalogue(user):
        raise Http404
    assert isinstance(user, User)
    return user


def _catalogue_manager(request: HttpRequest) -> User:
    user = _catalogue_viewer(request)
    if not policies.can_manage_catalogue(user):
        raise PermissionDenied(
            _("Only service managers and administrators can change the service catalogue and SOPs.")
        )
    return user


def _service_type(pk: int) -> ServiceType:
    return _or_404(selectors.service_type_get, pk)


def _sop(code: str) -> Sop:
    return _or_404(selectors.sop_get_by_code, code)


def _sop_version(sop: Sop, number: int) -> SopVersion:
    return _or_404(selectors.sop_version_get, sop, number)


def _in_effect(sops: list[Sop], day: date) -> dict[int, SopVersion]:
    """SOP id → its version in effect on `day` (from the prefetched versions of sop_list)."""
    found: dict[int, SopVersion] = {}
    for sop in sops:
        versions = list(sop.versions.all())
        for version, state in selectors.sop_version_states(versions, day).items():
            if state == selectors.VersionState.IN_EFFECT:
                found[sop.pk] = next(v for v in versions if v.pk == version)
    return found


# The service catalogue ----------------------------------------------------------------------------


def _service_list_context(user: User, **extra: Any) -> dict[str, Any]:
    sops = list(selectors.sop_list())
    in_effect = _in_effect(sops, selectors.company_day())
    rows = [
        (service_type, in_effect.get(service_type.sop_id) if service_type.sop_id else None)
        for service_type in selectors.service_type_list()
    ]
    return {
        "rows": rows,
        "can_manage": policies.can_manage_catalogue(user),
        "section": "catalogue",
        **extra,
    }


@login_required
@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    user = _catalogue_viewer(request)
    return render(request, SERVICE_LIST, _service_list_context(user))


_SERVICE_TABLE = _Table(f"{SERVICE_LIST}#service_table", "standards:service_list", _service_list_context)


@login_required
@require_POST
def service_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = _catalogue_manager(request)
    service_type = _service_type(pk)
    return _row_move(
        request,
        user,
        _SERVICE_TABLE,
        service_type.name,
        lambda direction: services.service_type_move(
            service_type=service_type, direction=direction, actor=user
        ),
    )


@login_required
@require_POST
def service_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = _catalogue_manager(request)
    service_type = _service_type(pk)
    return _row_set_active(
        request,
        user,
        _SERVICE_TABLE,
        service_type.name,
        lambda is_active: services.service_type_update(
            service_type=service_type, actor=user, is_active=is_active
        ),
        _("%(name)s is inactive: no new ticket can choose it."),
    )


def _service_form(data: Any = None, **kwargs: Any) -> ServiceTypeForm:
    return ServiceTypeForm(
        data, calendars=list(selectors.calendar_list()), sops=list(selectors.sop_list()), **kwargs
    )


def _service_page(
    request: HttpRequest,
    user: User,
    service_type: ServiceType | None,
    *,
    form: ServiceTypeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_manage = policies.can_manage_catalogue(user)
    if can_manage and form is None:
        if service_type is None:
            form = _service_form(
                initial={
                    "category": ServiceCategory.FIELD,
                    "default_kind": Kind.REQUEST,
                    "default_priority": Priority.P3,
                    "customer_selectable": True,
                    "is_active": True,
                }
            )
        else:
            form = _service_form(initial=ServiceTypeForm.initial_for(service_type))
    in_effect = None
    if service_type is not None and service_type.sop_id is not None:
        in_effect = selectors.sop_version_in_effect(service_type.sop_id, selectors.company_day())
    context = {
        "service_type": service_type,
        "in_effect": in_effect,
        "form": form,
        "can_manage": can_manage,
        "section": "catalogue",
    }
    return render(request, SERVICE_FORM, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def service_new(request: HttpRequest) -> HttpResponse:
    user = _catalogue_manager(request)
    if request.method != "POST":
        return _service_page(request, user, None)
    form = _service_form(request.POST)
    service_type, status = _submit(
        form, lambda: services.service_type_create(actor=user, **form.service_arguments())
    )
    if service_type is None:
        return _service_page(request, user, None, form=form, status=status)
    messages.success(request, _("Service type %(name)s created.") % {"name": service_type.name})
    return redirect("standards:service_list")


@login_required
@require_http_methods(["GET", "POST"])
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The service type for every staff member; its edit form for managers."""
    if request.method != "POST":
        return _service_page(request, _catalogue_viewer(request), _service_type(pk))
    user = _catalogue_manager(request)
    service_type = _service_type(pk)
    form = _service_form(request.POST)
    saved, status = _submit(
        form,
        lambda: services.service_type_update(
            service_type=service_type,
            actor=user,
            expected_version=form.cleaned_data["version"],
            **form.service_arguments(),
        ),
        versioned=True,
    )
    if saved is None:
        return _service_page(request, user, service_type, form=form, status=status)
    messages.success(request, _("Service type %(name)s saved.") % {"name": form.cleaned_data["name"]})
    return redirect("standards:service_list")


# SOPs: the list, a new SOP ------------------------------------------------------------------------


@login_required
@require_GET
def sop_list(request: HttpRequest) -> HttpResponse:
    """Every SOP with its versions and their state today, and the version in effect."""
    user = _catalogue_viewer(request)
    today = selectors.company_day()
    rows = []
    for sop in selectors.sop_list():
        versions = list(sop.versions.all())
        states = selectors.sop_version_states(versions, today)
        rows.append(
            {
                "sop": sop,
                "versions": [
                    (v, states[v.pk], selectors.VERSION_STATE_LABELS[states[v.pk]]) for v in versions
                ],
                "in_effect": next(
                    (v for v in versions if states[v.pk] == selectors.VersionState.IN_EFFECT), None
                ),
                "draft": next((v for v in versions if v.is_draft), None),
            }
        )
    context = {
        "rows": rows,
        "today": today,
        "can_manage": policies.can_manage_catalogue(user),
        "section": "sops",
    }
    return render(request, "standards/sop_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sop_new(request: HttpRequest) -> HttpResponse:
    """A new SOP: its first draft with a first step; the editor of the draft adds the rest."""
    user = _catalogue_manager(request)
    teams = active_teams()
    status = 200
    if request.method == "POST":
        form = SopNewForm(request.POST, teams=teams)
        draft, status = _submit(
            form,
            lambda: services.sop_create(
                actor=user,
                code=form.cleaned_data["code"].strip(),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                reason=form.cleaned_data["reason"],
                steps=[form.first_step()],
            ),
        )
        if draft is not None:
            messages.success(
                request,
                _("SOP %(code)s created as draft version 1. Add its other steps below.")
                % {"code": draft.sop.code},
            )
            return redirect("standards:sop_version", code=draft.sop.code, number=draft.number)
    else:
        form = SopNewForm(teams=teams, initial={"reason": _("First version")})
    context = {"form": form, "section": "sops"}
    return render(request, "standards/sop_new.html", context, status=status)


@login_required
@require_GET
def sop_detail(request: HttpRequest, code: str) -> HttpResponse:
    """An SOP's address: its version in effect today, else its latest version."""
    _catalogue_viewer(request)
    sop = _sop(code)
    versions = list(sop.versions.all())
    if not versions:
        return redirect(f"{reverse('standards:sop_list')}#sop-{sop.code}")
    in_effect = _in_effect([sop], selectors.company_day()).get(sop.pk)
    shown = in_effect or versions[0]
    return redirect("standards:sop_version", code=sop.code, number=shown.number)


# SOPs: one version and its draft editor -----------------------------------------------------------


def _step_rows(version: SopVersion) -> list[dict[str, Any]]:
    """The steps in order, each with the names of the steps it runs side by side with."""
    steps = list(version.steps.all())
    return [
        {
            "step": step,
            "side_by_side": [
                other.name
                for other in steps
                if step.parallel_group and other.parallel_group == step.parallel_group and other.pk != step.pk
            ],
        }
        for step in steps
    ]


def _version_page(
    request: HttpRequest,
    user: User,
    sop: Sop,
    version: SopVersion,
    *,
    details_form: DraftDetailsForm | None = None,
    start_form: DraftStartForm | None = None,
    approve_form: ApproveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    today = selectors.company_day()
    versions = list(sop.versions.all())  # newest first
    states = selectors.sop_version_states(versions, today)
    state = states.get(version.pk, selectors.VersionState.DRAFT)
    numbers = sorted(v.number for v in versions)
    draft = next((v for v in versions if v.is_draft), None)
    can_manage = policies.can_manage_catalogue(user)
    editing = can_manage and version.is_draft
    if editing and details_form is None:
        details_form = DraftDetailsForm(
            initial={
                "name": sop.name,
                "description": sop.description,
                "reason": version.reason,
                "revision": version.revision,
            }
        )
    if can_manage and draft is None and start_form is None:
        start_form = DraftStartForm()
    can_approve = editing and policies.can_approve_sops(user)
    if can_approve and approve_form is None:
        approve_form = ApproveForm()
    context = {
        "sop": sop,
        "version": version,
        "state": state,
        "state_label": selectors.VERSION_STATE_LABELS[state],
        "versions": [(v, states[v.pk], selectors.VERSION_STATE_LABELS[states[v.pk]]) for v in versions],
        "previous": max((n for n in numbers if n < version.number), default=None),
        "next": min((n for n in numbers if n > version.number), default=None),
        "others": [v for v in versions if v.pk != version.pk],
        "draft": draft,
        "steps": _step_rows(version),
        "flowchart": sop_flowchart_svg(version),
        "can_manage": can_manage,
        "editing": editing,
        "details_form": details_form if editing else None,
        "start_form": start_form if can_manage and draft is None else None,
        "approve_form": approve_form if can_approve else None,
        "section": "sops",
    }
    return render(request, SOP_VERSION, context, status=status)


@login_required
@require_GET
def sop_version(request: HttpRequest, code: str, number: int) -> HttpResponse:
    user = _catalogue_viewer(request)
    sop = _sop(code)
    return _version_page(request, user, sop, _sop_version(sop, number))


def _version_url(version: SopVersion, anchor: str = "") -> str:
    url = reverse("standards:sop_version", args=[version.sop.code, version.number])
    return f"{url}#{anchor}" if anchor else url


def _stale_notice() -> str:
    return _("Someone changed this draft since you loaded it. Reload the page and make your change again.")


@login_required
@require_POST
def sop_draft_details(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """Save the draft's reason for change and the SOP's name and description."""
    user = _catalogue_manager(request)
    sop = _sop(code)
    version = _sop_version(sop, number)
    form = DraftDetailsForm(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.sop_draft_save(
                actor=user,
                version=version,
                steps=services.step_data_of(version),
                reason=data["reason"],
                name=data["name"],
                description=data["description"],
                expected_revision=data["revision"],
            )
        except Conflict as exc:
            form.add_error(None, _stale_notice() if "revision" in exc.fields else exc.message)
            status = 409
        except DomainError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("Draft version %(number)d saved.") % {"number": version.number})
            return redirect(_version_url(version))
    if not version.is_draft:
        messages.error(
            request,
            " ".join(str(error) for error in form.non_field_errors())
            or _("This version is no longer a draft."),
        )
        return redirect(_version_url(version))
    return _version_page(request, user, sop, version, details_form=form, status=status)


@login_required
@require_POST
def sop_draft_start(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """Start a new draft copying the latest version (from the page of version `number`)."""
    user = _catalogue_manager(request)
    sop = _sop(code)
    form = DraftStartForm(request.POST)
    if form.is_valid():
        try:
            draft = services.sop_draft_start(actor=user, sop=sop, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("standards:sop_version", code=code, number=number)
        messages.success(
            request,
            _("Draft version %(number)d started: change it, then approve it.") % {"number": draft.number},
        )
        return redirect(_version_url(draft))
    return _version_page(request, user, sop, _sop_version(sop, number), start_form=form, status=422)


@login_required
@require_POST
def sop_approve(request: HttpRequest, code: str, number: int) -> HttpResponse:
    user = _catalogue_manager(request)
    if not policies.can_approve_sops(user):
        raise PermissionDenied(_("Only service managers and administrators approve SOP versions."))
    sop = _sop(code)
    version = _sop_version(sop, number)
    form = ApproveForm(request.POST)
    status = 422
    if form.is_valid():
        day: date = form.cleaned_data["effective_from"]
        try:
            services.sop_version_approve(actor=user, version=version, effective_from=day)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect(_version_url(version))
        except DomainError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(
                request,
                _("Version %(number)d approved: in effect from %(day)s.")
                % {"number": version.number, "day": date_format(day, "DATE_FORMAT")},
            )
            return redirect(_version_url(version))
    return _version_page(request, user, sop, version, approve_form=form, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sop_discard(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """Confirm, then delete a draft."""
    user = _catalogue_manager(request)
    sop = _sop(code)
    version = _sop_version(sop, number)
    if not version.is_draft:
        messages.error(request, _("Version %(number)d is approved: it stays for ever.") % {"number": number})
        return redirect(_version_url(version))
    if request.method == "POST":
        try:
            services.sop_draft_discard(actor=user, version=version)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(_version_url(version))
        messages.success(request, _("Draft version %(number)d discarded.") % {"number": number})
        return redirect("standards:sop_detail", code=code)
    context = {"sop": sop, "version": version, "section": "sops"}
    return render(request, "standards/sop_discard.html", context)


def _draft_or_redirect(request: HttpRequest, version: SopVersion) -> HttpResponse | None:
    """A redirect to the version's page when it is no longer a draft (approved meanwhile)."""
    if version.is_draft:
        return None
    messages.error(
        request,
        _("Version %(number)d is approved and can no longer change; start a new draft.")
        % {"number": version.number},
    )
    return redirect(_version_url(version))


def _places(steps: list[services.StepData]) -> list[tuple[str, str]]:
    return [
        ("end", _("At the end")),
        ("start", _("At the start")),
        *(
            (f"after:{step.key}", _("After %(name)s") % {"name": step.name})
            for step in steps[:-1]  # after the last one is "at the end"
        ),
    ]


def _insert_at(place: str, steps: list[services.StepData]) -> int:
    if place == "start":
        return 0
    if place.startswith("after:"):
        key = place.removeprefix("after:")
        for index, step in enumerate(steps):
            if step.key == key:
                return index + 1
    return len(steps)


def _rows_plus_one(
    form: StepForm, formset: BaseCheckpointFormSet, teams: list[Team], places: Any
) -> tuple[StepForm, BaseCheckpointFormSet]:
    """The editor again with what was typed and one more empty checkpoint row (no validation yet)."""
    initial = {name: form[name].value() for name in form.fields}
    rows = []
    blank = 0
    for index, row in enumerate(formset.forms):
        if index >= formset.initial_form_count() and not row.has_changed():
            blank += 1
        elif not (formset.can_delete and row["DELETE"].value()):
            rows.append({name: row[name].value() for name in row.fields if name != "DELETE"})
    fresh_form = StepForm(initial=initial, teams=teams, places=places)
    fresh_formset = CheckpointFormSet(initial=rows[:MAX_CHECKPOINTS], prefix=CHECKPOINT_PREFIX)
    assert isinstance(fresh_formset, BaseCheckpointFormSet)
    fresh_formset.extra = blank + 1  # the empty rows shown before, and one more (max_num still caps them)
    return fresh_form, fresh_formset


def _step_editor(
    request: HttpRequest, user: User, sop: Sop, version: SopVersion, key: str | None
) -> HttpResponse:
    """Add a step (key None) or change one, with its checkpoints; saved as the whole draft at once."""
    steps = services.step_data_of(version)
    index = next((i for i, step in enumerate(steps) if step.key == key), None)
    if key is not None and index is None:
        if request.method == "POST":
            messages.error(request, _stale_notice())
            return redirect(_version_url(version))
        raise Http404
    current = steps[index] if index is not None else None
    teams = active_teams()
    places = _places(steps) if current is None else None
    status = 200
    if request.method != "POST":
        if current is None:
            initial: dict[str, Any] = {"revision": version.revision, "place": "end"}
        else:
            initial = StepForm.initial_for(current, version.revision)
        form = StepForm(initial=initial, teams=teams, places=places)
        formset = checkpoint_formset(None, list(current.checkpoints) if current else [])
    else:
        form = StepForm(request.POST, teams=teams, places=places)
        formset = checkpoint_formset(request.POST, list(current.checkpoints) if current else [])
        if "add_row" in request.POST:
            form, formset = _rows_plus_one(form, formset, teams, places)
        elif form.is_valid() and formset.is_valid():
            kept = formset.kept_forms()
            at = index if index is not None else _insert_at(form.cleaned_data.get("place") or "end", steps)
            others = [step for i, step in enumerate(steps) if i != index]
            step = form.step(
                formset.checkpoints(kept),
                taken={s.key for s in others},
                number=at + 1,
                current_key=current.key if current else None,
            )
            new_steps = [*others[:at], step, *others[at:]]
            status = 422
            try:
                services.sop_draft_save(
                    actor=user,
                    version=version,
                    steps=new_steps,
                    reason=version.reason,
                    expected_revision=form.cleaned_data["revision"],
                )
            except Conflict as exc:
                form.add_error(None, _stale_notice() if "revision" in exc.fields else exc.message)
                status = 409
            except DomainError as exc:
                place_step_errors(exc, index=at, form=form, formset=formset, kept=kept, steps=new_steps)
            else:
                if current is None:
                    notice = _("Step %(name)s added.") % {"name": step.name}
                else:
                    notice = _("Step %(name)s saved.") % {"name": step.name}
                messages.success(request, notice)
                return redirect(_version_url(version, f"step-{step.key}"))
        else:
            status = 422
    context = {
        "sop": sop,
        "version": version,
        "current": current,
        "form": form,
        "formset": formset,
        "section": "sops",
    }
    return render(request, "standards/sop_step_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sop_step_new(request: HttpRequest, code: str, number: int) -> HttpResponse:
    user = _catalogue_manager(request)
    sop = _sop(code)
    version = _sop_version(sop, number)
    return _draft_or_redirect(request, version) or _step_editor(request, user, sop, version, None)


@login_required
@require_http_methods(["GET", "POST"])
def sop_step_edit(request: HttpRequest, code: str, number: int, key: str) -> HttpResponse:
    user = _catalogue_manager(request)
    sop = _sop(code)
    version = _sop_version(sop, number)
    return _draft_or_redirect(request, version) or _step_editor(request, user, sop, version, key)


def _save_steps_or_say_why(
    request: HttpRequest,
    user: User,
    version: SopVersion,
    steps: list[services.StepData],
    revision: int,
    notice: str,
) -> bool:
    """Save the draft with `steps`; a flash message says what happened. True when saved."""
    try:
        services.sop_draft_save(
            actor=user, version=version, steps=steps, reason=version.reason, expected_revision=revision
        )
    except Conflict as exc:
        messages.error(request, _stale_notice() if "revision" in exc.fields else exc.message)
    except DomainError as exc:
        for line in describe_step_errors(exc, steps):
            messages.error(request, line)
    else:
        messages.success(request, notice)
        return True
    return False


@login_required
@require_POST
def sop_step_delete(request: HttpRequest, code: str, number: int, key: str) -> HttpResponse:
    user = _catalogue_manager(request)
    version = _sop_version(_sop(code), number)
    refused = _draft_or_redirect(request, version)
    if refused is not None:
        return refused
    form = DraftActionForm(request.POST)
    steps = services.step_data_of(version)
    index = next((i for i, step in enumerate(steps) if step.key == key), None)
    if not form.is_valid() or index is None:
        messages.error(request, _stale_notice())
        return redirect(_version_url(version))
    removed = steps.pop(index)
    _save_steps_or_say_why(
        request,
        user,
        version,
        steps,
        form.cleaned_data["revision"],
        _("Step %(name)s deleted.") % {"name": removed.name},
    )
    return redirect(_version_url(version, "steps"))


@login_required
@require_POST
def sop_step_move(request: HttpRequest, code: str, number: int, key: str) -> HttpResponse:
    user = _catalogue_manager(request)
    version = _sop_version(_sop(code), number)
    refused = _draft_or_redirect(request, version)
    if refused is not None:
        return refused
    form = DraftActionForm(request.POST)
    steps = services.step_data_of(version)
    index = next((i for i, step in enumerate(steps) if step.key == key), None)
    if not form.is_valid() or index is None or form.cleaned_data["direction"] not in ("up", "down"):
        messages.error(request, _stale_notice())
        return redirect(_version_url(version))
    target = index - 1 if form.cleaned_data["direction"] == "up" else index + 1
    if 0 <= target < len(steps):
        steps.insert(target, steps.pop(index))
        _save_steps_or_say_why(
            request,
            user,
            version,
            steps,
            form.cleaned_data["revision"],
            _("Step %(name)s moved.") % {"name": steps[target].name},
        )
    return redirect(_version_url(version, f"step-{key}"))


# SOPs: comparing two versions ---------------------------------------------------------------------


def _number_param(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 6:
        return None
    return int(value)


@login_required
@require_GET
def sop_diff(request: HttpRequest, code: str) -> HttpResponse:
    """What changed from one version to another (`?from=1&to=2`; by default the latest two)."""
    _catalogue_viewer(request)
    sop = _sop(code)
    numbers = sorted(v.number for v in sop.versions.all())
    if not numbers:
        raise Http404
    new_number = _number_param(request.GET.get("to")) if "to" in request.GET else numbers[-1]
    default_old = max((n for n in numbers if new_number is not None and n < new_number), default=numbers[0])
    old_number = _number_param(request.GET.get("from")) if "from" in request.GET else default_old
    if old_number is None or new_number is None:
        raise Http404
    old, new = _sop_version(sop, old_number), _sop_version(sop, new_number)
    diff = selectors.sop_version_diff(old, new)
    counts = {
        change: sum(1 for row in diff if row.change == change) for change in ("added", "removed", "changed")
    }
    context = {
        "sop": sop,
        "old": old,
        "new": new,
        "diff": diff,
        "counts": counts,
        "numbers": numbers,
        "section": "sops",
    }
    return render(request, "standards/sop_diff.html", context)


# The handbook -------------------------------------------------------------------------------------


@login_required
@require_GET
def handbook_page(request: HttpRequest) -> HttpResponse:
    """The service standards handbook of a day: a printable page, or a Markdown file."""
    _catalogue_viewer(request)
    status = 200
    if "format" in request.GET:
        form = HandbookForm(request.GET)
        if form.is_valid():
            day: date = form.cleaned_data["day"]
            book = handbook.build_handbook(day)
            if form.cleaned_data["format"] == "markdown":
                text = handbook.render_markdown(book)
                response = HttpResponse(text.encode("utf-8"), content_type="text/markdown; charset=utf-8")
                disposition = content_disposition_header(
                    as_attachment=True, filename=f"standards-handbook-{day.isoformat()}.md"
                )
                if disposition is not None:
                    response["Content-Disposition"] = disposition
                return response
            return HttpResponse(handbook.render_html(book), content_type="text/html; charset=utf-8")
        status = 422
    else:
        form = HandbookForm(initial={"day": selectors.company_day(), "format": "html"})
    context = {"form": form, "section": "handbook"}
    return render(request, "standards/handbook.html", context, status=status)
