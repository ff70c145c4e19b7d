"""Twenty concurrent retries of one create with the same Idempotency-Key, over real HTTP against a live
server, make exactly one ticket (PostgreSQL: real concurrent transactions)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from pledge.core.models import IdempotencyKey
from pledge.tickets.models import Ticket, TicketEvent
from tests.api.conftest import token_for
from tests.conftest import World

CLIENTS = 20


@pytest.mark.postgres
def test_twenty_concurrent_retries_make_one_ticket(
    world: World, transactional_db: None, live_server: Any
) -> None:
    token = token_for(world.customer_a)
    body = json.dumps({"subject": "Boiler pressure alarm", "kind": "fault", "priority": "P1"}).encode()
    barrier = threading.Barrier(CLIENTS)
    results: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def retry() -> None:
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/tickets",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": "boiler-2026-03-01",
            },
        )
        barrier.wait(timeout=30)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                outcome = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            outcome = (error.code, json.loads(error.read()))
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=retry) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == CLIENTS
    statuses = sorted(status for status, _ in results)
    assert set(statuses) <= {200, 201}, results
    assert statuses.count(201) == 1, statuses
    assert len({reply["id"] for _, reply in results}) == 1
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.filter(kind="created").count() == 1
    assert IdempotencyKey.objects.count() == 1
