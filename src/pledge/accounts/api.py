"""API of accounts: who am I."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from pledge.accounts import selectors
from pledge.accounts.choices import Role
from pledge.accounts.models import User
from pledge.accounts.schemas import MeOut
from pledge.core.schemas import Ref, error_responses
from pledge.customers.policies import customer_organisation_id

router = Router(tags=["me"])


@router.get("/me", response={200: MeOut, **error_responses()}, summary="The user of the token")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    assert isinstance(user, User)
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
