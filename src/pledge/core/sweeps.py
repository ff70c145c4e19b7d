"""Core's periodic sweep: pruning old background-task results and sweep run records."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from pledge.core.periodic import periodic


@periodic("prune-task-results", every=timedelta(hours=1))
def prune_task_results(now: datetime) -> int:
    """Delete task results that finished, and sweep runs that started, over PLEDGE_TASK_RESULT_DAYS ago.

    Waiting and running tasks are kept whatever their age. Returns how many rows it deleted."""
    from django_tasks_db.models import DBTaskResult

    from pledge.core.models import PeriodicSweepRun

    cutoff = now - timedelta(days=settings.TASK_RESULT_DAYS)
    results, _by_model = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    runs, _by_model = PeriodicSweepRun.objects.filter(started_at__lt=cutoff).delete()
    return results + runs
