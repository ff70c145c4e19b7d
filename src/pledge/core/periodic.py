"""Periodic sweeps: functions that run every so often on exactly one worker, however many workers run.

An app declares its sweeps in its `sweeps.py`, which core imports when Django starts (like admin.py):

    from pledge.core.periodic import periodic

    @periodic("sla-sweep", every=timedelta(seconds=30))
    def sla_sweep(now: datetime) -> int:  # returns how many items it handled
        ...

`pledge worker` (and `pledge demo`) call `run_due_sweeps` in a loop (`SweepScheduler`). Each sweep has
one `PeriodicSweep` row whose `next_run_at` is the start of its next slot. A worker that finds the slot
due claims it with one conditional UPDATE:

    UPDATE core_periodicsweep SET next_run_at = now + every, last_worker = …, runs = runs + 1
     WHERE name = %s AND next_run_at = <the due slot it read>

and runs the sweep only if that changed the row. The row's `next_run_at` only moves forward and each
value is claimed by one UPDATE, so two workers never run the same slot; the claim also inserts a
`PeriodicSweepRun` whose unique (name, slot_start) makes the database refuse a second run of a slot.
Comparing with the value read (rather than `next_run_at <= now`) names the slot, and lets a schedule
that lies further ahead than the interval (the interval was shortened) be claimed at once. Clocks
are the workers' own: keep them in sync (NTP); they may disagree by up to CLOCK_TOLERANCE.

A worker that was down catches up with one run, not one per missed slot: the next slot starts `every`
after the run's claim. Sweeps must therefore be idempotent catch-ups ("everything overdue by now"),
and they may overlap a slow previous run on another worker if they take longer than their interval.
A sweep that raises is logged and recorded in `last_error` (one line); the other sweeps still run and
the worker goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)

SweepFunction = Callable[[datetime], int]
F_ = TypeVar("F_", bound=SweepFunction)

MAX_ERROR_LENGTH = 500
# Workers' clocks may disagree by this much without a slot ahead of one's own clock counting as
# "scheduled with a longer interval" (keep them in sync with NTP).
CLOCK_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True)
class Sweep:
    name: str
    every: timedelta
    function: SweepFunction


@dataclass(frozen=True)
class SweepRun:
    """What one worker did with one slot of one sweep."""

    name: str
    worker_id: str
    slot_start: datetime
    started_at: datetime
    finished_at: datetime
    handled: int | None
    error: str  # one line; empty when the sweep succeeded

    @property
    def ok(self) -> bool:
        return not self.error


_REGISTRY: dict[str, Sweep] = {}
_REGISTRY_LOCK = threading.Lock()


def periodic(name: str, *, every: timedelta) -> Callable[[F_], F_]:
    """Register the decorated function as the sweep `name`, due every `every` (at most once per slot)."""
    if not name or len(name) > 100:
        raise ImproperlyConfigured(f"periodic sweep name must be 1 to 100 characters, not {name!r}")
    if every <= timedelta(0):
        raise ImproperlyConfigured(f"periodic sweep {name!r}: every must be positive, not {every}")

    def register(function: F_) -> F_:
        qualified = f"{function.__module__}.{function.__qualname__}"
        with _REGISTRY_LOCK:
            existing = _REGISTRY.get(name)
            if existing is not None:
                previous = f"{existing.function.__module__}.{existing.function.__qualname__}"
                if previous != qualified:  # the same function imported again (a reload) replaces itself
                    raise ImproperlyConfigured(
                        f"periodic sweep {name!r} is registered twice: {previous} and {qualified}"
                    )
            _REGISTRY[name] = Sweep(name=name, every=every, function=function)
        return function

    return register


def registered() -> dict[str, Sweep]:
    """The registered sweeps by name (a copy)."""
    with _REGISTRY_LOCK:
        return dict(_REGISTRY)


def unregister(name: str) -> None:
    """Forget a sweep (tests register their own and remove them afterwards)."""
    with _REGISTRY_LOCK:
        _REGISTRY.pop(name, None)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line[:MAX_ERROR_LENGTH]


def _is_due(slot: datetime, now: datetime, every: timedelta) -> bool:
    # A slot further ahead than one interval (and the clocks' tolerance) was scheduled with a longer
    # interval, before a deployment shortened it: due at once rather than after the old interval.
    return slot <= now or slot > now + every + CLOCK_TOLERANCE


def _schedule(sweeps: dict[str, Sweep], now: datetime) -> dict[str, datetime]:
    """Each sweep's next slot; a sweep without a row gets one, due now (race-safe get_or_create)."""
    from pledge.core.models import PeriodicSweep

    slots = dict(PeriodicSweep.objects.filter(name__in=list(sweeps)).values_list("name", "next_run_at"))
    for name in sweeps.keys() - slots.keys():
        row, _created = PeriodicSweep.objects.get_or_create(name=name, defaults={"next_run_at": now})
        slots[name] = row.next_run_at
    return slots


def _claim(*, sweep: Sweep, slot: datetime, now: datetime, every: timedelta, worker_id: str) -> bool:
    """Take the slot starting at `slot` for this worker; False when another worker already took it."""
    from pledge.core.models import PeriodicSweep, PeriodicSweepRun

    with transaction.atomic():
        claimed = PeriodicSweep.objects.filter(name=sweep.name, next_run_at=slot).update(
            next_run_at=now + every,
            last_started_at=now,
            last_worker=worker_id,
            runs=F("runs") + 1,
        )
        if claimed == 1:
            PeriodicSweepRun.objects.create(
                name=sweep.name, slot_start=slot, worker=worker_id, started_at=now
            )
    return claimed == 1


def _run(*, sweep: Sweep, slot: datetime, now: datetime, worker_id: str) -> SweepRun:
    """Run a claimed slot and record how it went; an exception is recorded, never raised."""
    from pledge.core.models import PeriodicSweep, PeriodicSweepRun

    clock = time.monotonic()
    handled: int | None = None
    error = ""
    try:
        result = sweep.function(now)
        handled = result if isinstance(result, int) and not isinstance(result, bool) else None
    except Exception as exc:  # a sweep's bug must not stop the worker or the other sweeps
        error = _one_line(exc)
        logger.error("Sweep %s failed on worker %s: %s", sweep.name, worker_id, error, exc_info=True)
    finished = now + timedelta(seconds=time.monotonic() - clock)
    try:
        with transaction.atomic():
            PeriodicSweepRun.objects.filter(name=sweep.name, slot_start=slot).update(
                finished_at=finished, handled=handled, error=error
            )
            # Only if no later slot has started meanwhile (a sweep slower than its interval).
            PeriodicSweep.objects.filter(name=sweep.name, last_started_at=now, last_worker=worker_id).update(
                last_finished_at=finished, last_error=error, last_handled=handled
            )
    except DatabaseError as exc:
        logger.error("Sweep %s: cannot record the run: %s", sweep.name, _one_line(exc))
    if not error:
        logger.info(
            "Sweep %s handled %s in %.2f s on worker %s",
            sweep.name,
            "-" if handled is None else handled,
            (finished - now).total_seconds(),
            worker_id,
        )
    return SweepRun(
        name=sweep.name,
        worker_id=worker_id,
        slot_start=slot,
        started_at=now,
        finished_at=finished,
        handled=handled,
        error=error,
    )


def run_due_sweeps(
    *, worker_id: str, now: datetime | None = None, every: timedelta | None = None
) -> list[SweepRun]:
    """Claim and run every registered sweep whose slot is due, one after the other, in this thread.

    `now` fixes the clock (tests); otherwise each sweep is judged at the moment its turn comes. `every`
    replaces every sweep's own interval (`pledge worker --sweep-every`, for tests and demos). Call it
    outside a transaction: each claim commits at once and each sweep opens its own transactions.
    Returns the runs this worker made; the slots other workers had already claimed are not in it.
    """
    sweeps = registered()
    if not sweeps:
        return []
    slots = _schedule(sweeps, now or timezone.now())
    runs: list[SweepRun] = []
    for sweep in sweeps.values():
        moment = now or timezone.now()
        interval = every or sweep.every
        slot = slots[sweep.name]
        if not _is_due(slot, moment, interval):
            continue
        if _claim(sweep=sweep, slot=slot, now=moment, every=interval, worker_id=worker_id):
            runs.append(_run(sweep=sweep, slot=slot, now=moment, worker_id=worker_id))
        else:
            logger.debug("Sweep %s: slot %s was claimed by another worker", sweep.name, slot.isoformat())
    return runs


def seconds_until_due(*, now: datetime | None = None, every: timedelta | None = None) -> float | None:
    """Seconds until the next registered sweep is due (0 if one is), None when none is registered."""
    from pledge.core.models import PeriodicSweep

    sweeps = registered()
    if not sweeps:
        return None
    now = now or timezone.now()
    slots = dict(PeriodicSweep.objects.filter(name__in=list(sweeps)).values_list("name", "next_run_at"))
    waits: list[float] = []
    for sweep in sweeps.values():
        slot = slots.get(sweep.name)
        if slot is None or _is_due(slot, now, every or sweep.every):
            return 0.0
        waits.append((slot - now).total_seconds())
    return min(waits)


class SweepScheduler:
    """Runs due sweeps in a daemon thread until stopped; `pledge worker` runs one beside its task loop.

    The thread has its own database connection (Django's are per thread), closed after each round: it
    sleeps between rounds, and an idle connection per worker is a waste on PostgreSQL. A round that
    fails on the database (it is down) is logged in one line and tried again later.
    """

    def __init__(
        self,
        *,
        worker_id: str,
        every: timedelta | None = None,
        max_wait: float = 30.0,
        retry_wait: float = 10.0,
    ) -> None:
        self.worker_id = worker_id
        self.every = every
        self.max_wait = max_wait
        self.retry_wait = retry_wait
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"sweeps-{worker_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop after the sweep running now, if any; True once the thread has ended."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            wait = self.max_wait
            try:
                run_due_sweeps(worker_id=self.worker_id, every=self.every)
                due = seconds_until_due(every=self.every)
                if due is not None:
                    wait = due + 0.01  # wake just after the slot starts, not just before
            except Exception as exc:  # the database is unreachable, say: try again later
                logger.warning("Sweeps skipped on worker %s: %s", self.worker_id, _one_line(exc))
                wait = self.retry_wait
            finally:
                connections.close_all()  # this thread's connections only
            self._stopping.wait(min(max(wait, 0.05), self.max_wait))
