"""Reads of tickets, always filtered through policies.visible_q. Joins are stated, lists are paginated
without COUNT(*) so the first page stays fast at millions of tickets. The SLA clocks of a ticket (or of a
page of tickets) are read as `ClockView`s: what a person needs to see of each promise at one instant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from pledge.accounts.models import User
from pledge.core.errors import NotFound
from pledge.customers import selectors as customer_selectors
from pledge.customers.models import Asset, Contact, Contract, Organisation
from pledge.lib.businesstime import BusinessTime, BusinessTimeError
from pledge.standards.choices import STEP_TARGETS, SlaTarget, StepOwner
from pledge.standards.models import Checkpoint, SlaPolicy, SopStep, SopVersion
from pledge.standards.selectors import (
    CalendarPositions,
    Fingerprint,
    business_time_for,
    calendar_positions,
    compress_years,
    holiday_fingerprint,
)
from pledge.tickets import clocks, policies
from pledge.tickets.choices import (
    CUSTOMER_VISIBLE_EVENTS,
    LIVE_CLOCK_STATES,
    OPEN_STATUSES,
    ClockState,
    StepState,
)
from pledge.tickets.models import (
    Attachment,
    CheckpointAnswer,
    Message,
    SlaClock,
    SlaRecount,
    Ticket,
    TicketEvent,
    TicketStep,
    parse_number,
)

SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "urgency": ("priority", "created_at", "id"),
    # "sla" (the least business time left on the most urgent running clock first; tickets without one
    # last) depends on the instant: see `_sla_order`.
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "updated": ("-updated_at", "-id"),
}
VIEWS = ("mine", "team", "unassigned", "handoff", "open", "all")
MAX_PAGE_SIZE = 100


@dataclass
class TicketFilters:
    view: str = "all"
    status: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    team_id: int | None = None
    assignee_id: int | None = None
    organisation_id: int | None = None
    asset_id: int | None = None
    tag: str | None = None
    q: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass
class Page:
    items: list[Ticket]
    page: int
    page_size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def ticket_queryset_for(user: Any) -> QuerySet[Ticket]:
    qs = Ticket.objects.all()
    scope = policies.visible_q(user)
    return qs if scope is None else qs.filter(scope)


def _apply_filters(qs: QuerySet[Ticket], user: Any, f: TicketFilters) -> QuerySet[Ticket]:
    if f.view == "mine":
        qs = qs.filter(assignee_id=user.pk, status__in=OPEN_STATUSES)
    elif f.view == "team":
        qs = qs.filter(team_id__in=policies.team_ids(user), status__in=OPEN_STATUSES)
    elif f.view == "unassigned":
        qs = qs.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    elif f.view == "handoff":
        qs = qs.filter(handoff_team_id__in=policies.team_ids(user), status__in=OPEN_STATUSES)
    elif f.view == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.priority:
        qs = qs.filter(priority__in=f.priority)
    if f.kind:
        qs = qs.filter(kind__in=f.kind)
    if f.channel:
        qs = qs.filter(channel__in=f.channel)
    if f.team_id is not None:
        qs = qs.filter(team_id=f.team_id)
    if f.assignee_id is not None:
        qs = qs.filter(assignee_id=f.assignee_id)
    if f.organisation_id is not None:
        qs = qs.filter(organisation_id=f.organisation_id)
    if f.asset_id is not None:
        qs = qs.filter(asset_id=f.asset_id)
    if f.tag:
        qs = qs.filter(tags__name=f.tag.strip().lower())
    if f.created_after is not None:
        qs = qs.filter(created_at__gte=f.created_after)
    if f.created_before is not None:
        qs = qs.filter(created_at__lt=f.created_before)
    text = f.q.replace("\x00", "").strip()
    if text:
        number = parse_number(text)
        qs = (
            qs.filter(Q(pk=number) | Q(subject__icontains=text))
            if number
            else qs.filter(subject__icontains=text)
        )
    return qs


def ticket_list_for(
    user: Any,
    filters: TicketFilters,
    *,
    sort: str = "urgency",
    page: int = 1,
    page_size: int = 25,
    with_tags: bool = False,
) -> Page:
    """One page of the tickets `user` may see. Queries: the page (with organisation, team, assignee
    and contact joined) plus one for tags when `with_tags`; the count never grows with the page size."""
    page = max(1, page)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    qs = _apply_filters(ticket_queryset_for(user), user, filters)
    positions = calendar_positions(timezone.now()) if sort == "sla" else None
    order = _sla_order(positions) if positions is not None else SORTS.get(sort, SORTS["urgency"])
    qs = qs.select_related(
        "organisation",
        "team",
        "assignee",
        "contact",
        "asset",
        "service_type",
        "sop_version",
        "handoff_team",
        "sla_calendar",
    ).order_by(*order)
    if with_tags:
        qs = qs.prefetch_related("tags")
    offset = (page - 1) * page_size
    rows = list(qs[offset : offset + page_size + 1])
    items = rows[:page_size]
    attach_sla_instants(items, positions)
    return Page(items=items, page=page, page_size=page_size, has_next=len(rows) > page_size)


def _sla_order(positions: CalendarPositions) -> tuple[OrderBy | str, ...]:
    """Tickets by the business time left until their most urgent deadline (negative when overdue), each
    on its own calendar; tickets without a running clock last."""
    if not positions:  # no calendar: no ticket has a deadline
        return (F("sla_due_pos").asc(nulls_last=True), "id")
    left = Case(
        *(
            When(sla_calendar_id=pk, then=F("sla_due_pos") - Value(position))
            for pk, (_bt, position) in positions.items()
        ),
        default=Value(None),
        output_field=FloatField(),
    )
    return (left.asc(nulls_last=True), "id")


def attach_sla_instants(tickets: Sequence[Ticket], positions: CalendarPositions | None = None) -> None:
    """Give each ticket its compiled SLA calendar so that `sla_due_at` costs no query: at most one (the
    holiday fingerprint) for the page, none when `positions` has the calendars compiled already.
    The tickets come with `sla_calendar` joined."""
    calendars = {calendar.pk: calendar for t in tickets if (calendar := t.sla_calendar) is not None}
    if not calendars:
        return
    times: dict[int, BusinessTime | None] = {}
    if positions is not None:
        times = {pk: positions[pk][0] for pk in calendars if pk in positions}
    missing = {pk: calendar for pk, calendar in calendars.items() if pk not in times}
    if missing:
        fingerprint = holiday_fingerprint() if any(c.holiday_sets for c in missing.values()) else None
        for pk, calendar in missing.items():
            try:
                times[pk] = business_time_for(calendar, fingerprint=fingerprint)
            except (BusinessTimeError, ValueError):
                times[pk] = None
    for ticket in tickets:
        if ticket.sla_calendar_id is not None:
            ticket.use_business_time(times.get(ticket.sla_calendar_id))


def ticket_get_for(user: Any, ticket_id: int) -> Ticket:
    """The ticket if `user` may see it; NotFound otherwise (never reveal that it exists)."""
    ticket = (
        Ticket.objects.select_related(
            "organisation", "contact", "asset", "team", "assignee", "created_by", "sla_policy", "contract"
        )
        .prefetch_related("tags")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None or not policies.can_view_ticket(user, ticket):
        raise NotFound(_("Ticket not found."))
    return ticket


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "message" or "event"
    message: Message | None = None
    event: TicketEvent | None = None


def ticket_timeline(ticket: Ticket, *, include_internal: bool) -> list[TimelineEntry]:
    """Messages and events of one ticket in time order: three queries whatever the length, four for
    staff (the SLA recounts that touched the ticket, stored once per recount and shown as its events)."""
    messages = (
        Message.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    )
    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor")
    if not include_internal:
        messages = messages.filter(is_internal=False)
        events = events.filter(kind__in=CUSTOMER_VISIBLE_EVENTS)
    entries = [TimelineEntry(at=m.created_at, kind="message", message=m) for m in messages]
    # Reply/note events duplicate their message in the timeline; keep the message only.
    entries += [
        TimelineEntry(at=e.created_at, kind="event", event=e)
        for e in events
        if e.kind not in ("reply", "note")
    ]
    if include_internal:
        recounts = SlaRecount.objects.filter(links__ticket=ticket).select_related("actor", "calendar")
        entries += [TimelineEntry(at=r.created_at, kind="event", event=r.as_event(ticket)) for r in recounts]
    entries.sort(key=lambda entry: (entry.at, 0 if entry.kind == "event" else 1))
    return entries


def ticket_creation_attachments(ticket: Ticket) -> list[Attachment]:
    """The files attached when the ticket was created (not checkpoint evidence, shown with its step)."""
    return list(
        Attachment.objects.filter(ticket=ticket, message__isnull=True, is_internal=False).order_by("id")
    )


def attachment_get_for(user: Any, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.select_related("ticket", "message").filter(pk=attachment_id).first()
    if attachment is None or not policies.can_view_ticket(user, attachment.ticket):
        raise NotFound(_("Attachment not found."))
    internal = attachment.is_internal or (attachment.message is not None and attachment.message.is_internal)
    if internal and not policies.can_view_internal(user):
        raise NotFound(_("Attachment not found."))
    return attachment


# SLA clocks ------------------------------------------------------------------------------------

# Percent of the target used from which a running clock shows as a warning.
WARNING_PERCENT = 75
TARGET_ORDER = {target: index for index, target in enumerate(SlaTarget.values)}


@dataclass(frozen=True)
class ClockView:
    """One SLA clock as people see it at `at`: business minutes used, paused and left on its calendar.

    `state` is the stored state, except that a running clock whose due instant has passed is shown as
    breached before the worker's sweep marks it. `remaining_minutes` is negative when overdue (by that
    much); `paused_minutes` includes the current pause so far."""

    id: int
    target: str
    cycle: int
    state: str
    due_at: datetime | None
    started_at: datetime
    target_minutes: int
    used_minutes: float
    paused_minutes: float
    remaining_minutes: float
    percent_used: float
    is_paused: bool
    paused_since: datetime | None
    provisional_years: tuple[int, ...]
    achieved_at: datetime | None
    met: bool | None

    @property
    def label(self) -> str:
        return str(SlaTarget(self.target).label) if self.target in SlaTarget.values else self.target

    @property
    def is_live(self) -> bool:
        """Still counting towards its promise (running, paused, or breached but not yet achieved)."""
        return self.achieved_at is None and self.state in LIVE_CLOCK_STATES

    @property
    def is_breached(self) -> bool:
        return self.state == ClockState.BREACHED

    @property
    def bar_percent(self) -> int:
        """The share of the target used, for a progress bar: 0 to 100."""
        return max(0, min(100, round(self.percent_used)))

    @property
    def level(self) -> str:
        """How urgent it looks: ok, warning (≥ 75 % used), breached, paused, met or done (finished)."""
        if self.state == ClockState.ACHIEVED:
            return "met"
        if self.state == ClockState.CANCELLED:
            return "done"
        if self.is_breached:
            return "breached"
        if self.is_paused:
            return "paused"
        return "warning" if self.percent_used >= WARNING_PERCENT else "ok"


def clock_view(clock: SlaClock, business_time: BusinessTime | None, at: datetime) -> ClockView:
    """The clock as seen at `at`, timed on `business_time` (its calendar compiled; None when the calendar
    cannot answer, and then the stored figures are shown as they are)."""
    used = clock.offset_minutes
    paused = clock.paused_minutes
    clock.use_business_time(business_time)
    if business_time is not None:
        try:
            used = clocks.used_minutes(clock, business_time, at)
            if clock.paused_since is not None and clock.achieved_at is None and at > clock.paused_since:
                paused += business_time.elapsed(clock.paused_since, at)
        except BusinessTimeError:
            pass
    state = clock.state
    due_at = clock.due_at
    if state == ClockState.RUNNING and due_at is not None and due_at <= at:
        state = ClockState.BREACHED
    target = clock.target_minutes
    return ClockView(
        id=clock.pk,
        target=clock.target,
        cycle=clock.cycle,
        state=state,
        due_at=due_at,
        started_at=clock.started_at,
        target_minutes=target,
        used_minutes=used,
        paused_minutes=paused,
        remaining_minutes=target - used,
        percent_used=used * 100.0 / target if target > 0 else (100.0 if used > 0 else 0.0),
        is_paused=clock.paused_since is not None and clock.achieved_at is None,
        paused_since=clock.paused_since,
        provisional_years=tuple(sorted(clock.uncovered_years or ())),
        achieved_at=clock.achieved_at,
        met=clock.met,
    )


def _business_times(rows: Iterable[SlaClock]) -> dict[int, BusinessTime | None]:
    """Each calendar of these clocks compiled (cached per process), asking for the holiday fingerprint
    once: no query when no calendar uses a holiday set, one small query otherwise."""
    calendars = {clock.calendar_id: clock.calendar for clock in rows}
    fingerprint: Fingerprint | None = None
    if any(calendar.holiday_sets for calendar in calendars.values()):
        fingerprint = holiday_fingerprint()
    times: dict[int, BusinessTime | None] = {}
    for pk, calendar in calendars.items():
        try:
            times[pk] = business_time_for(calendar, fingerprint=fingerprint)
        except (BusinessTimeError, ValueError):
            times[pk] = None
    return times


def _views(rows: Sequence[SlaClock], at: datetime) -> list[ClockView]:
    times = _business_times(rows)
    return [clock_view(clock, times[clock.calendar_id], at) for clock in rows]


def _sort_key(view: ClockView) -> tuple[int, int]:
    return TARGET_ORDER.get(view.target, len(TARGET_ORDER)), view.cycle


@dataclass(frozen=True)
class TicketSla:
    """A ticket's promises: its policy and contract, the current clock of each target (the latest cycle
    of next response) and the earlier next-response cycles, oldest first."""

    policy: SlaPolicy | None
    contract: Contract | None
    clocks: list[ClockView]
    history: list[ClockView]

    @property
    def provisional_years(self) -> tuple[int, ...]:
        years = {year for view in self.clocks if view.is_live for year in view.provisional_years}
        return tuple(sorted(years))

    @property
    def provisional_label(self) -> str:
        """The years without holiday data, compressed: "2027" or "2027–2028"."""
        return compress_years(self.provisional_years)


def ticket_clocks(ticket: Ticket, at: datetime) -> TicketSla:
    """The SLA of one ticket at `at`. Queries: its clocks with their calendars, and the holiday
    fingerprint when a calendar uses a holiday set (the policy and contract come with the ticket when
    ticket_get_for loaded it)."""
    rows = list(
        SlaClock.objects.filter(ticket_id=ticket.pk)
        .exclude(target__in=STEP_TARGETS)
        .select_related("calendar")
    )
    views = sorted(_views(rows, at), key=_sort_key)
    latest: dict[str, ClockView] = {}
    for view in views:
        latest[view.target] = view  # the highest cycle wins
    current = sorted(latest.values(), key=_sort_key)
    history = [view for view in views if latest[view.target] is not view]
    policy = ticket.sla_policy if ticket.sla_policy_id else None
    contract = ticket.contract if ticket.contract_id else None
    return TicketSla(policy=policy, contract=contract, clocks=current, history=history)


def most_urgent(views: Iterable[ClockView]) -> ClockView | None:
    """The clock a queue shows for a ticket: the live one due first (breached clocks are due in the
    past); when every live clock is paused, the paused one with the least time left."""
    live = [view for view in views if view.is_live]
    counting = [view for view in live if not view.is_paused and view.due_at is not None]
    if counting:
        return min(counting, key=lambda view: (view.due_at, _sort_key(view)))
    if live:
        return min(live, key=lambda view: (view.remaining_minutes, _sort_key(view)))
    return None


def live_clocks_for(tickets: Sequence[Ticket], at: datetime) -> dict[int, list[ClockView]]:
    """The live clocks of a page of tickets, by ticket id: one query for the clocks with their
    calendars (none when no ticket on the page has a policy) plus at most one for the holiday
    fingerprint, whatever the number of tickets. A ticket has at most one live clock per target."""
    ids = [
        ticket.pk for ticket in tickets if ticket.sla_policy_id is not None or ticket.sla_due_pos is not None
    ]
    if not ids:
        return {}
    rows = list(
        SlaClock.objects.filter(ticket_id__in=ids, state__in=LIVE_CLOCK_STATES, achieved_at__isnull=True)
        .exclude(target__in=STEP_TARGETS)
        .select_related("calendar")
        .order_by("ticket_id", "target", "cycle")
    )
    by_ticket: dict[int, list[ClockView]] = defaultdict(list)
    for clock, view in zip(rows, _views(rows, at), strict=True):
        by_ticket[clock.ticket_id].append(view)
    return dict(by_ticket)


def urgent_clocks_for(tickets: Sequence[Ticket], at: datetime) -> dict[int, ClockView]:
    """The most urgent live clock of each ticket of a page (see `most_urgent`), by ticket id."""
    result: dict[int, ClockView] = {}
    for ticket_id, views in live_clocks_for(tickets, at).items():
        view = most_urgent(views)
        if view is not None:
            result[ticket_id] = view
    return result


def ticket_watchers(ticket: Ticket) -> list[User]:
    """The ticket's watchers by name (one query)."""
    return list(ticket.watchers.order_by("display_name", "username"))


# SOP steps --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointView:
    """One checkpoint of a ticket's step with its latest answer and how many times it was answered."""

    checkpoint: Checkpoint
    answer: CheckpointAnswer | None
    attempts: int

    @property
    def blocking(self) -> str:
        """Why it stands in the way of resolution: "unanswered", "failed", or "" (it does not)."""
        if self.answer is None:
            return "unanswered" if self.checkpoint.mandatory else ""
        return "failed" if self.checkpoint.critical and self.answer.passed is False else ""


@dataclass(frozen=True)
class StepView:
    """One SOP step of a ticket as staff see it: the step, its execution row, its clock (None before it
    starts) and its checkpoints."""

    row: TicketStep
    step: SopStep
    clock: ClockView | None
    checkpoints: list[CheckpointView]

    @property
    def is_handoff(self) -> bool:
        return self.step.owner == StepOwner.BACK_OFFICE


@dataclass(frozen=True)
class TicketSteps:
    """A ticket's SOP steps in order, with what still blocks its resolution."""

    version: SopVersion | None
    steps: list[StepView]

    @property
    def blockers(self) -> list[tuple[StepView, CheckpointView]]:
        return [(view, cp) for view in self.steps for cp in view.checkpoints if cp.blocking]

    @property
    def current(self) -> list[StepView]:
        return [view for view in self.steps if view.row.state == StepState.ACTIVE]

    @property
    def milestones(self) -> list[StepView]:
        return [view for view in self.steps if view.step.is_milestone]


def ticket_steps(ticket: Ticket, at: datetime) -> TicketSteps:
    """The SOP steps of one ticket at `at`: five queries whatever the number of steps (steps with their SOP
    step, team and clock; checkpoints; answers; the clocks' calendars are compiled from the cache, plus
    the holiday fingerprint when a calendar uses a holiday set). No query when the ticket has no SOP."""
    if ticket.sop_version_id is None:
        return TicketSteps(None, [])
    rows = list(
        TicketStep.objects.filter(ticket_id=ticket.pk)
        .select_related("step__team", "step__version__sop", "clock__calendar", "completed_by")
        .prefetch_related(Prefetch("step__checkpoints", queryset=Checkpoint.objects.order_by("position")))
        .order_by("position")
    )
    answers: dict[tuple[int, int], list[CheckpointAnswer]] = defaultdict(list)
    for answer in (
        CheckpointAnswer.objects.filter(ticket_step__in=[row.pk for row in rows])
        .select_related("attachment", "answered_by")
        .order_by("attempt")
    ):
        answers[(answer.ticket_step_id, answer.checkpoint_id)].append(answer)
    clock_rows = [row.clock for row in rows if row.clock is not None]
    clock_views = {clock.pk: view for clock, view in zip(clock_rows, _views(clock_rows, at), strict=True)}
    views = []
    for row in rows:
        checkpoints = []
        for checkpoint in row.step.checkpoints.all():
            given = answers.get((row.pk, checkpoint.pk), [])
            checkpoints.append(CheckpointView(checkpoint, given[-1] if given else None, len(given)))
        views.append(
            StepView(row, row.step, clock_views.get(row.clock_id) if row.clock_id else None, checkpoints)
        )
    version = rows[0].step.version if rows else None
    return TicketSteps(version, views)


def handoff_steps_for(tickets: Sequence[Ticket], at: datetime) -> dict[int, StepView]:
    """The back-office step under way on each ticket of a page that is handed to a team, by ticket id
    (the first by position when several run side by side), with its OLA clock and no checkpoints: one
    query for the steps with their SOP step, team and clock with its calendar (none when no ticket of the
    page is handed over) plus at most one for the holiday fingerprint, whatever the number of tickets."""
    ids = [ticket.pk for ticket in tickets if ticket.handoff_team_id is not None]
    if not ids:
        return {}
    rows = list(
        TicketStep.objects.filter(
            ticket_id__in=ids, state=StepState.ACTIVE, step__owner=StepOwner.BACK_OFFICE
        )
        .select_related("step__team", "clock__calendar")
        .order_by("ticket_id", "position")
    )
    clock_rows = [row.clock for row in rows if row.clock is not None]
    clock_views = {clock.pk: view for clock, view in zip(clock_rows, _views(clock_rows, at), strict=True)}
    found: dict[int, StepView] = {}
    for row in rows:
        if row.ticket_id not in found:
            clock = clock_views.get(row.clock_id) if row.clock_id else None
            found[row.ticket_id] = StepView(row, row.step, clock, [])
    return found


# The agent's New ticket page: the organisation picker, and the chosen organisation's contacts and assets.

ORGANISATION_PICKS = 10
ORGANISATION_SEARCH_MAX = 100


@dataclass
class OrganisationPicks:
    """What the New ticket page's organisation picker offers: the chosen organisation (kept whatever the
    search), then up to the limit of others that match the search, and whether more match than shown."""

    q: str
    chosen: Organisation | None
    matches: list[Organisation]
    has_more: bool


def ticket_new_organisations(user: Any) -> QuerySet[Organisation]:
    """The organisations a new ticket may be for: the active ones the user may see, by name."""
    return customer_selectors.organisation_list_for(user).filter(is_active=True).order_by("name", "pk")


def ticket_new_organisation_picks(
    user: Any, q: str, *, chosen_id: int | None = None, limit: int = ORGANISATION_PICKS
) -> OrganisationPicks:
    """Organisations for the New ticket picker whose name, or the name, e-mail or phone of one of their
    active contacts (the caller on the line), contains `q`, by name: at most `limit` of them in one query
    (one extra row tells whether more match), plus one query for the chosen organisation. An empty search
    matches nothing; the query count never depends on how many organisations there are."""
    organisations = ticket_new_organisations(user)
    chosen = organisations.filter(pk=chosen_id).first() if chosen_id is not None else None
    text = " ".join(q.replace("\x00", "").split())[:ORGANISATION_SEARCH_MAX]
    if not text:
        return OrganisationPicks(text, chosen, [], False)
    callers = Contact.objects.filter(organisation_id=OuterRef("pk"), is_active=True).filter(
        Q(name__icontains=text) | Q(email__icontains=text) | Q(phone__icontains=text)
    )
    found = organisations.filter(Q(name__icontains=text) | Exists(callers))
    if chosen is not None:
        found = found.exclude(pk=chosen.pk)
    rows = list(found[: limit + 1])
    return OrganisationPicks(text, chosen, rows[:limit], len(rows) > limit)


def ticket_new_contacts(user: Any, organisation_id: int | None) -> QuerySet[Contact]:
    """The contacts a new ticket of the organisation may name: its active ones, by name (none before an
    organisation is chosen)."""
    if organisation_id is None:
        return Contact.objects.none()
    return (
        customer_selectors.contact_list_for(user)
        .filter(organisation_id=organisation_id, is_active=True)
        .order_by("name", "pk")
    )


def ticket_new_assets(user: Any, organisation_id: int | None) -> QuerySet[Asset]:
    """The assets a new ticket of the organisation may name: its installed equipment, by model and serial
    number (none before an organisation is chosen)."""
    if organisation_id is None:
        return Asset.objects.none()
    return (
        customer_selectors.asset_list_for(user)
        .filter(organisation_id=organisation_id)
        .order_by("model", "serial_number", "pk")
    )
