"""The API kit every router shares: the error body, bounded ids, text that PostgreSQL can store,
instants with an offset, and the page envelope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

# Primary keys are 64-bit: anything larger can name no row and would overflow the database driver.
MAX_ID = 2**63 - 1
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 100


def _storable_text(value: str) -> str:
    """PostgreSQL rejects NUL characters and both databases reject lone surrogates: refuse them here."""
    if "\x00" in value:
        raise PydanticCustomError("nul_character", _("Must not contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("invalid_unicode", _("Must be valid Unicode text.")) from None
    return value


def _instant(value: object) -> datetime:
    """An ISO 8601 date and time with an offset that still exists in UTC (so no database adapter
    overflows). Numbers are refused: pydantic would read them as Unix timestamps."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().upper())
        except ValueError:
            raise PydanticCustomError(
                "instant", _("Enter a date and time in ISO 8601, e.g. 2026-03-01T08:00:00+08:00.")
            ) from None
    if not isinstance(value, datetime):
        raise PydanticCustomError(
            "instant", _("Enter a date and time in ISO 8601, e.g. 2026-03-01T08:00:00+08:00.")
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError("instant_naive", _("Give the time zone offset, e.g. +08:00 or Z."))
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("instant_out_of_range", _("Out of range.")) from None


def _day(value: object) -> date:
    """A calendar day as ISO 8601 text (`2026-03-01`); numbers are refused rather than read as timestamps."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PydanticCustomError("day", _("Enter a date in ISO 8601, e.g. 2026-03-01."))


# A string that both databases can store; add a max_length where it is used.
Text = Annotated[str, AfterValidator(_storable_text)]
# An id in a query string or path (parsed from text, so lax) or a JSON body (a real integer, not true/1.0).
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Strict(), Field(ge=1, le=2**31 - 1)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
Day = Annotated[date, BeforeValidator(_day)]
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)]


class FieldErrorOut(Schema):
    field: str = Field(description="The request field, e.g. `subject` or `tags.2`; `request` for the whole.")
    message: str


class ErrorOut(Schema):
    """Every error response: a message for people and the fields it concerns."""

    message: str
    errors: list[FieldErrorOut]


def error_responses(*codes: int) -> dict[int, Any]:
    """The documented error responses of an operation (401 is added: every operation needs a token)."""
    return {code: ErrorOut for code in sorted({401, *codes})}


class PageQuery(Schema):
    page: PageNumber = 1
    page_size: PageSize = 25


class Ref(Schema):
    """A related object (organisation, contact, team, user) named by id and name."""

    id: int
    name: str
