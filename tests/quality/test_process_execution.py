"""The process execution rate on a generated history equals an independent computation: the test
records what it did (who completed which step when, how long it took against its standard, whether each
mandatory checkpoint's first answer passed) and recomputes every figure from that record alone.

The SOP runs on the 24×7 calendar, so business minutes are wall-clock minutes and the expected values
need no calendar arithmetic."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pledge.accounts.models import Team, User
from pledge.quality.selectors import ProcessFilter, bottlenecks, process_execution
from pledge.standards import services as standards_services
from pledge.standards.models import ServiceType
from pledge.tickets import services as ticket_services
from tests.conftest import World
from tests.sops import repair_service

SH = ZoneInfo("Asia/Shanghai")
STANDARD = {"diagnose": 60, "repair": 240, "parts": 120, "confirm": 60}
# The mandatory checkpoints of each step, with an answer that passes and one that fails (None: cannot fail).
MANDATORY = {
    "diagnose": {"cause-found": ("yes", "no")},
    "repair": {"pressure": ("6.5", "9.2")},
    "parts": {"parts-used": ("Seal kit", None)},
    "confirm": {"customer-ok": ("yes", "no")},
}
POSITION = {"diagnose": 1, "repair": 2, "parts": 3, "confirm": 4}


@dataclass(frozen=True)
class Done:
    step: str
    team: str
    agent: str
    completed_at: datetime
    minutes: float
    first_time: tuple[bool, ...]  # one per mandatory checkpoint


@pytest.fixture
def repair(world: World) -> ServiceType:
    standards_services.ensure_builtin_calendars()
    return repair_service(
        world.manager, effective=date(2026, 9, 1), at=datetime(2026, 9, 1, 8, tzinfo=SH), calendar="24x7"
    )


def _play(world: World, repair: ServiceType, seed: int, count: int, start: datetime) -> list[Done]:
    rng = random.Random(seed)
    done: list[Done] = []
    teams = [world.frontline, world.field]
    agents = {world.frontline.pk: world.agent, world.field.pk: world.field_agent}
    for n in range(count):
        created = start + timedelta(hours=30 * n, minutes=rng.randrange(60))
        team: Team = teams[n % 2]
        agent: User = agents[team.pk]
        ticket = world.ticket(service_type=repair, team=team, at=created)

        def complete(
            key: str,
            at: datetime,
            began: datetime,
            ticket: Any = ticket,
            agent: User = agent,
            team: Team = team,
        ) -> None:
            answers: dict[str, str] = {}
            first: list[bool] = []
            for checkpoint, (good, bad) in MANDATORY[key].items():
                fails = bad is not None and rng.random() < 0.2
                answers[checkpoint] = bad if fails and bad is not None else good
                first.append(not fails)
            ticket_services.sop_step_complete(
                actor=agent, ticket=ticket, position=POSITION[key], answers=answers, at=at
            )
            if not all(first) and key == "repair":  # put the failed pressure right: a second attempt
                ticket_services.sop_step_complete(
                    actor=agent, ticket=ticket, position=2, answers={"pressure": "7"}, complete=False, at=at
                )
            minutes = (at - began).total_seconds() / 60
            done.append(Done(key, team.name, str(agent), at, minutes, tuple(first)))

        def took(key: str) -> timedelta:
            late = rng.random() < (0.45 if key == "parts" else 0.15)
            factor = rng.uniform(1.05, 2.5) if late else rng.uniform(0.3, 1.0)
            return timedelta(minutes=round(STANDARD[key] * factor))

        t1 = created + took("diagnose")
        complete("diagnose", t1, created)
        t_parts, t_repair = t1 + took("parts"), t1 + took("repair")
        for key, at in sorted((("parts", t_parts), ("repair", t_repair)), key=lambda item: item[1]):
            complete(key, at, t1)
        began = max(t_parts, t_repair)
        complete("confirm", began + took("confirm"), began)
    return done


def _expected(records: list[Done], key: str) -> dict[str, tuple[int, int, int, int]]:
    groups: dict[str, list[Done]] = defaultdict(list)
    for record in records:
        groups[getattr(record, key) if key != "all" else "all"].append(record)
    return {
        name: (
            len(rows),
            sum(1 for r in rows if r.minutes <= STANDARD[r.step]),
            sum(len(r.first_time) for r in rows),
            sum(sum(r.first_time) for r in rows),
        )
        for name, rows in groups.items()
    }


def test_the_rate_equals_an_independent_computation(world: World, repair: ServiceType) -> None:
    before = _play(world, repair, seed=1, count=4, start=datetime(2026, 9, 10, 9, tzinfo=SH))
    records = _play(world, repair, seed=7, count=40, start=datetime(2026, 10, 1, 9, tzinfo=SH))
    assert before and records
    period = ProcessFilter(start=datetime(2026, 10, 1, tzinfo=SH), end=datetime(2026, 12, 1, tzinfo=SH))
    in_period = [r for r in records if period.start <= r.completed_at < period.end]
    assert len(in_period) == len(records) == 160

    overall = process_execution(period)
    expected = _expected(in_period, "all")["all"]
    assert len(overall) == 1
    got = overall[0]
    assert (got.steps_completed, got.steps_on_time, got.checkpoints, got.checkpoints_first_time) == expected
    assert got.on_time_rate == pytest.approx(100.0 * expected[1] / expected[0])
    assert 0 < got.steps_late < got.steps_completed  # the history has both

    by_step = {row.key: row for row in process_execution(period, "step")}
    for step, figures in _expected(in_period, "step").items():
        row = by_step[f"repair/{step}"]
        assert (
            row.steps_completed,
            row.steps_on_time,
            row.checkpoints,
            row.checkpoints_first_time,
        ) == figures
    by_team = {row.label: row for row in process_execution(period, "team")}
    for team, figures in _expected(in_period, "team").items():
        row = by_team[team]
        assert (
            row.steps_completed,
            row.steps_on_time,
            row.checkpoints,
            row.checkpoints_first_time,
        ) == figures
    by_agent = {row.label: row for row in process_execution(period, "agent")}
    for agent, figures in _expected(in_period, "agent").items():
        row = by_agent[agent]
        assert (row.steps_completed, row.steps_on_time) == figures[:2]
    months = process_execution(period, "month")
    assert [row.key for row in months] == ["2026-10-01", "2026-11-01"]
    per_month: dict[str, int] = defaultdict(int)
    for record in in_period:
        per_month[record.completed_at.astimezone(SH).strftime("%Y-%m-01")] += 1
    assert {row.key: row.steps_completed for row in months} == per_month
    by_sop = process_execution(period, "sop")
    assert [(row.key, row.steps_completed) for row in by_sop] == [("repair", 160)]
    # Narrowing to one agent gives that agent's figures.
    only = process_execution(ProcessFilter(start=period.start, end=period.end, agent_id=world.field_agent.pk))
    assert only[0].steps_completed == sum(1 for r in in_period if r.agent == str(world.field_agent))


def test_bottlenecks_equal_an_independent_computation(world: World, repair: ServiceType) -> None:
    records = _play(world, repair, seed=11, count=30, start=datetime(2026, 10, 1, 9, tzinfo=SH))
    period = ProcessFilter(start=datetime(2026, 10, 1, tzinfo=SH), end=datetime(2026, 12, 1, tzinfo=SH))
    late: dict[str, list[float]] = defaultdict(list)
    for record in records:
        if record.minutes > STANDARD[record.step]:
            late[record.step].append(record.minutes - STANDARD[record.step])
    found = bottlenecks(period, limit=4)
    assert [(b.step, b.late) for b in found.most_often_late] == sorted(
        ((step, len(values)) for step, values in late.items()), key=lambda item: (-item[1], item[0])
    )[: len(found.most_often_late)]
    assert found.most_often_late[0].step == "parts"  # late almost half the time by construction
    medians = {step: statistics.median(values) for step, values in late.items()}
    assert [b.step for b in found.largest_overrun] == sorted(medians, key=lambda s: (-medians[s], s))
    for b in found.largest_overrun:
        assert b.median_overrun_minutes == pytest.approx(medians[b.step])
        assert b.step_name and b.sop_name == "Fault repair"


def test_steps_outside_the_period_or_filters_do_not_count(world: World, repair: ServiceType) -> None:
    _play(world, repair, seed=3, count=2, start=datetime(2026, 10, 1, 9, tzinfo=SH))
    empty = ProcessFilter(start=datetime(2027, 1, 1, tzinfo=SH), end=datetime(2027, 2, 1, tzinfo=SH))
    assert process_execution(empty) == []
    other_sop = ProcessFilter(
        start=datetime(2026, 10, 1, tzinfo=SH), end=datetime(2026, 12, 1, tzinfo=SH), sop="x"
    )
    assert process_execution(other_sop) == []
    assert bottlenecks(empty).most_often_late == []
