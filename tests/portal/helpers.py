"""Helpers for the portal tests: sample files and moving a ticket to any status through the services."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from pledge.tickets import services
from pledge.tickets.models import Ticket
from tests.conftest import World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# The path through the workflow to each status, starting from new.
PATHS: dict[str, tuple[str, ...]] = {
    "new": (),
    "acknowledged": ("acknowledged",),
    "in_progress": ("in_progress",),
    "waiting_customer": ("in_progress", "waiting_customer"),
    "waiting_parts": ("in_progress", "waiting_parts"),
    "waiting_back_office": ("in_progress", "waiting_back_office"),
    "resolved": ("in_progress", "resolved"),
    "closed": ("in_progress", "resolved", "closed"),
}


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def move(world: World, ticket: Ticket, status: str) -> Ticket:
    for step in PATHS[status]:
        ticket = services.ticket_transition(
            actor=world.agent, ticket=ticket, to_status=step, expected_version=ticket.version
        )
    return ticket
