"""Two `pledge worker` processes on one database (the test database, committed so they see it): each
task runs exactly once, and each sweep slot runs exactly once. Runs on SQLite (WAL) and PostgreSQL.

The workers run `pledge.cli.main(["worker", …])`, what the `pledge` script runs, after registering the
probe sweep of tests/core/probes.py; the probe task and sweep append a line to a file per execution."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from pledge.core.models import PeriodicSweep, PeriodicSweepRun
from tests.conftest import QUEUE_TASKS
from tests.core import probes

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = (
    "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'pledge.config.settings'); "
    "django.setup(); from tests.core import probes; probes.register_probe_sweep(); "
    "from pledge.cli import main; sys.exit(main(sys.argv[1:]))"
)
TASKS = 40


def shared_database_url() -> str:
    """The test database's URL, for the worker processes."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


@dataclass
class Worker:
    worker_id: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def ready(self) -> bool:
        """The worker printed its banner: it now stops cleanly on SIGTERM."""
        return "Sweeps:" in self.output()

    def stop(self) -> int:
        # A worker still starting up (slow on a loaded machine) has no SIGTERM handler yet: wait for it.
        deadline = time.monotonic() + 60
        while self.process.poll() is None and not self.ready() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


StartWorker = Callable[[str, list[str]], Worker]


@pytest.fixture
def probe_file(tmp_path: Path) -> Path:
    return tmp_path / "probe.txt"


@pytest.fixture
def start_worker(tmp_path: Path, probe_file: Path) -> Iterator[StartWorker]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PLEDGE_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        PLEDGE_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=shared_database_url(),
        PLEDGE_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        PLEDGE_LOG_LEVEL="DEBUG",  # the lost claims are logged at DEBUG
        PYTHONPATH=str(ROOT),
        **{probes.PROBE_FILE_VARIABLE: str(probe_file)},
    )
    started: list[Worker] = []

    def start(worker_id: str, args: list[str]) -> Worker:
        log = tmp_path / f"{worker_id}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER, "worker", "--worker-id", worker_id, *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(worker_id, process, log)
        started.append(worker)
        return worker

    yield start
    for worker in started:  # before the test database is flushed
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(timeout=10)


def wait_for(condition: Callable[[], bool], workers: list[Worker], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for worker in workers:
            if worker.process.poll() is not None:
                pytest.fail(f"{worker.worker_id} exited with {worker.process.returncode}:\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail("timed out:\n" + "\n".join(worker.output() for worker in workers))
        time.sleep(0.1)


def probe_lines(path: Path, kind: str) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split() for line in path.read_text().splitlines() if line.startswith(f"{kind} ")]


def test_two_workers_run_each_task_exactly_once(
    transactional_db: None, settings: Any, start_worker: StartWorker, probe_file: Path
) -> None:
    settings.TASKS = QUEUE_TASKS
    workers = [start_worker(name, ["--no-sweeps", "--interval", "0.1"]) for name in ("w1", "w2")]
    wait_for(lambda: all("Starting worker" in worker.output() for worker in workers), workers)

    ids = {probes.record.enqueue(str(probe_file), token).id for token in range(TASKS)}
    wait_for(lambda: DBTaskResult.objects.successful().count() == TASKS, workers)
    assert [worker.stop() for worker in workers] == [0, 0]

    lines = probe_lines(probe_file, "task")
    assert sorted(int(token) for _kind, token, _pid in lines) == list(range(TASKS))  # each once
    assert len({pid for _kind, _token, pid in lines}) == 2  # both workers took tasks
    results = DBTaskResult.objects.all()
    assert {str(result.pk) for result in results} == ids
    assert all(result.status == "SUCCESSFUL" and len(result.worker_ids) == 1 for result in results)
    assert {result.worker_ids[0] for result in results} == {"w1", "w2"}
    assert sorted(result.return_value for result in results) == list(range(TASKS))


def test_sigterm_lets_the_running_task_finish(
    transactional_db: None, settings: Any, start_worker: StartWorker, probe_file: Path
) -> None:
    settings.TASKS = QUEUE_TASKS
    worker = start_worker("w1", ["--no-sweeps", "--interval", "0.1"])
    result = probes.record.enqueue(str(probe_file), 7, seconds=2)
    wait_for(lambda: DBTaskResult.objects.running().exists(), [worker])

    assert worker.stop() == 0
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    assert probe_lines(probe_file, "task")[0][1] == "7"
    assert "shutting down gracefully" in worker.output()


def test_two_workers_run_each_sweep_slot_exactly_once(
    transactional_db: None, start_worker: StartWorker, probe_file: Path
) -> None:
    every = timedelta(seconds=1)
    workers = [start_worker(name, ["--sweep-every", "1", "--interval", "0.2"]) for name in ("w1", "w2")]
    wait_for(lambda: len(probe_lines(probe_file, "sweep")) >= 5, workers)
    assert [worker.stop() for worker in workers] == [0, 0]

    executions = sorted(datetime.fromisoformat(now) for _kind, now, _pid in probe_lines(probe_file, "sweep"))
    for name in (probes.PROBE_SWEEP, "prune-task-results"):
        sweep = PeriodicSweep.objects.get(name=name)
        slots = list(PeriodicSweepRun.objects.filter(name=name).order_by("slot_start"))
        assert sweep.runs == len(slots) >= 5, name
        # The next slot starts `every` after a claim, so two runs of one slot would be closer than that.
        starts = [slot.started_at for slot in slots]
        assert all(later - earlier >= every for earlier, later in pairwise(starts)), starts
        assert all(slot.finished_at is not None and slot.error == "" for slot in slots)
        assert {slot.worker for slot in slots} <= {"w1", "w2"}
    probe_slots = PeriodicSweepRun.objects.filter(name=probes.PROBE_SWEEP).order_by("started_at")
    assert [slot.started_at for slot in probe_slots] == executions  # each slot executed once
    assert all(slot.handled == 1 for slot in probe_slots)
    logs = "".join(worker.output() for worker in workers)
    assert "was claimed by another worker" in logs  # they did race for the same slots
    assert "Traceback" not in logs
