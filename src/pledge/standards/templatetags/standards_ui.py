"""Template filters of the service standards pages: policies in words, targets, choice labels."""

from __future__ import annotations

from typing import Any

from django import template

from pledge.standards import selectors
from pledge.standards.choices import EscalationRecipient, SlaTarget
from pledge.standards.models import SlaPolicy

register = template.Library()


@register.filter
def policy_summary(policy: SlaPolicy) -> str:
    """ "P1 · Fault · Gold customers: respond within 30 minutes, … (business time on …)."""
    return selectors.sla_policy_summary(policy)


@register.filter
def policy_scope(policy: SlaPolicy) -> str:
    return selectors.sla_policy_scope(policy)


@register.filter
def minutes_short(minutes: int | None) -> str:
    """30 → "30 min", 480 → "8 h"; None → "—"."""
    return selectors.format_minutes_short(minutes)


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter
def target_label(value: str) -> str:
    return _label(SlaTarget, value)


@register.filter
def recipient_labels(values: list[str]) -> str:
    return ", ".join(_label(EscalationRecipient, value) for value in values)
