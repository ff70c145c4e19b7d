"""Generate a realistic Pledge database of N tickets for the benchmarks.

    .venv/bin/python benchmarks/generate.py --tickets 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/pledge_bench_1m --reset

Runs `pledge migrate` first, then loads organisations, contacts, assets, teams, users and N tickets
spread over six months with their event log (a `created` event each, status events for every ticket
that moved, a public reply for part of them). PostgreSQL is loaded with COPY, SQLite with batched
executemany; secondary indexes are dropped during the load and rebuilt after it, then ANALYZE.
The same --seed and --now give the same database.

Shape of the data (N = tickets):
- organisations: max(20, N/500), 3 contacts each (one with a portal login), 1–8 assets each;
- 12 teams (6 frontline, 4 field, 2 back-office), each with a team lead; max(24, N/8000) agents,
  3 service managers, 2 QA inspectors, 1 administrator;
- created_at over the 182 days before --now, weighted to working hours and weekdays;
- ~12% of tickets open (more among recent ones), the rest resolved or closed; priorities P1 5%,
  P2 15%, P3 55%, P4 25%; ~90% of tickets have a team, most non-new ones an assignee.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PLEDGE = ROOT / ".venv" / "bin" / "pledge"

DAY = 86400.0
SPAN_DAYS = 182
CHUNK = 50_000


def _cols(names: str) -> tuple[str, ...]:
    return tuple(names.split())


# Columns written for each table, in COPY / INSERT order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts_user": _cols(
        "id password last_login is_superuser username first_name last_name email is_staff is_active "
        "date_joined role display_name timezone language"
    ),
    "accounts_team": _cols("id name kind is_active lead_id"),
    "accounts_teammembership": _cols("id joined_at team_id user_id"),
    "customers_organisation": _cols("id name tier industry region is_active created_at"),
    "customers_contact": _cols("id name email phone job_title is_active user_id organisation_id"),
    "customers_asset": _cols("id model serial_number site install_date warranty_end organisation_id"),
    "tickets_ticket": _cols(
        "id kind channel priority status subject description created_at updated_at "
        "first_response_at resolved_at closed_at version asset_id assignee_id contact_id "
        "created_by_id organisation_id team_id"
    ),
    "tickets_message": _cols("id body is_internal from_customer channel created_at author_id ticket_id"),
    "tickets_ticketevent": _cols(
        "id kind field old_value new_value data created_at actor_id message_id ticket_id"
    ),
}
LOADED_TABLES = tuple(COLUMNS)

# --- vocabulary ------------------------------------------------------------------------------------

REGIONS = ["华东 East", "华北 North", "华南 South", "西南 Southwest", "华中 Central", "东北 Northeast"]
INDUSTRIES = [
    "manufacturing",
    "energy",
    "chemicals",
    "food",
    "pharma",
    "automotive",
    "electronics",
    "logistics",
    "other",
]
TIERS = (["standard", "silver", "gold", "platinum"], [55, 25, 15, 5])
ORG_WORDS = [
    "Huaxin",
    "Jinlong",
    "Minghua",
    "Tianyu",
    "Hengtai",
    "Changjiang",
    "Zhongke",
    "Xinghe",
    "Ruifeng",
    "Baosheng",
    "Haitong",
    "Dongfang",
    "Shenglong",
    "Yuanda",
    "Kaiyuan",
    "Lianfa",
]
ORG_KINDS = ["Precision", "Chemical", "Foods", "Power", "Auto Parts", "Electronics", "Logistics", "Pharma"]
CITIES = ["Shanghai", "Suzhou", "Hangzhou", "Ningbo", "Tianjin", "Shenzhen", "Wuhan", "Chengdu", "Qingdao"]
MODELS = [
    "CNC-5X 800",
    "Laser LX-3000",
    "Press HP-250",
    "Robot Arm RA-6",
    "Chiller CW-40",
    "Compressor AC-75",
]
SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Ma"]
GIVEN = ["Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Tao", "Hui", "Ping", "Qiang", "Na", "Bo", "Xin"]
JOB_TITLES = ["Plant manager", "Maintenance lead", "Purchasing", "EHS officer", "Production engineer"]

TEAMS: list[tuple[str, str, int]] = [  # name, kind, share of tickets (weight)
    ("Frontline East", "frontline", 18),
    ("Frontline North", "frontline", 14),
    ("Frontline South", "frontline", 14),
    ("Frontline West", "frontline", 8),
    ("Frontline Central", "frontline", 8),
    ("Frontline Key Accounts", "frontline", 6),
    ("Field East", "field", 8),
    ("Field North", "field", 6),
    ("Field South", "field", 6),
    ("Field West", "field", 4),
    ("Technical Support", "back_office", 5),
    ("Parts and Logistics", "back_office", 3),
]

KINDS = (["request", "fault", "inquiry", "complaint", "suggestion", "field_visit"], [35, 30, 15, 8, 4, 8])
CHANNELS = (["portal", "email", "phone", "api", "on_site"], [40, 25, 25, 5, 5])
PRIORITIES = (["P1", "P2", "P3", "P4"], [5, 15, 55, 25])
OPEN_MIX = (
    ["new", "acknowledged", "in_progress", "waiting_customer", "waiting_parts", "waiting_back_office"],
    [18, 15, 35, 15, 11, 6],
)
PROBLEMS_EN = [
    "spindle overheating",
    "alarm E-{n} on start-up",
    "coolant leak at the pump",
    "abnormal vibration",
    "calibration drift",
    "request for preventive maintenance",
    "spare parts quotation",
    "operator training request",
    "firmware update question",
    "noise from the gearbox",
    "pressure drop",
    "display not responding",
]
PROBLEMS_ZH = [
    "主轴过热",
    "开机报警 E-{n}",
    "水泵冷却液泄漏",
    "振动异常",
    "校准偏差",
    "申请预防性维护",
    "备件报价",
    "操作培训申请",
    "固件升级咨询",
    "齿轮箱异响",
    "压力下降",
    "显示屏无响应",
]
REPLIES = [
    "Thank you, we are looking into it and will update you shortly.",
    "An engineer has been scheduled; we will confirm the visit time.",
    "Please send a photo of the alarm screen and the machine's serial number.",
    "您好，我们已收到您的问题，工程师会尽快与您联系。",
    "备件已安排发货，预计三个工作日内到达。",
]


# --- database access ---------------------------------------------------------------------------------


@dataclass
class Target:
    url: str
    engine: str  # "postgres" or "sqlite"
    path: str = ""  # SQLite file
    dbname: str = ""  # PostgreSQL database
    conninfo: str = ""  # PostgreSQL conninfo of that database
    admin_conninfo: str = ""  # PostgreSQL conninfo of the `postgres` database


def parse_target(url: str) -> Target:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise SystemExit("DATABASE_URL must be sqlite:////absolute/path or postgres://…")
        return Target(url=url, engine="sqlite", path="/" + path.lstrip("/"))
    if parsed.scheme in ("postgres", "postgresql"):
        dbname = parsed.path.lstrip("/")
        if not dbname:
            raise SystemExit("The PostgreSQL DATABASE_URL must name a database.")
        conninfo = url.replace("postgres://", "postgresql://", 1)
        admin = conninfo.rsplit("/", 1)[0] + "/postgres"
        return Target(url=url, engine="postgres", dbname=dbname, conninfo=conninfo, admin_conninfo=admin)
    raise SystemExit(f"Unsupported DATABASE_URL: {url}")


def reset_database(target: Target) -> None:
    if target.engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(target.path + suffix).unlink(missing_ok=True)
        Path(target.path).parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(target.admin_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.dbname)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.dbname)))


def ensure_database(target: Target) -> None:
    if target.engine == "sqlite":
        Path(target.path).parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(target.admin_conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.dbname)))


def migrate(target: Target, data_dir: str) -> None:
    env = {**os.environ, "DATABASE_URL": target.url, "PLEDGE_DATA_DIR": data_dir}
    subprocess.run([str(PLEDGE), "migrate", "-v0", "--no-input"], check=True, env=env, cwd=ROOT)


class Loader:
    """Writes rows into one database; drops secondary indexes while loading and rebuilds them."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.saved_indexes: list[tuple[str, str]] = []
        self.rows = 0
        if target.engine == "postgres":
            import psycopg

            self.pg = psycopg.connect(target.conninfo)
            self.pg.execute("SET maintenance_work_mem = '512MB'")
            # Generated rows reference each other consistently; skip per-row FK triggers while loading.
            self.pg.execute("SET session_replication_role = replica")
            self.pg.execute("SET synchronous_commit = off")
        else:
            self.lite = sqlite3.connect(target.path, isolation_level=None)
            self.lite.execute("PRAGMA journal_mode=WAL")
            self.lite.execute("PRAGMA synchronous=OFF")
            self.lite.execute("PRAGMA foreign_keys=OFF")
            self.lite.execute("PRAGMA cache_size=-200000")

    def count(self, table: str) -> int:
        return self.scalar(f"SELECT count(*) FROM {table}")

    def scalar(self, query: str) -> int:
        if self.target.engine == "postgres":
            row = self.pg.execute(query).fetchone()
            self.pg.commit()
        else:
            row = self.lite.execute(query).fetchone()
        return int(row[0] or 0) if row else 0

    def next_id(self, table: str) -> int:
        return self.scalar(f"SELECT max(id) FROM {table}") + 1

    def drop_indexes(self) -> None:
        if self.target.engine == "postgres":
            rows = self.pg.execute(
                """
                SELECT i.relname, pg_get_indexdef(i.oid)
                FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                JOIN pg_class t ON t.oid = x.indrelid
                WHERE t.relname = ANY(%s)
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                """,
                (list(LOADED_TABLES),),
            ).fetchall()
            self.saved_indexes = [(str(name), str(ddl)) for name, ddl in rows]
            for name, _ddl in self.saved_indexes:
                self.pg.execute(f'DROP INDEX "{name}"')
            self.pg.commit()
        else:
            marks = ",".join("?" for _ in LOADED_TABLES)
            rows = self.lite.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks})",
                LOADED_TABLES,
            ).fetchall()
            self.saved_indexes = [(str(name), str(ddl)) for name, ddl in rows]
            for name, _ddl in self.saved_indexes:
                self.lite.execute(f'DROP INDEX "{name}"')

    def rebuild_indexes(self) -> None:
        for _name, ddl in self.saved_indexes:
            if self.target.engine == "postgres":
                self.pg.execute(ddl)
                self.pg.commit()
            else:
                self.lite.execute(ddl)
        self.saved_indexes = []

    def write(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cols = COLUMNS[table]
        if self.target.engine == "postgres":
            with self.pg.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in cols)
            self.lite.execute("BEGIN")
            self.lite.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
            self.lite.execute("COMMIT")
        self.rows += len(rows)

    def commit(self) -> None:
        if self.target.engine == "postgres":
            self.pg.commit()

    def finish(self) -> None:
        if self.target.engine == "postgres":
            self.pg.commit()
            for table in LOADED_TABLES:
                self.pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            self.pg.commit()
            self.pg.autocommit = True
            self.pg.execute("SET session_replication_role = origin")
            self.pg.execute("VACUUM (ANALYZE)")
            self.pg.close()
        else:
            self.lite.execute("ANALYZE")
            self.lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.lite.close()


# --- generation -----------------------------------------------------------------------------------------


def _cum(weights: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


@dataclass
class Cast:
    """The people and places tickets refer to."""

    org_ids: list[int] = field(default_factory=list)
    org_weights: list[float] = field(default_factory=list)
    contacts_by_org: dict[int, list[int]] = field(default_factory=dict)
    assets_by_org: dict[int, list[int]] = field(default_factory=dict)
    models_by_asset: dict[int, str] = field(default_factory=dict)
    team_ids: list[int] = field(default_factory=list)
    team_kind: dict[int, str] = field(default_factory=dict)
    team_weights: list[float] = field(default_factory=list)
    members_by_team: dict[int, list[int]] = field(default_factory=dict)
    staff_ids: list[int] = field(default_factory=list)
    customer_user_by_org: dict[int, int] = field(default_factory=dict)


def fmt_ts(epoch: float, pg: bool) -> str:
    text = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return text + "+00" if pg else text


def make_cast(rng: random.Random, loader: Loader, n_tickets: int, now: float) -> Cast:
    pg = loader.target.engine == "postgres"
    yes: Any = True if pg else 1
    no: Any = False if pg else 0
    cast = Cast()
    joined = fmt_ts(now - 400 * DAY, pg)
    n_orgs = max(20, n_tickets // 500)
    n_agents = max(24, n_tickets // 8000)
    user_id = loader.next_id("accounts_user")
    users: list[tuple[Any, ...]] = []

    def add_user(username: str, role: str, display: str, email: str) -> int:
        nonlocal user_id
        uid = user_id
        user_id += 1
        admin = role == "admin"
        users.append(
            (
                uid,
                "!bench-unusable-password",
                None,
                yes if admin else no,
                username,
                "",
                "",
                email,
                yes if admin else no,
                yes,
                joined,
                role,
                display,
                "Asia/Shanghai",
                "",
            )
        )
        return uid

    def person() -> str:
        return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"

    # Staff.
    for i in range(3):
        cast.staff_ids.append(add_user(f"bench-manager-{i + 1}", "service_manager", person(), ""))
    for i in range(2):
        add_user(f"bench-qa-{i + 1}", "qa_inspector", person(), "")
    add_user("bench-admin", "admin", "Administrator", "")
    team_id = loader.next_id("accounts_team")
    teams: list[tuple[Any, ...]] = []
    memberships: list[tuple[Any, ...]] = []
    membership_id = loader.next_id("accounts_teammembership")
    leads: dict[int, int] = {}
    for name, kind, weight in TEAMS:
        tid = team_id
        team_id += 1
        lead = add_user(f"bench-lead-{tid}", "team_lead", person(), "")
        leads[tid] = lead
        teams.append((tid, name, kind, yes, lead))
        cast.team_ids.append(tid)
        cast.team_kind[tid] = kind
        cast.team_weights.append(weight)
        cast.members_by_team[tid] = [lead]
        cast.staff_ids.append(lead)
    # Agents are spread over teams in proportion to the teams' load; one in eight joins a second team.
    team_cum = _cum(cast.team_weights)
    for i in range(n_agents):
        uid = add_user(f"bench-agent-{i + 1:04d}", "agent", person(), "")
        cast.staff_ids.append(uid)
        home = cast.team_ids[i % len(cast.team_ids)] if i < len(cast.team_ids) else None
        if home is None:
            home = rng.choices(cast.team_ids, cum_weights=team_cum)[0]
        cast.members_by_team[home].append(uid)
        if rng.random() < 0.125:
            other = rng.choice(cast.team_ids)
            if other != home:
                cast.members_by_team[other].append(uid)
    for tid, members in cast.members_by_team.items():
        for uid in members:
            memberships.append((membership_id, joined, tid, uid))
            membership_id += 1

    # Customers.
    org_id = loader.next_id("customers_organisation")
    contact_id = loader.next_id("customers_contact")
    asset_id = loader.next_id("customers_asset")
    orgs: list[tuple[Any, ...]] = []
    contacts: list[tuple[Any, ...]] = []
    assets: list[tuple[Any, ...]] = []
    tier_cum = _cum(TIERS[1])
    for i in range(n_orgs):
        oid = org_id
        org_id += 1
        name = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_KINDS)} {rng.choice(CITIES)} #{i + 1}"
        tier = rng.choices(TIERS[0], cum_weights=tier_cum)[0]
        orgs.append((oid, name, tier, rng.choice(INDUSTRIES), rng.choice(REGIONS), yes, joined))
        cast.org_ids.append(oid)
        # A few big customers raise most tickets (Pareto-like weights).
        cast.org_weights.append(1.0 / (1 + (i % 97)) ** 0.8)
        cast.contacts_by_org[oid] = []
        for j in range(3):
            login = None
            if j == 0:
                login = add_user(f"bench-customer-{oid}", "customer", person(), f"c{oid}@example.com")
                cast.customer_user_by_org[oid] = login
            contacts.append(
                (
                    contact_id,
                    person(),
                    f"contact{contact_id}@example.com",
                    f"+86 21 5{contact_id % 10_000_000:07d}",
                    rng.choice(JOB_TITLES),
                    yes,
                    login,
                    oid,
                )
            )
            cast.contacts_by_org[oid].append(contact_id)
            contact_id += 1
        cast.assets_by_org[oid] = []
        for _ in range(rng.randint(1, 8)):
            model = rng.choice(MODELS)
            installed = datetime.fromtimestamp(now - rng.uniform(200, 2500) * DAY, UTC).date()
            assets.append(
                (
                    asset_id,
                    model,
                    f"SN-{asset_id:08d}",
                    f"{rng.choice(CITIES)} plant {rng.randint(1, 5)}",
                    installed.isoformat(),
                    (installed + timedelta(days=730)).isoformat(),
                    oid,
                )
            )
            cast.assets_by_org[oid].append(asset_id)
            cast.models_by_asset[asset_id] = model
            asset_id += 1
    loader.write("accounts_user", users)
    loader.write("accounts_team", teams)
    loader.write("accounts_teammembership", memberships)
    loader.write("customers_organisation", orgs)
    loader.write("customers_contact", contacts)
    loader.write("customers_asset", assets)
    loader.commit()
    return cast


def creation_times(rng: random.Random, n: int, now: float) -> list[float]:
    """N creation times over SPAN_DAYS before `now`, sorted; weekdays and working hours (UTC+8) weigh more."""
    start = now - SPAN_DAYS * DAY
    day_weights = []
    for d in range(SPAN_DAYS):
        weekday = datetime.fromtimestamp(start + d * DAY, UTC).weekday()
        # Slow growth over the half year, quieter weekends.
        day_weights.append((0.8 + 0.4 * d / SPAN_DAYS) * (0.35 if weekday >= 5 else 1.0))
    # Hour weights in China time (UTC+8): 08–18 busy.
    hour_weights_cn = [1, 1, 1, 1, 1, 1, 2, 4, 9, 12, 12, 11, 8, 10, 12, 12, 11, 9, 6, 4, 3, 2, 2, 1]
    hour_weights_utc = [hour_weights_cn[(h + 8) % 24] for h in range(24)]
    day_cum, hour_cum = _cum(day_weights), _cum(hour_weights_utc)
    days = rng.choices(range(SPAN_DAYS), cum_weights=day_cum, k=n)
    hours = rng.choices(range(24), cum_weights=hour_cum, k=n)
    times = [start + d * DAY + h * 3600 + rng.random() * 3600 for d, h in zip(days, hours, strict=True)]
    times.sort()
    return [min(t, now - 60) for t in times]


@dataclass
class Counters:
    ticket: int
    message: int
    event: int


def ticket_rows(
    rng: random.Random, cast: Cast, times: list[float], first: int, counters: Counters, now: float, pg: bool
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows of tickets, messages and events for the tickets created at `times`."""
    no: Any = False if pg else 0
    n = len(times)
    kinds = rng.choices(KINDS[0], cum_weights=_cum(KINDS[1]), k=n)
    channels = rng.choices(CHANNELS[0], cum_weights=_cum(CHANNELS[1]), k=n)
    priorities = rng.choices(PRIORITIES[0], cum_weights=_cum(PRIORITIES[1]), k=n)
    orgs = rng.choices(cast.org_ids, cum_weights=_cum(cast.org_weights), k=n)
    team_cum = _cum(cast.team_weights)
    field_teams = [t for t in cast.team_ids if cast.team_kind[t] == "field"]
    open_cum = _cum(OPEN_MIX[1])
    tickets: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []

    def event(
        tid: int,
        actor: int | None,
        kind: str,
        at: float,
        old: str = "",
        new: str = "",
        msg: int | None = None,
        data: str = "{}",
    ) -> None:
        fld = "status" if kind == "status" else ""
        events.append((counters.event, kind, fld, old, new, data, fmt_ts(at, pg), actor, msg, tid))
        counters.event += 1

    for i in range(n):
        tid = first + i
        created = times[i]
        age = now - created
        kind, channel, priority, org = kinds[i], channels[i], priorities[i], orgs[i]
        p_open = 0.8 if age < 7 * DAY else 0.4 if age < 30 * DAY else 0.06
        if rng.random() < p_open:
            status = rng.choices(OPEN_MIX[0], cum_weights=open_cum)[0]
        elif (age < 14 * DAY and rng.random() < 0.45) or rng.random() < 0.03:
            status = "resolved"
        else:
            status = "closed"
        # Team: field visits go to a field team; new tickets are often still in the triage pool.
        team: int | None
        if status == "new" and rng.random() < 0.6:
            team = None
        elif kind == "field_visit":
            team = rng.choice(field_teams)
        elif rng.random() < 0.05:
            team = None
        else:
            team = rng.choices(cast.team_ids, cum_weights=team_cum)[0]
        assignee = None
        if team is not None and (status != "new" or rng.random() < 0.3) and rng.random() < 0.92:
            assignee = rng.choice(cast.members_by_team[team])
        worker = assignee or rng.choice(cast.staff_ids)
        contact = rng.choice(cast.contacts_by_org[org]) if rng.random() < 0.85 else None
        org_assets = cast.assets_by_org[org]
        with_asset = kind in ("fault", "field_visit", "request") and rng.random() < 0.8
        asset = rng.choice(org_assets) if with_asset else None
        model = cast.models_by_asset[asset] if asset else rng.choice(MODELS)
        if rng.random() < 0.5:
            subject = f"{model}: {rng.choice(PROBLEMS_EN).format(n=rng.randint(100, 999))}"
            description = f"Reported by the customer for {model}. Production is affected; please advise."
        else:
            subject = f"{model}：{rng.choice(PROBLEMS_ZH).format(n=rng.randint(100, 999))}"
            description = f"客户报告 {model} 出现问题，影响生产，请尽快处理。"
        created_by = cast.customer_user_by_org[org] if channel == "portal" else worker
        created_data = json.dumps({"kind": kind, "priority": priority, "channel": channel})
        event(tid, created_by, "created", created, new="new", data=created_data)
        version = 1
        last = created
        first_response = resolved = closed = None
        if status != "new":
            # Times of the later steps, as fractions of the time the ticket has had.
            horizon = min(age, DAY * (rng.uniform(0.05, 2) if status in ("resolved", "closed") else 30))
            t1 = created + min(horizon * 0.1, rng.uniform(300, 8 * 3600))
            if rng.random() < 0.6:
                mid = counters.message
                counters.message += 1
                messages.append((mid, rng.choice(REPLIES), no, no, channel, fmt_ts(t1, pg), worker, tid))
                event(tid, worker, "reply", t1, msg=mid)
                first_response = t1
            event(tid, worker, "status", t1, "new", "acknowledged")
            version += 1
            last = t1
            prev = "acknowledged"
            if status != "acknowledged":
                t2 = t1 + (horizon - (t1 - created)) * 0.3
                event(tid, worker, "status", t2, prev, "in_progress")
                version += 1
                last, prev = t2, "in_progress"
                if status != "in_progress":
                    t3 = t2 + (horizon - (t2 - created)) * 0.6
                    final = "resolved" if status == "closed" else status
                    event(tid, worker, "status", t3, prev, final)
                    version += 1
                    last, prev = t3, final
                    if final == "resolved":
                        resolved = t3
                    t4 = t3 + rng.uniform(1, 7) * DAY
                    if status == "closed" and t4 >= now:
                        status = "resolved"  # not confirmed yet: customers close after a few days
                    if status == "closed":
                        event(tid, created_by, "status", t4, "resolved", "closed")
                        version += 1
                        last = t4
                        closed = t4
        tickets.append(
            (
                tid,
                kind,
                channel,
                priority,
                status,
                subject,
                description,
                fmt_ts(created, pg),
                fmt_ts(last, pg),
                fmt_ts(first_response, pg) if first_response else None,
                fmt_ts(resolved, pg) if resolved else None,
                fmt_ts(closed, pg) if closed else None,
                version,
                asset,
                assignee,
                contact,
                created_by,
                org,
                team,
            )
        )
    return tickets, messages, events


def chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


def generate(
    url: str,
    n_tickets: int,
    *,
    seed: int = 42,
    now: datetime | None = None,
    reset: bool = False,
    data_dir: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    target = parse_target(url)
    data_dir = data_dir or os.environ.get("PLEDGE_DATA_DIR") or str(ROOT / "data")
    anchor = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    now_ts = anchor.timestamp()
    t0 = time.perf_counter()
    if reset:
        reset_database(target)
    else:
        ensure_database(target)
    migrate(target, data_dir)
    loader = Loader(target)
    if loader.count("tickets_ticket") and not reset:
        raise SystemExit(f"{url} already has tickets; pass --reset to start from an empty database.")
    t_migrate = time.perf_counter() - t0
    log(f"migrated in {t_migrate:.1f}s; loading {n_tickets} tickets into {target.engine}")
    loader.drop_indexes()
    rng = random.Random(seed)
    cast = make_cast(rng, loader, n_tickets, now_ts)
    times = creation_times(rng, n_tickets, now_ts)
    counters = Counters(
        ticket=loader.next_id("tickets_ticket"),
        message=loader.next_id("tickets_message"),
        event=loader.next_id("tickets_ticketevent"),
    )
    pg = target.engine == "postgres"
    try:
        for start, end in chunks(n_tickets, CHUNK):
            tickets, messages, events = ticket_rows(
                rng, cast, times[start:end], counters.ticket, counters, now_ts, pg
            )
            counters.ticket += len(tickets)
            loader.write("tickets_ticket", tickets)
            loader.write("tickets_message", messages)
            loader.write("tickets_ticketevent", events)
            loader.commit()
            if end % (CHUNK * 4) == 0 or end == n_tickets:
                log(f"  {end} tickets, {loader.rows} rows, {time.perf_counter() - t0:.0f}s")
        t_load = time.perf_counter() - t0
    finally:
        log("rebuilding indexes")
        loader.rebuild_indexes()
    t_index = time.perf_counter() - t0
    log("analyze")
    loader.finish()
    total = time.perf_counter() - t0
    summary = {
        "database_url": url,
        "engine": target.engine,
        "tickets": n_tickets,
        "rows": loader.rows,
        "seed": seed,
        "now": anchor.isoformat(),
        "seconds": {
            "migrate": round(t_migrate, 1),
            "load": round(t_load - t_migrate, 1),
            "indexes": round(t_index - t_load, 1),
            "analyze": round(total - t_index, 1),
            "total": round(total, 1),
        },
    }
    log(json.dumps(summary))
    return summary


def distribution(url: str) -> dict[str, Any]:
    """Counts by status, priority and kind: a check that the generated data has the intended shape."""
    target = parse_target(url)
    loader = Loader(target)
    out: dict[str, Any] = {}
    for col in ("status", "priority", "kind", "channel"):
        q = f"SELECT {col}, count(*) FROM tickets_ticket GROUP BY {col} ORDER BY {col}"
        if target.engine == "postgres":
            rows: Iterable[Any] = loader.pg.execute(q).fetchall()
        else:
            rows = loader.lite.execute(q).fetchall()
        out[col] = {str(k): int(v) for k, v in rows}
    for table in ("tickets_ticketevent", "tickets_message", "customers_organisation", "accounts_user"):
        out[table] = loader.count(table)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000, help="number of tickets (default 100000)")
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", ""), help="default: $DATABASE_URL"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--now", help="end of the six months, ISO date (default: today 00:00 UTC)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--stats", action="store_true", help="print the distribution of the loaded data")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL")
    if args.tickets < 1:
        parser.error("--tickets must be at least 1")
    now = datetime.fromisoformat(args.now).replace(tzinfo=UTC) if args.now else None
    generate(args.database_url, args.tickets, seed=args.seed, now=now, reset=args.reset)
    if args.stats:
        print(json.dumps(distribution(args.database_url), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
