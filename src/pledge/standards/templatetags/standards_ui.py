"""Template filters of the service standards pages: policies in words, targets, choice labels, SOP
guidance and checkpoint limits."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from pledge.core.markdown import render_markdown
from pledge.standards import selectors
from pledge.standards.choices import EscalationRecipient, SlaTarget
from pledge.standards.models import Checkpoint, SlaPolicy, TargetMinutes

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


@register.filter
def minutes_long(minutes: int | None) -> str:
    """30 → "30 minutes", 90 → "1 hour and 30 minutes"; None → "—"."""
    return "—" if minutes is None else selectors.format_minutes(minutes)


@register.filter
def markdown(text: str) -> SafeString:
    """Staff-written Markdown (SOP guidance) as sanitised HTML."""
    return render_markdown(text)


def _number(value: float) -> str:
    return f"{value:g}"


@register.filter
def checkpoint_limits(checkpoint: Checkpoint) -> str:
    """The passing values of a number checkpoint: "5–8 bar", "≥ 5 bar", "≤ 8 bar"; "—" without limits."""
    low, high, unit = checkpoint.min_value, checkpoint.max_value, checkpoint.unit
    if low is not None and high is not None:
        text = f"{_number(low)}–{_number(high)}"
    elif low is not None:
        text = f"≥ {_number(low)}"
    elif high is not None:
        text = f"≤ {_number(high)}"
    else:
        return f"({unit})" if unit else "—"
    return f"{text} {unit}".strip()


@register.filter
def target_overrides(row: TargetMinutes) -> list[tuple[str, str]]:
    """The SLA targets a service type sets itself, as (label, "4 h") pairs."""
    return [
        (str(SlaTarget(target).label), selectors.format_minutes_short(row.target_minutes(target)))
        for target in SlaTarget.values
        if row.target_minutes(target) is not None
    ]
