"""Reads of people, teams, tokens and each person's notifications."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from pledge.accounts.choices import WORKING_ROLES
from pledge.accounts.models import ApiToken, Notification, Team, User

NOTIFICATION_PAGE_SIZE = 25
MAX_NOTIFICATION_PAGE_SIZE = 100


def active_teams() -> list[Team]:
    return list(Team.objects.filter(is_active=True).order_by("name"))


def assignable_users(team: Team | None) -> QuerySet[User]:
    """Who may be assigned a ticket: active working staff; with a team, only its members and lead."""
    qs = User.objects.filter(is_active=True, role__in=WORKING_ROLES)
    if team is not None:
        qs = qs.filter(Q(memberships__team=team) | Q(led_teams=team))
    return qs.distinct().order_by("display_name", "username")


def api_token_list_for(user: User) -> list[ApiToken]:
    """The user's own tokens, newest first (nobody lists another person's tokens)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def team_get(team_id: int) -> Team | None:
    return Team.objects.filter(pk=team_id).first()


def active_user_get(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def teams_of(user: User) -> list[Team]:
    """Teams the user belongs to or leads, by name."""
    return list(
        Team.objects.filter(Q(memberships__user_id=user.pk) | Q(lead_id=user.pk)).distinct().order_by("name")
    )


@dataclass
class NotificationPage:
    items: list[Notification]
    page: int
    page_size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def notification_page_for(
    user: User, *, page: int = 1, page_size: int = NOTIFICATION_PAGE_SIZE
) -> NotificationPage:
    """One page of the user's own notifications, unread first, newest first within each (one query,
    with the ticket joined; no COUNT)."""
    page = max(1, page)
    page_size = max(1, min(page_size, MAX_NOTIFICATION_PAGE_SIZE))
    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    qs = (
        Notification.objects.filter(user_id=user.pk)
        .select_related("ticket")
        .order_by(unread.desc(), "-created_at", "-id")
    )
    offset = (page - 1) * page_size
    rows = list(qs[offset : offset + page_size + 1])
    return NotificationPage(rows[:page_size], page, page_size, len(rows) > page_size)


def unread_notification_count(user: User) -> int:
    """How many of the user's notifications are unread: one COUNT on notification_user_idx."""
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()
