"""The demo's service catalogue and SOPs, and six months of SOP steps carried out on its tickets: on time
and late, checkpoints failed and put right, hand-offs to the back office, the service manager's
overrides."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pledge.accounts.choices import Role, TeamKind
from pledge.accounts.models import TeamMembership
from pledge.demo import data
from pledge.demo.loader import load_demo
from pledge.standards.choices import CheckpointKind, SopVersionStatus, StepOwner
from pledge.standards.models import Checkpoint, ServiceType, Sop, SopStep, SopVersion
from pledge.tickets import steps
from pledge.tickets.choices import OPEN_STATUSES, EventKind, Status, StepState
from pledge.tickets.models import CheckpointAnswer, Ticket, TicketEvent, TicketStep

# A Wednesday afternoon in Shanghai, as in test_loader.py.
NOW = datetime(2026, 11, 18, 7, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
CJK = re.compile("[\u4e00-\u9fff]")
LATIN = re.compile("[A-Za-z]{3}")


def _bilingual(text: str) -> bool:
    """ "中文 / English" in one string."""
    chinese, _slash, english = text.partition(" / ")
    return bool(CJK.search(chinese)) and bool(LATIN.search(english))


def test_demo_tickets_follow_the_service_catalogue_and_its_sops(db: Any) -> None:
    load_demo(now=NOW)

    # Six service types, in the catalogue's order, bilingual, each with its SOP, skills and calendar.
    types = list(ServiceType.objects.select_related("sop", "calendar").order_by("position", "pk"))
    assert [t.code for t in types] == [spec.code for spec in data.SERVICE_TYPES]
    assert len(types) == 6
    for service_type in types:
        assert _bilingual(service_type.name), service_type.name
        assert _bilingual(service_type.description), service_type.code
        assert service_type.sop is not None and service_type.skills
        assert service_type.calendar.code == "cn-office"
    by_code = {t.code: t for t in types}
    installation = by_code[data.INSTALLATION_TYPE]
    assert installation.on_site_minutes == 3 * data.WORKING_DAY
    assert not installation.customer_selectable  # booked from the sales order
    assert by_code[data.COMPLAINT_TYPE].customer_selectable

    # Six bilingual SOPs, every version approved, 4–8 steps with bilingual names and milestones, guidance
    # in Markdown, back-office steps handing the ticket to a back-office team.
    sops = list(Sop.objects.all())
    assert len(sops) == 6
    assert all(_bilingual(sop.name) for sop in sops)
    versions = list(SopVersion.objects.select_related("sop"))
    assert {v.status for v in versions} == {SopVersionStatus.APPROVED}
    all_steps = list(SopStep.objects.select_related("team", "version__sop"))
    per_version = Counter(step.version_id for step in all_steps)
    assert all(4 <= per_version[v.pk] <= 8 for v in versions), per_version
    for step in all_steps:
        assert _bilingual(step.name), step.name
        if step.is_milestone:
            assert _bilingual(step.milestone_name), step.milestone_name
        if step.owner == StepOwner.BACK_OFFICE:
            assert step.team is not None and step.team.kind == TeamKind.BACK_OFFICE
    handing_over = {step.version.sop.code for step in all_steps if step.owner == StepOwner.BACK_OFFICE}
    assert len(handing_over) >= 2
    assert {step.owner for step in all_steps} == set(StepOwner.values)
    assert any(step.parallel_group for step in all_steps)
    assert any("- " in step.guidance and "**" in step.guidance for step in all_steps)
    checkpoints = list(Checkpoint.objects.all())
    assert {c.kind for c in checkpoints} == set(CheckpointKind.values)
    assert all(_bilingual(c.label) for c in checkpoints)
    # The demo stores no files: its photo and file checkpoints are optional.
    assert not any(c.mandatory for c in checkpoints if c.kind in (CheckpointKind.FILE, CheckpointKind.PHOTO))
    assert any(c.critical and c.kind == CheckpointKind.NUMBER and c.unit for c in checkpoints)
    assert any(c.critical and c.kind == CheckpointKind.YES_NO for c in checkpoints)

    # The fault-repair SOP has two approved versions, the second (with a reason: a safety checkpoint and
    # a shorter time standard) in effect from two months ago; tickets follow the version of their day.
    v1, v2 = SopVersion.objects.filter(sop__code=data.FAULT_REPAIR.code).order_by("number")
    today = NOW.astimezone(SHANGHAI).date()
    assert v2.effective_from == today - timedelta(days=data.FAULT_REPAIR_V2_DAYS_AGO)
    assert v1.effective_from is not None and v1.effective_from < today - timedelta(days=data.HISTORY_DAYS)
    assert _bilingual(v2.reason)
    assert v2.approved_by is not None and v2.approved_by.role == Role.SERVICE_MANAGER
    old_keys = set(Checkpoint.objects.filter(step__version=v1).values_list("key", flat=True))
    new_keys = set(Checkpoint.objects.filter(step__version=v2).values_list("key", flat=True))
    assert new_keys - old_keys == {"loto"}
    triage = {s.version_id: s.time_standard_minutes for s in all_steps if s.key == "triage"}
    assert triage[v2.pk] < triage[v1.pk]
    fault_repairs = list(Ticket.objects.filter(service_type__code=data.FAULT_REPAIR_TYPE))
    on_version = Counter(ticket.sop_version_id for ticket in fault_repairs)
    assert on_version[v1.pk] >= 10 and on_version[v2.pk] >= 10, on_version
    for ticket in fault_repairs:
        expected = v2 if ticket.created_at.astimezone(SHANGHAI).date() >= v2.effective_from else v1
        assert ticket.sop_version_id == expected.pk, ticket.number

    # A good share of the tickets are of a service type, and carry its steps.
    typed = Ticket.objects.filter(service_type__isnull=False)
    assert typed.count() >= 0.4 * Ticket.objects.count()
    assert set(typed.values_list("service_type__code", flat=True)) == set(by_code)
    assert not typed.filter(steps__isnull=True).exists()

    # Steps were carried out: most on time, some late, the back office's analysis and parts check the
    # bottlenecks.
    done = list(TicketStep.objects.filter(state=StepState.DONE).select_related("step__version__sop"))
    assert len(done) >= 800
    late = [row for row in done if row.on_time is False]
    on_time = [row for row in done if row.on_time is True]
    assert 0.85 <= len(on_time) / len(done) <= 0.98, (len(on_time), len(done))
    executions = Counter((row.step.version.sop.code, row.step.key) for row in done)
    late_executions = Counter((row.step.version.sop.code, row.step.key) for row in late)
    bottlenecks = [step for step, _count in late_executions.most_common(2)]
    assert set(bottlenecks) == {("remote-support", "analysis"), ("fault-repair", "parts")}, late_executions
    assert all(late_executions[step] >= 0.15 * executions[step] for step in bottlenecks), executions
    # Some steps took several times their standard.
    assert any(
        row.business_minutes is not None and row.business_minutes > 3 * row.step.time_standard_minutes
        for row in late
    )

    # Back-office steps were completed by the team the ticket was handed to.
    members: dict[int, set[int]] = {}
    for team_id, user_id in TeamMembership.objects.values_list("team_id", "user_id"):
        members.setdefault(team_id, set()).add(user_id)
    back_office_rows = [row for row in done if row.step.owner == StepOwner.BACK_OFFICE]
    assert len(back_office_rows) >= 50
    for row in back_office_rows:
        assert row.step.team_id is not None
        assert row.completed_by_id in members[row.step.team_id], row.pk

    # Critical checkpoints that failed first time and were put right after another repair.
    answers = list(CheckpointAnswer.objects.select_related("checkpoint"))
    first_failed = {
        (a.ticket_step_id, a.checkpoint_id) for a in answers if a.attempt == 1 and a.passed is False
    }
    put_right = {
        (a.ticket_step_id, a.checkpoint_id)
        for a in answers
        if a.attempt == 2 and a.passed is True and a.checkpoint.critical
    }
    assert len(first_failed & put_right) >= 5
    assert not any(a.attachment_id for a in answers)

    # A few resolutions by the service manager over the checkpoints, each with its reason.
    overrides = list(TicketEvent.objects.filter(kind=EventKind.OVERRIDE).select_related("actor"))
    assert 3 <= len(overrides) <= 30
    for event in overrides:
        assert event.actor is not None and event.actor.role == Role.SERVICE_MANAGER
        assert event.data["reason"] and event.data["checkpoints"]
    overridden = {event.ticket_id for event in overrides}

    # Every resolved ticket of a service type had its checkpoints answered and passed, or an override.
    resolved = Ticket.objects.filter(service_type__isnull=False, status__in=[Status.RESOLVED, Status.CLOSED])
    assert resolved.count() >= 200
    for ticket in resolved:
        assert ticket.pk in overridden or not steps.blockers(ticket), ticket.number

    # The open queue shows steps under way, among them tickets handed to a back-office team whose step is
    # still active.
    open_typed = Ticket.objects.filter(status__in=OPEN_STATUSES, service_type__isnull=False)
    active = TicketStep.objects.filter(ticket__in=open_typed, state=StepState.ACTIVE)
    assert active.values("ticket").distinct().count() >= 5
    handed = list(open_typed.filter(handoff_team__isnull=False))
    assert handed
    for ticket in handed:
        assert ticket.status == Status.WAITING_BACK_OFFICE
        assert active.filter(
            ticket=ticket, step__owner=StepOwner.BACK_OFFICE, step__team=ticket.handoff_team_id
        ).exists()

    # Loading again adds no SOP, version or service type.
    before = (Sop.objects.count(), SopVersion.objects.count(), ServiceType.objects.count())
    assert load_demo(now=NOW).tickets_created == 0
    assert (Sop.objects.count(), SopVersion.objects.count(), ServiceType.objects.count()) == before
