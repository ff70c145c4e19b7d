"""The standards handbook (服务标准手册): the whole standard in effect on a date, in one document.

`build_handbook(day)` gathers it: the service catalogue, every SOP's version in effect on that day
with its steps, checkpoints and time standards, the active SLA policies with their escalation levels,
and the business calendars they use with that year's holidays and make-up workdays — each with its
version. `render_html` makes a standalone printable page (flowcharts included), `render_markdown` a
Markdown document. Both are in the active language: run them under `translation.override`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from pledge.core.markdown import render_markdown as markdown_html
from pledge.standards import selectors
from pledge.standards.choices import (
    WEEKDAY_KEYS,
    CheckpointKind,
    ClockTarget,
    EscalationRecipient,
    ServiceCategory,
    SlaTarget,
    StepOwner,
    Weekday,
)
from pledge.standards.flowchart import sop_flowchart_svg
from pledge.standards.models import (
    BusinessCalendar,
    Checkpoint,
    EscalationLevel,
    ServiceType,
    SlaPolicy,
    Sop,
    SopStep,
    SopVersion,
)
from pledge.tickets.choices import Kind, Priority, Status


@dataclass(frozen=True)
class SopEntry:
    sop: Sop
    version: SopVersion
    flowchart: SafeString
    service_types: list[ServiceType]


@dataclass(frozen=True)
class CalendarEntry:
    calendar: BusinessCalendar
    weekly: list[tuple[str, str]]  # (weekday label, "09:00–12:00, 13:00–18:00" or "—")
    holidays: list[tuple[date, str, bool]]  # (day, name, active) in the handbook's year
    makeup_days: list[tuple[date, str]]  # (day, weekday whose hours apply)


@dataclass(frozen=True)
class Handbook:
    day: date
    generated_at: datetime
    service_types: list[ServiceType]
    sops: list[SopEntry]
    policies: list[SlaPolicy]
    calendars: list[CalendarEntry]
    without_version: list[Sop] = field(default_factory=list)  # SOPs with no version in effect yet

    @property
    def title(self) -> str:
        return _("Service standards handbook")

    @property
    def subtitle(self) -> str:
        return _("The standard in effect on %(day)s") % {"day": date_format(self.day, "DATE_FORMAT")}


def _versions_in_effect(day: date) -> dict[int, SopVersion]:
    """Each SOP's version in effect on `day`, with steps, teams and checkpoints (three queries)."""
    rows = (
        SopVersion.objects.filter(status="approved", effective_from__lte=day)
        .select_related("sop", "approved_by", "created_by")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=SopStep.objects.select_related("team")
                .prefetch_related(Prefetch("checkpoints", queryset=Checkpoint.objects.order_by("position")))
                .order_by("position"),
            )
        )
        .order_by("sop_id", "effective_from")
    )
    latest: dict[int, SopVersion] = {}
    for version in rows:
        latest[version.sop_id] = version  # the latest effective date wins
    return latest


def _weekly(calendar: BusinessCalendar) -> list[tuple[str, str]]:
    hours = selectors.weekly_hours(calendar.weekly)
    rows = []
    for index, _key in enumerate(WEEKDAY_KEYS):
        intervals = calendar.weekly.get(WEEKDAY_KEYS[index]) or []
        shown = ", ".join(str(text).replace("-", "–") for text in intervals) if hours.get(index) else "—"
        rows.append((str(Weekday(index).label), shown))
    return rows


def _calendar_entry(calendar: BusinessCalendar, year: int) -> CalendarEntry:
    holidays: list[tuple[date, str, bool]] = [
        (row.date, row.name, row.is_active) for row in calendar.holidays.all() if row.date.year == year
    ]
    makeup: list[tuple[date, str]] = [
        (row.date, str(Weekday(row.weekday).label))
        for row in calendar.makeup_days.all()
        if row.date.year == year
    ]
    for set_code in calendar.holiday_sets:
        data = selectors.holiday_set(set_code)
        for day in sorted(data.holidays):
            if day.year == year:
                holidays.append((day, selectors.festival_name(day), True))
        for day, weekday in sorted(data.makeup_workdays.items()):
            if day.year == year:
                makeup.append((day, str(Weekday(weekday).label)))
    return CalendarEntry(calendar, _weekly(calendar), sorted(set(holidays)), sorted(set(makeup)))


def build_handbook(day: date | None = None) -> Handbook:
    """The standard in effect on `day` (default today): a fixed number of queries, whatever its size."""
    day = day or selectors.company_day()
    versions = _versions_in_effect(day)
    service_types = list(selectors.service_type_list(active_only=True))
    by_sop: dict[int, list[ServiceType]] = {}
    for service_type in service_types:
        if service_type.sop_id is not None:
            by_sop.setdefault(service_type.sop_id, []).append(service_type)
    sops = [
        SopEntry(version.sop, version, sop_flowchart_svg(version), by_sop.get(version.sop_id, []))
        for version in sorted(versions.values(), key=lambda v: v.sop.code)
    ]
    without = list(Sop.objects.exclude(pk__in=list(versions)).order_by("code"))
    levels = EscalationLevel.objects.select_related("reassign_team", "add_watcher").order_by(
        "target", "percent"
    )
    policies = list(
        SlaPolicy.objects.filter(is_active=True)
        .select_related("calendar", "contract")
        .prefetch_related(Prefetch("escalation_levels", queryset=levels))
        .order_by("position", "id")
    )
    calendar_ids = {policy.calendar_id for policy in policies} | {st.calendar_id for st in service_types}
    calendars = [
        _calendar_entry(calendar, day.year)
        for calendar in BusinessCalendar.objects.filter(pk__in=calendar_ids)
        .prefetch_related("holidays", "makeup_days")
        .order_by("code")
    ]
    return Handbook(
        day=day,
        generated_at=timezone.now(),
        service_types=service_types,
        sops=sops,
        policies=policies,
        calendars=calendars,
        without_version=without,
    )


# ---------------------------------------------------------------------------------------------------
# Labels shared by both renderings


def _label(choices: type, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def step_owner(step: SopStep) -> str:
    owner = _label(StepOwner, step.owner)
    if step.team_id is not None and step.team is not None:
        return f"{owner} · {step.team.name}"
    return owner


def checkpoint_rule(checkpoint: Checkpoint) -> str:
    """ "Yes / no · mandatory · critical" or "Number 5–8 bar · mandatory"."""
    parts = [_label(CheckpointKind, checkpoint.kind)]
    if checkpoint.min_value is not None or checkpoint.max_value is not None:
        low = "" if checkpoint.min_value is None else f"{checkpoint.min_value:g}"
        high = "" if checkpoint.max_value is None else f"{checkpoint.max_value:g}"
        parts[0] += f" {low}–{high} {checkpoint.unit}".rstrip()
    parts.append(_("mandatory") if checkpoint.mandatory else _("optional"))
    if checkpoint.critical:
        parts.append(_("critical"))
    return " · ".join(parts)


def targets_text(row: SlaPolicy | ServiceType) -> str:
    texts = [
        f"{_label(SlaTarget, target)} {selectors.format_minutes(minutes)}"
        for target in SlaTarget.values
        if (minutes := row.target_minutes(target)) is not None
    ]
    return pgettext("list separator", ", ").join(texts) or "—"


def level_text(level: EscalationLevel) -> str:
    actions = [_label(EscalationRecipient, value) for value in level.notify]
    if actions:
        actions = [_("notify %(who)s") % {"who": " / ".join(actions)}]
    if level.raise_priority:
        actions.append(_("raise the priority"))
    if level.reassign_team is not None:
        actions.append(_("hand to %(team)s") % {"team": level.reassign_team.name})
    if level.add_watcher is not None:
        actions.append(_("add %(user)s as watcher") % {"user": level.add_watcher})
    return _("%(target)s at %(percent)d%%: %(actions)s") % {
        "target": _label(ClockTarget, level.target),
        "percent": level.percent,
        "actions": pgettext("list separator", ", ").join(actions),
    }


def pause_text(policy: SlaPolicy) -> str:
    return (
        pgettext("list separator", ", ").join(_label(Status, s) for s in policy.pause_statuses or []) or "—"
    )


def service_type_facts(service_type: ServiceType) -> str:
    return " · ".join(
        [
            _label(ServiceCategory, service_type.category),
            _label(Kind, service_type.default_kind),
            _label(Priority, service_type.default_priority),
        ]
    )


def _stages(steps: Iterable[SopStep]) -> dict[int, int]:
    stages: dict[int, int] = {}
    stage, previous = 0, None
    for step in steps:
        if not step.parallel_group or step.parallel_group != previous:
            stage += 1
        previous = step.parallel_group or None
        stages[step.pk] = stage
    return stages


# ---------------------------------------------------------------------------------------------------
# Renderings


def render_html(handbook: Handbook) -> str:
    """A standalone HTML document (inline styles, print-friendly, no scripts)."""
    sops = []
    for entry in handbook.sops:
        steps = list(entry.version.steps.all())
        stages = _stages(steps)
        sops.append(
            {
                "entry": entry,
                "steps": [
                    {
                        "step": step,
                        "stage": stages[step.pk],
                        "owner": step_owner(step),
                        "time": selectors.format_minutes(step.time_standard_minutes),
                        "guidance": markdown_html(step.guidance) if step.guidance else "",
                        "checkpoints": [(cp, checkpoint_rule(cp)) for cp in step.checkpoints.all()],
                    }
                    for step in steps
                ],
            }
        )
    context = {
        "handbook": handbook,
        "sops": sops,
        "service_types": [
            (st, service_type_facts(st), targets_text(st), ", ".join(st.skills))
            for st in handbook.service_types
        ],
        "policies": [
            (
                policy,
                selectors.sla_policy_scope(policy),
                targets_text(policy),
                pause_text(policy),
                [level_text(level) for level in policy.escalation_levels.all()],
            )
            for policy in handbook.policies
        ],
    }
    return render_to_string("standards/handbook_document.html", context)


def _md_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(handbook: Handbook) -> str:
    """The same content as Markdown (flowcharts are left out: see the HTML edition)."""
    day = date_format(handbook.day, "DATE_FORMAT")
    lines = [
        f"# {handbook.title}",
        "",
        f"*{handbook.subtitle}* — "
        + _("generated %(at)s")
        % {"at": date_format(timezone.localtime(handbook.generated_at), "DATETIME_FORMAT")},
        "",
        f"## 1. {_('Service catalogue')}",
        "",
    ]
    versions = {entry.sop.pk: entry.version for entry in handbook.sops}
    rows = []
    for st in handbook.service_types:
        version = versions.get(st.sop_id) if st.sop_id else None
        sop = f"{st.sop.name} v{version.number}" if st.sop and version else (st.sop.name if st.sop else "—")
        rows.append([st.name, service_type_facts(st), sop, targets_text(st), ", ".join(st.skills) or "—"])
    lines += _md_table(
        [_("Service type"), _("Category · kind · priority"), _("SOP"), _("Own SLA targets"), _("Skills")],
        rows,
    )
    lines += [f"## 2. {_('Standard operating procedures')}", ""]
    for number, sop_entry in enumerate(handbook.sops, start=1):
        version = sop_entry.version
        lines += [
            f"### 2.{number} {sop_entry.sop.name} — " + _("version %(n)d") % {"n": version.number},
            "",
            _("In effect from %(day)s; approved by %(who)s on %(when)s.")
            % {
                "day": date_format(version.effective_from, "DATE_FORMAT") if version.effective_from else "—",
                "who": version.approved_by or "—",
                "when": date_format(timezone.localtime(version.approved_at), "DATE_FORMAT")
                if version.approved_at
                else "—",
            },
            "",
            _("Reason for this version: %(reason)s") % {"reason": version.reason},
            "",
        ]
        if sop_entry.service_types:
            names = ", ".join(st.name for st in sop_entry.service_types)
            lines += [_("Used by: %(names)s") % {"names": names}, ""]
        steps = list(version.steps.all())
        stages = _stages(steps)
        lines += _md_table(
            [_("Stage"), _("Step"), _("Owner"), _("Time standard"), _("Milestone the customer sees")],
            [
                [
                    str(stages[step.pk]),
                    step.name,
                    step_owner(step),
                    selectors.format_minutes(step.time_standard_minutes),
                    step.milestone_name if step.is_milestone else "—",
                ]
                for step in steps
            ],
        )
        for step in steps:
            checkpoints = list(step.checkpoints.all())
            if not checkpoints and not step.guidance:
                continue
            lines += [f"**{step.name}**", ""]
            if step.guidance:
                lines += [step.guidance.strip(), ""]
            lines += [f"- {cp.label} ({checkpoint_rule(cp)})" for cp in checkpoints]
            lines += [""] if checkpoints else []
    if handbook.without_version:
        names = ", ".join(sop.name for sop in handbook.without_version)
        lines += [_("Not yet in effect on %(day)s: %(names)s.") % {"day": day, "names": names}, ""]
    lines += [f"## 3. {_('SLA policies')}", "", _("Tried in this order; a contract's own policy first."), ""]
    for number, policy in enumerate(handbook.policies, start=1):
        lines += [
            f"### 3.{number} {policy.name} — " + _("version %(n)d") % {"n": policy.version},
            "",
            f"- {_('Applies to')}: {selectors.sla_policy_scope(policy)}",
            f"- {_('Targets')}: {targets_text(policy)} ({policy.calendar.name})",
            f"- {_('Clock pauses while')}: {pause_text(policy)}",
        ]
        lines += [f"- {_('Escalation')}: {level_text(level)}" for level in policy.escalation_levels.all()]
        lines += [""]
    lines += [f"## 4. {_('Business calendars')}", ""]
    for entry in handbook.calendars:
        calendar = entry.calendar
        lines += [
            f"### {calendar.name} (`{calendar.code}`) — " + _("version %(n)d") % {"n": calendar.version},
            "",
            f"{_('Time zone')}: {calendar.timezone}",
            "",
        ]
        lines += _md_table([_("Weekday"), _("Working hours")], [[a, b] for a, b in entry.weekly])
        if entry.holidays:
            lines += [_("Holidays in %(year)d:") % {"year": handbook.day.year}, ""]
            lines += [
                f"- {d.isoformat()} {name}" + ("" if active else f" ({_('inactive: a normal day')})")
                for d, name, active in entry.holidays
            ]
            lines += [""]
        if entry.makeup_days:
            lines += [_("Make-up workdays in %(year)d:") % {"year": handbook.day.year}, ""]
            lines += [
                "- " + _("%(day)s works as a %(weekday)s") % {"day": d.isoformat(), "weekday": weekday}
                for d, weekday in entry.makeup_days
            ]
            lines += [""]
    return "\n".join(lines).rstrip() + "\n"
