"""Reads of people, teams and tokens."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from pledge.accounts.choices import WORKING_ROLES
from pledge.accounts.models import ApiToken, Team, User


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
