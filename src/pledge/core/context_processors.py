"""Template context every page needs: the navigation the current user is allowed to see."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from pledge.accounts import policies as account_policies


def pledge(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "LANGUAGES": settings.LANGUAGES,
        "nav_is_staff": bool(user is not None and account_policies.is_staff_member(user)),
        "nav_is_customer": bool(user is not None and account_policies.is_customer(user)),
        "nav_is_admin": bool(user is not None and account_policies.can_use_admin(user)),
    }
