"""Periodic sweeps on one database: a slot is claimed once, the next slot after the interval, a failing
sweep is recorded without stopping the others, and a worker back from an outage catches up once."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django_tasks_db.models import DBTaskResult

from pledge.core.models import PeriodicSweep, PeriodicSweepRun
from pledge.core.periodic import (
    SweepRun,
    SweepScheduler,
    periodic,
    registered,
    run_due_sweeps,
    unregister,
)
from tests.conftest import QUEUE_TASKS
from tests.core import probes

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
EVERY = timedelta(seconds=30)
COUNTER = "test-counter"
BROKEN = "test-broken"


def only(name: str, runs: list[SweepRun]) -> list[SweepRun]:
    return [run for run in runs if run.name == name]


@pytest.fixture
def counter() -> Iterator[list[datetime]]:
    """A sweep that records each call's `now`."""
    calls: list[datetime] = []

    @periodic(COUNTER, every=EVERY)
    def count(now: datetime) -> int:
        calls.append(now)
        return len(calls)

    yield calls
    unregister(COUNTER)


@pytest.fixture
def broken() -> Iterator[list[bool]]:
    """A sweep that fails while the list holds True."""
    failing = [True]

    @periodic(BROKEN, every=EVERY)
    def fail(now: datetime) -> int:
        if failing[0]:
            raise RuntimeError("disk\nfull")
        return 7

    yield failing
    unregister(BROKEN)


def test_a_slot_runs_once_however_many_workers_ask(db: Any, counter: list[datetime]) -> None:
    [first] = only(COUNTER, run_due_sweeps(worker_id="w1", now=T0))
    assert (first.worker_id, first.slot_start, first.handled, first.ok) == ("w1", T0, 1, True)

    assert only(COUNTER, run_due_sweeps(worker_id="w2", now=T0)) == []
    assert only(COUNTER, run_due_sweeps(worker_id="w2", now=T0 + EVERY - timedelta(microseconds=1))) == []

    assert counter == [T0]
    row = PeriodicSweep.objects.get(name=COUNTER)
    assert (row.runs, row.last_worker, row.next_run_at) == (1, "w1", T0 + EVERY)
    assert (row.last_started_at, row.last_handled, row.last_error) == (T0, 1, "")
    assert row.last_finished_at is not None
    assert row.last_finished_at >= T0


def test_after_the_interval_the_next_slot_runs(db: Any, counter: list[datetime]) -> None:
    run_due_sweeps(worker_id="w1", now=T0)
    [second] = only(COUNTER, run_due_sweeps(worker_id="w2", now=T0 + EVERY))

    assert (second.worker_id, second.slot_start, second.handled) == ("w2", T0 + EVERY, 2)
    assert counter == [T0, T0 + EVERY]
    assert PeriodicSweep.objects.get(name=COUNTER).runs == 2
    slots = PeriodicSweepRun.objects.filter(name=COUNTER).order_by("slot_start")
    assert [(run.slot_start, run.worker, run.handled, run.error) for run in slots] == [
        (T0, "w1", 1, ""),
        (T0 + EVERY, "w2", 2, ""),
    ]


def test_a_failing_sweep_is_recorded_and_the_others_still_run(
    db: Any, counter: list[datetime], broken: list[bool], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="pledge.core.periodic"):
        runs = run_due_sweeps(worker_id="w1", now=T0)

    [failed] = only(BROKEN, runs)
    assert not failed.ok
    assert failed.error == "RuntimeError: disk full"  # one line
    assert failed.handled is None
    assert only(COUNTER, runs)[0].ok
    assert counter == [T0]
    row = PeriodicSweep.objects.get(name=BROKEN)
    assert (row.last_error, row.runs, row.next_run_at) == ("RuntimeError: disk full", 1, T0 + EVERY)
    assert PeriodicSweepRun.objects.get(name=BROKEN).error == "RuntimeError: disk full"
    assert any(BROKEN in record.getMessage() and record.exc_info for record in caplog.records)

    broken[0] = False  # fixed: the next slot succeeds and clears the error
    [fixed] = only(BROKEN, run_due_sweeps(worker_id="w2", now=T0 + EVERY))
    assert (fixed.ok, fixed.handled) == (True, 7)
    row.refresh_from_db()
    assert (row.last_error, row.last_handled, row.runs) == ("", 7, 2)


def test_a_worker_back_from_an_outage_catches_up_once(db: Any, counter: list[datetime]) -> None:
    run_due_sweeps(worker_id="w1", now=T0)
    back = T0 + 1000 * EVERY  # a weekend down: a thousand slots missed

    assert len(only(COUNTER, run_due_sweeps(worker_id="w1", now=back))) == 1
    assert only(COUNTER, run_due_sweeps(worker_id="w1", now=back + timedelta(seconds=1))) == []
    assert counter == [T0, back]
    row = PeriodicSweep.objects.get(name=COUNTER)
    assert (row.runs, row.next_run_at) == (2, back + EVERY)


def test_a_schedule_left_by_a_longer_interval_is_claimed_at_once(db: Any, counter: list[datetime]) -> None:
    PeriodicSweep.objects.create(name=COUNTER, next_run_at=T0 + timedelta(days=1))

    [run] = only(COUNTER, run_due_sweeps(worker_id="w1", now=T0))

    assert run.slot_start == T0 + timedelta(days=1)
    assert PeriodicSweep.objects.get(name=COUNTER).next_run_at == T0 + EVERY


def test_the_database_refuses_a_second_record_of_a_slot(db: Any) -> None:
    PeriodicSweepRun.objects.create(name=COUNTER, slot_start=T0, worker="w1", started_at=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        PeriodicSweepRun.objects.create(name=COUNTER, slot_start=T0, worker="w2", started_at=T0)


def test_a_name_is_registered_once(counter: list[datetime]) -> None:
    def other(now: datetime) -> int:
        return 0

    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        periodic(COUNTER, every=EVERY)(other)
    with pytest.raises(ImproperlyConfigured, match="positive"):
        periodic("test-never", every=timedelta(0))
    assert registered()[COUNTER].every == EVERY


def test_apps_sweeps_modules_are_discovered() -> None:
    sweep = registered()["prune-task-results"]
    assert sweep.function.__module__ == "pledge.core.sweeps"
    assert sweep.every == timedelta(hours=1)


def test_prune_task_results_deletes_old_finished_results_only(db: Any, settings: Any) -> None:
    settings.TASKS = QUEUE_TASKS
    settings.TASK_RESULT_DAYS = 14
    now = T0
    ids = {name: probes.record.enqueue("/dev/null", number).id for number, name in enumerate("abcde")}
    DBTaskResult.objects.update(enqueued_at=now - timedelta(days=40))
    finished = {
        "a": ("SUCCESSFUL", now - timedelta(days=15)),  # old: pruned
        "b": ("FAILED", now - timedelta(days=20)),  # old: pruned
        "c": ("SUCCESSFUL", now - timedelta(days=13)),  # recent: kept
    }
    for name, (status, at) in finished.items():
        DBTaskResult.objects.filter(pk=ids[name]).update(status=status, finished_at=at)
    DBTaskResult.objects.filter(pk=ids["d"]).update(status="RUNNING")  # running for weeks: kept
    # "e" is still waiting: kept
    PeriodicSweepRun.objects.create(
        name="x", slot_start=now - timedelta(days=30), worker="w", started_at=now - timedelta(days=30)
    )
    PeriodicSweepRun.objects.create(
        name="x", slot_start=now - timedelta(days=1), worker="w", started_at=now - timedelta(days=1)
    )

    [run] = only("prune-task-results", run_due_sweeps(worker_id="w1", now=now))

    assert (run.ok, run.handled) == (True, 3)
    kept = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
    assert kept == {str(ids[name]) for name in "cde"}
    assert list(PeriodicSweepRun.objects.filter(name="x").values_list("started_at", flat=True)) == [
        now - timedelta(days=1)
    ]


def test_the_scheduler_thread_runs_each_slot_once_and_stops(
    transactional_db: Any, counter: list[datetime]
) -> None:
    unregister(COUNTER)

    calls: list[datetime] = []

    @periodic(COUNTER, every=timedelta(milliseconds=200))
    def count(now: datetime) -> int:
        calls.append(now)
        return 1

    scheduler = SweepScheduler(worker_id="thread")
    scheduler.start()
    deadline = time.monotonic() + 20
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scheduler.stop(timeout=20)

    assert len(calls) >= 3
    assert all(later - earlier >= timedelta(milliseconds=200) for earlier, later in pairwise(calls))
    row = PeriodicSweep.objects.get(name=COUNTER)
    assert row.runs == len(calls) == PeriodicSweepRun.objects.filter(name=COUNTER).count()
