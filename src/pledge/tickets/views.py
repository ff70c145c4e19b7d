"""Agent workspace views: parse, authorise (policies), call services/selectors, render. The queue, the
ticket page with its htmx actions, and the New ticket page with its organisation picker.

Every page works without JavaScript (plain GET forms, POST then redirect with a flash message). With
htmx, the same URLs answer with the partial that changed (`{% partialdef %}` in the templates):
the queue's table, or the ticket's composer / controls panel / SLA panel / procedure panel / watchers
plus out-of-band timeline, header and the other panels whose content the change moved (the SLA and step
clocks follow every status change and public reply; completing a hand-off step moves the status; the
version in every form follows every change).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from pledge.accounts import policies as account_policies
from pledge.accounts.choices import TeamKind
from pledge.accounts.models import User
from pledge.accounts.selectors import active_teams, assignable_users
from pledge.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from pledge.core.forms import new_form_token
from pledge.core.htmx import wants_partial
from pledge.customers.models import Organisation
from pledge.standards import policies as standards_policies
from pledge.standards import selectors as standards_selectors
from pledge.tickets import policies, selectors, services
from pledge.tickets.choices import Channel, Kind, Priority, Status
from pledge.tickets.forms import (
    FORM_TOKEN_MAX,
    PAGE_SIZES,
    QUEUE_SORTS,
    QUEUE_VIEWS,
    ArrivalForm,
    AssignForm,
    ComposeForm,
    OverrideForm,
    PriorityForm,
    QueueForm,
    StepForm,
    TagsForm,
    TeamChoiceForm,
    TicketCreateForm,
    TransitionForm,
    VersionedForm,
    step_answers,
)
from pledge.tickets.models import Ticket
from pledge.tickets.selectors import StepView, TicketFilters, TicketSteps

DETAIL = "tickets/detail.html"
NEW = "tickets/new.html"
OTHER_OPEN_TICKETS = 5


def _staff_user(request: HttpRequest) -> User:
    """The signed-in staff member; everyone else gets 404 (customers have the portal)."""
    user = request.user
    if not account_policies.is_staff_member(user):
        raise Http404
    assert isinstance(user, User)
    return user


def _visible_ticket(user: User, ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_get_for(user, ticket_id)
    except NotFound:
        raise Http404 from None


def _workable_ticket(request: HttpRequest, ticket_id: int) -> tuple[User, Ticket]:
    """For writes: 404 when the user may not see the ticket, 403 when they may see but not work it."""
    user = _staff_user(request)
    ticket = _visible_ticket(user, ticket_id)
    if not policies.can_work_ticket(user, ticket):
        raise PermissionDenied(_("You may read this ticket but not change it."))
    return user, ticket


# The queue ------------------------------------------------------------------------------------


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = _staff_user(request)
    teams = active_teams()
    values = QueueForm(request.GET, teams=teams).cleaned()
    page = selectors.ticket_list_for(
        user,
        QueueForm.filters(values),
        sort=values["sort"],
        page=values["page"],
        page_size=values["page_size"],
    )
    now = timezone.now()
    urgent = selectors.urgent_clocks_for(page.items, now)
    # Back-office members get the tab of tickets handed to their teams; it lists the hand-off step and its
    # OLA (one more query for the page's steps, in that view only).
    mine = policies.team_ids(user)
    offers_handoff = values["view"] == "handoff" or any(
        team.kind == TeamKind.BACK_OFFICE and team.pk in mine for team in teams
    )
    context = {
        "page": page,
        "rows": [(ticket, urgent.get(ticket.pk)) for ticket in page.items],
        "handoffs": selectors.handoff_steps_for(page.items, now) if values["view"] == "handoff" else {},
        "queue_url": reverse("tickets:queue"),
        "values": values,
        "views": [(key, label) for key, label in QUEUE_VIEWS if key != "handoff" or offers_handoff],
        "sorts": QUEUE_SORTS,
        "page_sizes": PAGE_SIZES,
        "teams": teams,
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "kinds": Kind.choices,
        "is_filtered": bool(
            values["q"] or values["status"] or values["priority"] or values["kind"] or values["team"]
        ),
        "can_create": policies.can_create_tickets(user),
    }
    partial = wants_partial(request)
    if not partial and standards_policies.can_manage_calendars(user):
        # Managers see on their home page when a calendar's holiday data runs out.
        context["holiday_gaps"] = standards_selectors.holiday_data_gaps()
        context["can_manage_calendars"] = True
    name = "tickets/queue.html#queue_htmx" if partial else "tickets/queue.html"
    response = render(request, name, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# The ticket page ------------------------------------------------------------------------------


@dataclass
class StepPanel:
    """One SOP step in the procedure panel: what the selector read, whether the user may answer it, and
    the outcome of the user's last attempt at it (errors by checkpoint key, the values they posted)."""

    view: StepView
    can_do: bool
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""
    conflict: str = ""
    notice: str = ""
    posted: dict[str, str] = field(default_factory=dict)


@dataclass
class StepOutcome:
    """What happened to the step the user just posted, for the panel to show beside it."""

    position: int
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""
    conflict: str = ""
    notice: str = ""
    posted: dict[str, str] = field(default_factory=dict)


def _procedure(user: User, ticket: Ticket, steps: TicketSteps, outcome: StepOutcome | None) -> dict[str, Any]:
    """The procedure panel: the steps grouped by stage (the steps of a parallel group side by side)."""
    stages: list[list[StepPanel]] = []
    for view in steps.steps:
        panel = StepPanel(view=view, can_do=policies.can_do_step(user, ticket, view.step))
        if outcome is not None and outcome.position == view.row.position:
            panel.errors, panel.error, panel.conflict = outcome.errors, outcome.error, outcome.conflict
            panel.notice, panel.posted = outcome.notice, outcome.posted
        if stages and stages[-1][0].view.row.stage == view.row.stage:
            stages[-1].append(panel)
        else:
            stages.append([panel])
    return {"steps": steps, "stages": stages, "step_outcome": outcome}


def _handoff(ticket: Ticket, steps: TicketSteps | None) -> dict[str, Any] | None:
    """Who holds the ball while a back-office step is under way: the team and the OLA's due instant."""
    if ticket.handoff_team_id is None:
        return None
    current = next((view for view in (steps.current if steps else []) if view.is_handoff), None)
    if current is not None and current.step.team is not None:
        team = current.step.team.name
    else:
        team = ticket.handoff_team.name if ticket.handoff_team else ""
    return {
        "team": team,
        "step": current.step.name if current else "",
        "due_at": current.clock.due_at if current and current.clock else None,
    }


def _ticket_context(
    user: User,
    ticket: Ticket,
    *,
    parts: tuple[str, ...] = (
        "header",
        "timeline",
        "controls",
        "composer",
        "sla",
        "procedure",
        "watchers",
        "side",
    ),
    version: int | None = None,
    compose: ComposeForm | None = None,
    step_outcome: StepOutcome | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The context of the ticket page, or of only the parts a partial response renders."""
    can_work = policies.can_work_ticket(user, ticket)
    context: dict[str, Any] = {"ticket": ticket, "can_work": can_work, **extra}
    steps = None
    if ticket.sop_version_id is not None and ("procedure" in parts or "header" in parts):
        steps = selectors.ticket_steps(ticket, timezone.now())
    if "procedure" in parts:
        context["procedure"] = _procedure(user, ticket, steps, step_outcome) if steps is not None else None
    if "header" in parts:
        context["handoff"] = _handoff(ticket, steps)
    if "sla" in parts:
        context["sla"] = selectors.ticket_clocks(ticket, timezone.now())
        context["offer_arrival"] = (
            policies.can_record_arrival(user, ticket)
            and ticket.kind == Kind.FIELD_VISIT
            and ticket.on_site_at is None
            and ticket.is_open
        )
        context.setdefault("sla_version", ticket.version)
    if "watchers" in parts:
        watchers = selectors.ticket_watchers(ticket)
        context["watchers"] = watchers
        context["is_watching"] = any(person.pk == user.pk for person in watchers)
        context["can_watch"] = policies.can_watch(user, ticket)
    if "timeline" in parts:
        context["timeline"] = selectors.ticket_timeline(ticket, include_internal=True)
        context["creation_attachments"] = selectors.ticket_creation_attachments(ticket)
    if "controls" in parts and can_work:
        assignees = list(assignable_users(ticket.team))
        teams = active_teams()
        # Keep the current values choosable even when they no longer qualify (someone left the team, a
        # team was retired), so that saving the other field never clears them silently.
        if ticket.assignee is not None and all(a.pk != ticket.assignee_id for a in assignees):
            assignees.append(ticket.assignee)
        if ticket.team is not None and all(t.pk != ticket.team_id for t in teams):
            teams.append(ticket.team)
        context.update(
            version=version or ticket.version,
            transitions=[
                (value, Status(value).label) for value in policies.allowed_transitions(user, ticket)
            ],
            teams=teams,
            assignees=assignees,
            can_take=ticket.assignee_id != user.pk and any(a.pk == user.pk for a in assignees),
            priorities=Priority.choices,
            current_tags=", ".join(tag.name for tag in ticket.tags.all()),
        )
    if "composer" in parts and can_work:
        context["compose"] = compose or ComposeForm(initial={"mode": "reply"})
    if "side" in parts:
        others = selectors.ticket_list_for(
            user,
            TicketFilters(view="open", organisation_id=ticket.organisation_id),
            sort="urgency",
            page_size=OTHER_OPEN_TICKETS + 1,
        )
        context["other_open"] = [t for t in others.items if t.pk != ticket.pk][:OTHER_OPEN_TICKETS]
        asset = ticket.asset
        context["under_warranty"] = bool(
            asset and asset.warranty_end and asset.warranty_end >= timezone.localdate()
        )
    return context


@login_required
@require_GET
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = _staff_user(request)
    ticket = _visible_ticket(user, ticket_id)
    return render(request, DETAIL, _ticket_context(user, ticket))


def _after_change(request: HttpRequest, user: User, ticket_id: int, notice: str) -> Ticket | HttpResponse:
    """The ticket as it is now; when the change took it out of the user's sight, a redirect to the queue."""
    try:
        return selectors.ticket_get_for(user, ticket_id)
    except NotFound:
        messages.success(request, notice)
        messages.info(request, _("The ticket is no longer in your teams' view."))
        if wants_partial(request):
            return HttpResponseClientRedirect(reverse("tickets:queue"))
        return redirect("tickets:queue")


@login_required
@require_POST
def ticket_compose(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Add a public reply or an internal note, with attachments."""
    user, ticket = _workable_ticket(request, ticket_id)
    form = ComposeForm(request.POST)
    files = request.FILES.getlist("attachments")
    error = ""
    if form.is_valid():
        body: str = form.cleaned_data["body"]
        try:
            if form.cleaned_data["mode"] == "note":
                services.ticket_note(actor=user, ticket=ticket, body=body, attachments=files)
                notice = _("Your internal note was added.")
            else:
                services.ticket_reply(
                    actor=user, ticket=ticket, body=body, attachments=files, channel=Channel.PORTAL
                )
                notice = _("Your reply was sent to the customer.")
        except DomainError as exc:
            error = exc.message
            for field, text in exc.fields.items():
                form.add_error("body" if field in ("body", "message") else None, text)
        else:
            fresh = _after_change(request, user, ticket_id, notice)
            if isinstance(fresh, HttpResponse):
                return fresh
            if not wants_partial(request):
                messages.success(request, notice)
                return redirect("tickets:detail", ticket_id=ticket_id)
            context = _ticket_context(
                user,
                fresh,
                parts=("header", "timeline", "controls", "composer", "sla", "procedure"),
                compose_notice=notice,
            )
            return render(request, f"{DETAIL}#compose_response", context)
    if files:
        error = error or _("Your files were not sent; choose them again.")
    if wants_partial(request):
        context = _ticket_context(user, ticket, parts=("composer",), compose=form, compose_error=error)
        return render(request, f"{DETAIL}#composer", context, status=422)
    context = _ticket_context(user, ticket, compose=form, compose_error=error)
    return render(request, DETAIL, context, status=422)


def _blocked_context(user: User, ticket: Ticket, message: str) -> dict[str, Any]:
    """The controls panel's box when the SOP's checkpoints stand in the way of resolving: the service's
    message, the checkpoints in question and, for service managers, the "Resolve anyway" form."""
    steps = selectors.ticket_steps(ticket, timezone.now())
    return {
        "resolution_blocked": message
        or _("%(number)s still has checkpoints that stand in the way of resolving it.")
        % {"number": ticket.number},
        "blockers": steps.blockers,
        "can_override": policies.can_override_checkpoints(user, ticket),
    }


def _control(
    request: HttpRequest,
    ticket_id: int,
    section: str,
    form: VersionedForm,
    change: Callable[[User, Ticket, dict[str, Any]], str],
) -> HttpResponse:
    """The shared path of the controls panel: parse the form, call the service with the loaded version,
    answer with the panel (and out-of-band timeline, header, SLA and procedure panels), or redirect with
    a flash message. A resolution that the checkpoints block is answered with the panel (the whole page
    without htmx) showing why, and the override form to those who may use it."""
    user, ticket = _workable_ticket(request, ticket_id)
    posted_version = form.data.get("version", "")
    version = int(posted_version) if str(posted_version).isdigit() else None
    conflict = blocked = ""
    errors: dict[str, str] = {}
    if form.is_valid():
        try:
            notice = change(user, ticket, form.cleaned_data)
        except Conflict as exc:
            conflict = exc.message
        except ValidationFailed as exc:
            if "checkpoints" in exc.fields:
                blocked = exc.message
            else:
                errors[section] = exc.message
        except DomainError as exc:
            errors[section] = exc.message
        else:
            fresh = _after_change(request, user, ticket_id, notice)
            if isinstance(fresh, HttpResponse):
                return fresh
            if not wants_partial(request):
                messages.success(request, notice)
                return redirect("tickets:detail", ticket_id=ticket_id)
            context = _ticket_context(
                user,
                fresh,
                parts=("header", "timeline", "controls", "sla", "procedure"),
                controls_notice=notice,
            )
            return render(request, f"{DETAIL}#control_response", context)
    else:
        errors[section] = " ".join(str(message) for field in form.errors.values() for message in field)
    extra: dict[str, Any] = {}
    if not conflict and (blocked or section == "override"):
        extra = _blocked_context(user, ticket, blocked)
    status = 409 if conflict else 422
    if not wants_partial(request):
        if not extra:
            messages.error(request, conflict or errors[section])
            return redirect("tickets:detail", ticket_id=ticket_id)
        context = _ticket_context(
            user,
            ticket,
            version=version,
            control_errors=errors,
            posted=form.data,
            failed_section=section,
            **extra,
        )
        return render(request, DETAIL, context, status=status)
    context = _ticket_context(
        user,
        ticket,
        parts=("controls",),
        version=version,
        conflict=conflict,
        control_errors=errors,
        posted=form.data,
        failed_section=section,
        **extra,
    )
    return render(request, f"{DETAIL}#controls", context, status=status)


@login_required
@require_POST
def ticket_transition(request: HttpRequest, ticket_id: int) -> HttpResponse:
    def change(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.ticket_transition(
            actor=user,
            ticket=ticket,
            to_status=data["to_status"],
            expected_version=data["version"],
            reason=data["reason"],
        )
        return _("Status changed to %(status)s.") % {"status": Status(data["to_status"]).label}

    return _control(request, ticket_id, "status", TransitionForm(request.POST), change)


@login_required
@require_POST
def ticket_override(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Resolve a ticket over the checkpoints that block it, with a reason (service managers); the service
    logs the override with the checkpoints it overrode."""
    user, ticket = _workable_ticket(request, ticket_id)
    if not policies.can_override_checkpoints(user, ticket):
        raise PermissionDenied(_("Only a service manager can resolve a ticket over its checkpoints."))

    def change(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.ticket_transition(
            actor=user,
            ticket=ticket,
            to_status=Status.RESOLVED,
            expected_version=data["version"],
            override_reason=data["override_reason"],
        )
        return _("Resolved over the checkpoints; the reason is in the timeline.")

    return _control(request, ticket_id, "override", OverrideForm(request.POST), change)


@login_required
@require_POST
def ticket_assign(request: HttpRequest, ticket_id: int) -> HttpResponse:
    def change(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.ticket_assign(
            actor=user,
            ticket=ticket,
            team=data["team"],
            assignee=data["assignee"],
            expected_version=data["version"],
        )
        return _("Assignment saved.")

    return _control(request, ticket_id, "assign", AssignForm(request.POST), change)


@login_required
@require_POST
def ticket_priority(request: HttpRequest, ticket_id: int) -> HttpResponse:
    def change(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.ticket_update(
            actor=user, ticket=ticket, expected_version=data["version"], priority=data["priority"]
        )
        return _("Priority changed to %(priority)s.") % {"priority": Priority(data["priority"]).label}

    return _control(request, ticket_id, "priority", PriorityForm(request.POST), change)


@login_required
@require_POST
def ticket_tags(request: HttpRequest, ticket_id: int) -> HttpResponse:
    def change(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.ticket_update(actor=user, ticket=ticket, expected_version=data["version"], tags=data["tags"])
        return _("Tags saved.")

    return _control(request, ticket_id, "tags", TagsForm(request.POST), change)


@login_required
@require_POST
def ticket_arrival(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Record that the engineer arrived on site now (field visits): achieves the on-site clock. Answers
    with the SLA panel plus out-of-band timeline, header and controls (the version moved)."""
    user, ticket = _workable_ticket(request, ticket_id)
    if not policies.can_record_arrival(user, ticket):
        raise PermissionDenied(_("You may not record an arrival on this ticket."))
    form = ArrivalForm(request.POST)
    posted_version = form.data.get("version", "")
    conflict = error = ""
    if form.is_valid():
        try:
            services.ticket_record_arrival(
                actor=user, ticket=ticket, expected_version=form.cleaned_data["version"]
            )
        except Conflict as exc:
            conflict = exc.message
        except DomainError as exc:
            error = exc.message
        else:
            notice = _("Arrival on site recorded.")
            fresh = _after_change(request, user, ticket_id, notice)
            if isinstance(fresh, HttpResponse):
                return fresh
            if not wants_partial(request):
                messages.success(request, notice)
                return redirect("tickets:detail", ticket_id=ticket_id)
            context = _ticket_context(
                user, fresh, parts=("header", "timeline", "controls", "sla"), sla_notice=notice
            )
            return render(request, f"{DETAIL}#sla_response", context)
    else:
        error = " ".join(str(message) for field in form.errors.values() for message in field)
    if not wants_partial(request):
        messages.error(request, conflict or error)
        return redirect("tickets:detail", ticket_id=ticket_id)
    context = _ticket_context(
        user,
        ticket,
        parts=("sla",),
        sla_conflict=conflict,
        sla_error=error,
        sla_version=int(posted_version) if str(posted_version).isdigit() else ticket.version,
    )
    return render(request, f"{DETAIL}#sla_panel", context, status=409 if conflict else 422)


@login_required
@require_POST
def ticket_step(request: HttpRequest, ticket_id: int, position: int) -> HttpResponse:
    """Answer the checkpoints of one SOP step ("Save answers") and complete it ("Complete step"), or answer
    a failed critical checkpoint of a done step again. Answers with the procedure panel plus out-of-band
    timeline, header, controls and SLA panel (completing a hand-off step returns the ticket and moves its
    status); errors stay beside their checkpoints (the whole page without htmx)."""
    user, ticket = _workable_ticket(request, ticket_id)
    steps = selectors.ticket_steps(ticket, timezone.now())
    view = next((view for view in steps.steps if view.row.position == position), None)
    if view is None:
        raise Http404
    if not policies.can_do_step(user, ticket, view.step):
        raise PermissionDenied(_("This step is for its team to carry out."))
    form = StepForm(request.POST)
    answers, evidence = step_answers(request.POST, request.FILES)
    outcome = StepOutcome(position=position, posted=answers)
    if not form.is_valid():
        outcome.error = _("Choose “Save answers” or “Complete step”.")
    else:
        complete = form.cleaned_data["action"] == "complete"
        try:
            services.sop_step_complete(
                actor=user,
                ticket=ticket,
                position=position,
                answers=answers,
                evidence=evidence,
                complete=complete,
            )
        except Conflict as exc:
            outcome.conflict = exc.message
        except ValidationFailed as exc:
            outcome.error = exc.message
            outcome.errors = {
                key.removeprefix("answers."): text
                for key, text in exc.fields.items()
                if key.startswith("answers.")
            }
        except DomainError as exc:
            outcome.error = exc.message
        else:
            if complete:
                notice = _("The step “%(step)s” is done.") % {"step": view.step.name}
            else:
                notice = _("Answers to “%(step)s” saved.") % {"step": view.step.name}
            fresh = _after_change(request, user, ticket_id, notice)
            if isinstance(fresh, HttpResponse):
                return fresh
            if not wants_partial(request):
                messages.success(request, notice)
                return redirect(reverse("tickets:detail", args=[ticket_id]) + f"#step-{position}")
            context = _ticket_context(
                user,
                fresh,
                parts=("header", "timeline", "controls", "sla", "procedure"),
                step_outcome=StepOutcome(position=position, notice=notice),
            )
            return render(request, f"{DETAIL}#procedure_response", context)
    if evidence and not outcome.conflict:
        outcome.error = " ".join(
            (outcome.error, _("Files are not kept when a step is not saved: choose them again."))
        ).strip()
    status = 409 if outcome.conflict else 422
    if not wants_partial(request):
        return render(request, DETAIL, _ticket_context(user, ticket, step_outcome=outcome), status=status)
    context = _ticket_context(user, ticket, parts=("procedure",), step_outcome=outcome)
    return render(request, f"{DETAIL}#procedure_panel", context, status=status)


@login_required
@require_POST
def ticket_watch(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Add the signed-in staff member to the ticket's watchers (they get its escalation notices)."""
    return _change_watching(request, ticket_id, watch=True)


@login_required
@require_POST
def ticket_unwatch(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Take the signed-in staff member off the ticket's watchers."""
    return _change_watching(request, ticket_id, watch=False)


def _change_watching(request: HttpRequest, ticket_id: int, *, watch: bool) -> HttpResponse:
    user, ticket = _workable_ticket(request, ticket_id)
    if not policies.can_watch(user, ticket):
        raise PermissionDenied(_("You may not watch this ticket."))
    try:
        if watch:
            changed = services.ticket_add_watcher(actor=user, ticket=ticket, user=user)
            notice = (
                _("You are watching this ticket.") if changed else _("You were already watching this ticket.")
            )
        else:
            changed = services.ticket_remove_watcher(actor=user, ticket=ticket, user=user)
            notice = (
                _("You no longer watch this ticket.") if changed else _("You were not watching this ticket.")
            )
    except DomainError as exc:
        if not wants_partial(request):
            messages.error(request, exc.message)
            return redirect("tickets:detail", ticket_id=ticket_id)
        context = _ticket_context(user, ticket, parts=("watchers",), watchers_error=exc.message)
        return render(request, f"{DETAIL}#watchers", context, status=422)
    if not wants_partial(request):
        messages.success(request, notice)
        return redirect("tickets:detail", ticket_id=ticket_id)
    context = _ticket_context(user, ticket, parts=("timeline", "watchers"), watchers_notice=notice)
    return render(request, f"{DETAIL}#watchers_response", context)


@login_required
@require_GET
def assignee_options(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The assignee <option>s for the team chosen in the controls panel (htmx, on team change)."""
    _user, ticket = _workable_ticket(request, ticket_id)
    form = TeamChoiceForm(request.GET)
    team = form.cleaned_data.get("team") if form.is_valid() else None
    context = {"assignees": list(assignable_users(team)), "selected_assignee": ticket.assignee_id}
    return render(request, f"{DETAIL}#assignee_options", context)


# A new ticket ---------------------------------------------------------------------------------


def _ticket_creator(request: HttpRequest) -> User:
    """Staff who may record tickets; customers get 404 like on every workspace page, QA inspectors 403."""
    user = _staff_user(request)
    if not policies.can_create_tickets(user):
        raise PermissionDenied(_("Your role cannot create tickets."))
    return user


def _posted_id(raw: object) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _create_form(user: User, organisation_id: int | None, *args: Any, **kwargs: Any) -> TicketCreateForm:
    """The New ticket form, offering the contacts and assets of the organisation chosen (none before)."""
    return TicketCreateForm(
        *args,
        organisations=selectors.ticket_new_organisations(user),
        contacts=selectors.ticket_new_contacts(user, organisation_id),
        assets=selectors.ticket_new_assets(user, organisation_id),
        service_types=standards_selectors.service_type_list(active_only=True),
        **kwargs,
    )


def _open_tickets_of(user: User, organisation: Organisation | None) -> list[Ticket]:
    """The organisation's most urgent open tickets, so that an agent sees a problem already reported."""
    if organisation is None:
        return []
    page = selectors.ticket_list_for(
        user,
        TicketFilters(view="open", organisation_id=organisation.pk),
        sort="urgency",
        page_size=OTHER_OPEN_TICKETS,
    )
    return page.items


def _render_new(
    request: HttpRequest,
    user: User,
    form: TicketCreateForm,
    *,
    organisation_id: int | None,
    q: str,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    picks = selectors.ticket_new_organisation_picks(user, q, chosen_id=organisation_id)
    context = {
        "form": form,
        "picks": picks,
        "chosen": picks.chosen,
        "open_tickets": _open_tickets_of(user, picks.chosen),
        **extra,
    }
    return render(request, NEW, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Record a ticket for a customer (a call, an e-mail, a walk-in). Without JavaScript the organisation
    search reloads this page (`?org_q=`, `?organisation=`); with htmx it answers from the endpoints below.
    A repeated submission of one form (the same `form_token`) leads to the ticket the first one created."""
    user = _ticket_creator(request)
    if request.method != "POST":
        organisation_id = _posted_id(request.GET.get("organisation"))
        form = _create_form(user, organisation_id, initial={"form_token": new_form_token()})
        return _render_new(
            request, user, form, organisation_id=organisation_id, q=request.GET.get("org_q", "")
        )
    data = request.POST.copy()
    token = data.get("form_token", "")
    if not token or len(token) > FORM_TOKEN_MAX:
        data["form_token"] = new_form_token()
    organisation_id = _posted_id(data.get("organisation"))
    form = _create_form(user, organisation_id, data, request.FILES)
    if form.is_valid():
        cleaned = form.cleaned_data
        organisation: Organisation = cleaned["organisation"]
        if not policies.can_create_ticket_for(user, organisation.pk):
            raise PermissionDenied(_("Your role cannot create tickets."))
        try:
            ticket, created = services.ticket_create(
                actor=user,
                organisation=organisation,
                subject=cleaned["subject"],
                description=cleaned["description"],
                service_type=cleaned["service_type"],
                kind=cleaned["kind"] or None,
                channel=cleaned["channel"],
                priority=cleaned["priority"] or None,
                contact=cleaned["contact"],
                asset=cleaned["asset"],
                team=cleaned["team"],
                assignee=cleaned["assignee"],
                tags=cleaned["tags"],
                attachments=cleaned["attachments"],
                idempotency_key=f"agent:{cleaned['form_token']}",
            )
        except DomainError as exc:
            form.add_domain_errors(exc)
        else:
            if created:
                notice = _("%(number)s created.") % {"number": ticket.number}
            else:
                notice = _("%(number)s was already created from this form; this is it.") % {
                    "number": ticket.number
                }
            messages.success(request, notice)
            if not policies.can_view_ticket(user, ticket):
                messages.info(request, _("It went to a team outside your view, so it does not open here."))
                return redirect("tickets:queue")
            return redirect("tickets:detail", ticket_id=ticket.pk)
    return _render_new(
        request,
        user,
        form,
        organisation_id=organisation_id,
        q=data.get("org_q", ""),
        status=422,
        files_dropped=bool(request.FILES),
    )


@login_required
@require_GET
def new_organisations(request: HttpRequest) -> HttpResponse:
    """The organisation picker's results for `org_q` (htmx, while the agent types), the chosen one kept."""
    user = _ticket_creator(request)
    picks = selectors.ticket_new_organisation_picks(
        user, request.GET.get("org_q", ""), chosen_id=_posted_id(request.GET.get("organisation"))
    )
    return render(request, f"{NEW}#organisation_results", {"picks": picks})


@login_required
@require_GET
def new_organisation_details(request: HttpRequest) -> HttpResponse:
    """The contact and asset fields for the organisation just chosen, and its open tickets (htmx)."""
    user = _ticket_creator(request)
    organisation_id = _posted_id(request.GET.get("organisation"))
    chosen = selectors.ticket_new_organisation_picks(user, "", chosen_id=organisation_id).chosen
    form = _create_form(user, chosen.pk if chosen else None)
    context = {"form": form, "chosen": chosen, "open_tickets": _open_tickets_of(user, chosen)}
    return render(request, f"{NEW}#organisation_details", context)


@login_required
@require_GET
def new_assignee_options(request: HttpRequest) -> HttpResponse:
    """The assignee <option>s for the team chosen on the New ticket page (htmx, on team change)."""
    _ticket_creator(request)
    form = TeamChoiceForm(request.GET)
    team = form.cleaned_data.get("team") if form.is_valid() else None
    return render(request, f"{DETAIL}#assignee_options", {"assignees": list(assignable_users(team))})


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
