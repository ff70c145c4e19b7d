"""Customer selectors: the short-lived organisation copies used on the ticket-create hot path."""

from __future__ import annotations

import pytest

from pledge.core.errors import NotFound
from pledge.customers import selectors
from tests.conftest import World


def test_staff_lookup_is_reused_for_a_few_seconds_and_is_a_fresh_copy(
    world: World, settings, django_assert_num_queries
) -> None:
    settings.REFERENCE_CACHE_SECONDS = 30
    selectors.organisation_cache_clear()
    first = selectors.organisation_get_recent_for(world.agent, world.org_a.pk)
    with django_assert_num_queries(0):
        second = selectors.organisation_get_recent_for(world.manager, world.org_a.pk)
    assert first.pk == second.pk == world.org_a.pk and first is not second
    assert second.name == "Org A Machining" and second._state.adding is False
    selectors.organisation_cache_clear()


def test_customers_never_read_the_copies(world: World, settings, django_assert_num_queries) -> None:
    settings.REFERENCE_CACHE_SECONDS = 30
    selectors.organisation_cache_clear()
    selectors.organisation_get_recent_for(world.agent, world.org_b.pk)
    with pytest.raises(NotFound):
        selectors.organisation_get_recent_for(world.customer_a, world.org_b.pk)
    assert selectors.organisation_get_recent_for(world.customer_a, world.org_a.pk).pk == world.org_a.pk
    selectors.organisation_cache_clear()


def test_zero_seconds_always_reads(world: World, settings, django_assert_num_queries) -> None:
    settings.REFERENCE_CACHE_SECONDS = 0
    selectors.organisation_get_recent_for(world.agent, world.org_a.pk)
    with django_assert_num_queries(1):
        selectors.organisation_get_recent_for(world.agent, world.org_a.pk)
