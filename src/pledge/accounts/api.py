"""API of accounts: who am I, and my notifications (list, mark one or all read)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from pledge.accounts import selectors, services
from pledge.accounts.choices import Role
from pledge.accounts.models import Notification, User
from pledge.accounts.schemas import MeOut, NotificationOut, NotificationPage, NotificationQuery, ReadAllOut
from pledge.core.schemas import QueryId, Ref, error_responses
from pledge.customers.policies import customer_organisation_id

router = Router(tags=["me"])


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@router.get("/me", response={200: MeOut, **error_responses()}, summary="The user of the token")
def me(request: HttpRequest) -> MeOut:
    user = _user(request)
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        timezone=user.timezone,
        language=user.language,
        organisation_id=customer_organisation_id(user),
        teams=[Ref(id=team.pk, name=team.name) for team in selectors.teams_of(user)],
    )


def _notification_out(notification: Notification) -> dict[str, Any]:
    ticket = notification.ticket
    return {
        "id": notification.pk,
        "title": notification.title,
        "body": notification.body,
        "ticket": None if ticket is None else {"id": ticket.pk, "number": ticket.number},
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


@router.get(
    "/notifications",
    response={200: NotificationPage, **error_responses(422)},
    summary="My notifications",
    tags=["notifications"],
)
def notification_list(request: HttpRequest, query: Query[NotificationQuery]) -> dict[str, Any]:
    """Your own notifications (escalations of tickets you are responsible for or watch), unread first,
    one page at a time."""
    user = _user(request)
    page = selectors.notification_page_for(user, page=query.page, page_size=query.page_size)
    return {
        "items": [_notification_out(n) for n in page.items],
        "page": page.page,
        "page_size": page.page_size,
        "has_next": page.has_next,
        "unread": selectors.unread_notification_count(user),
    }


@router.post(
    "/notifications/read-all",
    response={200: ReadAllOut, **error_responses(403)},
    summary="Mark all my notifications read",
    tags=["notifications"],
)
def notification_read_all(request: HttpRequest) -> dict[str, Any]:
    return {"marked": services.notification_mark_all_read(user=_user(request))}


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **error_responses(403, 404, 422)},
    summary="Mark one of my notifications read",
    tags=["notifications"],
)
def notification_read(request: HttpRequest, notification_id: QueryId) -> dict[str, Any]:
    """Someone else's notification is 404, as if it did not exist."""
    notification = services.notification_mark_read(user=_user(request), notification_id=notification_id)
    return _notification_out(notification)
