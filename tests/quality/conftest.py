from tests.api.conftest import api_as  # noqa: F401  (the JSON API client fixture)
