"""Writes for people, teams, API tokens and notifications (marking them read)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pledge.accounts.choices import STAFF_ROLES, Role, TeamKind
from pledge.accounts.models import ApiToken, Notification, Team, TeamMembership, User
from pledge.core.cache import ExpiringCache
from pledge.core.errors import NotFound, ValidationFailed

TOKEN_PREFIX = "plg_"
# last_used_at is refreshed at most this often, so authenticated reads do not all write.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    email: str = "",
    display_name: str = "",
    timezone_name: str = "Asia/Shanghai",
    language: str = "",
) -> User:
    """Create a user. Raises ValidationFailed for an unknown role, time zone or a taken username."""
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), fields={"role": _("Unknown role.")})
    user_validate_preferences(timezone_name=timezone_name, language=language)
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(
            _("This username is taken."), fields={"username": _("This username is taken.")}
        )
    user = User(
        username=username,
        email=email,
        role=role,
        display_name=display_name,
        timezone=timezone_name,
        language=language,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def user_validate_preferences(*, timezone_name: str, language: str) -> None:
    try:
        zoneinfo.ZoneInfo(timezone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            _("Unknown time zone."), fields={"timezone": _("Unknown time zone.")}
        ) from None
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationFailed(_("Unknown language."), fields={"language": _("Unknown language.")})


@transaction.atomic
def user_set_preferences(
    *, user: User, timezone_name: str | None = None, language: str | None = None
) -> User:
    """Change a user's own time zone and/or language."""
    new_tz = user.timezone if timezone_name is None else timezone_name
    new_lang = user.language if language is None else language
    user_validate_preferences(timezone_name=new_tz, language=new_lang)
    user.timezone, user.language = new_tz, new_lang
    user.save(update_fields=["timezone", "language"])
    return user


@transaction.atomic
def user_reactivate_with_password_hash(*, user: User, password_hash: str) -> User:
    """Activate a user and give them an already hashed password (`make_password`): lets a loader
    that resets many accounts hash one password once."""
    user.password = password_hash
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return user


@transaction.atomic
def team_create(*, name: str, kind: str = TeamKind.FRONTLINE, lead: User | None = None) -> Team:
    if kind not in TeamKind.values:
        raise ValidationFailed(_("Unknown team kind."), fields={"kind": _("Unknown team kind.")})
    team = Team.objects.create(name=name, kind=kind, lead=lead)
    if lead is not None:
        team_add_member(team=team, user=lead)
    return team


@transaction.atomic
def team_add_member(*, team: Team, user: User) -> TeamMembership:
    if user.role not in STAFF_ROLES:
        raise ValidationFailed(
            _("Only staff can be team members."), fields={"user": _("Not a staff member.")}
        )
    membership, _created = TeamMembership.objects.get_or_create(team=team, user=user)
    return membership


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; returns it with the plain secret, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Give the token a name."), fields={"name": _("This field is required.")})
    if len(name) > 100:
        raise ValidationFailed(_("The name is too long."), fields={"name": _("At most 100 characters.")})
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=_digest(secret))
    return token, secret


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    transaction.on_commit(api_token_cache_clear)
    return token


# Verified tokens are remembered per process for a few seconds, so a busy integration does not pay a
# database round trip on every call. The price: a revoked token (or a deactivated user) keeps working
# for at most settings.API_TOKEN_CACHE_SECONDS in processes that verified it recently (0: no cache).
_token_users: ExpiringCache[str, User] = ExpiringCache()


def api_token_authenticate(secret: str) -> User | None:
    """The active user owning this token secret, or None. Touches last_used_at at most once a minute."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    digest = _digest(secret)
    ttl = settings.API_TOKEN_CACHE_SECONDS
    if ttl > 0:
        cached = _token_users.get(digest)
        if cached is not None:
            return cached
    prefix = secret[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.digest, digest):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    _token_users.put(digest, token.user, ttl)
    return token.user


def api_token_cache_clear() -> None:
    _token_users.clear()


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int, at: datetime | None = None) -> Notification:
    """Mark one of the user's own notifications read (a read one keeps its first read time).

    Raises NotFound for a notification that does not exist or belongs to someone else."""
    notification = (
        Notification.objects.select_for_update().filter(pk=notification_id, user_id=user.pk).first()
    )
    if notification is None:
        raise NotFound(_("No such notification."))
    if notification.read_at is None:
        notification.read_at = at or timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: User, at: datetime | None = None) -> int:
    """Mark every unread notification of the user read; returns how many were unread."""
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).update(
        read_at=at or timezone.now()
    )
