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

The service catalogue (data.SERVICE_TYPES, found by code) and its SOPs (data.SOPS, found by code, each
approved by the service manager to take effect at the start of the history, the fault-repair SOP's
second version two months ago) are created before any ticket too. Tickets whose story fits a service get
its type, so they carry the SOP version in effect on the day they came in, and their stories complete the
steps through `sop_step_complete` as the work is done: checkpoints answered by whoever did the step
(back-office steps by the team the ticket was handed to), some critical ones failing first time and put
right, a few resolved by the service manager over a checkpoint, with a reason.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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
from pledge.demo.data import CheckpointSpec, Equipment, OrgSpec, PolicySpec, Scenario, StepSpec, ZhEn
from pledge.lib.businesstime import BusinessTime
from pledge.standards import services as standards_services
from pledge.standards.choices import CheckpointKind
from pledge.standards.models import BusinessCalendar, Checkpoint, ServiceType, SlaPolicy, Sop
from pledge.standards.selectors import business_time_for
from pledge.standards.services import CheckpointData, EscalationLevelData, StepData, ensure_builtin_calendars
from pledge.tickets import clocks, escalation
from pledge.tickets import services as ticket_services
from pledge.tickets.choices import Channel, ClockState, Kind, Priority, Status
from pledge.tickets.models import SlaClock, Ticket, TicketStep, instant_on

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

# How many of the tickets whose work fits a service get its type: the others were logged without one.
TYPED_SHARE = 0.7
# SOP steps. The back-office steps are the bottlenecks: technical support's analysis and the parts check
# (and shipment) usually take part of a day or two, but (share, minutes) of them take longer than their
# time standard, on top of the STUCK ones. The engineers are booked up less often on an SOP visit than
# on a plain one.
ANALYSIS_MINUTES, ANALYSIS_SLOW = (60.0, 420.0), (0.3, (1500.0, 4000.0))
PARTS_MINUTES, PARTS_SLOW = (300.0, 1200.0), (0.5, (2900.0, 6000.0))
NO_PART_MINUTES, NO_PART_SLOW = (20.0, 300.0), (0.2, (2400.0, 4800.0))
# How often an on-site repair needs a part shipped first: (any fault, a fault that usually needs one).
PART_NEEDED = (0.3, 0.7)
BOOKED_UP = 0.1
# How often an optional checkpoint is answered anyway (photo and file checkpoints never: the demo stores
# no files).
OPTIONAL_ANSWERED = 0.5
# How often a critical checkpoint fails first time and is put right after another repair, by SOP; and how
# often, of those, it cannot be put right and the service manager resolves over it (with a reason).
FIRST_TIME_FAIL = {
    data.FAULT_REPAIR_TYPE: 0.1,
    data.REMOTE_TYPE: 0.07,
    data.INSTALLATION_TYPE: 0.2,
    data.MAINTENANCE_TYPE: 0.12,
}
NOT_PUT_RIGHT = 0.3
# How often a parameter change goes ahead without a backup, and a complaint's outcome is not accepted:
# both end in the service manager's override.
NO_BACKUP, NOT_ACCEPTED = 0.03, 0.15
# A few recent remote-support tickets wait on technical support for days, so the open queue always shows
# tickets handed to the back office: (at most how many, created between these many hours ago, minutes
# their analysis takes).
HELD_HANDOFFS = (2, (8.0, 72.0), (3 * 1440.0, 6 * 1440.0))

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
        catalogue = _load_service_catalogue(people, now)
        created = 0
        _CALENDARS.clear()  # compiled calendars are valid for one load
        if not Ticket.objects.filter(organisation__in=[c.org for c in customers]).exists():
            created = _TicketHistory(random.Random(seed), now, people, customers, catalogue).load(
                ticket_count
            )
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


# --- The service catalogue and its SOPs ------------------------------------------------------------


class _Catalogue:
    """The demo's service types by code, and what the stories need to carry out SOP steps."""

    def __init__(self, service_types: dict[str, ServiceType]) -> None:
        self.service_types = service_types
        # Every checkpoint a step asks in any version of its SOP, by (SOP code, step key): what the demo's
        # people answer (sop_step keeps those the ticket's version asks).
        self.checkpoints: dict[tuple[str, str], list[CheckpointSpec]] = {}
        for sop in data.SOPS:
            for version in sop.versions:
                for step in version.steps:
                    known = self.checkpoints.setdefault((sop.code, step.key), [])
                    for checkpoint in step.checkpoints:
                        if all(checkpoint.key != other.key for other in known):
                            known.append(checkpoint)
        self._keys: dict[int, frozenset[str]] = {}
        # The steps of the ticket whose story is playing: (ticket id, step key → (position, step id)).
        self._steps: tuple[int, dict[str, tuple[int, int]]] = (0, {})

    def step(self, ticket_id: int, key: str) -> tuple[int, frozenset[str]]:
        """The position of the ticket's step `key` and the keys of that step's checkpoints."""
        if self._steps[0] != ticket_id:
            rows = TicketStep.objects.filter(ticket_id=ticket_id).values_list(
                "step__key", "position", "step_id"
            )
            self._steps = (ticket_id, {step_key: (position, step_id) for step_key, position, step_id in rows})
        position, step_id = self._steps[1][key]
        if step_id not in self._keys:
            self._keys[step_id] = frozenset(
                Checkpoint.objects.filter(step_id=step_id).values_list("key", flat=True)
            )
        return position, self._keys[step_id]


def _step_data(spec: StepSpec, people: _People) -> StepData:
    return StepData(
        key=spec.key,
        name=spec.name,
        owner=spec.owner,
        time_standard_minutes=spec.minutes,
        team=people.teams[spec.team] if spec.team else None,
        parallel_group=spec.parallel_group,
        is_milestone=bool(spec.milestone),
        milestone_name=spec.milestone,
        guidance=spec.guidance,
        checkpoints=[
            CheckpointData(
                key=checkpoint.key,
                label=checkpoint.label,
                kind=checkpoint.kind,
                mandatory=checkpoint.mandatory,
                critical=checkpoint.critical,
                min_value=checkpoint.min_value,
                max_value=checkpoint.max_value,
                unit=checkpoint.unit,
            )
            for checkpoint in spec.checkpoints
        ],
    )


def _local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)


def _load_service_catalogue(people: _People, now: datetime) -> _Catalogue:
    """Create the demo's SOPs (data.SOPS) and service types (data.SERVICE_TYPES) that are missing, found by
    code, through the standards services; those that exist are left as they are. The service manager
    drafts each SOP version nine days and approves it three days before it takes effect: the first at
    the start of the history, a later one the days before now its spec says."""
    manager = people.users["manager"]
    today = now.astimezone(LOCAL_TZ).date()
    history_start = today - timedelta(days=data.HISTORY_DAYS + 3)
    existing = set(
        Sop.objects.filter(code__in=[spec.code for spec in data.SOPS]).values_list("code", flat=True)
    )
    for spec in data.SOPS:
        if spec.code in existing:
            continue
        draft = None
        for version in spec.versions:
            effective = (
                history_start
                if version.effective_days_ago is None
                else today - timedelta(days=version.effective_days_ago)
            )
            drafted = _local(effective - timedelta(days=9), 10)
            steps = [_step_data(step, people) for step in version.steps]
            if draft is None:
                draft = standards_services.sop_create(
                    actor=manager,
                    code=spec.code,
                    name=spec.name,
                    steps=steps,
                    description=spec.description,
                    reason=version.reason,
                    at=drafted,
                )
            else:
                draft = standards_services.sop_draft_start(
                    actor=manager, sop=draft.sop, reason=version.reason, at=drafted
                )
                draft = standards_services.sop_draft_save(
                    actor=manager, version=draft, steps=steps, reason=version.reason, at=drafted
                )
            draft = standards_services.sop_version_approve(
                actor=manager,
                version=draft,
                effective_from=effective,
                at=_local(effective - timedelta(days=3), 16),
            )
    service_types = {
        service_type.code: service_type
        for service_type in ServiceType.objects.filter(code__in=[spec.code for spec in data.SERVICE_TYPES])
    }
    for type_spec in data.SERVICE_TYPES:
        if type_spec.code in service_types:
            continue
        service_types[type_spec.code] = standards_services.service_type_create(
            actor=manager,
            code=type_spec.code,
            name=type_spec.name,
            description=type_spec.description,
            category=type_spec.category,
            calendar=type_spec.calendar,
            default_kind=type_spec.default_kind,
            default_priority=type_spec.default_priority,
            skills=type_spec.skills,
            sop=type_spec.sop,
            first_response_minutes=type_spec.first_response,
            resolution_minutes=type_spec.resolution,
            on_site_minutes=type_spec.on_site,
            customer_selectable=type_spec.customer_selectable,
        )
    return _Catalogue(service_types)


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


def _sentence(text: str) -> str:
    """A written answer starting with a capital (a diagnosis reads "the pump…" inside a sentence)."""
    return text[:1].upper() + text[1:]


Action = Callable[[datetime], None]


class _Story:
    """One ticket's history, planned as timed steps and then played through the services up to now."""

    def __init__(
        self, rng: random.Random, created: datetime, *, urgent: bool, catalogue: _Catalogue | None = None
    ) -> None:
        self.rng = rng
        self.t = created
        self.urgent = urgent
        self.catalogue = catalogue
        # The service manager's reason for resolving over the SOP's checkpoints; empty: not needed.
        self.override = ""
        # Minutes a back-office step waits, so that it is still under way now (HELD_HANDOFFS).
        self.held: float | None = None
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

    def later_or_stuck(
        self, low: float, high: float, *, slow: tuple[float, tuple[float, float]] | None = None
    ) -> datetime:
        """`later`, except that now and then (STUCK) the step takes days instead (not for a stopped
        line: everybody is on it), and with `slow` (share, (low, high)) a share of the others take that
        long."""
        if self.urgent:
            return self.later(low, high)
        if self.long_stuck is not None:
            minutes, self.long_stuck, self.long_stuck_used = self.long_stuck, None, True
            return self.advance(minutes)
        _share, (stuck_low, stuck_high) = STUCK
        if self.rng.random() < self.stuck_share:
            return self.later(stuck_low, stuck_high)
        if slow is not None and self.rng.random() < slow[0]:
            return self.later(*slow[1])
        return self.later(low, high)

    def back_office(
        self, usual: tuple[float, float], slow: tuple[float, tuple[float, float]], *, can_stick: bool = True
    ) -> datetime:
        """Move on by the time a back-office step takes: `later_or_stuck` (only slow, not stuck, unless
        it `can_stick`), or HELD_HANDOFFS' wait."""
        if self.held is not None:
            return self.advance(self.held)
        if not can_stick:
            share, (slow_low, slow_high) = slow
            return self.later(slow_low, slow_high) if self.rng.random() < share else self.later(*usual)
        return self.later_or_stuck(*usual, slow=slow)

    def starting_at(self, start: datetime, move: Callable[[], datetime]) -> datetime:
        """When `move` (a `later…` of this story) would end if it started at `start`; the story's own
        clock stays where it is. For work that runs side by side."""
        saved, self.t = self.t, start
        try:
            return move()
        finally:
            self.t = saved

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

    def move(self, actor: User, status: str, reason: str = "", override_reason: str = "") -> None:
        def run(at: datetime) -> None:
            self.ticket = ticket_services.ticket_transition(
                actor=actor,
                ticket=self._current(),
                to_status=status,
                expected_version=None,
                reason=reason,
                override_reason=override_reason,
                at=at,
            )

        self.steps.append((self.t, run))

    def sop_step(
        self,
        actor: User,
        key: str,
        answers: Mapping[str, str],
        *,
        complete: bool = True,
        at: datetime | None = None,
    ) -> None:
        """Answer the checkpoints of the SOP step `key` that the ticket's version asks and, with
        `complete`, complete it; `at` (no earlier than the story's last step) for work done meanwhile."""
        catalogue = self.catalogue
        assert catalogue is not None

        def run(when: datetime) -> None:
            ticket = self._current()
            position, asked = catalogue.step(ticket.pk, key)
            ticket_services.sop_step_complete(
                actor=actor,
                ticket=ticket,
                position=position,
                answers={checkpoint: answer for checkpoint, answer in answers.items() if checkpoint in asked},
                complete=complete,
                at=when,
            )

        self.steps.append((at or self.t, run))

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
# The due and escalation positions of a ticket's clocks. Asked after every step of 600 stories, so in
# plain SQL: the ORM's query building would cost several seconds of the load.
_PENDING_SQL = (
    "SELECT state, calendar_id, due_pos, escalation_pos FROM "  # noqa: S608 (table name from the model)
    f"{SlaClock._meta.db_table} WHERE ticket_id = %s AND (due_pos IS NOT NULL OR escalation_pos IS NOT NULL)"
)


def _business_time(calendar_id: int) -> BusinessTime:
    """The calendar compiled (the calendars do not change while the stories play)."""
    business_time = _CALENDARS.get(calendar_id)
    if business_time is None:
        business_time = business_time_for(BusinessCalendar.objects.get(pk=calendar_id))
        _CALENDARS[calendar_id] = business_time
    return business_time


_CALENDARS: dict[int, BusinessTime] = {}


def _instant(calendar_id: int, position: float | None) -> datetime | None:
    return None if position is None else instant_on(_business_time(calendar_id), position)


def _next_sweep(ticket_id: int) -> datetime | None:
    """The earliest instant at which a running clock of the ticket falls due or one of its clocks reaches
    its next escalation level."""
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_SQL, [ticket_id])
        rows = cursor.fetchall()
    instants = [_instant(cal, due) for state, cal, due, _next in rows if state == ClockState.RUNNING]
    instants += [_instant(cal, next_pos) for _state, cal, _due, next_pos in rows]
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


@dataclass(frozen=True)
class _Job:
    """What the SOP parts of a story know of its ticket: the service type's code ('' for none), how to
    say things in the customer's language, and the story's texts for the checkpoint answers."""

    story: _Story
    customer: _Customer
    scenario: Scenario
    service: str
    say: Callable[..., str]
    texts: dict[str, str]
    channel: str
    priority: str


class _TicketHistory:
    """Plans and plays ~600 ticket stories over the last six months, in order of creation."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        people: _People,
        customers: list[_Customer],
        catalogue: _Catalogue,
    ) -> None:
        self.rng = rng
        self.now = now
        self.people = people
        self.customers = customers
        self.catalogue = catalogue
        self.long_stuck_left = LONG_STUCK[0]
        self.held_left = HELD_HANDOFFS[0]

    def load(self, count: int) -> int:
        times = self._creation_times(count)
        for index, created in enumerate(times):
            story = self._story(created, unanswered=index >= len(times) - NEAR_DUE)
            if story.long_stuck_used:
                self.long_stuck_left -= 1
            story.play(self.now)
            if (
                story.held is not None
                and story.ticket is not None
                and Ticket.objects.filter(pk=story.ticket.pk, handoff_team__isnull=False).exists()
            ):
                self.held_left -= 1
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
        story = _Story(
            rng, created, urgent=policy is not None and policy.calendar == "24x7", catalogue=self.catalogue
        )
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
        service = scenario.service or (
            data.FAULT_SERVICES.get(route, "") if scenario.kind == Kind.FAULT else ""
        )
        if service and rng.random() >= TYPED_SHARE:
            service = ""
        _held_most, (held_newest, held_oldest), (held_low, held_high) = HELD_HANDOFFS
        if (
            service == data.REMOTE_TYPE
            and self.held_left > 0
            and not unanswered
            and self.now - timedelta(hours=held_oldest) <= created <= self.now - timedelta(hours=held_newest)
        ):
            story.held = rng.uniform(held_low, held_high)
        fields: dict[str, Any] = {
            "organisation": customer.org,
            "subject": say(scenario.subject),
            "description": say(scenario.description),
            "kind": scenario.kind,
            "priority": priority,
            "service_type": self.catalogue.service_types[service] if service else None,
            "asset": asset,
            "tags": tags,
        }
        texts = {
            "subject": say(scenario.subject),
            "diagnosis": say(scenario.diagnosis),
            "resolution": say(scenario.resolution),
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
            job = _Job(story, customer, scenario, service, say, texts, Channel.EMAIL, priority)
            if service == data.INSTALLATION_TYPE:
                self._installation(job, engineer)
            elif service == data.MAINTENANCE_TYPE:
                self._maintenance_visit(job, engineer)
            else:
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
        job = _Job(story, customer, scenario, service, say, texts, channel, priority)
        urgent = story.urgent
        desk_team = self.people.teams[data.DESK]
        lead = self.people.lead(data.DESK)
        if route == data.COMPLAINT:
            self._complaint(job, lead)
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
        asked = story.t
        if service == data.CONSULTATION_TYPE:
            story.sop_step(desk, "log", self._answers(job, "log"))
        story.first_answer(priority)
        if route == data.ANSWER:
            if service == data.CONSULTATION_TYPE:
                # The desk looked the answer up while the ticket waited for it.
                looked_up = asked + (story.t - asked) * rng.uniform(0.5, 0.9)
                story.sop_step(desk, "research", self._answers(job, "research"), at=looked_up)
            story.reply(desk, say(scenario.resolution), channel)
            if service == data.CONSULTATION_TYPE:
                story.sop_step(desk, "answer", self._answers(job, "answer"))
            story.later(2, 30)
            if service == data.CONSULTATION_TYPE:
                story.sop_step(desk, "confirm", self._answers(job, "confirm"))
            story.move(desk, Status.RESOLVED)
            self._close(story, customer, desk, say, channel)
            return story
        story.reply(desk, say(rng.choice(data.ACKNOWLEDGE), me=str(desk)), channel)
        if service == data.REMOTE_TYPE:
            story.sop_step(desk, "intake", self._answers(job, "intake"))
        if priority == Priority.P3 and scenario.kind == Kind.FAULT and rng.random() < 0.1:
            story.later(10, 120)
            story.prioritise(lead, Priority.P2)
            story.note(lead, say(data.PRIORITY_RAISED))
        story.later(5, 60)
        story.move(desk, Status.IN_PROGRESS)
        resolver = desk
        if service == data.REMOTE_TYPE:
            self._remote_support(job, desk, route)
        elif service == data.FAULT_REPAIR_TYPE:
            resolver = self._fault_repair(job, desk)
        elif service == data.MAINTENANCE_TYPE:
            resolver = self._maintenance_on_site(job, desk)
        elif route == data.REMOTE:
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
        self._resolve(story, resolver)
        self._close(story, customer, resolver, say, channel)
        return story

    def _resolve(self, story: _Story, resolver: User) -> None:
        """Resolve the ticket; the service manager does it, over the SOP's checkpoints, when the story has
        a reason to."""
        if story.override:
            story.move(self.people.users["manager"], Status.RESOLVED, override_reason=story.override)
        else:
            story.move(resolver, Status.RESOLVED)

    # Answers to SOP checkpoints.

    def _answers(
        self, job: _Job, step: str, *, fail: str = "", no: str = "", text: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """What the person doing `step` answers: every mandatory checkpoint, those `text` answers and some
        other optional ones (no photos or files); yes, except the checkpoint `no`; numbers within limits,
        except `fail`'s; texts from `text` or the checkpoint's demo answer."""
        rng = self.rng
        text = text or {}
        answers: dict[str, str] = {}
        for checkpoint in self.catalogue.checkpoints[(job.service, step)]:
            if checkpoint.kind in (CheckpointKind.FILE, CheckpointKind.PHOTO):
                continue
            if not (checkpoint.mandatory or checkpoint.key in text) and rng.random() > OPTIONAL_ANSWERED:
                continue
            if checkpoint.kind == CheckpointKind.YES_NO:
                answers[checkpoint.key] = "no" if checkpoint.key == no else "yes"
            elif checkpoint.kind == CheckpointKind.NUMBER:
                answers[checkpoint.key] = self._number(checkpoint, failing=checkpoint.key == fail)
            else:
                written = text.get(checkpoint.key) or job.say(checkpoint.text, **job.texts).strip()
                answers[checkpoint.key] = _sentence(written or job.say(("已完成。", "Done.")))
        return answers

    def _number(self, checkpoint: CheckpointSpec, *, failing: bool = False) -> str:
        low, high = checkpoint.failing if failing else checkpoint.answers
        return f"{self.rng.uniform(low, high):.{checkpoint.decimals}f}"

    def _checkpoint(self, job: _Job, step: str, key: str) -> CheckpointSpec:
        return next(c for c in self.catalogue.checkpoints[(job.service, step)] if c.key == key)

    def _put_right(self, job: _Job, actor: User, step: str, key: str) -> None:
        """Answer a failed checkpoint again, within its limits now (the step stays as it is)."""
        job.story.sop_step(actor, step, {key: self._number(self._checkpoint(job, step, key))}, complete=False)

    # The SOP stories: each carries out the steps of its service's SOP as the work is done.

    def _complaint(self, job: _Job, lead: User) -> None:
        """The desk lead handles a complaint (along the complaint-handling SOP when it has the type); a
        customer who does not accept the outcome leaves it to the service manager to settle."""
        story, say, channel = job.story, job.say, job.channel
        sop = job.service == data.COMPLAINT_TYPE
        story.later(5, 20)
        story.assign(lead, self.people.teams[data.DESK], lead)
        story.first_answer(Priority.P1)
        story.reply(lead, say(data.COMPLAINT_ACK, me=str(lead)), channel)
        if sop:
            story.sop_step(lead, "acknowledge", self._answers(job, "acknowledge"))
        story.later(5, 60)
        story.move(lead, Status.IN_PROGRESS)
        story.later(60, 480)
        story.note(self.people.users["manager"], say(data.COMPLAINT_NOTE))
        if sop:
            story.sop_step(lead, "investigate", self._answers(job, "investigate"))
        story.later_or_stuck(120, 900)
        if sop:
            story.sop_step(lead, "remedy", self._answers(job, "remedy"))
        story.reply(lead, say(job.scenario.resolution), channel)
        if sop:
            accepted = self.rng.random() >= NOT_ACCEPTED
            story.sop_step(lead, "reply", self._answers(job, "reply", no="" if accepted else "accepted"))
            if not accepted:
                story.override = say(data.OVERRIDE_NOT_ACCEPTED)
        story.later(1, 5)
        if sop:
            story.sop_step(lead, "review", self._answers(job, "review"))
        self._resolve(story, lead)

    def _remote_support(self, job: _Job, desk: User, route: str) -> None:
        """Remote support along its SOP (intake is done): the desk's first-line checks, technical
        support's analysis (the ticket is handed to it), the fix, and a verification run before the
        customer confirms. Leaves the ticket in progress, the fix replied."""
        story, say, rng = job.story, job.say, self.rng
        if route == data.REMOTE and rng.random() < 0.6:
            self._ask_customer(story, job.customer, say, desk, job.channel)
        story.later(20, 150)
        story.sop_step(desk, "first-line", self._answers(job, "first-line"))  # hands the ticket over
        story.note(desk, say(data.ASK_BACK_OFFICE))
        tech = self._pick([self.people.lead(data.TECH), *self.people.members(data.TECH)], [1.0, 2.0])
        story.back_office(ANALYSIS_MINUTES, ANALYSIS_SLOW)
        story.note(tech, say(data.BACK_OFFICE_ANSWER, diagnosis=job.texts["diagnosis"]))
        story.sop_step(tech, "analysis", self._answers(job, "analysis"))  # hands it back
        story.later(10, 90)
        story.reply(desk, say(data.DIAGNOSIS_REPLY, diagnosis=job.texts["diagnosis"]), job.channel)
        story.later(30, 480)
        backed_up = rng.random() >= NO_BACKUP
        story.sop_step(
            desk, "remote-fix", self._answers(job, "remote-fix", no="" if backed_up else "backup-before")
        )
        if not backed_up:
            story.override = say(data.OVERRIDE_NO_BACKUP)
        story.reply(desk, f"{job.texts['resolution']}\n\n{say(data.RESOLVED_FOOTER)}", job.channel)
        story.later(120, 480)  # the customer runs the machine
        if rng.random() < FIRST_TIME_FAIL[data.REMOTE_TYPE]:
            hours = self._number(self._checkpoint(job, "verify", "run-hours"), failing=True)
            story.note(desk, say(data.RUN_FAILED, hours=hours))
            story.sop_step(desk, "verify", {"run-hours": hours}, complete=False)
            story.later(120, 600)
        story.sop_step(desk, "verify", self._answers(job, "verify"))

    def _fault_repair(self, job: _Job, desk: User) -> User:
        """An on-site repair along the fault-repair SOP (the desk has answered): triage, then spare-parts
        logistics checks the parts (the ticket is handed to it) while the engineer books the visit; the
        part ships and arrives, the engineer arrives, repairs, test-runs and has the customer accept.
        Returns the engineer, the ticket in progress with the fix replied."""
        story, say, rng, scenario = job.story, job.say, self.rng, job.scenario
        engineer = self._engineer(job.customer.spec.english)
        story.later(10, 120)
        story.note(desk, say(data.HAND_TO_FIELD))
        story.sop_step(desk, "triage", self._answers(job, "triage"))  # hands the ticket to the parts team
        need_part = rng.random() < (PART_NEEDED[1] if scenario.parts_on_site else PART_NEEDED[0])
        if need_part:
            story.reply(desk, say(data.PART_NEEDED_REPLY), job.channel)
            story.note(desk, say(data.PART_REQUEST_NOTE))
        start = story.t
        shipper = self._pick([self.people.lead(data.PARTS), *self.people.members(data.PARTS)], [1.0, 3.0])
        warehouse = say(rng.choice(data.WAREHOUSES))
        # Side by side from here: the parts check (and shipment), the engineer's booking.
        if need_part:
            shipped = story.starting_at(start, lambda: story.back_office(PARTS_MINUTES, PARTS_SLOW))
        else:
            shipped = story.starting_at(
                start, lambda: story.back_office(NO_PART_MINUTES, NO_PART_SLOW, can_stick=False)
            )
        assigned = story.starting_at(start, lambda: story.later(5, 60))
        booked = story.starting_at(assigned, lambda: story.later(10, 120))
        ready = arrived = max(shipped, booked)
        shipping_note, part_list = "", ""
        if need_part:
            if story.urgent and rng.random() < SAME_DAY_COURIER:
                hours = rng.randint(2, 6)
                transit = rng.uniform(hours * 60 - 30, hours * 60 + 60)
                shipping_note = say(data.PART_COURIER_NOTE, warehouse=warehouse, hours=str(hours))
                part_list = say(data.PART_COURIER_LIST, warehouse=warehouse)
            else:
                days = rng.randint(1, 6)
                tracking = str(rng.randint(10**11, 10**12 - 1))
                transit = rng.uniform(days * 1440 - 240, days * 1440 + 600)
                shipping_note = say(
                    data.PART_SHIPPED_NOTE, warehouse=warehouse, tracking=tracking, days=str(days)
                )
                part_list = say(data.PART_LIST, warehouse=warehouse, tracking=tracking)
            arrived = story.starting_at(shipped, lambda: story.advance(transit))
            ready = max(arrived, booked)
        if story.urgent:
            visit = ready + timedelta(minutes=rng.uniform(60, 180))
        elif rng.random() < BOOKED_UP:
            visit = _morning(ready, rng, 3, 6)
        else:
            longest = 1 if need_part else (2 if job.priority == Priority.P2 else 3)
            visit = _morning(ready, rng, 0 if need_part else 1, longest)
        # The visit follows everything that came before it.
        visit = max(visit, ready + timedelta(minutes=30))
        parts_answers = self._answers(job, "parts", text={"part-list": part_list} if part_list else None)
        field_lead, field_team = self.people.lead(data.FIELD), self.people.teams[data.FIELD]

        def assign() -> None:
            story.assign(field_lead, field_team, engineer)

        def book() -> None:
            story.reply(
                engineer, say(data.SCHEDULE_VISIT, me=str(engineer), date=_day_text(visit, say)), job.channel
            )
            story.sop_step(engineer, "schedule", self._answers(job, "schedule"))

        def ship() -> None:
            if shipping_note:
                story.note(shipper, shipping_note)
            story.sop_step(shipper, "parts", parts_answers)  # hands the ticket back
            if need_part:
                story.move(desk, Status.WAITING_PARTS)

        work: list[tuple[datetime, Callable[[], None]]] = [
            (assigned, assign),
            (booked, book),
            (shipped, ship),
        ]
        if need_part:
            work.append(
                (arrived, lambda: story.move(shipper, Status.IN_PROGRESS, reason=say(data.PART_ARRIVED)))
            )
        for at, carry_out in sorted(work, key=lambda item: item[0]):
            story.t = at
            carry_out()
        story.t = visit
        story.sop_step(engineer, "on-site", self._answers(job, "on-site"))
        story.note(engineer, say(data.ON_SITE_NOTE, diagnosis=job.texts["diagnosis"]))
        story.later(90, 300)
        failed = rng.random() < FIRST_TIME_FAIL[data.FAULT_REPAIR_TYPE]
        repair = self._answers(job, "repair", fail="test-run" if failed else "")
        story.sop_step(engineer, "repair", repair)
        if failed:
            story.note(engineer, say(data.TEST_RUN_FAILED, minutes=repair["test-run"]))
            if rng.random() < NOT_PUT_RIGHT:
                story.override = say(data.OVERRIDE_TEST_RUN, minutes=repair["test-run"])
            else:
                story.later(30, 120)
                self._put_right(job, engineer, "repair", "test-run")
        story.reply(engineer, f"{job.texts['resolution']}\n\n{say(data.RESOLVED_FOOTER)}", job.channel)
        story.later(5, 30)
        story.sop_step(engineer, "acceptance", self._answers(job, "acceptance"))
        return engineer

    def _maintenance_on_site(self, job: _Job, desk: User) -> User:
        """Requested maintenance along the preventive-maintenance SOP (the desk has answered): the desk
        confirms the plan and passes it to field service, whose engineer books the visit and does it.
        Returns the engineer."""
        story, say, rng = job.story, job.say, self.rng
        engineer = self._engineer(job.customer.spec.english)
        story.later(10, 120)
        story.note(desk, say(data.PASS_TO_FIELD))
        story.sop_step(desk, "plan", self._answers(job, "plan"))
        story.later(5, 60)
        story.assign(self.people.lead(data.FIELD), self.people.teams[data.FIELD], engineer)
        story.later(10, 120)
        visit = _morning(story.t, rng, 4, 8) if rng.random() < BOOKED_UP else _morning(story.t, rng, 1, 3)
        story.reply(
            engineer, say(data.SCHEDULE_VISIT, me=str(engineer), date=_day_text(visit, say)), job.channel
        )
        story.sop_step(engineer, "kit", self._answers(job, "kit"))
        story.t = visit
        story.note(engineer, say(data.ON_SITE_START))
        story.later(90, 300)
        self._maintenance_work(job, engineer, footer=True)
        return engineer

    def _maintenance_visit(self, job: _Job, engineer: User) -> None:
        """A planned maintenance visit along the preventive-maintenance SOP, resolved on the day."""
        story = job.story
        field_lead = self.people.lead(data.FIELD)
        story.later(30, 300)
        story.sop_step(field_lead, "plan", self._answers(job, "plan"))
        self._book_and_arrive(job, engineer, self._visit_day(story))
        story.later(120, 360)
        self._maintenance_work(job, engineer, footer=False)
        story.later(1, 10)
        self._resolve(story, engineer)

    def _book_and_arrive(self, job: _Job, engineer: User, visit: datetime) -> None:
        """The visit is booked with the customer, the kit prepared before it, and the engineer arrives and
        starts work on the day."""
        story, say = job.story, job.say
        story.reply(
            engineer, say(data.SCHEDULE_VISIT, me=str(engineer), date=_day_text(visit, say)), Channel.EMAIL
        )
        story.t = min(story.starting_at(story.t, lambda: story.later(30, 420)), visit - timedelta(minutes=15))
        story.sop_step(engineer, "kit", self._answers(job, "kit"))
        story.t = visit
        story.arrive(engineer)
        story.move(engineer, Status.IN_PROGRESS)
        story.note(engineer, say(data.ON_SITE_START))

    def _maintenance_work(self, job: _Job, engineer: User, *, footer: bool) -> None:
        """The maintenance is done (a vibration reading over the limit is found and put right first), and
        reported."""
        story, say, rng = job.story, job.say, self.rng
        failed = rng.random() < FIRST_TIME_FAIL[data.MAINTENANCE_TYPE]
        service = self._answers(job, "service", fail="vibration" if failed else "")
        story.sop_step(engineer, "service", service)
        if failed:
            story.note(engineer, say(data.VIBRATION_HIGH, value=service["vibration"]))
            story.later(30, 120)
            self._put_right(job, engineer, "service", "vibration")
        resolution = job.texts["resolution"]
        story.reply(
            engineer, f"{resolution}\n\n{say(data.RESOLVED_FOOTER)}" if footer else resolution, job.channel
        )
        story.sop_step(engineer, "report", self._answers(job, "report"))

    def _installation(self, job: _Job, engineer: User) -> None:
        """A new machine installed along the installation SOP: the site is checked (a low supply voltage is
        fixed by the customer first), the date booked and the kit prepared, then levelling (re-shimmed
        when out), commissioning, training and acceptance on the day. Resolved on the day."""
        story, say, rng = job.story, job.say, self.rng
        field_lead = self.people.lead(data.FIELD)
        story.later(30, 300)
        low_supply = rng.random() < FIRST_TIME_FAIL[data.INSTALLATION_TYPE] / 2
        site = self._answers(job, "site-check", fail="supply-voltage" if low_supply else "")
        story.sop_step(field_lead, "site-check", site)
        if low_supply:
            story.reply(field_lead, say(data.VOLTAGE_LOW, value=site["supply-voltage"]), Channel.EMAIL)
            story.later(480, 2880)  # the customer's electrician
            self._put_right(job, field_lead, "site-check", "supply-voltage")
        visit = self._visit_day(story)
        story.sop_step(field_lead, "appointment", self._answers(job, "appointment"))
        self._book_and_arrive(job, engineer, visit)
        story.later(120, 300)
        out_of_level = rng.random() < FIRST_TIME_FAIL[data.INSTALLATION_TYPE]
        install = self._answers(job, "install", fail="level" if out_of_level else "")
        story.sop_step(engineer, "install", install)
        if out_of_level:
            story.note(engineer, say(data.LEVEL_OUT, value=install["level"]))
            story.later(30, 120)
            self._put_right(job, engineer, "install", "level")
        story.later(120, 360)
        story.sop_step(engineer, "commission", self._answers(job, "commission"))
        story.later(60, 240)
        story.sop_step(engineer, "handover", self._answers(job, "handover"))
        story.reply(engineer, job.texts["resolution"], Channel.EMAIL)
        story.later(1, 10)
        self._resolve(story, engineer)

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
            self._ask_customer(story, customer, say, desk, channel)
        story.later(20, 150)
        story.reply(desk, say(data.DIAGNOSIS_REPLY, diagnosis=say(scenario.diagnosis)), channel)
        story.later_or_stuck(60, 1440)
        story.reply(desk, f"{say(scenario.resolution)}\n\n{say(data.RESOLVED_FOOTER)}", channel)

    def _ask_customer(
        self, story: _Story, customer: _Customer, say: Callable[..., str], desk: User, channel: str
    ) -> None:
        """The desk asks the customer for more facts; the ticket waits on the customer until they answer."""
        rng = self.rng
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
        visit = self._visit_day(story)
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

    def _visit_day(self, story: _Story) -> datetime:
        """When a planned visit happens: mostly the next working morning."""
        chance = self.rng.random()
        if chance < VISIT_LATE:  # the engineers are booked up, or the customer wants a later day
            return _morning(story.t, self.rng, 3, 8)
        return _morning(story.t, self.rng, 1, 1 if chance < 0.75 else 2)

    def _close(
        self, story: _Story, customer: _Customer, resolver: User, say: Callable[..., str], channel: str
    ) -> None:
        """After the resolution: sometimes the problem comes back (not after the service manager resolved
        over the SOP's checkpoints); then the customer or the agent closes."""
        rng = self.rng
        portal = customer.portal_user
        if rng.random() < 0.06 and not story.override:
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
