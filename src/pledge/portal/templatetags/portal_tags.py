"""Filters that put the portal's customer words into templates: `{{ ticket.status|customer_status }}`."""

from __future__ import annotations

from django import template

from pledge.portal import wording

register = template.Library()


@register.filter
def customer_status(status: str) -> str:
    return wording.customer_status(status)


@register.filter
def customer_status_colour(status: str) -> str:
    return wording.CUSTOMER_STATUS_COLOURS.get(status, "grey")


@register.filter
def urgency(priority: str) -> str:
    return str(wording.URGENCY.get(priority, priority))


@register.filter
def kind_hint(kind: str) -> str:
    return str(wording.KIND_HINTS.get(kind, ""))


@register.filter
def next_step(status: str) -> str:
    return str(wording.NEXT_STEP.get(status, ""))
