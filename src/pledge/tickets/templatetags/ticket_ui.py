"""Template filters of the agent workspace: status and priority badges, labels of stored choice values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from pledge.tickets.choices import PRIORITY_COLOURS, STATUS_COLOURS, Channel, Kind, Priority, Status

register = template.Library()


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter
def status_label(value: str) -> str:
    return _label(Status, value)


@register.filter
def priority_label(value: str) -> str:
    return _label(Priority, value)


@register.filter
def kind_label(value: str) -> str:
    return _label(Kind, value)


@register.filter
def channel_label(value: str) -> str:
    return _label(Channel, value)


@register.filter
def status_badge(value: str) -> SafeString:
    colour = STATUS_COLOURS.get(value, "grey")  # type: ignore[call-overload]
    return format_html('<span class="badge badge-{}">{}</span>', colour, _label(Status, value))


@register.filter
def priority_badge(value: str, style: str = "short") -> SafeString:
    """`P1` with the full label as its tooltip; `|priority_badge:"long"` shows the full label."""
    colour = PRIORITY_COLOURS.get(value, "grey")  # type: ignore[call-overload]
    label = _label(Priority, value)
    return format_html(
        '<span class="badge badge-{} badge-solid" title="{}">{}</span>',
        colour,
        label,
        label if style == "long" else value,
    )


@register.filter
def compact_time(value: datetime | None) -> str:
    """`11-04 09:24` within the current year, `2025-11-04` before it; in the active (user's) time zone."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    if local.year == timezone.localtime().year:
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d")
