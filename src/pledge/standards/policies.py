"""Who may read and change business calendars and SLA policies, and ask for deadlines.

- every staff member may read calendars and ask when something is due (SLA deadlines are staff work;
  customers see the promised times on their tickets, not the calendars behind them);
- service managers and administrators change calendars, import holiday data and change SLA policies;
- every staff member reads the service catalogue and the SOPs (they follow them); service managers and
  administrators change them, and only they approve an SOP version;
- customers see the service types offered to them (to choose one when they submit), never the SOPs.
"""

from __future__ import annotations

from typing import Any

from pledge.accounts import policies as account_policies


def can_view_calendars(user: Any) -> bool:
    return account_policies.is_staff_member(user)


def can_compute_deadlines(user: Any) -> bool:
    """`POST /sla/due`: staff only."""
    return account_policies.is_staff_member(user)


def can_view_sla_recounts(user: Any) -> bool:
    """Every staff member reads what calendar and policy changes did to the running clocks."""
    return account_policies.is_staff_member(user)


def can_manage_calendars(user: Any) -> bool:
    """Import, replace and edit calendars and holiday data: service managers and administrators."""
    return account_policies.is_service_manager_or_admin(user)


def can_view_sla_policies(user: Any) -> bool:
    """Every staff member reads the policies (they explain the clocks on tickets)."""
    return account_policies.is_staff_member(user)


def can_manage_sla_policies(user: Any) -> bool:
    """Create, change, reorder and switch policies and their escalation levels: service managers and
    administrators."""
    return account_policies.is_service_manager_or_admin(user)


def can_view_catalogue(user: Any) -> bool:
    """The service catalogue and SOPs with their versions, flowcharts and the handbook: staff."""
    return account_policies.is_staff_member(user)


def can_manage_catalogue(user: Any) -> bool:
    """Create and change service types, SOPs and SOP drafts: service managers and administrators."""
    return account_policies.is_service_manager_or_admin(user)


def can_approve_sops(user: Any) -> bool:
    """Approve an SOP version (recorded with name and time): service managers and administrators."""
    return account_policies.is_service_manager_or_admin(user)


def can_choose_service_type(user: Any) -> bool:
    """See the service types offered to customers, to pick one for a new ticket: any signed-in user."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))
