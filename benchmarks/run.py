"""Pledge benchmarks: one command, figures printed and written to benchmarks/out/.

    .venv/bin/python benchmarks/run.py --tickets 1000000            # everything (generates the data)
    .venv/bin/python benchmarks/run.py --tickets 1000000 --reuse    # reuse databases already generated
    .venv/bin/python benchmarks/run.py --only a                     # ticket creation vs. bare insert
    .venv/bin/python benchmarks/run.py --only b --reuse             # queue page and API list at 10^6

(a) Ticket creation through `POST /api/v1/tickets` against the production server (`pledge serve`,
    gunicorn with several worker processes) with concurrent keep-alive clients, beside the bare
    endpoint `POST /bench/bare-insert` (one row into a one-column table) on the same server in the
    same run: requests/s, p50/p99 latency, peak memory (VmHWM) per worker; on SQLite and PostgreSQL.
(b) At --tickets tickets on PostgreSQL: the agent queue page and the API list (first page, filtered,
    sorted by urgency), p50/p95 latency over --requests sequential requests, and the number of SQL
    queries per request for page sizes 25 and 100 (counted in-process with Django's test client).

Databases: PostgreSQL `pledge_bench_100k` (a) and `pledge_bench_1m` (b) on --pg (default
postgres://postgres@127.0.0.1:5432), SQLite `$PLEDGE_DATA_DIR/bench-100k.sqlite3` (a).
Every request goes to 127.0.0.1 only; every load phase is bounded in time and count; the servers
started here are stopped before the command returns.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = ROOT / ".venv" / "bin" / "python"
PLEDGE = ROOT / ".venv" / "bin" / "pledge"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

SECRET = "benchmark-secret-key-not-the-demo-one-0123456789abcdef"
HOST = "127.0.0.1"

# The API list and queue scenarios of (b); both take the page size as `page_size`.
PAGE_SIZE = "page_size"


def page_path(path: str, size: int) -> str:
    return f"{path}{'&' if '?' in path else '?'}{PAGE_SIZE}={size}"


def _scenario(name: str, kind: str, who: str, path: str) -> dict[str, str]:
    return {"name": name, "kind": kind, "as": who, "path": path}


FILTER = "status=in_progress&priority=P2"
SCENARIOS_B: list[dict[str, str]] = [
    _scenario("queue: all open (manager)", "page", "manager", "/agent/?view=open&sort=urgency"),
    _scenario("queue: mine (agent)", "page", "agent", "/agent/?view=mine&sort=urgency"),
    _scenario("queue: my team (agent)", "page", "agent", "/agent/?view=team&sort=urgency"),
    _scenario("API list (manager)", "api", "manager", "/api/v1/tickets?sort=urgency"),
    _scenario(
        "API list in_progress+P2 (manager)", "api", "manager", f"/api/v1/tickets?{FILTER}&sort=urgency"
    ),
    _scenario("API list (agent)", "api", "agent", "/api/v1/tickets?sort=urgency"),
    _scenario("API list in_progress+P2 (agent)", "api", "agent", f"/api/v1/tickets?{FILTER}&sort=urgency"),
]


def log(text: str) -> None:
    print(text, flush=True)


# --- databases ------------------------------------------------------------------------------------------


def label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def pg_url(base: str, n: int) -> str:
    return f"{base.rstrip('/')}/pledge_bench_{label(n)}"


def sqlite_url(data_dir: Path, n: int) -> str:
    return f"sqlite:///{data_dir / f'bench-{label(n)}.sqlite3'}"


def ticket_count(url: str) -> int:
    """Tickets in the database at `url`; -1 when it does not exist or has no schema."""
    target = generate.parse_target(url)
    try:
        if target.engine == "sqlite":
            if not Path(target.path).exists():
                return -1
            with closing(sqlite3.connect(target.path)) as lite:
                return int(lite.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0])
        import psycopg

        with psycopg.connect(target.conninfo, connect_timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()
            return int(row[0]) if row else -1
    except Exception:
        return -1


def prepare(url: str, n: int, reuse: bool, data_dir: Path) -> dict[str, Any]:
    have = ticket_count(url) if reuse else -1
    if reuse and have >= n:
        log(f"reusing {url} ({have} tickets); applying any new migrations")
        generate.migrate(generate.parse_target(url), str(data_dir))
        return {"reused": True, "tickets": have}
    log(f"generating {n} tickets into {url}")
    summary = generate.generate(url, n, reset=True, data_dir=str(data_dir), log=log)
    return {"reused": False, **summary}


# --- the server -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_env(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEDGE_") and k != "DATABASE_URL"}
    env.update(
        {
            "DATABASE_URL": url,
            "PLEDGE_DATA_DIR": str(data_dir),
            "PLEDGE_SECRET_KEY": SECRET,
            "PLEDGE_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "PLEDGE_BENCHMARK_ENDPOINTS": "1",
            "PLEDGE_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PLEDGE_LOG_LEVEL": "ERROR",
        }
    )
    return env


def pledge_serve_available() -> bool:
    """Whether `pledge serve` exists (it refuses to start without a proper secret key and hosts)."""
    text = (ROOT / "src" / "pledge" / "cli.py").read_text(encoding="utf-8")
    return bool(re.search(r"""["']serve["']\s*[:,)\]]|def _?serve""", text))


def expected_workers(workers: int | None) -> int:
    """What the server starts: --workers, or `pledge serve`'s default of 2 × cores + 1."""
    return workers or 2 * len(os.sched_getaffinity(0)) + 1


def server_command(port: int, workers: int | None, threads: int | None, kind: str) -> list[str]:
    if kind == "pledge":
        cmd = [str(PLEDGE), "serve", "--bind", f"{HOST}:{port}"]
        if workers:
            cmd += ["--workers", str(workers)]
        if threads:
            cmd += ["--threads", str(threads)]
        return cmd
    cmd = [str(GUNICORN), "pledge.config.wsgi:application", "--bind", f"{HOST}:{port}"]
    cmd += ["--workers", str(expected_workers(workers)), "--log-level", "warning"]
    if threads and threads > 1:
        cmd += ["--threads", str(threads), "--worker-class", "gthread"]
    return cmd


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        for child in children.get(current, []):
            out.append(child)
            todo.append(child)
    return out


def worker_pids(root_pid: int) -> list[int]:
    """The gunicorn workers: the processes under the server that have no children of their own."""
    tree = [root_pid, *descendants(root_pid)]
    parents = set()
    for pid in tree:
        try:
            parents.add(int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]))
        except OSError:
            continue
    return sorted(pid for pid in tree if pid not in parents and pid != root_pid)


def memory(pids: list[int]) -> list[dict[str, Any]]:
    out = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)

        def mb(key: str, fields: dict[str, str] = fields) -> float:
            return round(int(fields.get(key, "0 kB").split()[0]) / 1024, 1)

        out.append({"pid": pid, "vm_hwm_mb": mb("VmHWM"), "vm_rss_mb": mb("VmRSS")})
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def pg_backends(url: str) -> list[int]:
    """Server processes of the PostgreSQL connections to this database (same machine)."""
    target = generate.parse_target(url)
    if target.engine != "postgres":
        return []
    import psycopg

    with psycopg.connect(target.conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(row[0]) for row in rows]


def wait_until_quiet(limit_s: float, threshold_pct: float = 15.0) -> float:
    """Wait (at most limit_s) until other processes use less than threshold_pct of the machine's CPU
    over two seconds, so that a colleague's test run does not distort the figures. Returns the last
    measured share."""
    deadline = time.monotonic() + limit_s
    while True:
        b0, t0 = machine_busy()
        time.sleep(2)
        b1, t1 = machine_busy()
        share = 100 * (b1 - b0) / max(t1 - t0, 1e-9)
        if share < threshold_pct or time.monotonic() > deadline:
            if share >= threshold_pct:
                log(f"  (machine still {share:.0f}% busy with other work; measuring anyway)")
            return round(share, 1)
        log(f"  waiting for a quiet machine: {share:.0f}% busy with other work")
        time.sleep(5)


@contextmanager
def server(
    url: str, data_dir: Path, workers: int | None, threads: int | None, kind: str
) -> Iterator[tuple[int, int]]:
    """Start the production server on a free port; yields (port, pid); stops it afterwards."""
    port = free_port()
    cmd = server_command(port, workers, threads, kind)
    log(f"starting: {' '.join(cmd)}  [{generate.parse_target(url).engine}]")
    logfile = tempfile.NamedTemporaryFile(prefix="pledge-bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        cmd,
        env=server_env(url, data_dir),
        cwd=ROOT,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    ok = False
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited ({proc.returncode}); log: {logfile.name}")
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
                conn.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server did not answer /healthz within 60 s; log: {logfile.name}")
            time.sleep(0.3)
        # Wait until every worker has booted.
        deadline = time.monotonic() + 30
        while len(worker_pids(proc.pid)) < expected_workers(workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        yield port, proc.pid
        ok = proc.poll() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        logfile.close()
        if ok:
            os.unlink(logfile.name)
        else:
            log(f"server log kept: {logfile.name}")


# --- helpers that run inside Django ------------------------------------------------------------------


def django_side(url: str, data_dir: Path, *args: str) -> Any:
    result = subprocess.run(
        [str(PY), str(HERE / "django_side.py"), *args],
        env=server_env(url, data_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"django_side {args[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- measurements ---------------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def load(
    port: int,
    spec: dict[str, Any],
    clients: int,
    server_pids: list[int] | None = None,
    url: str = "",
) -> dict[str, Any]:
    """Run `clients` load processes at once (the connections split between them) and merge."""
    per = max(1, spec["connections"] // clients)
    watch = list(server_pids or [])
    pg_pids = pg_backends(url) if url else []
    server_cpu0 = cpu_seconds(watch)
    pg_cpu0 = {pid: cpu_seconds([pid]) for pid in pg_pids}
    busy0, total0 = machine_busy()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = []
    files = []
    for _ in range(clients):
        fh = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115
        json.dump({**spec, "port": port, "connections": per}, fh)
        fh.close()
        files.append(fh.name)
        procs.append(
            subprocess.Popen([str(PY), str(HERE / "loadgen.py"), fh.name], stdout=subprocess.PIPE, text=True)
        )
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    seconds: list[float] = []
    sent_counts: list[int] = []
    for proc in procs:
        limit = spec["warmup"] + spec["duration"] + 120
        out, _err = proc.communicate(timeout=limit)
        data = json.loads(out)
        latencies += data["latencies"]
        for key, count in data["statuses"].items():
            statuses[key] = statuses.get(key, 0) + count
        errors += data["errors"]
        seconds.append(data["measured_seconds"])
        sent_counts.append(data["sent"])
    for name in files:
        os.unlink(name)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, total1 = machine_busy()
    pg_pids_after = pg_backends(url) if url else []
    server_cpu = cpu_seconds(watch) - server_cpu0
    # Backends that appeared during the phase count from zero.
    # Backends that connected during the phase count from zero; ones that left are lost (rare).
    pg_cpu = sum(cpu_seconds([pid]) - pg_cpu0.get(pid, 0.0) for pid in pg_pids_after)
    client_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    elapsed_cpu = total1 - total0
    sent = sum(sent_counts)
    ours = server_cpu + pg_cpu + client_cpu
    duration = max(seconds) if seconds else spec["duration"]
    ok = len(latencies)
    cpu = {
        "requests_sent": sent,
        "server_ms_per_request": round(1000 * server_cpu / sent, 3) if sent else None,
        "postgres_ms_per_request": round(1000 * pg_cpu / sent, 3)
        if sent and url.startswith("postgres")
        else None,
        "client_ms_per_request": round(1000 * client_cpu / sent, 3) if sent else None,
        "machine_busy_pct": round(100 * (busy1 - busy0) / elapsed_cpu, 1) if elapsed_cpu else None,
        "other_work_pct": round(100 * max(0.0, (busy1 - busy0) - ours) / elapsed_cpu, 1)
        if elapsed_cpu
        else None,
    }
    return {
        "cpu": cpu,
        "requests_ok": ok,
        "requests_per_s": round(ok / duration, 1) if duration else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
        "statuses": statuses,
        "errors": errors[:5],
        "connections": per * clients,
        "seconds": round(duration, 2),
    }


def bench_a(engine: str, url: str, data_dir: Path, opts: argparse.Namespace) -> dict[str, Any]:
    setup = django_side(url, data_dir, "setup")
    orgs = setup["organisation_ids"]
    bodies = [
        {
            "organisation_id": orgs[i % len(orgs)],
            "subject": f"Benchmark fault {i}: spindle overheating",
            "description": "Created by benchmarks/run.py through the API.",
            "kind": "fault",
            "priority": "P3",
        }
        for i in range(200)
    ]
    common = {
        "connections": opts.connections,
        "warmup": opts.warmup,
        "duration": opts.duration,
        "max_requests": opts.max_requests,
    }
    bare_spec = {**common, "method": "POST", "path": "/bench/bare-insert", "expect": 201}
    create_spec = {
        **common,
        "method": "POST",
        "path": "/api/v1/tickets",
        "expect": 201,
        "headers": {"Authorization": f"Bearer {setup['agent_token']}"},
        "bodies": bodies,
    }
    rounds: list[dict[str, Any]] = []
    phases = (("bare_insert", bare_spec), ("ticket_create", create_spec))
    with server(url, data_dir, opts.workers, opts.threads, opts.server) as (port, pid):
        workers = worker_pids(pid)
        for r in range(opts.rounds):
            entry: dict[str, Any] = {}
            # Alternate the order from round to round so that drift favours neither endpoint.
            for name, spec in phases if r % 2 == 0 else phases[::-1]:
                quiet = wait_until_quiet(opts.quiet_wait)
                log(f"  [{engine}] round {r + 1}: {name}: {opts.connections} connections, {opts.duration}s")
                result = load(port, spec, opts.clients, [pid, *workers], url)
                result["workers"] = memory(workers)
                result["other_work_before_pct"] = quiet
                entry[name] = result
                log(
                    f"    {result['requests_per_s']:.0f} req/s, p50 {result['p50_ms']} ms, "
                    f"p99 {result['p99_ms']} ms, statuses {result['statuses']}, cpu {result['cpu']}"
                )
            rounds.append(entry)
    summary: dict[str, Any] = {}
    for name, _spec in phases:
        runs = [r[name] for r in rounds]
        summary[name] = {
            "requests_per_s": round(statistics.median(x["requests_per_s"] for x in runs), 1),
            "p50_ms": round(statistics.median(x["p50_ms"] for x in runs), 2),
            "p99_ms": round(statistics.median(x["p99_ms"] for x in runs), 2),
            "peak_worker_mb": max(w["vm_hwm_mb"] for x in runs for w in x["workers"]),
            "workers_mb": runs[-1]["workers"],
            "cpu_ms_per_request": {
                key: statistics.median(x["cpu"][key] for x in runs if x["cpu"][key] is not None)
                if any(x["cpu"][key] is not None for x in runs)
                else None
                for key in ("server_ms_per_request", "postgres_ms_per_request", "client_ms_per_request")
            },
            "other_work_pct": max(x["cpu"]["other_work_pct"] or 0 for x in runs),
        }
    for name in summary:
        parts = summary[name]["cpu_ms_per_request"]
        summary[name]["cpu_ms_per_request"]["total"] = round(sum(v or 0 for v in parts.values()), 3)
    bare, create = summary["bare_insert"]["requests_per_s"], summary["ticket_create"]["requests_per_s"]
    bare_cpu = summary["bare_insert"]["cpu_ms_per_request"]["total"]
    create_cpu = summary["ticket_create"]["cpu_ms_per_request"]["total"]
    return {
        "database_url": url,
        "tickets_before": setup["tickets"],
        "server": opts.server,
        "workers": len(workers),
        "threads": opts.threads,
        "connections": opts.connections,
        "rounds": rounds,
        **summary,
        "ratio_pct": round(100 * create / bare, 1) if bare else None,
        # On a CPU-bound machine throughput is the inverse of the CPU a request costs (server, database
        # and client together): this ratio hardly moves when other work shares the machine.
        "cpu_ratio_pct": round(100 * bare_cpu / create_cpu, 1) if create_cpu else None,
    }


def sequential(
    port: int, path: str, headers: dict[str, str], n: int, warm: int, cap_s: float
) -> dict[str, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    size = 0
    deadline = time.monotonic() + cap_s
    for i in range(n + warm):
        if time.monotonic() > deadline:
            break
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            code = response.status
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            code, body = 0, b""
        elapsed = time.perf_counter() - t0
        statuses[str(code)] = statuses.get(str(code), 0) + 1
        if i >= warm and code == 200:
            latencies.append(elapsed)
            size = len(body)
    conn.close()
    return {
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "statuses": statuses,
        "bytes": size,
    }


TARGET_P95_MS = 150.0


def bench_b(url: str, data_dir: Path, opts: argparse.Namespace) -> dict[str, Any]:
    setup = django_side(url, data_dir, "setup")
    tokens = {"manager": setup["manager_token"], "agent": setup["agent_token"]}
    sessions = {"manager": setup["manager_session"], "agent": setup["agent_session"]}
    results: list[dict[str, Any]] = []
    with server(url, data_dir, opts.workers, opts.threads, opts.server) as (port, _pid):
        for scenario in SCENARIOS_B:
            who = scenario["as"]
            if scenario["kind"] == "page":
                headers = {"Cookie": f"sessionid={sessions[who]}"}
            else:
                headers = {"Authorization": f"Bearer {tokens[who]}"}
            for size in opts.b_page_sizes:
                wait_until_quiet(opts.quiet_wait)
                path = page_path(scenario["path"], size)
                log(f"  {scenario['name']}, page size {size}: {opts.requests} requests")
                timing = sequential(port, path, headers, opts.requests, 10, opts.b_time_cap)
                log(
                    f"    p50 {timing['p50_ms']} ms, p95 {timing['p95_ms']} ms, statuses {timing['statuses']}"
                )
                results.append({**scenario, "page_size": size, "http_path": path, **timing})
    # Queries per request, in-process (Django's test client), for page sizes 25 and 100.
    spec = {"scenarios": SCENARIOS_B, "page_sizes": [25, 100], "page_size_param": PAGE_SIZE, "tokens": tokens}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    try:
        counts = django_side(url, data_dir, "querycount", fh.name)
    finally:
        os.unlink(fh.name)
    for row in results:
        mine = [c for c in counts if c["name"] == row["name"]]
        row["queries"] = {str(c["page_size"]): c["queries"] for c in mine}
        row["query_detail"] = mine
        # Over target: keep the plan of the slowest query, for the diagnosis.
        slowest = next((c for c in mine if c["page_size"] == row["page_size"]), None)
        if row["p95_ms"] > TARGET_P95_MS and slowest and slowest["slowest_query"]:
            with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
                fh.write(slowest["slowest_query"])
            try:
                result = subprocess.run(
                    [str(PY), str(HERE / "django_side.py"), "explain", fh.name],
                    env=server_env(url, data_dir),
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=False,
                )
            finally:
                os.unlink(fh.name)
            row["explain"] = result.stdout
    return {"database_url": url, "tickets": setup["tickets"], "agent": setup["agent"], "scenarios": results}


# --- report ---------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    with suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    pg_version = ""
    try:
        import psycopg

        with psycopg.connect(
            generate.parse_target(pg_url(OPTS_PG, 1)).admin_conninfo, connect_timeout=5
        ) as c:
            row = c.execute("SHOW server_version").fetchone()
            pg_version = str(row[0]) if row else ""
    except Exception:
        pass
    import django

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version,
    }


OPTS_PG = "postgres://postgres@127.0.0.1:5432"


def print_a(a: dict[str, Any]) -> None:
    log("\n(a) Ticket creation through the API vs. the bare-insert ceiling (same server, same run)")
    head = f"{'engine':<10}{'endpoint':<15}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'MB/worker':>10}"
    log(head + f"{'CPU ms/request: server':>24}{'database':>10}{'client':>8}")
    for engine, res in a.items():
        for name in ("bare_insert", "ticket_create"):
            r = res[name]
            cpu = r["cpu_ms_per_request"]
            pg = "-" if cpu["postgres_ms_per_request"] is None else f"{cpu['postgres_ms_per_request']:.2f}"
            log(
                f"{engine:<10}{name:<15}{r['requests_per_s']:>7.0f}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}"
                f"{r['peak_worker_mb']:>10.0f}{cpu['server_ms_per_request']:>24.2f}{pg:>10}"
                f"{cpu['client_ms_per_request']:>8.2f}"
            )
        log(
            f"{engine:<10}ticket create = {res['ratio_pct']}% of the ceiling "
            f"(by CPU per request: {res['cpu_ratio_pct']}%; other work on the machine up to "
            f"{max(res['bare_insert']['other_work_pct'], res['ticket_create']['other_work_pct'])}%)"
        )


def print_b(b: dict[str, Any]) -> None:
    log(f"\n(b) At {b['tickets']} tickets on PostgreSQL: one page, sequential requests (target p95 < 150 ms)")
    log(f"{'scenario':<40}{'size':>5}{'n':>5}{'p50 ms':>8}{'p95 ms':>8}{'queries@25':>12}{'queries@100':>12}")
    for row in b["scenarios"]:
        q = row.get("queries", {})
        log(
            f"{row['name']:<40}{row['page_size']:>5}{row['requests']:>5}{row['p50_ms']:>8}{row['p95_ms']:>8}"
            f"{q.get('25', '-'):>12}{q.get('100', '-'):>12}"
        )
        if row.get("explain"):
            top = [line.strip() for line in row["explain"].splitlines() if "Execution Time" in line]
            log(f"{'':<8}over target; plan of its slowest query in the JSON ({', '.join(top)})")


def main(argv: list[str] | None = None) -> int:
    global OPTS_PG
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets for (b) (default 10^6)")
    parser.add_argument("--a-tickets", type=int, default=100_000, help="tickets already in the (a) databases")
    parser.add_argument("--only", choices=["a", "b"], help="run only (a) or only (b)")
    parser.add_argument("--engines", default="sqlite,postgres", help="engines for (a)")
    parser.add_argument("--reuse", action="store_true", help="reuse generated databases when present")
    parser.add_argument(
        "--pg", default=os.environ.get("PLEDGE_BENCH_PG", OPTS_PG), help="PostgreSQL server URL"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server worker processes (default: pledge serve's, 2 × cores + 1)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="threads per worker (default: pledge serve's)"
    )
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections in (a)")
    parser.add_argument("--clients", type=int, default=2, help="load client processes in (a)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per endpoint in (a)")
    parser.add_argument("--rounds", type=int, default=2, help="bare/create rounds per engine in (a)")
    parser.add_argument("--max-requests", type=int, default=100_000, help="upper bound per load phase")
    parser.add_argument(
        "--quiet-wait", type=float, default=20, help="seconds to wait for other work to stop before a phase"
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per scenario in (b)")
    parser.add_argument(
        "--b-page-sizes",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[25],
        help="page sizes whose latency (b) measures (default 25; queries are counted at 25 and 100)",
    )
    parser.add_argument(
        "--b-time-cap", type=float, default=60, help="seconds at most per scenario in (b) (default 60)"
    )
    parser.add_argument("--server", choices=["auto", "pledge", "gunicorn"], default="auto")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON file (default benchmarks/out/<time>.json)"
    )
    opts = parser.parse_args(argv)
    OPTS_PG = opts.pg
    if opts.server == "auto":
        opts.server = "pledge" if pledge_serve_available() else "gunicorn"
    data_dir = Path(os.environ.get("PLEDGE_DATA_DIR") or ROOT / "data").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(exist_ok=True)
    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()},
        "data": {},
    }
    log(
        f"machine: {report['machine']}; server: {opts.server}, {expected_workers(opts.workers)} workers, "
        f"threads {opts.threads or 'default'}"
    )
    if opts.only in (None, "a"):
        report["a"] = {}
        for engine in [e.strip() for e in opts.engines.split(",") if e.strip()]:
            url = (
                sqlite_url(data_dir, opts.a_tickets)
                if engine == "sqlite"
                else pg_url(opts.pg, opts.a_tickets)
            )
            report["data"][url] = prepare(url, opts.a_tickets, opts.reuse, data_dir)
            report["a"][engine] = bench_a(engine, url, data_dir, opts)
        print_a(report["a"])
    if opts.only in (None, "b"):
        url = pg_url(opts.pg, opts.tickets)
        report["data"][url] = prepare(url, opts.tickets, opts.reuse, data_dir)
        report["b"] = bench_b(url, data_dir, opts)
        print_b(report["b"])
    report["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    out = opts.out or OUT / f"run-{started.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    log(f"\nwritten: {out}  ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
