"""KPI reads. The process execution rate, exactly as docs/kpis.md (and KPIS.md) defines it:

- population: SOP steps completed in the period (`TicketStep.completed_at` in [start, end)) whose time
  was measured (a step whose clock was cancelled — its ticket resolved or closed first — has no
  `on_time` and is left out);
- on-time rate: % of them completed within their time standard (`on_time`: business minutes from the
  step's start to its completion, pauses excluded, at most the standard);
- first-time rate, separately: of the mandatory checkpoints of those steps, % whose first answer passed
  (a first answer that cannot fail — text, file, photo — passes).

Grouped by SOP, step (matched by key across versions), team (the team named on the step, otherwise the
ticket's team), agent (who completed the step), service type, or period (day, week,
month in the reporting time zone). Bottlenecks are the steps most often late and those with the
largest median overrun among their late completions.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils.translation import gettext_lazy as _

from pledge.accounts.models import Team, User
from pledge.tickets.choices import StepState
from pledge.tickets.models import CheckpointAnswer, TicketStep

GROUPS: dict[str, Any] = {
    "all": _("All steps"),
    "sop": _("SOP"),
    "step": _("Step"),
    "team": _("Team"),
    "agent": _("Agent"),
    "service_type": _("Service type"),
    "day": _("Day"),
    "week": _("Week"),
    "month": _("Month"),
}
TRUNCATE = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class ProcessFilter:
    """Which completed steps count: the period [start, end) and optional narrowing."""

    start: datetime
    end: datetime
    sop: str | None = None  # SOP code
    service_type: str | None = None  # service type code
    team_id: int | None = None
    agent_id: int | None = None
    zone: str = "Asia/Shanghai"  # the reporting time zone for day, week and month groups


@dataclass(frozen=True)
class ExecutionRow:
    key: str
    label: str
    steps_completed: int
    steps_on_time: int
    checkpoints: int
    checkpoints_first_time: int

    @property
    def on_time_rate(self) -> float | None:
        """% of completed steps within their time standard (None: no step)."""
        return 100.0 * self.steps_on_time / self.steps_completed if self.steps_completed else None

    @property
    def first_time_rate(self) -> float | None:
        """% of mandatory checkpoints passed first time (None: no checkpoint)."""
        return 100.0 * self.checkpoints_first_time / self.checkpoints if self.checkpoints else None

    @property
    def steps_late(self) -> int:
        return self.steps_completed - self.steps_on_time


def _group_value(group_by: str, prefix: str, zone: ZoneInfo) -> Any:
    """The expression a group is keyed by, from TicketStep (prefix "") or CheckpointAnswer
    (prefix "ticket_step__")."""
    if group_by == "all":
        return None
    if group_by == "sop":
        return F(f"{prefix}step__version__sop__code")
    if group_by == "step":
        return None  # two columns: see _group_fields
    if group_by == "team":
        return Coalesce(f"{prefix}step__team_id", f"{prefix}ticket__team_id")
    if group_by == "agent":
        return F(f"{prefix}completed_by_id")
    if group_by == "service_type":
        return F(f"{prefix}ticket__service_type__code")
    return TRUNCATE[group_by](f"{prefix}completed_at", tzinfo=zone)


def _group_fields(group_by: str, prefix: str, zone: ZoneInfo) -> dict[str, Any]:
    if group_by == "step":
        return {"g_sop": F(f"{prefix}step__version__sop__code"), "g_key": F(f"{prefix}step__key")}
    value = _group_value(group_by, prefix, zone)
    return {} if value is None else {"g": value}


def _completed_steps(flt: ProcessFilter, prefix: str = "") -> Q:
    q = Q(
        **{
            f"{prefix}state": StepState.DONE,
            f"{prefix}completed_at__gte": flt.start,
            f"{prefix}completed_at__lt": flt.end,
            f"{prefix}on_time__isnull": False,
        }
    )
    if flt.sop:
        q &= Q(**{f"{prefix}step__version__sop__code": flt.sop})
    if flt.service_type:
        q &= Q(**{f"{prefix}ticket__service_type__code": flt.service_type})
    if flt.agent_id is not None:
        q &= Q(**{f"{prefix}completed_by_id": flt.agent_id})
    if flt.team_id is not None:
        q &= Q(**{f"{prefix}step__team_id": flt.team_id}) | Q(
            **{f"{prefix}step__team__isnull": True, f"{prefix}ticket__team_id": flt.team_id}
        )
    return q


def _grouped(rows: QuerySet[Any], fields: dict[str, Any], counts: dict[str, Any]) -> list[dict[str, Any]]:
    """Counts per group; one row of totals without groups (nothing when there is nothing to count)."""
    if not fields:
        totals = rows.aggregate(**counts)
        return [totals] if totals["n"] else []
    return list(rows.annotate(**fields).values(*fields).annotate(**counts).order_by())


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[name] for name in ("g", "g_sop", "g_key") if name in row)


def process_execution(flt: ProcessFilter, group_by: str = "all") -> list[ExecutionRow]:
    """The process execution rate per group, in group order (periods in time order, the rest by label).
    Two aggregate queries plus one for the labels of teams, agents, SOPs, steps or service types."""
    if group_by not in GROUPS:
        raise ValueError(group_by)
    zone = ZoneInfo(flt.zone)
    step_counts = {"n": Count("id"), "on_time": Count("id", filter=Q(on_time=True))}
    answer_counts = {"n": Count("id"), "passed": Count("id", filter=~Q(passed=False))}
    steps = _grouped(
        TicketStep.objects.filter(_completed_steps(flt)), _group_fields(group_by, "", zone), step_counts
    )
    answers = _grouped(
        CheckpointAnswer.objects.filter(
            _completed_steps(flt, "ticket_step__"), attempt=1, checkpoint__mandatory=True
        ),
        _group_fields(group_by, "ticket_step__", zone),
        answer_counts,
    )
    counted: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in steps:
        counted[_key(row)][0:2] = [row["n"], row["on_time"]]
    for row in answers:
        counted[_key(row)][2:4] = [row["n"], row["passed"]]
    labels = _labels(group_by, counted)
    rows = [
        ExecutionRow(_key_text(key), labels.get(key, _key_text(key)), *values)
        for key, values in counted.items()
    ]
    if group_by in TRUNCATE:
        return sorted(rows, key=lambda row: row.key)
    return sorted(rows, key=lambda row: (row.label.lower(), row.key))


def _key_text(key: tuple[Any, ...]) -> str:
    if not key:
        return "all"
    parts = [value.date().isoformat() if isinstance(value, datetime) else str(value) for value in key]
    return "/".join(parts)


def _labels(group_by: str, counted: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], str]:
    keys = list(counted)
    if group_by == "all":
        return {(): str(GROUPS["all"])}
    if group_by == "team":
        team_names = dict(
            Team.objects.filter(pk__in=[k[0] for k in keys if k[0] is not None]).values_list("pk", "name")
        )
        return {k: team_names.get(k[0], str(_("No team"))) for k in keys}
    if group_by == "agent":
        users = {u.pk: str(u) for u in User.objects.filter(pk__in=[k[0] for k in keys if k[0] is not None])}
        return {k: users.get(k[0], str(_("Unknown"))) for k in keys}
    if group_by == "sop":
        from pledge.standards.models import Sop

        sop_names = dict(Sop.objects.filter(code__in=[k[0] for k in keys]).values_list("code", "name"))
        return {k: sop_names.get(k[0], k[0]) for k in keys}
    if group_by == "service_type":
        from pledge.standards.models import ServiceType

        type_names = dict(
            ServiceType.objects.filter(code__in=[k[0] for k in keys if k[0]]).values_list("code", "name")
        )
        none = str(_("No service type"))
        return {k: type_names.get(k[0], none) if k[0] else none for k in keys}
    if group_by == "step":
        return {k: f"{sop} · {name}" for k, (sop, name) in _step_names(keys).items()}
    return {k: _key_text(k) for k in keys}


def _step_names(keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[str, str]]:
    """(SOP code, step key) → (SOP name, the step's name in its newest version)."""
    from pledge.standards.models import SopStep

    wanted = set(keys)
    names: dict[tuple[Any, ...], tuple[str, str]] = {}
    rows = (
        SopStep.objects.filter(version__sop__code__in={k[0] for k in keys}, key__in={k[1] for k in keys})
        .order_by("version__number")
        .values_list("version__sop__code", "version__sop__name", "key", "name")
    )
    for code, sop_name, key, name in rows:
        if (code, key) in wanted:
            names[(code, key)] = (sop_name, name)  # the newest version wins
    return names


@dataclass(frozen=True)
class Bottleneck:
    sop: str
    sop_name: str
    step: str
    step_name: str
    completed: int
    late: int
    median_overrun_minutes: float

    @property
    def late_share(self) -> float:
        return 100.0 * self.late / self.completed if self.completed else 0.0


@dataclass(frozen=True)
class Bottlenecks:
    most_often_late: list[Bottleneck]
    largest_overrun: list[Bottleneck]


def bottlenecks(flt: ProcessFilter, *, limit: int = 5) -> Bottlenecks:
    """The steps most often late (by number of late completions, then share) and those with the largest
    median overrun (business minutes past the standard, over their late completions). Two queries plus
    one for the names."""
    base = TicketStep.objects.filter(_completed_steps(flt))
    totals = {
        (row["step__version__sop__code"], row["step__key"]): row["n"]
        for row in base.values("step__version__sop__code", "step__key").annotate(n=Count("id")).order_by()
    }
    overruns: dict[tuple[str, str], list[float]] = defaultdict(list)
    late_rows: QuerySet[TicketStep, tuple[str, str, float | None, int]] = base.filter(
        on_time=False
    ).values_list("step__version__sop__code", "step__key", "business_minutes", "step__time_standard_minutes")
    for code, key, minutes, standard in late_rows:
        overruns[(code, key)].append(float(minutes or 0) - float(standard))
    names = _step_names(list(overruns))
    rows = [
        Bottleneck(
            sop=code,
            sop_name=names.get((code, key), (code, key))[0],
            step=key,
            step_name=names.get((code, key), (code, key))[1],
            completed=totals.get((code, key), len(values)),
            late=len(values),
            median_overrun_minutes=float(statistics.median(values)),
        )
        for (code, key), values in overruns.items()
    ]
    often = sorted(rows, key=lambda b: (-b.late, -b.late_share, b.sop, b.step))[:limit]
    largest = sorted(rows, key=lambda b: (-b.median_overrun_minutes, b.sop, b.step))[:limit]
    return Bottlenecks(often, largest)
