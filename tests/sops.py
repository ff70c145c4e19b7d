"""A small repair SOP and service type for tests of the catalogue, SOP versions and step execution.

Steps (cn-office business minutes): diagnose (60, frontline) → repair ∥ parts (parallel group "work":
240 and 120, field) → confirm (60, frontline, customer-visible milestone).
"""

from __future__ import annotations

from datetime import date, datetime

from pledge.accounts.models import User
from pledge.standards import services as standards_services
from pledge.standards.models import ServiceType, SopVersion
from pledge.standards.services import CheckpointData, StepData


def repair_steps() -> list[StepData]:
    return [
        StepData(
            key="diagnose",
            name="Diagnose the fault",
            owner="frontline",
            time_standard_minutes=60,
            is_milestone=True,
            milestone_name="Fault diagnosed",
            guidance="Ask for the **alarm code** first.",
            checkpoints=[
                CheckpointData(key="cause-found", label="Cause found?", kind="yes_no", critical=True),
                CheckpointData(key="notes", label="Diagnosis notes", kind="text", mandatory=False),
            ],
        ),
        StepData(
            key="repair",
            name="Repair on site",
            owner="field",
            time_standard_minutes=240,
            parallel_group="work",
            checkpoints=[
                CheckpointData(
                    key="pressure",
                    label="Hydraulic pressure after repair",
                    kind="number",
                    critical=True,
                    min_value=5,
                    max_value=8,
                    unit="bar",
                ),
                CheckpointData(
                    key="photo", label="Photo of the repaired unit", kind="photo", mandatory=False
                ),
            ],
        ),
        StepData(
            key="parts",
            name="Record parts used",
            owner="field",
            time_standard_minutes=120,
            parallel_group="work",
            checkpoints=[CheckpointData(key="parts-used", label="Parts used", kind="text")],
        ),
        StepData(
            key="confirm",
            name="Confirm with the customer",
            owner="frontline",
            time_standard_minutes=60,
            is_milestone=True,
            milestone_name="Repair confirmed",
            checkpoints=[CheckpointData(key="customer-ok", label="Customer satisfied?", kind="yes_no")],
        ),
    ]


def approved_repair_sop(manager: User, *, effective: date, at: datetime) -> SopVersion:
    draft = standards_services.sop_create(
        actor=manager, code="repair", name="Fault repair", steps=repair_steps(), reason="First version", at=at
    )
    return standards_services.sop_version_approve(
        actor=manager, version=draft, effective_from=effective, at=at
    )


def repair_service(
    manager: User, *, effective: date, at: datetime, calendar: str = "cn-office"
) -> ServiceType:
    version = approved_repair_sop(manager, effective=effective, at=at)
    return standards_services.service_type_create(
        actor=manager,
        code="fault-repair",
        name="Fault repair",
        category="field",
        calendar=calendar,
        default_kind="fault",
        default_priority="P2",
        skills=["hydraulics"],
        sop=version.sop,
    )
