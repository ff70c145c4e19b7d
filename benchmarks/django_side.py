"""The benchmark's steps that run inside Django, against the database in DATABASE_URL.

    .venv/bin/python benchmarks/django_side.py setup                 # JSON: tokens, session cookies, ids
    .venv/bin/python benchmarks/django_side.py querycount SPEC.json  # JSON: queries per request

`run.py` calls these in subprocesses (Django reads its settings once per process, and the benchmark
moves between several databases).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pledge.config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from pledge.accounts.models import TeamMembership, User  # noqa: E402
from pledge.accounts.services import api_token_create  # noqa: E402
from pledge.customers.models import Organisation  # noqa: E402
from pledge.tickets.choices import OPEN_STATUSES  # noqa: E402
from pledge.tickets.models import Ticket  # noqa: E402


def _session_cookie(user: User) -> str:
    """A logged-in session for `user`, stored in the session table the server reads."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    assert store.session_key is not None
    return store.session_key


def _personas() -> tuple[User, User]:
    """The service manager and the agent whose views are measured: the first of each role that the
    generator made (an agent in the busiest team)."""
    manager = User.objects.filter(role="service_manager", is_active=True).order_by("id").first()
    if manager is None:
        raise SystemExit("No service manager in this database: run benchmarks/generate.py first.")
    agent_id = (
        TeamMembership.objects.filter(user__role="agent", user__is_active=True)
        .order_by("team_id", "user_id")
        .values_list("user_id", flat=True)
        .first()
    )
    if agent_id is None:
        raise SystemExit("No agent with a team in this database: run benchmarks/generate.py first.")
    return manager, User.objects.get(pk=agent_id)


def setup() -> dict[str, Any]:
    vendor = connection.vendor
    ddl = (
        "CREATE TABLE IF NOT EXISTS bench_bare (id bigserial primary key)"
        if vendor == "postgresql"
        else "CREATE TABLE IF NOT EXISTS bench_bare (id integer primary key autoincrement)"
    )
    with connection.cursor() as cursor:
        cursor.execute(ddl)
    manager, agent = _personas()
    _token, agent_secret = api_token_create(user=agent, name="benchmark")
    _token, manager_secret = api_token_create(user=manager, name="benchmark")
    org_ids = list(
        Organisation.objects.filter(is_active=True).order_by("id").values_list("id", flat=True)[:50]
    )
    open_mine = Ticket.objects.filter(assignee=agent, status__in=OPEN_STATUSES).count()
    return {
        "vendor": vendor,
        "manager": {"id": manager.pk, "username": manager.username},
        "agent": {"id": agent.pk, "username": agent.username, "open_assigned": open_mine},
        "agent_token": agent_secret,
        "manager_token": manager_secret,
        "manager_session": _session_cookie(manager),
        "agent_session": _session_cookie(agent),
        "organisation_ids": org_ids,
        "tickets": Ticket.objects.count(),
    }


def querycount(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """For each scenario and page size: status, number of SQL queries and the slowest one.

    spec = {"scenarios": [{"name", "path", "as": "manager"|"agent", "kind": "page"|"api"}],
            "page_sizes": [25, 100], "page_size_param": "page_size", "tokens": {...}}
    """
    manager, agent = _personas()
    users = {"manager": manager, "agent": agent}
    results = []
    for scenario in spec["scenarios"]:
        user = users[scenario["as"]]
        client = Client()
        headers: dict[str, str] = {}
        if scenario["kind"] == "page":
            client.force_login(user)
        else:
            headers["Authorization"] = f"Bearer {spec['tokens'][scenario['as']]}"
        for size in spec["page_sizes"]:
            sep = "&" if "?" in scenario["path"] else "?"
            path = f"{scenario['path']}{sep}{spec['page_size_param']}={size}"
            client.get(path, headers=headers)  # warm caches (translations, templates, the token touch)
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get(path, headers=headers)
                elapsed = time.perf_counter() - t0
            queries = ctx.captured_queries
            slowest = max(queries, key=lambda q: float(q.get("time") or 0), default=None)
            rows = None
            if scenario["kind"] == "api" and response.status_code == 200:
                body = json.loads(response.content)
                items = body.get("items", body if isinstance(body, list) else None)
                rows = len(items) if isinstance(items, list) else None
            results.append(
                {
                    "name": scenario["name"],
                    "path": path,
                    "page_size": size,
                    "status": response.status_code,
                    "queries": len(queries),
                    "items": rows,
                    "in_process_ms": round(elapsed * 1000, 1),
                    "slowest_query_ms": round(float(slowest["time"]) * 1000, 1) if slowest else None,
                    "slowest_query": slowest["sql"] if slowest else None,
                    "sql": [q["sql"][:300] for q in queries],
                }
            )
    return results


def explain(sql: str) -> str:
    """EXPLAIN ANALYZE of one captured query (PostgreSQL), for the diagnosis of a slow page."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(str(row[0]) for row in cursor.fetchall())


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    command = argv[0]
    if command == "setup":
        print(json.dumps(setup()))
    elif command == "querycount":
        with open(argv[1], encoding="utf-8") as fh:
            spec = json.load(fh)
        print(json.dumps(querycount(spec)))
    elif command == "explain":
        with open(argv[1], encoding="utf-8") as fh:
            print(explain(fh.read()))
    else:
        print(
            f"unknown command {command}; settings: {settings.DATABASES['default']['ENGINE']}", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
