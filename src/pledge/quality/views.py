"""KPI pages. Who may read them: quality/policies.py; everyone else gets 404."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from pledge.quality import policies
from pledge.quality.forms import ProcessFilterForm
from pledge.quality.selectors import GROUPS, ProcessFilter, bottlenecks, process_execution


@login_required
def process(request: HttpRequest) -> HttpResponse:
    """The process execution rate with its filters, and the bottleneck steps."""
    if not policies.can_view_kpis(request.user):
        raise Http404
    today = timezone.localdate()
    form = ProcessFilterForm(request.GET or ProcessFilterForm.defaults(today))
    context: dict[str, object] = {"form": form, "groups": GROUPS}
    if form.is_valid():
        zone = timezone.get_current_timezone()
        data = form.cleaned_data
        start = datetime.combine(data["start"], time.min, tzinfo=zone)
        end = datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=zone)
        flt = ProcessFilter(
            start=start,
            end=end,
            sop=data["sop"] or None,
            service_type=data["service_type"] or None,
            team_id=data["team"].pk if data["team"] else None,
            agent_id=data["agent"].pk if data["agent"] else None,
            zone=str(zone) if isinstance(zone, ZoneInfo) else "UTC",
        )
        total = process_execution(flt, "all")
        rows = total if data["group_by"] == "all" else process_execution(flt, data["group_by"])
        context.update(
            rows=rows,
            total=total[0] if total else None,
            group_label=GROUPS[data["group_by"]],
            bottlenecks=bottlenecks(flt),
        )
    return render(request, "quality/process.html", context, status=200 if form.is_valid() else 422)
