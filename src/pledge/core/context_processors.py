"""Template context every page needs: the navigation the current user is allowed to see, and the
staff's unread notification count for the nav badge."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from pledge.accounts import policies as account_policies
from pledge.quality import policies as quality_policies


class _UnreadCount:
    """Counts the user's unread notifications when a template first asks (templates call callables),
    then remembers: one COUNT on a page that shows the nav, none on a partial that does not."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.value: int | None = None

    def __call__(self) -> int:
        if self.value is None:
            from pledge.accounts.selectors import unread_notification_count

            self.value = unread_notification_count(self.user)
        return self.value


def pledge(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    is_staff = bool(user is not None and account_policies.is_staff_member(user))
    return {
        "LANGUAGES": settings.LANGUAGES,
        "nav_is_staff": is_staff,
        "nav_is_customer": bool(user is not None and account_policies.is_customer(user)),
        "nav_is_admin": bool(user is not None and account_policies.can_use_admin(user)),
        "nav_kpis": bool(user is not None and quality_policies.can_view_kpis(user)),
        "nav_unread_notifications": _UnreadCount(user) if is_staff else 0,
    }
