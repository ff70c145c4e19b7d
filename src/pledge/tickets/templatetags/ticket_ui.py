"""Template filters of the agent workspace: status and priority badges, labels of stored choice values,
SLA clocks (time left, state badges), the details of SLA events, and SOP steps (state badges, checkpoint
limits and answers, guidance, the details of step and override events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from pledge.core.forms import accept_attribute
from pledge.core.markdown import render_markdown
from pledge.core.uploads import ALLOWED_TYPES
from pledge.standards.choices import CheckpointKind, SlaTarget
from pledge.standards.models import Checkpoint
from pledge.tickets.choices import (
    PRIORITY_COLOURS,
    STATUS_COLOURS,
    Channel,
    ClockState,
    Kind,
    Priority,
    Status,
    StepState,
)
from pledge.tickets.selectors import CheckpointView, ClockView

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


# SLA clocks ------------------------------------------------------------------------------------

LEVEL_COLOURS = {
    "ok": "green",
    "warning": "orange",
    "breached": "red",
    "paused": "grey",
    "met": "green",
    "done": "grey",
}


@register.filter
def target_label(value: str) -> str:
    return _label(SlaTarget, value)


@register.filter
def business_duration(minutes: float | None) -> str:
    """Business minutes, short, to the nearest minute (a part of one counts as one): "35 m", "1 h 20 m",
    "26 h" ("—" for None). The sign is the caller's to say ("left", "overdue")."""
    if minutes is None:
        return "—"
    amount = abs(float(minutes))
    whole = max(1, round(amount)) if amount > 0 else 0
    hours, rest = divmod(whole, 60)
    if hours and rest:
        return _("%(h)d h %(m)d m") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d m") % {"m": rest}


@register.filter
def clock_remaining(view: ClockView | None) -> str:
    """ "1 h 20 m left", "overdue 35 m", "paused", "met" or "missed"."""
    if view is None:
        return ""
    if view.state == ClockState.ACHIEVED:
        return pgettext("sla clock", "met")
    if view.state == ClockState.CANCELLED:
        return pgettext("sla clock", "cancelled")
    if view.achieved_at is not None:  # achieved late
        return pgettext("sla clock", "missed")
    if view.is_paused and view.remaining_minutes > 0:
        return pgettext("sla clock", "paused")
    if view.remaining_minutes <= 0 or view.is_breached:
        return _("overdue %(time)s") % {"time": business_duration(min(view.remaining_minutes, 0))}
    return _("%(time)s left") % {"time": business_duration(view.remaining_minutes)}


@register.filter
def clock_remaining_detail(view: ClockView | None) -> str:
    """The SLA panel's "remaining": like `clock_remaining`, but a paused clock says how much is left."""
    if view is not None and view.is_paused and view.remaining_minutes > 0:
        return _("%(time)s left (paused)") % {"time": business_duration(view.remaining_minutes)}
    return clock_remaining(view)


@register.filter
def clock_colour(view: ClockView | None) -> str:
    return LEVEL_COLOURS.get(view.level, "grey") if view is not None else "grey"


@register.filter
def clock_badge(view: ClockView) -> SafeString:
    """The clock's state as a badge coloured by urgency (a running clock past 75 % is orange)."""
    return format_html(
        '<span class="badge badge-{} sla-state" data-state="{}">{}</span>',
        clock_colour(view),
        view.state,
        _label(ClockState, view.state),
    )


@register.filter
def clock_chip(view: ClockView | None) -> SafeString:
    """The queue's cell: time left (coloured by urgency) and the target it is for."""
    if view is None:
        return mark_safe('<span class="muted">—</span>')
    return format_html(
        '<span class="badge badge-{} sla-chip sla-{}">{}</span> <span class="sla-target">{}</span>',
        clock_colour(view),
        view.level,
        clock_remaining(view),
        view.label,
    )


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


@register.filter
def sla_changes(data: Any) -> list[dict[str, Any]]:
    """The clocks an SLA event moved, from its stored details: target label, old and new due instants
    (aware, so `|date` shows them in the viewer's zone) and old and new targets in minutes."""
    if not isinstance(data, dict):
        return []
    changes = []
    for item in data.get("clocks") or ():
        if not isinstance(item, dict):
            continue
        changes.append(
            {
                "label": _label(SlaTarget, str(item.get("target", ""))),
                "old_due": _instant(item.get("old_due")),
                "new_due": _instant(item.get("new_due")),
                "old_minutes": item.get("old_minutes"),
                "new_minutes": item.get("new_minutes"),
            }
        )
    return changes


@register.filter
def iso_instant(value: Any) -> datetime | None:
    """An ISO 8601 instant stored in an event's details, as an aware datetime (None if unreadable)."""
    return _instant(value)


ESCALATION_ACTIONS = {
    "raise_priority": gettext_lazy("priority raised"),
    "reassign": gettext_lazy("handed to another team"),
    "add_watcher": gettext_lazy("watcher added"),
    "notify": gettext_lazy("people notified"),
}


@register.filter
def escalation_actions(data: Any) -> str:
    """What an escalation level did, in words: "priority raised, people notified"."""
    if not isinstance(data, dict):
        return ""
    actions = data.get("actions") or ()
    words = [str(ESCALATION_ACTIONS[action]) for action in actions if action in ESCALATION_ACTIONS]
    return pgettext("list separator", ", ").join(words)


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """`{{ errors|lookup:key }}`: a dict's value by a computed key ("" when absent)."""
    if isinstance(mapping, dict):
        return mapping.get(key, "")
    return ""


# SOP steps ------------------------------------------------------------------------------------

STEP_COLOURS = {
    StepState.PENDING: "grey",
    StepState.ACTIVE: "blue",
    StepState.DONE: "green",
    StepState.CANCELLED: "grey",
}


@register.filter
def step_state_badge(value: str) -> SafeString:
    colour = STEP_COLOURS.get(value, "grey")  # type: ignore[call-overload]
    return format_html(
        '<span class="badge badge-{} proc-state" data-state="{}">{}</span>',
        colour,
        value,
        _label(StepState, value),
    )


@register.filter
def markdown(text: str) -> SafeString:
    """A step's guidance (Markdown written by staff) as sanitised HTML."""
    return render_markdown(text)


def _number(value: float) -> str:
    return f"{value:g}"


@register.filter
def checkpoint_limits(checkpoint: Checkpoint) -> str:
    """The passing range of a number checkpoint, with its unit: "5 to 8 bar", "at least 5 bar"."""
    if checkpoint.kind != CheckpointKind.NUMBER:
        return ""
    low, high = checkpoint.min_value, checkpoint.max_value
    values = {
        "low": _number(low) if low is not None else "",
        "high": _number(high) if high is not None else "",
        "unit": checkpoint.unit,
    }
    if low is not None and high is not None:
        text = _("Passes from %(low)s to %(high)s %(unit)s") % values
    elif low is not None:
        text = _("Passes at %(low)s %(unit)s or more") % values
    elif high is not None:
        text = _("Passes at %(high)s %(unit)s or less") % values
    else:
        return ""
    return text.replace("  ", " ").strip()


PHOTO_ACCEPT = ",".join(
    sorted(f".{ext}" for ext, content_type in ALLOWED_TYPES.items() if content_type.startswith("image/"))
)


@register.filter
def checkpoint_accept(checkpoint: Checkpoint) -> str:
    """The file input's `accept`: images for a photo checkpoint, every accepted type for a file one."""
    return PHOTO_ACCEPT if checkpoint.kind == CheckpointKind.PHOTO else accept_attribute()


@register.filter
def answer_text(view: CheckpointView) -> str:
    """A checkpoint's latest answer in words: "Yes", "6.5 bar", the text; "" for evidence without a
    description (the checkpoint comes from the view, so no query per answer)."""
    answer, checkpoint = view.answer, view.checkpoint
    if answer is None:
        return ""
    if checkpoint.kind == CheckpointKind.YES_NO:
        return _("Yes") if answer.value == "yes" else _("No") if answer.value == "no" else answer.value
    if checkpoint.kind == CheckpointKind.NUMBER and answer.number is not None:
        return f"{_number(answer.number)} {checkpoint.unit}".strip()
    return answer.value


@register.filter
def join_list(values: Any) -> str:
    """Names stored in an event's details, joined: "Cause found?, Pressure"."""
    if not isinstance(values, list | tuple):
        return ""
    return pgettext("list separator", ", ").join(str(value) for value in values)


@register.filter
def overridden_checkpoints(data: Any) -> list[str]:
    """The checkpoints an override went past, from its stored details, one sentence each."""
    if not isinstance(data, dict):
        return []
    sentences = []
    for item in data.get("checkpoints") or ():
        if not isinstance(item, dict):
            continue
        values = {"checkpoint": str(item.get("checkpoint", "")), "step": str(item.get("step", ""))}
        if item.get("problem") == "failed":
            sentences.append(_("“%(checkpoint)s” (%(step)s) had failed") % values)
        else:
            sentences.append(_("“%(checkpoint)s” (%(step)s) was unanswered") % values)
    return sentences


@register.filter
def step_clock_chip(view: ClockView | None) -> SafeString:
    """A step's clock in a list: time left (or overdue) coloured by urgency, without a target label."""
    if view is None:
        return mark_safe('<span class="muted">—</span>')
    return format_html(
        '<span class="badge badge-{} sla-chip sla-{}">{}</span>',
        clock_colour(view),
        view.level,
        clock_remaining(view),
    )
