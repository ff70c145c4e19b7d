"""A task and a sweep whose every execution appends a line to a file, a side effect that the worker
tests read across processes (`pledge worker` subprocesses run them)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

from django_tasks import task

from pledge.core.periodic import periodic

PROBE_FILE_VARIABLE = "WORKER_PROBE_FILE"
PROBE_SWEEP = "probe-sweep"


def append_line(path: str, line: str) -> None:
    """One write with O_APPEND: lines from several processes never interleave."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


@task()
def record(path: str, token: int, seconds: float = 0.05) -> int:
    time.sleep(seconds)  # by default long enough for the other worker to take the next task meanwhile
    append_line(path, f"task {token} {os.getpid()}")
    return token


def register_probe_sweep() -> None:
    """Registered only in the worker subprocesses, so the test process's own sweeps stay as they are."""

    @periodic(PROBE_SWEEP, every=timedelta(hours=1))
    def probe_sweep(now: datetime) -> int:
        append_line(os.environ[PROBE_FILE_VARIABLE], f"sweep {now.isoformat()} {os.getpid()}")
        return 1
