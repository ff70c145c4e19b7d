"""API schemas of accounts (`/me`)."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field

from pledge.accounts.choices import Role
from pledge.core.schemas import Ref


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: Role
    timezone: str
    language: str
    organisation_id: int | None = Field(description="The customer's organisation; null for staff.")
    teams: list[Ref]
