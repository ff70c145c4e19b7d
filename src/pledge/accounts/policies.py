"""Who may do what with people, teams and tokens; the role checks every other policy builds on."""

from __future__ import annotations

from typing import Any

from pledge.accounts.choices import ALL_TICKETS_ROLES, STAFF_ROLES, WORKING_ROLES, Role


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_customer(user: Any) -> bool:
    return _active(user) and user.role == Role.CUSTOMER


def is_staff_member(user: Any) -> bool:
    return _active(user) and user.role in STAFF_ROLES


def sees_all_tickets(user: Any) -> bool:
    return _active(user) and user.role in ALL_TICKETS_ROLES


def can_work_tickets(user: Any) -> bool:
    return _active(user) and user.role in WORKING_ROLES


def can_use_admin(user: Any) -> bool:
    return _active(user) and (user.role == Role.ADMIN or user.is_superuser)


def can_manage_tokens(user: Any, owner: Any) -> bool:
    """Everyone manages their own tokens; nobody else's."""
    return _active(user) and user.pk == owner.pk


def is_service_manager_or_admin(user: Any) -> bool:
    """Staff who manage reference data and standards: service managers and administrators."""
    return is_staff_member(user) and (
        user.role in (Role.SERVICE_MANAGER, Role.ADMIN) or bool(user.is_superuser)
    )
