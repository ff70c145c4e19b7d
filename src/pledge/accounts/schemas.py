"""API schemas of accounts (`/me`, `/notifications`)."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from pledge.accounts.choices import Role
from pledge.core.schemas import PageQuery, Ref


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: Role
    timezone: str
    language: str
    organisation_id: int | None = Field(description="The customer's organisation; null for staff.")
    teams: list[Ref]


class NotificationTicketOut(Schema):
    id: int
    number: str


class NotificationOut(Schema):
    id: int
    title: str
    body: str
    ticket: NotificationTicketOut | None
    created_at: datetime
    read_at: datetime | None = Field(description="Null while unread.")


class NotificationQuery(PageQuery):
    pass


class NotificationPage(Schema):
    items: list[NotificationOut] = Field(description="Unread first, then newest first.")
    page: int
    page_size: int
    has_next: bool
    unread: int = Field(description="How many of your notifications are unread in all.")


class ReadAllOut(Schema):
    marked: int = Field(description="How many unread notifications were marked read.")
