"""API schemas of customer organisations, contacts and assets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from pledge.core.schemas import BodyId, Day, PageQuery, QueryId, Ref, Text
from pledge.customers.choices import Industry, Tier


def _email(value: str) -> str:
    if value.strip():
        try:
            validate_email(value.strip())
        except DjangoValidationError:
            raise PydanticCustomError("email", _("Enter a valid email address.")) from None
    return value


class CustomerListQuery(PageQuery):
    organisation_id: QueryId | None = None
    q: Annotated[Text, Field(max_length=200, description="Text to look for in names and numbers.")] = ""


class OrganisationOut(Schema):
    id: int
    name: str
    tier: Tier
    industry: Industry
    region: str
    is_active: bool
    created_at: datetime


class OrganisationIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    tier: Tier = Tier.STANDARD
    industry: Industry = Industry.OTHER
    region: Annotated[Text, Field(max_length=100)] = ""


class OrganisationPage(Schema):
    items: list[OrganisationOut]
    page: int
    page_size: int
    has_next: bool


class ContactOut(Schema):
    id: int
    organisation: Ref
    name: str
    email: str
    phone: str
    job_title: str
    is_active: bool
    has_portal_login: bool

    @staticmethod
    def resolve_has_portal_login(obj: Any) -> bool:
        return obj.user_id is not None


class ContactIn(Schema):
    organisation_id: BodyId
    name: Annotated[Text, Field(min_length=1, max_length=150)]
    email: Annotated[Text, Field(max_length=254), AfterValidator(_email)] = ""
    phone: Annotated[Text, Field(max_length=40)] = ""
    job_title: Annotated[Text, Field(max_length=100)] = ""


class ContactPage(Schema):
    items: list[ContactOut]
    page: int
    page_size: int
    has_next: bool


class AssetOut(Schema):
    id: int
    organisation: Ref
    model: str
    serial_number: str
    site: str
    install_date: date | None
    warranty_end: date | None


class AssetIn(Schema):
    organisation_id: BodyId
    model: Annotated[Text, Field(min_length=1, max_length=120)]
    serial_number: Annotated[Text, Field(min_length=1, max_length=80)]
    site: Annotated[Text, Field(max_length=200)] = ""
    install_date: Day | None = None
    warranty_end: Day | None = None


class AssetPage(Schema):
    items: list[AssetOut]
    page: int
    page_size: int
    has_next: bool
