"""Loads or updates the demo company through the services, so every ticket has a real event history.

Safe to run again: people, teams, organisations, contacts, assets and contracts are found by their
natural keys (username, team name, organisation name, contact name, serial number, contract number) and
only the missing ones are created; the ~600 demo tickets are generated only when the demo organisations
have no tickets yet. Everything happens in one transaction, so an interrupted load leaves nothing half
done. Mail and background tasks are switched to dummy backends while loading, so six months of history
send no notifications.

The SLA policies (data.SLA_POLICIES, found by name) are created through the policy service before any
ticket, so each ticket gets its policy and clocks on creation. While a story plays, the worker's SLA
sweep runs for its ticket at every instant one of its clocks fell due or reached an escalation level,
so breaches and escalations (with their in-app notifications) are dated when they would have happened.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _

from pledge.accounts import services as account_services
from pledge.accounts.choices import STAFF_ROLES, Role
from pledge.accounts.models import Team, User
from pledge.customers import services as customer_services
from pledge.customers.choices import Tier
from pledge.customers.models import Asset, Contact, Contract, Organisation
from pledge.demo import data
from pledge.demo.data import Equipment, OrgSpec, PolicySpec, Scenario, ZhEn
from pledge.standards import services as standards_services
from pledge.standards.models import BusinessCalendar, SlaPolicy
from pledge.standards.selectors import business_time_for
from pledge.standards.services import EscalationLevelData, ensure_builtin_calendars
from pledge.tickets import clocks, escalation
from pledge.tickets import services as ticket_services
from pledge.tickets.choices import Channel, ClockState, Kind, Priority, Status
from pledge.tickets.models import SlaClock, Ticket

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DAY_START, DAY_END = time(8, 30), time(18, 0)
QUIET_SETTINGS: dict[str, Any] = {
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "TASKS": {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}},
}
# How long the desk takes to answer first once a ticket is assigned (minutes, in office hours unless the
# ticket is worked around the clock, when the P1 pace applies whatever the priority).
FIRST_RESPONSE_MINUTES: dict[str, tuple[float, float]] = {
    Priority.P1: (3, 10),
    Priority.P2: (5, 30),
    Priority.P3: (15, 80),
    Priority.P4: (20, 100),
}
# How long a new ticket waits before the desk dispatches it (minutes; the P1 row for a ticket worked
# around the clock).
DISPATCH_MINUTES: dict[str, tuple[float, float]] = {
    Priority.P1: (1, 4),
    Priority.P2: (3, 25),
    Priority.P3: (5, 45),
    Priority.P4: (5, 45),
}
# Now and then the desk is swamped and a ticket waits for its first answer: (share, minutes). Most of
# the late first responses come from here.
SWAMPED = (0.15, (110.0, 360.0))
# A stopped line is answered late less often, and less late: the engineer on call was on another line.
ON_CALL_BUSY = (0.06, (35.0, 90.0))
# A ticket worked around the clock moves this much faster than an office-hours one: everybody drops
# what they are doing for a stopped line.
URGENT_PACE = 0.2
# Sometimes a step takes far longer than usual: an analysis needs the manufacturer's lab, a fix needs a
# second attempt, a complaint needs a decision from management, the engineers are booked up. (share,
# minutes.) Most late resolutions come from here.
STUCK = (0.24, (7200.0, 17280.0))
# How many planned visits happen later than the second working day (engineers booked up, or the
# customer wants a later day).
VISIT_LATE = 0.12
# A P2 fault is chased harder: it gets stuck about half as often.
STUCK_SHARE_P2 = 0.08
# A few tickets from one to three weeks ago got stuck for weeks and are still open, past their targets:
# (at most how many, the chance for each candidate, created this many days ago, minutes stuck).
LONG_STUCK = (4, 0.25, (7, 21), (21 * 1440.0, 42 * 1440.0))
# How many of the urgent part shipments go by same-day courier (hours) rather than by express (days).
SAME_DAY_COURIER = 0.8
# How many of the tickets fall in the last five days: the open queue a visitor finds.
RECENT_TICKETS = 40
# How many of the newest tickets wait for their first answer with its deadline near (the queue shows
# them as warnings).
NEAR_DUE = 3

T = TypeVar("T")


class DemoRefused(Exception):
    """The database holds data that is not the demo's; loading the demo into it is refused."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    hint: str
    context: str  # the customer's organisation or the staff member's team


@dataclass(frozen=True)
class DemoSummary:
    organisations: int
    assets: int
    contracts: int
    users: int
    tickets: int
    tickets_created: int
    logins: tuple[DemoLogin, ...]


def load_demo(
    *, now: datetime | None = None, ticket_count: int = data.TICKET_COUNT, seed: int = data.SEED
) -> DemoSummary:
    """Create what is missing of the demo company; returns what the database now holds.

    Raises DemoRefused when the database has users or organisations but none of the demo's (it is
    somebody's real data). Runs in one transaction.
    """
    now = now or timezone.now()
    with override_settings(**QUIET_SETTINGS), transaction.atomic():
        _refuse_foreign_database()
        people = _load_people()
        # The business calendars the SLA policies will use: cn-office (2026 statutory holidays and
        # make-up days), 24x7 and night-shift.
        ensure_builtin_calendars()
        customers = _load_customers(people, now.astimezone(LOCAL_TZ).date())
        _load_sla_policies(people)
        created = 0
        if not Ticket.objects.filter(organisation__in=[c.org for c in customers]).exists():
            created = _TicketHistory(random.Random(seed), now, people, customers).load(ticket_count)
    return _summary(created)


def _refuse_foreign_database() -> None:
    demo_names = [spec.name for spec in data.ORGANISATIONS]
    if Organisation.objects.filter(name__in=demo_names).exists():
        return
    if User.objects.exists() or Organisation.objects.exists():
        raise DemoRefused(
            _(
                "this database already holds users or organisations that are not the demo's; "
                "the demo loads only into a new database or an earlier demo"
            )
        )


def _summary(created: int) -> DemoSummary:
    team_names = {team.key: team.name for team in data.TEAMS}
    orgs = Organisation.objects.filter(name__in=[spec.name for spec in data.ORGANISATIONS])
    usernames = [p.username for p in data.STAFF] + [
        c.username for spec in data.ORGANISATIONS for c in spec.contacts if c.username
    ]
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    context = {p.username: team_names[p.team] for p in data.STAFF if p.team}
    context.update(
        Contact.objects.filter(user__username__in=usernames).values_list(
            "user__username", "organisation__name"
        )
    )
    logins = tuple(
        DemoLogin(
            username=username,
            role=str(Role(users[username].role).label),
            hint=str(hint),
            context=context.get(username, ""),
        )
        for username, hint in data.DEMO_LOGINS
        if username in users
    )
    return DemoSummary(
        organisations=orgs.count(),
        assets=Asset.objects.filter(organisation__in=orgs).count(),
        contracts=Contract.objects.filter(organisation__in=orgs).count(),
        users=len(users),
        tickets=Ticket.objects.filter(organisation__in=orgs).count(),
        tickets_created=created,
        logins=logins,
    )


# --- People, teams, customers -----------------------------------------------------------------------


@dataclass
class _People:
    users: dict[str, User]
    teams: dict[str, Team]

    def members(self, team_key: str) -> list[User]:
        return [self.users[p.username] for p in data.STAFF if p.team == team_key and not p.leads]

    def lead(self, team_key: str) -> User:
        return next(self.users[p.username] for p in data.STAFF if p.team == team_key and p.leads)

    def is_english(self, user: User) -> bool:
        return any(p.english for p in data.STAFF if p.username == user.username)


def _demo_user(username: str, role: str, display_name: str, email: str, password: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = account_services.user_create(
            username=username, password=None, role=role, email=email, display_name=display_name
        )
    # The printed logins must work, so the demo password is (re)set on every run. One hash for all
    # users keeps the load fast; this is a local demo.
    return account_services.user_reactivate_with_password_hash(user=user, password_hash=password)


def _load_people() -> _People:
    password = make_password(data.DEMO_PASSWORD)
    users = {
        p.username: _demo_user(p.username, p.role, p.display_name, p.email, password) for p in data.STAFF
    }
    for spec in data.ORGANISATIONS:
        for contact in spec.contacts:
            if contact.username:
                users[contact.username] = _demo_user(
                    contact.username, Role.CUSTOMER, contact.name, contact.email, password
                )
    teams = {}
    for team_spec in data.TEAMS:
        team = Team.objects.filter(name=team_spec.name).first()
        if team is None:
            lead = next(users[p.username] for p in data.STAFF if p.team == team_spec.key and p.leads)
            team = account_services.team_create(name=team_spec.name, kind=team_spec.kind, lead=lead)
        teams[team_spec.key] = team
        for person in data.STAFF:
            user = users[person.username]
            if person.team == team_spec.key and user.role in STAFF_ROLES:
                account_services.team_add_member(team=team, user=user)
    return _People(users=users, teams=teams)


@dataclass
class _Customer:
    spec: OrgSpec
    org: Organisation
    contacts: list[Contact]
    assets: list[tuple[Asset, Equipment]]
    portal_user: User | None
    weight: float


def _serial(code: str, index: int) -> str:
    # 7919 is prime, so the numbers differ for every index below 90,000.
    return f"{code}-{10000 + (index * 7919) % 90000:05d}"


def _load_customers(people: _People, today: date) -> list[_Customer]:
    customers = []
    asset_index = 0
    tier_weight: dict[str, float] = {Tier.PLATINUM: 3.0, Tier.GOLD: 2.2, Tier.SILVER: 1.5, Tier.STANDARD: 1.0}
    for org_index, spec in enumerate(data.ORGANISATIONS):
        rng = random.Random(f"{data.SEED}:{spec.name}")
        org = Organisation.objects.filter(name=spec.name).first() or customer_services.organisation_create(
            name=spec.name, tier=spec.tier, industry=spec.industry, region=spec.region
        )
        contacts = []
        portal_user = None
        for contact_spec in spec.contacts:
            contact = Contact.objects.filter(organisation=org, name=contact_spec.name).first()
            if contact is None:
                user = people.users.get(contact_spec.username) if contact_spec.username else None
                if user is not None and Contact.objects.filter(user=user).exists():
                    user = None
                contact = customer_services.contact_create(
                    organisation=org,
                    name=contact_spec.name,
                    email=contact_spec.email,
                    phone=contact_spec.phone,
                    job_title=contact_spec.job_title,
                    user=user,
                )
            if contact.user_id is not None and portal_user is None:
                portal_user = people.users.get(contact_spec.username)
            contacts.append(contact)
        assets = []
        for position, code in enumerate(spec.equipment):
            equipment = data.EQUIPMENT[code]
            serial = _serial(code, asset_index)
            asset_index += 1
            asset = Asset.objects.filter(serial_number=serial).first()
            if asset is None:
                installed = today - timedelta(days=rng.randint(60, 2200))
                asset = customer_services.asset_create(
                    organisation=org,
                    model=equipment.model,
                    serial_number=serial,
                    site=spec.sites[position % len(spec.sites)],
                    install_date=installed,
                    warranty_end=installed + timedelta(days=365 * equipment.warranty_years),
                )
            assets.append((asset, equipment))
        number = f"HRSC-{org_index + 1:04d}"
        if spec.contract and not Contract.objects.filter(number=number).exists():
            start = today - timedelta(days=rng.randint(20, 500))
            customer_services.contract_create(
                organisation=org,
                number=number,
                tier=spec.tier,
                start_date=start,
                end_date=start + timedelta(days=365 * rng.choice((1, 2, 3)) - 1),
                assets=[asset for asset, _equipment in assets],
                covered_kinds=data.STANDARD_COVERED_KINDS if spec.tier == Tier.STANDARD else (),
                coverage=data.CONTRACT_COVERAGE[spec.tier][1 if spec.english else 0],
            )
        customers.append(
            _Customer(
                spec=spec,
                org=org,
                contacts=contacts,
                assets=assets,
                portal_user=portal_user,
                weight=tier_weight[spec.tier] * math.sqrt(len(assets)),
            )
        )
    return customers


# --- SLA policies -----------------------------------------------------------------------------------


def _load_sla_policies(people: _People) -> None:
    """Create the demo's SLA policies (data.SLA_POLICIES) that are missing, found by name, in order, through
    the policy service; a policy someone has since edited is left as it is. A contract policy whose
    contract is missing is skipped."""
    existing = set(SlaPolicy.objects.values_list("name", flat=True))
    for spec in data.SLA_POLICIES:
        if spec.name in existing:
            continue
        contract = None
        if spec.contract_of:
            contract = (
                Contract.objects.filter(organisation__name=spec.contract_of).order_by("-start_date").first()
            )
            if contract is None:
                continue
        standards_services.sla_policy_create(
            actor=None,
            name=spec.name,
            description=spec.description,
            calendar=spec.calendar,
            contract=contract,
            kinds=spec.kinds,
            priorities=spec.priorities,
            first_response_minutes=spec.first_response,
            next_response_minutes=spec.next_response,
            resolution_minutes=spec.resolution,
            on_site_minutes=spec.on_site,
            pause_statuses=spec.pause_statuses,
            escalation_levels=[_level_data(level, people) for level in spec.levels],
            reason=_("Demo SLA policy"),
        )
    # Ticket creation reads the policies and contracts from a short-lived cache: start from the database.
    clocks.forget_cached_policies()


def _level_data(level: data.LevelSpec, people: _People) -> EscalationLevelData:
    return EscalationLevelData(
        target=level.target,
        percent=level.percent,
        notify=level.notify,
        raise_priority=level.raise_priority,
        reassign_team=people.teams[level.reassign_team] if level.reassign_team else None,
    )


def _demo_policy(customer: OrgSpec, kind: str, priority: str, *, has_asset: bool) -> PolicySpec | None:
    """The demo policy a new ticket will get, matched as clocks.policy_for does: the customer's contract
    policies first (a demo contract covers all the customer's machines for the whole history, and a
    ticket about no machine has no contract), then the general ones in order."""
    own = [spec for spec in data.SLA_POLICIES if has_asset and spec.contract_of == customer.name]
    general = [spec for spec in data.SLA_POLICIES if not spec.contract_of]
    for spec in (*own, *general):
        if (not spec.kinds or kind in spec.kinds) and (not spec.priorities or priority in spec.priorities):
            return spec
    return None


# --- Six months of tickets --------------------------------------------------------------------------


def _office_hours(at: datetime, rng: random.Random) -> datetime:
    """`at` if it is in office hours (Mon–Sat 08:30–18:00 in Shanghai), else soon after the next opening."""
    local = at.astimezone(LOCAL_TZ)
    if local.weekday() != 6 and DAY_START <= local.time() < DAY_END:
        return at
    day = local.date() if local.time() < DAY_START else local.date() + timedelta(days=1)
    if day.weekday() == 6:
        day += timedelta(days=1)
    opening = datetime.combine(day, DAY_START, tzinfo=LOCAL_TZ)
    return (opening + timedelta(minutes=rng.uniform(0, 50))).astimezone(at.tzinfo)


def _office_hours_before(at: datetime, rng: random.Random) -> datetime:
    """`at` if it is in office hours, else some time in the last office hours before it."""
    local = at.astimezone(LOCAL_TZ)
    if local.weekday() != 6 and DAY_START <= local.time() < DAY_END:
        return at
    day = local.date() if local.time() >= DAY_END else local.date() - timedelta(days=1)
    if day.weekday() == 6:
        day -= timedelta(days=1)
    closing = datetime.combine(day, DAY_END, tzinfo=LOCAL_TZ)
    return (closing - timedelta(minutes=rng.uniform(5, 300))).astimezone(at.tzinfo)


def _morning(after: datetime, rng: random.Random, low_days: int, high_days: int) -> datetime:
    """A working morning low..high days after `after` (and at least half an hour after it): a site visit."""
    day = after.astimezone(LOCAL_TZ).date() + timedelta(days=rng.randint(low_days, high_days))
    while True:
        if day.weekday() != 6:
            at = datetime.combine(day, time(9, 0), tzinfo=LOCAL_TZ) + timedelta(minutes=rng.uniform(0, 90))
            if at >= after + timedelta(minutes=30):
                return at.astimezone(after.tzinfo)
        day += timedelta(days=1)


Action = Callable[[datetime], None]


class _Story:
    """One ticket's history, planned as timed steps and then played through the services up to now."""

    def __init__(self, rng: random.Random, created: datetime, *, urgent: bool) -> None:
        self.rng = rng
        self.t = created
        self.urgent = urgent
        self.steps: list[tuple[datetime, Action]] = []
        self.ticket: Ticket | None = None
        self.stuck_share = STUCK[0]
        self.unanswered = False  # only the creation has happened (see _TicketHistory._story)
        # Minutes the first step that can get stuck takes (LONG_STUCK), and whether one did.
        self.long_stuck: float | None = None
        self.long_stuck_used = False

    def later(self, low: float, high: float, *, anytime: bool = False) -> datetime:
        """Move the clock low..high minutes on (at the urgent pace if urgent); people act in office hours
        unless it is urgent."""
        pace = URGENT_PACE if self.urgent else 1.0
        return self.advance(self.rng.uniform(low, high) * pace, anytime=anytime)

    def advance(self, minutes: float, *, anytime: bool = False) -> datetime:
        """Move the clock `minutes` on, into office hours unless it is urgent."""
        at = self.t + timedelta(minutes=minutes)
        if not (anytime or self.urgent):
            at = _office_hours(at, self.rng)
        self.t = at
        return at

    def later_or_stuck(self, low: float, high: float) -> datetime:
        """`later`, except that now and then (STUCK) the step takes days instead (not for a stopped
        line: everybody is on it)."""
        if self.urgent:
            return self.later(low, high)
        if self.long_stuck is not None:
            minutes, self.long_stuck, self.long_stuck_used = self.long_stuck, None, True
            return self.advance(minutes)
        _share, (stuck_low, stuck_high) = STUCK
        if self.rng.random() < self.stuck_share:
            return self.later(stuck_low, stuck_high)
        return self.later(low, high)

    def first_answer(self, priority: str) -> datetime:
        """Move on by the time the desk takes to answer first: FIRST_RESPONSE_MINUTES (the P1 row for a
        ticket worked around the clock), or longer when the desk is SWAMPED (ON_CALL_BUSY)."""
        share, (slow_low, slow_high) = ON_CALL_BUSY if self.urgent else SWAMPED
        if self.rng.random() < share:
            return self.advance(self.rng.uniform(slow_low, slow_high))
        low, high = FIRST_RESPONSE_MINUTES[Priority.P1 if self.urgent else priority]
        return self.advance(self.rng.uniform(low, high))

    def _current(self) -> Ticket:
        assert self.ticket is not None
        return self.ticket

    def create(self, **fields: Any) -> None:
        def run(at: datetime) -> None:
            self.ticket, _created = ticket_services.ticket_create(at=at, **fields)

        self.steps.append((self.t, run))

    def reply(self, actor: User, body: str, channel: str) -> None:
        def run(at: datetime) -> None:
            ticket_services.ticket_reply(
                actor=actor, ticket=self._current(), body=body, channel=channel, at=at
            )

        self.steps.append((self.t, run))

    def note(self, actor: User, body: str) -> None:
        def run(at: datetime) -> None:
            ticket_services.ticket_note(actor=actor, ticket=self._current(), body=body, at=at)

        self.steps.append((self.t, run))

    def move(self, actor: User, status: str, reason: str = "") -> None:
        def run(at: datetime) -> None:
            self.ticket = ticket_services.ticket_transition(
                actor=actor,
                ticket=self._current(),
                to_status=status,
                expected_version=None,
                reason=reason,
                at=at,
            )

        self.steps.append((self.t, run))

    def assign(self, actor: User, team: Team, assignee: User) -> None:
        def run(at: datetime) -> None:
            self.ticket = ticket_services.ticket_assign(
                actor=actor,
                ticket=self._current(),
                team=team,
                assignee=assignee,
                expected_version=None,
                at=at,
            )

        self.steps.append((self.t, run))

    def prioritise(self, actor: User, priority: str) -> None:
        def run(at: datetime) -> None:
            self.ticket = ticket_services.ticket_update(
                actor=actor, ticket=self._current(), expected_version=None, priority=priority, at=at
            )

        self.steps.append((self.t, run))

    def arrive(self, engineer: User) -> None:
        def run(at: datetime) -> None:
            self.ticket = ticket_services.ticket_record_arrival(
                actor=engineer, ticket=self._current(), expected_version=None, at=at
            )

        self.steps.append((self.t, run))

    def play(self, now: datetime) -> None:
        """Carry out every step up to now; later steps have not happened yet (the open queue). Before each
        step, and at the end, the worker's SLA sweep runs for the ticket at every instant a clock fell due
        or an escalation level was reached since the step before, so breaches and escalations happen
        (and are dated) when they would have."""
        last: datetime | None = None
        for index, (at, run) in enumerate(self.steps):
            if at > now or (self.unanswered and index > 0):
                break
            if self.ticket is not None and last is not None:
                _sweep_until(self.ticket.pk, since=last, until=at)
            run(at)
            last = at
        if self.ticket is not None and last is not None:
            _sweep_until(self.ticket.pk, since=last, until=now)


# A clock passes at most its due instant and a few escalation levels between two steps.
MAX_SWEEPS_BETWEEN_STEPS = 20
# The due and escalation instants of a ticket's clocks. Asked after every step of 600 stories, so in
# plain SQL: the ORM's query building would cost several seconds of the load.
_PENDING_SQL = (
    "SELECT state, due_at, next_escalation_at FROM "  # noqa: S608 (table name from the model)
    f"{SlaClock._meta.db_table} WHERE ticket_id = %s"
)


def _instant(value: datetime | str | None) -> datetime | None:
    """A timestamp as the database driver returns it (SQLite: UTC text) as an aware datetime."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _next_sweep(ticket_id: int) -> datetime | None:
    """The earliest instant at which a running clock of the ticket falls due or one of its clocks reaches
    its next escalation level."""
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_SQL, [ticket_id])
        rows = cursor.fetchall()
    instants = [_instant(due) for state, due, _next in rows if state == ClockState.RUNNING]
    instants += [_instant(next_at) for _state, _due, next_at in rows]
    return min((moment for moment in instants if moment is not None), default=None)


def _sweep_until(ticket_id: int, *, since: datetime, until: datetime) -> None:
    """Run `escalation.sweep_ticket` at each instant in (since, until] at which one of the ticket's running
    clocks fell due or reached its next escalation level, in time order, as the worker's sweep would
    have; an instant before `since` (a level already passed when a change rescheduled it) is swept at
    `since`."""
    for _i in range(MAX_SWEEPS_BETWEEN_STEPS):
        moment = _next_sweep(ticket_id)
        if moment is None or moment > until:
            return
        escalation.sweep_ticket(ticket_id, max(moment, since))


class _TicketHistory:
    """Plans and plays ~600 ticket stories over the last six months, in order of creation."""

    def __init__(
        self, rng: random.Random, now: datetime, people: _People, customers: list[_Customer]
    ) -> None:
        self.rng = rng
        self.now = now
        self.people = people
        self.customers = customers
        self.long_stuck_left = LONG_STUCK[0]

    def load(self, count: int) -> int:
        times = self._creation_times(count)
        for index, created in enumerate(times):
            story = self._story(created, unanswered=index >= len(times) - NEAR_DUE)
            if story.long_stuck_used:
                self.long_stuck_left -= 1
            story.play(self.now)
        return count

    def _pick(self, items: Sequence[T], weights: Sequence[float]) -> T:
        return self.rng.choices(list(items), weights=list(weights))[0]

    def _creation_times(self, count: int) -> list[datetime]:
        """More tickets lately than six months ago (the installed base grows), most in office hours, and a
        recent tail that is still being worked on."""
        recent = min(RECENT_TICKETS, count // 4)
        start = self.now - timedelta(days=data.HISTORY_DAYS)
        span = timedelta(days=data.HISTORY_DAYS - 5)
        times = []
        for _i in range(count - recent):
            # Inverse of the CDF 0.7x + 0.3x² of a density rising from 0.7 to 1.3.
            x = (-0.7 + math.sqrt(0.49 + 1.2 * self.rng.random())) / 0.6
            at = start + span * x
            if self.rng.random() < 0.9:
                at = _office_hours(at, self.rng)
            times.append(at)
        for i in range(recent):
            hours = self.rng.uniform(0.2, 3) if i < recent // 5 else self.rng.uniform(3, 120)
            times.append(_office_hours_before(self.now - timedelta(hours=hours), self.rng))
        return sorted(min(at, self.now - timedelta(minutes=5)) for at in times)

    # Who does what.

    def _desk_agent(self, english: bool) -> User:
        agents = self.people.members(data.DESK)
        weights = [3.0 if self.people.is_english(a) == english else 1.0 for a in agents]
        return self._pick(agents, weights)

    def _engineer(self, english: bool) -> User:
        engineers = self.people.members(data.FIELD)
        weights = [3.0 if self.people.is_english(e) == english else 1.0 for e in engineers]
        return self._pick(engineers, weights)

    def _scenario(self, customer: _Customer) -> tuple[Scenario, Asset | None, Equipment | None]:
        categories = {equipment.category for _asset, equipment in customer.assets}
        while True:
            group = self._pick([g for g, _w in data.KIND_WEIGHTS], [w for _g, w in data.KIND_WEIGHTS])
            fitting = [s for s in group if not s.categories or categories & set(s.categories)]
            if fitting:
                break
        scenario = self._pick(fitting, [s.weight for s in fitting])
        if not scenario.categories:
            return scenario, None, None
        asset, equipment = self.rng.choice(
            [(a, e) for a, e in customer.assets if e.category in scenario.categories]
        )
        return scenario, asset, equipment

    def _near_due_creation(self, spec: PolicySpec) -> datetime:
        """When a ticket must have come in for its first-response clock (of `spec`) to have used 78–95 % of
        its target by now: found by halving on the policy's calendar."""
        assert spec.first_response is not None
        business_time = business_time_for(BusinessCalendar.objects.get(code=spec.calendar))
        wanted = spec.first_response * self.rng.uniform(0.78, 0.95)
        early, late = self.now - timedelta(days=40), self.now
        for _i in range(40):
            middle = early + (late - early) / 2
            if business_time.elapsed(middle, self.now) > wanted:
                early = middle
            else:
                late = middle
        return late

    def _story(self, created: datetime, *, unanswered: bool = False) -> _Story:
        """Plan one ticket's story. An `unanswered` ticket is the desk's next job: it came in so long
        ago that its first response is nearly due, and nothing has happened to it yet."""
        rng = self.rng
        # The customers with portal logins find some of their tickets still open when they sign in.
        recent = created > self.now - timedelta(days=5)
        weights = [c.weight * (3 if recent and c.portal_user else 1) for c in self.customers]
        customer = self._pick(self.customers, weights)
        scenario, asset, equipment = self._scenario(customer)
        english = customer.spec.english
        priority = rng.choice(scenario.priorities)
        if (
            customer.spec.tier == Tier.PLATINUM
            and priority in (Priority.P3, Priority.P4)
            and rng.random() < 0.3
        ):
            priority = Priority.P2 if priority == Priority.P3 else Priority.P3
        # A ticket timed around the clock (P1 faults, the full-service contract's P1/P2 faults) is worked
        # around the clock; the others in office hours.
        policy = _demo_policy(customer.spec, scenario.kind, priority, has_asset=asset is not None)
        if unanswered and policy is not None and policy.first_response is not None:
            created = self._near_due_creation(policy)
        story = _Story(rng, created, urgent=policy is not None and policy.calendar == "24x7")
        story.unanswered = unanswered
        if priority == Priority.P2:
            story.stuck_share = STUCK_SHARE_P2
        _most, chance, (newest, oldest), (stuck_low, stuck_high) = LONG_STUCK
        if (
            self.long_stuck_left > 0
            and self.now - timedelta(days=oldest) <= created <= self.now - timedelta(days=newest)
            and rng.random() < chance
        ):
            story.long_stuck = rng.uniform(stuck_low, stuck_high)
        values = {
            "model": equipment.label(english) if equipment else "",
            "serial": asset.serial_number if asset else "",
            "site": asset.site if asset else "",
            "warranty_end": asset.warranty_end.isoformat() if asset and asset.warranty_end else "",
        }

        def say(pair: ZhEn, **extra: str) -> str:
            return pair[1 if english else 0].format(**values, **extra)

        desk = self._desk_agent(english)
        tags = []
        if equipment is not None and asset is not None:
            tags.append(data.CATEGORY_TAGS[equipment.category])
            if asset.warranty_end and asset.warranty_end >= created.date():
                tags.append("warranty")
        by_customer = customer.portal_user is not None and rng.random() < 0.65
        route = rng.choice(scenario.routes)
        fields: dict[str, Any] = {
            "organisation": customer.org,
            "subject": say(scenario.subject),
            "description": say(scenario.description),
            "kind": scenario.kind,
            "priority": priority,
            "asset": asset,
            "tags": tags,
        }
        if route == data.VISIT:
            engineer = self._engineer(english)
            story.create(
                actor=self.people.lead(data.FIELD),
                channel=Channel.PHONE,
                contact=rng.choice(customer.contacts),
                team=self.people.teams[data.FIELD],
                assignee=engineer,
                **fields,
            )
            self._visit(story, scenario, say, engineer)
            self._close(story, customer, engineer, say, channel=Channel.EMAIL)
            return story
        if by_customer:
            assert customer.portal_user is not None
            story.create(actor=customer.portal_user, channel=Channel.PORTAL, **fields)
            channel = Channel.PORTAL
        else:
            channel = rng.choice((Channel.PHONE, Channel.PHONE, Channel.EMAIL))
            story.create(actor=desk, channel=channel, contact=rng.choice(customer.contacts), **fields)
            channel = Channel.EMAIL if channel == Channel.EMAIL else Channel.PHONE
        urgent = story.urgent
        desk_team = self.people.teams[data.DESK]
        lead = self.people.lead(data.DESK)
        if route == data.COMPLAINT:
            story.later(5, 20)
            story.assign(lead, desk_team, lead)
            story.first_answer(Priority.P1)
            story.reply(lead, say(data.COMPLAINT_ACK, me=str(lead)), channel)
            story.later(5, 60)
            story.move(lead, Status.IN_PROGRESS)
            story.later(60, 480)
            story.note(self.people.users["manager"], say(data.COMPLAINT_NOTE))
            story.later_or_stuck(120, 900)
            story.reply(lead, say(scenario.resolution), channel)
            story.later(1, 5)
            story.move(lead, Status.RESOLVED)
            self._close(story, customer, lead, say, channel)
            return story
        story.advance(rng.uniform(*DISPATCH_MINUTES[Priority.P1 if urgent else priority]))
        dispatcher = lead if rng.random() < 0.7 else desk
        if route == data.SHIP and scenario.kind == Kind.REQUEST:
            parts_team = self.people.teams[data.PARTS]
            handler = self._pick([self.people.lead(data.PARTS), *self.people.members(data.PARTS)], [1.0, 3.0])
            story.note(dispatcher, say(data.PASS_TO_PARTS))
            story.assign(dispatcher, parts_team, handler)
            story.first_answer(priority)
            story.reply(handler, say(scenario.resolution), channel)
            story.later(1, 10)
            story.move(handler, Status.RESOLVED)
            self._close(story, customer, handler, say, channel)
            return story
        story.assign(dispatcher, desk_team, desk)
        story.first_answer(priority)
        if route == data.ANSWER:
            story.reply(desk, say(scenario.resolution), channel)
            story.later(2, 30)
            story.move(desk, Status.RESOLVED)
            self._close(story, customer, desk, say, channel)
            return story
        story.reply(desk, say(rng.choice(data.ACKNOWLEDGE), me=str(desk)), channel)
        if priority == Priority.P3 and scenario.kind == Kind.FAULT and rng.random() < 0.1:
            story.later(10, 120)
            story.prioritise(lead, Priority.P2)
            story.note(lead, say(data.PRIORITY_RAISED))
        story.later(5, 60)
        story.move(desk, Status.IN_PROGRESS)
        resolver = desk
        if route == data.REMOTE:
            self._remote(story, customer, scenario, say, desk, channel)
        elif route == data.BACKOFFICE:
            self._back_office(story, scenario, say, desk, channel)
        elif route == data.SHIP:
            self._ship(story, scenario, say, desk, channel)
        else:
            resolver = self._engineer(english)
            handover = data.HAND_TO_FIELD if scenario.kind == Kind.FAULT else data.PASS_TO_FIELD
            story.later(10, 120)
            story.note(desk, say(handover))
            story.later(5, 60)
            story.assign(self.people.lead(data.FIELD), self.people.teams[data.FIELD], resolver)
            self._on_site(story, scenario, say, resolver, channel, priority)
        story.later(1, 5)
        story.move(resolver, Status.RESOLVED)
        self._close(story, customer, resolver, say, channel)
        return story

    # The middle of a story, by route; each leaves the ticket in progress with the fix just replied.

    def _remote(
        self,
        story: _Story,
        customer: _Customer,
        scenario: Scenario,
        say: Callable[..., str],
        desk: User,
        channel: str,
    ) -> None:
        rng = self.rng
        if rng.random() < 0.6:
            story.later(10, 90)
            story.reply(desk, say(rng.choice(data.ASK_CUSTOMER)), channel)
            story.later(1, 3, anytime=True)
            story.move(desk, Status.WAITING_CUSTOMER)
            story.later(60, 4320)
            answer = say(rng.choice(data.CUSTOMER_ANSWERS))
            if customer.portal_user is not None and channel == Channel.PORTAL:
                story.reply(customer.portal_user, answer, Channel.PORTAL)  # wakes the ticket up
            else:
                story.note(desk, say(data.PHONE_LOG, text=answer))
                story.later(0, 5, anytime=True)
                story.move(desk, Status.IN_PROGRESS)
        story.later(20, 150)
        story.reply(desk, say(data.DIAGNOSIS_REPLY, diagnosis=say(scenario.diagnosis)), channel)
        story.later_or_stuck(60, 1440)
        story.reply(desk, f"{say(scenario.resolution)}\n\n{say(data.RESOLVED_FOOTER)}", channel)

    def _back_office(
        self, story: _Story, scenario: Scenario, say: Callable[..., str], desk: User, channel: str
    ) -> None:
        tech = self._pick([self.people.lead(data.TECH), *self.people.members(data.TECH)], [1.0, 2.0])
        story.later(10, 60)
        story.move(desk, Status.WAITING_BACK_OFFICE)
        story.note(desk, say(data.ASK_BACK_OFFICE))
        story.later_or_stuck(60, 1440)
        story.note(tech, say(data.BACK_OFFICE_ANSWER, diagnosis=say(scenario.diagnosis)))
        story.later(10, 90)
        story.move(desk, Status.IN_PROGRESS)
        story.later(30, 600)
        story.reply(desk, f"{say(scenario.resolution)}\n\n{say(data.RESOLVED_FOOTER)}", channel)

    def _ship(
        self, story: _Story, scenario: Scenario, say: Callable[..., str], desk: User, channel: str
    ) -> None:
        story.later(20, 120)
        story.move(desk, Status.WAITING_PARTS)
        story.reply(desk, say(data.PART_NEEDED_REPLY), channel)
        story.note(desk, say(data.PART_REQUEST_NOTE))
        self._shipment(story, say)
        story.later_or_stuck(60, 300)
        story.reply(desk, f"{say(scenario.resolution)}\n\n{say(data.RESOLVED_FOOTER)}", channel)

    def _shipment(self, story: _Story, say: Callable[..., str]) -> None:
        """The parts team ships; the part arrives some days later (for a stopped line mostly the same day,
        by courier) and the ticket goes back in progress."""
        rng = self.rng
        shipper = self._pick([self.people.lead(data.PARTS), *self.people.members(data.PARTS)], [1.0, 3.0])
        warehouse = say(rng.choice(data.WAREHOUSES))
        story.later(60, 600)
        if story.urgent and rng.random() < SAME_DAY_COURIER:
            hours = rng.randint(2, 6)
            story.note(shipper, say(data.PART_COURIER_NOTE, warehouse=warehouse, hours=str(hours)))
            story.advance(rng.uniform(hours * 60 - 30, hours * 60 + 60))
        else:
            days = rng.randint(1, 6)
            tracking = str(rng.randint(10**11, 10**12 - 1))
            story.note(
                shipper,
                say(data.PART_SHIPPED_NOTE, warehouse=warehouse, tracking=tracking, days=str(days)),
            )
            story.advance(rng.uniform(days * 1440 - 240, days * 1440 + 600))
        story.move(shipper, Status.IN_PROGRESS, reason=say(data.PART_ARRIVED))

    def _on_site(
        self,
        story: _Story,
        scenario: Scenario,
        say: Callable[..., str],
        engineer: User,
        channel: str,
        priority: str,
    ) -> None:
        """The field engineer books a visit, diagnoses on site, perhaps waits for a part, and fixes it."""
        story.later(10, 120)
        if story.urgent:
            visit = story.t + timedelta(minutes=self.rng.uniform(90, 240))
        elif self.rng.random() < story.stuck_share:  # the engineers are booked up
            visit = _morning(story.t, self.rng, 4, 8)
        else:  # a P2 fault gets the next free engineer
            visit = _morning(story.t, self.rng, 1, 2 if priority == Priority.P2 else 3)
        story.reply(engineer, say(data.SCHEDULE_VISIT, me=str(engineer), date=_day_text(visit, say)), channel)
        story.t = visit
        diagnosis = say(scenario.diagnosis)
        story.note(
            engineer, say(data.ON_SITE_NOTE, diagnosis=diagnosis) if diagnosis else say(data.ON_SITE_START)
        )
        if scenario.parts_on_site and self.rng.random() < 0.6:
            story.later(30, 120)
            story.move(engineer, Status.WAITING_PARTS)
            story.reply(engineer, say(data.PART_NEEDED_REPLY), channel)
            story.note(engineer, say(data.PART_REQUEST_NOTE))
            self._shipment(story, say)
            story.t = _morning(story.t, self.rng, 0, 1)
        story.later_or_stuck(90, 300)
        story.reply(engineer, f"{say(scenario.resolution)}\n\n{say(data.RESOLVED_FOOTER)}", channel)

    def _visit(self, story: _Story, scenario: Scenario, say: Callable[..., str], engineer: User) -> None:
        """A planned field visit: confirmed by the engineer, carried out on the day."""
        story.later(30, 300)
        chance = self.rng.random()
        if chance < VISIT_LATE:  # the engineers are booked up, or the customer wants a later day
            visit = _morning(story.t, self.rng, 3, 8)
        else:  # mostly the next working morning
            visit = _morning(story.t, self.rng, 1, 1 if chance < 0.75 else 2)
        story.reply(
            engineer, say(data.SCHEDULE_VISIT, me=str(engineer), date=_day_text(visit, say)), Channel.EMAIL
        )
        story.t = visit
        story.arrive(engineer)
        story.move(engineer, Status.IN_PROGRESS)
        story.note(engineer, say(data.ON_SITE_START))
        story.later(120, 360)
        story.reply(engineer, say(scenario.resolution), Channel.EMAIL)
        story.later(1, 10)
        story.move(engineer, Status.RESOLVED)

    def _close(
        self, story: _Story, customer: _Customer, resolver: User, say: Callable[..., str], channel: str
    ) -> None:
        """After the resolution: sometimes the problem comes back; then the customer or the agent closes."""
        rng = self.rng
        portal = customer.portal_user
        if rng.random() < 0.06:
            story.later(1440, 4320)
            if portal is not None and channel == Channel.PORTAL:
                story.reply(portal, say(data.REOPEN), Channel.PORTAL)  # reopens the ticket
            else:
                story.note(resolver, say(data.PHONE_LOG, text=say(data.REOPEN)))
                story.move(resolver, Status.IN_PROGRESS, reason=say(data.REOPEN))
            story.later(60, 1440)
            story.reply(resolver, say(data.REOPEN_FIX), channel)
            story.later(1, 10)
            story.move(resolver, Status.RESOLVED)
        if portal is not None and channel == Channel.PORTAL and rng.random() < 0.7:
            story.later(120, 4 * 1440)
            story.move(portal, Status.CLOSED, reason=say(rng.choice(data.CLOSE_BY_CUSTOMER)))
        else:
            story.later(2 * 1440, 7 * 1440)
            story.move(resolver, Status.CLOSED, reason=say(data.CLOSE_BY_AGENT))


def _day_text(at: datetime, say: Callable[..., str]) -> str:
    local = at.astimezone(LOCAL_TZ).date()
    return say((f"{local.month}月{local.day}日", f"{local.day} {data.MONTHS_EN[local.month - 1]}"))
