"""The API client fixtures of tests/api, for the calendar API tests."""

from tests.api.conftest import anonymous, api_as

__all__ = ["anonymous", "api_as"]
