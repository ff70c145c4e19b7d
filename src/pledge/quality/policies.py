"""Who may read KPIs.

- service managers, team leads, QA inspectors and administrators read every KPI, including per agent;
- agents and customers do not (an agent's own figures come with the people module).
"""

from __future__ import annotations

from typing import Any

from pledge.accounts import policies as account_policies
from pledge.accounts.choices import Role

KPI_ROLES = frozenset({Role.SERVICE_MANAGER, Role.TEAM_LEAD, Role.QA_INSPECTOR, Role.ADMIN})


def can_view_kpis(user: Any) -> bool:
    return account_policies.is_staff_member(user) and (user.role in KPI_ROLES or bool(user.is_superuser))
