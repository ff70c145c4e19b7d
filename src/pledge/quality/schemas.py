"""API schemas of the KPIs."""

from __future__ import annotations

from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

from pledge.core.schemas import Day, QueryId

GroupBy = Literal["all", "sop", "step", "team", "agent", "service_type", "day", "week", "month"]
Code = Annotated[str, StringConstraints(max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
ZoneName = Annotated[str, StringConstraints(max_length=64)]


class ProcessQuery(Schema):
    start: Day = Field(description="First day of the period (inclusive), in `zone`.")
    end: Day = Field(description="Last day of the period (inclusive), in `zone`.")
    group_by: GroupBy = "all"
    sop: Code | None = Field(default=None, description="Only this SOP (code).")
    service_type: Code | None = Field(default=None, description="Only tickets of this service type (code).")
    team: QueryId | None = Field(default=None, description="Only steps of this team (id).")
    agent: QueryId | None = Field(default=None, description="Only steps this user completed (id).")
    zone: ZoneName = Field(default="Asia/Shanghai", description="IANA time zone of the days and periods.")


class ExecutionRowOut(Schema):
    key: str = Field(description="The group: a code, `sop/step`, an id, or the first day of a period.")
    label: str
    steps_completed: int
    steps_on_time: int
    steps_late: int
    on_time_rate: float | None = Field(description="% of completed steps within their time standard.")
    checkpoints: int = Field(description="Mandatory checkpoints of those steps.")
    checkpoints_first_time: int
    first_time_rate: float | None = Field(description="% of mandatory checkpoints passed first time.")


class ProcessExecutionOut(Schema):
    start: Day
    end: Day
    group_by: GroupBy
    total: ExecutionRowOut | None = Field(description="All steps of the period (null: none completed).")
    rows: list[ExecutionRowOut]


class BottleneckOut(Schema):
    sop: str
    sop_name: str
    step: str = Field(description="The step's key (the same across SOP versions).")
    step_name: str
    completed: int
    late: int
    late_share: float = Field(description="% of completions that were late.")
    median_overrun_minutes: float = Field(
        description="Median business minutes over the time standard, late ones."
    )


class BottlenecksOut(Schema):
    most_often_late: list[BottleneckOut]
    largest_overrun: list[BottleneckOut]
