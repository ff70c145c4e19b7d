"""KPI endpoints: `/kpis/process-execution` and its bottlenecks (quality/policies.py decides who reads)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from pledge.core.errors import PermissionDenied, ValidationFailed
from pledge.core.schemas import error_responses
from pledge.quality import policies
from pledge.quality.schemas import BottlenecksOut, ProcessExecutionOut, ProcessQuery
from pledge.quality.selectors import ExecutionRow, ProcessFilter, bottlenecks, process_execution
from pledge.standards.models import known_timezones

router = Router(tags=["KPIs"])
MAX_DAYS = 3 * 366
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)  # instants either side convert to UTC safely


def _filter(request: HttpRequest, query: ProcessQuery) -> ProcessFilter:
    if not policies.can_view_kpis(request.user):
        raise PermissionDenied(
            _("Only service managers, team leads, QA inspectors and administrators read KPIs.")
        )
    if query.zone not in known_timezones():
        raise ValidationFailed(
            _("%(value)s is not an IANA time zone such as Asia/Shanghai.") % {"value": query.zone},
            fields={"zone": _("Unknown time zone.")},
        )
    if query.start < EARLIEST or query.end > LATEST:
        raise ValidationFailed(
            _("Choose days between %(first)s and %(last)s.") % {"first": EARLIEST, "last": LATEST},
            fields={"start" if query.start < EARLIEST else "end": _("Out of range.")},
        )
    if query.end < query.start:
        raise ValidationFailed(
            _("The end comes before the start."), fields={"end": _("On or after the start.")}
        )
    if (query.end - query.start).days > MAX_DAYS:
        raise ValidationFailed(_("At most three years at a time."), fields={"end": _("Shorten the period.")})
    try:
        zone = ZoneInfo(query.zone)
        end = datetime.combine(query.end + timedelta(days=1), time.min, tzinfo=zone)
    except (ZoneInfoNotFoundError, OverflowError):
        raise ValidationFailed(_("The period is out of range."), fields={"end": _("Out of range.")}) from None
    return ProcessFilter(
        start=datetime.combine(query.start, time.min, tzinfo=zone),
        end=end,
        sop=query.sop,
        service_type=query.service_type,
        team_id=query.team,
        agent_id=query.agent,
        zone=query.zone,
    )


def _row(row: ExecutionRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "steps_completed": row.steps_completed,
        "steps_on_time": row.steps_on_time,
        "steps_late": row.steps_late,
        "on_time_rate": row.on_time_rate,
        "checkpoints": row.checkpoints,
        "checkpoints_first_time": row.checkpoints_first_time,
        "first_time_rate": row.first_time_rate,
    }


@router.get(
    "/kpis/process-execution",
    response={200: ProcessExecutionOut, **error_responses(403, 422)},
    summary="Process execution rate (service managers, team leads, QA inspectors, administrators)",
    description="SOP steps completed in the period: % within their time standard, and % of their mandatory "
    "checkpoints passed first time (docs/kpis.md), in total and per group.",
)
def process_execution_get(request: HttpRequest, query: Query[ProcessQuery]) -> dict[str, Any]:
    flt = _filter(request, query)
    total = process_execution(flt, "all")
    return {
        "start": query.start,
        "end": query.end,
        "group_by": query.group_by,
        "total": _row(total[0]) if total else None,
        "rows": [
            _row(row)
            for row in (total if query.group_by == "all" else process_execution(flt, query.group_by))
        ],
    }


@router.get(
    "/kpis/process-execution/bottlenecks",
    response={200: BottlenecksOut, **error_responses(403, 422)},
    summary="Bottleneck steps (service managers, team leads, QA inspectors, administrators)",
    description="The five steps most often late in the period, and the five with the largest median overrun.",
)
def process_bottlenecks(request: HttpRequest, query: Query[ProcessQuery]) -> dict[str, Any]:
    found = bottlenecks(_filter(request, query))

    def out(rows: list[Any]) -> list[dict[str, Any]]:
        return [{**row.__dict__, "late_share": row.late_share} for row in rows]

    return {"most_often_late": out(found.most_often_late), "largest_overrun": out(found.largest_overrun)}
