"""Who may read and change business calendars and SLA policies, and ask for deadlines.

- every staff member may read calendars and ask when something is due (SLA deadlines are staff work;
  customers see the promised times on their tickets, not the calendars behind them);
- service managers and administrators change calendars, import holiday data and change SLA policies.
"""

from __future__ import annotations

from typing import Any

from pledge.accounts import policies as account_policies


def can_view_calendars(user: Any) -> bool:
    return account_policies.is_staff_member(user)


def can_compute_deadlines(user: Any) -> bool:
    """`POST /sla/due`: staff only."""
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
