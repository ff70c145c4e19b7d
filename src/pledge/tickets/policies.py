"""Who may see and change tickets. Every view and endpoint asks here; selectors filter with `visible_q`.

- customers see the tickets of their own organisation, never internal notes or internal events;
- agents and team leads see tickets of their teams, tickets assigned to them, tickets handed to their
  back-office team (an SOP hand-off under way), and tickets no team has taken yet (the triage pool);
- service managers, QA inspectors and administrators see every ticket;
- QA inspectors only read: they never reply, note, transition or assign;
- staff who work a ticket record an engineer's arrival on site and add themselves as watchers;
- staff who work tickets create them for any organisation; customers only for their own;
- customers see their tickets' promised times but never the SLA policy, escalations or watchers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from pledge.accounts import policies as account_policies
from pledge.customers.policies import customer_organisation_id
from pledge.tickets.choices import CUSTOMER_TRANSITIONS, TRANSITIONS


def team_ids(user: Any) -> frozenset[int]:
    """Teams the staff user belongs to or leads (cached on the user object for the request)."""
    cached = getattr(user, "_pledge_team_ids", None)
    if cached is not None:
        return cached
    from pledge.accounts.models import Team, TeamMembership

    ids = set(TeamMembership.objects.filter(user_id=user.pk).values_list("team_id", flat=True))
    ids.update(Team.objects.filter(lead_id=user.pk).values_list("id", flat=True))
    user._pledge_team_ids = frozenset(ids)
    return user._pledge_team_ids


def visible_q(user: Any) -> Q | None:
    """A filter for the tickets `user` may see; None means every ticket."""
    if account_policies.sees_all_tickets(user):
        return None
    if account_policies.is_staff_member(user):
        teams = team_ids(user)
        return (
            Q(team_id__in=teams)
            | Q(assignee_id=user.pk)
            | Q(team__isnull=True)
            | Q(handoff_team_id__in=teams)
        )
    org_id = customer_organisation_id(user)
    if org_id is None:
        return Q(pk__in=[])
    return Q(organisation_id=org_id)


def can_view_ticket(user: Any, ticket: Any) -> bool:
    if account_policies.sees_all_tickets(user):
        return True
    if account_policies.is_staff_member(user):
        if ticket.team_id is None or ticket.assignee_id == user.pk:
            return True
        teams = team_ids(user)
        return ticket.team_id in teams or ticket.handoff_team_id in teams
    org_id = customer_organisation_id(user)
    return org_id is not None and ticket.organisation_id == org_id


def can_view_internal(user: Any) -> bool:
    """Internal notes and the full event log are for staff only."""
    return account_policies.is_staff_member(user)


def can_work_ticket(user: Any, ticket: Any) -> bool:
    """Reply, note, change status, priority, team or assignee as staff."""
    return account_policies.can_work_tickets(user) and can_view_ticket(user, ticket)


def can_record_arrival(user: Any, ticket: Any) -> bool:
    """Record arrival on site (the service refuses tickets that are not open field visits)."""
    return can_work_ticket(user, ticket)


def can_watch(user: Any, ticket: Any) -> bool:
    """Add oneself to the ticket's watchers."""
    return can_work_ticket(user, ticket)


def can_view_sla_details(user: Any) -> bool:
    """The policy, calendars, business minutes used and escalations are for staff only."""
    return account_policies.is_staff_member(user)


def can_customer_reply(user: Any, ticket: Any) -> bool:
    return account_policies.is_customer(user) and can_view_ticket(user, ticket) and ticket.status != "closed"


def can_reply(user: Any, ticket: Any) -> bool:
    return can_work_ticket(user, ticket) or can_customer_reply(user, ticket)


def allowed_transitions(user: Any, ticket: Any) -> tuple[str, ...]:
    if can_work_ticket(user, ticket):
        return TRANSITIONS.get(ticket.status, ())
    if account_policies.is_customer(user) and can_view_ticket(user, ticket):
        return CUSTOMER_TRANSITIONS.get(ticket.status, ())
    return ()


def can_create_tickets(user: Any) -> bool:
    """Record tickets for any organisation (the workspace's New ticket page, the API): staff who work
    tickets. QA inspectors only read."""
    return account_policies.can_work_tickets(user)


def can_create_ticket_for(user: Any, organisation_id: int) -> bool:
    if can_create_tickets(user):
        return True
    return account_policies.is_customer(user) and customer_organisation_id(user) == organisation_id


def can_do_step(user: Any, ticket: Any, step: Any) -> bool:
    """Answer the checkpoints of an SOP step and complete it: a back-office step belongs to its team
    (members and lead) and to service managers and administrators; any other step to whoever works the
    ticket."""
    if not can_work_ticket(user, ticket):
        return False
    if step.owner == "back_office" and step.team_id is not None:
        return step.team_id in team_ids(user) or account_policies.is_service_manager_or_admin(user)
    return True


def can_override_checkpoints(user: Any, ticket: Any) -> bool:
    """Resolve a ticket over unanswered or failed checkpoints, with a reason: service managers."""
    return can_work_ticket(user, ticket) and account_policies.is_service_manager_or_admin(user)
