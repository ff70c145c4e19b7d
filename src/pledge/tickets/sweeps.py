"""The tickets app's periodic sweeps, run by `pledge worker` (see core/periodic.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pledge.core.periodic import periodic
from pledge.tickets.escalation import sla_sweep


@periodic("sla-escalations", every=timedelta(seconds=30))
def sla_escalations(now: datetime) -> int:
    """Breaches and escalation levels that are due; returns how many it handled."""
    result = sla_sweep(now)
    return result.breached + result.escalated
